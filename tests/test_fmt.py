"""`policyc fmt`: the canonical layout, its properties, and the command line.

Properties, over every shipped policy and over generated ones (random but valid
text using every construct of the grammar, with comments, blank lines, odd
spacing, continuation lines, inline and block tables, Chinese names and strings
with escapes):

* formatting is idempotent: fmt(fmt(x)) == fmt(x);
* the formatted text parses to the same tree (spans aside);
* every comment of the input is in the output, in the same order.

The hypothesis budget is small here so that `make test` stays fast; run
`HYPOTHESIS_PROFILE=fmt-long pytest tests/test_fmt.py` for a longer search.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyc import fmt
from policyc.cli import main
from policyc.diagnostics import PolicyError, render_one
from policyc.fmt import format_source, scan_comments
from policyc.parser import parse

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(
    [*REPO.glob("policies/**/*.policy"), *REPO.glob("tests/cases/check/good/*.policy"),
     *REPO.glob("tests/acceptance/**/*.policy")]
)

settings.register_profile("fmt", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fmt-long", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = settings.get_profile("fmt-long" if os.environ.get("HYPOTHESIS_PROFILE") == "fmt-long" else "fmt")


def fmt_text(text: str) -> str:
    return format_source(text, "<test>")


def same_tree(a: str, b: str) -> bool:
    return parse(a.lstrip("\ufeff")).statements == parse(b.lstrip("\ufeff")).statements


def comment_texts(text: str) -> list[str]:
    return [c.text for c in scan_comments(text.lstrip("\ufeff").replace("\r\n", "\n"))]


def in_order(needles: list[str], haystack: str) -> bool:
    pos = 0
    for n in needles:
        i = haystack.find(n, pos)
        if i < 0:
            return False
        pos = i + len(n)
    return True


# ───────────────────────── the canonical layout ─────────────────────────


def test_header_inputs_and_doc_column():
    src = (
        'policy  t   "标题"\nperiod month\nsource "原文"\ncohort team by team, shop\nallow extra fields\n'
        "total 130 points\n\n"
        'input level:choice normal|senior|"A级"  "岗位级别"\n'
        'input quality_grade : grade 优>良>中>差 "素质"\n'
        'input late,leave : count in 0..10 "迟到, 请假"\n'
        'input x : points in na or 0 or 2..5 or ..-1 or 7.. same over team higher is better "x"\n'
        "input y : number or na\n"
    )
    assert fmt_text(src) == (
        'policy t "标题"\nperiod month\nsource "原文"\ncohort team by team, shop\nallow extra fields\n'
        "total 130 pts\n\n"
        'input level : choice normal | senior | "A级"    "岗位级别"\n'
        'input quality_grade : grade 优 > 良 > 中 > 差   "素质"\n'
        'input late, leave : count in 0..10              "迟到, 请假"\n'
        'input x : points in 0 or 2..5 or ..-1 or 7.. or na same over team higher is better   "x"\n'
        "input y : number or na\n"
    )


def test_doc_column_counts_wide_characters_as_two():
    out = fmt_text('policy t\ninput 岗位 : count "a"\ninput abcd : count "b"\ninput ab : count "c"\n')
    assert out.splitlines()[1:] == ['input 岗位 : count   "a"', 'input abcd : count   "b"',
                                    'input ab : count     "c"']


def test_definitions_docs_go_before_the_equals_sign():
    src = 'let a = 1 "one"\nb "bee" = 2\nitem c 10 pts "c" = 3\npay d, e = 4 "de"\nf "x" = 5 "y"\n'
    assert fmt_text(src) == ('let a "one" = 1\nb "bee" = 2\nitem c 10 pts "c" = 3\npay d, e "de" = 4\n'
                             'f "x y" = 5\n')


def test_keyword_names():
    src = "pay pay = 1\ntotal = items\nitem item 5 pts = 1\nlabel label = first x: else -> a\nlet = 2\n"
    assert fmt_text(src) == src


def test_minimal_parentheses():
    cases = {
        "x = ((a + b)) * c": "x = (a + b) * c",
        "x = a + (b * c)": "x = a + b * c",
        "x = a - (b - c)": "x = a - (b - c)",
        "x = (a - b) - c": "x = a - b - c",
        "x = 10 per (late beyond 2)": "x = 10 per late beyond 2",
        "x = (leave + swaps) beyond 4": "x = (leave + swaps) beyond 4",
        "x = (a if b else c) round 1": "x = (a if b else c) round 1",
        "x = a if (b if c else d) else e": "x = a if b if c else d else e",
        "x = (a when na 0) >= 90": "x = (a when na 0) >= 90",
        "x = not (a and b)": "x = not (a and b)",
        "x = (not a) and b": "x = not a and b",
        "x = a or (b and c)": "x = a or b and c",
        "x = (a or b) and c": "x = (a or b) and c",
        "x = -(-5)": "x = --5",
        "x = -(a + b)": "x = -(a + b)",
        "x = a round (1 / 2)": "x = a round (1 / 2)",
        "x = a clamp (0) .. (b + 1)": "x = a clamp 0 .. b + 1",
        "x = a when zero (b round 1)": "x = a when zero (b round 1)",
        "x = (a = b) = c": "x = (a = b) = c",
        "x = max((a / b when zero 0) over team)": "x = max(a / b when zero 0 over team)",
    }
    for src, want in cases.items():
        out = fmt_text(src)
        assert out == want + "\n", src
        assert same_tree(src, out), src


def test_operator_spellings_and_numbers_are_kept():
    src = ("x = 60% × a + b ÷ 2 - c * 0.50 / 2min\ny = a is senior and b is not lead and c ≤ 5 and d ≠ 1 "
           "and e == 2 and f ≥ 30s\n")
    assert fmt_text(src) == src


def test_strings_keep_their_content():
    src = 'policy t "a \\"q\\" \\\\ b\\tc\\nd \\x # not a comment"\n'
    out = fmt_text(src)
    assert out == 'policy t "a \\"q\\" \\\\ b\\tc\\nd x # not a comment"\n'
    assert same_tree(src, out)
    assert comment_texts(out) == []


def test_tables_inline_stay_inline_and_blocks_line_up():
    src = (
        "pay base = by level:normal->2000,senior|lead  ->  2500\n"
        "item refund 30 pts = first refund_rate:\n"
        "  <= 5% -> 30\n  <= 10% -> 10\n  else -> 0\n"
        "r = table t:\n    <= 10s -> 100\n    > 10s,< 20s -> 90\n    >= 20s -> 60\n"
        "l = linear t: 10s -> 20, 60s -> 0\n"
        "m = marginal s:\n    0 .. 50000 -> 3%\n    50000 .. -> 8%\n"
        "w = weighted:\n    30% a\n    5% b\n    critical not c\n"
        "g = all:\n    refund:refund_rate <= 5%\n    dsr: dsr >= 4.8\n    x > 1\n"
        "h = any: a: x > 1, y < 2\n"
        "c = first:\n    late = 0 and slow_complaints = 0 and refund_rate <= 5% and dsr >= 4 -> 10\n"
        "    else -> 0\n"
        "k = first n: 3 .. 4 -> -5, >= 5 -> -10, else -> 0\n"
    )
    assert fmt_text(src) == (
        "pay base = by level: normal -> 2000, senior | lead -> 2500\n"
        "item refund 30 pts = first refund_rate:\n"
        "    <= 5%  -> 30\n    <= 10% -> 10\n    else   -> 0\n"
        "r = table t:\n    <= 10s       -> 100\n    > 10s, < 20s -> 90\n    >= 20s       -> 60\n"
        "l = linear t: 10s -> 20, 60s -> 0\n"
        "m = marginal s:\n    0 .. 50000 -> 3%\n    50000 ..   -> 8%\n"
        "w = weighted:\n    30% a\n    5%  b\n    critical not c\n"
        "g = all:\n    refund: refund_rate <= 5%\n    dsr:    dsr >= 4.8\n    x > 1\n"
        "h = any: a: x > 1, y < 2\n"
        "c = first:\n    late = 0 and slow_complaints = 0 and refund_rate <= 5% and dsr >= 4 -> 10\n"
        "    else -> 0\n"
        "k = first n: 3 .. 4 -> -5, >= 5 -> -10, else -> 0\n"
    )


def test_rows_written_on_continuation_lines_become_a_block():
    src = "x = first a: <= 1 -> 2,\n    else -> 3\n"
    out = fmt_text(src)
    assert out == "x = first a:\n    <= 1 -> 2\n    else -> 3\n"
    assert same_tree(src, out)


def test_split():
    src = "pay a,b,c = split pool 50%:20%:30% round 0.01 half_even\npay d, e = split pool 1 : 1\n"
    assert fmt_text(src) == ("pay a, b, c = split pool 50% : 20% : 30% round 0.01 half_even\n"
                             "pay d, e = split pool 1 : 1\n")


def test_examples():
    src = (
        'example  full  "满分"  from base :\n'
        "  given a = 1,b = -2.50, c = 优, d = \"A组\", e = true, f = false, g = na, agent = \"张三\"\n"
        "  expect x = 1, y≈33.33%, z ~ 2, failed = [a,\"b\"], passed = []\n"
        '  expect for 张三 in "2026-01" : x = 1\n'
        '  expect for "A 1": x = 1\n'
        "  expect rejected\n"
        "  expect rejected late\n"
        "example:\n    given a = 1\n"
    )
    assert fmt_text(src) == (
        'example full "满分" from base:\n'
        '    given a = 1, b = -2.50, c = 优, d = "A组", e = true, f = false, g = na, agent = "张三"\n'
        '    expect x = 1, y ≈ 33.33%, z ~ 2, failed = [a, "b"], passed = []\n'
        '    expect for 张三 in "2026-01": x = 1\n'
        '    expect for "A 1": x = 1\n'
        "    expect rejected\n"
        "    expect rejected late\n"
        "example:\n    given a = 1\n"
    )


def test_long_given_lines_wrap_with_deeper_continuation_lines():
    fields = ", ".join(f"field_{i} = {i}" for i in range(30))
    out = fmt_text(f"example e:\n    given {fields}\n    expect total = 1\n")
    lines = out.splitlines()
    assert lines[1].startswith("    given field_0 = 0, ")
    assert all(line.startswith("        field_") for line in lines[2:-1])
    assert all(fmt.text_width(line) <= fmt.WIDTH for line in lines)
    assert all(line.endswith(",") for line in lines[1:-2])
    assert same_tree(out, f"example e:\n    given {fields}\n    expect total = 1\n")


def test_long_formulas_break_before_operators():
    src = ('score "得分" = 10 - 0.5 per late - 2 per absent - 5 per unauthorized - 2 per excess_leave - '
           "(5 if offline_days >= 3 else 0) + slow + attitude - supervisor_deduction clamp 0 .. 10\n"
           'met_count "达标指标数" = count(response_met, resolution_met, volume_met, first_contact_met, '
           "satisfaction_met, complaint_rate_met)\n")
    assert fmt_text(src) == (
        'score "得分" = 10 - 0.5 per late - 2 per absent - 5 per unauthorized - 2 per excess_leave\n'
        "    - (5 if offline_days >= 3 else 0) + slow + attitude - supervisor_deduction\n"
        "    clamp 0 .. 10\n"
        'met_count "达标指标数" = count(response_met, resolution_met, volume_met, first_contact_met,\n'
        "                               satisfaction_met, complaint_rate_met)\n"
    )


def test_comments_stay_in_place():
    src = (
        "# file header\n"
        "\n\n\n"
        "# about the policy\n"
        'policy t "t"   # trailing\n'
        "input a : count\n"
        "input legacy : points     # policyc: ignore[W401] kept for the export\n"
        "x = first a:   # header comment\n"
        "      # above the first row\n"
        "    <= 1 -> 2      # on a row\n"
        "\n\n"
        "  # between rows\n"
        "    else -> 3\n"
        "    # below the last row\n"
        "y = 1 +   # inside a formula\n"
        "    # also inside\n"
        "    2\n"
        "# the end\n"
    )
    assert fmt_text(src) == (
        "# file header\n"
        "\n"
        "# about the policy\n"
        'policy t "t"  # trailing\n'
        "input a : count\n"
        "input legacy : points  # policyc: ignore[W401] kept for the export\n"
        "x = first a:  # header comment\n"
        "    # above the first row\n"
        "    <= 1 -> 2  # on a row\n"
        "\n"
        "    # between rows\n"
        "    else -> 3\n"
        "    # below the last row\n"
        "y = 1 + 2  # inside a formula\n"
        "    # also inside\n"
        "# the end\n"
    )


def test_comment_only_and_empty_files():
    assert fmt_text("") == ""
    assert fmt_text("\n\n") == ""
    assert fmt_text("# only\n\n\n# comments") == "# only\n\n# comments\n"


def test_ignore_comment_keeps_silencing_its_statement():
    from policyc.compiler import check_source

    src = (REPO / "tests/cases/check/good/ignore-with-reason.policy").read_text(encoding="utf-8")
    out = fmt_text(src)
    before = sorted(d.code for d in check_source(src, "x")[1])
    after = sorted(d.code for d in check_source(out, "x")[1])
    assert before == after


def test_line_ends_and_byte_order_mark_are_kept():
    src = "\ufeffpolicy  t\r\nperiod month\r\n"
    assert fmt_text(src) == "\ufeffpolicy t\r\nperiod month\r\n"
    assert fmt_text("policy  t\nperiod month") == "policy t\nperiod month\n"


def test_syntax_error_raises_the_parse_diagnostics():
    with pytest.raises(PolicyError) as e:
        fmt_text("policy t\nx = 1 +\n")
    assert e.value.diagnostics[0].code.startswith("E0")


# ───────────────────────── properties over the shipped policies ─────────────────────────


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_policy_properties(path):
    src = path.read_text(encoding="utf-8")
    out = fmt_text(src)
    assert fmt_text(out) == out
    assert same_tree(src, out)
    assert comment_texts(out) == comment_texts(src)


@PROFILE
@given(path=st.sampled_from(SHIPPED), data=st.data())
def test_shipped_policies_messed_up_come_back(path, data):
    """Trailing spaces and runs of blank lines: the same canonical text comes back."""
    src = path.read_text(encoding="utf-8")
    messed = []
    for line in src.split("\n"):
        if line.strip():
            messed.append(line + " " * data.draw(st.integers(0, 2)))
        else:
            messed.extend([" " * data.draw(st.integers(0, 3))] * data.draw(st.integers(1, 3)))
    out = fmt_text("\n".join(messed))
    assert out == fmt_text(src)


# ───────────────────────── generated policies ─────────────────────────

NAMES = ["late", "leave", "refund_rate", "退款率", "岗位级别2", "x", "得分", "a_b", "sales", "score_2", "q",
         "itemsx", "ifx"]
LABELS = ["优", "良", "normal", "senior", '"A级"', '"x \\"y\\""']
NUMBERS = ["0", "5", "20", "0.5", "4.8", "5%", "0.1%", "30s", "2min", "24h", "100", "1500.50", "0.50"]
STRINGS = ['"退款率"', '"a \\"q\\" b"', '"tab\\there"', '"back\\\\slash"', '"x#y"', '"new\\nline"', '""',
           '"冒号: 逗号, 井号 #"', '"\\z"']
COMMENT_TAILS = ["", " 注释 — 中文", ' "quoted" # twice', " policyc: ignore[W401] a reason", "   spaced",
                 " -> x: y", " 行尾"]
CMP = ["<", "<=", "≤", ">", ">=", "≥", "=", "==", "!=", "≠", "is", "is not"]

ATOMIC, SUM, PROD, UNARY, ATOM = "atomic", 6, 7, 8, 10


class Gen:
    """Builds one policy's text from hypothesis draws; records the comments it writes, in order."""

    def __init__(self, draw):
        self.draw = draw
        self.comments: list[str] = []

    def pick(self, xs):
        return self.draw(st.sampled_from(xs))

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 999)) < p * 1000

    def comment(self) -> str:
        text = f"# c{len(self.comments)}{self.pick(COMMENT_TAILS)}"
        self.comments.append(text.rstrip())
        return text

    # ── expressions: token lists; level = the binding strength the position needs ──

    def atom(self, depth: int) -> list[str]:
        k = self.draw(st.integers(0, 9))
        if k <= 3:
            return [self.pick(NAMES)]
        if k <= 6:
            return [self.pick(NUMBERS)]
        if k == 7:
            return [self.pick(STRINGS + ["items", "true", "false", "na"])]
        return self.call(depth)

    def call(self, depth: int) -> list[str]:
        name = self.pick(["min", "max", "mean", "count", "all", "any", "abs", "rank", "share", "streak",
                          "previous", "failed", "passed", "sum"])
        args: list[list[str]] = []
        for _ in range(self.draw(st.integers(0 if depth else 1, 3))):
            k = self.draw(st.integers(0, 5))
            if k == 0:
                args.append(["over", "team"])
            elif k == 1:
                args.append([*self.expr(0, depth + 1), "over", "team",
                             *(["ascending"] if self.chance(0.5) else [])])
            else:
                args.append(self.expr(0, depth + 1))
        toks = [name, "("]
        for i, a in enumerate(args):
            if i:
                toks.append(",")
            toks += a
        return toks + [")"]

    def expr(self, level, depth: int = 0) -> list[str]:
        if depth >= 3 or self.chance(0.3):
            toks, prec = self.atom(depth), ATOM
        else:
            toks, prec = self.compound(depth)
        if prec < level or self.chance(0.05):
            return ["(", *toks, ")"]
        return toks

    def compound(self, depth: int) -> tuple[list[str], int]:
        d = depth + 1
        k = self.draw(st.integers(0, 12))
        if k == 0:
            return [*self.expr(SUM, d), self.pick(["+", "-"]), *self.expr(PROD, d)], SUM
        if k == 1:
            return [*self.expr(PROD, d), self.pick(["*", "×", "/", "÷", "of", "per"]), *self.expr(UNARY, d)], PROD
        if k == 2:
            return ["-", *self.expr(UNARY, d)], UNARY
        if k == 3:
            return [*self.expr(ATOM, d), "beyond", *self.expr(ATOM, d)], 9
        if k == 4:
            toks = self.expr(SUM, d)
            for _ in range(self.draw(st.integers(1, 2))):
                toks += [*self.pick(CMP).split(), *self.expr(SUM, d)]
            return toks, 5
        if k == 5:
            return ["not", *self.expr(4, d)], 4
        if k == 6:
            op = self.pick(["and", "or"])
            own = 3 if op == "and" else 2
            return [*self.expr(own, d), op, *self.expr(own + 1, d)], own
        if k == 7:
            return [*self.expr(1, d), "if", *self.expr(0, d), "else", *self.expr(0, d)], 0
        if k == 8:
            mode = [self.pick(["half_up", "half_even", "up", "down"])] if self.chance(0.3) else []
            return [*self.expr(1, d), "round", *self.expr(ATOM, d), *mode], 1
        if k == 9:
            return [*self.expr(1, d), "clamp", *self.expr(SUM, d), "..", *self.expr(SUM, d)], 1
        if k == 10:
            return [*self.expr(1, d), "at", self.pick(["most", "least"]), *self.expr(SUM, d)], 1
        if k == 11:
            return [*self.expr(1, d), "when", self.pick(["zero", "na"]), *self.expr(SUM, d)], 1
        return self.call(depth), ATOM

    # ── joining tokens into lines ──

    def join(self, toks: list[str], indent: int, breaks: bool = True) -> str:
        """Tokens with odd spacing; line breaks inside brackets, and continuation lines deeper than `indent`."""
        out = [toks[0]]
        depth = 1 if toks[0] in ("(", "[") else 0
        for prev, tok in zip(toks, toks[1:]):
            k = self.draw(st.integers(0, 19))
            tight = prev in ("(", "[", ",") or tok in (")", "]", ",")
            if breaks and depth > 0 and k == 0:
                sep = (f"  {self.comment()}" if self.chance(0.3) else "") + "\n" + " " * self.draw(
                    st.integers(0, 10))
            elif breaks and depth == 0 and prev != ":" and k == 0:
                sep = ""
                if self.chance(0.3):
                    sep += f"  {self.comment()}"
                sep += "\n"
                if self.chance(0.2):
                    sep += " " * self.draw(st.integers(0, 10)) + self.comment() + "\n"
                if self.chance(0.1):
                    sep += "\n"
                sep += " " * (indent + self.draw(st.integers(1, 6)))
            elif tight and k <= 6:
                sep = ""
            else:
                sep = " " * self.draw(st.sampled_from([1, 1, 1, 1, 2, 3]))
            out.append(sep + tok)
            if tok in ("(", "["):
                depth += 1
            elif tok in (")", "]"):
                depth -= 1
        return "".join(out)

    def line(self, toks: list[str], indent: int, breaks: bool = True) -> str:
        text = " " * indent + self.join(toks, indent, breaks)
        if self.chance(0.15):
            text += " " * self.draw(st.integers(1, 5)) + self.comment()
        return text

    def filler(self, max_indent: int = 8) -> list[str]:
        """Blank lines and comment lines between statements or rows."""
        out = []
        for _ in range(self.draw(st.integers(0, 2))):
            if self.chance(0.5):
                out.append(" " * self.draw(st.integers(0, 3)))
            else:
                out.append(" " * self.draw(st.integers(0, max_indent)) + self.comment())
        return out

    # ── statements ──

    def doc(self) -> list[str]:
        return [self.pick(STRINGS)] if self.chance(0.4) else []

    def names(self, n_max: int = 2) -> list[str]:
        names = self.draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=n_max, unique=True))
        toks = []
        for i, n in enumerate(names):
            if i:
                toks.append(",")
            toks.append(n)
        return toks

    def signed(self) -> list[str]:
        return [self.pick(["0", "5", "2.5", "-5", "10", "100"])]

    def input_decl(self) -> list[str]:
        toks = ["input", *self.names(3), ":"]
        k = self.draw(st.integers(0, 9))
        if k <= 6:
            toks.append(self.pick(["count", "percent", "duration", "money", "points", "number", "text", "bool"]))
        elif k == 7:
            labels = self.draw(st.lists(st.sampled_from(LABELS), min_size=2, max_size=4, unique=True))
            toks += ["grade", labels[0]]
            for x in labels[1:]:
                toks += [">", x]
        else:
            labels = self.draw(st.lists(st.sampled_from(LABELS), min_size=2, max_size=4, unique=True))
            toks += ["choice", labels[0]]
            for x in labels[1:]:
                toks += ["|", x]
        if self.chance(0.4):
            if self.chance(0.2):
                toks += ["or", "na"]
            else:
                alts = []
                for _ in range(self.draw(st.integers(1, 3))):
                    kind = self.draw(st.integers(0, 4))
                    if kind == 0:
                        alts.append(self.signed())
                    elif kind == 1:
                        alts.append([*self.signed(), "..", *self.signed()])
                    elif kind == 2:
                        alts.append([*self.signed(), ".."])
                    elif kind == 3:
                        alts.append(["..", *self.signed()])
                    else:
                        alts.append(["na"])
                toks.append("in")
                for i, a in enumerate(alts):
                    if i:
                        toks.append("or")
                    toks += a
        if self.chance(0.2):
            toks += ["same", "over", "team"]
        if self.chance(0.2):
            toks += [self.pick(["higher", "lower"]), "is", "better"]
        return toks + self.doc()

    def header(self) -> list[str]:
        return self.pick([
            ["source", self.pick(STRINGS)],
            ["cohort", "team", "by", "team"],
            ["cohort", "shop"],
            ["cohort", "g", "by", "team", ",", "shop"],
            ["allow", "extra", "fields"],
            ["total", self.pick(["100", "130"]), self.pick(["pts", "points"])],
        ])

    def label_list(self) -> list[str]:
        labels = self.draw(st.lists(st.sampled_from(LABELS), min_size=1, max_size=3, unique=True))
        toks = [labels[0]]
        for x in labels[1:]:
            toks += ["|", x]
        return toks

    def table(self) -> tuple[list[str], list[list[str]]]:
        """A table: its head tokens (ending with `:`) and its rows."""
        kind = self.pick(["first", "first:", "table", "by", "linear", "marginal", "weighted", "all", "any"])
        n = self.draw(st.integers(1, 4))
        rows: list[list[str]] = []
        if kind in ("first", "table"):
            head = [kind, *self.expr(0, 1), ":"]
            for _ in range(n):
                k = self.draw(st.integers(0, 3))
                if k == 0:
                    rows.append([self.pick(CMP[:10]), *self.expr(SUM, 2), "->", *self.expr(0, 1)])
                elif k == 1:
                    rows.append([self.pick([">", ">="]), *self.expr(SUM, 2), ",", self.pick(["<", "<="]),
                                 *self.expr(SUM, 2), "->", *self.expr(0, 1)])
                elif k == 2:
                    rows.append([*self.expr(SUM, 2), "..", *self.expr(SUM, 2), "->", *self.expr(0, 1)])
                else:
                    rows.append(["else", "->", *self.expr(0, 1)])
        elif kind == "first:":
            head = ["first", ":"]
            for _ in range(n):
                rows.append([*(["else"] if self.chance(0.2) else self.expr(0, 1)), "->", *self.expr(0, 1)])
        elif kind == "by":
            head = ["by", *self.expr(0, 1), ":"]
            for _ in range(n):
                rows.append([*(["else"] if self.chance(0.2) else self.label_list()), "->", *self.expr(0, 1)])
        elif kind == "linear":
            head = ["linear", *self.expr(0, 1), ":"]
            for _ in range(n):
                rows.append([*self.expr(SUM, 2), "->", *self.expr(SUM, 2)])
        elif kind == "marginal":
            head = ["marginal", *self.expr(0, 1), ":"]
            for _ in range(n):
                hi = self.expr(SUM, 2) if self.chance(0.7) else []
                rows.append([*self.expr(SUM, 2), "..", *hi, "->", *self.expr(SUM, 2)])
        elif kind == "weighted":
            head = ["weighted", ":"]
            for _ in range(n):
                if self.chance(0.2):
                    rows.append(["critical", *self.expr(0, 1)])
                else:
                    rows.append([self.pick(["30%", "50%", "5", "0.2"]), *self.expr(0, 1)])
        else:
            head = [kind, ":"]
            for _ in range(n):
                if self.chance(0.6):
                    rows.append([self.pick(NAMES), ":", *self.expr(0, 1)])
                else:
                    rows.append(self.expr(0, 1))
        return head, rows

    def definition(self) -> tuple[list[str], list[list[str]] | None]:
        k = self.draw(st.integers(0, 9))
        if k == 0:
            head = ["let", self.pick(NAMES)]
        elif k == 1:
            head = ["item", self.pick(NAMES), self.pick(["10", "20"]), self.pick(["pts", "points"])]
        elif k == 2:
            head = ["pay", *self.names()]
        elif k == 3:
            head = ["label", self.pick(NAMES)]
        elif k == 4:
            head = [self.pick(["pay", "total", "let", "item", "label", "example"])]
        else:
            head = self.names()
        head = head + self.doc() + ["="]
        b = self.draw(st.integers(0, 5))
        if b <= 1 or k == 4:
            return head + self.expr(0) + self.doc(), None
        if b == 2 and k != 3:
            ratios = ["50%", ":", "20%", ":", "30%"] if self.chance(0.5) else ["1", ":", "1"]
            rounding = ["round", self.pick(["0.01", "1"]), *(["half_even"] if self.chance(0.3) else [])]
            return head + ["split", *self.expr(0), *ratios, *(rounding if self.chance(0.5) else [])], None
        table_head, rows = self.table()
        if self.chance(0.4):  # inline
            toks = head + table_head
            for i, r in enumerate(rows):
                if i:
                    toks.append(",")
                toks += r
            return toks, None
        return head + table_head, rows

    def value(self) -> list[str]:
        k = self.draw(st.integers(0, 6))
        if k <= 2:
            return [self.pick(NUMBERS + ["-5", "-2.50"])]
        if k == 3:
            return [self.pick(LABELS[:4])]
        if k == 4:
            return [self.pick(STRINGS)]
        return [self.pick(["true", "false", "na"])]

    def checks(self, lists: bool = True) -> list[str]:
        toks: list[str] = []
        for i in range(self.draw(st.integers(1, 8))):
            if i:
                toks.append(",")
            toks += [self.pick(NAMES), self.pick(["=", "=", "≈", "~"])]
            if lists and self.chance(0.15):
                items = self.draw(st.lists(st.sampled_from(LABELS), max_size=3))
                toks.append("[")
                for j, x in enumerate(items):
                    if j:
                        toks.append(",")
                    toks.append(x)
                toks.append("]")
            else:
                toks += self.value()
        return toks

    def example(self) -> tuple[list[str], list[list[str]]]:
        head = ["example"]
        if self.chance(0.7):
            head.append(self.pick(NAMES))
        if self.chance(0.5):
            head.append(self.pick(STRINGS))
        if self.chance(0.3):
            head += ["from", self.pick(NAMES)]
        rows = []
        for _ in range(self.draw(st.integers(1, 4))):
            k = self.draw(st.integers(0, 4))
            if k <= 1:
                toks = ["given"]
                for i in range(self.draw(st.integers(1, 12))):
                    if i:
                        toks.append(",")
                    toks += [self.pick([*NAMES, "agent", "period"]), "=", *self.value()]
                rows.append(toks)
            elif k == 2:
                rows.append(["expect", *self.checks()])
            elif k == 3:
                agent = self.pick(["张三", '"A 1"', "q"])
                period = ["in", '"2026-01"'] if self.chance(0.5) else []
                rows.append(["expect", "for", agent, *period, ":", *self.checks()])
            else:
                rows.append(["expect", "rejected", *([self.pick(NAMES)] if self.chance(0.5) else [])])
        return head + [":"], rows

    def statement(self) -> tuple[list[str], list[list[str]] | None]:
        k = self.draw(st.integers(0, 9))
        if k == 0:
            return self.header(), None
        if k <= 2:
            return self.input_decl(), None
        if k == 3:
            return ["require", *self.expr(0), *self.doc()], None
        if k == 4:
            return self.example()
        return self.definition()

    def policy(self) -> str:
        lines = self.filler(0)
        title = [self.pick(STRINGS)] if self.chance(0.7) else []
        lines.append(self.line(["policy", self.pick(NAMES), *title], 0))
        lines.append(self.line(["period", self.pick(["month", "half_month", "quarter", "year"])], 0))
        for _ in range(self.draw(st.integers(1, 10))):
            lines += self.filler()
            toks, rows = self.statement()
            lines.append(self.line(toks, 0))
            if rows is not None:
                indent = self.draw(st.integers(1, 8))
                for row in rows:
                    lines += self.filler(12)
                    lines.append(self.line(row, indent))
        lines += self.filler(0)
        newline = "\r\n" if self.chance(0.1) else "\n"
        text = newline.join(lines)
        if self.chance(0.8):
            text += newline
        return ("\ufeff" if self.chance(0.05) else "") + text


