#!/usr/bin/env python3
"""Check that test/structured/corpus.json exercises every JSON Schema keyword
and format that llm_extract_json supports (issue 4), and that every entry is a
valid schema with an honest "keywords" list.

    python3 test/structured/keyword_census.py [corpus.json] [--verbose]
    python3 test/structured/keyword_census.py --write-keywords   (recompute every
                                     entry's "keywords" and rewrite corpus.json)

The features are found by walking each schema (not by trusting the entry's
"keywords" list): keywords are recognised only where a schema can hold them
(inside "properties", "enum", "const", "default", "examples" the walker does
not look for keywords), $ref is followed for the nesting depth.  Exits 1,
listing what is missing, when a REQUIRED feature is not used by any entry,
when an entry lists a keyword the walker does not find in its schema, or
when a schema is not valid under its own draft (needs the Python package
jsonschema; without it that check is skipped with a warning).

Standard library only, apart from the optional jsonschema check, so the
authoring tools can import find_features().
"""
import json
import os
import re
import sys

# Every feature the corpus must show, with the tag find_features() gives it.
REQUIRED = [
    # the seven types and arrays of types
    "type:null", "type:boolean", "type:integer", "type:number", "type:string",
    "type:array", "type:object", "type:array-of-types",
    # objects
    "properties", "required", "additionalProperties:false",
    "additionalProperties:true", "additionalProperties:schema",
    "minProperties", "maxProperties", "patternProperties",
    # literals
    "enum", "const",
    # arrays
    "items", "items:array-form", "prefixItems", "additionalItems",
    "minItems", "maxItems", "array-of-objects",
    # strings and numbers
    "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum:number", "exclusiveMinimum:boolean",
    "exclusiveMaximum:number", "exclusiveMaximum:boolean",
    "integer:bounded", "number:bounded",
    # combinators
    "anyOf", "allOf", "oneOf", "oneOf:disjoint-types", "oneOf:discriminator",
    # references
    "$ref:$defs", "$ref:definitions", "$ref:recursive",
    # patterns: both matching modes and the regex subset of the issue
    "pattern:anchored", "pattern:unanchored", "pattern:literal",
    "pattern:escape", "pattern:dot", "pattern:class", "pattern:class-range",
    "pattern:negated-class", "pattern:\\d", "pattern:\\w", "pattern:\\s",
    "pattern:group", "pattern:non-capturing-group", "pattern:alternation",
    "pattern:?", "pattern:*", "pattern:+", "pattern:{m}", "pattern:{m,}",
    "pattern:{m,n}",
    # formats
    "format:date-time", "format:date", "format:time", "format:email",
    "format:hostname", "format:ipv4", "format:ipv6", "format:uuid",
    "format:uri",
    # shapes
    "nesting-depth>=3", "nullable:type-array", "nullable:anyOf",
    "root:non-object",
    # annotations that must be ignored
    "annotation:title", "annotation:description", "annotation:examples",
    "annotation:default", "annotation:$schema", "annotation:$comment",
    "annotation:$id", "annotation:x-vendor",
]

# Validation keywords beyond the list that the engine enforces (by
# generating only documents that satisfy them: a trigger property is left
# out unless its dependents come too, multipleOf 1/n gives whole multiples,
# propertyNames is checked on the declared names); the corpus uses them so
# that their documents are validated too.  Reported, not required.
ALSO_ENFORCED = ["dependentRequired", "dependentSchemas", "dependencies",
                 "propertyNames", "multipleOf"]

ANNOTATIONS = ["title", "description", "examples", "default", "$schema",
               "$comment", "$id", "deprecated", "readOnly", "writeOnly"]
FORMATS = ["date-time", "date", "time", "email", "hostname", "ipv4", "ipv6",
           "uuid", "uri"]
TYPES = ["null", "boolean", "integer", "number", "string", "array", "object"]


