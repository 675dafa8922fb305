#!/usr/bin/env python3
"""Real-world coverage of llm_extract_json on JSONSchemaBench
(test/jsonschemabench/*.jsonl.gz, six datasets, 6,598 schemas; see the
README there) — the table issue 4 asks for.

    test/bench_jsonschema.py [--datasets A,B,...] [--sample N] [--seed S]
                             [--compile-only] [--random N] [--max-tokens N]
                             [--db CONNINFO] [--user OSUSER] [--jobs-log FILE]

1. Compile coverage, for EVERY schema of each dataset, with the engine's
   command-line checker tools/llm_schema_check (built into a temporary
   directory; it prints one JSON line per schema file: status
   ok/unsupported/invalid, reason, keyword, compile_ms): the share that
   compiles, the share refused as unsupported (0A000) or invalid (22023)
   with the five most frequent reasons, and the compile time (median, max).
   The pseudo-dataset "corpus" is test/structured/corpus.json (its compile
   times are the ones the issue's benchmark table wants).
2. Generation (unless --compile-only), for a deterministic sample of N
   compiled schemas per dataset (seeded random.Random(S).sample over the
   file names in sorted order; default N=100, S=0): through SQL,
   llm_extract_json(<a generic input>, schema, max_tokens => N) on the
   default model, each document validated with Python jsonschema, format
   checking on (test/structured/validate.py).  Errors are counted by
   SQLSTATE.  "Compiled-and-valid coverage" = compiled share x valid share
   of the sample: the paper's "empirical coverage" (schema accepted and
   output valid).
3. A markdown table with the paper's figures next to ours (only the
   figures we could confirm; see test/jsonschemabench/README.md).

Generation needs a server with llm_ext installed (CREATE EXTENSION done);
psql on PATH; run as root it calls psql as postgres.  It takes a while
(about 3-8 s per document on one thread): not part of scripts/test.
"""
import argparse
import collections
import gzip
import json
import os
import random
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # no __pycache__ in test/structured
sys.path.insert(0, os.path.join(HERE, "structured"))
from pgrun import Psql, sql_text  # noqa: E402

DATASETS = ["Glaiveai2K", "Github_trivial", "Github_easy", "Github_medium",
            "Snowplow", "WashingtonPost"]
GENERIC_INPUT = ("Produce a realistic example record with plausible values for every field. "
                 "Keep strings short.")

# The paper's empirical coverage (schema accepted AND output valid), as far
# as we could confirm it (test/jsonschemabench/README.md says from where).
# None: not confirmed.
PAPER = {
    "Glaiveai2K": {"llama.cpp": "> 86%", "best": "> 86% (every engine)"},
    "Github_trivial": {"llama.cpp": None, "best": None},
    "Github_easy": {"llama.cpp": None, "best": None},
    "Github_medium": {"llama.cpp": None, "best": None},
    "Snowplow": {"llama.cpp": None, "best": None},
    "WashingtonPost": {"llama.cpp": None, "best": None},
    "corpus": {"llama.cpp": None, "best": None},
}


def load_dataset(name):
    if name == "corpus":
        with open(os.path.join(HERE, "structured", "corpus.json"), encoding="utf-8") as f:
            return [(e["name"] + ".json", e["schema"]) for e in json.load(f)]
    path = os.path.join(HERE, "jsonschemabench", name + ".jsonl.gz")
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            out.append((rec["file"], rec["schema"]))
    return out


# ---------------------------------------------------------------------------
# 1. compile coverage with tools/llm_schema_check

def build_checker(tmp):
    """Build tools/llm_schema_check into tmp (the command of its header
    comment); return the binary's path."""
    src = os.path.join(ROOT, "tools", "llm_schema_check.c")
    if not os.path.exists(src):
        sys.exit("tools/llm_schema_check.c does not exist (yet)")
    out = os.path.join(tmp, "llm_schema_check")
    engine = sorted(os.path.join("src", "engine", f)
                    for f in os.listdir(os.path.join(ROOT, "src", "engine"))
                    if f.endswith(".c") and f[:1].islower())
    cmd = (["gcc", "-O2", "-std=gnu11", "-D_GNU_SOURCE", "-Isrc/engine", "-o", out,
            "tools/llm_schema_check.c"] + engine + ["-lm", "-lpthread", "-lcjson", "-lopenblas"])
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("building llm_schema_check failed:\n" + p.stderr.decode()[-3000:])
    return out