@st.composite
def policies(draw) -> tuple[str, list[str]]:
    g = Gen(draw)
    return g.policy(), g.comments


@PROFILE
@given(policies())
def test_generated_policies(case):
    src, comments = case
    try:
        tree = parse(src.lstrip("\ufeff")).statements
    except PolicyError as e:  # a bug in the generator, not in fmt: say so
        raise AssertionError(f"the generator wrote an invalid policy:\n{src}\n{e}") from None
    out = fmt_text(src)
    assert parse(out.lstrip("\ufeff")).statements == tree
    assert fmt_text(out) == out
    assert in_order(comments, out)
    assert comment_texts(out) == comment_texts(src)


# ───────────────────────── command line ─────────────────────────

MESSY = 'policy  t "t"\nperiod month\ninput a:count\nx = first a:\n  <= 1 -> 2\n  else -> 3\n'
TIDY = 'policy t "t"\nperiod month\ninput a : count\nx = first a:\n    <= 1 -> 2\n    else -> 3\n'


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def test_cli_check_lists_files_that_would_change_and_writes_nothing(tmp_path, capsys):
    messy = write(tmp_path, "messy.policy", MESSY)
    tidy = write(tmp_path, "tidy.policy", TIDY)
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"would reformat {messy}" in err
    assert str(tidy) not in err
    assert messy.read_text(encoding="utf-8") == MESSY


