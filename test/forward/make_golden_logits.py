#!/usr/bin/env python3
"""Make the golden logits the forward-pass tests compare against.

Developer tool: needs llama-cpp-python (the reference), numpy and gguf.
CI does not run it; it runs test/engine/test_forward.c against the JSON
files this script writes and which are committed:

  test/forward/golden_smollm2.json   (--model PATH)
      For each prompt of PROMPTS below (raw text, and chats rendered with the
      model's own chat template): the token ids (llama.cpp's tokenizer), the
      top-200 last-position logits (id, value), summary statistics of the
      whole last-position row, the whole row as float16/base64 for the first
      FULL_ROWS prompts, and llama.cpp's greedy continuation (up to 64
      tokens, stopping after an end-of-generation token).  Also, per prompt,
      how far llama.cpp moves from itself when only its summation order
      changes (flash attention on vs off): the noise floor any other
      implementation is measured against.

  test/forward/golden_tiny.json      (--tiny)
      Runs test/make_tiny_models.py twice into temporary directories, checks
      the files are byte-identical (the test regenerates them and compares
      sha256), and for each file and TINY_PROMPTS stores llama.cpp's
      last-position logits and those of an independent float64 numpy
      implementation of the llama graph (weights dequantised by gguf-py).

llama.cpp settings: Llama(model_path, n_ctx=2048 (256 for tiny models),
logits_all=True, n_threads=2, n_batch=512), flash attention off, f16 KV
cache (the llama-cpp-python defaults), eval() of the token ids.

Usage:
  python3 test/forward/make_golden_logits.py --model /root/models/SmolLM2-135M-Instruct.Q4_1.gguf
  python3 test/forward/make_golden_logits.py --tiny
"""

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

N_CTX = 2048
N_BATCH = 512
N_THREADS = 2
TOP_K = 200
FULL_ROWS = 6			# prompts whose whole logit row is stored (f16)
N_CONTINUE = 64

# ---------------------------------------------------------------------------
# Prompts.  "raw": the text is tokenized as is (special tokens not parsed);
# "chat": a list of (role, content) rendered with the GGUF's chat template
# (add_generation_prompt) and tokenized with special tokens parsed.
# ---------------------------------------------------------------------------

LONG_THREAD = """From: Maria Lopez <maria.lopez@example.com>
To: support@cloudvault.example
Subject: Re: Re: Sync keeps failing after the 4.2 update (ticket #58213)

Hi again,

Thanks for the quick reply yesterday. I tried everything you suggested and unfortunately the problem is still there, so here is a more complete description.

Since updating the desktop client to version 4.2.1 on Monday, the sync stops every few minutes with the message "Conflict detected: remote file changed during upload". It happens on both of my machines (a Windows 11 laptop and an older iMac running macOS 12). Before the update everything worked fine for two years.

What I have tried so far: signing out and back in on both machines, clearing the local cache folder as described in your help article, excluding the "Projects/Archive" folder (about 40,000 small files), and reinstalling the client on the laptop.

None of this helped. The log file shows the same error for files that nobody else is editing, including PDFs that have not changed in months. My team of six people shares the "Projects" folder, and two of my colleagues report the same issue since they updated.

We have a client deadline on Friday, so this is becoming urgent. Could you please escalate the ticket, or tell me how to roll back to version 4.1.8 safely without losing the files that are waiting to be uploaded?

I have attached the last 500 lines of the sync log and a screenshot of the error.

Best regards,
Maria Lopez
Office manager, Lopez & Partners Architects
Phone: +34 612 345 678

> On Tuesday, support@cloudvault.example wrote:
> Hello Maria, thank you for contacting CloudVault support. Please sign out of the desktop client, clear the cache folder, and sign in again. If the problem persists, reply to this email with your sync log.
"""

POLICY = """Refund and cancellation policy (summary for support agents)

Monthly plans can be cancelled at any time from the Billing page. The cancellation takes effect at the end of the current billing period and no partial refunds are given for unused days, except in the cases listed below.

Annual plans can be cancelled within 30 days of purchase for a full refund. After 30 days, customers may cancel, but the refund is prorated: they receive the unused months minus a 10% administration fee. Customers who were charged twice because of a payment error always receive a full refund of the duplicate charge, regardless of the plan.

Agents may grant a one-time goodwill credit of up to 20 EUR without approval when a service outage lasted more than 4 hours. Anything above that amount needs approval from a team lead. Refunds are returned to the original payment method within 5 to 10 business days. We do not refund to a different card or bank account.

When a customer asks for a refund, the agent must check the plan type, the purchase date and the payment history, then reply using the template "Refund confirmation" or "Refund declined", always explaining the reason in one or two sentences.
"""