def compile_all(checker, schemas, tmp, random_docs=0):
    """Run the checker over every schema (written to files in a temporary
    directory); return file -> its JSON line (with "shortest" and, if
    random_docs, "random")."""
    d = tempfile.mkdtemp(dir=tmp)
    for name, schema in schemas:
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            json.dump(schema, f, ensure_ascii=False)
    cmd = [checker, "--shortest"] + (["--random", str(random_docs)] if random_docs else []) + [d]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    got = {}
    for line in p.stdout.decode("utf-8", "replace").split("\n"):
        line = line.strip()
        if line.startswith("{"):
            rec = json.loads(line)
            got[os.path.basename(rec.get("file") or "")] = rec
    for name, _ in schemas:
        if name not in got:
            # No line for it: the checker died there (a bug to report).
            got[name] = {"status": "crash", "reason": "checker exit %d: %s" % (
                p.returncode, p.stderr.decode("utf-8", "replace")[-300:]), "compile_ms": None}
    return got


def check_engine_documents(schemas, comp):
    """Validate the engine's own shortest (and random) documents of every
    compiled schema with jsonschema: a model-free check of the whole
    dataset.  Returns (documents checked, invalid, unverifiable, examples)."""
    from validate import first_error
    checked = invalid = unverifiable = 0
    examples = []
    for name, schema in schemas:
        rec = comp[name]
        if rec.get("status") != "ok":
            continue
        docs = []
        if isinstance(rec.get("shortest"), str):
            docs.append(rec["shortest"])
        docs += [x for x in rec.get("random") or [] if isinstance(x, str)]
        for text in docs:
            try:
                doc = json.loads(text)
            except ValueError as e:
                doc, err = None, "does not parse: %s" % e
            if doc is not None or text.strip() == "null":
                try:
                    err = first_error(schema, doc)
                except Exception as e:
                    # jsonschema cannot use this schema (e.g. a draft-04 "id"
                    # that is not a string): nothing to say about the document.
                    unverifiable += 1
                    continue
            checked += 1
            if err is not None:
                invalid += 1
                if len(examples) < 5:
                    examples.append((name, err[:160] + " | " + text[:160]))
    return checked, invalid, unverifiable, examples


def reason_key(rec):
    kw = rec.get("keyword")
    reason = rec.get("reason") or ""
    if kw:
        return "%s: %s" % (rec["status"], kw)
    # Strip paths and numbers so that one kind of reason is one bucket.
    r = re.sub(r"(at|in) /[^\s,;:]*", r"\1 <path>", reason)
    r = re.sub(r"\d+", "N", r)
    return "%s: %s" % (rec["status"], r[:80])


# ---------------------------------------------------------------------------
# 2. generation through SQL

def load_log(path):
    """(dataset, file, max_tokens) -> result, from earlier --jobs-log files."""
    done = {}
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    rec = json.loads(line)
                    done[(rec.get("dataset"), rec["file"], rec.get("max_tokens"))] = rec["result"]
    return done


