#!/usr/bin/env python3
"""Make the golden token ids for test/tokenizer/corpus.json with llama.cpp.

    python3 test/tokenizer/make_golden.py [MODEL.gguf] [OUT.tsv]

MODEL.gguf defaults to /root/models/SmolLM2-135M-Instruct.Q4_1.gguf and
OUT.tsv to smollm2_golden.tsv next to this script.  The corpus is always
corpus.json next to this script.

Each corpus string is tokenized by llama.cpp (through llama-cpp-python) the
way our tests call our own tokenizer: no BOS/EOS added, special-token text
treated as plain text.  The output has one line per corpus string, in corpus
order:

    <lowercase hex of the UTF-8 bytes> TAB <ids separated by single spaces>

The empty string is a line holding just a TAB.  Lines starting with '#' are
comments (model sha256, llama_cpp version, date, corpus sha256).

llama-cpp-python is a development tool only: nothing in the build or the test
suite needs it; the TSV it writes is committed.
"""

import datetime
import hashlib
import json
import os
import sys

import llama_cpp

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = "/root/models/SmolLM2-135M-Instruct.Q4_1.gguf"
CORPUS = os.path.join(HERE, "corpus.json")
DEFAULT_OUT = os.path.join(HERE, "smollm2_golden.tsv")


def sha256_of_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gpt2_unicode_to_byte():
    """Inverse of GPT-2's bytes_to_unicode: vocab character -> byte value."""
    printable = (list(range(ord("!"), ord("~") + 1))
                 + list(range(ord("\u00a1"), ord("\u00ac") + 1))
                 + list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def load_gguf_vocab(path):
    """Token texts and types straight from the GGUF (gguf package), or None."""
    try:
        from gguf import GGUFReader
    except ImportError:
        return None
    reader = GGUFReader(path)
    fields = reader.fields
    tokens = fields["tokenizer.ggml.tokens"].contents()
    types = fields["tokenizer.ggml.token_type"].contents()
    meta = {}
    for key in ("tokenizer.ggml.model", "tokenizer.ggml.pre",
                "tokenizer.ggml.add_bos_token", "tokenizer.ggml.bos_token_id",
                "tokenizer.ggml.eos_token_id"):
        if key in fields:
            meta[key] = fields[key].contents()
    return tokens, types, meta


def main():
    model_path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    out_path = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_OUT

    with open(CORPUS, "rb") as f:
        corpus_bytes = f.read()
    corpus = json.loads(corpus_bytes.decode("utf-8"))
    if not isinstance(corpus, list) or not all(isinstance(s, str) for s in corpus):
        sys.exit("corpus.json must be a JSON array of strings")

    llm = llama_cpp.Llama(model_path=model_path, vocab_only=True, verbose=False)
    bos = llm.token_bos()
    eos = llm.token_eos()

    gguf_vocab = load_gguf_vocab(model_path)
    if gguf_vocab is not None:
        vocab_tokens, vocab_types, meta = gguf_vocab
        if len(vocab_tokens) != llm.n_vocab():
            sys.exit("gguf vocab size %d != llama.cpp n_vocab %d"
                     % (len(vocab_tokens), llm.n_vocab()))
        # token_type 1 = normal; everything else (control, user-defined,
        # unknown, unused, byte) must never come out of plain-text tokenizing
        # for this byte-level BPE vocabulary.
        non_normal = {i for i, t in enumerate(vocab_types) if t != 1}
        u2b = gpt2_unicode_to_byte()
        print("gguf: %d tokens, %d not normal, %s"
              % (len(vocab_tokens), len(non_normal), meta))
    else:
        print("gguf package not installed: skipping the vocabulary cross-check")

    lines = []
    total = 0
    not_roundtrip = []
    problems = []
    for index, text in enumerate(corpus):
        data = text.encode("utf-8")
        ids = llm.tokenize(data, add_bos=False, special=False)
        total += len(ids)

        # No BOS/EOS or any other special token may sneak in.
        if bos in ids or eos in ids:
            problems.append("#%d: BOS/EOS id in %r" % (index, ids[:8]))
        if gguf_vocab is not None:
            bad = [i for i in ids if i in non_normal]
            if bad:
                problems.append("#%d: non-normal token ids %r" % (index, bad))
            # Independent decode: GGUF token texts mapped back through the
            # GPT-2 byte table must give the input bytes exactly.
            try:
                decoded = bytes(u2b[ch] for i in ids for ch in vocab_tokens[i])
            except KeyError:
                decoded = None

        detok = llm.detokenize(ids)
        if detok != data:
            not_roundtrip.append(index)
        if gguf_vocab is not None and decoded != detok:
            problems.append("#%d: gguf-vocab decode differs from llama.cpp detokenize"
                            % index)

        lines.append("%s\t%s\n" % (data.hex(), " ".join(str(i) for i in ids)))

    header = [
        "# Golden token ids for test/tokenizer/corpus.json, made by make_golden.py",
        "# model: %s" % os.path.basename(model_path),
        "# model sha256: %s" % sha256_of_file(model_path),
        "# corpus sha256: %s" % hashlib.sha256(corpus_bytes).hexdigest(),
        "# llama_cpp version: %s" % llama_cpp.__version__,
        "# date: %s" % datetime.date.today().isoformat(),
        "# tokenize(add_bos=False, special=False): no BOS/EOS, special-token text is plain text",
        "# format: hex of the UTF-8 bytes TAB ids separated by spaces; one line per corpus string, in order",
        "# strings: %d, tokens: %d" % (len(corpus), total),
    ]
    with open(out_path, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(header) + "\n")
        f.writelines(lines)

    print("strings: %d" % len(corpus))
    print("tokens:  %d" % total)
    print("llama_cpp: %s" % llama_cpp.__version__)
    print("wrote %s" % out_path)
    if not_roundtrip:
        print("llama.cpp detokenize did not round-trip %d strings:" % len(not_roundtrip))
        for index in not_roundtrip:
            print("  #%d %r" % (index, corpus[index][:60]))
    else:
        print("llama.cpp detokenize round-trips every string")
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print("  " + p)
        sys.exit(1)


if __name__ == "__main__":
    main()
