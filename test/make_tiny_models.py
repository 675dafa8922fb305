#!/usr/bin/env python3
"""Write tiny random-weight llama-architecture GGUF models for the engine's
forward-pass tests.

Usage:  python3 test/make_tiny_models.py OUTDIR [NAME ...]

Writes OUTDIR/tiny-llama-<name>.gguf for each name (default: all):
  f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q5_k q6_k
      every matrix in that type, norms in F32, output tied to token_embd
  untied   F32, with a separate output.weight
  bias     F32, with attn_q/k/v/output biases (optional llama tensors)
  mixed    a different type per tensor, like a real Q4_K_M file: token_embd
           Q8_0, attn_q Q4_K, attn_k Q5_K, attn_v Q6_K, attn_output Q5_0,
           ffn_gate Q4_1, ffn_up Q5_1, ffn_down Q4_0, output (untied) Q6_K

Shapes: n_layer 2, n_head 4, n_head_kv 2 (GQA), rope base 10000, rms eps
1e-5, context 256.  K-quant super-blocks are 256 wide, so every row length
must be a multiple of 256 for q4_k/q5_k/q6_k/mixed: those use n_embd 256,
n_ff 256 (head_dim 64).  The rest use n_embd 64, n_ff 128 (head_dim 16),
which keeps the F32 file near 400 KB.  Files are 0.1-0.8 MB.

Vocabulary: byte-level BPE (tokenizer.ggml.model "gpt2", pre "smollm"), laid
out like SmolLM2's: 0 <|endoftext|>, 1 <|im_start|>, 2 <|im_end|> (control
tokens), then the 256 byte tokens in byte order (GPT-2 bytes_to_unicode
spelling), then one token per merge.  bos 1, eos 2, add_bos false, and
SmolLM2's chat template.

Weights are random (fixed seed per model) and scaled so that activations
stay O(1): projections ~ N(0, 1/fan_in), norms ~ 1 + N(0, 0.1^2), token
embeddings ~ N(0, 0.1^2), output_norm ~ 4 * (1 + N(0, 0.1^2)).  Types
gguf-py can quantize (F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) go through
gguf.quants.quantize; the K-quants, which gguf-py can only dequantize, are
quantized by the simple round-to-nearest quantizers below (not ggml's
search-based ones; any valid block is fine for a test model), and each
result is checked by dequantizing it with gguf-py.

Needs numpy and gguf (pip install numpy gguf).
"""

import sys
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import quants

QK_K = 256

CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# Merges in rank order; each operand exists by the time it is used.
MERGES = [
    "Ġ t", "Ġ a", "h e", "i n", "r e", "o n", "Ġt he", "e r", "Ġ s", "a t",
    "Ġ w", "Ġ o", "e n", "Ġ c", "i t", "i s", "a n", "o r", "e s", "Ġ b",
    "e d", "Ġ f", "in g", "Ġ p", "o u", "Ġa n", "a l", "Ġt o", "Ġ m", "Ġo f",
    "Ġ in", "Ġ d", "Ġ h", "Ġan d", "l l", "Ġ he", "Ġhe ll", "Ġhell o",
    "H e", "He ll", "Hell o", "Ġw or", "Ġwor l", "Ġworl d",
]

SMALL = dict(n_embd=64, n_ff=128)
WIDE = dict(n_embd=256, n_ff=256)
COMMON = dict(n_layer=2, n_head=4, n_head_kv=2, n_ctx=256, rope_base=10000.0, eps=1e-5)

FILE_TYPES = {
    T.F32: gguf.LlamaFileType.ALL_F32, T.F16: gguf.LlamaFileType.MOSTLY_F16,
    T.BF16: gguf.LlamaFileType.MOSTLY_BF16, T.Q8_0: gguf.LlamaFileType.MOSTLY_Q8_0,
    T.Q4_0: gguf.LlamaFileType.MOSTLY_Q4_0, T.Q4_1: gguf.LlamaFileType.MOSTLY_Q4_1,
    T.Q5_0: gguf.LlamaFileType.MOSTLY_Q5_0, T.Q5_1: gguf.LlamaFileType.MOSTLY_Q5_1,
    T.Q4_K: gguf.LlamaFileType.MOSTLY_Q4_K_S, T.Q5_K: gguf.LlamaFileType.MOSTLY_Q5_K_S,
    T.Q6_K: gguf.LlamaFileType.MOSTLY_Q6_K,
}


