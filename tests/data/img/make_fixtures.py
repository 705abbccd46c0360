#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Regenerates the tiny codec fixtures used by tests/test_image.c (PIL; not run by CI).
# Pixel values follow formulas that the C test recomputes, so expectations are not stored.
import struct
import zlib
from PIL import Image

W, H = 16, 12
def rgb(x, y): return ((x * 37 + y * 11) & 255, (x * 5 + y * 53) & 255, (x * y * 7 + 13) & 255)
def grey(x, y): return (x * 13 + y * 7) & 255
def pal(i): return (i * 16, 255 - i * 16, i * 8)

im = Image.new("RGB", (W, H)); im.putdata([rgb(x, y) for y in range(H) for x in range(W)])
im.save("rgb8.png"); im.save("rgb24.bmp"); im.save("rgb_lossless.webp", lossless=True)
rgba = Image.new("RGBA", (W, H))
rgba.putdata([rgb(x, y) + ((y * 20) & 255,) for y in range(H) for x in range(W)])
rgba.save("rgba8.png"); rgba.save("rgba32.bmp")
g = Image.new("L", (W, H)); g.putdata([grey(x, y) for y in range(H) for x in range(W)]); g.save("grey8.png")
ga = Image.new("LA", (W, H)); ga.putdata([(grey(x, y), (x * 20) & 255) for y in range(H) for x in range(W)])
ga.save("greyalpha8.png")
g16 = Image.new("I;16", (W, H)); g16.putdata([grey(x, y) * 257 for y in range(H) for x in range(W)])
g16.save("grey16.png")
p = Image.new("P", (W, H)); p.putpalette([c for i in range(16) for c in pal(i)])
p.putdata([(x + 2 * y) % 16 for y in range(H) for x in range(W)]); p.save("palette.png")
# 16-bit RGB (each sample v * 257, big-endian), written by hand: PIL cannot save RGB48.
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
raw = b"".join(b"\0" + b"".join(struct.pack(">3H", *[v * 257 for v in rgb(x, y)]) for x in range(W))
               for y in range(H))
with open("rgb16.png", "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