def test_cli_check_on_formatted_files_is_silent(tmp_path, capsys):
    tidy = write(tmp_path, "tidy.policy", TIDY)
    assert main(["fmt", "--check", str(tidy)]) == 0
    assert capsys.readouterr() == ("", "")


def test_cli_rewrites_in_place(tmp_path, capsys):
    messy = write(tmp_path, "messy.policy", MESSY)
    tidy = write(tmp_path, "tidy.policy", TIDY)
    assert main(["fmt", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"reformatted {messy}\n"
    assert messy.read_text(encoding="utf-8") == TIDY
    assert tidy.read_text(encoding="utf-8") == TIDY
    assert main(["fmt", str(tmp_path)]) == 0
    assert capsys.readouterr() == ("", "")


def test_cli_diff(tmp_path, capsys):
    messy = write(tmp_path, "messy.policy", MESSY)
    assert main(["fmt", "--diff", str(messy)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"--- {messy} (original)\n+++ {messy} (formatted)\n@@ ")
    assert "-input a:count\n+input a : count\n" in out
    assert "+    <= 1 -> 2\n" in out
    assert err == ""
    assert messy.read_text(encoding="utf-8") == MESSY


def test_cli_check_and_diff_together(tmp_path, capsys):
    messy = write(tmp_path, "messy.policy", MESSY)
    assert main(["fmt", "--check", "--diff", str(messy)]) == 1
    out, err = capsys.readouterr()
    assert "+input a : count\n" in out
    assert f"would reformat {messy}" in err
    assert messy.read_text(encoding="utf-8") == MESSY


def test_cli_syntax_error_leaves_the_file_alone(tmp_path, capsys):
    bad_text = "policy t\nperiod month\nx = 1 +\n"
    bad = write(tmp_path, "bad.policy", bad_text)
    messy = write(tmp_path, "messy.policy", MESSY)
    assert main(["fmt", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert bad.read_text(encoding="utf-8") == bad_text
    assert messy.read_text(encoding="utf-8") == TIDY  # the other files are still formatted
    with pytest.raises(PolicyError) as e:
        parse(bad_text, str(bad))
    expected = "".join(render_one(d, bad_text) for d in e.value.diagnostics)
    assert expected in err
    assert main(["check", str(bad)]) == 1
    check_out = capsys.readouterr().out
    assert expected in check_out  # the same diagnostics as `policyc check`


def test_cli_stdin_to_stdout(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MESSY.encode("utf-8")), encoding="utf-8"))
    assert main(["fmt", "-"]) == 0
    assert capsys.readouterr() == (TIDY, "")


def test_cli_stdin_check_and_syntax_error(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MESSY.encode("utf-8")), encoding="utf-8"))
    assert main(["fmt", "--check", "-"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "would reformat <stdin>" in err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"policy t\nx = (\n"), encoding="utf-8"))
    assert main(["fmt", "-"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "<stdin>:" in err and "error[E0" in err


def test_cli_crlf_file_keeps_its_line_ends(tmp_path, capsys):
    p = write(tmp_path, "w.policy", MESSY.replace("\n", "\r\n"))
    assert main(["fmt", str(p)]) == 0
    assert p.read_bytes() == TIDY.replace("\n", "\r\n").encode("utf-8")
    assert main(["fmt", "--check", str(p)]) == 0


def test_cli_unreadable_and_missing(tmp_path, capsys):
    assert main(["fmt", str(tmp_path / "nope.policy")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "latin1.policy"
    bad.write_bytes("policy t \"é\"\n".encode("latin-1"))
    assert main(["fmt", "--check", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_cli_usage_error():
    with pytest.raises(SystemExit) as e:
        main(["fmt"])
    assert e.value.code == 2



def test_every_shipped_policy_is_formatted(capsys):
    assert main(["fmt", "--check", str(REPO / "policies")]) == 0, capsys.readouterr().err