# ---------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------

def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def build_vocab():
    byte_chars = bytes_to_unicode()
    tokens = list(SPECIAL_TOKENS) + [byte_chars[b] for b in range(256)]
    known = set(tokens)
    for merge in MERGES:
        left, right = merge.split(" ")
        assert left in known and right in known, merge
        assert left + right not in known, merge
        tokens.append(left + right)
        known.add(left + right)
    types = [gguf.TokenType.CONTROL] * len(SPECIAL_TOKENS) + \
        [gguf.TokenType.NORMAL] * (len(tokens) - len(SPECIAL_TOKENS))
    return tokens, types


# ---------------------------------------------------------------------------
# K-quant quantizers (layouts: ggml-common.h block_q4_K / q5_K / q6_K)
# ---------------------------------------------------------------------------

def _f16(x):
    """Round to half precision and back, so scales are what the file holds."""
    return np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32)


def _safe_div(a, b):
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape, dtype=np.float32), where=b != 0)


def _pack_k_scales(sc, mn):
    """8 six-bit scales and mins per block -> the 12-byte packed form."""
    sc = sc.astype(np.uint8)
    mn = mn.astype(np.uint8)
    out = np.zeros((sc.shape[0], 12), dtype=np.uint8)
    out[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    out[:, 4:8] = mn[:, 0:4] | ((mn[:, 4:8] >> 4) << 6)
    out[:, 8:12] = (sc[:, 4:8] & 15) | ((mn[:, 4:8] & 15) << 4)
    return out


def _quantize_k_affine(rows, bits):
    """Q4_K (bits 4) / Q5_K (bits 5): x ~ (d*sc[s])*q - (dmin*m[s]) per
    sub-block s of 32, q in [0, 2^bits)."""
    qmax = (1 << bits) - 1
    x = rows.reshape(-1, 8, 32).astype(np.float32)
    nb = x.shape[0]
    lo = np.minimum(x.min(axis=2), 0)                 # offsets are <= 0
    hi = x.max(axis=2)
    sub_scale = (hi - lo) / qmax
    d = _f16(sub_scale.max(axis=1) / 63)
    dmin = _f16((-lo).max(axis=1) / 63)
    sc = np.clip(np.rint(_safe_div(sub_scale, d[:, None])), 0, 63)
    mn = np.clip(np.rint(_safe_div(-lo, dmin[:, None])), 0, 63)
    eff_scale = (d[:, None] * sc)[:, :, None]
    eff_min = (dmin[:, None] * mn)[:, :, None]
    q = np.clip(np.rint(_safe_div(x + eff_min, eff_scale)), 0, qmax).astype(np.uint8)

    # qs: chunk c of 32 bytes = sub-block 2c (low nibble) | 2c+1 (high nibble)
    q4 = (q & 15).reshape(nb, 4, 2, 32)
    qs = (q4[:, :, 0, :] | (q4[:, :, 1, :] << 4)).reshape(nb, 128)
    head = np.concatenate([d.astype("<f2").view(np.uint8).reshape(nb, 2),
                           dmin.astype("<f2").view(np.uint8).reshape(nb, 2),
                           _pack_k_scales(sc, mn)], axis=1)
    if bits == 4:
        return np.concatenate([head, qs], axis=1)
    # qh[l] bit s = 5th bit of value l of sub-block s
    qh = np.zeros((nb, 32), dtype=np.uint8)
    for s in range(8):
        qh |= ((q[:, s, :] >> 4) & 1) << s
    return np.concatenate([head, qh, qs], axis=1)


def _quantize_q6_k(rows):
    """Q6_K: x ~ (d*scales[g])*(q-32) per group g of 16, q in [0, 64)."""
    x = rows.reshape(-1, 16, 16).astype(np.float32)
    nb = x.shape[0]
    group_scale = np.abs(x).max(axis=2) / 31
    d = _f16(group_scale.max(axis=1) / 127)
    sc = np.clip(np.rint(_safe_div(group_scale, d[:, None])), -128, 127)
    eff = (d[:, None] * sc)[:, :, None]
    q = (np.clip(np.rint(_safe_div(x, eff)), -32, 31) + 32).astype(np.uint8)

    # per half h of 128: value 32k + l -> ql[64h + l + 32(k&1)] (low nibble
    # for k<2, high for k>=2), qh[32h + l] bits 2k..2k+1
    q = q.reshape(nb, 2, 4, 32)
    ql = np.concatenate([(q[:, :, 0] & 15) | ((q[:, :, 2] & 15) << 4),
                         (q[:, :, 1] & 15) | ((q[:, :, 3] & 15) << 4)], axis=2).reshape(nb, 128)
    qh = np.zeros((nb, 2, 32), dtype=np.uint8)
    for k in range(4):
        qh |= (q[:, :, k] >> 4) << (2 * k)
    return np.concatenate([ql, qh.reshape(nb, 64), sc.astype(np.int8).view(np.uint8),
                           d.astype("<f2").view(np.uint8).reshape(nb, 2)], axis=1)


def quantize(w, qtype):
    """2-D float32 weights -> array to hand to GGUFWriter.add_tensor."""
    if qtype == T.F32:
        return w.astype(np.float32)
    if qtype == T.F16:
        return w.astype(np.float16)
    if qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
        rows = w.reshape(-1, QK_K)
        blocks = _quantize_q6_k(rows) if qtype == T.Q6_K else \
            _quantize_k_affine(rows, 4 if qtype == T.Q4_K else 5)
        out = np.ascontiguousarray(blocks).reshape(w.shape[0], -1)
    else:
        out = quants.quantize(w, qtype)
    # every quantized tensor must decode (by gguf-py) close to what we meant
    back = quants.dequantize(out, qtype).reshape(w.shape)
    err = np.sqrt(np.mean((back - w) ** 2)) / max(np.sqrt(np.mean(w ** 2)), 1e-12)
    assert err < 0.2, f"{qtype.name}: relative RMS error {err:.3f}"
    return out


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

def uniform_types(t):
    return {k: t for k in ("token_embd", "output", "attn_q", "attn_k", "attn_v",
                           "attn_output", "ffn_gate", "ffn_up", "ffn_down")}


MIXED_TYPES = {
    "token_embd": T.Q8_0, "output": T.Q6_K, "attn_q": T.Q4_K, "attn_k": T.Q5_K,
    "attn_v": T.Q6_K, "attn_output": T.Q5_0, "ffn_gate": T.Q4_1, "ffn_up": T.Q5_1,
    "ffn_down": T.Q4_0,
}

TYPE_NAMES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
              "q4_k", "q5_k", "q6_k"]


