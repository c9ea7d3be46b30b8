"""Tests for policyc.output: value text, JSON Lines / JSON / CSV, tables, atomic writes."""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyc import output
from policyc.output import (
    format_issue,
    format_value,
    rejects_to_jsonl,
    render_table,
    to_csv,
    to_json,
    to_jsonl,
    write_atomic,
)

D = Decimal

ROWS = [
    {
        "agent": "张三",
        "period": "2026-11",
        "pay": D("930.77"),
        "deduction": D("0.00"),
        "pool": D("2E+3"),
        "tickets": 12,
        "passed": True,
        "speed": None,
        "vetoes": ["超时", "差评"],
        "grade": "A级",
    },
    {
        "agent": "李四",
        "period": "2026-11",
        "pay": D("-0.5"),
        "deduction": D("1E-7"),
        "pool": D("2000"),
        "tickets": 0,
        "passed": False,
        "speed": D("0.85"),
        "vetoes": [],
        "grade": 'say "hi", ok',
    },
]


# --------------------------------------------------------------- format_value


@pytest.mark.parametrize(
    "value, text",
    [
        (D("0.00"), "0.00"),
        (D("930.770"), "930.770"),
        (D("1E+3"), "1000"),
        (D("1.5E-8"), "0.000000015"),
        (D("-0.0"), "-0.0"),
        (42, "42"),
        (-7, "-7"),
        (True, "true"),
        (False, "false"),
        (None, "n/a"),
        ("张三", "张三"),
        (["a", "李四"], "a, 李四"),
        ([], ""),
    ],
)
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize("bad", [D("NaN"), D("Infinity"), D("-Infinity"), D("sNaN")])
def test_non_finite_decimal_is_never_a_result(bad):
    with pytest.raises(ValueError):
        format_value(bad)
    with pytest.raises(ValueError):
        to_jsonl([{"agent": "a", "x": bad}])
    with pytest.raises(ValueError):
        to_json([{"agent": "a", "x": bad}])


@pytest.mark.parametrize("bad", [0.1, object(), {"a": 1}, [1, 2]])
def test_unsupported_value_types_raise_type_error(bad):
    with pytest.raises(TypeError):
        to_jsonl([{"x": bad}])
    with pytest.raises(TypeError):
        format_value(bad)


# ----------------------------------------------------------------- JSON Lines


def test_to_jsonl_number_text_is_exact():
    text = to_jsonl(ROWS)
    first = text.splitlines()[0]
    assert '"pay": 930.77' in first
    assert '"deduction": 0.00' in first
    assert '"pool": 2000' in first
    assert '"tickets": 12' in first
    assert '"passed": true' in first
    assert '"speed": null' in first
    assert '"vetoes": ["超时", "差评"]' in first
    second = text.splitlines()[1]
    assert '"deduction": 0.0000001' in second
    assert "1E-7" not in second and "e-07" not in second


def test_to_jsonl_round_trips_exactly_and_keeps_key_order():
    text = to_jsonl(ROWS)
    assert text.endswith("\n") and text.count("\n") == len(ROWS)
    parsed = [json.loads(line, parse_float=Decimal) for line in text.splitlines()]
    for row, back in zip(ROWS, parsed):
        assert list(back) == list(row)
        for key, value in row.items():
            assert back[key] == value
            if isinstance(value, Decimal):
                # Same text too: trailing zeros kept, no exponent.
                got = back[key]
                got_text = str(got) if isinstance(got, int) else format(got, "f")
                assert got_text == format(value, "f")
    # A Decimal without a fraction part is written as a JSON integer.
    assert type(parsed[0]["pool"]) is int


def test_to_jsonl_writes_chinese_unescaped_and_escapes_strings():
    text = to_jsonl([{"agent": "王五", "note": 'a "q"\nb'}])
    assert "王五" in text
    assert "\\u" not in text
    assert text == '{"agent": "王五", "note": "a \\"q\\"\\nb"}\n'


