#!/usr/bin/env python3
"""Draws fallback.png: a dark blue gradient with the faint outline of a building (CC0)."""
import math

from PIL import Image, ImageDraw

W, H = 1920, 1080
img = Image.new("RGB", (W, H))
px = img.load()
for y in range(H):
    for x in range(W):
        t = min(1.0, math.hypot((x - W * 0.3) / W, (y - H * 0.2) / H))
        px[x, y] = (int(22 * (1 - t) + 8 * t), int(34 * (1 - t) + 11 * t), int(64 * (1 - t) + 22 * t))
draw = ImageDraw.Draw(img)
bx, by, bw, bh = 1340, 300, 420, 780
draw.rectangle([bx, by, bx + bw, by + bh], outline=(40, 56, 96), width=4)
for row in range(7):
    for col in range(4):
        x0, y0 = bx + 40 + col * 95, by + 40 + row * 100
        draw.rectangle([x0, y0, x0 + 55, y0 + 60], outline=(36, 50, 88), width=3)
img.save("fallback.png", optimize=True)
