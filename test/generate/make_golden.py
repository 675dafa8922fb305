#!/usr/bin/env python3
"""Make test/generate/golden_smollm2.json: llama.cpp's greedy chat completions.

Developer tool: needs llama-cpp-python (the reference) and numpy.  CI does
not run it; test/t/003_generate.pl compares llm_generate() against the JSON
file this script writes and which is committed.

For each user prompt of prompts.json, exactly as llama-cpp-python's
create_chat_completion() does for this GGUF:

  * the prompt is rendered by Jinja2ChatFormatter from the GGUF's
    tokenizer.chat_template (eos/bos token texts from the vocabulary,
    add_generation_prompt=True) with one user message, and tokenized with
    special=True (so "<|im_start|>" is one token) and add_bos=False (the
    formatter reports added_special=True, so the handler adds no BOS);
  * greedy decoding: the prompt is eval()'d (batches of n_batch), then one
    token at a time; the next token is the argmax of llama.cpp's logits for
    the last position (llama.cpp's greedy sampler: first maximum wins, as
    numpy's argmax), until an end-of-generation token or 64 tokens that are
    not one (create_completion does not count the end-of-generation token).

The same for the message lists of "chats" (llm_chat), and for the "raw"
prompts (llm_generate(..., raw => true)), which are tokenized as
create_completion() tokenizes a string prompt: add_bos=True (llama.cpp adds
BOS only if the GGUF says so; SmolLM2's does not) and special=True.

The loop is ours so that every step's logits are at hand; its text is
checked against create_chat_completion() / create_completion() with
temperature=0 and max_tokens=64 (the other sampling arguments do not
matter at temperature 0: llama-cpp-python then puts only the greedy sampler
after the penalties, whose default repeat_penalty=1.0 is off), and the
script fails on any difference.

Each record (in "prompts", "raw" and "chats"):
  name, prompt|messages from prompts.json
  prompt_ids            the rendered chat prompt's token ids
  gen_ids               the generated ids, the end-of-generation one included
                        when the model ended its turn
  finish                "stop" (end of turn) or "length" (64 tokens)
  text                  the generated text (UTF-8; the end-of-turn token excluded)
  offsets               per step, the byte length of the text after that step
  steps                 per step [chosen id, second-best id, margin], the
                        margin being llama.cpp's top-1 logit minus its
                        second-best logit (the chosen id is always the top-1)
  top                   per step the 5 best [id, logit - top-1 logit]
  pieces                hex of the bytes of every id in gen_ids and top
  fa_margin_max_delta   how far the margin moves, at worst over the steps,
                        when only llama.cpp's summation order changes
                        (flash attention on instead of off, same tokens)
  fa_argmax_differs     steps where llama.cpp with flash attention on picks
                        another token for the same prefix (a near tie
                        llama.cpp itself breaks either way)

The header records the model's sha256, llama_cpp's version, the settings,
and over all steps the distribution of the margins and of the margin's
flash-attention delta: the numbers the test's near-tie threshold rests on.

Usage (from the repository root):
  python3 test/generate/make_golden.py [--model /root/models/SmolLM2-135M-Instruct.Q4_1.gguf]
"""

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import llama_cpp
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = "/root/models/SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = HERE / "golden_smollm2.json"

N_CTX = 2048
N_THREADS = 2
N_BATCH = 512
MAX_TOKENS = 64
TOP_N = 5


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load(path, flash_attn):
    return llama_cpp.Llama(model_path=str(path), n_ctx=N_CTX, n_threads=N_THREADS,
                           n_batch=N_BATCH, logits_all=True, verbose=False, seed=0,
                           flash_attn=flash_attn)


def chat_formatter(llm):
    """The formatter Llama.__init__ builds for the GGUF's chat template."""
    if llm.chat_format != "chat_template.default" or llm.chat_handler is not None:
        sys.exit("llama_cpp chose chat format %r, not the GGUF's template" % llm.chat_format)
    eos_id = llm.token_eos()
    bos_id = llm.token_bos()
    return Jinja2ChatFormatter(
        template=llm.metadata["tokenizer.chat_template"],
        eos_token=llm._model.token_get_text(eos_id) if eos_id != -1 else "",
        bos_token=llm._model.token_get_text(bos_id) if bos_id != -1 else "",
        add_generation_prompt=True,
        stop_token_ids=[eos_id])


