#!/usr/bin/env python3
"""Write small hostile (and a few valid) GGUF files for the loader tests.

Usage:
    python3 test/make_bad_ggufs.py OUTDIR            # the PostgreSQL-level set
    python3 test/make_bad_ggufs.py --seeds OUTDIR    # fuzz seeds (each < 8 KB)

Python 3 standard library only: the files are built byte by byte with
struct, following the GGUF layout (reference/engine-facts.md section 1),
so the script runs anywhere the tests run.

Every file is deterministic (no randomness, no timestamps), so rerunning the
script reproduces them exactly.

Files of the main set and what the loader must say about them:

    tiny_valid.gguf           valid llama model: 2 layers, n_embd 8, F32
                              weights, GPT-2 style byte-level BPE vocab
    tiny_vocab_only.gguf      the same metadata, no tensors (tokenizer only)
    not_gguf.gguf             text                              CORRUPT
    empty.gguf                0 bytes                           CORRUPT
    truncated_header.gguf     cut inside the header             CORRUPT
    truncated_kv.gguf         cut inside a metadata value       CORRUPT
    truncated_tensor_info.gguf cut inside the tensor infos      CORRUPT
    truncated_data.gguf       last tensor's data cut short      CORRUPT
    huge_kv_count.gguf        kv_count 2^63                     CORRUPT
    huge_string_len.gguf      a string of length 2^63           CORRUPT
    huge_array_count.gguf     token array of 2^62 strings       CORRUPT
    bad_offset.gguf           tensor data past the end          CORRUPT
    bad_alignment.gguf        general.alignment = 48            CORRUPT
    deep_nesting.gguf         arrays nested 20 deep             CORRUPT
    unknown_tensor_type.gguf  tensor type 99                    UNSUPPORTED
    unsupported_arch.gguf     valid file, architecture "mamba"  UNSUPPORTED (loadable
                              metadata and vocab: llm_models lists it)
    bad_hparams.gguf          llama with head_count 0           CORRUPT
    version1.gguf             GGUF version 1                    UNSUPPORTED
    duplicate_key.gguf        a key twice                       CORRUPT
"""

import os
import struct
import sys

# GGUF metadata value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)

# ggml tensor types used here
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q4_1, GGML_Q8_0 = 0, 1, 2, 3, 8
BLOCK = {GGML_F32: (1, 4), GGML_F16: (1, 2), GGML_Q4_0: (32, 18),
         GGML_Q4_1: (32, 20), GGML_Q8_0: (32, 34)}

SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i",
              F32: "<f", BOOL: "<?", U64: "<Q", I64: "<q", F64: "<d"}


def gguf_str(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b)) + b


def encode_value(vtype, value):
    """Encode a value body.  Arrays are (elem_type, [values])."""
    if vtype == STRING:
        return gguf_str(value)
    if vtype == ARRAY:
        elem_type, items = value
        out = struct.pack("<IQ", elem_type, len(items))
        return out + b"".join(encode_value(elem_type, v) for v in items)
    return struct.pack(SCALAR_FMT[vtype], value)


class Gguf:
    """A GGUF file under construction."""

    def __init__(self, version=3, alignment=32):
        self.version = version
        self.alignment = alignment
        self.kvs = []         # encoded kv bytes
        self.infos = []       # encoded tensor infos
        self.data = bytearray()

    def kv(self, key, vtype, value):
        self.kvs.append(gguf_str(key) + struct.pack("<I", vtype) + encode_value(vtype, value))

    def kv_raw(self, raw):
        self.kvs.append(raw)

    def tensor(self, name, shape, ttype=GGML_F32, values=None, offset=None):
        """Add a tensor; values (floats) only for F32, else a byte pattern."""
        n = 1
        for d in shape:
            n *= d
        block_elems, block_bytes = BLOCK[ttype]
        nbytes = n // block_elems * block_bytes
        while len(self.data) % self.alignment:
            self.data.append(0)
        real_offset = len(self.data)
        if ttype == GGML_F32:
            if values is None:
                values = [0.0] * n
            self.data += struct.pack("<%df" % n, *values)
        else:
            self.data += bytes((i * 37 + 11) & 0xFF for i in range(nbytes))
        self.infos.append(gguf_str(name) + struct.pack("<I", len(shape)) +
                          b"".join(struct.pack("<Q", d) for d in shape) +
                          struct.pack("<IQ", ttype, real_offset if offset is None else offset))

    def bytes(self, n_tensors=None, n_kv=None):
        out = bytearray(b"GGUF")
        out += struct.pack("<IQQ", self.version,
                           len(self.infos) if n_tensors is None else n_tensors,
                           len(self.kvs) if n_kv is None else n_kv)
        for k in self.kvs:
            out += k
        for t in self.infos:
            out += t
        if self.infos:
            while len(out) % self.alignment:
                out.append(0)
            out += self.data
        return bytes(out)

    def header_and_kv_size(self):
        return 24 + sum(len(k) for k in self.kvs)


