#!/usr/bin/env python3
"""Write test/quant/vectors.bin: quantized rows and their dequantization by
the gguf Python package (gguf.quants.dequantize), an implementation of the
ggml formats independent of ours.  test/engine/test_quant.c reads the file
and checks llm_dequantize_row against it value by value.

Usage: python3 test/quant/make_quant_vectors.py [OUT]   (default: next to
this script).  Needs numpy and gguf from PyPI.  Deterministic (fixed seed).

File format, all little-endian:
    magic    8 bytes  b"LLMQVEC1"
    count    u32      number of records
    count records:
        kind     u32  0 = dequantize: bytes -> floats
                      1 = fp32 -> fp16: floats are the input, bytes the
                          numpy float16 conversion (round to nearest even)
        type     u32  ggml type id
        n_elems  u32
        n_bytes  u32
        bytes    n_bytes
        floats   n_elems float32

Rows come from two sources:
  - gguf.quants.quantize of random float rows, for the types it can quantize
    (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0);
  - random block bytes with sane scales (every type; the only source for the
    K-quants, which gguf-py can dequantize but not quantize).
"""

import struct
import sys
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants

MAGIC = b"LLMQVEC1"
KIND_DEQUANT = 0
KIND_TO_FP16 = 1

rng = np.random.default_rng(20240611)


def half_bytes(values):
    """float values -> little-endian binary16 bytes (clamped to the finite range)."""
    return np.clip(np.asarray(values, dtype=np.float32), -65504, 65504).astype("<f2").tobytes()


