#!/usr/bin/env python3
"""Copy the JSONSchemaBench datasets into this folder, one gzipped JSON-lines
file per dataset: test/jsonschemabench/<Dataset>.jsonl.gz, one line per
schema, {"file": "<file name>", "schema": <the schema>}, in file-name order.

Usage: import_jsonschemabench.py [SOURCE_DIR]   (default ../shared/data/jsonschemabench
relative to the repository root).  The output is byte-reproducible (gzip
mtime 0, sorted input, compact UTF-8 JSON with keys in their original order).
It checks that every line decodes back to exactly the parsed file.
"""
import gzip
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATASETS = ["Glaiveai2K", "Github_trivial", "Github_easy", "Github_medium",
            "Snowplow", "WashingtonPost"]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "..", "shared", "data", "jsonschemabench")
    for ds in DATASETS:
        folder = os.path.join(src, ds)
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
        lines = []
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                schema = json.loads(f.read().decode("utf-8"))
            line = json.dumps({"file": name, "schema": schema},
                              ensure_ascii=False, separators=(",", ":"))
            if json.loads(line)["schema"] != schema:
                sys.exit(f"{ds}/{name}: does not survive a JSON round trip")
            lines.append(line + "\n")
        out = os.path.join(HERE, ds + ".jsonl.gz")
        with open(out, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                               compresslevel=9, mtime=0) as gz:
                gz.write("".join(lines).encode("utf-8"))
        print(f"{ds}: {len(names)} schemas -> {os.path.basename(out)} "
              f"({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