def test_to_jsonl_empty():
    assert to_jsonl([]) == ""


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.integers(),
)
def test_to_jsonl_round_trip_property(dec, n):
    line = to_jsonl([{"d": dec, "n": n}])
    back = json.loads(line, parse_float=Decimal)
    assert back["n"] == n
    assert back["d"] == dec
    # The text is exactly format(v, "f"): no exponent ever.
    assert f'"d": {format(dec, "f")},' in line


# ----------------------------------------------------------------------- JSON


def test_to_json_is_an_array_with_the_same_objects():
    text = to_json(ROWS)
    assert text.startswith("[\n") and text.endswith("]\n")
    assert '    "pay": 930.77,\n' in text
    assert '"deduction": 0.00,' in text
    back = json.loads(text, parse_float=Decimal)
    again = [json.loads(line, parse_float=Decimal) for line in to_jsonl(ROWS).splitlines()]
    assert back == again
    assert [str(r["deduction"]) for r in back] == ["0.00", "1E-7"]


def test_to_json_empty():
    assert json.loads(to_json([])) == []


# ------------------------------------------------------------------------ CSV


def test_to_csv_with_chinese_text_lists_and_na():
    text = to_csv(ROWS)
    lines = text.split("\n")
    assert lines[0] == "agent,period,pay,deduction,pool,tickets,passed,speed,vetoes,grade"
    assert lines[1] == "张三,2026-11,930.77,0.00,2000,12,true,,超时|差评,A级"
    assert lines[2] == '李四,2026-11,-0.5,0.0000001,2000,0,false,0.85,,"say ""hi"", ok"'
    assert text.endswith("\n") and "\r" not in text
    back = list(csv.DictReader(io.StringIO(text)))
    assert back[1]["grade"] == 'say "hi", ok'
    assert back[0]["speed"] == ""


def test_to_csv_rows_must_share_keys():
    with pytest.raises(ValueError):
        to_csv([{"agent": "a", "x": 1}, {"agent": "b", "y": 1}])


def test_to_csv_empty():
    assert to_csv([]) == ""


# ---------------------------------------------------------------------- table


def _render(rows, **kw):
    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, width=200, color_system=None)
    render_table(rows, console=console, **kw)
    return buf.getvalue()


def test_render_table_shows_every_value_and_title():
    text = _render(ROWS, title="淘宝售后 2026-11")
    for needle in [
        "淘宝售后 2026-11",
        "张三",
        "李四",
        "930.77",
        "0.00",
        "0.0000001",
        "true",
        "false",
        "n/a",
        "超时, 差评",
        'say "hi", ok',
        "A级",
    ]:
        assert needle in text
    assert "\x1b[" not in text  # not a terminal: no colour codes


def test_render_table_right_aligns_numbers_and_left_aligns_text():
    rows = [{"agent": "a", "pay": D("1.00")}, {"agent": "长名字的客服", "pay": D("12345.00")}]
    lines = [line for line in _render(rows).splitlines() if "│" in line]
    short = next(line for line in lines if "1.00 " in line and "12345" not in line)
    long = next(line for line in lines if "12345.00" in line)
    from rich.cells import cell_len

    def col(line, needle):  # display column (Chinese characters are 2 cells wide)
        return cell_len(line[: line.index(needle)])

    # Right-aligned: both numbers end at the same display column.
    assert col(short, "1.00") + 4 == col(long, "12345.00") + 8
    # Left-aligned: the agent names start at the same display column.
    assert col(short, "a ") == col(long, "长")
    # The wide names keep the table's borders straight.
    assert cell_len(short) == cell_len(long)


def test_render_table_does_not_interpret_markup():
    text = _render([{"agent": "[bold]x[/bold]", "n": 1}], title="[red]t[/red]")
    assert "[bold]x[/bold]" in text and "[red]t[/red]" in text


def test_render_table_empty():
    assert "no results" in _render([])


def test_importing_output_does_not_import_rich():
    import subprocess
    import sys

    code = "import sys, policyc.output; print('rich' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# -------------------------------------------------------------- write_atomic


