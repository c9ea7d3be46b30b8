"""The generated Python is safe and deterministic whatever a policy's names and
strings contain.

Policy names never become Python names and policy strings never become code:
for policies whose names are Chinese, Python keywords and builtins, or the
names the generated code itself uses, and whose titles, docs and labels hold
quotes, backslashes, triple quotes, escapes, `#`, `{}` and injection text, the
compiled module

- parses, and is byte-for-byte the same on every compile, in this process and
  in fresh interpreters with different `PYTHONHASHSEED`s;
- imports only decimal, fractions, re and math;
- has only ASCII identifiers, and every non-ASCII character sits inside a
  string literal or a comment;
- is the same code (up to string constants and the ASCII tails of generated
  names) as the same policy with plain names;
- scores records returning the policy's own names as keys, with the right
  values, and runs nothing else.

A name the parser or checker refuses must be refused with `policyc.PolicyError`.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policyc
from policyc.interp import Evaluator
from policyc.runtime import public_number

REPO = Path(__file__).resolve().parents[1]
ALLOWED_IMPORTS = {"decimal", "fractions", "re", "math"}
DANGEROUS_NAMES = {
    "os", "sys", "system", "exec", "eval", "__import__", "open", "compile", "getattr", "setattr",
    "delattr", "globals", "locals", "vars", "input", "print", "breakpoint", "pwned", "subprocess",
    "importlib", "__builtins__", "__loader__", "__spec__",
}
DANGEROUS_ATTRS = {"system", "popen", "__import__", "__globals__", "__subclasses__", "__builtins__",
                   "__code__", "__class__", "__bases__", "__mro__"}
INJECTION = '"); import os; os.system("echo pwned'
NASTY_STRINGS = (
    INJECTION,
    '""" + __import__("os").system("echo pwned") + """',
    "''' + __import__('os').system('echo pwned') + '''",
    "back\\slash \\n not a newline \\\\ two",
    "real\nnewline\tand tab",
    "# not a comment {} {0} {name} %s %(x)s",
    "\\x41\\u0041\\N{DIGIT ONE}",
    "引号“”‘’「」 emoji 😀 and \u202e RTL override",
    "\u0000nul\u2028sep",
    "'",
    '"',
    "\\",
)


def policy_string(text: str) -> str:
    """A policy string literal holding `text` (escapes: \\\\, \\", \\n, \\t)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def fill(template: str, names: dict, strings: dict) -> str:
    """Replace @NAME@ placeholders by names and $STR$ placeholders by string literals."""
    wanted_names = set(re.findall(r"@([A-Za-z0-9]+)@", template))
    wanted_strings = set(re.findall(r"\$([A-Z0-9]+)\$", template))
    assert wanted_names <= set(names) and wanted_strings <= set(strings), "unfilled placeholder"
    out = template
    for k in wanted_names:
        out = out.replace(f"@{k}@", names[k])
    for k in wanted_strings:
        out = out.replace(f"${k}$", policy_string(strings[k]))
    return out


# ───────────────────────── the policies ─────────────────────────

# Each template is written once; `plain` fills it with innocuous names and
# strings, `nasty` with the dangerous ones. The two must compile to the same code.
TEMPLATES = {
    "keywords": {
        "text": '''policy @P@ $TITLE$
period month
source $SOURCE$
input @a@, @b@, @c@, @d@, @f@ : count $DOC1$
input @g@, @h@, @i@, @j@, @k@ : count
input @l@, @m@ : percent $DOC2$
input @n@ : choice @L1@ | @L2@ | $L3$ | $L4$ $DOC3$
let @o@ $DOC4$ = @a@ + @b@
@p@ $DOC5$ = @o@ + @c@ * 2
@q@ = @d@ + @f@ + @g@ + @h@ + @i@ + @j@ + @k@
@r@ = @l@ + @m@
label @s@ = by @n@: @L1@ -> @R1@, @L2@ -> @R2@, else -> $R3$
pay @t@ = 100 if @n@ is @L2@ else 0
@u@ = @p@
@w@ = @q@ $DOC6$
@x@ = 1
@y@ = 2
''',
        "nasty": {
            "P": "class", "a": "import", "b": "None", "c": "exec", "d": "print", "f": "__import__",
            "g": "_K0", "h": "t1", "i": "e", "j": "v", "k": "rec", "l": "Decimal", "m": "Fraction",
            "n": "True", "L1": "False", "L2": "None", "o": "score", "p": "evaluate_batch", "q": "def",
            "r": "lambda", "s": "return", "R1": "yield", "R2": "global", "t": "score_batch",
            "u": "_read", "w": "_public", "x": "RecordError", "y": "POLICY",
        },
        "record": {"import": 1, "None": 2, "exec": 3, "print": 4, "__import__": 5, "_K0": 6, "t1": 7,
                   "e": 8, "v": 9, "rec": 10, "Decimal": Decimal("0.25"), "Fraction": Decimal("0.5"),
                   "True": "None"},
        "expect": {"evaluate_batch": Decimal(9), "def": Decimal(49), "lambda": Decimal("0.75"),
                   "return": "global", "score_batch": Decimal(100), "_read": Decimal(9),
                   "_public": Decimal(49), "RecordError": Decimal(1), "POLICY": Decimal(2)},
    },
    "chinese": {
        "text": '''# 注释 """ \'\'\' {} \\
policy @P@ $TITLE$
period half_month
cohort @T@ by @tm@
input @tm@ : text $DOC1$
input @a@ : count $DOC2$
input @b@ : grade @G1@ > $G2$ > $G3$
input @c@ : money same over @T@ $DOC3$
input @d@ : percent in 0..1 or na
input @e@ : bool
require @a@ <= 100 $DOC4$
require @b@ != $G3$ or @a@ = 0
let @f@ $DOC5$ = 5 per @a@
@g@ $DOC6$ = 100 - @f@ clamp 0 .. 100
label @h@ = first @g@:
    >= 90 -> @R1@
    >= 60 -> $R2$
    else -> $R3$
@i@ = @b@ >= $G2$
pay @j@ = @c@ * @g@ / 100 round 0.01
@k@ = (@d@ when na 0) + 1
@l@ = all:
    @m@: @e@
    @n@: @a@ = 0
@o@ = failed(@l@)
@p@ = rank(@g@ over @T@)
@q@ = streak(@i@)
@r@ = all(@a@ <= 2, @b@ is not $G3$)
@s@ = failed(@r@)
''',
        "nasty": {
            "P": "客服考核", "T": "小组", "tm": "组别", "a": "迟到", "b": "级别", "G1": "优", "c": "奖金池",
            "d": "退款率", "e": "守规", "f": "扣分", "g": "得分", "h": "评级", "R1": "优秀", "i": "良好以上",
            "j": "奖金", "k": "退款加一", "l": "全部达标", "m": "规矩", "n": "全勤", "o": "未达标", "p": "排名",
            "q": "连续", "r": "全部", "s": "失败项",
        },
        "record": {"组别": "一组", "迟到": 3, "级别": "NASTY:G2", "奖金池": Decimal("1000"), "退款率": None,
                   "守规": True},
        "expect": {"得分": Decimal(85), "评级": "NASTY:R2", "良好以上": True, "奖金": Decimal("850.00"),
                   "退款加一": Decimal(1), "全部达标": False, "未达标": ["全勤"], "排名": 1, "连续": 1,
                   "全部": False, "失败项": ["迟到 <= 2"]},
    },
}

PLAIN_STRINGS = {k: f"plain {k}" for k in
                 ("TITLE", "SOURCE", "DOC1", "DOC2", "DOC3", "DOC4", "DOC5", "DOC6", "L3", "L4", "R3",
                  "G2", "G3", "R2")}
NASTY_STRING_MAP = {k: NASTY_STRINGS[i % len(NASTY_STRINGS)] for i, k in enumerate(PLAIN_STRINGS)}
# labels must differ from each other
NASTY_STRING_MAP.update({"L3": INJECTION, "L4": "'''\"\"\"", "R3": "\\n#{}", "G2": 'B"级\\', "G3": "C'级\n",
                         "R2": '"); import os; os.system("echo pwned 2'})


def plain_names(template: dict) -> dict:
    return {k: f"n_{k.lower()}{i}" for i, k in enumerate(template["nasty"])}


def policy_text(name: str, nasty: bool) -> str:
    t = TEMPLATES[name]
    names = t["nasty"] if nasty else plain_names(t)
    strings = NASTY_STRING_MAP if nasty else PLAIN_STRINGS
    return fill(t["text"], names, strings)


def _resolve(value, nasty: bool):
    """Expected values refer to string placeholders as 'NASTY:KEY'."""
    if isinstance(value, str) and value.startswith("NASTY:"):
        return NASTY_STRING_MAP[value[6:]] if nasty else PLAIN_STRINGS[value[6:]]
    if isinstance(value, list):
        return [_resolve(v, nasty) for v in value]
    return value


# ───────────────────────── checks on generated source ─────────────────────────


def import_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in generated code"
            roots.add((node.module or "").split(".")[0])
    return roots


def identifiers(tree: ast.AST) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, ast.alias):
            out.add(node.name)
            if node.asname:
                out.add(node.asname)
        elif isinstance(node, ast.keyword) and node.arg:
            out.add(node.arg)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            out.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
    return out


