#!/usr/bin/env python3
"""Render chat templates with llama-cpp-python to make test/chat/golden.json.

The engine's chat-template renderer (src/engine/chat_template.c) must produce
byte-identical prompts to llama-cpp-python's Jinja2ChatFormatter, the Jinja
path llama-cpp-python takes for a GGUF's tokenizer.chat_template.  This
script renders, with that formatter:

  * every template in test/data/chat-templates/ (see its README) against a
    set of message lists, with the bos/eos token texts those models use;
  * small inline templates that exercise the Jinja features the
    interpreter implements (whitespace control, filters, tests, loops,
    macros, namespaces, Python value formatting, error cases).

Outcomes that are errors are recorded too: the engine must fail as well,
and for raise_exception() with the same message.

strftime_now() is pinned to FIXED_NOW so the output is reproducible (the
C test passes the same time to the renderer).

Run from the repository root:  python3 test/chat/make_golden.py
If llama_cpp is not importable it falls back to an exact replica of the
formatter's jinja2 environment (and says so in the output's "generator").
"""
import datetime
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE_DIR = os.path.join(ROOT, "test", "data", "chat-templates")
OUT = os.path.join(ROOT, "test", "chat", "golden.json")

FIXED_NOW = datetime.datetime(2025, 3, 9, 14, 5, 7)

try:
    import llama_cpp
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    Jinja2ChatFormatter.strftime_now = staticmethod(lambda f: FIXED_NOW.strftime(f))
    GENERATOR = "llama_cpp %s Jinja2ChatFormatter, jinja2 %s" % (
        llama_cpp.__version__, __import__("jinja2").__version__)

    def render(template, messages, bos, eos, add_generation_prompt):
        fmt = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos,
                                  add_generation_prompt=add_generation_prompt)
        return fmt(messages=messages).prompt
except ImportError:  # pragma: no cover - only before llama_cpp is installed
    import jinja2
    import jinja2.ext
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    GENERATOR = "jinja2 %s replica of llama_cpp Jinja2ChatFormatter" % jinja2.__version__

    class IgnoreGenerationTags(Extension):
        tags = {"generation"}

        def parse(self, parser):
            parser.stream.skip(1)
            return parser.parse_statements(("name:endgeneration",), drop_needle=True)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def render(template, messages, bos, eos, add_generation_prompt):
        env = ImmutableSandboxedEnvironment(
            loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True,
            extensions=[IgnoreGenerationTags, jinja2.ext.loopcontrols])
        env.filters["tojson"] = tojson
        tmpl = env.from_string(template)

        def raise_exception(message):
            raise ValueError(message)

        return tmpl.render(messages=messages, eos_token=eos, bos_token=bos,
                           raise_exception=raise_exception,
                           add_generation_prompt=add_generation_prompt,
                           functions=None, function_call=None, tools=None,
                           tool_choice=None,
                           strftime_now=lambda f: FIXED_NOW.strftime(f))


def msg(role, content):
    return {"role": role, "content": content}


SYS = "You are a helpful assistant."
MESSAGE_SETS = {
    "system_user": [msg("system", SYS), msg("user", "Hello!")],
    "user_only": [msg("user", "What is 2+2?")],
    "multi_turn": [msg("user", "Hi"), msg("assistant", "Hello! How can I help?"),
                   msg("user", "Tell me a joke.")],
    "system_multi_turn": [msg("system", SYS), msg("user", "Hi"),
                          msg("assistant", "Hello! How can I help?"),
                          msg("user", "Tell me a joke.")],
    "tricky_content": [
        msg("system", "  Be brief.\n"),
        msg("user", "  Line one\nLine two  \n\tTabbed \u2014 \u00fcn\u00efc\u00f6d\u00e9 \u65e5\u672c\u8a9e "
                    "\U0001F389 \"quotes\" 'single' {{ braces }} {% not a tag %} \\n "),
        msg("assistant", " Sure:\n- a\n- b  \u00a0"),
        msg("user", "\u03a3\u03af\u03c3\u03c5\u03c6\u03bf\u03c2 \u03a3\u0391\u03a3\r\nend\u2028"),
    ],
    "assistant_last": [msg("user", "Ping"), msg("assistant", "Pong")],
    "empty_content": [msg("user", "")],
    "think": [msg("user", "2+2?"), msg("assistant", "<think>\nadd them\n</think>\n\n4"),
              msg("user", "and 3+3?")],
    "system_only": [msg("system", SYS)],
    "no_messages": [],
    "two_users": [msg("user", "one"), msg("user", "two")],
    "custom_role": [msg("user", "hi"), msg("tool", "{\"x\": 1}"), msg("narrator", "so it goes")],
    "none_content": [msg("user", "hi"), msg("assistant", None)],
}

