#!/usr/bin/env python3
"""The independent validator for llm_extract_json's output: Python's
jsonschema (PyPI) with format checking switched on.

    validate.py --self-test          check that every format we generate is
                                     really checked (exit 1 if not)
    validate.py FILE                 FILE holds JSON lines
                                     {"name": ..., "schema": ..., "document": ...};
                                     prints one JSON line per input,
                                     {"name": ..., "valid": true|false, "error": ...},
                                     then {"summary": {"valid": n, "invalid": n}}

Used by test/t/004_structured.pl, test/bench_jsonschema.py and
test/bench_extraction.py (which import make_validator / is_valid).

The validator class is the one the schema's "$schema" names (Draft 2020-12
when it names none), so draft-04's boolean exclusiveMinimum and draft-07's
array-form "items" mean what they meant there.  The FORMAT checker is always
Draft 2020-12's, whatever the draft: it knows all nine formats the engine
generates (date-time, date, time, email, hostname, ipv4, ipv6, uuid, uri),
while older drafts' checkers leave some of them (uuid, date, time) unchecked;
"time" is RFC 3339's full-time (with an offset).  jsonschema registers a
format only when its helper package is importable (date-time and time need
rfc3339-validator, hostname fqdn, uri rfc3986-validator or rfc3987) and
otherwise skips the check silently, so --self-test proves the helpers are
there: scripts/setup installs them, pinned, in the test venv.
"""
import json
import sys

from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER

# (format, a value that must pass, a value that must fail)
FORMAT_CASES = [
    ("date-time", "2024-03-14T09:26:53Z", "2024-03-14 09:26"),
    ("date-time", "2024-03-14T09:26:53.5+01:00", "2024-03-14T09:26:53"),
    ("date", "2024-02-29", "2023-02-29"),
    ("time", "14:00:00Z", "14:00"),
    ("time", "23:59:59.250+05:30", "25:00:00Z"),
    ("email", "a.b@example.com", "no-at-sign"),
    ("hostname", "db-replica-2.internal.example.com", "-bad-.example"),
    ("ipv4", "203.0.113.57", "203.0.113.256"),
    ("ipv6", "2001:db8:85a3::8a2e:370:7334", "2001:db8::g"),
    ("uuid", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "3fa85f64-5717-4562-b3fc"),
    ("uri", "https://meet.example.com/q3-planning", "relative/path only"),
]


def make_validator(schema):
    cls = validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=FORMAT_CHECKER)


def first_error(schema, document):
    """None if document is valid, else a one-line description."""
    errors = sorted(make_validator(schema).iter_errors(document),
                    key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    where = "/" + "/".join(str(p) for p in e.absolute_path)
    return "%s: %s" % (where, e.message[:300])


def is_valid(schema, document):
    return first_error(schema, document) is None


def self_test():
    problems = []
    for fmt, good, bad in FORMAT_CASES:
        if fmt not in FORMAT_CHECKER.checkers:
            problems.append("format %r is not checked (missing helper package)" % fmt)
            continue
        if not FORMAT_CHECKER.conforms(good, fmt):
            problems.append("format %r rejects %r" % (fmt, good))
        if FORMAT_CHECKER.conforms(bad, fmt):
            problems.append("format %r accepts %r" % (fmt, bad))
    # draft-04 boolean exclusive bounds and draft-07 tuple items really apply
    d4 = {"$schema": "http://json-schema.org/draft-04/schema#",
          "type": "number", "minimum": 0, "exclusiveMinimum": True}
    if is_valid(d4, 0) or not is_valid(d4, 0.5):
        problems.append("draft-04 exclusiveMinimum: true is not applied")
    d7 = {"$schema": "http://json-schema.org/draft-07/schema#",
          "items": [{"type": "integer"}], "additionalItems": False}
    if is_valid(d7, [1, 2]) or not is_valid(d7, [1]):
        problems.append("draft-07 array-form items / additionalItems are not applied")
    if is_valid({"type": "string", "format": "uuid"}, "nope"):
        problems.append("format is not asserted under Draft 2020-12")
    return problems


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        problems = self_test()
        for p in problems:
            print("PROBLEM: " + p)
        if not problems:
            print("ok: %d format cases, draft-04 and draft-07 semantics" % len(FORMAT_CASES))
        sys.exit(1 if problems else 0)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    n_valid = n_invalid = 0
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            try:
                err = first_error(rec["schema"], rec["document"])
            except Exception as e:  # a schema jsonschema itself cannot use
                err = "validator error: %s" % str(e).split("\n")[0]
            if err is None:
                n_valid += 1
            else:
                n_invalid += 1
            print(json.dumps({"name": rec.get("name"), "valid": err is None, "error": err},
                             ensure_ascii=False))
    print(json.dumps({"summary": {"valid": n_valid, "invalid": n_invalid}}))


if __name__ == "__main__":
    main()