def non_ascii_outside_strings(src: str) -> list[str]:
    bad = []
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type in (tokenize.STRING, tokenize.COMMENT):
            continue
        if sys.version_info >= (3, 12) and tok.type in (tokenize.FSTRING_START, tokenize.FSTRING_MIDDLE,
                                                        tokenize.FSTRING_END):
            continue
        if not tok.string.isascii():
            bad.append(f"line {tok.start[0]}: {tokenize.tok_name[tok.type]} {tok.string!r}")
    return bad


def assert_safe_source(src: str) -> ast.Module:
    tree = ast.parse(src)
    roots = import_roots(tree)
    assert roots <= ALLOWED_IMPORTS, f"generated code imports {sorted(roots - ALLOWED_IMPORTS)}"
    ids = identifiers(tree)
    non_ascii = sorted(i for i in ids if not i.isascii())
    assert not non_ascii, f"non-ASCII identifiers in generated code: {non_ascii}"
    assert not ids & DANGEROUS_NAMES - {"compile"}, sorted(ids & DANGEROUS_NAMES)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & DANGEROUS_NAMES, sorted(names & DANGEROUS_NAMES)
    attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not attrs & DANGEROUS_ATTRS, sorted(attrs & DANGEROUS_ATTRS)
    bad = non_ascii_outside_strings(src)
    assert not bad, "non-ASCII characters outside string literals and comments:\n" + "\n".join(bad[:20])
    # no f-strings or %-formatting of policy text at import time: only plain literals
    for node in ast.walk(tree):
        assert not isinstance(node, ast.JoinedStr), "f-string in generated code"
    return tree