PROMPTS = [
    ("single_token", "raw", "Hello"),
    ("single_special", "chat_raw", "<|im_start|>"),
    ("greeting", "raw", "Hi there! How"),
    ("capital", "chat", [("user", "What is the capital of France?")]),
    ("ticket_order", "raw",
     "Dear support team, I ordered a laptop two weeks ago and it still hasn't arrived. "
     "My order number is 48213. Could you please check the status?"),
    ("ticket_order_chat", "chat",
     [("user", "Dear support team, I ordered a laptop two weeks ago and it still hasn't arrived. "
       "My order number is 48213. Could you please check the status?")]),
    ("refund_email", "raw",
     "Subject: Refund request\n\nHello, I was charged twice for my subscription this month "
     "(invoice INV-2024-0391). Please refund the duplicate charge of 12.99 EUR.\n\nThanks,\nDavid"),
    ("classify_sentiment", "raw",
     "Classify the sentiment of this review as positive or negative.\n"
     "Review: \"The battery died after two days and support never answered my emails.\"\n"
     "Sentiment:"),
    ("classify_chat", "chat",
     [("system", "You classify customer support tickets into one of: billing, shipping, technical, account, other. "
       "Answer with the category only."),
      ("user", "I can't log in since I changed my phone, the two-factor code never arrives.")]),
    ("summarize_email", "chat",
     [("system", "You are a helpful assistant."),
      ("user", "Summarize this email in one sentence: Hi Tom, the meeting moved to Thursday at 3pm because "
       "the client asked for more time to review the proposal. Please update the slides before then "
       "and send them to me by Wednesday noon. Thanks, Ana")]),
    ("extract_json", "chat",
     [("user", "Extract the customer name, order number and problem from this message as JSON with keys "
       "name, order, problem:\n\n\"Hello, this is Priya Raman. My order 77-1204 arrived with a cracked screen. "
       "I would like a replacement, not a refund.\"")]),
    ("instruction_list", "raw",
     "Write three short tips for writing a clear bug report:\n1."),
    ("code_python", "raw", "def fibonacci(n):\n    if n < 2:\n        return n\n    return"),
    ("sql_question", "chat",
     [("user", "Write a SQL query that returns the ten customers with the highest total order amount "
       "from tables customers(id, name) and orders(id, customer_id, amount).")]),
    ("reply_draft", "chat",
     [("system", "You are a polite customer support agent for an online bookshop."),
      ("user", "A customer writes: 'My package was marked as delivered yesterday but I never received it. "
       "What should I do?' Draft a short reply.")]),
    ("multi_turn", "chat",
     [("user", "My printer shows error E-05. What does it mean?"),
      ("assistant", "Error E-05 usually means a paper jam in the rear tray. Open the rear cover and remove any stuck paper."),
      ("user", "I did that, but the error is still there after restarting.")]),
    ("numbers", "raw", "Invoice total: 1,284.50 EUR (VAT 21% included). Net amount: 1,061.57 EUR. VAT amount:"),
    ("translation", "chat",
     [("user", "Translate to French: 'Your subscription has been renewed. Thank you for staying with us.'")]),
    ("policy_question", "chat",
     [("system", POLICY),
      ("user", "A customer on an annual plan bought 45 days ago wants to cancel. What refund do they get?")]),
    ("policy_raw", "raw", POLICY + "\nQuestion: Can an agent refund to a different card?\nAnswer:"),
    ("long_thread_summary", "chat",
     [("user", "Summarize the following support email in three bullet points and suggest the next step.\n\n"
       + LONG_THREAD)]),
    ("long_thread_raw", "raw", LONG_THREAD + "\nInternal note from the support agent:"),
    ("long_thread_reply", "chat",
     [("system", "You are a senior support engineer at CloudVault. Be concise and specific."),
      ("user", LONG_THREAD + "\nWrite the reply to Maria. Explain how to roll back to 4.1.8 safely.")]),
    ("unicode", "raw", "Café déjà vu — naïve façade, 東京 and emoji 🙂. The word"),
]

# Tiny models: token sequences (ids < 303, the tiny vocabulary).
TINY_N_VOCAB = 303


def tiny_prompts():
    rng = np.random.default_rng(1234)
    return [
        [1],
        [int(x) for x in rng.integers(0, TINY_N_VOCAB, 9)],
        [int(x) for x in rng.integers(0, TINY_N_VOCAB, 100)],
    ]


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_llama(path, n_ctx, flash_attn=False):
    import llama_cpp
    return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, logits_all=True,
                           n_threads=N_THREADS, n_batch=N_BATCH, flash_attn=flash_attn,
                           verbose=False)


