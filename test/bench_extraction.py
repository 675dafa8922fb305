#!/usr/bin/env python3
"""Extraction accuracy: llm_extract_json against plain llm_generate asked for
the same JSON, on the committed synthetic documents with known answers
(test/structured/extraction.json), through SQL on the default model.

    test/bench_extraction.py [--db CONNINFO] [--user OSUSER] [--max-tokens N]
                             [--only NAME,...] [--show]

For every document:
  - extract: llm_extract_json(text, schema, instruction, max_tokens)
  - generate: llm_generate(prompt, max_tokens, temperature => 0), the prompt
    holding the same instruction, the text and the schema's fields in words
    (name, type, enum values, pattern, date format) and asking for only a
    JSON object with those keys; the answer is parsed the way an
    application would: code fences stripped, json.loads, and if that fails
    the span from the first "{" to the last "}" (a lenient fallback, to be
    fair to the baseline).
Per method: parsed % (a JSON value came out), valid % (it validates against
the schema: Python jsonschema, formats checked, test/structured/validate.py)
and field accuracy % over all fields of all documents (a missing or
unparsed field counts as wrong).  A field is right when, after
normalisation, it equals the known answer: strings case- and
whitespace-insensitively, numbers numerically (a numeric string counts, so
accuracy measures content while validity measures form), booleans exactly,
dates as ISO strings.  Prints a markdown table, per-kind accuracy and the
time each method took.

Needs a server with llm_ext (CREATE EXTENSION done) and the default model;
psql on PATH.  Run as root it calls psql as the postgres user.
"""
import argparse
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in test/structured
sys.path.insert(0, os.path.join(HERE, "structured"))
from pgrun import Psql, sql_text  # noqa: E402
from validate import first_error  # noqa: E402

INSTRUCTION = "Extract the fields described by the JSON schema from the text."


def describe_field(name, prop):
    """A field of the schema in words, for the plain prompt."""
    if "enum" in prop:
        return "%s (one of: %s)" % (name, ", ".join(json.dumps(v) for v in prop["enum"]))
    t = prop.get("type", "string")
    if prop.get("format") == "date":
        return "%s (date, YYYY-MM-DD)" % name
    if "pattern" in prop:
        return "%s (string matching %s)" % (name, prop["pattern"])
    return "%s (%s)" % (name, t)


def generate_prompt(schema, text):
    """The plain baseline's prompt: the text, then the fields in words (a
    tiny model echoes a raw JSON schema back instead of answering, so the
    fields are listed plainly: the friendliest prompt for the baseline)."""
    fields = "\n".join("- " + describe_field(k, v) for k, v in schema["properties"].items())
    return ("%s\n\nText:\n%s\n\nFields:\n%s\n\nAnswer with only a JSON object with exactly "
            "these keys, and nothing else." % (INSTRUCTION, text, fields))


def parse_answer(text):
    """(value, how) or (None, why)."""
    s = text.strip()
    m = re.search(r"```(?:json|JSON)?\s*\n?(.*?)(?:```|\Z)", s, re.S)
    if m:
        s = m.group(1).strip()
    try:
        return json.loads(s), "json"
    except ValueError:
        pass
    a, b = s.find("{"), s.rfind("}")
    if a >= 0 and b > a:
        try:
            return json.loads(s[a:b + 1]), "braces"
        except ValueError:
            pass
    return None, "unparsed"


def norm_str(v):
    return " ".join(str(v).split()).casefold()


def field_kind(prop):
    if "enum" in prop:
        return "enum"
    if prop.get("type") == "boolean":
        return "boolean"
    if prop.get("type") in ("number", "integer"):
        return "number"
    if prop.get("format") == "date":
        return "date"
    if "pattern" in prop:
        return "id"
    return "name/text"