# The bos/eos token texts the models' GGUFs carry.
TOKENS = {
    "HuggingFaceTB-SmolLM2-135M-Instruct.jinja": ("<|im_start|>", "<|im_end|>"),
    "Qwen-Qwen2.5-7B-Instruct.jinja": ("<|endoftext|>", "<|im_end|>"),
    "meta-llama-Llama-3.1-8B-Instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.2-3B-Instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.3-70B-Instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-2-7b-chat-hf.jinja": ("<s>", "</s>"),
    "mistralai-Mistral-7B-Instruct-v0.2.jinja": ("<s>", "</s>"),
    "mistralai-Mistral-Nemo-Instruct-2407.jinja": ("<s>", "</s>"),
    "mistralai-Mistral-Small-3.1-24B-Instruct-2503.jinja": ("<s>", "</s>"),
    "google-gemma-2-2b-it.jinja": ("<bos>", "<eos>"),
    "google-gemma-7b-it.jinja": ("<bos>", "<eos>"),
    "microsoft-Phi-3.5-mini-instruct.jinja": ("<s>", "<|endoftext|>"),
    "microsoft-Phi-3-small-8k-instruct.jinja": ("<|endoftext|>", "<|endoftext|>"),
    "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja": ("<\uff5cbegin\u2581of\u2581sentence\uff5c>",
                                                       "<\uff5cend\u2581of\u2581sentence\uff5c>"),
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja": ("<\uff5cbegin\u2581of\u2581sentence\uff5c>",
                                                       "<\uff5cend\u2581of\u2581sentence\uff5c>"),
    "llama-cpp-deepseek-r1.jinja": ("<\uff5cbegin\u2581of\u2581sentence\uff5c>",
                                    "<\uff5cend\u2581of\u2581sentence\uff5c>"),
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja": ("<|begin_of_text|>", "<|im_end|>"),
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja": ("<|begin_of_text|>", "<|im_end|>"),
    "CohereForAI-c4ai-command-r-plus-tool_use.jinja": ("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
    "CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja": ("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
    "meetkai-functionary-medium-v3.1.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "meetkai-functionary-medium-v3.2.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "fireworks-ai-llama-3-firefunction-v2.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
}

# Inline templates for the interpreter's features.
FEATURES = [
    # whitespace control
    ("ws_lstrip_trim", "  {% if true %}\n  x\n  {% endif %}\n  y\n"),
    ("ws_minus", "a  \n {{- ' b ' -}} \n c {%- if true %} d {% endif -%}  \n e"),
    ("ws_plus", "line1\n    {%+ if true %}kept{% endif %}\n{% if true +%}\nnot trimmed{% endif %}"),
    ("ws_comments", "{#- comment -#}  text  {# c2 #}\nafter\n   {# indented #}\nz {#+ keep +#}\nq"),
    ("ws_raw", "{% raw %}{{ not evaluated }} {% if %}{% endraw %}|\n  {%- raw -%}  x  {%- endraw %}"),
    ("ws_trailing_newlines", "end\n\n"),
    ("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r"),
    ("ws_var_no_lstrip", "  {{ 'v' }}\n\t{% if true %}t{% endif %}"),
    ("ws_unclosed_comment_at_end", "abc  \n{#-"),
    ("ws_unclosed_raw_at_end", "x {% raw %}"),
    ("ws_unicode_spaces", "a\u00a0\n\u3000 {% if true %}\u2028b{%- endif %}\x0b\n  {#- c #}\x1c|"),
    ("ws_nested_blocks", "{% for m in messages %}\n    {% if m.role == 'user' %}\n        U:{{ m.content }}\n    {% else %}\n        O\n    {% endif %}\n{% endfor %}\n"),
    # arithmetic and number formatting
    ("arith", "{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} "
              "{{ 7 / 2 }} {{ 6 / 2 }} {{ 1.5 + 1 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} "
              "{{ 0.00001 }} {{ 3.0 }} {{ -0.0 }} {{ true + 1 }} {{ 10 // 3.0 }} {{ -7 // 2.0 }} {{ 7.5 % 2 }} {{ 1_000 }} "
              "{{ 0x1F }} {{ 0b101 }} {{ 0o17 }} {{ 2.5e-3 }} {{ 123456789.123456789 }} {{ 1/3 }}"),
    ("repr", "{{ [1, 'a', none, true, 1.5, (1,), (), (1, 2), {'k': [2]}, {}, []] }}|{{ messages[0] }}|"
             "{{ [\"it's\", 'say \"hi\"', 'both \\'\"', 'tab\\there', '\\x01\\x7f', '\u00e9\u65e5', '\\u00a0\\u200b\\xad', '\\\\'] }}"),
    ("concat", "{{ 'a' ~ 1 ~ none ~ u ~ true ~ 1.5 ~ [1] }}|{{ 'x' + 'y' }}|{{ [1] + [2] }}|{{ 'ab' * 3 }}|{{ 2 * [0] }}"),
    ("string_literals", "{{ 'a\\tb\\\\c\\'d\\\"e' }}|{{ \"x\\ny\" }}|{{ 'adj' 'acent' }}|{{ '\\u00e9\\U0001F600\\x41\\101\\q' }}"),
    # indexing and slicing
    ("index_slice", "{{ 'abc'[1:] }}|{{ 'h\u00e9llo'[::-1] }}|{{ messages[-1]['role'] }}|{{ messages[1:]|length }}|"
                    "{{ [1,2,3,4,5][1:4:2] }}|{{ [1,2,3][::-1] }}|{{ [1,2,3][-2:] }}|{{ 'abcdef'[-3:-1] }}|"
                    "{{ [1,2,3][5:] }}|{{ 'h\u00e9llo'[1] }}|{{ [1,2][5] }}|{{ messages.0.role }}|{{ 'abc'[10] }}"),
    # string methods
    ("str_methods", "{{ '  a b  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '..a..'.lstrip('.') }}|{{ '..a..'.rstrip('.') }}|"
                    "{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }}|"
                    "{{ '  a  b  '.rsplit(None, 1) }}|{{ 'Hello'.startswith('He') }}|{{ 'Hello'.endswith(('x', 'lo')) }}|"
                    "{{ 'hello wORLD'.title() }}|{{ 'HELLO'.lower() }}|{{ 'ab'.upper() }}|{{ 'aaa'.replace('a', 'b', 2) }}|"
                    "{{ 'abcabc'.find('c') }}|{{ 'abcabc'.rfind('c') }}|{{ 'abcabc'.count('bc') }}|{{ '-'.join(['a', 'b']) }}|"
                    "{{ 'x\\ny\\r\\nz'.splitlines() }}|{{ 'ab'.replace('', '-') }}|{{ ' '.isspace() }}|{{ 'ab'.islower() }}|"
                    "{{ '\u00e9t\u00e9'.find('t') }}|{{ 'hello world'.capitalize() }}"),
    # filters
    ("filters", "{{ '  x  '|trim }}|{{ 'xxyxx'|trim('x') }}|{{ 'ab'|upper }}|{{ 'hello WORLD'|title }}|{{ 'hello WORLD'|capitalize }}|"
                "{{ [3,1,2]|length }}|{{ 'h\u00e9'|count }}|{{ u|default('dflt') }}|{{ none|default('n') }}|{{ ''|default('e', true) }}|"
                "{{ u|d('d') }}|{{ 'a-b-c'|replace('-', '+') }}|{{ 'a-b-c'|replace('-', '+', 1) }}|{{ [1,2,3]|join(', ') }}|"
                "{{ [1,2,3]|first }}|{{ [1,2,3]|last }}|{{ 'abc'|list }}|{{ [1,2,3]|reverse|list }}|{{ 'abc'|reverse }}|"
                "{{ 42|string + '!' }}|{{ '5'|int + 1 }}|{{ ' 7 '|int }}|{{ 'x'|int }}|{{ '3.9'|int }}|{{ 'x'|int(-1) }}|"
                "{{ '2.5'|float }}|{{ 3|float }}|{{ -3|abs }}|{{ '<&>\"\\''|e }}|{{ [1,2,2,3,1]|unique|list }}|"
                "{{ ['A','a','b']|unique|list }}|{{ [1,2,3]|sum }}|{{ [1,2]|sum(start=10) }}|{{ 'x'|safe }}|{{ none|string }}|"
                "{{ messages|map(attribute='role')|unique|join('/') }}|{{ {'a': 1}|list }}|{{ 'hello-world (x)[y]'|title }}"),
    ("tojson", "{{ {'a': '\u00e9\"\\n\\t\\x01<>&\\'', 'b': [1, 2.5, none, true, false], 'c': {}}|tojson }}|"
               "{{ [1, {'x': 1, 'y': []}]|tojson(indent=2) }}|{{ '\u00fc\U0001F600'|tojson(ensure_ascii=true) }}|"
               "{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}|{{ messages|tojson }}|{{ (1, 'x')|tojson }}|"
               "{{ {'a': [1, 2]}|tojson(separators=(',', ':')) }}|{{ {1: 'int key', none: 'n'}|tojson }}|"
               "{{ [1]|tojson(indent='--') }}|{{ 1e100|tojson }}"),
    ("select_map", "{{ messages|selectattr('role', 'equalto', 'user')|list|length }}|{{ messages|map(attribute='role')|join(',') }}|"
                   "{{ messages|rejectattr('role', 'eq', 'system')|map(attribute='content')|list }}|"
                   "{{ [1,2,3,4]|select('odd')|list }}|{{ [1,2,3,4]|reject('even')|list }}|{{ ['a','B']|map('upper')|list }}|"
                   "{{ [0, 1, '', 'x']|select|list }}|{{ messages|selectattr('role')|list|length }}|"
                   "{{ messages|map(attribute='missing', default='dflt')|list }}|{{ messages|items|list if false else 'x' }}|"
                   "{{ [{'a': {'b': 5}}]|map(attribute='a.b')|list }}|{{ [[1, 2]]|map(attribute='1')|list }}"),
    # loops
    ("loop_vars", "{% for m in messages %}{{ loop.index }}/{{ loop.length }}:{{ loop.first }}{{ loop.last }}"
                  "{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.index0 }}<{{ loop.previtem.role if loop.previtem }}|"
                  "{{ loop.nextitem.role if loop.nextitem }}>{{ loop.cycle('a', 'b') }}{{ loop.depth }}"
                  "{% if not loop.last %},{% endif %}{% endfor %}"),
    ("loop_filter_else", "{% for m in messages if m.role != 'system' %}{{ loop.index0 }}{{ m.role }}/{{ loop.length }} "
                         "{% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}|"
                         "{% for x in [1] if x > 5 %}{% else %}filtered{% endfor %}"),
    ("loop_control", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}"
                     "{{ i }}{% endfor %}|{% for i in range(3) %}{% for j in range(3) %}{% if j == 1 %}{% break %}{% endif %}"
                     "{{ i }}{{ j }} {% endfor %}{% endfor %}|{{ range(5)|list }}|{{ range(1, 10, 3)|list }}|{{ range(5, 0, -2)|list }}"),
    ("loop_unpack", "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}|"
                    "{% for k, v in messages[0]|items %}{{ k }}:{{ v }};{% endfor %}|{% for a, b in [(1, 2), [3, 4], 'xy'] %}{{ a }}{{ b }}{% endfor %}|"
                    "{% for c in 'h\u00e9y' %}[{{ c }}]{% endfor %}|{% for k in {'z': 1, 'y': 2} %}{{ k }}{% endfor %}|"
                    "{% for x in u %}never{% endfor %}|{% for i in range(2) %}{% for j in range(2) %}{{ loop.depth }}{{ loop.index }}{% endfor %}{% endfor %}"),
    ("loop_changed", "{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}"),
    # scoping and namespaces
    ("namespace", "{% set ns = namespace(n=0, s='', found=false) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
                  "{% set ns.s = ns.s ~ m.role[0] %}{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}"
                  "{% set local = 1 %}{% endfor %}{{ ns.n }} {{ ns.s }} {{ ns.found }} {{ local is defined }} {{ ns.missing }}|"
                  "{{ ns['n'] }}|{% set ns2 = namespace({'a': 1}, b=2) %}{{ ns2.a }}{{ ns2.b }}|{{ ns2 }}"),
    ("scoping", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}|"
                "{% for i in [1, 2] %}{% if loop.first %}{% set y = 5 %}{% endif %}[{{ y }}]{% endfor %}|"
                "{% if true %}{% set z = 3 %}{% endif %}{{ z }}|{{ w }}{% set w = 2 %}{{ w }}|"
                "{% set messages = messages[1:] %}{{ messages|length }}|{% set a, b = 1, 2 %}{{ a }}{{ b }}|"
                "{% with q = 1, r = 'x' %}{{ q }}{{ r }}{% endwith %}{{ q is defined }}"),
    ("macros", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} "
               "{{ greet('Al', punct='?') }} {{ greet(name='Z') }} [{{ greet() }}]|"
               "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1)|int) }}{% endif %}{% endmacro %}{{ fact(5) }}|"
               "{% set g = namespace(v=0) %}{% macro bump() %}{% set g.v = g.v + 1 %}{% endmacro %}{{ bump() }}{{ bump() }}{{ g.v }}|"
               "{% macro uses_outer() %}{{ bos_token }}{{ messages|length }}{% endmacro %}{{ uses_outer() }}"),
    # tests and logic
    ("tests", "{{ none is none }} {{ 1 is number }} {{ 'a' is string }} {{ messages is iterable }} {{ messages[0] is mapping }} "
              "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(2) }} {{ u is defined }} {{ u is undefined }} "
              "{{ 'a' is in 'abc' }} {{ 2 is in [1, 2] }} {{ 1 is sameas 1 }} {{ 'AB' is upper }} {{ 'ab' is lower }} {{ true is boolean }} "
              "{{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ 1 is eq 1 }} {{ 2 is gt 1 }} {{ 2 is lessthan 1 }} "
              "{{ 2 is ne 2 }} {{ 'x' is not string }} {{ none is not none }} {{ messages is sequence }} {{ 'x' is sequence }} "
              "{{ 5 is sequence }} {{ raise_exception is callable }} {{ true is true }} {{ 1 is true }} {{ false is false }} "
              "{{ {} is iterable }} {{ none is iterable }} {{ u is iterable }} {{ 'upper' is filter }} {{ 'odd' is test }} {{ 1 is ge 1 }}"),
    ("logic", "{{ 'y' if messages else 'n' }}|{{ 'x' if false }}|{{ none or 'dflt' }}|{{ 0 and 1 }}|{{ not none }}|"
              "{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 'a' in ['a'] }}|{{ 'z' not in 'abc' }}|{{ 'role' in messages[0] }}|"
              "{{ 1 == 1.0 }}|{{ [1, 2] == [1, 2] }}|{{ (1, 2) == [1, 2] }}|{{ {'a': 1} == {'a': 1.0} }}|{{ 'a' < 'b' }}|"
              "{{ [1, 2] < [1, 3] }}|{{ u == u }}|{{ none == u }}|{{ 'x' != 1 }}|{{ not not 'a' }}|{{ '' or [] or 0 }}|"
              "{{ 1 if 0 else 2 if 0 else 3 }}|{{ messages[0] == messages[0] }}|{{ true == 1 }}|{{ 2 == 2.5 }}"),
    ("set_blocks", "{% set x %}  inner {{ 1 }}  {% endset %}[{{ x }}]{% set y | upper %}abc{% endset %}{{ y }}"
                   "{% filter upper %}shout {{ 'it' }}{% endfilter %}{% filter replace('a', 'o')|title %}banana{% endfilter %}"),
    ("misc_tags", "{% generation %}gen {{ 1 }}{% endgeneration %}|{% print 'p', 1 %}|{{ 1, 'two' }}|{{ (1) }}|{{ () }}"),
    ("dicts", "{% set d = {'a': 1, 'b': {'c': 2}} %}{{ d.a }}{{ d['b']['c'] }}{{ d.get('z', 'no') }}{{ d.get('a') }}{{ d.get('z') }}"
              "{{ d.b.c }}{{ d|length }}{{ d.keys()|list }}{{ d.values()|list }}{{ d.items()|list }}{{ d.missing }}|"
              "{{ dict(x=1, y='2') }}|{{ {'a': 1, 'a': 2} }}|{{ {1: 'a', 1.0: 'b', true: 'c'} }}|{{ d|attr('a') }}|{{ d|attr('items') is callable }}"),
    ("unicode_case", "{{ 'stra\u00dfe \u03a3\u0391\u03a3 \u01c4 \u0149 \ufb01'|upper }}|{{ '\u03a3\u0391\u03a3 \u039f\u0394\u039f\u03a3 \u03a3'|lower }}|"
                     "{{ '\u01c6emal hello-world \u00dfa'|title }}|{{ '\u01c6emal \u00dfa o\u2019neil'.title() }}|{{ '\u00e9COLE'|capitalize }}|"
                     "{{ '\u0130stanbul'|lower }}|{{ '\u1f80'|upper }}|{{ '\u00c9T\u00c9'.islower() }}|{{ '\u00c9T\u00c9'.isupper() }}"),
    ("strftime", "{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %B %j %I%p %a %y %e %-d %w %%') }}"),
    ("indent", "{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(4, true) }}|{{ 'x\\n\\ny'|indent(width='> ', blank=true) }}|{{ 'one'|indent }}"),
    ("bos_eos_vars", "{{ bos_token }}{{ eos_token }}{{ add_generation_prompt }}{{ tools }}{{ tools is none }}{{ functions }}"
                     "{{ tool_choice }}{{ date_string is defined }}{{ custom_tools is defined }}"),
    ("python_str", "{{ none }}|{{ true }}|{{ 1.0 }}|{{ 100000000000000000000.0 }}|{{ -5 }}|{{ [none] }}|{{ (none, 'a') }}|{{ u }}|{{ loop }}"),
    ("markup", "{{ ('<b>'|safe) + '<i>' }}|{{ '<' + ('x'|safe) }}|{{ ['a'|e, 'b'|safe, 'c'] }}|"
               "{{ ('<a>'|safe).replace('a', '<') }}|{{ ('x'|safe).join(['<', 1]) }}|{{ ('a b'|safe).split() }}|"
               "{{ 'x'|e is escaped }}|{{ 'x' is escaped }}|{{ ('<'|e)|e }}|{{ ('<'|e)|forceescape }}|{{ ('a'|safe) * 2 }}|"
               "{{ [('<b>'|safe)[0]] }}|{{ [('<b>'|safe)|upper] }}|{{ [('<b>'|safe)|title] }}|{{ ('%s'|safe) % '<' }}|"
               "{{ [('<b>'|safe) ~ '<'] }}|{{ [(' x '|safe)|trim] }}|{{ [('x'|safe)|string] }}|{{ ['<'|e|replace('&', '+')] }}|"
               "{{ none|safe }}|{{ [u|e] }}|{{ ('a<'|safe) == 'a<' }}"),
    ("percent_format", "{{ '%s-%d-%05.1f-%x-%r' % ('a', 3, 2.25, 255, 'q') }}|{{ '%(name)s is %(age)d' % {'name': 'Bo', 'age': 5} }}|"
                       "{{ '%s'|format([1]) }}|{{ '%-4s|%4s|' % ('ab', 'é') }}|"
                       "{{ '%+d % d %o %#o %#x %e %g %%' % (5, 5, 8, 8, 255, 12345.678, 0.00001) }}|{{ '%c%c' % (65, 'é') }}|"
                       "{{ '%(a)s'|format(a=1) }}|{{ '%s' % [1, 2] }}|{{ 'no spec' % {'a': 1} }}|{{ '%s' % u }}|{{ '%.2s|%5.1f|%-6.2e|' % ('abc', 3.14159, 1234.5) }}|"
                       "{{ '%*d|%-*d|%.*f' % (4, 7, 3, 8, 2, 1.005) }}|{{ '%5%' if false }}|{{ '%d' % 3.99 }}|{{ '%i' % true }}"),
    ("dict_views", "{{ {'a': 1}.items() }}|{{ {'a': 1}.keys() }}|{{ {'a': 1}.values()|list }}|{{ {'a': 1}.keys() is sequence }}|"
                   "{{ {'a': 1}.items()|length }}|{{ 'a' in {'a': 1}.keys() }}|{{ {'a': 1}.keys()[0] }}"),
    ("loop_else_quirks", "{% for i in [1, 2] %}{% break %}{% else %}E{% endfor %}|"
                         "{% for i in [1, 2] %}{% if i == 2 %}{% continue %}{% endif %}{% else %}E2{% endfor %}|"
                         "{% for i in [1, 2] %}{% if i == 1 %}{% continue %}{% endif %}{% else %}E3{% endfor %}|"
                         "{% for i in [1] %}{% filter upper %}drop{% continue %}{% endfilter %}kept{% endfor %}|"
                         "{% set b %}{% set q = 1 %}{% endset %}{{ q is defined }}|{% for i in [1] %}{{ loop|length }}{% endfor %}"),
    ("folding_quirks", "{{ not 10[::2] }}|{{ (-1) ** messages|length }}|{{ -2 ** 2 }}|{{ (0 - 3) ** (messages|length) }}|"
                       "{{ 1 or u.x }}|{{ 10[::2] is defined }}|{{ 10[::2] }}|{{ (-1.5) ** (messages|length) }}|{{ messages[] }}"),
    ("recursive_repr", "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}|{% set ns.l = [ns] %}{{ ns.l }}"),
    ("lazy_generators", "{{ 'ab'|select('odd') is defined }}|{{ none|map('upper')|list }}|{{ [1, 'a']|select('odd')|first }}|"
                        "{{ (5|map('x') is defined) }}|{{ 1 in [1, 'a']|select('odd') }}|{{ {'a': 1}|items|list }}"),
    ("soft_unknown_filter", "{% if false %}{{ x|from_json }}{% elif false %}{{ x is nosuchtest }}{% endif %}"
                            "{{ 'y' if true else z|nope }}ok"),
    # runtime errors
    ("err_unknown_filter_run", "{% if true %}{{ '{}'|from_json }}{% endif %}"),
    ("err_unknown_filter_hard", "{% if false %}{% for j in [] %}{{ x|nope }}{% endfor %}{% endif %}"),
    ("err_format_missing", "{{ '%s %s' % ('a',) }}"),
    ("err_format_extra", "{{ '%s' % (1, 2) }}"),
    ("err_lazy_consumed", "{{ [1, 'a']|select('odd')|list }}"),
    ("err_type_add", "{{ 'a' + 1 }}"),
    ("err_undefined_add", "{{ u + 1 }}"),
    ("err_raise", "{{ raise_exception('custom message: ' ~ messages|length) }}"),
    ("err_div_zero", "{{ 1 / 0 }}"),
    ("err_iter_none", "{% for x in none %}{% endfor %}"),
    ("err_undefined_attr", "{{ u.x }}"),
    ("err_list_tuple", "{{ [1] + (2,) }}"),
    ("err_unpack", "{% for a, b in [(1, 2, 3)] %}{% endfor %}"),
    ("err_none_plus", "{{ messages[0].content + none }}"),
    ("err_compare", "{{ 1 < 'a' }}"),
    ("err_len_int", "{{ 5|length }}"),
    ("err_append", "{% set l = [1] %}{{ l.append(2) }}"),
    ("err_ns_assign", "{% set x = 1 %}{% set x.y = 2 %}"),
    ("err_items_list", "{{ [1]|items|list }}"),
]


