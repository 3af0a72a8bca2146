#!/usr/bin/env python3
"""kiosk-image/test/power-cuts.py: the boot test's helpers for `boot-test --cuts N`.

    power-cuts.py relay PORT LOG [RATE]
        The guest's way to the platform: QEMU runs it for each connection the guest opens
        to the platform's address (-nic user,guestfwd=…-cmd:…), with the connection on
        standard input and output. It relays the bytes to 127.0.0.1:PORT and appends to LOG
        one line per HTTP request ("REQ <time> <conn> <method> <path>"), one each time the
        answer passed another 256 KiB ("RX <time> <conn> <bytes>") and one at the end
        ("END <time> <conn> <bytes>"); times are the host's, in seconds since the epoch.
        With RATE, answers flow at most RATE bytes a second per connection: a building's
        slow line rather than QEMU's memory copy, so that a download lasts long enough to
        be cut. It must print nothing: its standard error is the guest's connection too.

    power-cuts.py publish PORT TOKEN ID PICTURES SEED
        Publishes the item ID (a flash, 3 s per showing) with PICTURES pictures of noise
        (1920x1200, made from SEED: new bytes for every seed, so the board downloads them
        all; about 4 MB each once the platform has stored them as JPEG). PICTURES may be 0.

    power-cuts.py withdraw PORT TOKEN ID
        Withdraws the item ID from every board.

    power-cuts.py powerdown QMP_SOCKET
        Presses the machine's power button (ACPI): the guest shuts down cleanly.

    power-cuts.py board-fsck SERIAL_LOG
        What the board's own systemd-fsck said at that boot, in one line: for the data
        partition ("data: recovering journal, clean"; the "Setting free … count" lines that
        follow a journal replay in preen mode are left out: ext4 does not keep those totals
        on disk) and for the boot partition ("boot FAT: dirty bit cleared" after a cut
        while it was mounted); any other line is shown as it is.

    power-cuts.py activity LOG FROM TO
        Prints "yes" when LOG shows picture bytes flowing between the host times FROM and
        TO (a GET /v1/media/ request or 256 KiB more of an answer), else "no".

    power-cuts.py report TSV JSON SEED
        Reads the cuts recorded in TSV (one line per cut, the columns of FIELDS), prints
        the table and the summary, writes the same as JSON. Exit status 1 when a boot did
        not reach content or fsck found errors on the data partition.

Only the standard library: it runs where the boot test runs.
"""

import datetime
import json
import os
import random
import re
import selectors
import socket
import statistics
import struct
import sys
import time
import urllib.request
import zlib
from pathlib import Path

REQUEST = re.compile(rb"^(GET|HEAD|POST|PUT|DELETE|PATCH) (\S+) HTTP/1\.[01]\r?$")
RX_STEP = 256 * 1024

# The columns boot-test writes, one line per cut, tab-separated.
FIELDS = [
    "cut",  # 1..N
    "phase",  # boot, plays or sync
    "trigger",  # what the random wait started from
    "wait_s",  # the random wait after the trigger
    "at_s",  # seconds from the power-on to the cut
    "content_at_cut",  # yes: the player had presented its first frame in that power-on
    "downloading",  # yes/no: picture bytes flowing in the 3 s before the cut; "-" off sync
    "data_fsck",  # clean, repaired or failed (e2fsck on a copy of the data partition)
    "journal",  # replayed: the copy's journal needed recovery first (as a mount does); none
    "boot_fat",  # clean, dirty (only the "not properly unmounted" bit) or errors (fsck.fat -n)
    "content_after",  # yes: the next power-on reached "first frame presented"
    "ttff_s",  # seconds from that power-on to the first frame; "-" when never
    "cycle_s",  # seconds the cycle took: power-on (or the running board), cut, fscks, boot to content
    "board_fsck",  # what the board's own systemd-fsck said of palier-data at that boot
    "note",
]


def log_line(log, *parts) -> None:
    log.write(" ".join(str(p) for p in parts) + "\n")
    log.flush()


def relay(port: str, log_path: str, rate: float = 0.0) -> int:
    log = open(log_path, "a", encoding="utf-8")
    conn = os.getpid()
    try:
        upstream = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
        upstream.settimeout(None)
    except OSError as e:
        log_line(log, "ERR", f"{time.time():.3f}", conn, f"cannot reach the platform: {e}")
        return 1
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, "guest")
    selector.register(upstream, selectors.EVENT_READ, "platform")
    line = b""
    down = 0
    reported = 0
    free_at = time.monotonic()
    try:
        while selector.get_map():
            for key, _ in selector.select():
                if key.data == "guest":
                    data = os.read(0, 65536)
                    if not data:
                        selector.unregister(0)
                        upstream.shutdown(socket.SHUT_WR)
                        continue
                    line += data
                    *complete, line = line.split(b"\n")
                    line = line[-8192:]
                    for request in complete:
                        match = REQUEST.match(request)
                        if match:
                            method, path = match.group(1).decode(), match.group(2).decode(errors="replace")
                            log_line(log, "REQ", f"{time.time():.3f}", conn, method, path)
                    upstream.sendall(data)
                else:
                    data = upstream.recv(65536)
                    if not data:
                        selector.close()
                        break
                    view = memoryview(data)
                    while view:
                        view = view[os.write(1, view) :]
                    down += len(data)
                    if rate > 0:
                        now = time.monotonic()
                        free_at = max(free_at, now) + len(data) / rate
                        if free_at > now:
                            time.sleep(free_at - now)
                    if down - reported >= RX_STEP:
                        reported = down
                        log_line(log, "RX", f"{time.time():.3f}", conn, down)
    except OSError:
        pass  # the guest is gone (power cut) or the platform closed: nothing to tell anyone
    log_line(log, "END", f"{time.time():.3f}", conn, down)
    return 0