_GENERATED = re.compile(r"^([idg])(\d+)(_[0-9A-Za-z_]*)?$")


class _Normalize(ast.NodeTransformer):
    """Blank every string constant and the ASCII tail of generated names."""

    def _name(self, s):
        m = _GENERATED.match(s)
        return f"{m.group(1)}{m.group(2)}" if m else s

    def visit_Constant(self, node):
        if isinstance(node.value, str):
            return ast.copy_location(ast.Constant(value=""), node)
        return node

    def visit_Name(self, node):
        node.id = self._name(node.id)
        return node

    def visit_FunctionDef(self, node):
        node.name = self._name(node.name)
        self.generic_visit(node)
        return node

    def visit_arg(self, node):
        node.arg = self._name(node.arg)
        return node


def normalized(src: str) -> str:
    return ast.dump(_Normalize().visit(ast.parse(src)), include_attributes=False)


def exec_module(src: str) -> dict:
    ns: dict = {"__name__": "compiled_policy"}
    exec(compile(src, "<standalone>", "exec"), ns)
    return ns


def check_scoring(policy, ns, records, expect=None):
    """Score through the standalone module and the API; keys are the policy's own
    names; values agree with each other, with `expect`, and with the reference."""
    rows = ns["score_batch"]([dict(r) for r in records])
    results = policy.score_batch([dict(r) for r in records])
    p = policy.ir
    assert ns["POLICY"] == p.name
    assert list(ns["OUTPUTS"]) == list(p.outputs)
    assert [n for n, _ in ns["INPUTS"]] == [i.name for i in p.inputs]
    envs, _ = Evaluator(p).run(results[0]._batch.rows())
    for row, res, env in zip(rows, results, envs):
        assert list(row) == ["agent", "period", *p.outputs]
        assert row == res.as_row()
        for name in p.outputs:
            d = p.definition(name)
            want, got = env[name], row[name]
            if d.type.kind == "num" and want is not None:
                want = public_number(want, d.type.count and d.kind not in ("pay", "item"))
                assert type(got) in (int, Decimal) and got == want, (name, got, want)
            else:
                assert type(got) is type(want) and got == want, (name, got, want)
    if expect is not None:
        for name, want in expect.items():
            got = rows[0][name]
            assert isinstance(got, bool) == isinstance(want, bool) and got == want, (name, got, want)
    return rows