def generate(db, ds, items, max_tokens, batch, log, done):
    """items: list of (file, schema); returns file -> "OK <json>" | "ERROR ...".
    Results found in done (an earlier run's log) are reused."""
    out = {}
    for f, _ in items:
        if (ds, f, max_tokens) in done:
            out[f] = done[(ds, f, max_tokens)]
    if out:
        print("  %d results reused from the log" % len(out), file=sys.stderr)
    items = [it for it in items if it[0] not in out]
    for k in range(0, len(items), batch):
        chunk = items[k:k + batch]
        rows = [(sql_text(GENERIC_INPUT), sql_text(json.dumps(s)) + "::jsonb", "NULL",
                 str(max_tokens)) for _, s in chunk]
        t0 = time.time()
        try:
            res = db.call_rows("try_extract", rows)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            # One of them took the batch down (a crash, a timeout): one by one.
            res = []
            for r in rows:
                try:
                    res += db.call_rows("try_extract", [r])
                except (RuntimeError, subprocess.TimeoutExpired) as e1:
                    res.append("ERROR psql " + str(e1).replace("\n", " ")[:300])
        for (f, _), r in zip(chunk, res):
            out[f] = r
            if log:
                log.write(json.dumps({"dataset": ds, "file": f, "max_tokens": max_tokens,
                                      "result": r}, ensure_ascii=False) + "\n")
                log.flush()
        print("  %d/%d generated (%.1f s for the last %d)" % (
            min(k + batch, len(items)), len(items), time.time() - t0, len(chunk)),
            file=sys.stderr, flush=True)
    return out


def validate_all(items, results):
    """Validate every generated document; return (n_valid, errors by
    kind, invalid examples).  The validator runs in this process (needs
    jsonschema with its format helpers, see scripts/setup)."""
    from validate import first_error, self_test
    problems = self_test()
    if problems:
        sys.exit("the validator does not check every format: " + "; ".join(problems))
    n_valid = 0
    errors = collections.Counter()
    examples = []
    for f, schema in items:
        r = results.get(f, "ERROR missing")
        if not r.startswith("OK "):
            m = re.match(r"ERROR (\w+)", r)
            errors["SQLSTATE " + (m.group(1) if m else "?")] += 1
            if len(examples) < 8:
                examples.append((f, r[:200]))
            continue
        doc = json.loads(r[3:])
        try:
            err = first_error(schema, doc)
        except Exception as e:  # jsonschema cannot use the schema (e.g. a regex Python lacks)
            errors["validator cannot check"] += 1
            if len(examples) < 8:
                examples.append((f, "validator: " + str(e).split("\n")[0][:150]))
            continue
        if err is None:
            n_valid += 1
        else:
            errors["invalid document"] += 1
            if len(examples) < 8:
                examples.append((f, err[:200] + " | " + r[3:200]))
    return n_valid, errors, examples