def test_write_atomic_writes_whole_text(tmp_path):
    p = tmp_path / "out.csv"
    write_atomic(p, "a,b\n张三,1\n")
    assert p.read_bytes() == "a,b\n张三,1\n".encode("utf-8")
    write_atomic(p, "x\r\n", encoding="gbk")
    assert p.read_bytes() == b"x\r\n"  # no newline translation
    assert os.listdir(tmp_path) == ["out.csv"]


def test_write_atomic_keeps_old_file_when_writer_fails_midway(tmp_path, monkeypatch):
    p = tmp_path / "out.jsonl"
    p.write_text("old content\n", encoding="utf-8")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(output.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(p, "new content\n" * 1000)
    assert p.read_text(encoding="utf-8") == "old content\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]  # temp file removed


def test_write_atomic_keeps_old_file_when_rename_fails(tmp_path, monkeypatch):
    p = tmp_path / "out.jsonl"
    p.write_text("old\n", encoding="utf-8")

    def boom(src, dst):
        raise PermissionError("nope")

    monkeypatch.setattr(output.os, "replace", boom)
    with pytest.raises(PermissionError):
        write_atomic(p, "new\n")
    assert p.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_write_atomic_unencodable_text_leaves_old_file(tmp_path):
    p = tmp_path / "out.csv"
    p.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(p, "agent\n" + "a\n" * 10000 + "张三\n", encoding="ascii")
    assert p.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_write_atomic_creates_new_file_with_normal_permissions(tmp_path):
    p = tmp_path / "new.txt"
    write_atomic(p, "x\n")
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_atomic_keeps_existing_permissions(tmp_path):
    p = tmp_path / "f.txt"
    p.write_text("old")
    os.chmod(p, 0o640)
    write_atomic(p, "new")
    assert p.stat().st_mode & 0o777 == 0o640
    assert p.read_text() == "new"


# ------------------------------------------------------------------- rejects


def issue(index, agent, period, field, fields, reason):
    return SimpleNamespace(
        index=index, agent=agent, period=period, field=field, fields=fields, reason=reason
    )


def test_format_issue_text():
    i = issue(
        1,
        "李四",
        "2026-11",
        "bonus_pool",
        ("bonus_pool",),
        "team-level input differs from record 1 (3000 vs 2800)",
    )
    assert format_issue(i) == (
        "record 2 (agent '李四', period '2026-11'): field 'bonus_pool': "
        "team-level input differs from record 1 (3000 vs 2800)"
    )


def test_format_issue_unknown_agent_and_period():
    i = issue(0, None, None, "agent", ("agent",), "missing")
    assert format_issue(i) == "record 1 (agent ?, period ?): field 'agent': missing"


def test_format_issue_constraint_names_every_field_and_stays_on_one_line():
    i = issue(
        4,
        "王五",
        "2026-Q4",
        "five_star",
        ("five_star", "four_star", "rated"),
        "require five_star + four_star <= rated fails:\n9 + 3 > 10",
    )
    text = format_issue(i)
    assert text.startswith("record 5 (agent '王五', period '2026-Q4'): ")
    assert "fields 'five_star', 'four_star', 'rated': " in text
    assert "\n" not in text


def test_rejects_to_jsonl():
    issues = [
        issue(1, "李四", "2026-11", "bonus_pool", ("bonus_pool",), "differs"),
        issue(6, None, None, None, ("a", "b"), "不是对象"),
    ]
    text = rejects_to_jsonl(issues)
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines == [
        {
            "record": 2,
            "agent": "李四",
            "period": "2026-11",
            "field": "bonus_pool",
            "fields": ["bonus_pool"],
            "reason": "differs",
        },
        {
            "record": 7,
            "agent": None,
            "period": None,
            "field": None,
            "fields": ["a", "b"],
            "reason": "不是对象",
        },
    ]
    assert list(lines[0]) == ["record", "agent", "period", "field", "fields", "reason"]
    assert "不是对象" in text  # not \u-escaped
