"""Tests of provisioning: kiosk-image/provision (good and bad board files, writing into
image files and onto cards) and the board's side, rootfs/usr/lib/palier/import-config.

Run: python3 -m unittest discover -s kiosk-image/test -v   (kiosk-image/test/check runs it)
Needs: Python 3.11+, and for the image tests mtools, dosfstools and fdisk (sfdisk).
When a built palier-sync is found (target/debug or target/release, or $PALIER_SYNC), every
fixture is also given to `palier-sync check-config`, which must agree with the tool.
"""

from __future__ import annotations

import base64
import importlib.machinery
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

HERE = Path(__file__).resolve().parent
KIOSK = HERE.parent
REPO = KIOSK.parent
PROVISION = KIOSK / "provision"
IMPORT_CONFIG = KIOSK / "rootfs/usr/lib/palier/import-config"

loader = importlib.machinery.SourceFileLoader("provision", str(PROVISION))
spec = importlib.util.spec_from_loader("provision", loader)
provision = importlib.util.module_from_spec(spec)
sys.modules["provision"] = provision
loader.exec_module(provision)

# RFC 8032 test vector 1's public key: a real Ed25519 key.
KEY = "ed25519:" + base64.b64encode(
    bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
).decode()
# 32 bytes whose y coordinate has no x on the curve.
NOT_ON_CURVE = "ed25519:" + base64.b64encode(bytes([2]) + bytes(31)).decode()

SYNC = f"""
[sync]
platform_url = "https://palier.example"
platform_key = "{KEY}"
enrolment_code = "ABCD-1234"
"""
LIFT = """
[[screen]]
name = "lift"
role = "lift"
width = 1920
height = 1080
rotation = 90
output = "HDMI-A-1"
"""

EXAMPLE = (REPO / "docs/palier.example.toml").read_text(encoding="utf-8")

GOOD = {
    "minimal": LIFT + SYNC,
    # The documented example, with a [sync] section when it only shows one in comments.
    "documented example": EXAMPLE + ("" if re.search(r"^\[sync\]", EXAMPLE, re.M) else SYNC),
    "three lobby screens": """
building_name = "Résidence Les Tilleuls"
time_zone = "Europe/Paris"
[[screen]]
name = "left"
role = "lobby-left"
output = 0
channels = ["building", "shops"]
[[screen]]
name = "centre"
role = "lobby-centre"
output = 1
[[screen]]
name = "right"
role = "lobby-right"
output = 2
rotation = 270
[player]
backend = "gl"
crossfade_ms = 0
cache_poll_ms = 100
night = { from = "22:30", to = "06:30:00", brightness = 1 }
"""
    + SYNC,
    "no enrolment code (already enrolled)": LIFT + SYNC.replace('enrolment_code = "ABCD-1234"\n', ""),
    "local plain http, tuned intervals": LIFT
    + SYNC.replace("https://palier.example", "http://127.0.0.1:8080")
    + "poll_interval_s = 5\nheartbeat_interval_s = 86400\nrequest_timeout_s = 600\nmax_parallel_downloads = 16\n",
    "unknown keys are warnings": "colour = 'blue'\n" + LIFT + "tint = 3\n" + SYNC + "future = true\n",
    "data_dir spelled out": 'data_dir = "/var/lib/palier"\n' + LIFT + SYNC,
    "lower-case time zone (jiff accepts it)": 'time_zone = "europe/paris"\n' + LIFT + SYNC,
}