def outcome(template, messages, bos, eos, add_generation_prompt):
    try:
        return {"expected": render(template, messages, bos, eos, add_generation_prompt)}
    except ValueError as e:
        # raise_exception() raises a plain ValueError; so does Python for
        # e.g. unpacking, so look at the frame that raised it
        tb = e.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        if type(e) is ValueError and tb.tb_frame.f_code.co_name == "raise_exception":
            return {"error": "raise_exception", "message": str(e)}
        return {"error": type(e).__name__, "message": str(e)}
    except Exception as e:  # jinja2 errors, TypeError, ...
        return {"error": type(e).__name__, "message": str(e)}


def main():
    cases = []
    files = sorted(f for f in os.listdir(TEMPLATE_DIR) if f.endswith(".jinja"))
    for fname in files:
        if fname not in TOKENS:
            sys.exit("no bos/eos known for %s: add it to TOKENS" % fname)
        with open(os.path.join(TEMPLATE_DIR, fname), encoding="utf-8", newline="") as fh:
            template = fh.read()
        bos, eos = TOKENS[fname]
        for set_name, messages in MESSAGE_SETS.items():
            for agp in (True, False):
                if not agp and set_name not in ("multi_turn", "assistant_last", "system_user"):
                    continue
                case = {"name": "%s/%s%s" % (fname[:-6], set_name, "" if agp else "/no_gen"),
                        "template": fname, "bos": bos, "eos": eos,
                        "add_generation_prompt": agp, "messages": messages}
                case.update(outcome(template, messages, bos, eos, agp))
                cases.append(case)
    feature_messages = MESSAGE_SETS["system_multi_turn"]
    for name, text in FEATURES:
        case = {"name": "feature/" + name, "template_text": text, "bos": "<s>", "eos": "</s>",
                "add_generation_prompt": True, "messages": feature_messages}
        case.update(outcome(text, feature_messages, "<s>", "</s>", True))
        cases.append(case)
    doc = {
        "generator": GENERATOR,
        "note": "made by test/chat/make_golden.py; strftime_now() pinned to 'now'",
        "now": FIXED_NOW.strftime("%Y-%m-%dT%H:%M:%S"),
        "cases": cases,
    }
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    n_err = sum(1 for c in cases if "error" in c)
    print("%s: %d cases (%d expect an error) from %s" % (OUT, len(cases), n_err, GENERATOR))


if __name__ == "__main__":
    main()