def noise_png(width: int, height: int, seed: str) -> bytes:
    rng = random.Random(seed)
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack("!I", len(body)) + kind + body + struct.pack("!I", zlib.crc32(kind + body))

    header = struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b"")


def call(port: str, token: str, method: str, path: str, body: bytes | None, content_type: str) -> bytes:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        body,
        {"Authorization": f"Bearer {token}", "Content-Type": content_type},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return answer.read()


def publish(port: str, token: str, item_id: str, pictures: int, seed: str) -> int:
    media = []
    stored = 0
    for n in range(pictures):
        answer = call(port, token, "POST", "/v1/publish/media", noise_png(1920, 1200, f"{seed}/{n}"), "image/png")
        media.append(json.loads(answer))
        stored += media[-1]["bytes"]
    now = datetime.datetime.now(datetime.timezone.utc)
    item = {
        "id": item_id,
        "kind": "flash",
        "severity": "info",
        "valid_from": (now - datetime.timedelta(hours=1)).isoformat(),
        "valid_until": (now + datetime.timedelta(days=2)).isoformat(),
        "title": f"Coupure de courant {item_id}",
        "body": "Contenu publié pendant l'essai des coupures de courant.",
        "duration_s": 3,
    }
    if media:
        item["media"] = media
    call(port, token, "POST", "/v1/publish/items", json.dumps(item).encode(), "application/json")
    print(f"{item_id}: {pictures} picture(s), {stored} bytes stored")
    return 0


def withdraw(port: str, token: str, item_id: str) -> int:
    call(port, token, "DELETE", f"/v1/publish/items/{item_id}", None, "application/json")
    return 0


def powerdown(qmp_socket: str) -> int:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(qmp_socket)
    sock_file = sock.makefile("rwb")
    sock_file.readline()  # greeting
    for command in ("qmp_capabilities", "system_powerdown"):
        sock_file.write(json.dumps({"execute": command}).encode() + b"\n")
        sock_file.flush()
        while True:
            reply = json.loads(sock_file.readline() or b"{}")
            if not reply:
                raise ConnectionError("QMP closed the connection")
            if "error" in reply:
                raise RuntimeError(f"{command}: {reply['error'].get('desc')}")
            if "return" in reply:
                break
    sock.close()
    return 0


FAT_BENIGN = re.compile(
    r"^(fsck\.fat [0-9]|There are differences between boot sector and its backup|This is mostly harmless"
    r"|65:01/00$|Not automatically fixing this|Dirty bit is set|Automatically removing dirty bit"
    r"|\*\*\* Filesystem was changed \*\*\*|Writing changes|.*: [0-9]+ files, [0-9]+/[0-9]+ clusters$)"
)


def board_fsck(log_path: str) -> int:
    text = Path(log_path).read_bytes().decode("utf-8", errors="replace")
    by_pid: dict[str, list[str]] = {}
    for pid, message in re.findall(r"systemd-fsck\[(\d+)\]: ([^\r\n]*)", text):
        by_pid.setdefault(pid, []).append(message.strip())
    parts = []
    for messages in by_pid.values():
        if any(m.startswith("palier-data:") for m in messages):
            kept = []
            for m in messages:
                if re.match(r"e2fsck [0-9]|Setting free (inodes|blocks) count to [0-9]+ \(was [0-9]+\)$", m):
                    continue
                m = re.sub(r"^palier-data: ", "", m)
                kept.append(re.sub(r"^clean, .*", "clean", m))
            parts.append("data: " + ", ".join(kept))
        elif any(m.startswith("fsck.fat") for m in messages):
            odd = [m for m in messages if not FAT_BENIGN.match(m)]
            dirty = any(m.startswith("Dirty bit is set") for m in messages)
            parts.append("boot FAT: " + ("; ".join(odd) if odd else "dirty bit cleared" if dirty else "clean"))
        else:
            parts.append(", ".join(messages))
    print("; ".join(parts) or "-")
    return 0


def activity(log_path: str, start: float, end: float) -> int:
    flowing = False
    try:
        lines = Path(log_path).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) < 4 or parts[0] not in ("REQ", "RX"):
            continue
        at = float(parts[1])
        if not start <= at <= end:
            continue
        if parts[0] == "RX" or (len(parts) >= 5 and parts[4].startswith("/v1/media/")):
            flowing = True
    print("yes" if flowing else "no")
    return 0