def pattern_features(p):
    """Tags for the regex constructs a pattern uses (a light scan that
    skips escaped characters; good enough for hand-written patterns)."""
    tags = set()
    anchored = p.startswith("^") or (p.endswith("$") and not p.endswith("\\$"))
    tags.add("pattern:anchored" if anchored else "pattern:unanchored")
    i, in_class = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            e = p[i + 1]
            if e in "dDwWsS":
                tags.add("pattern:\\" + e.lower())
            else:
                tags.add("pattern:escape")
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            elif c == "-" and p[i - 1] != "[" and i + 1 < len(p) and p[i + 1] != "]":
                tags.add("pattern:class-range")
            i += 1
            continue
        if c == "[":
            in_class = True
            tags.add("pattern:class")
            if p[i + 1:i + 2] == "^":
                tags.add("pattern:negated-class")
                i += 1
        elif c == "(":
            if p[i + 1:i + 3] == "?:":
                tags.add("pattern:non-capturing-group")
            else:
                tags.add("pattern:group")
        elif c == "|":
            tags.add("pattern:alternation")
        elif c == ".":
            tags.add("pattern:dot")
        elif c in "?*+":
            if not (c == "?" and p[i - 1:i] == "("):
                tags.add("pattern:" + c)
        elif c == "{":
            m = re.match(r"\{(\d+)(,(\d*))?\}", p[i:])
            if m:
                if m.group(2) is None:
                    tags.add("pattern:{m}")
                elif m.group(3) == "":
                    tags.add("pattern:{m,}")
                else:
                    tags.add("pattern:{m,n}")
                i += len(m.group(0))
                continue
        elif c.isalnum() or c in " -_:@/#=,;'\"%&<>!~`":
            tags.add("pattern:literal")
        i += 1
    return tags


def resolve(root, ref):
    """The target of a local $ref ("#", "#/a/b"), or None."""
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def types_of(s):
    t = s.get("type") if isinstance(s, dict) else None
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return set(t)
    return None


def oneof_kind(branches, root):
    """"disjoint-types" when the branches' type sets are pairwise disjoint
    (integer counts as a number), "discriminator" when all are objects with
    a required property holding distinct consts, else None."""
    def deref(b):
        seen = 0
        while isinstance(b, dict) and "$ref" in b and seen < 10:
            b = resolve(root, b["$ref"])
            seen += 1
        return b
    bs = [deref(b) for b in branches]
    sets = []
    for b in bs:
        t = types_of(b)
        if t is None:
            sets = None
            break
        if "number" in t:
            t = t | {"integer"}
        sets.append(t)
    if sets is not None:
        if all(not (sets[i] & sets[j]) for i in range(len(sets)) for j in range(i + 1, len(sets))):
            return "disjoint-types"
    if all(isinstance(b, dict) for b in bs):
        common = None
        for b in bs:
            req = set(b.get("required", []))
            common = req if common is None else common & req
        for key in sorted(common or []):
            values = []
            for b in bs:
                ps = b.get("properties", {}).get(key, {})
                if "const" in ps:
                    values.append(json.dumps(ps["const"], sort_keys=True))
                elif isinstance(ps.get("enum"), list) and len(ps["enum"]) == 1:
                    values.append(json.dumps(ps["enum"][0], sort_keys=True))
            if len(values) == len(bs) and len(set(values)) == len(values):
                return "discriminator"
    return None