def last_logits(llm, tokens):
    llm.reset()
    llm.eval(tokens)
    return np.array(llm.scores[len(tokens) - 1], dtype=np.float32)


def greedy(llm, tokens, n, is_eog):
    """llama.cpp's greedy continuation after eval(tokens)."""
    llm.reset()
    llm.eval(tokens)
    out = []
    for _ in range(n):
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        out.append(tok)
        if is_eog(tok):
            break
        llm.eval([tok])
    return out


def render_chat(template, messages):
    import jinja2
    env = jinja2.Environment(loader=jinja2.BaseLoader())
    tmpl = env.from_string(template)
    return tmpl.render(messages=[{"role": r, "content": c} for r, c in messages],
                       add_generation_prompt=True)


def f16_b64(row):
    return base64.b64encode(row.astype("<f2").tobytes()).decode("ascii")


def make_smollm2(model_path, out_path):
    import llama_cpp
    from gguf import GGUFReader

    reader = GGUFReader(str(model_path))
    template = reader.fields["tokenizer.chat_template"].contents()
    llm = load_llama(model_path, N_CTX)
    llm_fa = load_llama(model_path, N_CTX, flash_attn=True)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)

    def is_eog(tok):
        return bool(llama_cpp.llama_vocab_is_eog(vocab, tok))

    records = []
    for i, (name, kind, content) in enumerate(PROMPTS):
        if kind == "chat":
            text = render_chat(template, content)
            special = True
        elif kind == "chat_raw":
            text = content
            special = True
        else:
            text = content
            special = False
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)
        if len(tokens) > N_BATCH:
            sys.exit(f"prompt {name} has {len(tokens)} tokens; keep prompts <= {N_BATCH}")
        row = last_logits(llm, tokens)
        row_fa = last_logits(llm_fa, tokens)
        order = np.argsort(-row, kind="stable")
        top = [[int(t), round(float(row[t]), 5)] for t in order[:TOP_K]]
        rec = {
            "name": name,
            "kind": kind,
            "text": text,
            "parse_special": special,
            "tokens": [int(t) for t in tokens],
            "top": top,
            "stats": {
                "max": float(row.max()), "min": float(row.min()),
                "mean": float(row.mean()), "std": float(row.std()),
            },
            "top2_gap": float(row[order[0]] - row[order[1]]),
            "llama_cpp_fa_max_abs_diff": float(np.abs(row - row_fa).max()),
            "greedy": greedy(llm, tokens, N_CONTINUE, is_eog),
        }
        if i < FULL_ROWS:
            rec["logits_f16_b64"] = f16_b64(row)
        records.append(rec)
        print(f"{name:22s} {len(tokens):4d} tokens  top1 {top[0][0]:6d}  gap {rec['top2_gap']:.3f}  "
              f"fa-noise {rec['llama_cpp_fa_max_abs_diff']:.3f}", flush=True)

    doc = {
        "description": "llama.cpp last-position logits and greedy continuations for the forward-pass test; "
                       "made by test/forward/make_golden_logits.py",
        "model_file": model_path.name,
        "model_sha256": sha256_file(model_path),
        "llama_cpp_python": llama_cpp.__version__,
        "settings": {"n_ctx": N_CTX, "n_batch": N_BATCH, "n_threads": N_THREADS,
                     "flash_attn": False, "kv_cache": "f16", "logits_all": True},
        "n_vocab": int(row.shape[0]),
        "top_k": TOP_K,
        "n_continue": N_CONTINUE,
        "prompts": records,
    }
    out_path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {out_path} ({out_path.stat().st_size} bytes)")


# ---------------------------------------------------------------------------
# Independent float64 implementation of the llama graph (tiny models only).
# ---------------------------------------------------------------------------

