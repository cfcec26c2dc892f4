#!/usr/bin/env python3
"""Deterministic generator of Annota's decoder test data.

    python3 testdata/make_testdata.py            # (re)generate images/ and expected/
    <python with Pillow+opencv> testdata/make_testdata.py --check   # cross-check the output

Writes, next to this script:
  images/*.png, images/*.jpg   test images (PNGs from the tiny encoder below, JPEGs from cjpeg)
  images/bad/*                 damaged / hostile files, each with the error the decoder must report
  expected/*.pam               exact expected 8-bit decodes (binary PAM, P7)
  expected/manifest.json       what every file is and what its decode must be

PNG expected decodes are computed from the generator's own source samples (never by decoding).
JPEG expected decodes are the output of the system `djpeg -dct int` (libjpeg-turbo-progs).
All pixel content comes from integer arithmetic and an integer hash, so the bytes are the same on
every run (PNG bytes depend only on the zlib library, JPEG bytes on cjpeg's version; the one CMYK
JPEG is written by Pillow, see make_cmyk_jpeg).
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
IMG = os.path.join(HERE, "images")
BAD = os.path.join(IMG, "bad")
EXP = os.path.join(HERE, "expected")

U = 65535  # internal sample unit: patterns are computed in 0..U and quantised per bit depth


# ----------------------------------------------------------------------------------------------
# Deterministic content
# ----------------------------------------------------------------------------------------------

def hash_u32(x, y, seed):
    """Integer hash of (x, y, seed) arrays -> uint32-valued int64 array (lowbias32-style)."""
    x = np.asarray(x, dtype=np.uint64)
    y = np.asarray(y, dtype=np.uint64)
    m = np.uint64(0xFFFFFFFF)
    h = (x * np.uint64(0x9E3779B1) + y * np.uint64(0x85EBCA77)
         + np.uint64((seed * 0xC2B2AE3D + 0x27D4EB2F) & 0xFFFFFFFF)) & m
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x7FEB352D)) & m
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x846CA68B)) & m
    h ^= h >> np.uint64(16)
    return h.astype(np.int64)


def rand_bytes(n, seed):
    """n deterministic pseudo-random bytes."""
    i = np.arange(n)
    return (hash_u32(i, i * 7 + 3, seed) & 0xFF).astype(np.uint8).tobytes()


def pattern(w, h, seed, channels, noise_amp=U // 64):
    """Smooth gradients + sharp shapes + a little hash noise, values in 0..U, shape (h, w, C)."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    W, H = max(w - 1, 1), max(h - 1, 1)
    gx, gy = x * U // W, y * U // H
    period = 2 * (w // 3 + 3)
    t = (x * 2 * U // period + y * U // (h + 5)) % (2 * U)
    tri = np.where(t < U, t, 2 * U - t)  # triangle wave, diagonal
    out = np.zeros((h, w, channels), dtype=np.int64)
    for c in range(channels):
        mode = (seed + c) % 3
        g = gx if mode == 0 else (U - gy if mode == 1 else gx + (U - gx) * y // H)
        out[..., c] = (g * 3 + tri * (1 + c % 2)) // (4 + c % 2)
    # sharp shapes (constant colours)
    cx, cy, r = (w * 35) // 100, (h * 55) // 100, max(1, min(w, h) // 3)
    disc = (x - cx) ** 2 + (y - cy) ** 2 < r * r
    rect = (x >= (w * 60) // 100) & (x < (w * 85) // 100) & (y >= (h * 15) // 100) & (y < (h * 50) // 100)
    stripe = (x + 2 * y) % 11 < 2
    checker = ((x // 2 + y // 2) % 2 == 0) & (x >= (w * 70) // 100) & (y >= (h * 70) // 100)
    for c in range(channels):
        k = int(hash_u32(c, 1, seed)) % U
        out[..., c] = np.where(disc, k, out[..., c])
        out[..., c] = np.where(rect, U - k // 3, out[..., c])
        out[..., c] = np.where(stripe & ~disc, (out[..., c] + U // 3) % U, out[..., c])
        out[..., c] = np.where(checker, U * ((c + seed) % 2), out[..., c])
    if noise_amp:
        for c in range(channels):
            n = hash_u32(x, y + 1000 * c, seed) % (2 * noise_amp + 1) - noise_amp
            out[..., c] += n
    return np.clip(out, 0, U)


def quant(v, maxval):
    return (v * maxval + U // 2) // U


EDGE16 = [0, 65535, 127, 128, 129, 255, 256, 383, 384, 32767, 32768, 32639, 32640, 65407, 65408, 65279]


def with_edges16(s):
    """Put 16-bit rounding edge cases into the first row (rotated per channel)."""
    s = s.copy()
    h, w, C = s.shape
    n = min(w, len(EDGE16))
    for c in range(C):
        for i in range(n):
            s[0, i, c] = EDGE16[(i + 3 * c) % len(EDGE16)]
    return s


# ----------------------------------------------------------------------------------------------
# Minimal PNG encoder
# ----------------------------------------------------------------------------------------------

PNG_SIG = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_chunk(ctype, data):
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def pack_rows(s, depth):
    """(h, w, C) samples -> (h, rowbytes) uint8 scanlines (without filter bytes)."""
    h, w, C = s.shape
    flat = s.reshape(h, w * C).astype(np.int64)
    if depth == 16:
        out = np.empty((h, w * C * 2), dtype=np.uint8)
        out[:, 0::2] = flat >> 8
        out[:, 1::2] = flat & 0xFF
        return out
    if depth == 8:
        return flat.astype(np.uint8)
    per = 8 // depth
    pad = (-flat.shape[1]) % per
    flat = np.pad(flat, ((0, 0), (0, pad))).reshape(h, -1, per)
    byte = np.zeros(flat.shape[:2], dtype=np.int64)
    for i in range(per):
        byte |= flat[:, :, i] << (8 - depth * (i + 1))
    return byte.astype(np.uint8)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filter_rows(rows, bpp, offset):
    """Filter each scanline; filter type cycles 0..4 starting at `offset` so all are used."""
    out = bytearray()
    prior = np.zeros(rows.shape[1], dtype=np.int64)
    z = np.zeros(bpp, dtype=np.int64)
    for r in range(rows.shape[0]):
        raw = rows[r].astype(np.int64)
        n = raw.shape[0]
        left = np.concatenate([z, raw[: max(n - bpp, 0)]])[:n]
        upleft = np.concatenate([z, prior[: max(n - bpp, 0)]])[:n]
        ft = (r + offset) % 5
        if ft == 0:
            f = raw
        elif ft == 1:
            f = raw - left
        elif ft == 2:
            f = raw - prior
        elif ft == 3:
            f = raw - (left + prior) // 2
        else:
            f = raw - paeth(left, prior, upleft)
        out.append(ft)
        out += (f & 0xFF).astype(np.uint8).tobytes()
        prior = raw
    return bytes(out)


def encode_png(s, depth, ctype, plte=None, trns=None, interlace=False, filter_offset=0,
               idat_size=None):
    """Encode samples s (h, w, C) as PNG bytes. plte: list of (r,g,b); trns: raw tRNS payload."""
    h, w, C = s.shape
    assert C == CHANNELS[ctype]
    bpp = max(1, C * depth // 8)
    if interlace:
        data = b""
        for p, (x0, y0, dx, dy) in enumerate(ADAM7):
            sub = s[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue  # empty pass: no scanlines, no filter bytes
            data += filter_rows(pack_rows(sub, depth), bpp, filter_offset + p)
    else:
        data = filter_rows(pack_rows(s, depth), bpp, filter_offset)
    z = zlib.compress(data, 9)
    out = PNG_SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0))
    if plte is not None:
        out += png_chunk(b"PLTE", b"".join(bytes(c) for c in plte))
    if trns is not None:
        out += png_chunk(b"tRNS", trns)
    step = idat_size or len(z)
    for i in range(0, len(z), step):
        out += png_chunk(b"IDAT", z[i:i + step])
    return out + png_chunk(b"IEND", b"")


def png_chunks(data):
    """[(offset, length, type)] of a PNG's chunks."""
    pos, res = 8, []
    while pos + 8 <= len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        res.append((pos, n, data[pos + 4:pos + 8]))
        pos += 12 + n
    return res


# ----------------------------------------------------------------------------------------------
# Expected decodes (the decoder's contract)
# ----------------------------------------------------------------------------------------------

def to8(v, depth):
    v = np.asarray(v, dtype=np.int64)
    if depth == 16:
        return (v * 255 + 32895) >> 16  # libpng png_set_scale_16
    return v * (255 // ((1 << depth) - 1))  # bit replication for 1/2/4 (and identity for 8)


def expected_png(s, depth, ctype, plte=None, trns_key=None, pal_alpha=None):
    """Returns (uint8 array (h, w, C), tupltype)."""
    h, w, _ = s.shape
    if ctype == 3:
        pal = np.array(plte, dtype=np.int64)
        rgb = pal[s[..., 0]]
        if pal_alpha is None:
            return rgb.astype(np.uint8), "RGB"
        a = np.full(len(plte), 255, dtype=np.int64)
        a[: len(pal_alpha)] = pal_alpha
        return np.concatenate([rgb, a[s[..., 0]][..., None]], axis=2).astype(np.uint8), "RGB_ALPHA"
    if ctype == 0:
        g = to8(s[..., :1], depth)
        if trns_key is None:
            return g.astype(np.uint8), "GRAYSCALE"
        a = np.where(s[..., 0] == trns_key, 0, 255)[..., None]
        return np.concatenate([g, g, g, a], axis=2).astype(np.uint8), "RGB_ALPHA"
    if ctype == 2:
        rgb = to8(s, depth)
        if trns_key is None:
            return rgb.astype(np.uint8), "RGB"
        match = np.all(s == np.array(trns_key)[None, None, :], axis=2)
        a = np.where(match, 0, 255)[..., None]
        return np.concatenate([rgb, a], axis=2).astype(np.uint8), "RGB_ALPHA"
    if ctype == 4:
        g, a = to8(s[..., :1], depth), to8(s[..., 1:], depth)
        return np.concatenate([g, g, g, a], axis=2).astype(np.uint8), "RGB_ALPHA"
    if ctype == 6:
        return to8(s, depth).astype(np.uint8), "RGB_ALPHA"
    raise ValueError(ctype)


def pam_bytes(a, tupltype):
    h, w, d = a.shape
    hdr = f"P7\nWIDTH {w}\nHEIGHT {h}\nDEPTH {d}\nMAXVAL 255\nTUPLTYPE {tupltype}\nENDHDR\n"
    return hdr.encode() + np.ascontiguousarray(a, dtype=np.uint8).tobytes()


def read_pam(path):
    data = open(path, "rb").read()
    end = data.index(b"ENDHDR\n") + 7
    hdr = dict(l.split(" ", 1) for l in data[:end].decode().splitlines()[1:-1])
    w, h, d = int(hdr["WIDTH"]), int(hdr["HEIGHT"]), int(hdr["DEPTH"])
    return np.frombuffer(data[end:], dtype=np.uint8).reshape(h, w, d), hdr["TUPLTYPE"]


def parse_pnm(data):
    """Binary P5/P6 (maxval 255) -> uint8 array (h, w, C)."""
    fields, pos = [], 2
    magic = data[:2]
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(int(data[start:pos]))
    pos += 1
    w, h, maxval = fields
    assert maxval == 255, maxval
    c = {b"P5": 1, b"P6": 3}[magic]
    return np.frombuffer(data[pos:pos + w * h * c], dtype=np.uint8).reshape(h, w, c)


def pnm_bytes(a):
    h, w, c = a.shape
    return f"{'P5' if c == 1 else 'P6'}\n{w} {h}\n255\n".encode() + a.astype(np.uint8).tobytes()


# ----------------------------------------------------------------------------------------------
# Output bookkeeping
# ----------------------------------------------------------------------------------------------

class Out:
    def __init__(self):
        self.images, self.bad, self.written = [], [], []

    def write(self, rel, data):
        path = os.path.join(HERE, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        self.written.append((rel, len(data)))

    def expect(self, stem, arr, tupltype):
        rel = f"expected/{stem}.pam"
        self.write(rel, pam_bytes(arr, tupltype))
        return rel


# ----------------------------------------------------------------------------------------------
# PNG set
# ----------------------------------------------------------------------------------------------

def palette(n, seed):
    i = np.arange(n)
    cols = [hash_u32(i, c, seed) & 0xFF for c in range(3)]
    return [(int(cols[0][k]), int(cols[1][k]), int(cols[2][k])) for k in range(n)]


def png_set(out):
    W, H = 37, 23
    items = []  # (name, samples, depth, ctype, kwargs for encode, kwargs for expected)

    def gray(seed, w=W, h=H):
        return pattern(w, h, seed, 1)

    # gray 1/2/4/8/16
    for d in (1, 2, 4, 8):
        items.append((f"png_gray{d}", quant(gray(10 + d), (1 << d) - 1), d, 0, {}, {}))
    items.append(("png_gray16", with_edges16(quant(gray(26), 65535)), 16, 0, {"idat_size": 97}, {}))
    # gray 8 + tRNS: a rectangle of exactly 77 made transparent
    g = quant(gray(31), 255)
    g[3:9, 5:14, 0] = 77
    items.append(("png_gray8_trns", g, 8, 0, {"trns": struct.pack(">H", 77)}, {"trns_key": 77}))
    # RGB 8/16 and RGB 8 + tRNS
    items.append(("png_rgb8", quant(pattern(W, H, 40, 3), 255), 8, 2, {}, {}))
    items.append(("png_rgb16", with_edges16(quant(pattern(W, H, 41, 3), 65535)), 16, 2, {"idat_size": 256}, {}))
    rgb = quant(pattern(W, H, 42, 3), 255)
    key = (10, 200, 30)
    rgb[12:20, 2:11] = key
    rgb[1, 30] = key
    items.append(("png_rgb8_trns", rgb, 8, 2, {"trns": struct.pack(">HHH", *key)}, {"trns_key": key}))
    # palettes 1/2/4/8 (PLTE may be shorter than 2**depth)
    for d, n in ((1, 2), (2, 3), (4, 13), (8, 256)):
        idx = quant(pattern(W, H, 50 + d, 1), n - 1)
        pal = palette(n, 60 + d)
        items.append((f"png_pal{d}", idx, d, 3, {"plte": pal}, {"plte": pal}))
    # palette 8 + tRNS shorter than PLTE (entries past it are opaque)
    n, na = 200, 90
    idx = quant(pattern(W, H, 70, 1), n - 1)
    pal = palette(n, 71)
    alpha = [int(v) for v in (hash_u32(np.arange(na), 5, 72) & 0xFF)]
    alpha[0], alpha[1], alpha[2] = 0, 255, 128
    items.append(("png_pal8_trns", idx, 8, 3, {"plte": pal, "trns": bytes(alpha)},
                  {"plte": pal, "pal_alpha": alpha}))

    def with_alpha(color, seed, maxval):
        h, w, _ = color.shape
        a = quant(pattern(w, h, seed, 1), maxval)
        a[h // 4: h // 2, : w // 5] = 0
        a[-h // 4:, w // 3: w // 2] = maxval
        return np.concatenate([color, a], axis=2)

    items.append(("png_ga8", with_alpha(quant(gray(80), 255), 81, 255), 8, 4, {}, {}))
    items.append(("png_ga16", with_edges16(with_alpha(quant(gray(82), 65535), 83, 65535)), 16, 4, {}, {}))
    items.append(("png_rgba8", with_alpha(quant(pattern(W, H, 84, 3), 255), 85, 255), 8, 6, {"idat_size": 200}, {}))
    rgba16 = with_edges16(with_alpha(quant(pattern(W, H, 86, 3), 65535), 87, 65535))
    items.append(("png_rgba16", rgba16, 16, 6, {}, {}))
    # Adam7
    items.append(("png_rgb8_adam7", quant(pattern(W, H, 90, 3), 255), 8, 2, {"interlace": True}, {}))
    items.append(("png_gray1_adam7", quant(gray(91), 1), 1, 0, {"interlace": True}, {}))
    items.append(("png_rgba16_adam7", with_edges16(with_alpha(quant(pattern(W, H, 92, 3), 65535), 93, 65535)),
                  16, 6, {"interlace": True}, {}))
    idx = quant(pattern(W, H, 94, 1), 12)
    pal = palette(13, 95)
    items.append(("png_pal4_adam7", idx, 4, 3, {"plte": pal, "interlace": True}, {"plte": pal}))
    items.append(("png_rgb8_adam7_1x1", np.array([[[201, 34, 117]]]),
                  8, 2, {"interlace": True}, {}))
    items.append(("png_rgb8_adam7_3x2", quant(pattern(3, 2, 97, 3), 255), 8, 2, {"interlace": True}, {}))
    items.append(("png_1x1", np.array([[[173]]]), 8, 0, {}, {}))

    for k, (name, s, depth, ctype, enc, exp) in enumerate(items):
        s = np.asarray(s, dtype=np.int64)
        assert s.min() >= 0 and s.max() < (1 << depth), name
        data = encode_png(s, depth, ctype, filter_offset=k, **enc)
        out.write(f"images/{name}.png", data)
        arr, tt = expected_png(s, depth, ctype, **exp)
        h, w, c = arr.shape
        out.images.append({
            "file": f"images/{name}.png", "expected": out.expect(name, arr, tt), "kind": "png",
            "width": w, "height": h, "channels": c, "tupltype": tt,
            "bit_depth": depth, "color_type": ctype, "interlaced": bool(enc.get("interlace")),
            "has_trns": "trns" in enc,
        })


# ----------------------------------------------------------------------------------------------
# JPEG set
# ----------------------------------------------------------------------------------------------

def run(cmd, stdin=None):
    r = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.decode(errors='replace')}")
    return r.stdout


def cjpeg(src_path, opts):
    return run(["cjpeg", "-dct", "int", "-quality", "85"] + opts + [src_path])


def djpeg(data, opts=()):
    return parse_pnm(run(["djpeg", "-dct", "int", "-pnm"] + list(opts), stdin=data))


def jpeg_segments(data):
    """[(offset, marker, length)] for marker segments up to and including SOS."""
    assert data[:2] == b"\xff\xd8"
    pos, res = 2, []
    while pos < len(data):
        assert data[pos] == 0xFF, pos
        m = data[pos + 1]
        n, = struct.unpack(">H", data[pos + 2:pos + 4])
        res.append((pos, m, n))
        if m == 0xDA:
            break
        pos += 2 + n
    return res


def exif_app1(orientation, endian):
    e = ">" if endian == "MM" else "<"
    # IFD0: Orientation, XResolution, YResolution, ResolutionUnit (sorted by tag)
    n = 4
    data_off = 8 + 2 + 12 * n + 4
    ifd = struct.pack(e + "H", n)
    ifd += struct.pack(e + "HHI", 0x0112, 3, 1) + struct.pack(e + "HH", orientation, 0)
    ifd += struct.pack(e + "HHII", 0x011A, 5, 1, data_off)
    ifd += struct.pack(e + "HHII", 0x011B, 5, 1, data_off + 8)
    ifd += struct.pack(e + "HHI", 0x0128, 3, 1) + struct.pack(e + "HH", 2, 0)
    ifd += struct.pack(e + "I", 0)
    tiff = endian.encode() + struct.pack(e + "HI", 42, 8) + ifd + struct.pack(e + "IIII", 72, 1, 72, 1)
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def insert_after_app0(jpeg, segment):
    segs = jpeg_segments(jpeg)
    pos = 2
    if segs and segs[0][1] == 0xE0:
        pos = segs[0][0] + 2 + segs[0][2]
    return jpeg[:pos] + segment + jpeg[pos:]


def find_pillow_python():
    """A python that can `import PIL`: this one, $PILLOW_PYTHON, or the project's reference venv."""
    try:
        import PIL  # noqa: F401
        return sys.executable
    except ImportError:
        pass
    if os.environ.get("PILLOW_PYTHON"):
        return os.environ["PILLOW_PYTHON"]
    refenv = os.path.join(HERE, "..", "..", "shared", "tools", "refenv.sh")
    if os.path.exists(refenv):
        r = subprocess.run(["bash", refenv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.decode().strip().splitlines()[-1]
    return None


CMYK_SNIPPET = r"""
import io, sys
from PIL import Image
w, h = int(sys.argv[1]), int(sys.argv[2])
im = Image.frombytes('CMYK', (w, h), sys.stdin.buffer.read())
buf = io.BytesIO()
im.save(buf, 'JPEG', quality=85, subsampling=0)   # Adobe APP14, inverted CMYK, all comps 1x1
sys.stdout.buffer.write(buf.getvalue())
"""


def make_cmyk_jpeg(old):
    """Adobe inverted CMYK JPEG (4:4:4) written by Pillow (cjpeg cannot read CMYK input)."""
    w, h = 67, 45
    cmyk = quant(pattern(w, h, 130, 4), 255)
    cmyk[..., 3] = cmyk[..., 3] // 2  # keep K moderate so the picture is not mostly black
    py = find_pillow_python()
    if py is None:
        if old is None:
            raise RuntimeError("jpeg_cmyk.jpg needs Pillow: set PILLOW_PYTHON to a python with Pillow")
        print("warning: no Pillow found; keeping the existing images/jpeg_cmyk.jpg", file=sys.stderr)
        return old
    return run([py, "-c", CMYK_SNIPPET, str(w), str(h)], stdin=cmyk.astype(np.uint8).tobytes())


def jpeg_set(out, tmp, old_cmyk):
    def src(name, w, h, seed, gray=False):
        a = quant(pattern(w, h, seed, 1 if gray else 3, noise_amp=U // 100), 255)
        path = os.path.join(tmp, name + (".pgm" if gray else ".ppm"))
        with open(path, "wb") as f:
            f.write(pnm_bytes(a))
        return path

    small = src("small", 67, 45, 100)
    small_gray = src("small_gray", 67, 45, 101, gray=True)
    large = src("large", 160, 120, 102)
    exif_src = src("exif", 45, 29, 103)
    tiny = src("tiny", 16, 16, 104)

    specs = [
        ("jpeg_baseline_420", small, [], "ycbcr", "4:2:0"),
        ("jpeg_baseline_444", small, ["-sample", "1x1"], "ycbcr", "4:4:4"),
        ("jpeg_baseline_422", small, ["-sample", "2x1"], "ycbcr", "4:2:2"),
        ("jpeg_progressive", small, ["-progressive"], "ycbcr", "4:2:0"),
        ("jpeg_gray", small_gray, [], "gray", None),
        ("jpeg_restart", small, ["-restart", "1"], "ycbcr", "4:2:0"),
        ("jpeg_large_420", large, [], "ycbcr", "4:2:0"),
        ("jpeg_large_progressive", large, ["-progressive"], "ycbcr", "4:2:0"),
    ]
    files = {}

    def add(name, data, colorspace, subsampling, progressive, components, extra=None, scale=1,
            gray_out=False, stem=None):
        px = djpeg(data, (["-scale", f"1/{scale}"] if scale != 1 else []) + (["-grayscale"] if gray_out else []))
        tt = "GRAYSCALE" if px.shape[2] == 1 else "RGB"
        stem = stem or name
        e = {"file": f"images/{name}.jpg", "expected": out.expect(stem, px, tt), "kind": "jpeg",
             "width": int(px.shape[1]), "height": int(px.shape[0]), "channels": int(px.shape[2]),
             "tupltype": tt, "colorspace": colorspace, "components": components,
             "subsampling": subsampling, "progressive": progressive, "scale": scale}
        if gray_out:
            e["gray_output"] = True
        e.update(extra or {})
        out.images.append(e)

    for name, path, opts, cs, sub in specs:
        data = cjpeg(path, opts)
        files[name] = data
        out.write(f"images/{name}.jpg", data)
        comps = 1 if cs == "gray" else 3
        prog = "-progressive" in opts
        extra = {"restart_interval_mcu_rows": 1} if "-restart" in opts else None
        add(name, data, cs, sub, prog, comps, extra)
        if name.startswith("jpeg_large"):
            for s in (2, 4, 8):
                add(name, data, cs, sub, prog, comps, scale=s, stem=f"{name}_s{s}")
    # grey output of a colour JPEG (luma only), for the decoder's `gray` request
    add("jpeg_baseline_420", files["jpeg_baseline_420"], "ycbcr", "4:2:0", False, 3,
        gray_out=True, stem="jpeg_baseline_420_grayout")

    # CMYK (Adobe, inverted). djpeg writes CMYK as RGB via R = round(c*k/255) on the stored
    # (inverted) samples, which equals the decoder contract MULDIV255(s_c, s_k); --check verifies.
    cmyk = make_cmyk_jpeg(old_cmyk)
    out.write("images/jpeg_cmyk.jpg", cmyk)
    add("jpeg_cmyk", cmyk, "cmyk", "4:4:4", False, 4, {"adobe_inverted": True})

    # EXIF orientation (APP1 inserted right after APP0); expected = unrotated decode
    base = cjpeg(exif_src, [])
    for orient, endian in ((6, "MM"), (3, "II"), (8, "MM")):
        name = f"jpeg_exif_orient{orient}"
        data = insert_after_app0(base, exif_app1(orient, endian))
        out.write(f"images/{name}.jpg", data)
        add(name, data, "ycbcr", "4:2:0", False, 3, {"exif_orientation": orient, "exif_byte_order": endian})

    files["tiny_progressive"] = cjpeg(tiny, ["-progressive"])
    return files


# ----------------------------------------------------------------------------------------------
# Bad files
# ----------------------------------------------------------------------------------------------

def bad_set(out, jpegs):
    def bad(name, data, err, note, **extra):
        out.write(f"images/bad/{name}", data)
        e = {"file": f"images/bad/{name}", "expect_error": err, "note": note}
        e.update(extra)
        out.bad.append(e)

    base = jpegs["jpeg_baseline_420"]
    bad("truncated_baseline.jpg", base[: len(base) * 6 // 10], "truncated",
        "jpeg_baseline_420.jpg cut at 60% of its length", source="images/jpeg_baseline_420.jpg")
    prog = jpegs["jpeg_progressive"]
    bad("truncated_progressive.jpg", prog[: len(prog) // 2], "truncated",
        "jpeg_progressive.jpg cut at 50% of its length", source="images/jpeg_progressive.jpg")

    png = open(os.path.join(IMG, "png_rgb8.png"), "rb").read()
    (ipos, ilen, _), = [c for c in png_chunks(png) if c[2] == b"IDAT"]
    bad("truncated.png", png[: ipos + 8 + ilen // 2], "truncated",
        "png_rgb8.png cut in the middle of its IDAT data", source="images/png_rgb8.png")
    flipped = bytearray(png)
    flipped[ipos + 8 + ilen // 2] ^= 0x01
    bad("png_bad_crc.png", bytes(flipped), "corrupt",
        "png_rgb8.png with one bit flipped inside IDAT data (chunk CRC no longer matches)")
    ihdr = struct.pack(">IIBBBBB", 0, 23, 8, 2, 0, 0, 0)
    bad("png_bad_ihdr.png", PNG_SIG + png_chunk(b"IHDR", ihdr) + png[8 + 25:], "corrupt",
        "png_rgb8.png with IHDR width 0 (CRC recomputed, so only the value is wrong)")
    bad("png_header_only.png", png[: 8 + 25], "truncated", "PNG signature + IHDR, then end of file")
    bad("not_an_image.txt.png", b"This is a plain text file, not a PNG image.\nAnnota test data.\n",
        "corrupt", "text content with a .png name (no PNG signature)")
    row = zlib.compress(b"\x00" * (100000 * 3 + 1), 9)
    huge = (PNG_SIG + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", row) + png_chunk(b"IEND", b""))
    bad("png_huge_header.png", huge, "limit",
        "valid-CRC PNG whose IHDR claims 100000x100000 RGB8 with a one-row IDAT",
        claimed_width=100000, claimed_height=100000)

    bad("jpeg_garbage_after_soi.jpg", b"\xff\xd8" + rand_bytes(200, 7), "corrupt",
        "FF D8 then 200 seeded pseudo-random bytes")
    bad("empty.jpg", b"", "truncated", "0 bytes")
    tiny = bytearray(jpegs["tiny_progressive"])
    sof = [s for s in jpeg_segments(bytes(tiny)) if s[1] in (0xC0, 0xC2)][0]
    struct.pack_into(">HH", tiny, sof[0] + 5, 17007, 28524)  # SOF: len(2) P(1) Y(2) X(2)
    bad("jpeg_huge_header.jpg", bytes(tiny), "limit",
        "16x16 progressive JPEG whose SOF2 is patched to claim 28524x17007",
        claimed_width=28524, claimed_height=17007)


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------

def generate():
    for tool in ("cjpeg", "djpeg"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install -y libjpeg-turbo-progs")
    old_cmyk_path = os.path.join(IMG, "jpeg_cmyk.jpg")
    old_cmyk = open(old_cmyk_path, "rb").read() if os.path.exists(old_cmyk_path) else None
    for d in (IMG, EXP):
        shutil.rmtree(d, ignore_errors=True)
    out = Out()
    png_set(out)
    with tempfile.TemporaryDirectory() as tmp:
        jpegs = jpeg_set(out, tmp, old_cmyk)
    bad_set(out, jpegs)
    manifest = {"version": 1, "images": out.images, "bad": out.bad}
    out.write("expected/manifest.json", (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())

    total = sum(n for _, n in out.written)
    digest = hashlib.sha256()
    for rel, n in sorted(out.written):
        print(f"{n:8d}  {rel}")
        digest.update(rel.encode() + open(os.path.join(HERE, rel), "rb").read())
    print(f"{len(out.written)} files, {total} bytes; {len(out.images)} decodable entries, "
          f"{len(out.bad)} bad files; sha256 {digest.hexdigest()[:16]}")


# ----------------------------------------------------------------------------------------------
# --check: cross-check the generated files with independent decoders (needs Pillow, opencv)
# ----------------------------------------------------------------------------------------------

def check():
    from PIL import Image
    try:
        import cv2
    except ImportError:
        cv2 = None
    manifest = json.load(open(os.path.join(EXP, "manifest.json")))
    failures, notes = [], []

    def fail(msg):
        failures.append(msg)
        print("FAIL", msg)

    if shutil.which("pngcheck"):
        for e in manifest["images"]:
            if e["kind"] == "png":
                r = subprocess.run(["pngcheck", "-q", os.path.join(HERE, e["file"])],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                if r.returncode != 0:
                    fail(f"pngcheck {e['file']}: {r.stdout.decode().strip()}")
        print("pngcheck: done")
    else:
        notes.append("pngcheck not installed: skipped")

    for e in manifest["images"]:
        path = os.path.join(HERE, e["file"])
        exp, tt = read_pam(os.path.join(HERE, e["expected"]))
        assert tt == e["tupltype"] and exp.shape == (e["height"], e["width"], e["channels"])
        if e["kind"] == "png":
            if e["bit_depth"] == 16:
                if cv2 is None:
                    notes.append(f"{e['file']}: opencv missing, 16-bit not checked")
                    continue
                a = cv2.imread(path, cv2.IMREAD_UNCHANGED).astype(np.int64)
                if a.ndim == 2:
                    a = a[..., None]
                if a.shape[2] >= 3:
                    a[..., :3] = a[..., 2::-1]  # BGR(A) -> RGB(A)
                got = to8(a, 16)
            else:
                mode = {1: "L", 3: "RGB", 4: "RGBA"}[e["channels"]]
                im = Image.open(path)
                got = np.asarray(im.convert(mode))
                if got.ndim == 2:
                    got = got[..., None]
            if got.shape != exp.shape or not np.array_equal(got, exp):
                fail(f"{e['file']}: independent decode differs from {e['expected']}")
        elif e["colorspace"] == "cmyk":
            im = Image.open(path)
            assert im.mode == "CMYK"
            s = 255 - np.asarray(im).astype(np.int64)  # Pillow undoes the Adobe inversion
            t = s[..., :3] * s[..., 3:] + 128
            got = (t + (t >> 8)) >> 8
            if not np.array_equal(got, exp):
                fail(f"{e['file']}: MULDIV255 of Pillow's CMYK differs from djpeg (max "
                     f"{np.abs(got - exp).max()})")
        elif e["scale"] == 1 and not e.get("gray_output"):
            im = Image.open(path)
            got = np.asarray(im.convert("L" if e["channels"] == 1 else "RGB")).astype(np.int64)
            if got.ndim == 2:
                got = got[..., None]
            diff = int(np.abs(got - exp).max())
            if e["subsampling"] in ("4:4:4", None):
                if diff:
                    fail(f"{e['file']}: Pillow decode differs from djpeg by {diff}")
            else:
                notes.append(f"{e['file']}: Pillow vs djpeg max diff {diff} (chroma upsampling)")
            if "exif_orientation" in e and im.getexif().get(0x0112) != e["exif_orientation"]:
                fail(f"{e['file']}: Pillow reads EXIF orientation {im.getexif().get(0x0112)}")

    for e in manifest["bad"]:
        path = os.path.join(HERE, e["file"])
        try:
            with Image.open(path) as im:
                if e["expect_error"] == "limit":
                    notes.append(f"{e['file']}: header {im.size} (not decoded)")
                    continue
                im.load()
            notes.append(f"{e['file']}: Pillow decoded it without error (expected {e['expect_error']})")
        except Exception as ex:  # noqa: BLE001
            notes.append(f"{e['file']}: Pillow raises {type(ex).__name__}: {str(ex)[:70]}")

    for n in notes:
        print("note", n)
    print(f"check: {len(manifest['images'])} entries, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="cross-check existing output (needs Pillow)")
    args = ap.parse_args()
    sys.exit(check() if args.check else generate())
