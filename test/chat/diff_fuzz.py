#!/usr/bin/env python3
"""Differential fuzzing: random Jinja templates through llama-cpp-python's
Jinja2ChatFormatter and through the engine (test/chat/render_cli.c).

Every template that llama-cpp-python renders must render byte-identically
in the engine, or fail there with LLM_ERR_UNSUPPORTED (a construct the
engine documents as unsupported) or LLM_ERR_LIMIT (a program limit such
as 64-bit integers); those are counted and listed separately.  A
template llama-cpp-python rejects must be rejected by the engine too.

  python3 test/chat/diff_fuzz.py [count] [seed] [lex]

"lex" mode throws random mixes of tag delimiters, whitespace and text at
both, to check whitespace control and tag recognition.

Build render_cli first (see its header comment); RENDER_CLI overrides its
path (default /tmp/render_cli).
"""
import copy
import json
import os
import warnings
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import render  # noqa: E402  (pinned strftime_now)

CLI = os.environ.get("RENDER_CLI", "/tmp/render_cli")
LLM_ERR_UNSUPPORTED = 3
LLM_ERR_LIMIT = 6  # 64-bit integers, output size: documented program limits

PRELUDE = ("{% set s = '  Hello, W\u00f6rld! \u03a3\u0391\u03a3  ' %}{% set lst = [3, 1, 'a', none, 2.5, true] %}"
           "{% set d = {'k': 'v', 'n': 2, 'l': [1, 2]} %}{% set ns = namespace(x=0, y='') %}")

STRINGS = ["''", "'<b>&'", "'<b>'|safe", "'x<'|e", "'a'", "'Hello'", "' sp '", "'x\\ny'", "'\u00e9\u00df\u65e5'", "'a,b,,c'", "'\\t'",
           "\"q'\"", "'ABC'", "'role'", "'user'", "'system'", "'</think>'", "'{{x}}'", "'%'", "'\\\\'"]
NUMBERS = ["0", "1", "2", "3", "-1", "10", "0.5", "2.5", "-2.25", "1e3", "7", "100"]
NAMES = ["messages", "s", "lst", "d", "ns", "ns.x", "ns.y", "u", "bos_token", "eos_token",
         "add_generation_prompt", "tools", "none", "true", "false", "m", "loop", "i"]
FILTERS = ["trim", "length", "upper", "lower", "title", "capitalize", "string", "list", "first", "last",
           "reverse", "join", "join(',')", "default('D')", "default('D', true)", "replace('a', 'b')",
           "int", "float", "abs", "tojson", "tojson(indent=2)", "items", "unique", "sum",
           "select('odd')", "reject('none')", "map('string')", "map(attribute='role')",
           "selectattr('role', 'equalto', 'user')", "indent(2)", "e", "safe", "count", "d", "list|length",
           "trim('x')", "tojson(sort_keys=true)", "attr('x')", "title|reverse", "join('-', attribute='role')",
           "safe", "e|upper", "forceescape", "string|e", "safe|trim", "list|join('<')", "selectattr('role')|list",
           "map(attribute='content')|join", "replace('<', '>')", "unique(attribute='role')|list", "first|e",
           "default(none)", "tojson(ensure_ascii=true)", "indent(width='>')", "lower|safe", "batch(2)"]
TESTS = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping",
         "iterable", "sequence", "odd", "even", "divisibleby 2", "in 'abc'", "in [1, 2]", "eq 1",
         "lower", "upper", "boolean", "true", "false", "callable", "gt 1", "sameas none", "escaped",
         "equalto 'user'", "ne 2", "le 3", "filter", "test", "divisibleby(3)"]
METHODS = ["strip()", "strip('H ')", "lstrip()", "rstrip()", "split()", "split(',')", "split(' ', 1)",
           "rsplit(',', 1)", "startswith('H')", "endswith(('!', ' '))", "upper()", "lower()", "title()",
           "capitalize()", "replace('l', 'L')", "find('o')", "rfind('o')", "count('l')", "splitlines()",
           "isspace()", "islower()", "isupper()", "get('k')", "get('z', 1)", "items()", "keys()", "values()",
           "join(['a', 'b'])", "join([1, '<'])", "split('l', 1)", "replace('<', '>')", "strip('<')"]
WS = ["", " ", "\n", "  \n  ", "\t", "x", "\n\n", " \n", "\n  ", "  ", "\t \n", "\u00a0",
      "\u3000\n", "\r\n", "\n\t  ", " \u2003"]