def numpy_llama_logits(path, tokens):
    from gguf import GGUFReader, quants

    r = GGUFReader(str(path))

    def kv(key, default=None):
        f = r.fields.get(key)
        return default if f is None else f.contents()

    W = {}
    for t in r.tensors:
        a = quants.dequantize(t.data, t.tensor_type).astype(np.float64)
        W[t.name] = a.reshape([int(x) for x in reversed(t.shape)])
    n_layer = kv("llama.block_count")
    n_head = kv("llama.attention.head_count")
    n_head_kv = kv("llama.attention.head_count_kv", n_head)
    eps = kv("llama.attention.layer_norm_rms_epsilon")
    base = kv("llama.rope.freq_base", 10000.0)
    emb = W["token_embd.weight"]
    n_embd = emb.shape[1]
    hd = n_embd // n_head
    n_rot = kv("llama.rope.dimension_count", hd)
    T = len(tokens)
    pos = np.arange(T, dtype=np.float64)

    def rms(x, w):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w

    def rope(x):				# [T, H, hd], adjacent pairs of the first n_rot
        i = np.arange(0, n_rot, 2)
        th = pos[:, None] * base ** (-i / n_rot)
        c, s = np.cos(th)[:, None, :], np.sin(th)[:, None, :]
        y = x.copy()
        x0, x1 = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
        y[..., 0:n_rot:2] = x0 * c - x1 * s
        y[..., 1:n_rot:2] = x0 * s + x1 * c
        return y

    def lin(h, name):
        y = h @ W[name + ".weight"].T
        if name + ".bias" in W:
            y = y + W[name + ".bias"]
        return y

    x = emb[tokens]
    group = n_head // n_head_kv
    for layer in range(n_layer):
        p = f"blk.{layer}."
        h = rms(x, W[p + "attn_norm.weight"])
        q = rope(lin(h, p + "attn_q").reshape(T, n_head, hd))
        k = rope(lin(h, p + "attn_k").reshape(T, n_head_kv, hd))
        v = lin(h, p + "attn_v").reshape(T, n_head_kv, hd)
        out = np.zeros((T, n_head, hd))
        mask = np.triu(np.full((T, T), -np.inf), 1)
        for hh in range(n_head):
            sc = q[:, hh, :] @ k[:, hh // group, :].T / np.sqrt(hd) + mask
            sc = np.exp(sc - sc.max(-1, keepdims=True))
            sc /= sc.sum(-1, keepdims=True)
            out[:, hh, :] = sc @ v[:, hh // group, :]
        x = x + lin(out.reshape(T, -1), p + "attn_output")
        h = rms(x, W[p + "ffn_norm.weight"])
        g = lin(h, p + "ffn_gate")
        x = x + lin(g / (1 + np.exp(-g)) * lin(h, p + "ffn_up"), p + "ffn_down")
    h = rms(x, W["output_norm.weight"])
    out_w = W.get("output.weight", emb)
    return (h[-1] @ out_w.T).astype(np.float32)


def make_tiny(out_path):
    import llama_cpp

    gen = REPO / "test" / "make_tiny_models.py"
    with tempfile.TemporaryDirectory() as d1, tempfile.TemporaryDirectory() as d2:
        for d in (d1, d2):
            subprocess.run([sys.executable, str(gen), d], check=True, stdout=subprocess.DEVNULL)
        files = sorted(Path(d1).glob("*.gguf"))
        for f in files:
            if f.read_bytes() != (Path(d2) / f.name).read_bytes():
                sys.exit(f"{f.name} differs between two runs of make_tiny_models.py: not deterministic")
        prompts = tiny_prompts()
        models = {}
        for f in files:
            llm = load_llama(f, 256)
            entries = []
            worst = 0.0
            for toks in prompts:
                ref = last_logits(llm, toks)
                exact = numpy_llama_logits(f, toks)
                worst = max(worst, float(np.abs(ref - exact).max() / np.abs(exact).max()))
                entries.append({
                    "tokens": toks,
                    "llama_cpp": [round(float(v), 5) for v in ref],
                    "float64": [round(float(v), 5) for v in exact],
                })
            del llm
            key = f.stem.replace("tiny-llama-", "")
            models[key] = {"file": f.name, "sha256": sha256_file(f), "prompts": entries}
            print(f"{f.name:28s} llama.cpp vs float64: max |diff| / max |logit| = {worst:.5f}", flush=True)

    doc = {
        "description": "last-position logits of the tiny random llama models made by test/make_tiny_models.py: "
                       "llama.cpp's and an independent float64 numpy implementation's; "
                       "made by test/forward/make_golden_logits.py --tiny",
        "llama_cpp_python": llama_cpp.__version__,
        "settings": {"n_ctx": 256, "n_batch": N_BATCH, "n_threads": N_THREADS,
                     "flash_attn": False, "kv_cache": "f16", "logits_all": True},
        "models": models,
    }
    out_path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"wrote {out_path} ({out_path.stat().st_size} bytes)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, help="the default model (SmolLM2-135M-Instruct Q4_1 GGUF)")
    ap.add_argument("--tiny", action="store_true", help="golden logits of the tiny models")
    ap.add_argument("--out-dir", type=Path, default=HERE)
    args = ap.parse_args()
    if not args.model and not args.tiny:
        ap.error("give --model PATH and/or --tiny")
    if args.model:
        make_smollm2(args.model, args.out_dir / "golden_smollm2.json")
    if args.tiny:
        make_tiny(args.out_dir / "golden_tiny.json")


if __name__ == "__main__":
    main()
