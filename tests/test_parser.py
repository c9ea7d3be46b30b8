"""The grammar and the line layout: what parses, into what, and how syntax errors read."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

from policyc import ast
from policyc.diagnostics import PolicyError
from policyc.parser import _lark, build_parser, parse

HEAD = 'policy p "t"\nperiod month\ninput late, leave : count\ninput rate : percent\n'


def defs(text: str) -> list[ast.Definition]:
    return [s for s in parse(HEAD + text).statements if isinstance(s, ast.Definition)]


def body(text: str):
    (d,) = defs(text)
    return d.body


def error(text: str):
    with pytest.raises(PolicyError) as info:
        parse(text, "x.policy")
    (d,) = info.value.diagnostics
    return d


def num(v, text=None, unit=None):
    return ast.Number(value=Fraction(v), text=text or str(v), unit=unit)


def ref(n):
    return ast.Ref(name=ast.Name(id=n))


def test_grammar_is_lalr_strict_without_conflicts():
    # building the parser in strict mode fails on any conflict or terminal collision
    strict = build_parser(strict=True)
    assert strict.options.strict is True and strict.options.parser == "lalr"
    assert _lark().options.parser == "lalr"


def test_shipped_parser_tables_match_the_grammar():
    import policyc.parser as parser_module

    key = parser_module.TABLES.read_bytes().partition(b"\n")[0]
    assert key == parser_module._grammar_key(), "grammar/policy.lark changed: run `make parser-tables`"
    shipped = parser_module._packaged()
    assert shipped is not None
    text = HEAD + "x = first late:\n    >= 1 -> 1\n    else -> 0\ny = x + 1\n"
    assert shipped.parse(text) == build_parser(strict=True).parse(text)


def test_a_corrupt_parser_cache_is_ignored(tmp_path, monkeypatch):
    import policyc.parser as parser_module

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(parser_module, "_packaged", lambda: None)
    parser_module._lark.cache_clear()
    try:
        cache = parser_module._cache_file()
        assert cache is not None and cache.parent.parent == tmp_path
        cache.write_bytes(b"not a pickle")
        assert parse(HEAD + "x = late\n").statements  # rebuilt, not crashed
    finally:
        parser_module._lark.cache_clear()


def test_per_binds_tighter_than_minus():
    assert body("x = 20 - 5 per late") == ast.Binary(
        op=ast.BinOp.SUB, left=num(20), right=ast.Binary(op=ast.BinOp.PER, left=num(5), right=ref("late"))
    )


def test_beyond_applies_to_the_value_before_it():
    assert body("x = 2 per late beyond 4") == ast.Binary(
        op=ast.BinOp.PER, left=num(2), right=ast.Beyond(operand=ref("late"), allowance=num(4))
    )
    assert body("x = (late + leave) beyond 4") == ast.Beyond(
        operand=ast.Binary(op=ast.BinOp.ADD, left=ref("late"), right=ref("leave")), allowance=num(4)
    )


def test_units_are_exact_rationals():
    b = body("x = 5% + 30s + 2min + 24h + 0.1")
    values = []
    while isinstance(b, ast.Binary):
        values.append(b.right.value)
        b = b.left
    values.append(b.value)
    assert values[::-1] == [Fraction(1, 20), 30, 120, 86400, Fraction(1, 10)]


def test_round_binds_looser_than_arithmetic_and_tighter_than_if():
    b = body("pay k = 1000 * late / 130 round 0.01 if rate > 0 else 0")
    assert isinstance(b, ast.If)
    assert isinstance(b.then, ast.Round) and isinstance(b.then.operand, ast.Binary)
    assert b.then.quantum.value == Fraction(1, 100)


def test_continuation_lines_join_the_statement():
    b = body("x = late\n    + leave\n    clamp 0 .. 10")
    assert isinstance(b, ast.Clamp)
    assert b.operand == ast.Binary(op=ast.BinOp.ADD, left=ref("late"), right=ref("leave"))


def test_block_rows_with_comments_and_blank_lines():
    t = body("x = first late:\n    # the worst first\n    >= 5 -> 1\n\n    >= 3 -> 2   # three\n    else -> 3\n")
    assert isinstance(t, ast.Table) and t.block
    assert [type(r).__name__ for r in t.rows] == ["CmpRow", "CmpRow", "ElseRow"]


def test_inline_rows_and_two_comparisons_in_one_row():
    t = body("x = table rate: <= 10% -> 1, > 10%, < 20% -> 2, >= 20% -> 3")
    assert not t.block
    assert len(t.rows[1].tests) == 2
    assert t.rows[1].tests[0][0] is ast.CmpOp.GT and t.rows[1].tests[1][0] is ast.CmpOp.LT


def test_a_table_block_ends_where_the_next_statement_starts():
    ds = defs("x = first late:\n    >= 1 -> 1\n    else -> 0\ny = x + 1\n")
    assert [d.names[0].id for d in ds] == ["x", "y"]
    src = HEAD + "x = first late:\n    >= 1 -> 1\n    else -> 0\ny = x + 1\n"
    span = ds[0].body.span
    assert src[span.start:span.end].endswith("else -> 0")


def test_keywords_can_still_be_names():
    ds = defs("pay pay = 1\npay = 2\nrank = rank(late over team)\nlabel label = first late: else -> a\n")
    assert [(d.kind, d.names[0].id) for d in ds] == [
        (ast.DefKind.PAY, "pay"), (ast.DefKind.OUTPUT, "pay"), (ast.DefKind.OUTPUT, "rank"),
        (ast.DefKind.LABEL, "label"),
    ]


def test_chinese_names_labels_and_strings():
    p = parse('policy 考核 "淘宝"\ninput 等级 : grade 优 > 良 > "中 等"\n得分 "分数" = by 等级: 优 -> 1, 良 | "中 等" -> 0\n')
    inp = p.statements[1]
    assert [lab.id if isinstance(lab, ast.Name) else lab.text for lab in inp.type.labels] == ["优", "良", "中 等"]
    d = p.statements[2]
    assert d.names[0].id == "得分" and d.doc == "分数"


def test_doc_strings_before_equals_and_at_line_end():
    a, b = defs('let a "甲" = 1\nb = 2 "乙"\n')
    assert a.doc == "甲" and b.doc == "乙"


def test_chained_comparison_and_label_comparison():
    b = body("x = 0 <= late <= 5")
    assert b.ops == (ast.CmpOp.LE, ast.CmpOp.LE) and len(b.operands) == 3
    assert body("x = late is not 3").ops == (ast.CmpOp.NE,)


def test_split_with_ratios_and_rounding():
    sp = body("pay a, b, c = split late 5 : 2 : 3 round 1 down")
    assert [r.value for r in sp.ratios] == [5, 2, 3]
    assert sp.quantum.value == 1 and sp.mode.id == "down"


def test_bom_and_crlf_are_accepted():
    p = parse("\ufeff" + HEAD.replace("\n", "\r\n") + "x = late\r\n")
    assert isinstance(p.statements[-1], ast.Definition)


# ── syntax errors: a code, the place, words a new user understands ──


def test_missing_pts_says_what_was_expected():
    d = error("policy p\ninput a : count\nitem q 20 = a\n")
    assert d.code == "E001" and (d.span.line, d.span.column) == (3, 11)
    assert "`pts`" in d.message


def test_unclosed_string():
    d = error('policy p "title\n')
    assert d.code == "E003" and d.span.line == 1 and d.span.column == 10


def test_tab_indentation():
    d = error("policy p\ninput a : count\nx = first a:\n\t>= 1 -> 1\n")
    assert d.code == "E002" and d.span.line == 4


def test_colon_without_rows():
    d = error("policy p\ninput a : count\nx = first a:\ny = 1\n")
    assert d.code == "E001" and "indented rows" in d.message


def test_dedent_to_no_known_level():
    d = error("policy p\ninput a : count\nx = first a:\n        >= 1 -> 1\n    else -> 0\n")
    assert d.code == "E002" and d.span.line == 5


def test_line_ends_too_early():
    d = error("policy p\ninput a : count\nx = a +\n")
    assert d.code == "E001" and "ends too early" in d.message and d.span.line == 3


def test_stray_character():
    d = error("policy p\ninput a : count\nx = a @ 2\n")
    assert d.code == "E004" and d.span.column == 7


def test_no_traceback_from_the_command_line_on_garbage(tmp_path):
    f = tmp_path / "bad.policy"
    f.write_bytes(b"policy x\n\xff\xfe nonsense ((( \n")
    proc = subprocess.run([sys.executable, "-m", "policyc", "check", str(f)], capture_output=True, text=True)
    assert proc.returncode in (1, 2)
    assert "Traceback" not in proc.stderr + proc.stdout


def test_all_of_a_list_is_the_all_function():
    """`all of [a, b]` / `any of [a, b]`, as the language sketch writes a gate, are `all(a, b)` /
    `any(a, b)`: the same results, the same names in `failed(…)`, and `policyc fmt` writes the
    function form; a line break inside the brackets is allowed."""
    import policyc
    from policyc.fmt import format_source

    head = "policy t\nperiod month\ninput a, b : bool\ninput x : count\n"
    listed = policyc.loads(head + "ok = all of [a, b, x > 2]\nsome = any of [\n    a,\n    x >= 5\n]\n"
                                  "why = failed(ok)\n")
    called = policyc.loads(head + "ok = all(a, b, x > 2)\nsome = any(a, x >= 5)\nwhy = failed(ok)\n")
    records = [{"agent": n, "period": "2026-11", "a": a, "b": b, "x": x}
               for n, a, b, x in [("u", "true", "true", "3"), ("v", "true", "false", "6"), ("w", "false", "false", "1")]]
    assert [r.as_row() for r in listed.score_batch(records)] == [r.as_row() for r in called.score_batch(records)]
    assert [r.as_row()["why"] for r in listed.score_batch(records)] == [[], ["b"], ["a", "b", "x > 2"]]
    assert "ok = all(a, b, x > 2)" in format_source(head + "ok = all of [a, b, x > 2]\n")