def expr(r, depth=0):
    k = r.random()
    if depth > 3 or k < 0.25:
        c = r.random()
        if c < 0.35:
            return r.choice(STRINGS)
        if c < 0.6:
            return r.choice(NUMBERS)
        if c < 0.9:
            return r.choice(NAMES)
        return r.choice(["messages[0]", "messages[-1]", "messages[1:]", "messages[0].role",
                         "messages[0]['content']", "s[1:4]", "s[::-1]", "lst[-2]", "d.k", "d['l']",
                         "loop.index", "loop.first", "m.role", "m.content"])
    if k < 0.35:
        return "%s|%s" % (expr(r, depth + 1), r.choice(FILTERS))
    if k < 0.45:
        return "%s is %s%s" % (expr(r, depth + 1), r.choice(["", "not "]), r.choice(TESTS))
    if k < 0.55:
        return "(%s).%s" % (expr(r, depth + 1), r.choice(METHODS))
    if k < 0.75:
        op = r.choice(["+", "-", "*", "/", "//", "%", "~", "and", "or", "==", "!=", "<", ">=",
                       "in", "not in", "**"])
        return "(%s %s %s)" % (expr(r, depth + 1), op, expr(r, depth + 1))
    if k < 0.8:
        return "not %s" % expr(r, depth + 1)
    if k < 0.85:
        return "(%s if %s else %s)" % (expr(r, depth + 1), expr(r, depth + 1), expr(r, depth + 1))
    if k < 0.9:
        return "[%s]" % ", ".join(expr(r, depth + 1) for _ in range(r.randint(0, 3)))
    if k < 0.95:
        return "%s[%s]" % (expr(r, depth + 1), r.choice(["0", "1", "-1", "'role'", "'k'", "1:", ":-1", "::2"]))
    return "-%s" % expr(r, depth + 1)


def tag(r, body):
    return "{%s%s%s}" % ("%" + r.choice(["", "", "-", "+"]), " %s " % body, r.choice(["", "", "-", "+"]) + "%")


def out(r, e):
    return "{{%s %s %s}}" % (r.choice(["", "", "-"]), e, r.choice(["", "", "-"]))


def stmts(r, depth=0, in_loop=False):
    parts = []
    for _ in range(r.randint(1, 4)):
        parts.append(r.choice(WS))
        k = r.random()
        if k < 0.4 or depth > 2:
            parts.append(out(r, expr(r)))
        elif k < 0.55:
            parts.append(tag(r, "if %s" % expr(r)) + stmts(r, depth + 1, in_loop))
            if r.random() < 0.4:
                parts.append(tag(r, "elif %s" % expr(r)) + stmts(r, depth + 1, in_loop))
            if r.random() < 0.4:
                parts.append(tag(r, "else") + stmts(r, depth + 1, in_loop))
            parts.append(tag(r, "endif"))
        elif k < 0.7:
            target = r.choice(["m", "i", "k, v"])
            it = r.choice(["messages", "lst", "s", "d", "d.items()", "range(3)", "messages|reverse",
                           expr(r), "d|items", "[(1, 2), (3, 4)]"])
            cond = (" if %s" % expr(r)) if r.random() < 0.3 else ""
            parts.append(tag(r, "for %s in %s%s" % (target, it, cond)) + stmts(r, depth + 1, True))
            if r.random() < 0.2:
                parts.append(tag(r, "else") + stmts(r, depth + 1, in_loop))
            parts.append(tag(r, "endfor"))
        elif k < 0.8:
            parts.append(tag(r, "set %s = %s" % (r.choice(["x", "i", "ns.x", "ns.y", "m"]), expr(r))))
        elif k < 0.85:
            parts.append("{#%s c %s#}" % (r.choice(["", "-", "+"]), r.choice(["", "-", "+"])))
        elif k < 0.9 and in_loop:
            parts.append(tag(r, r.choice(["break", "continue"])))
        elif k < 0.92:
            parts.append(tag(r, "macro mac(a, b='B')") + out(r, "a ~ b") + tag(r, "endmacro")
                         + out(r, r.choice(["mac(%s)", "mac(b=%s, a=1)", "mac(1, %s)"]) % expr(r)))
        elif k < 0.94:
            parts.append(tag(r, r.choice(["set blk", "set blk | upper", "filter trim", "filter upper|e"]))
                         + stmts(r, depth + 1, in_loop)
                         + tag(r, "end" + ("filter" if "filter" in parts[-1] else "set")) if False else
                         (lambda kind: tag(r, kind) + stmts(r, depth + 1, in_loop) +
                          tag(r, "endfilter" if kind.startswith("filter") else "endset") +
                          (out(r, "blk") if kind.startswith("set") else ""))(
                             r.choice(["set blk", "set blk | upper", "filter trim", "filter upper|e"])))
        elif k < 0.95:
            parts.append(tag(r, "raw") + r.choice(WS) + "{{ raw }}" + r.choice(WS) + tag(r, "endraw"))
        else:
            parts.append(r.choice(WS) + "text" + r.choice(WS))
    parts.append(r.choice(WS))
    return "".join(parts)