# (name, text, words the message must contain). Each names the key and the fix.
BAD = [
    ("not TOML", "[[screen]\nname = lift", ["not valid TOML"]),
    ("no screen", SYNC, ["0 [[screen]] sections", "1 to 3"]),
    ("four screens", "".join(LIFT.replace('"lift"', f'"s{i}"', 1) for i in range(4)) + SYNC, ["4 [[screen]]"]),
    ("screen without role", '[[screen]]\nname = "lift"\n' + SYNC, ["role is missing"]),
    ("screen without name", '[[screen]]\nrole = "lift"\n' + SYNC, ["name is missing"]),
    ("name used twice", LIFT + LIFT + SYNC, ["used twice"]),
    ("role with capitals", LIFT.replace('role = "lift"', 'role = "Lift"') + SYNC, ['role "Lift"', "a–z"]),
    ("role too long", LIFT.replace('role = "lift"', f'role = "{"a" * 33}"') + SYNC, ["1–32"]),
    ("tiny width", LIFT.replace("width = 1920", "width = 10") + SYNC, ["width 10", "64..=8192"]),
    ("height in quotes", LIFT.replace("height = 1080", 'height = "1080"') + SYNC, ["height must be a whole number"]),
    ("rotation 45", LIFT.replace("rotation = 90", "rotation = 45") + SYNC, ["rotation 45", "0, 90, 180, 270"]),
    ("negative output", LIFT.replace('output = "HDMI-A-1"', "output = -1") + SYNC, ["output -1"]),
    ("empty channels", LIFT + "channels = []\n" + SYNC, ["channels is empty"]),
    ("unknown channel", LIFT + 'channels = ["cinema"]\n' + SYNC, ['"cinema"']),
    ("unknown time zone", 'time_zone = "Lyon"\n' + LIFT + SYNC, ['time_zone "Lyon"', "IANA"]),
    ("data_dir elsewhere", 'data_dir = "/home/pi/palier"\n' + LIFT + SYNC, ["data_dir", "remove the line"]),
    ("data_dir a number", "data_dir = 3\n" + LIFT + SYNC, ["data_dir"]),
    ("cache_poll_ms too small", "[player]\ncache_poll_ms = 1\n" + LIFT + SYNC, ["cache_poll_ms 1", "100..=10000"]),
    ("unknown backend", '[player]\nbackend = "metal"\n' + LIFT + SYNC, ["player.backend"]),
    ("night too bright", '[player]\nnight = { from = "22:00", to = "06:00", brightness = 1.5 }\n' + LIFT + SYNC,
     ["brightness 1.5", "0.0..=1.0"]),
    ("night time without quotes", "[player]\nnight = { from = 22:00:00, to = \"06:00\", brightness = 0.5 }\n" + LIFT + SYNC,
     ["player.night.from", "in quotes"]),
    ("no sync section", LIFT, ["sync.platform_url: is missing", "sync.platform_key: is missing"]),
    ("ftp platform", LIFT + SYNC.replace("https://palier.example", "ftp://palier.example"), ["sync.platform_url", "http:// or https://"]),
    ("platform with a query", LIFT + SYNC.replace("https://palier.example", "https://palier.example/?a=1"), ["?query"]),
    ("platform not a URL", LIFT + SYNC.replace("https://palier.example", "palier.example"), ["not a URL"]),
    ("key without prefix", LIFT + SYNC.replace(KEY, KEY.removeprefix("ed25519:")), ["sync.platform_key", 'start with "ed25519:"']),
    ("key cut short", LIFT + SYNC.replace(KEY, KEY[:-6]), ["sync.platform_key", "base64 of 32 bytes"]),
    ("key not on the curve", LIFT + SYNC.replace(KEY, NOT_ON_CURVE), ["sync.platform_key", "not a valid Ed25519"]),
    ("empty code", LIFT + SYNC.replace('"ABCD-1234"', '"  "'), ["sync.enrolment_code", "empty"]),
    ("code as a number", LIFT + SYNC.replace('"ABCD-1234"', "1234"), ["sync.enrolment_code", "wrong type"]),
    ("poll interval in quotes", LIFT + SYNC + 'poll_interval_s = "60"\n', ["sync.poll_interval_s", "wrong type"]),
    ("poll interval too short", LIFT + SYNC + "poll_interval_s = 1\n", ["sync.poll_interval_s", "5..=86400"]),
    ("too many downloads", LIFT + SYNC + "max_parallel_downloads = 64\n", ["sync.max_parallel_downloads", "1..=16"]),
]


