#!/usr/bin/env python3
"""The cost of constrained decoding, as a table (issue 4's "mask cost").

For a set of schemas from test/structured/corpus.json, runs tools/llm_cli
with --schema: the same prompt decoded under the schema and then decoded
unconstrained for as many tokens, on one thread, and reports decode tokens/s
of both (medians of --reps runs), their ratio, and the constraint's own work
(tokens checked first, full masks computed and their time).  Then compiles
every corpus schema with tools/llm_schema_check and reports the median and
the slowest compile time.

Usage (from the repository root; builds both tools in a temporary folder):
    python3 test/bench_constraint.py MODEL.gguf [--reps 5] [--tokens 128]

Run it on an otherwise idle machine: decode speed is memory-bound and any
other load changes it.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMAS = ["invoice_with_lines", "support_ticket", "calendar_event", "medical_intake_form", "category_tree_recursive", "bank_statement_transactions"]


def build(tmp, tool):
    out = os.path.join(tmp, tool)
    engine = sorted(os.path.join(ROOT, "src/engine", f) for f in os.listdir(os.path.join(ROOT, "src/engine"))
                    if f.endswith(".c"))
    subprocess.run(["gcc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "src/engine"),
                    "-o", out, os.path.join(ROOT, "tools", tool + ".c")] + engine +
                   ["-lm", "-lpthread", "-lcjson", "-lopenblas"], check=True)
    return out


def run_cli(cli, model, schema_file, prompt, tokens):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    p = subprocess.run([cli, model, "--schema", schema_file, "-n", str(tokens), "-p", prompt, "--quiet"],
                       capture_output=True, text=True, env=env, check=True)
    text = p.stdout + p.stderr
    c = re.search(r"constrained: (\d+) tokens sampled \+ (\d+) completed.*?decode ([\d.]+) tokens/s; "
                  r"(\d+) checked first, (\d+) full masks in ([\d.]+) ms", text)
    u = re.search(r"unconstrained: (\d+) tokens; decode ([\d.]+) tokens/s", text)
    if not c or not u:
        sys.exit("cannot parse llm_cli output:\n" + text)
    return {"sampled": int(c.group(1)), "completed": int(c.group(2)), "con": float(c.group(3)),
            "checked": int(c.group(4)), "masks": int(c.group(5)), "mask_ms": float(c.group(6)),
            "unc": float(u.group(2))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128)
    args = ap.parse_args()

    corpus = json.load(open(os.path.join(ROOT, "test/structured/corpus.json")))
    by_name = {e["name"]: e for e in corpus}
    chosen = [by_name[n] for n in SCHEMAS if n in by_name]
    if len(chosen) < 3:
        chosen = corpus[:6]

    with tempfile.TemporaryDirectory() as tmp:
        cli = build(tmp, "llm_cli")
        check = build(tmp, "llm_schema_check")

        print("## Constrained vs unconstrained decode (SmolLM2-135M Q4_1, 1 thread, greedy, medians of %d runs)"
              % args.reps)
        print()
        print("| schema | tokens | constrained tok/s | unconstrained tok/s | ratio | checked first | full masks | mask ms/token |")
        print("|---|---|---|---|---|---|---|---|")
        ratios = []
        for e in chosen:
            sf = os.path.join(tmp, e["name"] + ".json")
            with open(sf, "w") as f:
                json.dump(e["schema"], f)
            prompt = "Extract the data as JSON.\n\nText:\n" + e["input"]
            runs = [run_cli(cli, args.model, sf, prompt, args.tokens) for _ in range(args.reps)]
            con = statistics.median(r["con"] for r in runs)
            unc = statistics.median(r["unc"] for r in runs)
            ratio = statistics.median(r["con"] / r["unc"] for r in runs)
            ratios.append(ratio)
            r = runs[0]
            n = r["sampled"]
            print("| %s | %d | %.1f | %.1f | %.3f | %d | %d | %.3f |" % (
                e["name"], n, con, unc, ratio, r["checked"], r["masks"], r["mask_ms"] / max(n, 1)))
        print()
        print("median ratio constrained/unconstrained: %.3f (target >= 0.9)" % statistics.median(ratios))
        print()

        sdir = os.path.join(tmp, "schemas")
        os.mkdir(sdir)
        for i, e in enumerate(corpus):
            with open(os.path.join(sdir, "%03d_%s.json" % (i, e["name"])), "w") as f:
                json.dump(e["schema"], f)
        p = subprocess.run([check, sdir], capture_output=True, text=True)
        rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        times = sorted((r["compile_ms"], os.path.basename(r["file"])) for r in rows if r["status"] == "ok")
        print("## Schema compile time (test/structured/corpus.json, %d schemas compiled of %d)" % (len(times), len(rows)))
        print()
        print("| median ms | slowest ms | slowest schema |")
        print("|---|---|---|")
        print("| %.3f | %.3f | %s |" % (statistics.median(t for t, _ in times), times[-1][0], times[-1][1]))


if __name__ == "__main__":
    main()