def sane_halves(n, lo=1e-3, hi=0.2, signed=True):
    """n half scales, mostly in [lo, hi], with a few edge values mixed in."""
    v = rng.uniform(lo, hi, n).astype(np.float32)
    if signed:
        v *= rng.choice([-1.0, 1.0], n).astype(np.float32)
    edges = np.array([0.0, 6.0e-8, 3.0e-5, -1.5e-6, 1.0, 65504.0], dtype=np.float32)
    k = min(n // 4, len(edges))
    if k:
        v[rng.choice(n, k, replace=False)] = edges[:k]
    return v


def random_blocks(qtype, n_blocks):
    """Random raw blocks of qtype with sane half scales (see ggml-common.h)."""
    out = bytearray()
    d = sane_halves(n_blocks)
    dmin = sane_halves(n_blocks, signed=False)
    for b in range(n_blocks):
        if qtype == T.Q4_0:
            blk = half_bytes([d[b]]) + rng.bytes(16)
        elif qtype == T.Q4_1:
            blk = half_bytes([d[b], -dmin[b] * 8]) + rng.bytes(16)
        elif qtype == T.Q5_0:
            blk = half_bytes([d[b]]) + rng.bytes(4) + rng.bytes(16)
        elif qtype == T.Q5_1:
            blk = half_bytes([d[b], -dmin[b] * 16]) + rng.bytes(4) + rng.bytes(16)
        elif qtype == T.Q8_0:
            blk = half_bytes([d[b]]) + rng.bytes(32)
        elif qtype == T.Q4_K:
            blk = half_bytes([d[b] / 64, dmin[b] / 64]) + rng.bytes(12) + rng.bytes(128)
        elif qtype == T.Q5_K:
            blk = half_bytes([d[b] / 64, dmin[b] / 64]) + rng.bytes(12) + rng.bytes(32) + rng.bytes(128)
        elif qtype == T.Q6_K:
            blk = rng.bytes(128) + rng.bytes(64) + rng.bytes(16) + half_bytes([d[b] / 128])
        else:
            raise ValueError(qtype)
        out += blk
    return bytes(out)


def random_float_rows(n_rows, n):
    """Rows with varied magnitudes, an all-zero row, and an outlier row."""
    rows = []
    for r in range(n_rows):
        scale = 10.0 ** rng.uniform(-3, 1)
        row = rng.standard_normal(n).astype(np.float32) * np.float32(scale)
        if r == 0:
            row[:] = 0
        elif r == 1:
            row[rng.integers(n)] = np.float32(50 * scale)
        elif r == 2:
            row = np.abs(row)          # all positive: min != 0 for Q4_1/Q5_1
        rows.append(row)
    return np.stack(rows)


def dequant(raw, qtype):
    return np.ascontiguousarray(
        quants.dequantize(np.frombuffer(raw, dtype=np.uint8), qtype), dtype="<f4").ravel()


records = []


def add(kind, qtype, raw, floats):
    floats = np.ascontiguousarray(floats, dtype="<f4").ravel()
    records.append(struct.pack("<IIII", kind, int(qtype), floats.size, len(raw)) + raw + floats.tobytes())


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("vectors.bin")

    # F32: dequantization is a copy; one row of assorted values
    f32 = np.concatenate([rng.standard_normal(60).astype(np.float32),
                          np.array([0.0, -0.0, np.inf, -np.inf], dtype=np.float32)])
    add(KIND_DEQUANT, T.F32, f32.astype("<f4").tobytes(), f32)

    # F16: every exponent, both signs, subnormals, inf, NaN via random bit
    # patterns; plus quantize() of random floats
    bits = rng.integers(0, 1 << 16, 2048, dtype=np.uint16)
    specials = np.array([0x0000, 0x8000, 0x0001, 0x8001, 0x03ff, 0x0400, 0x7bff,
                         0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x7c01, 0xfd55, 0x3c00,
                         0x3555, 0x0200], dtype=np.uint16)
    bits = np.concatenate([specials, bits]).astype("<u2")
    add(KIND_DEQUANT, T.F16, bits.tobytes(), dequant(bits.tobytes(), T.F16))
    rows = random_float_rows(4, 64)
    raw = quants.quantize(rows, T.F16).astype("<f2").tobytes()
    add(KIND_DEQUANT, T.F16, raw, dequant(raw, T.F16))

    # fp32 -> fp16 rounding: random floats across the whole half range, the
    # halfway points between neighbouring halves, overflow and underflow
    x = (rng.standard_normal(1024) * 10.0 ** rng.uniform(-9, 5.5, 1024)).astype(np.float32)
    h = rng.integers(0, 0x7bff, 512, dtype=np.uint16).astype("<u2")
    lo = h.view("<f2").astype(np.float64)
    hi = (h + 1).view("<f2").astype(np.float64)
    mid = ((lo + hi) / 2).astype(np.float32)      # exact: halves have few bits
    edge = np.array([65504.0, 65519.0, 65520.0, 65536.0, 1e9, np.inf, -np.inf,
                     2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0000001, 2.0 ** -26,
                     1e-30, -0.0, 0.0, 2.0 ** -14, 2.0 ** -14 * (1 - 2 ** -11)],
                    dtype=np.float32)
    x = np.concatenate([edge, mid, -mid, x]).astype(np.float32)
    with np.errstate(over="ignore"):
        add(KIND_TO_FP16, T.F16, x.astype("<f2").tobytes(), x)

    # BF16: random bit patterns and quantize() of random floats
    bits = np.concatenate([np.array([0, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0x0001, 0x3f80],
                                    dtype=np.uint16),
                           rng.integers(0, 1 << 16, 1024, dtype=np.uint16)]).astype("<u2")
    add(KIND_DEQUANT, T.BF16, bits.tobytes(), dequant(bits.tobytes(), T.BF16))
    rows = random_float_rows(4, 64)
    raw = quants.quantize(rows, T.BF16).tobytes()
    add(KIND_DEQUANT, T.BF16, raw, dequant(raw, T.BF16))

    # legacy 32-element block types: quantized random rows + random blocks
    for qtype in (T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1):
        rows = random_float_rows(8, 96)
        raw = quants.quantize(rows, qtype).tobytes()
        add(KIND_DEQUANT, qtype, raw, dequant(raw, qtype))
        raw = random_blocks(qtype, 24)
        add(KIND_DEQUANT, qtype, raw, dequant(raw, qtype))

    # K-quants: random blocks only (gguf-py has no K-quant quantizer)
    for qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
        raw = random_blocks(qtype, 12)
        add(KIND_DEQUANT, qtype, raw, dequant(raw, qtype))

    data = MAGIC + struct.pack("<I", len(records)) + b"".join(records)
    out.write_bytes(data)
    print(f"wrote {out}: {len(records)} records, {len(data)} bytes")


if __name__ == "__main__":
    main()