# ───────────────────────── fixed policies ─────────────────────────


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_nasty_policy_compiles_to_safe_deterministic_code(name, capfd):
    text = policy_text(name, nasty=True)
    policy = policyc.loads(text)
    src = policy.compile()
    assert_safe_source(src)
    assert policy.compile().encode() == src.encode()
    assert policyc.loads(text).compile().encode() == src.encode()
    # the same code as with plain names and strings
    plain = policyc.loads(policy_text(name, nasty=False)).compile()
    assert normalized(src) == normalized(plain)
    # the policy's own names and strings survive exactly
    ns = exec_module(src)
    t = TEMPLATES[name]
    assert ns["POLICY"] == t["nasty"]["P"]
    assert ns["TITLE"] == NASTY_STRING_MAP["TITLE"]
    record = {"agent": "张伟", "period": "2026-11-H1" if name == "chinese" else "2026-11",
              **{k: _resolve(v, True) for k, v in t["record"].items()}}
    expect = {k: _resolve(v, True) for k, v in t["expect"].items()}
    check_scoring(policy, ns, [record], expect)
    if policy.ir.phases == 1:
        one = ns["score"](dict(record))
        assert one == ns["score_batch"]([dict(record)])[0]
    if name == "chinese":
        # a broken `require` whose text holds the nasty label: reported verbatim, never run
        bad = dict(record, **{"级别": NASTY_STRING_MAP["G3"]})
        for scorer, error in ((ns["score_batch"], ns["RecordError"]), (policy.score_batch, policyc.RecordError)):
            with pytest.raises(error) as err:
                scorer([dict(bad)])
            issue = err.value.errors[0]
            assert issue.field == "级别" and set(issue.fields) == {"级别", "迟到"}
            assert policy_string(NASTY_STRING_MAP["G3"]) in issue.reason
    out = capfd.readouterr()
    assert "pwned" not in out.out + out.err
    assert not (Path.cwd() / "pwned").exists()


def test_shipped_policies_compile_to_safe_code():
    for path in sorted((REPO / "policies").glob("*.policy")):
        src = policyc.load(path).compile()
        assert_safe_source(src)
        assert policyc.load(path).compile().encode() == src.encode(), path


_SUBPROCESS = r"""
import hashlib, json, sys
import policyc
texts = json.load(open(sys.argv[1], encoding="utf-8"))
out = {}
for k, t in sorted(texts.items()):
    out[k] = hashlib.sha256(policyc.loads(t).compile().encode("utf-8")).hexdigest()
print(json.dumps(out, sort_keys=True))
"""


