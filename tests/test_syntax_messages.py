"""Syntax errors say what the writer meant, in words a new user understands.

One test per common mistake: the code, where the caret goes (line and column
of the offending text, or just after the last word when a line ends too
early), and the key words of the message and of the suggested fix. Then the
general promises: the fallback lists at most five things, in words, and never
lists statement keywords in the middle of a formula; and, for random
mutations of the shipped policies, `check_source` always answers with
diagnostics (never an exception) whose codes exist and whose spans lie inside
the text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyc.compiler import check_source
from policyc.diagnostics import CODES, Diagnostic, render_one

REPO = Path(__file__).resolve().parents[1]
POLICIES = sorted((REPO / "policies").rglob("*.policy"))
SOURCES = [p.read_text(encoding="utf-8") for p in POLICIES]

HEAD = 'policy p "t"\nperiod month\ninput late, leave, absent : count\ninput rate, refund_rate : percent\n'
HEAD_LINES = HEAD.count("\n")
SYNTAX = {"E001", "E002", "E003", "E004"}
STATEMENT_WORDS = ("policy", "period", "source", "cohort", "allow", "input", "require", "let", "item", "pay",
                   "label")
RAW_TERMINALS = re.compile(r"__ANON|\b_NL\b|_INDENT|_DEDENT|\$END|\bNAME\b|\bNUMBER\b|\bSTRING\b|\bLPAR\b|"
                           r"\bRPAR\b|\bCOLON\b|\bEQUAL\b|\bCOMMA\b|\bVBAR\b|\bMORETHAN\b|\bLESSTHAN\b|Token\(")


def syntax_error(src: str, head: str = HEAD) -> Diagnostic:
    """The one syntax diagnostic for `head + src`."""
    text = head + src
    _, diags = check_source(text, "t.policy")
    errors = [d for d in diags if d.code in SYNTAX]
    assert len(errors) == 1, "".join(render_one(d, text) for d in diags) or "(no diagnostics)"
    return errors[0]


def where(d: Diagnostic, head: str = HEAD) -> tuple[int, int]:
    """(line, column) counted from the first line after the head."""
    return d.span.line - head.count("\n"), d.span.column


def expected_items(message: str) -> list[str]:
    """The things an `expected …` list names (groups in parentheses count once)."""
    if "expected " not in message:
        return []
    listed = message.split("expected ", 1)[1]
    listed = re.sub(r"\([^)]*\)", "", re.sub(r"`[^`]*`", "X", listed))
    return [x for x in re.split(r", | or ", listed) if x.strip()]


# ── an item's maximum without `pts` ──


def test_missing_pts_after_an_items_maximum():
    d = syntax_error("item q 20 = late\n")
    assert d.code == "E001" and where(d) == (1, 11)
    assert "maximum needs `pts`" in d.message and "`item q 20 pts = …`" in d.message
    assert "item q 20 pts" in d.suggestion


# ── characters typed in Chinese input mode, and `5 %` ──


def test_space_between_a_number_and_percent():
    d = syntax_error("x = 5 % + rate\n")
    assert d.code == "E004" and where(d) == (1, 6)
    assert "`5%`" in d.message and "no space" in d.message
    assert "`5%`" in d.suggestion


@pytest.mark.parametrize(
    "src, column, ascii_, words",
    [
        ("input a， b : count\n", 8, ",", "full-width comma"),
        ("input a ： count\n", 9, ":", "full-width colon"),
        ("x = （late + 1) * 2\n", 5, "(", "full-width bracket"),
        ("x = (late + 1） * 2\n", 14, ")", "full-width bracket"),
        ("x = 20 － late\n", 8, "-", "full-width minus"),
        ("x = 5％ + rate\n", 6, "%", "full-width percent"),
        ("input a : count “x”\n", 17, '"', "curly quote"),
        ("x = first late: >= 1 → 1, else -> 0\n", 22, "->", "arrow"),
        ("x = late\u3000+ 1\n", 9, " ", "full-width space"),
    ],
)
def test_full_width_and_look_alike_characters(src, column, ascii_, words):
    d = syntax_error(src)
    assert d.code == "E004" and where(d) == (1, column)
    assert words in d.message
    if ascii_ == " ":
        assert "ordinary space" in d.message
    else:
        assert f"`{ascii_}`" in d.message or f"`{ascii_}…{ascii_}`" in d.message
    # the suggestion shows the line written with ASCII characters
    fixed = "".join(ASCII_OF.get(ch, ch) for ch in src.strip())
    assert f"`{fixed}`" in d.suggestion


ASCII_OF = {"，": ",", "：": ":", "（": "(", "）": ")", "－": "-", "％": "%", "“": '"', "”": '"', "→": "->", "\u3000": " "}


# ── strings, tabs, indentation ──


def test_unclosed_string():
    d = syntax_error('input a : count "迟到次数\n')
    assert d.code == "E003" and where(d) == (1, 17)
    assert "not closed" in d.message and '`"`' in d.suggestion


def test_string_closed_with_a_curly_quote():
    d = syntax_error('input a : count "迟到次数”\n')
    assert d.code == "E003" and where(d) == (1, 17)
    assert "curly quote `”`" in d.message and 'replace `”` with `"`' in d.suggestion


def test_tab_in_the_indentation():
    d = syntax_error("x = first late:\n\t>= 1 -> 1\n    else -> 0\n")
    assert d.code == "E002" and where(d) == (2, 1)
    assert "tab" in d.message and "spaces" in d.suggestion


def test_a_row_indented_less_than_the_rows_above():
    d = syntax_error("x = first late:\n    >= 5 -> 1\n    >= 3 -> 2\n  else -> 0\n")
    assert d.code == "E002" and where(d) == (4, 3)
    assert "indented by 2 spaces" in d.message and "rows above are indented by 4" in d.message
    assert "4 spaces" in d.suggestion


def test_the_first_row_indented_deeper_than_the_next_is_named_too():
    d = syntax_error("x = first late:\n        >= 5 -> 1\n    >= 3 -> 2\n    else -> 0\n")
    assert d.code == "E002" and where(d) == (3, 5)
    assert "indented by 4 spaces, but the first row, on line 6, by 8" in d.message
    assert "same number of spaces" in d.suggestion
    (note,) = d.notes
    assert (note.span.line - HEAD_LINES, note.span.column) == (2, 9) and "first row" in note.message


def test_an_indented_line_after_a_header_line_continues_it():
    head = 'policy p "t"\nperiod month\n'
    d = syntax_error("    input late : count\n", head)
    assert d.code == "E001" and where(d, head) == (1, 5)
    assert "indented" in d.message and "continues line 2" in d.message
    assert "remove the indentation" in d.suggestion


def test_an_indented_row_continues_the_row_above():
    d = syntax_error("x = first late:\n    >= 5 -> 1\n      >= 3 -> 2\n    else -> 0\n")
    assert d.code == "E001" and where(d) == (3, 7)
    assert "continues the row above" in d.message and "line it up with the row above" in d.suggestion


def test_colon_at_the_end_of_a_line_without_indented_rows():
    d = syntax_error("x = first late:\n>= 1 -> 1\n")
    assert d.code == "E001" and where(d) == (1, 16)
    assert "must be followed by indented rows" in d.message and "indent the rows" in d.suggestion


# ── keywords used as names ──


def test_a_table_word_used_as_a_name_in_a_formula():
    d = syntax_error("first = 3\ny = first + 1\n")
    assert d.code == "E001" and where(d) == (2, 5)
    assert "`first` is a keyword here" in d.message and "cannot be used as a name" in d.message
    assert "rename" in d.suggestion and f"line {HEAD_LINES + 1}" in d.suggestion


def test_table_used_as_a_name_where_it_starts_a_table():
    d = syntax_error("y = table * 2\n")
    assert d.code == "E001" and where(d) == (1, 5)
    assert "`table` is a keyword here" in d.message and "range table" in d.message
    assert "rename" in d.suggestion


def test_a_header_word_used_as_the_name_of_a_value():
    d = syntax_error("input = 3\n")
    assert d.code == "E001" and where(d) == (1, 1)
    assert "`input` is a keyword here" in d.message and "choose another name" in d.suggestion


# ── formulas ──


def test_two_values_with_no_operator_between_them():
    d = syntax_error("x = 20 - 5 late\n")
    assert d.code == "E001" and where(d) == (1, 12)
    assert "no operator between them" in d.message and "`5` and `late`" in d.message
    assert "did you mean `5 per late`?" in d.suggestion


def test_a_value_missing_after_per():
    d = syntax_error("x = 20 - 5 per\n")
    assert d.code == "E001" and where(d) == (1, 15)
    assert "a value is missing after `per`" in d.message and "ends too early" in d.message
    assert "5 per late" in d.suggestion


def test_round_without_its_step():
    d = syntax_error("x = late round\n")
    assert d.code == "E001" and where(d) == (1, 15)
    assert "`round` needs the step" in d.message and "round 0.01" in d.suggestion


def test_fat_arrow_in_a_table_row():
    d = syntax_error("x = first late:\n    >= 1 => 10\n    else => 0\n")
    assert d.code == "E001" and where(d) == (2, 10) and d.span.end - d.span.start == 2
    assert "`=>` is not an arrow" in d.message and "`->`" in d.suggestion


@pytest.mark.parametrize("typed, meant", [("=>", ">="), ("=<", "<="), ("<>", "!=")])
def test_comparison_written_backwards(typed, meant):
    d = syntax_error(f"x = 1 if late {typed} 3 else 0\n")
    assert d.code == "E001" and where(d) == (1, 15) and d.span.end - d.span.start == 2
    assert f"`{typed}` is not a comparison" in d.message and f"`{meant}`" in d.suggestion


def test_if_without_else():
    d = syntax_error("pay bonus = 500 if late = 0\n")
    assert d.code == "E001" and where(d) == (1, 28)
    assert "`if` needs an `else`" in d.message
    assert "`500 if late = 0 else 0`" in d.suggestion


# ── inputs ──


def test_choice_labels_separated_by_commas():
    d = syntax_error("input level : choice normal, senior, lead\n")
    assert d.code == "E001" and where(d) == (1, 28)
    assert "separated by `|`" in d.message and "`choice normal | senior | lead`" in d.suggestion


def test_grade_labels_separated_by_commas():
    d = syntax_error('input q : grade 优, 良, 中 "素质"\n')
    assert d.code == "E001" and where(d) == (1, 18)
    assert "best first, separated by `>`" in d.message and "`grade 优 > 良 > 中`" in d.suggestion


# ── tables ──


def test_whole_condition_rows_in_a_table_with_a_subject():
    d = syntax_error("x = first refund_rate:\n    refund_rate <= 5% -> 30\n    else -> 0\n")
    assert d.code == "E001" and where(d) == (2, 5)
    assert "rows of `first refund_rate:` compare `refund_rate`" in d.message
    assert "`<= 5% -> 30`" in d.suggestion and "`first:`" in d.suggestion


def test_whole_conditions_with_and_in_a_table_with_a_subject():
    d = syntax_error("x = first refund_rate:\n    refund_rate <= 5% and late = 0 -> 30\n    else -> 0\n")
    assert d.code == "E001" and where(d) == (2, 5)
    assert "compare `refund_rate`" in d.message and "`first:`" in d.suggestion


# ── more mistakes new users make ──


@pytest.mark.parametrize(
    "src, at, message_words, suggestion_words",
    [
        ("x = (late + 1\ny = 2\n", (1, 5), "`(` on line 5 is never closed", "`)`"),
        ("x = first late\n    >= 1 -> 1\n    else -> 0\n", (1, 15), "needs `:` before its rows", "first late:"),
        ("input refund rate : percent\n", (1, 7), "cannot contain spaces", "refund_rate"),
        ("inpt a : count\n", (1, 1), "did you mean `input`?", "`input`"),
        ("x = 1 IF late > 0 else 0\n", (1, 7), "lower case", "`if`"),
        ("x = 20 - 5 pre late\n", (1, 12), "did you mean `per`?", "`per`"),
        ("pay base = 2000元\n", (1, 16), "money is a plain number", "plain numbers"),
        ("input late2 count\n", (1, 13), "followed by `:` and its type", "input late2 : count"),
        ("input late2 = count\n", (1, 13), "not by `=`", "input late2 : count"),
        ("x = first late: >= 1 -> 1 else -> 0\n", (1, 27), "separated by `,`", "`, else`"),
        ("x = late + 1)\n", (1, 13), "no matching `(`", "delete it"),
        ("pay bonus 500\n", (1, 11), "`=` is missing", "pay bonus = …"),
        ("x = late when 0\n", (1, 15), "after `when` comes `na` or `zero`", None),
        ("input y : number in 0-10\n", (1, 22), "range is written with `..`", "`..`"),
        ("x = 5 + 1 input y : count\n", (1, 11), "`input` starts a new statement", "line of its own"),
    ],
)
def test_other_common_mistakes(src, at, message_words, suggestion_words):
    d = syntax_error(src)
    assert d.code == "E001" and where(d) == at, d
    assert message_words in d.message
    if suggestion_words is not None:
        assert suggestion_words in d.suggestion


# ── the fallback: at most five things, in words; never statement words inside a formula ──


def _formula_cuts() -> list[str]:
    """Every shipped policy cut short inside a formula, and with a stray `)` in one."""
    out = []
    for source in SOURCES:
        lines = source.split("\n")
        for i, line in enumerate(lines):
            m = re.match(r"^(?:let |pay |item |label )?[^\W\d][\w, ]*(?:\s+\d+ pts)?\s*(?:\"[^\"]*\"\s*)?=\s", line)
            if not m or line.rstrip().endswith(":"):
                continue
            tokens = list(re.finditer(r'"[^"]*"|[\w.%]+|->|<=|>=|\S', line[m.end():]))
            for t in tokens[:6]:
                cut = line[: m.end() + t.end()]
                out.append("\n".join([*lines[:i], cut, *lines[i + 1:]]))
                out.append("\n".join([*lines[:i], cut + " )", *lines[i + 1:]]))
    return out


FORMULA_CUTS = _formula_cuts()


def test_there_are_formula_cuts():
    assert len(FORMULA_CUTS) > 200


def test_messages_inside_a_formula_never_list_statement_words_and_list_at_most_five_things():
    checked = 0
    for text in FORMULA_CUTS:
        _, diags = check_source(text, "cut.policy")
        for d in diags:
            if d.code not in SYNTAX:
                continue
            checked += 1
            for word in STATEMENT_WORDS:
                assert f"`{word}`" not in d.message, render_one(d, text)
            assert len(expected_items(d.message)) <= 5, render_one(d, text)
            assert not RAW_TERMINALS.search(d.message + (d.suggestion or "")), render_one(d, text)
    assert checked > 100


def test_fallback_names_things_in_words():
    d = syntax_error("x = late at 5\n")
    assert d.code == "E001" and where(d) == (1, 13)
    assert "after `at` comes `least` or `most`" in d.message
    d = syntax_error("input a : count \"doc\" 5\n")
    assert d.code == "E001" and where(d) == (1, 23)
    assert d.message == "the number `5` cannot come here: expected the end of the line"


def test_expected_items_helper():
    assert expected_items("x cannot come here: expected a value (a number, a name or `( … )`), "
                          "an operator (`+`, `-`) or the end of the line") == [
        "a value ", "an operator ", "the end of the line"]


# ── random mutations of the shipped policies ──

INSERTS = [*"，。：；（）【】“”‘’、？！％－＝＋→～\u3000", "\t", "\n", " ", "    ", "\n    ", "\r", ":", "->", "=>",
           "(", ")", '"', "%", "#", "|", ",", "..", "if ", " else ", " per ", "first ", "table ", " pts", "=",
           "\u00a0", "\u200b", "\ufeff"]
_TOKEN = re.compile(r'\s+|"[^"\n]*"|\w+|\S')


@st.composite
def mutated_policies(draw) -> str:
    text = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 3))):
        pieces = _TOKEN.findall(text) if draw(st.booleans()) else list(text)
        if not pieces:
            break
        i = draw(st.integers(0, len(pieces) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        if op == "delete":
            del pieces[i]
        elif op == "duplicate":
            pieces.insert(i, pieces[i])
        elif op == "swap":
            j = draw(st.integers(0, len(pieces) - 1))
            pieces[i], pieces[j] = pieces[j], pieces[i]
        else:
            pieces.insert(i, draw(st.one_of(st.sampled_from(INSERTS), st.characters(exclude_categories=("Cs",)))))
        text = "".join(pieces)
    return text


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_policies())
def test_mutated_policies_get_diagnostics_never_an_exception(text):
    _, diags = check_source(text, "m.policy")
    body = text[1:] if text.startswith("\ufeff") else text
    for d in diags:
        assert d.code in CODES
        sp = d.span
        assert sp.file == "m.policy"
        assert 0 <= sp.start <= sp.end <= len(text), d
        assert 1 <= sp.line <= sp.end_line <= text.count("\n") + 1, d
        assert sp.column >= 1, d
        if d.code in SYNTAX:
            # the caret is on the line of the offending text
            assert sp.line == body.count("\n", 0, sp.start) + 1, d
            assert sp.column == sp.start - (body.rfind("\n", 0, sp.start) + 1) + 1, d
            # the explanation itself did not fail (the safety net says only this)
            assert d.message != "policyc cannot read this line", d
            assert not RAW_TERMINALS.search(d.message + (d.suggestion or "")), d
            assert len(expected_items(d.message)) <= 5, d