def find_features(schema):
    """The set of feature tags a schema uses (see REQUIRED)."""
    tags = set()
    root = schema
    ref_targets = {}  # id(target) -> target, for the recursion check

    if isinstance(schema, dict):
        root_types = types_of(schema)
        if (root_types is not None and "object" not in root_types) or (
                root_types is None and ("enum" in schema or "const" in schema)):
            tags.add("root:non-object")

    def walk(s, path):
        if not isinstance(s, dict):
            return
        for k in s:
            if k.startswith("x-"):
                tags.add("annotation:x-vendor")
            if k in ANNOTATIONS:
                tags.add("annotation:" + k)
        t = s.get("type")
        if isinstance(t, str):
            tags.add("type:" + t)
        elif isinstance(t, list):
            for x in t:
                tags.add("type:" + x)
            if len(t) >= 2:
                tags.add("type:array-of-types")
            if "null" in t and len(t) >= 2:
                tags.add("nullable:type-array")
        for k in ["properties", "required", "enum", "const", "minItems",
                  "maxItems", "minLength", "maxLength", "minimum", "maximum",
                  "anyOf", "oneOf", "allOf", "minProperties", "maxProperties",
                  "patternProperties", "prefixItems"] + ALSO_ENFORCED:
            if k in s:
                tags.add(k)
        for k in ["exclusiveMinimum", "exclusiveMaximum"]:
            if k in s:
                tags.add(k + (":boolean" if isinstance(s[k], bool) else ":number"))
        ts = types_of(s) or set()
        if "integer" in ts and ("minimum" in s or "exclusiveMinimum" in s) and (
                "maximum" in s or "exclusiveMaximum" in s):
            tags.add("integer:bounded")
        if "number" in ts and ("minimum" in s or "exclusiveMinimum" in s) and (
                "maximum" in s or "exclusiveMaximum" in s):
            tags.add("number:bounded")
        if "additionalProperties" in s:
            ap = s["additionalProperties"]
            tags.add("additionalProperties:" + (
                "true" if ap is True else "false" if ap is False else "schema"))
        if "items" in s:
            tags.add("items")
            if isinstance(s["items"], list):
                tags.add("items:array-form")
                if "additionalItems" in s:
                    tags.add("additionalItems")
            item = s["items"]
            if isinstance(item, dict):
                while "$ref" in item and resolve(root, item["$ref"]) is not None \
                        and item is not resolve(root, item["$ref"]):
                    item = resolve(root, item["$ref"])
                if "object" in (types_of(item) or set()):
                    tags.add("array-of-objects")
        if "format" in s:
            tags.add("format:" + str(s["format"]))
        if "pattern" in s and isinstance(s["pattern"], str):
            tags.update(pattern_features(s["pattern"]))
        if "anyOf" in s:
            if any(isinstance(b, dict) and types_of(b) == {"null"} for b in s["anyOf"]):
                tags.add("nullable:anyOf")
        if "oneOf" in s:
            kind = oneof_kind(s["oneOf"], root)
            if kind:
                tags.add("oneOf:" + kind)
        if "$ref" in s:
            ref = s["$ref"]
            if ref.startswith("#/$defs/"):
                tags.add("$ref:$defs")
            elif ref.startswith("#/definitions/"):
                tags.add("$ref:definitions")
            elif ref == "#":
                tags.add("$ref:root")
            target = resolve(root, ref)
            if target is not None:
                ref_targets[id(target)] = target
        # subschemas
        for k in ["additionalProperties", "additionalItems", "not", "contains",
                  "propertyNames", "if", "then", "else"]:
            if isinstance(s.get(k), dict):
                walk(s[k], path + "/" + k)
        if isinstance(s.get("items"), dict):
            walk(s["items"], path + "/items")
        for k in ["items", "prefixItems", "anyOf", "oneOf", "allOf"]:
            if isinstance(s.get(k), list):
                for i, b in enumerate(s[k]):
                    walk(b, "%s/%s/%d" % (path, k, i))
        for k in ["properties", "patternProperties", "$defs", "definitions",
                  "dependentSchemas"]:
            if isinstance(s.get(k), dict):
                for name, b in s[k].items():
                    walk(b, "%s/%s/%s" % (path, k, name))

    walk(schema, "")

    # Recursion: a $ref target from which the same target is reachable.
    def refs_reachable(s, seen):
        out = set()
        stack = [s]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                if "$ref" in x:
                    t = resolve(root, x["$ref"])
                    if t is not None and id(t) not in seen:
                        seen.add(id(t))
                        out.add(id(t))
                        stack.append(t)
                for k, v in x.items():
                    if k in ("enum", "const", "default", "examples"):
                        continue
                    stack.append(v)
            elif isinstance(x, list):
                stack.extend(x)
        return out
    for tid, target in ref_targets.items():
        if tid in refs_reachable(target, set()):
            tags.add("$ref:recursive")

    if container_depth(schema, root, set(), 0) >= 3:
        tags.add("nesting-depth>=3")
    return tags


