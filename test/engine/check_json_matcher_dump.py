#!/usr/bin/env python3
"""Validate the documents test_json_matcher wrote with LLM_MATCHER_DUMP=DIR.

Each DIR/NN.json holds {"schema": "<schema text>", "docs": ["<doc>", ...]}:
the random-walk documents (random bytes among those the matcher allows, then
its shortest completion).  Every document must parse as JSON and validate
against its schema with Python's jsonschema (format checking on), an
independent implementation of the specification.

    LLM_MATCHER_DUMP=/tmp/dump LLM_MATCHER_WALKS=200 test/engine/build/test_json_matcher
    python3 test/engine/check_json_matcher_dump.py /tmp/dump

Prints one line per schema and a total; exits 1 if any document fails.
"""
import glob
import json
import os
import sys

import jsonschema


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    total = bad = 0
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
        with open(path, encoding="utf-8") as f:
            case = json.load(f)
        schema = json.loads(case["schema"])
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
        n_bad = 0
        for doc in case["docs"]:
            total += 1
            try:
                value = json.loads(doc)
            except ValueError as e:
                n_bad += 1
                print(f"  {os.path.basename(path)}: does not parse ({e}): {doc!r}")
                continue
            errors = list(validator.iter_errors(value))
            if errors:
                n_bad += 1
                print(f"  {os.path.basename(path)}: {errors[0].message}: {doc!r}")
        bad += n_bad
        print(f"{os.path.basename(path)}: {len(case['docs'])} documents, {n_bad} invalid")
    print(f"{total} documents, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