def render_and_tokenize(llm, fmt, messages):
    """As chat_formatter_to_chat_completion_handler does."""
    result = fmt(messages=messages)
    ids = llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special,
                       special=True)
    return result.prompt, ids


def is_eog(llm, tok):
    return bool(llama_cpp.llama_vocab_is_eog(llm._model.vocab, tok))


def last_logits(llm):
    return np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)


def greedy(llm, prompt_ids):
    """Our greedy loop: returns (gen_ids, finish, per-step logit rows' summaries)."""
    llm.reset()
    llm.eval(prompt_ids)
    gen, steps, top = [], [], []
    n_text = 0
    finish = "length"
    while n_text < MAX_TOKENS:
        logits = last_logits(llm)
        order = np.argsort(-logits, kind="stable")[:TOP_N]
        tok = int(np.argmax(logits))
        assert tok == int(order[0])
        second = int(order[1])
        steps.append([tok, second, round(float(logits[tok] - logits[second]), 5)])
        top.append([[int(i), round(float(logits[i] - logits[tok]), 5)] for i in order])
        gen.append(tok)
        if is_eog(llm, tok):
            finish = "stop"
            break
        n_text += 1
        if n_text < MAX_TOKENS:
            llm.eval([tok])
    return gen, finish, steps, top


def teacher_forced(llm, prompt_ids, gen_ids, steps):
    """Feed the same tokens to llm (flash attention on); per step the margin
    of the same two ids and llm's own argmax."""
    llm.reset()
    llm.eval(prompt_ids)
    deltas, differs = [], []
    for i, (tok, second, margin) in enumerate(steps):
        logits = last_logits(llm)
        deltas.append(abs(float(logits[tok] - logits[second]) - margin))
        if int(np.argmax(logits)) != tok:
            differs.append(i)
        if i + 1 < len(steps):
            llm.eval([gen_ids[i]])
    return deltas, differs


