#!/usr/bin/env python3
"""kiosk-image/test/heads.py: the boot test's hands on QEMU's multi-head virtio-gpu.

    heads.py enable VNC_SOCKET WIDTHxHEIGHT
        Connects to a QEMU VNC server bound to one head of the GPU (-vnc
        unix:PATH,display=gpu,head=N) and asks for that size (RFB SetDesktopSize). QEMU
        then reports the head to the guest as connected with that preferred mode. Without
        a user interface asking, a virtio-gpu with max_outputs=3 connects only its first
        head (QEMU 7.2: enabled_output_bitmask = 1 until a UI sends its window size), so
        the guest would see one monitor.

    heads.py dump QMP_SOCKET DEVICE HEADS DIR
        Takes a screendump of heads 0..HEADS-1 of DEVICE through QMP: DIR/head-N.ppm,
        and DIR/head-N.png when this QEMU writes PNG (7.1 and later).

    heads.py check DIR WIDTHxHEIGHT ROTATION...
        Checks the dumps of a board whose screens have these rotations, screen N on head N:
        every head is lit at that mode and shows a window (not the compositor's plain
        background, nor QEMU's "not initialized" page of a head the guest left dark), a
        screen turned
        180 degrees from screen 0 shows screen 0's picture upside down, and a screen
        turned 90 or 270 degrees shows something else. The windows then sit one per
        output, each on its own: a window spanning the outputs, or two on one output,
        fails. Prints one line per head; exit status 1 when a check fails.

Only the standard library: it runs where the boot test runs.
"""

import json
import socket
import struct
import sys
import time
from pathlib import Path

GRID = (32, 18)  # columns, rows of the block means compared between heads
SAME = 8.0  # mean difference (0-255) under which two heads show the same picture
DIFFERENT = 16.0  # mean difference over which two heads show different pictures
UNIFORM = 6.0  # standard deviation of the block means under which a head shows no window


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"the VNC server closed the connection ({len(data)}/{n} bytes)")
        data += chunk
    return data


