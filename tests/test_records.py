"""Tests for policyc.records: reading CSV / JSON / JSON Lines into raw dicts."""

from __future__ import annotations

import io
import sys
from decimal import Decimal

import pytest

from policyc.records import InputError, read_records

BOM = b"\xef\xbb\xbf"


def write(tmp_path, name, data: bytes | str):
    p = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    p.write_bytes(data)
    return p


def error_of(*args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        read_records(*args, **kwargs)
    return info.value


# ------------------------------------------------------------------------ CSV

CSV_TEXT = "agent,period,bonus_pool,rated\n张三,2026-11,930.77,12\n李四,2026-11,,3\n"


def test_csv_with_and_without_bom_give_identical_records(tmp_path):
    plain = write(tmp_path, "plain.csv", CSV_TEXT)
    bom = write(tmp_path, "bom.csv", BOM + CSV_TEXT.encode("utf-8"))
    expected = [
        {"agent": "张三", "period": "2026-11", "bonus_pool": "930.77", "rated": "12"},
        {"agent": "李四", "period": "2026-11", "bonus_pool": None, "rated": "3"},
    ]
    assert read_records(plain) == expected
    assert read_records(bom) == expected
    # The BOM must not end up glued to the first field name.
    assert list(read_records(bom)[0])[0] == "agent"


def test_csv_cells_are_strings_stripped_and_empty_cell_is_none(tmp_path):
    p = write(tmp_path, "r.csv", " agent , score ,note\r\n  王五 ,  7.50 ,   \r\n")
    assert read_records(p) == [{"agent": "王五", "score": "7.50", "note": None}]


def test_csv_quoted_empty_cell_is_none_and_quoted_comma_kept(tmp_path):
    p = write(tmp_path, "r.csv", 'agent,tags\n"赵六",""\n"a, b","x,y"\n')
    assert read_records(p) == [
        {"agent": "赵六", "tags": None},
        {"agent": "a, b", "tags": "x,y"},
    ]


def test_csv_blank_lines_are_skipped_and_order_kept(tmp_path):
    p = write(tmp_path, "r.csv", "\nagent,x\n\na,1\n   \nb,2\n\n\nc,3\n")
    assert [r["agent"] for r in read_records(p)] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "body, line, cells",
    [
        ("agent,x\na,1\nb,2,3\n", 3, 3),  # too many cells
        ("agent,x\na,1\n\nb\n", 4, 1),  # too few, after a skipped blank line
    ],
)
def test_csv_ragged_row_names_the_line(tmp_path, body, line, cells):
    p = write(tmp_path, "ragged.csv", body)
    e = error_of(p)
    assert e.line == line
    assert f"ragged.csv, line {line}" in str(e)
    assert f"{cells} cell" in str(e)


def test_csv_line_numbers_count_physical_lines_of_multiline_cells(tmp_path):
    p = write(tmp_path, "r.csv", 'agent,note\na,"two\nlines"\nb,1,extra\n')
    assert error_of(p).line == 4


@pytest.mark.parametrize(
    "header, what",
    [("agent,x,agent\n", "'agent' twice"), ("agent, ,x\n", "column 2")],
)
def test_csv_duplicate_or_empty_header_name_is_an_error(tmp_path, header, what):
    p = write(tmp_path, "h.csv", header + "a,b,c\n")
    e = error_of(p)
    assert what in str(e)
    assert "h.csv, line 1" in str(e)


def test_csv_duplicate_header_after_stripping_is_an_error(tmp_path):
    p = write(tmp_path, "h.csv", "agent, agent\na,b\n")
    assert "'agent' twice" in str(error_of(p))


def test_csv_header_only_gives_no_records_but_empty_file_is_an_error(tmp_path):
    assert read_records(write(tmp_path, "h.csv", "agent,x\n")) == []
    assert "empty" in str(error_of(write(tmp_path, "e.csv", "")))


def test_csv_unclosed_quote_is_an_error_not_a_merged_record(tmp_path):
    # Leniently parsed, the rest of the file would become one 2-cell row.
    p = write(tmp_path, "q.csv", 'agent,x\na,1\nb,"2\nc,3\n')
    e = error_of(p)
    assert e.line == 3 and "q.csv, line 3" in str(e) and "never closed" in str(e)


def test_csv_text_after_closing_quote_is_an_error(tmp_path):
    p = write(tmp_path, "q.csv", 'agent,x\na,"1"2\n')
    e = error_of(p)
    assert e.line == 2 and "malformed CSV" in str(e)