def piece(llm, tok):
    return llm.detokenize([tok], special=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.environ.get("LLM_TEST_MODEL", DEFAULT_MODEL))
    ap.add_argument("--prompts", default=str(HERE / "prompts.json"))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()

    spec = json.load(open(args.prompts, encoding="utf-8"))
    llm = load(args.model, flash_attn=False)
    llm_fa = load(args.model, flash_attn=True)
    fmt = chat_formatter(llm)

    records = {"prompts": [], "raw": [], "chats": []}
    all_margins, all_deltas = [], []
    problems = []
    inputs = [("prompts", p["name"], p["prompt"], [{"role": "user", "content": p["prompt"]}])
              for p in spec["prompts"]]
    inputs += [("raw", p["name"], p["prompt"], None) for p in spec["raw"]]
    inputs += [("chats", c["name"], None, c["messages"]) for c in spec["chats"]]
    for kind, name, prompt, messages in inputs:
        if kind == "raw":
            # as create_completion() tokenizes a str prompt
            prompt_ids = llm.tokenize(prompt.encode("utf-8"), special=True)
        else:
            _, prompt_ids = render_and_tokenize(llm, fmt, messages)
        gen, finish, steps, top = greedy(llm, prompt_ids)

        text_ids = gen[:-1] if finish == "stop" else gen
        text_bytes = llm.detokenize(text_ids, special=False)
        try:
            text = text_bytes.decode("utf-8")
        except UnicodeDecodeError:
            # a cut in the middle of a character: llama-cpp-python drops
            # the incomplete bytes; the test cannot compare such a prompt
            problems.append("%s: the text ends inside a UTF-8 character" % name)
            text = text_bytes.decode("utf-8", errors="ignore")
        for t in text_ids:
            if llm._model.token_get_attr(t) & llama_cpp.LLAMA_TOKEN_ATTR_CONTROL:
                problems.append("%s: a control token %d inside the text" % (name, t))

        offsets, n = [], 0
        for i, t in enumerate(gen):
            if i < len(text_ids):  # the end-of-turn token adds no text
                n += len(piece(llm, t))
            offsets.append(n)
        assert n == len(text_bytes)

        # llama-cpp-python's own API, greedy, must give the same text
        def reference(**kw):
            llm.reset()
            if kind == "raw":
                r = llm.create_completion(prompt=prompt, max_tokens=MAX_TOKENS, **kw)
                return r["choices"][0]["text"], r["usage"]["prompt_tokens"]
            r = llm.create_chat_completion(messages=messages, max_tokens=MAX_TOKENS, **kw)
            return r["choices"][0]["message"]["content"], r["usage"]["prompt_tokens"]

        ref_text, ref_n = reference(temperature=0.0, repeat_penalty=1.0)
        if ref_text != text or ref_n != len(prompt_ids):
            problems.append("%s: llama-cpp-python's API differs from our loop:\n  ours %r\n  its  %r"
                            % (name, text, ref_text))

        deltas, fa_differs = teacher_forced(llm_fa, prompt_ids, gen, steps)
        all_margins += [s[2] for s in steps]
        all_deltas += deltas

        ids_seen = sorted({t for t in gen} | {e[0] for row in top for e in row})
        rec = {"name": name}
        if kind == "chats":
            rec["messages"] = messages
        else:
            rec["prompt"] = prompt
        rec.update({
            "prompt_ids": prompt_ids,
            "gen_ids": gen,
            "finish": finish,
            "text": text,
            "offsets": offsets,
            "steps": steps,
            "top": top,
            "pieces": {str(t): piece(llm, t).hex() for t in ids_seen},
            "fa_margin_max_delta": round(max(deltas), 5),
            "fa_argmax_differs": fa_differs,
        })
        records[kind].append(rec)
        print("%-6s %-18s prompt %4d tokens, %2d generated (%s), min margin %.3f, fa delta %.3f%s"
              % (kind, name, len(prompt_ids), len(gen), finish, min(s[2] for s in steps),
                 max(deltas), ", fa argmax differs at %s" % fa_differs if fa_differs else ""),
              flush=True)

    margins = np.array(all_margins)
    deltas = np.array(all_deltas)
    doc = {
        "description": "llama.cpp's greedy chat completions of test/generate/prompts.json "
                       "with their per-step margins; made by test/generate/make_golden.py",
        "model_file": os.path.basename(args.model),
        "model_sha256": sha256_of(args.model),
        "llama_cpp_python": llama_cpp.__version__,
        "settings": {"n_ctx": N_CTX, "n_threads": N_THREADS, "n_batch": N_BATCH,
                     "logits_all": True, "flash_attn": False, "kv_cache": "f16",
                     "max_tokens": MAX_TOKENS, "add_bos": False, "special": True,
                     "decoding": "greedy (argmax), no repeat penalty"},
        "chat_template": fmt.template,
        "statistics": {
            "steps": int(margins.size),
            "margin_quantiles": {q: round(float(np.quantile(margins, float(q))), 4)
                                 for q in ("0.01", "0.05", "0.1", "0.5")},
            "steps_with_margin_below": {t: int((margins < float(t)).sum())
                                        for t in ("0.1", "0.25", "0.5", "1.0")},
            "fa_margin_delta_quantiles": {q: round(float(np.quantile(deltas, float(q))), 4)
                                          for q in ("0.5", "0.9", "0.99", "1.0")},
            # with flash attention on, llama.cpp's greedy text would part
            # from its own at the first such step: how many inputs keep it
            "prompts_whose_greedy_text_fa_keeps": "%d/%d" % (
                sum(1 for r in records["prompts"] if not r["fa_argmax_differs"]),
                len(records["prompts"])),
            "inputs_where_fa_argmax_differs": sum(1 for k in records for r in records[k]
                                                  if r["fa_argmax_differs"]),
            "largest_margin_where_fa_argmax_differs": max(
                [r["steps"][i][2] for k in records for r in records[k]
                 for i in r["fa_argmax_differs"]], default=0.0),
        },
        "prompts": records["prompts"],
        "raw": records["raw"],
        "chats": records["chats"],
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(json.dumps(doc["statistics"], indent=1))
    print("wrote %s (%d bytes)" % (args.out, os.path.getsize(args.out)))
    if problems:
        print("PROBLEMS:\n" + "\n".join(problems), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