def test_compile_is_identical_across_hash_seeds(tmp_path):
    texts = {n: policy_text(n, nasty=True) for n in TEMPLATES}
    texts.update({p.stem: p.read_text(encoding="utf-8") for p in sorted((REPO / "policies").glob("*.policy"))})
    here = {k: hashlib.sha256(policyc.loads(t).compile().encode("utf-8")).hexdigest() for k, t in texts.items()}
    src_file = tmp_path / "texts.json"
    src_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    for seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONIOENCODING="utf-8")
        env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.run([sys.executable, "-c", _SUBPROCESS, str(src_file)], env=env, cwd=tmp_path,
                              capture_output=True, encoding="utf-8", timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == here, f"PYTHONHASHSEED={seed} compiles differently"


def test_rejected_names_are_policy_errors():
    # reserved and keyword names: refused with a diagnostic, never another exception
    for name in ("agent", "period", "if", "else", "and", "not", "per", "of", "items", "true", "na",
                 "1abc", "a-b", "a.b", "a b", "", "é́", "x\u200by"):
        text = f'policy p "t"\nperiod month\ninput {name} : count\nout = 1\n'
        try:
            policyc.loads(text)
        except policyc.PolicyError as e:
            assert e.diagnostics
        text = f'policy p "t"\nperiod month\ninput a : count\n{name} = a + 1\n'
        try:
            policyc.loads(text)
        except policyc.PolicyError as e:
            assert e.diagnostics


# ───────────────────────── random names ─────────────────────────

DANGEROUS_WORDS = (
    "class", "import", "None", "True", "False", "exec", "eval", "print", "__import__", "_K0", "_K1",
    "t1", "t2", "e", "v", "k", "ok", "rec", "record", "records", "index", "issues", "envs", "col", "seen",
    "owner", "first", "Decimal", "Fraction", "score", "score_batch", "evaluate_batch", "RecordError",
    "RecordIssue", "POLICY", "TITLE", "INPUTS", "OUTPUTS", "_KNOWN", "_read", "_public", "_phase0",
    "i0", "i1_a", "d0", "d1_x", "g0", "public_number", "to_fraction", "read_number", "max", "min", "abs",
    "sum", "len", "def", "lambda", "return", "yield", "global", "nonlocal", "self", "os", "sys",
    "__builtins__", "__name__", "__class__", "agent_", "period_", "os_system", "break", "pass", "raise",
    "try", "except", "finally", "with", "async", "await", "del", "from", "as", "while", "for", "in",
    "is", "if", "else", "not", "and", "or",
)
LETTERS = st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo"], max_codepoint=0x2FFFF)
IDENT_TAIL = st.characters(categories=["Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Mn", "Mc", "Pc", "No", "Nl"],
                           max_codepoint=0x2FFFF)
NAMES = st.one_of(
    st.sampled_from(DANGEROUS_WORDS),
    st.builds(lambda a, b: a + b, LETTERS, st.text(IDENT_TAIL, max_size=6)),
    st.builds(lambda w, s: w + s, st.sampled_from(DANGEROUS_WORDS), st.text(IDENT_TAIL, min_size=1, max_size=3)),
)
STRINGS = st.one_of(st.sampled_from(NASTY_STRINGS), st.text(max_size=12))

RANDOM_TEMPLATE = '''policy @P@ $TITLE$
period month
input @A@ : count $D1$
input @B@ : choice $L1$ | $L2$ $D2$
input @C@ : percent
let @D@ $D3$ = @A@ * 2
@E@ = @D@ + 1 if @B@ is $L1$ else 0
label @F@ = first @C@:
    >= 50% -> $L3$
    else -> $L4$
pay @G@ = by @B@: $L1$ -> 100, $L2$ -> 200
'''


@st.composite
def random_policies(draw):
    names = draw(st.lists(NAMES, min_size=8, max_size=8, unique=True))
    labels = draw(st.lists(STRINGS, min_size=4, max_size=4, unique=True))
    docs = draw(st.lists(STRINGS, min_size=4, max_size=4))
    keys = ("P", "A", "B", "C", "D", "E", "F", "G")
    name_map = dict(zip(keys, names))
    strings = {"L1": labels[0], "L2": labels[1], "L3": labels[2], "L4": labels[3],
               "TITLE": docs[0], "D1": docs[1], "D2": docs[2], "D3": docs[3]}
    return name_map, strings


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(random_policies())
def test_random_names_compile_safely(case):
    names, strings = case
    text = fill(RANDOM_TEMPLATE, names, strings)
    try:
        policy = policyc.loads(text)
    except policyc.PolicyError as e:
        assert e.diagnostics  # refused with a diagnostic: acceptable
        return
    src = policy.compile()
    assert_safe_source(src)
    assert policyc.loads(text).compile().encode() == src.encode()
    plain = fill(RANDOM_TEMPLATE, {k: f"n{k}" for k in names}, {k: f"s{k}" for k in strings})
    assert normalized(src) == normalized(policyc.loads(plain).compile())
    ns = exec_module(src)
    assert ns["POLICY"] == names["P"]
    assert ns["TITLE"] == strings["TITLE"]
    n = names
    records = [
        {"agent": "a", "period": "2026-11", n["A"]: 3, n["B"]: strings["L1"], n["C"]: Decimal("0.6")},
        {"agent": "b", "period": "2026-11", n["A"]: 0, n["B"]: strings["L2"], n["C"]: Decimal("0.5")},
        {"agent": "c", "period": "2026-12", n["A"]: 7, n["B"]: strings["L2"], n["C"]: Decimal("0.49")},
    ]
    rows = check_scoring(policy, ns, records)
    want = [(Decimal(7), strings["L3"], Decimal(100)), (Decimal(0), strings["L3"], Decimal(200)),
            (Decimal(0), strings["L4"], Decimal(200))]
    for row, (e, f, g) in zip(rows, want):
        assert list(row) == ["agent", "period", n["E"], n["F"], n["G"]]
        assert (row[n["E"]], row[n["F"]], row[n["G"]]) == (e, f, g)
    assert policy.score(records[0]).values[n["D"]] == 6
    assert ns["score"](records[0]) == rows[0]


def test_the_safety_checks_themselves():
    # the checks above must catch what they claim to catch
    for unsafe in ("import os\n", "from subprocess import run\n", "变量 = 1\n", "x = __import__('os')\n",
                   "x = rec.system\n", "x = f'{1}'\n", "def 函数():\n    pass\n"):
        with pytest.raises(AssertionError):
            assert_safe_source(unsafe)
    assert_safe_source("from decimal import Decimal\nx = '变量'  # 注释\n")
    assert normalized("i0_abc = 'x'\n") == normalized("i0 = 'y'\n")
    assert normalized("x = 1\n") != normalized("x = 2\n")
    assert normalized("i0_a = 1\n") != normalized("i1_a = 1\n")