def report(tsv: str, json_path: str, seed: str) -> int:
    cuts = []
    for line in Path(tsv).read_text(encoding="utf-8").splitlines():
        values = line.split("\t")
        if len(values) != len(FIELDS):
            continue
        cuts.append(dict(zip(FIELDS, values)))
    for cut in cuts:
        cut["cut"] = int(cut["cut"])
        for key in ("wait_s", "at_s", "ttff_s", "cycle_s"):
            cut[key] = None if cut[key] in ("", "-") else float(cut[key])
    times = [c["ttff_s"] for c in cuts if c["content_after"] == "yes" and c["ttff_s"] is not None]
    cycles = [c["cycle_s"] for c in cuts if c["cycle_s"] is not None]
    fsck = {result: sum(c["data_fsck"] == result for c in cuts) for result in ("clean", "repaired", "failed")}
    fat = {result: sum(c["boot_fat"] == result for c in cuts) for result in ("clean", "dirty", "errors")}
    summary = {
        "cuts_done": len(cuts),
        "boots_to_content": sum(c["content_after"] == "yes" for c in cuts),
        "time_to_first_frame_s": {
            "median": round(statistics.median(times), 1) if times else None,
            "max": round(max(times), 1) if times else None,
        },
        "cycle_s": {
            "median": round(statistics.median(cycles), 1) if cycles else None,
            "max": round(max(cycles), 1) if cycles else None,
        },
        "phases": {p: sum(c["phase"] == p for c in cuts) for p in ("boot", "plays", "sync")},
        "data_fsck": fsck,
        "journal_replayed": sum(c["journal"] == "replayed" for c in cuts),
        "boot_fat_fsck": fat,
    }
    passed = summary["boots_to_content"] == len(cuts) and fsck["repaired"] == 0 and fsck["failed"] == 0
    document = {"seed": int(seed), "passed": passed, "summary": summary, "cuts": cuts}
    Path(json_path).parent.mkdir(parents=True, exist_ok=True)
    Path(json_path).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def show(value, digits=1):
        if value is None:
            return "-"
        return f"{value:.{digits}f}"

    header = (
        f"{'cut':>3}  {'phase':<5}  {'cut at':>8}  {'after':<24}  {'content':<7}  {'dl':<3}  "
        f"{'data fsck':<9}  {'journal':<8}  {'boot FAT':<8}  {'content after':<13}  {'1st frame':>9}  {'cycle':>7}  board fsck / note"
    )
    print(header)
    for c in cuts:
        after = f"{c['trigger']} +{show(c['wait_s'])} s"
        print(
            f"{c['cut']:>3}  {c['phase']:<5}  {show(c['at_s']) + ' s':>8}  {after:<24}  {c['content_at_cut']:<7}  "
            f"{c['downloading']:<3}  {c['data_fsck']:<9}  {c['journal']:<8}  {c['boot_fat']:<8}  "
            f"{c['content_after']:<13}  {show(c['ttff_s']) + ' s':>9}  {show(c['cycle_s']) + ' s':>7}  {c['board_fsck']}"
            + (f"; {c['note']}" if c["note"] not in ("", "-") else "")
        )
    t = summary["time_to_first_frame_s"]
    print(f"cuts done:                 {summary['cuts_done']} ({', '.join(f'{k} {v}' for k, v in summary['phases'].items())})")
    print(f"boots to content:          {summary['boots_to_content']}/{summary['cuts_done']}")
    print(f"time to first frame:       median {show(t['median'])} s, max {show(t['max'])} s (power-on to first frame)")
    print(
        f"data partition fsck:       clean {fsck['clean']}, repaired {fsck['repaired']}, failed {fsck['failed']} "
        f"(journal replayed first on {summary['journal_replayed']}, as a mount does)"
    )
    print(f"one cycle:                 median {show(summary['cycle_s']['median'])} s, max {show(summary['cycle_s']['max'])} s")
    print(f"boot partition (FAT) fsck: clean {fat['clean']}, dirty bit only {fat['dirty']}, errors {fat['errors']}")
    print(f"written: {json_path}")
    return 0 if passed else 1


def main(argv: list[str]) -> int:
    if len(argv) in (4, 5) and argv[1] == "relay":
        return relay(argv[2], argv[3], float(argv[4]) if len(argv) == 5 else 0.0)
    if len(argv) == 3 and argv[1] == "board-fsck":
        return board_fsck(argv[2])
    if len(argv) == 7 and argv[1] == "publish":
        return publish(argv[2], argv[3], argv[4], int(argv[5]), argv[6])
    if len(argv) == 5 and argv[1] == "withdraw":
        return withdraw(argv[2], argv[3], argv[4])
    if len(argv) == 3 and argv[1] == "powerdown":
        return powerdown(argv[2])
    if len(argv) == 5 and argv[1] == "activity":
        return activity(argv[2], float(argv[3]), float(argv[4]))
    if len(argv) == 5 and argv[1] == "report":
        return report(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