def pct(a, b):
    return 100.0 * a / b if b else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default=",".join(DATASETS),
                    help="comma-separated; also 'corpus' (test/structured/corpus.json)")
    ap.add_argument("--sample", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--compile-only", action="store_true")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--batch", type=int, default=5, help="schemas per SQL statement")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per SQL statement")
    ap.add_argument("--db", default="dbname=postgres")
    ap.add_argument("--user", default=None)
    ap.add_argument("--random", type=int, default=0,
                    help="also validate N random documents per compiled schema from the checker")
    ap.add_argument("--jobs-log", default=None,
                    help="append every generation result to this file, and reuse the results "
                         "already in it (same dataset, file and max_tokens)")
    args = ap.parse_args()
    names = [d for d in args.datasets.split(",") if d]

    tmp = tempfile.mkdtemp(prefix="bench_jsonschema.")
    checker = build_checker(tmp)
    db = None if args.compile_only else Psql(args.db, user=args.user)
    done = load_log(args.jobs_log)
    log = open(args.jobs_log, "a", encoding="utf-8") if args.jobs_log else None
    rows = []
    reasons = {}
    failures = {}
    for ds in names:
        schemas = load_dataset(ds)
        t0 = time.time()
        comp = compile_all(checker, schemas, tmp, args.random)
        statuses = collections.Counter(comp[f]["status"] for f, _ in schemas)
        times = [comp[f]["compile_ms"] for f, _ in schemas
                 if comp[f].get("status") == "ok" and comp[f].get("compile_ms") is not None]
        refused = collections.Counter(reason_key(comp[f]) for f, _ in schemas
                                      if comp[f]["status"] != "ok")
        reasons[ds] = refused.most_common(5)
        n = len(schemas)
        row = {"dataset": ds, "schemas": n, "ok": statuses["ok"],
               "unsupported": statuses["unsupported"], "invalid": statuses["invalid"],
               "crash": statuses["crash"], "median_ms": statistics.median(times) if times else None,
               "max_ms": max(times) if times else None}
        (row["engine_docs"], row["engine_docs_invalid"], row["engine_docs_unverifiable"],
         ex) = check_engine_documents(schemas, comp)
        failures.setdefault(ds, []).extend(ex)
        slowest = max(((comp[f].get("compile_ms") or 0, f) for f, _ in schemas), default=(0, ""))
        row["slowest"] = slowest[1]
        print("%s: %d schemas, %d compile (%.1f s)" % (ds, n, statuses["ok"], time.time() - t0),
              file=sys.stderr, flush=True)
        if not args.compile_only:
            compiled = sorted(f for f, _ in schemas if comp[f]["status"] == "ok")
            pick = set(random.Random(args.seed).sample(compiled, min(args.sample, len(compiled))))
            items = [(f, s) for f, s in schemas if f in pick]
            db.settings = {"statement_timeout": "%ds" % args.timeout}
            t0 = time.time()
            results = generate(db, ds, items, args.max_tokens, args.batch, log, done)
            row["gen_seconds"] = time.time() - t0
            n_valid, errors, examples = validate_all(items, results)
            row.update({"sample": len(items), "valid": n_valid, "errors": errors})
            failures.setdefault(ds, []).extend(examples)
        rows.append(row)

    # ---- the table
    print()
    print("JSONSchemaBench, %s; generation: default model, greedy, max_tokens %d, sample of %d "
          "compiled schemas per dataset (seed %d)" % (
              time.strftime("%Y-%m-%d"), args.max_tokens, args.sample, args.seed))
    print()
    head = ("| dataset | schemas | compiled | refused: unsupported | refused: invalid | "
            "compile ms median / max | engine's own documents valid |")
    sep = "|---|---:|---:|---:|---:|---:|---:|"
    if not args.compile_only:
        head += (" sample | valid | errors | compiled-and-valid | llama.cpp (paper) | best engine (paper) |")
        sep += "---:|---:|---|---:|---:|---:|"
    print(head)
    print(sep)
    for r in rows:
        n = r["schemas"]
        line = "| %s | %d | %.1f%% | %.1f%% | %.1f%% | %s |" % (
            r["dataset"], n, pct(r["ok"], n), pct(r["unsupported"], n), pct(r["invalid"], n),
            ("%.2f / %.1f" % (r["median_ms"], r["max_ms"])) if r["median_ms"] is not None else "-")
        line += " %d/%d%s |" % (r["engine_docs"] - r["engine_docs_invalid"], r["engine_docs"],
                                (" (+%d unverifiable)" % r["engine_docs_unverifiable"])
                                if r["engine_docs_unverifiable"] else "")
        if r["crash"]:
            line = line[:-1] + " (%d checker crashes) |" % r["crash"]
        if not args.compile_only:
            errs = ", ".join("%s %d" % kv for kv in sorted(r["errors"].items())) or "none"
            paper = PAPER.get(r["dataset"], {})
            line += " %d | %.1f%% | %s | %.1f%% | %s | %s |" % (
                r["sample"], pct(r["valid"], r["sample"]), errs,
                pct(r["ok"], n) * pct(r["valid"], r["sample"]) / 100.0,
                paper.get("llama.cpp") or "not confirmed", paper.get("best") or "not confirmed")
        print(line)
    print()
    print("Top refusal reasons (count):")
    for ds in names:
        print("- %s: %s" % (ds, "; ".join("%s (%d)" % kv for kv in reasons[ds]) or "none"))
    print()
    print("Slowest compile: " + "; ".join("%s %s (%.1f ms)" % (r["dataset"], r["slowest"], r["max_ms"] or 0)
                                          for r in rows))
    print()
    print("(\"engine's own documents\": the checker's shortest document"
          + (" and %d random documents" % args.random if args.random else "")
          + " of every compiled schema, validated with jsonschema: no model involved.)")
    if any(failures.values()):
        print()
        print("Failures (first few per dataset):")
        for ds in names:
            for f, why in failures.get(ds, []):
                print("  %s/%s: %s" % (ds, f, why))


if __name__ == "__main__":
    main()