def container_depth(s, root, active, depth_guard):
    """The deepest nesting of object/array values the schema describes
    (a root object holding an array of objects is 3); recursion through
    $ref counts each cycle once."""
    if not isinstance(s, dict) or depth_guard > 50:
        return 0
    if "$ref" in s:
        t = resolve(root, s["$ref"])
        if t is None or id(t) in active:
            return 0
        return container_depth(t, root, active | {id(t)}, depth_guard + 1)
    best = 0
    for k in ["anyOf", "oneOf", "allOf"]:
        for b in s.get(k, []) if isinstance(s.get(k), list) else []:
            best = max(best, container_depth(b, root, active, depth_guard + 1))
    ts = types_of(s) or set()
    children = []
    if "object" in ts or "properties" in s:
        children += list((s.get("properties") or {}).values())
        children += list((s.get("patternProperties") or {}).values())
        if isinstance(s.get("additionalProperties"), dict):
            children.append(s["additionalProperties"])
    if "array" in ts or "items" in s or "prefixItems" in s:
        it = s.get("items")
        children += it if isinstance(it, list) else [it] if isinstance(it, dict) else []
        children += s.get("prefixItems") or []
        if isinstance(s.get("additionalItems"), dict):
            children.append(s["additionalItems"])
    if ts & {"object", "array"} or "properties" in s or "items" in s:
        inner = max([container_depth(c, root, active, depth_guard + 1) for c in children] or [0])
        best = max(best, 1 + inner)
    return best


def check_schema_valid(schema):
    """None if the schema is valid under its own draft, else the error;
    "skip" when jsonschema is not installed."""
    try:
        from jsonschema.validators import validator_for
        from jsonschema import Draft202012Validator
    except ImportError:
        return "skip"
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except Exception as e:  # SchemaError
        return str(e).split("\n")[0]
    return None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    verbose = "--verbose" in sys.argv
    path = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "corpus.json")
    with open(path, encoding="utf-8") as f:
        corpus = json.load(f)
    if "--write-keywords" in sys.argv:
        order = {t: i for i, t in enumerate(REQUIRED)}
        for e in corpus:
            e["keywords"] = sorted(find_features(e["schema"]), key=lambda t: (order.get(t, 999), t))
        with open(path, "w", encoding="utf-8") as f:
            json.dump(corpus, f, indent=2, ensure_ascii=False)
            f.write("\n")
    problems = []
    seen = {}
    names = set()
    skipped_check = False
    for e in corpus:
        name = e.get("name")
        if not name or name in names:
            problems.append("entry without a unique name: %r" % name)
        names.add(name)
        for k in ("schema", "input", "keywords"):
            if k not in e:
                problems.append("%s: no %r" % (name, k))
        found = find_features(e["schema"])
        for tag in found:
            seen.setdefault(tag, []).append(name)
        for tag in e.get("keywords", []):
            if tag not in found:
                problems.append("%s lists %r, which its schema does not use" % (name, tag))
        bad = check_schema_valid(e["schema"])
        if bad == "skip":
            skipped_check = True
        elif bad:
            problems.append("%s: not a valid schema: %s" % (name, bad))
        if verbose:
            print("%-32s %s" % (name, " ".join(sorted(found))))
    missing = [t for t in REQUIRED if t not in seen]
    also = [t for t in ALSO_ENFORCED if t in seen]
    if also:
        print("also used (enforced beyond the issue's list): " + ", ".join(also))
    print("corpus: %d entries; %d of %d required features used" % (
        len(corpus), len(REQUIRED) - len(missing), len(REQUIRED)))
    if verbose:
        for t in REQUIRED:
            print("  %-30s %3d  %s" % (t, len(seen.get(t, [])), ", ".join(seen.get(t, [])[:4])))
    if skipped_check:
        print("warning: jsonschema is not installed; schemas were not checked against their drafts")
    if len(corpus) < 40:
        problems.append("fewer than 40 entries")
    for t in missing:
        problems.append("missing: " + t)
    for p in problems:
        print("PROBLEM: " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
