"""`policyc check --lang zh`: every message, label, note and suggestion in Chinese.

The catalogue in src/policyc/i18n.py has one entry per message shape. The
main test here runs every bad case in tests/cases/check/bad/ and fails while
any part of any diagnostic has no Chinese, listing those parts: a message
added (or reworded) without a catalogue entry fails CI. To fix it, add an
entry to the right catalogue in i18n.py (MESSAGES, LABELS, NOTES or
SUGGESTIONS), with an English example.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from policyc import i18n
from policyc.cli import main as cli_main
from policyc.compiler import check_source
from policyc.diagnostics import CODES, Diagnostic, Note, Span

ROOT = Path(__file__).resolve().parent / "cases" / "check"
BAD = sorted((ROOT / "bad").glob("*.policy"))
CJK = re.compile(r"[\u4e00-\u9fff]")
CODE = re.compile(r"`[^`]*`")


def _diagnostics() -> list[Diagnostic]:
    out = []
    for p in BAD:
        out += check_source(p.read_text(encoding="utf-8-sig"), p.relative_to(ROOT).as_posix())[1]
    return out


def test_every_bad_case_is_translated():
    missing: dict[str, set[str]] = {}
    for d in _diagnostics():
        for text in i18n.untranslated(d):
            missing.setdefault(d.code, set()).add(text)
    assert not missing, "no Chinese for these parts of diagnostics; add entries to src/policyc/i18n.py:\n" + "\n".join(
        f"  {code}: {text!r}" for code, texts in sorted(missing.items()) for text in sorted(texts)
    )


def _parts(d: Diagnostic) -> list[str]:
    return [d.message, d.label, *(n.message for n in d.notes), d.suggestion or ""]


def test_translations_are_chinese_and_keep_names_and_code():
    problems = []
    for d in _diagnostics():
        zh = i18n.translate(d, "zh")
        assert (zh.code, zh.span) == (d.code, d.span)
        assert [n.span for n in zh.notes] == [n.span for n in d.notes]
        for en_text, zh_text in zip(_parts(d), _parts(zh)):
            if not en_text:
                assert not zh_text
                continue
            if not CJK.search(zh_text):
                problems.append(f"{d.code}: still English: {zh_text!r}")
            lost = [c for c in CODE.findall(en_text) if c not in zh_text]
            if lost:
                problems.append(f"{d.code}: {en_text!r} → {zh_text!r} loses {lost}")
    assert not problems, "\n".join(problems)


def test_the_cli_shows_every_bad_case_in_chinese(capsys, monkeypatch):
    """End to end: `--lang zh --format json` over every bad case; nothing comes out in English only."""
    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    assert cli_main(["check", "--lang", "zh", "--format", "json", *(p.relative_to(ROOT).as_posix() for p in BAD)]) == 1
    items = json.loads(capsys.readouterr().out)
    assert len(items) == len(_diagnostics())
    english_only = [
        f"{item['code']}: {text!r}"
        for item in items
        for text in [item["message"], *(n["message"] for n in item["notes"]), item["suggestion"] or "中"]
        if not CJK.search(text)
    ]
    assert not english_only, "shown in English only with --lang zh:\n" + "\n".join(english_only)
    assert all(item["english"]["message"] for item in items)


@pytest.mark.parametrize(
    "catalogue", i18n.CATALOGUES, ids=[c.name for c in i18n.CATALOGUES]
)
def test_every_entry_translates_its_example(catalogue):
    for entry in catalogue.entries:
        out = entry.apply(entry.example)
        assert out is not None, f"{catalogue.name}: the entry {entry.shape!r} does not match its example"
        assert catalogue(entry.example) is not None
        assert CJK.search(out), f"{catalogue.name}: {entry.example!r} → {out!r} has no Chinese"
        lost = [c for c in CODE.findall(entry.example) if c not in out]
        assert not lost, f"{catalogue.name}: {entry.example!r} → {out!r} loses {lost}"


SUB_CATALOGUES = [v for v in vars(i18n).values() if isinstance(v, i18n.Catalogue) and v not in i18n.CATALOGUES]


@pytest.mark.parametrize("catalogue", SUB_CATALOGUES, ids=[c.name for c in SUB_CATALOGUES])
def test_every_piece_translates_its_example(catalogue):
    """The smaller catalogues, for pieces inside messages (kinds of value, parser words, …)."""
    for entry in catalogue.entries:
        out = entry.apply(entry.example)
        assert out is not None, f"{catalogue.name}: the entry {entry.shape!r} does not match its example"
        lost = [c for c in CODE.findall(entry.example) if c not in out]
        assert not lost, f"{catalogue.name}: {entry.example!r} → {out!r} loses {lost}"


def test_every_code_summary_is_translated():
    missing = [code for code, (_, _, text) in CODES.items() if i18n.SUMMARIES(text) is None]
    assert not missing, f"add Chinese summaries to i18n.SUMMARIES for {missing}"
    assert all(CJK.search(i18n.summary(code, "zh")) for code in CODES)
    assert i18n.summary("E201", "en") == CODES["E201"][2]


def test_translate_examples():
    span = Span(file="a.policy", line=1, column=1, end_line=1, end_column=2, start=0, end=1)
    d = Diagnostic(code="E202", message="`late` is defined twice", span=span, label="defined again",
                   notes=(Note(message="first defined here", span=span),), suggestion="did you mean `lates`?")
    zh = i18n.translate(d)
    assert zh.message == "`late` 定义了两次"
    assert zh.label == "重复定义"
    assert zh.notes == (Note(message="第一次定义在这里", span=span),)
    assert zh.suggestion == "是不是要写 `lates`？"
    assert i18n.untranslated(d) == []
    assert i18n.translate(d, "en") is d


def test_nested_pieces():
    """Kinds of value, 'what' phrases and the parser's lists are translated inside messages."""
    assert i18n.MESSAGES("the rounded value must be a number, but this is a label (优, 良) that may be N/A") == (
        "要舍入的值必须是数字，但这里是标签（优, 良）（可能为 N/A）"
    )
    assert i18n.MESSAGES("unexpected number `5%`; expected a name, `(` or the end of the line") == (
        "这里不应出现数字 `5%`；这里应为名称、`(` 或行尾"
    )
    assert i18n.MESSAGES("the two sides of `-`: dividing money by a duration gives a unit policies do not have") == (
        "`-` 两边的值：金额除以时长得到的单位在方案中不存在"
    )


def test_code_and_names_are_copied_exactly():
    assert i18n.MESSAGES("two conditions of this gate are named `达 标`") == "这个门槛里有两个条件都叫 `达 标`"
    assert i18n.MESSAGES("`月 度` is not a period kind (month, half_month, quarter, year)") == (
        "`月 度` 不是周期类型（month, half_month, quarter, year）"
    )


def test_unknown_text_stays_english_and_is_reported():
    span = Span(file="a.policy", line=1, column=1, end_line=1, end_column=2, start=0, end=1)
    d = Diagnostic(code="E201", message="a brand-new message nobody translated", span=span, label="here")
    zh = i18n.translate(d)
    assert zh.message == d.message and zh.label == "这里"
    assert i18n.untranslated(d) == ["a brand-new message nobody translated"]
    with pytest.raises(ValueError):
        i18n.translate(d, "fr")


def test_summary_line():
    assert i18n.summary_line(1, 1, 0) == "checked 1 policy: 1 error(s), 0 warning(s)"
    assert i18n.summary_line(3, 0, 2) == "checked 3 policies: 0 error(s), 2 warning(s)"
    assert i18n.summary_line(3, 0, 2, "zh") == "已检查 3 个方案：0 个错误，2 个警告"