def model_spec(name):
    """(types per tensor, shape dict, untied output?, attention biases?)"""
    if name in TYPE_NAMES:
        t = T[name.upper()]
        shape = WIDE if t in (T.Q4_K, T.Q5_K, T.Q6_K) else SMALL
        return uniform_types(t), FILE_TYPES[t], dict(COMMON, **shape), False, False
    if name == "untied":
        return uniform_types(T.F32), FILE_TYPES[T.F32], dict(COMMON, **SMALL), True, False
    if name == "bias":
        return uniform_types(T.F32), FILE_TYPES[T.F32], dict(COMMON, **SMALL), False, True
    if name == "mixed":
        return MIXED_TYPES, gguf.LlamaFileType.MOSTLY_Q4_K_M, dict(COMMON, **WIDE), True, False
    raise SystemExit(f"unknown model name {name!r}; known: {' '.join(ALL_NAMES)}")


ALL_NAMES = TYPE_NAMES + ["untied", "bias", "mixed"]


def write_model(path, name, seed):
    types, file_type, hp, untied, biases = model_spec(name)
    rng = np.random.default_rng(seed)
    tokens, token_types = build_vocab()
    n_vocab = len(tokens)
    n_embd, n_ff = hp["n_embd"], hp["n_ff"]
    n_head, n_head_kv = hp["n_head"], hp["n_head_kv"]
    head_dim = n_embd // n_head

    def matrix(rows, cols, std):
        return (rng.standard_normal((rows, cols)) * std).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    def vector(n, std):
        return (rng.standard_normal(n) * std).astype(np.float32)

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(f"tiny-llama-{name}")
    w.add_file_type(int(file_type))
    w.add_context_length(hp["n_ctx"])
    w.add_embedding_length(n_embd)
    w.add_block_count(hp["n_layer"])
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_layer_norm_rms_eps(hp["eps"])
    w.add_rope_freq_base(hp["rope_base"])
    w.add_rope_dimension_count(head_dim)
    w.add_vocab_size(n_vocab)

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types([int(t) for t in token_types])
    w.add_token_merges(MERGES)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)

    def add(tensor_name, kind, data):
        t = types[kind]
        w.add_tensor(tensor_name, quantize(data, t), raw_dtype=t if t not in (T.F32, T.F16) else None)

    # numpy shape (rows, cols) = GGUF dims (ne1, ne0): each row one output
    # Small embeddings: the residual stream is then dominated by what the
    # layers add, so the logits depend on the whole context (with large tied
    # embeddings a random model just echoes its last input token, and a
    # forward pass that skipped the layers would go unnoticed).  The final
    # norm's gain of 4 spreads the logits (std ~3-6) so greedy picks are
    # decisive.
    add("token_embd.weight", "token_embd", matrix(n_vocab, n_embd, 0.1))
    w.add_tensor("output_norm.weight", 4.0 * norm(n_embd))
    if untied:
        add("output.weight", "output", matrix(n_vocab, n_embd, 1.0 / np.sqrt(n_embd)))
    for i in range(hp["n_layer"]):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", norm(n_embd))
        add(p + "attn_q.weight", "attn_q", matrix(n_head * head_dim, n_embd, 1 / np.sqrt(n_embd)))
        add(p + "attn_k.weight", "attn_k", matrix(n_head_kv * head_dim, n_embd, 1 / np.sqrt(n_embd)))
        add(p + "attn_v.weight", "attn_v", matrix(n_head_kv * head_dim, n_embd, 1 / np.sqrt(n_embd)))
        add(p + "attn_output.weight", "attn_output",
            matrix(n_embd, n_head * head_dim, 1 / np.sqrt(n_head * head_dim)))
        if biases:
            w.add_tensor(p + "attn_q.bias", vector(n_head * head_dim, 0.5))
            w.add_tensor(p + "attn_k.bias", vector(n_head_kv * head_dim, 0.5))
            w.add_tensor(p + "attn_v.bias", vector(n_head_kv * head_dim, 0.5))
            w.add_tensor(p + "attn_output.bias", vector(n_embd, 0.5))
        w.add_tensor(p + "ffn_norm.weight", norm(n_embd))
        add(p + "ffn_gate.weight", "ffn_gate", matrix(n_ff, n_embd, 1 / np.sqrt(n_embd)))
        add(p + "ffn_up.weight", "ffn_up", matrix(n_ff, n_embd, 1 / np.sqrt(n_embd)))
        add(p + "ffn_down.weight", "ffn_down", matrix(n_embd, n_ff, 1 / np.sqrt(n_ff)))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2 if len(argv) < 2 else 0
    outdir = Path(argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    names = argv[2:] or ALL_NAMES
    for name in names:
        path = outdir / f"tiny-llama-{name}.gguf"
        write_model(path, name, seed=1000 + ALL_NAMES.index(name) if name in ALL_NAMES else 0)
        print(f"{path} {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
