#!/usr/bin/env python3
"""Makes assets/fonts/NotoEmoji-Regular.ttf: the monochrome Noto Emoji (SIL OFL 1.1) as one
TrueType file, from the npm package @fontsource/noto-emoji, which ships it as twelve woff2
subsets. Needs fontTools and brotli (pip install fonttools brotli) and npm.

    python3 assets/fonts/make-noto-emoji.py [VERSION]   # default 5.3.2
"""
import glob
import os
import subprocess
import sys
import tarfile
import tempfile

from fontTools.merge import Merger
from fontTools.ttLib import TTFont

version = sys.argv[1] if len(sys.argv) > 1 else "5.3.2"
here = os.path.dirname(os.path.abspath(__file__))
with tempfile.TemporaryDirectory() as work:
    subprocess.run(["npm", "pack", f"@fontsource/noto-emoji@{version}"], cwd=work, check=True)
    with tarfile.open(glob.glob(os.path.join(work, "*.tgz"))[0]) as archive:
        archive.extractall(work, filter="data")
    subsets = []
    for woff2 in sorted(glob.glob(os.path.join(work, "package/files/noto-emoji-*-400-normal.woff2"))):
        font = TTFont(woff2)
        font.flavor = None
        ttf = woff2[: -len(".woff2")] + ".ttf"
        font.save(ttf)
        subsets.append(ttf)
    merged = Merger().merge(subsets)
    out = os.path.join(here, "NotoEmoji-Regular.ttf")
    merged.save(out)
    print(f"{out}: {len(subsets)} subsets, {len(merged.getBestCmap())} code points, {os.path.getsize(out)} bytes")