def field_right(expected, got):
    if isinstance(expected, bool):
        return got is expected
    if isinstance(expected, (int, float)):
        if isinstance(got, bool):
            return False
        if isinstance(got, str):
            try:
                got = float(got.replace(",", "").strip())
            except ValueError:
                return False
        return isinstance(got, (int, float)) and abs(float(got) - float(expected)) < 1e-9
    if got is None or isinstance(got, (dict, list, bool)):
        return False
    return norm_str(got) == norm_str(expected)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default="dbname=postgres", help="psql connection string")
    ap.add_argument("--user", default=None, help="run psql as this OS user")
    ap.add_argument("--max-tokens", type=int, default=200)
    ap.add_argument("--only", default=None, help="comma-separated document names")
    ap.add_argument("--show", action="store_true", help="print every answer")
    args = ap.parse_args()

    with open(os.path.join(HERE, "structured", "extraction.json"), encoding="utf-8") as f:
        data = json.load(f)
    schemas = data["schemas"]
    docs = data["documents"]
    if args.only:
        keep = set(args.only.split(","))
        docs = [d for d in docs if d["name"] in keep]
    db = Psql(args.db, user=args.user)

    results = {}
    timings = {}
    # extract
    rows = [(sql_text(d["text"]), sql_text(json.dumps(schemas[d["schema"]])) + "::jsonb",
             sql_text(INSTRUCTION), str(args.max_tokens)) for d in docs]
    t0 = time.time()
    out = []
    for k in range(0, len(rows), 8):
        out += db.call_rows("try_extract", rows[k:k + 8])
    timings["llm_extract_json"] = time.time() - t0
    results["llm_extract_json"] = out
    # generate
    rows = [(sql_text(generate_prompt(schemas[d["schema"]], d["text"])), str(args.max_tokens + 56))
            for d in docs]
    t0 = time.time()
    out = []
    for k in range(0, len(rows), 8):
        out += db.call_rows("try_generate", rows[k:k + 8])
    timings["llm_generate + parse"] = time.time() - t0
    results["llm_generate + parse"] = out

    table = []
    kinds_all = {}
    for method, outs in results.items():
        n = len(docs)
        parsed = valid = fields = right = errors = 0
        kinds = {}
        for d, o in zip(docs, outs):
            schema = schemas[d["schema"]]
            if o.startswith("ERROR"):
                errors += 1
                value, how = None, o
            else:
                text = o[3:]
                if method == "llm_extract_json":
                    value, how = json.loads(text), "jsonb"
                else:
                    value, how = parse_answer(text)
            if value is not None or how in ("json", "braces", "jsonb"):
                parsed += 1
                if first_error(schema, value) is None:
                    valid += 1
            for key, expected in d["answer"].items():
                kind = field_kind(schema["properties"][key])
                fields += 1
                ok = isinstance(value, dict) and key in value and field_right(expected, value[key])
                right += ok
                k = kinds.setdefault(kind, [0, 0])
                k[0] += ok
                k[1] += 1
            if args.show:
                print("%-22s %-12s %s" % (method, d["name"], o[:300].replace("\n", "\\n")))
        table.append((method, n, parsed, valid, fields, right, errors))
        kinds_all[method] = kinds

    print()
    print("Extraction accuracy on %d synthetic documents (test/structured/extraction.json), "
          "default model, greedy" % len(docs))
    print()
    print("| method | documents | parsed | valid | field accuracy | SQL errors | time |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for method, n, parsed, valid, fields, right, errors in table:
        print("| %s | %d | %.0f%% | %.0f%% (%d/%d) | %.1f%% (%d/%d) | %d | %.0f s |" % (
            method, n, 100.0 * parsed / n, 100.0 * valid / n, valid, n,
            100.0 * right / fields, right, fields, errors, timings[method]))
    print()
    kinds = sorted({k for m in kinds_all.values() for k in m})
    print("| field kind | " + " | ".join(kinds_all) + " |")
    print("|---|" + "---:|" * len(kinds_all))
    for kind in kinds:
        cells = []
        for m in kinds_all:
            r, t = kinds_all[m].get(kind, [0, 0])
            cells.append("%.0f%% (%d/%d)" % (100.0 * r / t if t else 0, r, t))
        print("| %s | %s |" % (kind, " | ".join(cells)))


if __name__ == "__main__":
    main()