def test_csv_space_before_opening_quote_is_allowed(tmp_path):
    p = write(tmp_path, "q.csv", 'agent, x\na, "1,5"\n')
    assert read_records(p) == [{"agent": "a", "x": "1,5"}]


# ---------------------------------------------------------------------- JSON


def test_json_numbers_keep_exact_decimal_text(tmp_path):
    p = write(
        tmp_path,
        "r.json",
        '[{"agent": "张三", "rate": 0.045, "pay": 930.70, "n": 12, '
        '"big": 12345678901234567890.01}]',
    )
    [rec] = read_records(p)
    assert rec["rate"] == Decimal("0.045") and isinstance(rec["rate"], Decimal)
    assert str(rec["pay"]) == "930.70"  # trailing zero kept
    assert rec["n"] == 12 and type(rec["n"]) is int
    assert rec["big"] == Decimal("12345678901234567890.01")


def test_json_exponent_numbers_become_exact_decimals(tmp_path):
    # 1e2 is not an integer literal in JSON: it is read as Decimal('1E+2'),
    # exactly 100; whether a count accepts it is the validator's decision.
    p = write(tmp_path, "r.json", '[{"a": 1e2, "b": 2.5E-3, "c": -0.0}]')
    [rec] = read_records(p)
    assert isinstance(rec["a"], Decimal) and rec["a"] == 100
    assert str(rec["a"]) == "1E+2"
    assert rec["b"] == Decimal("0.0025")
    assert str(rec["c"]) == "-0.0"


def test_json_nan_and_infinity_literals_become_decimal_specials(tmp_path):
    p = write(tmp_path, "r.json", '[{"a": NaN, "b": Infinity, "c": -Infinity}]')
    [rec] = read_records(p)
    assert isinstance(rec["a"], Decimal) and rec["a"].is_nan()
    assert rec["b"] == Decimal("Infinity")
    assert rec["c"] == Decimal("-Infinity")


def test_json_other_values_pass_through(tmp_path):
    p = write(tmp_path, "r.json", '[{"ok": true, "x": null, "s": "a\\u2028b", "l": [1]}]')
    assert read_records(p) == [{"ok": True, "x": None, "s": "a\u2028b", "l": [1]}]


@pytest.mark.parametrize("doc", ['{"agent": "a"}', '"x"', "3", "null"])
def test_json_that_is_not_an_array_is_an_error(tmp_path, doc):
    e = error_of(write(tmp_path, "r.json", doc))
    assert "expected a JSON array of records" in str(e)
    assert "r.json" in str(e)


def test_json_array_element_that_is_not_an_object_is_named(tmp_path):
    p = write(tmp_path, "r.json", '[{"a": 1}, {"a": 2}, [1, 2], {"a": 4}]')
    assert "record #3 is not an object" in str(error_of(p))


def test_json_syntax_error_names_line_and_column(tmp_path):
    p = write(tmp_path, "r.json", '[\n  {"a": 1},\n  {"a": 2,}\n]')
    e = error_of(p)
    assert e.line == 3
    assert "r.json, line 3, column" in str(e)
    assert "Traceback" not in str(e)


def test_json_empty_file_is_an_error(tmp_path):
    assert "empty" in str(error_of(write(tmp_path, "r.json", "  \n")))


def test_json_empty_array_is_no_records(tmp_path):
    assert read_records(write(tmp_path, "r.json", "[]")) == []


def test_json_duplicate_field_in_a_record_is_an_error(tmp_path):
    p = write(tmp_path, "r.json", '[{"a": 1}, {"a": 1, "b": 2, "a": 3}]')
    e = error_of(p)
    assert "record #2" in str(e) and "'a'" in str(e)


# ---------------------------------------------------------------- JSON Lines


def test_jsonl_reads_one_object_per_line_skipping_blank_lines(tmp_path):
    p = write(tmp_path, "r.jsonl", '{"a": 0.10}\n\n   \n{"a": 2}\r\n')
    assert read_records(p) == [{"a": Decimal("0.10")}, {"a": 2}]


def test_jsonl_syntax_error_names_the_line(tmp_path):
    p = write(tmp_path, "r.jsonl", '{"a": 1}\n\n{"a": 2}\n{"a": 3,}\n')
    e = error_of(p)
    assert e.line == 4
    assert "r.jsonl, line 4" in str(e)