LEX_PIECES = ["{%", "%}", "{%-", "-%}", "{%+", "+%}", "{{", "}}", "{{-", "-}}", "{#", "#}", "{#-", "-#}",
              "{#+", "+#}", " ", "  ", "\n", "\n\n", "\t", "\r\n", "\r", "x", "yz", " if true ", " endif ",
              " if false ", " else ", " for c in 'ab' ", " endfor ", " 'q' ", " 1 ", "{", "}", "%", "#", "-", "+",
              " raw ", " endraw ", "\u00a0", "\u2028", "\x0b", "\x1c", "\u3000", "{% raw %}", "{% endraw %}",
              "{{ 'a' }}", "{%- if true -%}", "{% endif %}", "{# c #}", "'", "\"", "{{ '}}' }}"]


def lex_template(r):
    """Random mixes of tag delimiters, whitespace and text (whitespace control)."""
    return "".join(r.choice(LEX_PIECES) for _ in range(r.randint(1, 25)))


MESSAGE_SETS = [
    [{"role": "system", "content": "Sys  "}, {"role": "user", "content": "Hi \u00e9!"},
     {"role": "assistant", "content": " ok\n"}, {"role": "user", "content": "again"}],
    [{"role": "user", "content": "only"}],
    [{"role": "user", "content": "a"}, {"role": "assistant", "content": None}],
]


def main():
    warnings.simplefilter("ignore")
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    lex_mode = len(sys.argv) > 3 and sys.argv[3] == "lex"
    r = random.Random(seed)
    cases, py = [], []
    for _ in range(count):
        text = lex_template(r) if lex_mode else PRELUDE + stmts(r)
        # a copy: jinja2's indent filter on a list extends it in place
        msgs = copy.deepcopy(r.choice(MESSAGE_SETS))
        agp = r.random() < 0.7
        case = {"template": text, "messages": msgs, "bos": "<s>", "eos": "</s>", "add_generation_prompt": agp}
        try:
            res = {"ok": True, "out": render(text, copy.deepcopy(msgs), "<s>", "</s>", agp)}
        except Exception as e:  # noqa: BLE001
            res = {"ok": False, "err": "%s: %s" % (type(e).__name__, e)}
        # outputs with NUL bytes or object addresses cannot be compared
        if res["ok"] and ("\0" in res["out"] or re.search(r"(?i)generator|rotareneg|0x[0-9a-f]{6}|[0-9a-f]{6}x0", res["out"])):
            continue
        cases.append(case)
        py.append(res)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(cases, fh, ensure_ascii=False)
        path = fh.name
    proc = subprocess.run([CLI, path], capture_output=True, text=True, encoding="utf-8")
    os.unlink(path)
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        sys.exit("render_cli failed (%d)" % proc.returncode)
    got = json.loads(proc.stdout)
    bad = unsupported = ok = 0
    for case, want, have in zip(cases, py, got):
        if want["ok"] and have["ok"] and want["out"] == have["out"]:
            ok += 1
            continue
        if not want["ok"] and not have["ok"]:
            ok += 1
            continue
        if want["ok"] and not have["ok"] and have["status"] in (LLM_ERR_UNSUPPORTED, LLM_ERR_LIMIT):
            unsupported += 1
            if unsupported <= 5:
                print("UNSUPPORTED:", have["msg"])
            continue
        bad += 1
        if bad <= 15:
            print("MISMATCH\n  template: %r\n  python: %r\n  engine: %r" % (
                case["template"][0 if lex_mode else len(PRELUDE):], want, have))
    print("%d cases: %d agree, %d unsupported, %d mismatches (seed %d)" % (
        len(cases), ok, unsupported, bad, seed))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