def enable(vnc_socket: str, size: str) -> None:
    width, height = (int(v) for v in size.lower().split("x"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + 30
    while True:
        try:
            sock.connect(vnc_socket)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    sock.settimeout(30)
    version = recv_exact(sock, 12)
    if not version.startswith(b"RFB "):
        raise ConnectionError(f"not a VNC server: {version!r}")
    sock.sendall(b"RFB 003.008\n")
    (count,) = struct.unpack("!B", recv_exact(sock, 1))
    types = recv_exact(sock, count)
    if 1 not in types:
        raise ConnectionError(f"the VNC server wants authentication (security types {list(types)})")
    sock.sendall(struct.pack("!B", 1))  # None
    (result,) = struct.unpack("!I", recv_exact(sock, 4))
    if result != 0:
        raise ConnectionError("the VNC server refused the connection")
    sock.sendall(struct.pack("!B", 1))  # ClientInit, shared
    server_width, server_height = struct.unpack("!HH", recv_exact(sock, 4))
    recv_exact(sock, 16)  # pixel format
    (name_length,) = struct.unpack("!I", recv_exact(sock, 4))
    recv_exact(sock, name_length)
    # SetEncodings: raw, ExtendedDesktopSize (-308).
    sock.sendall(struct.pack("!BBHii", 2, 0, 2, 0, -308))
    # SetDesktopSize: one screen of the size wanted.
    sock.sendall(struct.pack("!BBHHBB", 251, 0, width, height, 1, 0) + struct.pack("!IHHHHI", 0, 0, 0, width, height, 0))
    time.sleep(0.5)  # let QEMU read it before the connection closes
    sock.close()
    print(f"{vnc_socket}: asked for {width}x{height} (the head showed {server_width}x{server_height})")


def qmp(sock_file, command: str, **arguments) -> dict:
    message = {"execute": command}
    if arguments:
        message["arguments"] = arguments
    sock_file.write(json.dumps(message).encode() + b"\n")
    sock_file.flush()
    while True:
        line = sock_file.readline()
        if not line:
            raise ConnectionError("QMP closed the connection")
        reply = json.loads(line)
        if "return" in reply or "error" in reply:
            return reply


def dump(qmp_socket: str, device: str, heads: int, directory: str) -> None:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(60)
    sock.connect(qmp_socket)
    sock_file = sock.makefile("rwb")
    sock_file.readline()  # greeting
    qmp(sock_file, "qmp_capabilities")
    for head in range(heads):
        ppm = out / f"head-{head}.ppm"
        reply = qmp(sock_file, "screendump", filename=str(ppm), device=device, head=head)
        if "error" in reply:
            raise RuntimeError(f"screendump of head {head}: {reply['error'].get('desc')}")
        png = out / f"head-{head}.png"
        reply = qmp(sock_file, "screendump", filename=str(png), device=device, head=head, format="png")
        print(f"head {head}: {ppm}" + (f", {png}" if "return" in reply else ""))
    sock.close()


def read_ppm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos : pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not an 8-bit binary PPM")
    width, height = int(fields[1]), int(fields[2])
    return width, height, data[pos : pos + width * height * 3]


def block_means(path: Path) -> tuple[tuple[int, int], list[list[float]]]:
    width, height, pixels = read_ppm(path)
    cols, rows = GRID
    sums = [[0] * cols for _ in range(rows)]
    xs = [width * c // cols for c in range(cols + 1)]
    for y in range(height):
        row = pixels[y * width * 3 : (y + 1) * width * 3]
        block_row = sums[y * rows // height]
        for c in range(cols):
            block_row[c] += sum(row[xs[c] * 3 : xs[c + 1] * 3])
    grid = []
    for r in range(rows):
        y0, y1 = height * r // rows, height * (r + 1) // rows
        grid.append([sums[r][c] / ((xs[c + 1] - xs[c]) * (y1 - y0) * 3) for c in range(cols)])
    return (width, height), grid


def rotated_180(grid: list[list[float]]) -> list[list[float]]:
    return [list(reversed(row)) for row in reversed(grid)]


def difference(a: list[list[float]], b: list[list[float]]) -> float:
    cells = [abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)]
    return sum(cells) / len(cells)


def spread(grid: list[list[float]]) -> float:
    cells = [x for row in grid for x in row]
    mean = sum(cells) / len(cells)
    return (sum((x - mean) ** 2 for x in cells) / len(cells)) ** 0.5


def check(directory: str, mode: str, rotations: list[int]) -> int:
    expected = tuple(int(v) for v in mode.lower().split("x"))
    failures = 0
    grids = []
    for head, rotation in enumerate(rotations):
        size, grid = block_means(Path(directory) / f"head-{head}.ppm")
        grids.append(grid)
        problems = []
        if size != expected:
            problems.append(f"not lit at {mode}: the guest does not drive this output")
        if spread(grid) < UNIFORM:
            problems.append("plain: no window on this output")
        if head > 0:
            turn = (rotation - rotations[0]) % 360
            straight, upside_down = difference(grid, grids[0]), difference(grid, rotated_180(grids[0]))
            if turn == 0 and straight > SAME:
                problems.append(f"differs from head 0 ({straight:.1f}) though both screens have rotation {rotation}")
            if turn == 180 and upside_down > SAME:
                problems.append(f"is not head 0 upside down ({upside_down:.1f})")
            if turn in (90, 270) and min(straight, upside_down) < DIFFERENT:
                problems.append(f"looks like head 0 ({min(straight, upside_down):.1f}) though turned {turn} degrees")
            relation = f"vs head 0: {straight:.1f} as is, {upside_down:.1f} upside down"
        else:
            relation = "reference"
        state = "FAILED: " + "; ".join(problems) if problems else "ok"
        print(f"head {head}: {size[0]}x{size[1]}, rotation {rotation}, spread {spread(grid):.1f}, {relation}: {state}")
        failures += bool(problems)
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[1] == "enable":
        enable(argv[2], argv[3])
        return 0
    if len(argv) == 6 and argv[1] == "dump":
        dump(argv[2], argv[3], int(argv[4]), argv[5])
        return 0
    if len(argv) >= 5 and argv[1] == "check":
        return check(argv[2], argv[3], [int(r) for r in argv[4:]])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