def test_jsonl_line_that_is_not_an_object_names_the_line(tmp_path):
    p = write(tmp_path, "r.jsonl", '{"a": 1}\n[1]\n')
    e = error_of(p)
    assert e.line == 2 and "line 2" in str(e) and "not an object" in str(e)


def test_jsonl_nan_becomes_decimal_nan(tmp_path):
    [rec] = read_records(write(tmp_path, "r.ndjson", '{"a": NaN}\n'))
    assert rec["a"].is_nan()


def test_jsonl_string_with_line_separator_is_one_record(tmp_path):
    p = write(tmp_path, "r.jl", '{"s": "a\u2028b"}\n{"s": "c"}\n')
    assert read_records(p) == [{"s": "a\u2028b"}, {"s": "c"}]


def test_jsonl_bom_is_accepted(tmp_path):
    p = write(tmp_path, "r.jsonl", BOM + b'{"a": 1}\n')
    assert read_records(p) == [{"a": 1}]


# ------------------------------------------------------------------ encodings


def test_gbk_file_reads_with_encoding_and_fails_clearly_without(tmp_path):
    p = write(tmp_path, "gbk.csv", "agent,group\n张三,售后一组\n".encode("gbk"))
    assert read_records(p, encoding="gbk") == [{"agent": "张三", "group": "售后一组"}]
    e = error_of(p)
    msg = str(e)
    assert "gbk.csv" in msg
    assert "line 2" in msg
    assert "UTF-8" in msg
    assert "--encoding gbk" in msg


def test_decode_error_with_explicit_other_encoding_names_it(tmp_path):
    p = write(tmp_path, "r.csv", b"agent\n\xff\xfe\xff\n")
    e = error_of(p, encoding="ascii")
    assert "ascii" in str(e) and "--encoding" in str(e)


def test_unknown_encoding_is_an_input_error(tmp_path):
    p = write(tmp_path, "r.csv", "agent\na\n")
    assert "unknown encoding" in str(error_of(p, encoding="no-such-codec"))


# ---------------------------------------------------------- formats and paths


@pytest.mark.parametrize(
    "name, body",
    [
        ("R.CSV", "a\n1\n"),
        ("r.json", '[{"a": 1}]'),
        ("r.jsonl", '{"a": 1}\n'),
        ("r.ndjson", '{"a": 1}\n'),
        ("r.jl", '{"a": 1}\n'),
    ],
)
def test_format_detected_from_extension(tmp_path, name, body):
    recs = read_records(write(tmp_path, name, body))
    assert len(recs) == 1 and recs[0]["a"] in ("1", 1)


def test_explicit_format_overrides_extension(tmp_path):
    p = write(tmp_path, "data.txt", '{"a": 1}\n')
    assert read_records(p, fmt="jsonl") == [{"a": 1}]
    assert read_records(p, fmt="csv") == []  # read as a CSV header row with no records
    e = error_of(p)
    assert "--input-format" in str(e) and "data.txt" in str(e)


def test_unknown_format_name_is_an_error(tmp_path):
    p = write(tmp_path, "r.csv", "a\n1\n")
    assert "unknown input format" in str(error_of(p, fmt="xml"))


def test_missing_file_and_directory_are_input_errors(tmp_path):
    assert "no such file" in str(error_of(tmp_path / "nope.csv"))
    d = tmp_path / "dir.csv"
    d.mkdir()
    assert "dir.csv" in str(error_of(d))


class _FakeStdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


@pytest.mark.parametrize(
    "data, expected",
    [
        (b'  [{"a": 0.5}]', [{"a": Decimal("0.5")}]),
        (b'{"a": 1}\n{"a": 2}\n', [{"a": 1}, {"a": 2}]),
        (BOM + "a,b\n张三,\n".encode(), [{"a": "张三", "b": None}]),
    ],
)
def test_stdin_format_detected_from_content(monkeypatch, data, expected):
    monkeypatch.setattr(sys, "stdin", _FakeStdin(data))
    assert read_records("-") == expected


def test_stdin_explicit_format_and_name_in_errors(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _FakeStdin(b'{"a": 1}\n'))
    assert read_records("-", fmt="jsonl") == [{"a": 1}]
    monkeypatch.setattr(sys, "stdin", _FakeStdin(b"[1]"))
    assert "<stdin>" in str(error_of("-"))