def find_palier_sync() -> str | None:
    for candidate in (os.environ.get("PALIER_SYNC"), REPO / "target/debug/palier-sync", REPO / "target/release/palier-sync"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            try:
                done = subprocess.run([str(candidate), "--help"], capture_output=True, text=True, timeout=30)
            except OSError:
                continue
            if "check-config" in done.stdout:
                return str(candidate)
    return None


def run_provision(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = provision.main(["--no-palier-sync", *args])
    return code, out.getvalue() + err.getvalue()


class BoardFileRules(unittest.TestCase):
    def test_good_files_pass(self):
        for name, text in GOOD.items():
            with self.subTest(name):
                report = provision.check_text(text)
                self.assertEqual(report.problems, [], name)

    def test_unknown_keys_are_named_in_warnings(self):
        report = provision.check_text(GOOD["unknown keys are warnings"])
        joined = "\n".join(report.warnings)
        for key in ("`colour`", "`screen.0.tint`", "`sync.future`"):
            self.assertIn(key, joined)

    def test_plain_http_to_another_machine_is_a_warning(self):
        report = provision.check_text(LIFT + SYNC.replace("https://", "http://"))
        self.assertTrue(report.ok)
        self.assertIn("plain http", "\n".join(report.warnings))

    def test_bad_files_name_the_key_and_the_fix(self):
        for name, text, needles in BAD:
            with self.subTest(name):
                report = provision.check_text(text, "palier.toml")
                self.assertFalse(report.ok, f"{name} was accepted")
                joined = "\n".join(report.problems)
                for needle in needles:
                    self.assertIn(needle, joined, f"{name}: {joined}")
                self.assertTrue(all(p.startswith("palier.toml: ") for p in report.problems))

    def test_byte_order_mark_is_tolerated(self):
        self.assertTrue(provision.check_text("\ufeff" + LIFT + SYNC).ok)


@unittest.skipUnless(find_palier_sync(), "no built palier-sync with check-config (cargo build -p palier-sync)")
class AgreesWithPalierSync(unittest.TestCase):
    """The tool and the board's own check accept and refuse the same files."""

    def verdict(self, text: str) -> bool:
        binary = find_palier_sync()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "palier.toml"
            # The board's data directory exists; palier-sync checks it is writable.
            path.write_text(text.replace("/var/lib/palier", tmp) if "data_dir" in text else f'data_dir = "{tmp}"\n' + text,
                            encoding="utf-8")
            done = subprocess.run([binary, "--config", str(path), "check-config"], capture_output=True, text=True, timeout=60)
            self.assertIn(done.returncode, (0, 2), done.stderr)
            return done.returncode == 0

    def test_same_verdicts(self):
        image_only = {"data_dir elsewhere"}  # the image's rule, stricter than palier-sync's
        for name, text in GOOD.items():
            with self.subTest(name):
                self.assertTrue(self.verdict(text), f"palier-sync refuses the good file {name!r}")
        for name, text, _ in BAD:
            if name in image_only:
                continue
            with self.subTest(name):
                self.assertFalse(self.verdict(text), f"palier-sync accepts the bad file {name!r}")


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_composes_a_valid_file_from_options(self):
        out = self.tmp / "palier.toml"
        code, text = run_provision("--out", str(out), "--platform-url", "https://palier.example", "--platform-key", KEY,
                                   "--code", "ABCD-1234", "--screen", "lift:lift:1080x1920:0:HDMI-A-1",
                                   "--screen", "hall:lobby-centre:1920x1080:90:1:building+shops",
                                   "--building-name", 'Résidence "Les Tilleuls"')
        self.assertEqual(code, 0, text)
        written = out.read_text(encoding="utf-8")
        self.assertTrue(provision.check_text(written).ok)
        import tomllib
        doc = tomllib.loads(written)
        self.assertEqual(doc["building_name"], 'Résidence "Les Tilleuls"')
        self.assertEqual(doc["screen"][0], {"name": "lift", "role": "lift", "width": 1080, "height": 1920,
                                            "rotation": 0, "output": "HDMI-A-1"})
        self.assertEqual(doc["screen"][1]["output"], 1)
        self.assertEqual(doc["screen"][1]["channels"], ["building", "shops"])
        self.assertEqual(doc["sync"]["enrolment_code"], "ABCD-1234")

    def test_refuses_to_write_a_bad_file(self):
        out = self.tmp / "palier.toml"
        code, text = run_provision("--out", str(out), "--platform-url", "https://palier.example", "--platform-key", KEY,
                                   "--screen", "lift:Lift")
        self.assertEqual(code, 1)
        self.assertIn('role "Lift"', text)
        self.assertIn("nothing was written", text)
        self.assertFalse(out.exists())

    def test_usage_errors_say_what_to_add(self):
        code, text = run_provision("--out", str(self.tmp / "x"), "--platform-url", "https://palier.example")
        self.assertEqual(code, 2)
        self.assertIn("--platform-key", text)
        self.assertIn("--screen", text)
        code, text = run_provision("--out", str(self.tmp / "x"), "--platform-url", "https://p.example", "--platform-key", KEY,
                                   "--screen", "lift:lift:1080*1920")
        self.assertEqual(code, 2)
        self.assertIn("WIDTHxHEIGHT", text)

    def test_code_replaces_or_adds_the_enrolment_code_of_a_file(self):
        template = self.tmp / "building.toml"
        template.write_text("# the building's template\n" + LIFT + SYNC.replace('enrolment_code = "ABCD-1234"\n', "")
                            + "poll_interval_s = 60 # keep\n", encoding="utf-8")
        out = self.tmp / "palier.toml"
        self.assertEqual(run_provision("--out", str(out), "--config", str(template), "--code", "WXYZ-0001")[0], 0)
        written = out.read_text(encoding="utf-8")
        self.assertIn('enrolment_code = "WXYZ-0001"', written)
        self.assertIn("# the building's template", written)
        self.assertIn("poll_interval_s = 60 # keep", written)
        again = self.tmp / "again.toml"
        self.assertEqual(run_provision("--out", str(again), "--config", str(out), "--code", "NEW-2")[0], 0)
        self.assertEqual(again.read_text(encoding="utf-8").count("enrolment_code"), 1)
        self.assertIn('"NEW-2"', again.read_text(encoding="utf-8"))

    def test_check_only(self):
        good = self.tmp / "good.toml"
        good.write_text(LIFT + SYNC, encoding="utf-8")
        self.assertEqual(run_provision("--check", str(good))[0], 0)
        bad = self.tmp / "bad.toml"
        bad.write_text(LIFT, encoding="utf-8")
        code, text = run_provision("--check", str(bad))
        self.assertEqual(code, 1)
        self.assertIn("bad.toml: sync.platform_url", text)

    def test_card_is_written_and_shown(self):
        card = self.tmp / "PALIER-BOOT"
        card.mkdir()
        config = self.tmp / "mine.toml"
        config.write_text(LIFT + SYNC, encoding="utf-8")
        code, text = run_provision("--card", str(card), "--config", str(config))
        self.assertEqual(code, 3, text)  # not a Palier card yet: refused
        self.assertIn("PALIER-BOOT", text)
        (card / "palier.example.toml").write_text("", encoding="utf-8")
        (card / "palier-error.txt").write_text("palier.toml was NOT installed\r\nsync.platform_key: bad\r\n", encoding="utf-8")
        code, text = run_provision("--card", str(card), "--config", str(config))
        self.assertEqual(code, 0, text)
        self.assertEqual((card / "palier.toml").read_text(encoding="utf-8"), LIFT + SYNC)
        self.assertIn("had refused its previous file", text)
        self.assertFalse((card / "palier.toml.tmp").exists())
        code, text = run_provision("--card", str(card))
        self.assertIn("waiting to be installed", text)
        self.assertIn("sync.platform_key: bad", text)


def make_image(path: Path, label: str) -> None:
    """A small disk image laid out like a Palier image: FAT first, then a Linux partition."""
    fat = path.with_suffix(".fat")
    subprocess.run(["mkfs.vfat", "-C", "-F", "32", "-n", "PALIER-BOOT", str(fat), str(40 * 1024)], check=True,
                   capture_output=True)
    subprocess.run(["mcopy", "-i", str(fat), str(REPO / "docs/palier.example.toml"), "::/palier.example.toml"], check=True)
    with path.open("wb") as f:
        f.truncate(48 * 1024 * 1024)
    fat_type = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B" if label == "gpt" else "c"
    linux_type = "0FC63DAF-8483-4772-8E79-3D69D8477DE4" if label == "gpt" else "83"
    table = f"label: {label}\nstart=2048, size={40 * 2048}, type={fat_type}\ntype={linux_type}\n"
    subprocess.run(["sfdisk", "-q", str(path)], input=table, text=True, check=True)
    subprocess.run(["dd", f"if={fat}", f"of={path}", "bs=1M", "seek=1", "conv=notrunc", "status=none"], check=True)
    fat.unlink()


@unittest.skipUnless(all(shutil.which(t) for t in ("mkfs.vfat", "mcopy", "sfdisk")),
                     "needs mtools, dosfstools and fdisk (apt-get install mtools dosfstools fdisk)")
class ImageFiles(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_writes_into_the_boot_partition_of_gpt_and_mbr_images(self):
        for label in ("gpt", "dos"):
            with self.subTest(label):
                image = self.tmp / f"palier-{label}.img"
                make_image(image, label)
                code, text = run_provision("--image", str(image), "--platform-url", "https://palier.example",
                                           "--platform-key", KEY, "--code", "ABCD-1234", "--screen", "lift:lift")
                self.assertEqual(code, 0, text)
                offset = provision.fat_partition_offset(image)
                self.assertEqual(offset, 2048 * 512)
                back = subprocess.run(["mtype", "-i", f"{image}@@{offset}", "::/palier.toml"], capture_output=True,
                                      text=True, check=True).stdout
                self.assertIn('enrolment_code = "ABCD-1234"', back)
                listing = subprocess.run(["mdir", "-b", "-i", f"{image}@@{offset}", "::/"], capture_output=True,
                                         text=True, check=True).stdout
                self.assertIn("PALIER.EXA", listing.upper())

    def test_a_file_that_is_no_image_is_refused(self):
        junk = self.tmp / "photo.jpg"
        junk.write_bytes(b"\xff\xd8" + bytes(1000))
        code, text = run_provision("--image", str(junk), "--platform-url", "https://palier.example",
                                   "--platform-key", KEY, "--screen", "lift:lift")
        self.assertEqual(code, 3)
        self.assertIn("no partition table", text)


class ImportOnTheBoard(unittest.TestCase):
    """rootfs/usr/lib/palier/import-config with a stand-in for palier-sync check-config."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp)
        self.boot, self.config, self.data = self.tmp / "boot", self.tmp / "config", self.tmp / "data"
        for d in (self.boot, self.config, self.data):
            d.mkdir()
        (self.config / "palier.toml").write_text("# unprovisioned\n", encoding="utf-8")
        self.checker = self.tmp / "palier-sync"
        # Accepts a file unless it contains the word REFUSE, like check-config: 0 or 2.
        self.checker.write_text('#!/bin/sh\nif grep -q REFUSE "$2"; then echo "problem: sync.platform_key: bad"; exit 2; fi\n'
                                'echo "platform: ok"\n', encoding="utf-8")
        self.checker.chmod(0o755)

    def run_import(self) -> subprocess.CompletedProcess:
        env = dict(os.environ, PALIER_SYNC=str(self.checker), PALIER_DATA_DIR=str(self.data))
        return subprocess.run(["sh", str(IMPORT_CONFIG), str(self.boot), str(self.config)], capture_output=True, text=True,
                              env=env)

    def test_nothing_to_import(self):
        done = self.run_import()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("no palier.toml", done.stdout)
        self.assertEqual((self.config / "palier.toml").read_text(), "# unprovisioned\n")

    def test_a_good_file_is_installed_and_marked(self):
        (self.boot / "palier.toml").write_text("\ufeff" + LIFT + SYNC, encoding="utf-8")
        (self.boot / "palier-error.txt").write_text("old", encoding="utf-8")
        done = self.run_import()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual((self.config / "palier.toml").read_text(encoding="utf-8"), LIFT + SYNC)
        self.assertFalse((self.boot / "palier.toml").exists())
        self.assertTrue((self.boot / "palier.toml.installed").exists())
        self.assertFalse((self.boot / "palier-error.txt").exists())
        self.assertEqual(oct((self.config / "palier.toml").stat().st_mode & 0o777), "0o640")

    def test_a_bad_file_is_refused_and_explained_on_the_card(self):
        (self.boot / "palier.toml").write_text(LIFT + SYNC + "# REFUSE\n", encoding="utf-8")
        done = self.run_import()
        self.assertEqual(done.returncode, 1)
        self.assertEqual((self.config / "palier.toml").read_text(), "# unprovisioned\n")
        self.assertTrue((self.boot / "palier.toml").exists())
        error = (self.boot / "palier-error.txt").read_bytes().decode("utf-8")
        self.assertIn("NOT installed", error)
        self.assertIn("sync.platform_key: bad", error)
        self.assertIn("\r\n", error, "the error file is for laptops of every kind")
        self.assertFalse(list(self.config.glob(".palier.toml.new")))

    def test_a_new_enrolment_code_retires_the_old_credentials(self):
        (self.config / "palier.toml").write_text(LIFT + SYNC, encoding="utf-8")
        (self.data / "credentials.json").write_text("{}", encoding="utf-8")
        (self.boot / "palier.toml").write_text(LIFT + SYNC, encoding="utf-8")
        self.assertEqual(self.run_import().returncode, 0)
        self.assertTrue((self.data / "credentials.json").exists(), "same code: credentials kept")
        (self.boot / "palier.toml").write_text(LIFT + SYNC.replace("ABCD-1234", "NEW-CODE"), encoding="utf-8")
        done = self.run_import()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertFalse((self.data / "credentials.json").exists())
        self.assertEqual(len(list(self.data.glob("credentials.json.retired-*"))), 1)
        self.assertIn("enrol again", done.stdout)


if __name__ == "__main__":
    unittest.main()