# ---------------------------------------------------------------------
# A GPT-2 style byte-level BPE vocabulary
# ---------------------------------------------------------------------

def byte_to_unicode():
    """GPT-2's map from bytes to printable characters (same as its encoder.py)."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) +
                 list(range(0xAE, 0xFF + 1)))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def gpt2_vocab(full_bytes=True):
    """Tokens, token types and merges.  full_bytes=False: a handful only."""
    b2u = byte_to_unicode()
    if full_bytes:
        byte_tokens = [b2u[b] for b in sorted(b2u, key=lambda b: ord(b2u[b]))]
    else:
        byte_tokens = [b2u[b] for b in b"aehilnot "]
    sp = b2u[ord(" ")]
    merges = [(sp, "t"), ("h", "e"), (sp + "t", "he"), ("i", "n"), (sp, "a")]
    tokens = byte_tokens + [a + b for a, b in merges] + ["<|endoftext|>", "<|im_start|>",
                                                         "<|im_end|>"]
    types = [1] * (len(tokens) - 3) + [3, 3, 3]
    return tokens, types, [a + " " + b for a, b in merges]


def add_vocab(g, full_bytes=True):
    tokens, types, merges = gpt2_vocab(full_bytes)
    g.kv("tokenizer.ggml.model", STRING, "gpt2")
    g.kv("tokenizer.ggml.pre", STRING, "gpt-2")
    g.kv("tokenizer.ggml.tokens", ARRAY, (STRING, tokens))
    g.kv("tokenizer.ggml.token_type", ARRAY, (I32, types))
    g.kv("tokenizer.ggml.merges", ARRAY, (STRING, merges))
    eot = tokens.index("<|endoftext|>")
    g.kv("tokenizer.ggml.bos_token_id", U32, tokens.index("<|im_start|>"))
    g.kv("tokenizer.ggml.eos_token_id", U32, tokens.index("<|im_end|>"))
    g.kv("tokenizer.ggml.padding_token_id", U32, eot)
    g.kv("tokenizer.ggml.add_bos_token", BOOL, False)
    g.kv("tokenizer.chat_template", STRING,
         "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
         "{{ message['content'] }}<|im_end|>\n{% endfor %}"
         "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    return len(tokens)


# ---------------------------------------------------------------------
# A tiny llama model
# ---------------------------------------------------------------------

def lcg_floats(n, seed):
    """Deterministic small weights in [-0.5, 0.5)."""
    out = []
    x = seed & 0xFFFFFFFF
    for _ in range(n):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        out.append((x >> 8) / float(1 << 24) - 0.5)
    return out


def tiny_llama(arch="llama", tensors=True, full_bytes=True, hparams=None,
               n_embd=8, n_head=2, n_head_kv=1, n_ff=16, n_layer=2, ttype=GGML_F32):
    g = Gguf()
    hp = {"context_length": 256, "embedding_length": n_embd, "block_count": n_layer,
          "feed_forward_length": n_ff, "attention.head_count": n_head,
          "attention.head_count_kv": n_head_kv}
    if hparams:
        hp.update(hparams)
    g.kv("general.architecture", STRING, arch)
    g.kv("general.name", STRING, "tiny test " + arch)
    g.kv("general.file_type", U32, 0 if ttype == GGML_F32 else {GGML_Q8_0: 7, GGML_Q4_0: 2,
                                                                 GGML_Q4_1: 3}[ttype])
    for k, v in hp.items():
        g.kv(arch + "." + k, U32, v)
    g.kv(arch + ".attention.layer_norm_rms_epsilon", F32, 1e-5)
    g.kv(arch + ".rope.freq_base", F32, 10000.0)
    n_vocab = add_vocab(g, full_bytes)
    g.kv(arch + ".vocab_size", U32, n_vocab)
    if not tensors:
        return g
    hd = n_embd // n_head
    seed = 1

    def mat(name, ne0, ne1, t=ttype):
        nonlocal seed
        seed += 1
        if ne1 == 1:     # norms stay F32, as every quantizer keeps them
            g.tensor(name, [ne0], GGML_F32, [1.0] * ne0)
        elif t == GGML_F32:
            g.tensor(name, [ne0, ne1], GGML_F32, lcg_floats(ne0 * ne1, seed))
        else:
            g.tensor(name, [ne0, ne1], t)

    mat("token_embd.weight", n_embd, n_vocab, GGML_F32 if ttype == GGML_F32 else GGML_Q8_0)
    for layer in range(n_layer):
        p = "blk.%d." % layer
        mat(p + "attn_norm.weight", n_embd, 1)
        mat(p + "attn_q.weight", n_embd, n_head * hd)
        mat(p + "attn_k.weight", n_embd, n_head_kv * hd)
        mat(p + "attn_v.weight", n_embd, n_head_kv * hd)
        mat(p + "attn_output.weight", n_head * hd, n_embd)
        mat(p + "ffn_norm.weight", n_embd, 1)
        mat(p + "ffn_gate.weight", n_embd, n_ff)
        mat(p + "ffn_up.weight", n_embd, n_ff)
        mat(p + "ffn_down.weight", n_ff, n_embd)
    mat("output_norm.weight", n_embd, 1)
    return g


def tensor_info_start(g):
    return g.header_and_kv_size()


# ---------------------------------------------------------------------
# The sets
# ---------------------------------------------------------------------

def hostile_files(full_bytes=True):
    """name -> bytes for the hostile set (plus the valid references)."""
    files = {}
    valid = tiny_llama(full_bytes=full_bytes)
    vb = valid.bytes()
    files["tiny_valid.gguf"] = vb
    files["tiny_vocab_only.gguf"] = tiny_llama(tensors=False, full_bytes=full_bytes).bytes()

    files["not_gguf.gguf"] = b"This is not a GGUF model file, just some text.\n"
    files["empty.gguf"] = b""
    files["truncated_header.gguf"] = vb[:14]
    # cut in the middle of the token array (the largest metadata value)
    tokens_at = vb.find(b"tokenizer.ggml.tokens")
    files["truncated_kv.gguf"] = vb[:tokens_at + 60]
    infos_at = tensor_info_start(valid)
    files["truncated_tensor_info.gguf"] = vb[:infos_at + 40]
    files["truncated_data.gguf"] = vb[:-5]

    small = Gguf()
    small.kv("general.architecture", STRING, "llama")
    small.kv("general.name", STRING, "huge counts")
    files["huge_kv_count.gguf"] = small.bytes(n_kv=1 << 63)

    g = Gguf()
    g.kv("general.architecture", STRING, "llama")
    g.kv_raw(gguf_str("general.name") + struct.pack("<IQ", STRING, 1 << 63) + b"x" * 16)
    files["huge_string_len.gguf"] = g.bytes()

    g = Gguf()
    g.kv("general.architecture", STRING, "llama")
    g.kv_raw(gguf_str("tokenizer.ggml.tokens") + struct.pack("<IIQ", ARRAY, STRING, 1 << 62) +
             gguf_str("a") + gguf_str("b"))
    files["huge_array_count.gguf"] = g.bytes()

    g = Gguf()
    g.kv("general.architecture", STRING, "llama")
    g.tensor("token_embd.weight", [8, 4], GGML_F32, offset=1 << 20)
    files["bad_offset.gguf"] = g.bytes()

    g = Gguf()
    g.kv("general.architecture", STRING, "llama")
    g.kv("general.alignment", U32, 48)
    g.tensor("token_embd.weight", [8, 4], GGML_F32)
    files["bad_alignment.gguf"] = g.bytes()

    g = Gguf()
    g.kv("general.architecture", STRING, "llama")
    nested = (U8, [1])
    for _ in range(19):
        nested = (ARRAY, [nested])
    g.kv("deep.array", ARRAY, nested)
    files["deep_nesting.gguf"] = g.bytes()

    g = Gguf()
    g.kv("general.architecture", STRING, "llama")
    g.infos.append(gguf_str("token_embd.weight") + struct.pack("<IQQIQ", 2, 8, 4, 99, 0))
    g.data += bytes(256)
    files["unknown_tensor_type.gguf"] = g.bytes()

    mamba = Gguf()
    mamba.kv("general.architecture", STRING, "mamba")
    mamba.kv("general.name", STRING, "tiny mamba")
    mamba.kv("general.file_type", U32, 0)
    mamba.kv("mamba.context_length", U32, 1024)
    mamba.kv("mamba.embedding_length", U32, 8)
    mamba.kv("mamba.block_count", U32, 1)
    mamba.kv("mamba.ssm.conv_kernel", U32, 4)
    mamba.kv("mamba.ssm.inner_size", U32, 16)
    mamba.kv("mamba.ssm.state_size", U32, 4)
    mamba.kv("mamba.ssm.time_step_rank", U32, 1)
    mamba.kv("mamba.attention.layer_norm_rms_epsilon", F32, 1e-5)
    n_vocab = add_vocab(mamba, full_bytes)
    mamba.tensor("token_embd.weight", [8, n_vocab], GGML_F32, lcg_floats(8 * n_vocab, 5))
    mamba.tensor("output_norm.weight", [8], GGML_F32, [1.0] * 8)
    files["unsupported_arch.gguf"] = mamba.bytes()

    files["bad_hparams.gguf"] = tiny_llama(full_bytes=full_bytes,
                                           hparams={"attention.head_count": 0}).bytes()

    g = Gguf(version=1)
    g.kv("general.architecture", STRING, "llama")
    files["version1.gguf"] = g.bytes()

    g = Gguf()
    g.kv("general.architecture", STRING, "llama")
    g.kv("general.name", STRING, "one")
    g.kv("general.name", STRING, "two")
    files["duplicate_key.gguf"] = g.bytes()
    return files


def seed_files():
    """Fuzz seeds: the hostile set with a small vocab, plus small valid variants."""
    files = {"hostile_" + k: v for k, v in hostile_files(full_bytes=False).items()}

    g = Gguf()
    g.kv("general.architecture", STRING, "test")
    for vtype, value in [(U8, 200), (I8, -5), (U16, 60000), (I16, -300), (U32, 4000000000),
                         (I32, -7), (F32, 1.5), (BOOL, True), (U64, 1 << 60), (I64, -(1 << 60)),
                         (F64, -2.5), (STRING, "h\u00e9llo")]:
        g.kv("t.scalar%d" % vtype, vtype, value)
    g.kv("t.arr_f32", ARRAY, (F32, [0.5, -1.0, 2.0]))
    g.kv("t.arr_i32", ARRAY, (I32, [1, -2, 3]))
    g.kv("t.arr_str", ARRAY, (STRING, ["a", "", "bc"]))
    g.kv("t.arr_nested", ARRAY, (ARRAY, [(U32, [1, 2]), (STRING, ["x"]), (ARRAY, [(U8, [])])]))
    g.kv("t.arr_empty", ARRAY, (U64, []))
    g.tensor("a", [32, 2], GGML_Q8_0)
    g.tensor("b", [32], GGML_Q4_1)
    g.tensor("c", [4, 2, 2, 1], GGML_F16)
    files["valid_all_types.gguf"] = g.bytes()

    g2 = Gguf(version=2, alignment=64)
    g2.kv("general.architecture", STRING, "llama")
    g2.kv("general.alignment", U32, 64)
    g2.tensor("x", [32, 1, 1], GGML_Q4_0)
    g2.tensor("y", [3], GGML_F32, [1.0, 2.0, 3.0])
    files["valid_v2_align64.gguf"] = g2.bytes()

    files["valid_llama_small.gguf"] = tiny_llama(full_bytes=False, n_embd=4, n_head=2,
                                                 n_head_kv=1, n_ff=4, n_layer=1).bytes()
    # quantized like SmolLM2: Q4_1 matrices, Q8_0 embedding
    files["valid_llama_q4_1.gguf"] = tiny_llama(full_bytes=False, n_embd=32, n_head=1,
                                                n_head_kv=1, n_ff=32, n_layer=1,
                                                ttype=GGML_Q4_1).bytes()
    files["valid_llama_vocab_only.gguf"] = tiny_llama(full_bytes=False, tensors=False).bytes()
    rope = tiny_llama(full_bytes=False, tensors=False)
    rope.kv("llama.rope.scaling.type", STRING, "yarn")
    rope.kv("llama.rope.scaling.factor", F32, 4.0)
    rope.kv("llama.rope.scaling.original_context_length", U32, 32)
    files["valid_llama_rope_scaling.gguf"] = rope.bytes()
    return {k: v for k, v in files.items() if len(v) < 8192}


def main(argv):
    seeds = "--seeds" in argv
    args = [a for a in argv[1:] if a != "--seeds"]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    outdir = args[0]
    os.makedirs(outdir, exist_ok=True)
    files = seed_files() if seeds else hostile_files()
    for name, data in sorted(files.items()):
        with open(os.path.join(outdir, name), "wb") as fp:
            fp.write(data)
    print("wrote %d files to %s (%d bytes)" % (len(files), outdir,
                                               sum(len(d) for d in files.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
