"""The SQL backend: one query per policy (sqlglot), run by DuckDB and by Spark, against the Python engine.

As in tests/test_engines.py, a disagreement is a bug, never a tolerance to widen: numbers must
be equal exactly and of the same kind, labels, conditions and lists identical, and a batch the
Python engine rejects must be rejected with the same issues. The Spark test runs the query on
PySpark in local mode (ANSI mode) when pyspark and Java are installed.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")
pytest.importorskip("sqlglot")

import policyc  # noqa: E402
import test_engines  # noqa: E402
from policyc import runtime as rt  # noqa: E402
from policyc.backends import columnar, sql  # noqa: E402
from policyc.runtime import RecordError  # noqa: E402
from strategies import NUMERIC_KINDS, batches  # noqa: E402
from test_engines import CASES, SAMPLES, _jsonl, _load, frame_of, same  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"

PROFILE = settings(max_examples=20, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HOSTILE = r'''policy hostile "a\"; DROP TABLE x; --"
period month
input select : choice "a\"; DROP TABLE x; --" | "it's" | "back\\slash" | plain
input from : money
input order : grade "x'y" > "--" > "z"
pay group = by select: "a\"; DROP TABLE x; --" -> 1, "it's" -> 2, "back\\slash" -> 3, plain -> 4
label where = by select: "a\"; DROP TABLE x; --" -> "it's", "it's" -> "a\"; DROP TABLE x; --", "back\\slash" | plain -> "--"
better = order >= "--"
pay total = from + group
'''

HOSTILE_RECORDS = [
    {"agent": "a'); DROP TABLE records; --", "period": "2026-01", "select": 'a"; DROP TABLE x; --',
     "from": "1.5", "order": "x'y"},
    {"agent": 'b"', "period": "2026-01", "select": "it's", "from": "2", "order": "--"},
    {"agent": "c\\", "period": "2026-01", "select": "back\\slash", "from": "0", "order": "z"},
    {"agent": "d\nline", "period": "2026-01", "select": "plain", "from": "10.25", "order": "--"},
]

# Rounding of negative quotients in every mode: the one integer division of the plan, floor
# division, must be exact for negative numerators (DuckDB truncates; Spark's `div` wraps).
NEGATIVE = '''policy negative
period month
input a, b : number
input c : count
up = (a - b) / 3 round 0.01 up
down = (a - b) / 3 round 0.01 down
half_up = (a - b) / 7 round 0.01
half_even = (a - b) / 4 round 0.01 half_even
whole = (a - b) / (c + 1) round 1
q = (a - b) / (c + 1) when zero 0
'''
NEGATIVE_RECORDS = [
    {"agent": f"n{i}", "period": "2026-01", "a": a, "b": b, "c": c}
    for i, (a, b, c) in enumerate([("0", "0.01", "0"), ("-1", "0.005", "2"), ("0.02", "0.04", "1"), ("-7", "0", "2"),
                                   ("-0.015", "0", "0"), ("0.015", "0", "3"), ("-0.03", "0", "5"), ("5", "-2.5", "6"),
                                   ("-123456789.123", "0.001", "10"), ("0.045", "0.085", "0")])
]


def _python_rows(policy, records):
    return [r.as_row() for r in policy.score_batch(records)]


def _problems(want, rows, engine="duckdb"):
    problems = []
    assert len(rows) == len(want)
    for i, (w, g) in enumerate(zip(want, rows)):
        for k, v in w.items():
            if not same(v, g[k]):
                problems.append(f"record {i} {k}: python {v!r}, {engine} {g[k]!r}")
    return problems


def compare(policy, records, frame):
    test_engines.compare(policy, records, frame, engine="duckdb")


@pytest.fixture
def no_fallback(monkeypatch):
    """Fail if the batch is handed to the Python engine: the result must come from DuckDB."""
    def refuse(*args):
        raise AssertionError("the duckdb engine handed the batch to the Python engine")

    monkeypatch.setattr(sql, "_python", refuse)


def _read_sample(sample: Path):
    with sample.open(encoding="utf-8-sig", newline="") as f:
        records = list(csv.DictReader(f))
    return [{k: (None if v == "" else v) for k, v in r.items()} for r in records]


def _text_frame(records):
    return pl.DataFrame(records, schema={k: pl.String for k in records[0]})


# ───────────────────────── the shipped samples ─────────────────────────


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_sample_scores_alike_in_duckdb(sample, no_fallback):
    policy = policyc.load(POLICIES / f"{sample.stem}.policy")
    records = _read_sample(sample)
    compare(policy, records, _text_frame(records))


@pytest.mark.parametrize("apart", [False, True], ids=["together", "apart"])
@pytest.mark.parametrize("sample", SAMPLES[:3] + SAMPLES[-1:], ids=lambda p: p.stem)
def test_sample_files_score_alike_in_duckdb(sample, apart, tmp_path, no_fallback, monkeypatch):
    """DuckDB reads the CSV file itself (and a Parquet copy of it); the query then gives agent
    and period too, with its windows in the chain or set apart (as from APART_ROWS records on)."""
    monkeypatch.setattr(sql, "APART_ROWS", 0 if apart else 10 ** 9)
    policy = policyc.load(POLICIES / f"{sample.stem}.policy")
    want = _python_rows(policy, _read_sample(sample))
    assert not _problems(want, policy.score_frame(str(sample), engine="duckdb").to_dicts())
    parquet = tmp_path / "records.parquet"
    _text_frame(_read_sample(sample)).write_parquet(parquet)
    assert not _problems(want, policy.score_frame(parquet, engine="duckdb").to_dicts())


# ───────────────────────── generated batches ─────────────────────────

@pytest.mark.parametrize("which", CASES)
def test_generated_batches_score_alike_in_duckdb(which, monkeypatch):
    """(With windows set apart, as the engine does from APART_ROWS records on: the shipped
    samples and the other tests here score small batches, with the windows in the chain.)"""
    monkeypatch.setattr(sql, "APART_ROWS", 0)
    policy = _load(which)
    try:
        sql.compile_sql(policy.ir)
    except sql.SqlUnsupported as e:  # refused, never approximated (tested below)
        pytest.skip(f"not expressible in the columnar plan: {e}")

    @PROFILE
    @given(batches(policy.ir))
    def check(records):
        compare(policy, records, frame_of(policy, records))

    check()


@pytest.mark.parametrize("which", [("text", "feat_rational_mix"), ("text", "feat_history"),
                                   ("file", POLICIES / "team_kpi_2024.policy")], ids=lambda w: str(w[1])[-20:])
def test_a_frames_summary_taken_by_polars_is_the_one_duckdb_takes(which):
    """For a frame of integer and decimal columns the engine takes the batch's summary (size,
    distinct keys, periods, the numeric inputs' bounds, the facts that prove rows valid) in
    Polars: the same as DuckDB's query gives, bounds and their signs included (the query relies
    on the signs), with and without a duplicate key, a missing period and an empty agent."""
    policy = _load(which)

    @PROFILE
    @given(batches(policy.ir), st.sampled_from(["", "duplicate", "no period", "empty agent"]))
    def check(records, spoil):
        if spoil == "duplicate":
            records = records + [dict(records[0])]
        elif spoil == "no period":
            records = [dict(records[0], period=None)] + records[1:]
        elif spoil == "empty agent":
            records = [dict(records[0], agent="")] + records[1:]
        frame = frame_of(policy, records)
        got = sql._frame_summary(policy.ir, frame)
        assert got is not None
        con = duckdb.connect()
        con.register(sql._SOURCE, frame)
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {sql._SOURCE}").fetchall()}
        want = sql._summary(policy.ir, {i.name: types[i.name] for i in policy.ir.inputs}, con)
        assert got[0] == want[0] and (got[1] == got[0]) == (want[1] == want[0]) == (spoil != "duplicate")
        assert sorted(got[2], key=str) == sorted(want[2], key=str) and got[3] == want[3]
        assert got[4] == want[4] and got[4].agents_ok == (spoil != "empty agent")  # (what proves rows valid)

    check()


def _spoiled(inp) -> list:
    """Values of numeric input `inp` no record may hold, whole numbers that any numeric column
    holds: below or above its domain, and missing (None) unless N/A is allowed."""
    out = []
    for lo, hi in (inp.domain or rt._DEFAULT.get(inp.kind, ()))[:1]:
        if lo is not None:
            out.append(math.floor(Fraction(lo)) - 1)
        if hi is not None:
            out.append(math.ceil(Fraction(hi)) + 7)
    return out + ([] if inp.na else [None])


@pytest.mark.parametrize("which", CASES)
def test_a_bad_value_in_a_typed_frame_is_found_where_the_summary_proves_the_others(which):
    """The engine reads an input with no test per row when the batch's summary (missing values,
    least and greatest value) proves every row valid; one bad value in one record must keep that
    input's test in the query and be reported as the Python engine reports it, with the other
    inputs still proven."""
    policy = _load(which)
    try:
        sql.compile_sql(policy.ir)
    except sql.SqlUnsupported as e:
        pytest.skip(f"not expressible in the columnar plan: {e}")
    numeric = [i for i in policy.ir.inputs if i.kind in NUMERIC_KINDS and _spoiled(i)]
    if not numeric:
        pytest.skip("no numeric input can be spoiled")

    @PROFILE
    @given(batches(policy.ir), st.data())
    def check(records, data):
        inp = data.draw(st.sampled_from(numeric))
        k = data.draw(st.integers(0, len(records) - 1))
        bad = data.draw(st.sampled_from(_spoiled(inp)))
        frame = frame_of(policy, records)
        dtype = frame.schema[inp.name]
        frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == k).then(pl.lit(bad).cast(dtype))
                                   .otherwise(pl.col(inp.name)).alias(inp.name))
        with pytest.raises(RecordError) as py:
            policy.score_batch(frame.to_dicts())  # (the frame's values: a Decimal(38, 3) column's -1.000)
        with pytest.raises(RecordError) as got:
            policy.score_frame(frame, engine="duckdb")
        assert [str(i) for i in got.value.errors] == [str(i) for i in py.value.errors]

    check()


def test_inputs_the_summary_proves_valid_are_read_without_a_test():
    """`checked_inputs` proves an input only with no missing value (or N/A allowed) and both
    extremes within one alternative of its domain, a count only when whole by its column; and the
    query then has no test of that input (the message that would name it is gone)."""
    policy = policyc.load(POLICIES / "taobao_aftersales.policy")
    p = policy.ir
    scales = {"refund_rate": 4, "complaint_points": 2, "standout": 2}
    full = {i.name: 0 for i in p.inputs if i.kind in NUMERIC_KINDS}
    good = {"refund_rate": (Decimal("0"), Decimal("1")), "late": (0, 3), "leave": (0, 0), "absent": (0, 9),
            "low_reviews": (0, 2), "complaints": (0, 4), "praises": (0, 1),
            "complaint_points": (Decimal("0"), Decimal("80.5")), "standout": (Decimal("2"), Decimal("5"))}
    facts = sql.Facts(agents_ok=True, nulls=full, extremes=good)
    assert sql.checked_inputs(p, facts, scales) == {"agent", *good}
    assert "complaint_points" in sql.checked_inputs(
        p, sql.Facts(True, full, dict(good, complaint_points=(Decimal("-3"), Decimal("0")))), scales), \
        "points may be negative"
    for name, extremes, why in [("refund_rate", (Decimal("0"), Decimal("1.0001")), "above 100%"),
                                ("late", (-1, 3), "a negative count"),
                                ("standout", (Decimal("0"), Decimal("5")), "0 and 5 are valid, 1 between them is not"),
                                ("refund_rate", (Decimal("-0.0001"), Decimal("0.5")), "below 0%")]:
        got = sql.checked_inputs(p, sql.Facts(True, full, dict(good, **{name: extremes})), scales)
        assert name not in got and len(got) == len(good), why
    assert "late" not in sql.checked_inputs(p, sql.Facts(True, dict(full, late=1), good), scales)
    assert "late" not in sql.checked_inputs(p, facts, dict(scales, late=1)), "a count held with decimals"
    assert "agent" not in sql.checked_inputs(p, sql.Facts(False, full, good), scales)
    types = {"refund_rate": "DECIMAL(38,4)", "complaint_points": "DECIMAL(38,2)", "standout": "DECIMAL(38,2)",
             **{n: "BIGINT" for n in ("late", "leave", "absent", "low_reviews", "complaints", "praises")},
             **{i.name: "VARCHAR" for i in p.inputs if i.kind not in NUMERIC_KINDS}}
    checked = sql.checked_inputs(p, facts, scales)
    tested = sql.compile_sql(p, "duckdb", "t", scales, types=types, narrow=True)
    proven = sql.compile_sql(p, "duckdb", "t", scales, types=types, narrow=True, checked=checked)
    for name in ("refund_rate'' (outside", "late'' (missing", "agent'' (missing"):  # (quotes doubled in SQL)
        assert name in tested and name not in proven, name
    assert "quality_grade'' (missing" in proven, "labels are still read row by row"
    assert "constraint" in proven, "a require is still tested row by row"


def test_decimal_outputs_come_back_as_the_polars_engine_types_them(no_fallback):
    """Decimal outputs the batch's bounds keep within BIGINT leave the query as integer counts of
    cents (`scaled_out`) and become Decimal(38, 2) in Polars: the same types and values as the
    Polars engine gives; a decimal output beyond BIGINT stays a DECIMAL of the query."""
    policy = policyc.load(POLICIES / "taobao_aftersales.policy")
    records = _read_sample(POLICIES / "samples" / "taobao_aftersales.csv")
    frame = frame_of(policy, records)
    got, want = policy.score_frame(frame, engine="duckdb"), policy.score_frame(frame, engine="polars")
    assert got.schema == want.schema and got.equals(want)
    assert got.schema["salary"] == pl.Decimal(38, 2)
    places: dict = {}
    scales = {"refund_rate": 4, "complaint_points": 2, "standout": 2}
    types = {"refund_rate": "DECIMAL(38,4)", "complaint_points": "DECIMAL(38,2)", "standout": "DECIMAL(38,2)"}
    sql.compile_sql(policy.ir, "duckdb", "t", scales, types=types, narrow=True, scaled_out=places,
                    bounds={"late": (0, 8), "leave": (0, 8), "absent": (0, 8), "low_reviews": (0, 8),
                            "complaints": (0, 8), "praises": (0, 8), "refund_rate": (0, 1),
                            "complaint_points": (0, 256), "standout": (0, 8)}, rows=1024)
    assert places == {"total": 2, "kpi_bonus": 2, "salary": 2}
    big = policyc.loads("policy big\nperiod month\ninput a : money\npay small = a round 0.01\n"
                        "pay large = a * 100000 round 0.01\n")
    frame = pl.DataFrame({"agent": ["x", "y"], "period": ["2026-01"] * 2,
                          "a": [Decimal("12.34"), Decimal("999999999999.99")]},
                         schema={"agent": pl.String, "period": pl.String, "a": pl.Decimal(38, 2)})
    places.clear()
    sql.compile_sql(big.ir, "duckdb", "t", {"a": 2}, types={"a": "DECIMAL(38,2)"}, narrow=True, scaled_out=places,
                    bounds={"a": (0, 2 ** 40)}, rows=2)
    assert places == {"small": 2}, "10^17 cents and more need HUGEINT: that output stays a DECIMAL"
    got = big.score_frame(frame, engine="duckdb")
    assert got.schema == big.score_frame(frame, engine="polars").schema
    assert got["large"].to_list() == [Decimal("1234000.00"), Decimal("99999999999999000.00")]
    assert got["small"].to_list() == [Decimal("12.34"), Decimal("999999999999.99")]
    # a value with no finite decimal (20 places) leaves the query as its HUGEINT count of 10^-20
    # when the bounds keep that count within 38 digits, else as a DECIMAL(38, 20) of the query
    frac = policyc.loads("policy frac\nperiod month\ninput a : money\nthird = a / 3\n")
    for top, scaled in ((2 ** 40, {"third": 20}), (10 ** 17, {"third": 20}), (10 ** 19, {})):
        places.clear()
        sql.compile_sql(frac.ir, "duckdb", "t", {"a": 2}, types={"a": "DECIMAL(38,2)"}, narrow=True,
                        scaled_out=places, bounds={"a": (0, top)}, rows=2)
        assert places == scaled, top
    got = frac.score_frame(frame, engine="duckdb")
    assert got.schema == frac.score_frame(frame, engine="polars").schema
    assert got["third"].to_list() == [Decimal("4.11333333333333333333"), Decimal("333333333333.33000000000000000000")]


def test_the_engine_reads_its_result_without_a_warning_and_leaves_other_warnings_alone(no_fallback):
    """The engine fetches its result through a DB-API cursor (`_result`), of which DuckDB warns
    that it copies the rows: that one warning from this module is ignored, even under a filter
    that makes every warning an error, and no other is."""
    import warnings

    policy = policyc.load(POLICIES / "team_kpi_2024.policy")
    records = _read_sample(POLICIES / "samples" / "team_kpi_2024.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = policy.score_frame(_text_frame(records), engine="duckdb")
        with pytest.raises(UserWarning):
            warnings.warn("Arrow output on a DB-API result, from elsewhere", UserWarning, stacklevel=1)
    assert not _problems(_python_rows(policy, records), got.to_dicts())


# ───────────────────────── bad records, limits, exactness ─────────────────────────


def test_a_bad_record_is_reported_as_the_python_engine_reports_it():
    policy = policyc.load(POLICIES / "taobao_aftersales.policy")
    records = _read_sample(POLICIES / "samples" / "taobao_aftersales.csv")
    records[2]["refund_rate"] = "5"        # a percent written as 5 instead of 0.05
    records[4]["level"] = "boss"           # an unknown label
    records[5]["late"] = None              # a missing value
    records[7]["period"] = records[6]["period"]
    records[7]["agent"] = records[6]["agent"]  # a duplicate
    frame = _text_frame(records)
    with pytest.raises(RecordError) as py:
        policy.score_batch(frame.to_dicts())
    with pytest.raises(RecordError) as got:
        policy.score_frame(frame, engine="duckdb")
    assert [str(i) for i in got.value.errors] == [str(i) for i in py.value.errors]
    assert {(i.index, i.field) for i in got.value.errors} >= {(2, "refund_rate"), (4, "level"), (5, "late"),
                                                              (7, "period")}


def test_the_validation_query_lists_the_bad_rows():
    policy = policyc.load(POLICIES / "team_kpi_2024.policy")
    records = _read_sample(POLICIES / "samples" / "team_kpi_2024.csv")
    records[1]["paid_buyers"] = "501"      # more buyers than inquiries: `require` broken
    records[1]["inquiries"] = "500"
    records[2]["bonus_pool"] = "8000"      # a team-level input that differs within the team
    records[3]["attitude"] = "11"          # outside 0..10
    records[4]["period"] = "2026-13"
    con = duckdb.connect()
    con.register("records", _text_frame(records).to_arrow())
    bad = con.execute(sql.compile_validation_sql(policy.ir)).fetchall()
    problems = {(agent, period): set(text.split(", ")) for agent, period, text in bad}
    team = {(r["agent"], r["period"]) for r in records[:4]}  # one team: a differing bonus pool rejects all
    assert all("bonus_pool" in problems[k] for k in team)
    assert problems[(records[1]["agent"], "2026-09")] == {"paid_buyers", "bonus_pool"}
    assert problems[(records[3]["agent"], "2026-09")] == {"attitude", "bonus_pool"}
    assert problems[(records[4]["agent"], "2026-13")] == {"period"}
    assert len(problems) == 5
    # the scoring query never scores them: it fails, naming a field
    with pytest.raises(duckdb.InvalidInputException, match="policyc: a record is not valid"):
        con.execute(sql.compile_sql(policy.ir)).fetchall()


def test_an_unknown_label_fails_the_query_as_a_bad_record_not_as_a_table_without_a_row():
    """The label's lookup gives no value too; the query names the record, not the table."""
    policy = policyc.load(POLICIES / "taobao_aftersales.policy")
    records = _read_sample(POLICIES / "samples" / "taobao_aftersales.csv")
    records[3]["quality_grade"] = "极好"
    con = duckdb.connect()
    con.register("records", _text_frame(records).to_arrow())
    with pytest.raises(duckdb.InvalidInputException, match="policyc: a record is not valid: 'quality_grade'"):
        con.execute(sql.compile_sql(policy.ir)).fetchall()


def test_a_value_with_more_decimals_than_its_scale_fails_the_query_loudly():
    """`CAST` would round 4.9999 to 5.00 at scale 2; the query refuses instead."""
    policy = policyc.load(POLICIES / "pdd_deduction.policy")
    records = _read_sample(POLICIES / "samples" / "pdd_deduction.csv")
    con = duckdb.connect()
    con.register("records", _text_frame(records).to_arrow())
    assert sql.DEFAULT_SCALES["points"] == 2
    with pytest.raises(duckdb.InvalidInputException, match="'supervisor_deduction' .*at most 2 decimal"):
        con.execute(sql.compile_sql(policy.ir)).fetchall()
    listed = con.execute(sql.compile_validation_sql(policy.ir)).fetchall()
    assert {(a, p, f) for a, p, f in listed} == {(r["agent"], r["period"], "supervisor_deduction")
                                                 for r in records if r["supervisor_deduction"] == "4.9999"}
    # with the scale the data needs, the same query scores them exactly
    rows = con.execute(sql.compile_sql(policy.ir, scales={"supervisor_deduction": 4})).fetchall()
    assert len(rows) == len(records)


def test_exact_where_floats_would_not_be():
    policy = policyc.loads("policy f\nperiod month\ninput a, b : money\n"
                           "pay s = a + b\npay t = (a + b) / 3\npay r = (a + b) / 3 round 0.01\n")
    frame = pl.DataFrame({"agent": ["x"], "period": ["2026-01"], "a": ["0.1"], "b": ["0.2"]})
    row = policy.score_frame(frame, engine="duckdb").to_dicts()[0]
    assert row["s"] == Decimal("0.3")
    assert row["t"] == Decimal("0.1")
    assert row["r"] == Decimal("0.10")
    third = policy.score_frame(pl.DataFrame({"agent": ["x"], "period": ["2026-01"], "a": ["1"], "b": ["0"]}),
                               engine="duckdb").to_dicts()[0]
    assert third["t"] == Decimal("0.33333333333333333333")


def test_negative_quotients_round_exactly(no_fallback):
    policy = policyc.loads(NEGATIVE, "<negative>")
    want = _python_rows(policy, NEGATIVE_RECORDS)
    assert not _problems(want, policy.score_frame(_text_frame(NEGATIVE_RECORDS), engine="duckdb").to_dicts())


def test_overflow_is_refused_never_wrapped():
    policy = policyc.loads("policy big\nperiod month\ninput a, b, c, d : number\np = a * b * c * d\n")
    huge = "9" * 30
    frame = pl.DataFrame({"agent": ["x"], "period": ["2026-01"], "a": [huge], "b": [huge], "c": [huge], "d": [huge]})
    with pytest.raises(sql.EngineLimit, match="38-digit"):
        policy.score_frame(frame, engine="duckdb")
    exact = policy.score_batch(frame.to_dicts())[0]["p"]  # the Python engine is exact at any size
    assert exact == int(huge) ** 4


def test_a_product_beyond_bigint_is_computed_in_hugeint(no_fallback):
    """The engine tries BIGINT first (checked by DuckDB); an overflow there is not an answer: the
    HUGEINT query computes it."""
    policy = policyc.loads("policy big\nperiod month\ninput a : money\ninput b : number\npay p = a * b round 0.01\n")
    frame = pl.DataFrame({"agent": ["x", "y"], "period": ["2026-01"] * 2, "a": ["10000000000.01", "3"],
                          "b": ["10000000000", "4.5"]})
    got = policy.score_frame(frame, engine="duckdb").to_dicts()
    assert [r["p"] for r in got] == [Decimal("100000000000100000000.00"), Decimal("13.50")]


def test_the_batchs_bounds_put_only_the_steps_that_need_it_in_hugeint():
    """With the batch's bounds, the BIGINT query computes in HUGEINT exactly the steps whose values
    may leave BIGINT (here a × b), and gives the Python engine's results; without them that
    query overflows (DuckDB checks), which is why the engine passes them."""
    policy = policyc.loads("policy big\nperiod month\ninput a : money\ninput b : number\ninput n : count\n"
                           "pay p = a * b round 0.01\npay q = 3 * n + a\n")
    records = [{"agent": "x", "period": "2026-01", "a": "90000000000.01", "b": "80000000", "n": "7"},
               {"agent": "y", "period": "2026-01", "a": "3", "b": "4.5", "n": "0"}]
    types = {"a": "DECIMAL(18,2)", "b": "DECIMAL(18,2)", "n": "BIGINT"}
    con = duckdb.connect()
    con.execute("CREATE TABLE records (agent VARCHAR, period VARCHAR, a DECIMAL(18,2), b DECIMAL(18,2), n BIGINT)")
    con.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                    [[r["agent"], r["period"], Decimal(r["a"]), Decimal(r["b"]), int(r["n"])] for r in records])
    bounds = {"a": (0, Decimal("90000000000.01")), "b": (0, 80000000), "n": (0, 7)}
    query = sql.compile_sql(policy.ir, "duckdb", types=types, narrow=True, bounds=bounds, rows=2)
    wide = query.upper().replace("INT128", "HUGEINT").count("AS HUGEINT)")
    assert 0 < wide < sql.compile_sql(policy.ir, "duckdb", types=types).upper().replace(
        "INT128", "HUGEINT").count("AS HUGEINT)")
    got = [dict(zip(("agent", "period", "p", "q"), r)) for r in con.execute(query).fetchall()]
    want = policy.score_batch(records)
    assert [(r["p"], r["q"]) for r in got] == [(w["p"], w["q"]) for w in want]
    with pytest.raises(duckdb.OutOfRangeException):
        con.execute(sql.compile_sql(policy.ir, "duckdb", types=types, narrow=True)).fetchall()


@given(data=st.data())
@PROFILE
def test_a_hugeint_quotient_is_exact_without_dividing_in_hugeint(data):
    """In the BIGINT query, ⌊a / b⌋ for a HUGEINT a is computed from DOUBLE estimates and an exact
    remainder (one estimate for |a| < 2^110, two beyond), never trusting them: quotients of either
    sign, with remainders either side of the estimate, give the Python engine's digits."""
    policy = policyc.loads("policy q\nperiod month\ninput a : number\ninput b : count\n"
                           "let r = a / b when zero 0\nitem x 10 pts = 10\nshare = r\n")
    top = data.draw(st.sampled_from([10 ** 9, 10 ** 17]), label="magnitude")  # × 10^20: 1 or 2 estimates
    n = data.draw(st.integers(2, 8), label="rows")
    a = data.draw(st.lists(st.integers(-top, top), min_size=n, max_size=n), label="a")
    b = data.draw(st.lists(st.integers(1, 10 ** 12), min_size=n, max_size=n), label="b")
    records = [{"agent": f"x{k}", "period": "2026-01", "a": a[k], "b": b[k]} for k in range(n)]
    rounds = []
    real = sql._Query.floordiv_from_estimate
    con = duckdb.connect()
    con.execute("CREATE TABLE records (agent VARCHAR, period VARCHAR, a BIGINT, b BIGINT)")
    con.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", [list(r.values()) for r in records])
    with pytest.MonkeyPatch.context() as m:  # (which path computes the quotient)
        m.setattr(sql._Query, "floordiv_from_estimate",
                  lambda self, node, x, y, level, k: rounds.append(k) or real(self, node, x, y, level, k))
        query = sql.compile_sql(policy.ir, "duckdb", scales={"a": 0, "b": 0}, types={"a": "BIGINT", "b": "BIGINT"},
                                narrow=True, bounds={"a": (-top, top), "b": (0, 10 ** 12)}, rows=n)
    assert rounds and set(rounds) == {1 if top < 10 ** 10 else 2}
    got = con.sql(query).pl()["share"].to_list()
    want = [r["share"] for r in policy.score_batch(records)]
    assert got == want


def test_results_keep_the_records_order_without_order_by(no_fallback, tmp_path):
    """A query with no window leaves out its ORDER BY (DuckDB keeps a table's order); a batch
    large enough to be read by several threads still comes back in the records' order, from a
    frame and from a Parquet file."""
    policy = policyc.loads("policy order\nperiod month\ninput a : count\npay p = 2 * a\n")
    n = 400_000
    frame = pl.DataFrame({"agent": [f"a{i}" for i in range(n)], "period": ["2026-01"] * n, "a": range(n)})
    assert "ORDER BY" not in sql.compile_sql(policy.ir, "duckdb", row_id="r", in_row_order=True, keys_proven=True)
    frame.write_parquet(tmp_path / "records.parquet")
    for source in (frame, tmp_path / "records.parquet"):
        got = policy.score_frame(source, engine="duckdb")
        assert got["agent"].to_list() == frame["agent"].to_list()
        assert got["p"].to_list() == list(range(0, 2 * n, 2))


def test_a_parquet_file_is_read_in_record_order_even_with_a_column_named_like_the_row_number(no_fallback, tmp_path):
    """DuckDB numbers a Parquet file's records with its reader's `file_row_number`; a file that
    has a column of that name (allowed as an extra field) is numbered by row_number() instead,
    and both give the Python engine's results in record order."""
    policy = policyc.loads("policy pq\nperiod month\nallow extra fields\ninput a : count\npay p = 2 * a + 1\n")
    n = 300_000
    frame = pl.DataFrame({"agent": [f"a{i}" for i in range(n)], "period": ["2026-01"] * n,
                          "a": [(i * 7919) % 1000 for i in range(n)]})
    for extra in (False, True):
        path = tmp_path / f"records{extra}.parquet"
        (frame.with_columns(file_row_number=pl.lit("x")) if extra else frame).write_parquet(path, row_group_size=50_000)
        got = policy.score_frame(path, engine="duckdb")
        assert got["agent"].to_list() == frame["agent"].to_list()
        assert got["p"].to_list() == [2 * a + 1 for a in frame["a"].to_list()]


def test_ranks_of_fractions_are_exact_where_doubles_are_not():
    """Ranks of fractions: the BIGINT query ranks by an exact integer key ⌊q·10^k⌋ (k as large
    as the batch's bounds allow, up to 20) and proves every tie of keys exact; when that proof
    fails the engine's HUGEINT query orders by a DOUBLE key and proves the order row against
    row. Equal fractions whose doubles differ by an ulp tie; fractions one double cannot tell
    apart are ranked exactly by the integer key; two that neither key tells apart are ranked
    when the DOUBLE order holds, and when it does not the query fails with the proof's message
    instead of guessing."""
    policy = policyc.loads("policy r\nperiod month\ncohort team by team\ninput team : text\n"
                           "input a, b : count\nlet q = a / b when zero 0\nk = rank(q over team)\n")

    def ranks(a, b, engine):
        frame = pl.DataFrame({"agent": ["x", "y", "z"], "period": ["2026-01"] * 3, "team": ["t"] * 3,
                              "a": a, "b": b})
        return [r["k"] for r in policy.score_frame(frame, engine=engine).to_dicts()]

    n, d = 288867330454202300, 762
    assert float(n) / float(d) != float(5 * n) / float(5 * d)  # n/d = 5n/5d, yet the doubles differ
    assert ranks([n, 5 * n, 1], [d, 5 * d, 2], "duckdb") == [1, 1, 3]
    big = 10 ** 17  # (10^17 + 1)/10^17 > 1/1, but both are 1.0 as doubles; ⌊q·10^17⌋ tells them apart
    assert float(Fraction(big + 1, big)) == 1.0
    assert ranks([1, big + 1, 1], [1, big, 2], "duckdb") == [2, 1, 3]
    m = 2 ** 61 - 2  # (m + 1)/m − 1 < 10^-18: for these bounds (2^61) the key has 17 places and ties them
    assert ranks([m + 1, 1, 1], [m, 1, 2], "duckdb") == [1, 2, 3]  # the DOUBLE order, by agent: x first, right
    with pytest.raises(sql.EngineLimit, match="rank could not be ordered exactly"):
        ranks([1, m + 1, 1], [1, m, 2], "duckdb")  # x first again, but y is the larger
    assert ranks([1, m + 1, 1], [1, m, 2], "auto") == [2, 1, 3]


def test_a_rank_of_fractions_takes_one_window_in_the_bigint_query():
    """The BIGINT query ranks fractions with one window (RANK and the LAGs of its proof share
    one ordering) where the HUGEINT query needs two."""
    policy = policyc.loads("policy r\nperiod month\ncohort team by team\ninput team : text\n"
                           "input a, b : count\nlet q = a / b when zero 0\nk = rank(q over team)\n")
    types = {"team": "VARCHAR", "a": "BIGINT", "b": "BIGINT"}
    narrow = sql.compile_sql(policy.ir, "duckdb", types=types, narrow=True, bounds={"a": (0, 1000), "b": (0, 1000)},
                             rows=8)
    wide = sql.compile_sql(policy.ir, "duckdb", types=types)
    assert "RANK()" in narrow and "ROWS BETWEEN" not in narrow
    assert "RANK()" not in wide and "ROWS BETWEEN" in wide


def _levels_of(policy, monkeypatch, sink=True, **kw):
    """The query's columns by level ({name: level}, {name: columns it reads}), as `build` left them."""
    from sqlglot import exp

    got = {}
    real = sql._with

    def capture(q, final):
        got["q"], got["final"] = q, final
        return real(q, final)

    monkeypatch.setattr(sql, "_with", capture)
    if not sink:
        monkeypatch.setattr(sql._Query, "sink", lambda self, final: None)
    sql.compile_sql(policy.ir, "duckdb", **kw)
    monkeypatch.undo()
    q = got["q"]
    where = {n: lv for lv, placed in q.levels.items() for n, _ in placed}
    reads = {n: {c.name for c in e.find_all(exp.Column)} & where.keys() for placed in q.levels.values()
             for n, e in placed}
    windows = {lv for lv, placed in q.levels.items() if any(e.find(exp.Window) for _, e in placed)}
    reads["·final"] = {c.name for c in got["final"].find_all(exp.Column)} & where.keys()
    where["·final"] = max(q.levels) + 1
    return where, reads, windows


@pytest.mark.parametrize("which", CASES)
def test_each_column_is_made_after_what_it_reads_and_windows_carry_no_more(which, monkeypatch):
    """`_Query.sink` moves a step read only after a window to after it: every column must still be
    made at a later level than each column it reads, windows stay where they were, and no window
    carries more columns than before (team_kpi's carry fewer)."""
    policy = _load(which)
    try:
        sql.compile_sql(policy.ir)
    except sql.SqlUnsupported as e:
        pytest.skip(f"not expressible in the columnar plan: {e}")
    kw = dict(row_id=sql.ROW)
    where, reads, windows = _levels_of(policy, monkeypatch, **kw)
    before, _, windows_before = _levels_of(policy, monkeypatch, sink=False, **kw)
    assert windows == windows_before
    for n, xs in reads.items():  # (level 0 reads the table's own columns, some of the same name)
        assert where[n] == 0 or all(where[x] < where[n] for x in xs), n

    def carried(levels, w):  # made before window level w and read after it (·final: the last select)
        return {x for n, xs in reads.items() if levels[n] > w for x in xs if levels[x] < w}

    for w in windows:
        assert len(carried(where, w)) <= len(carried(before, w)), w
    if "team_kpi" in str(which[1]):
        assert any(len(carried(where, w)) < len(carried(before, w)) for w in windows)


def _outcome(con, text):
    try:
        return con.sql(text).fetchall()
    except duckdb.Error as e:  # (which row a failing query names first may differ)
        return type(e).__name__


@pytest.mark.parametrize("which", CASES)
def test_windows_apart_score_as_windows_together(which):
    """`apart` (the engine's query) makes each window in a relation of the row id and what it
    reads, and a partition's aggregates in a GROUP BY: the same results (or the same failure) as
    the windows of the one relation, with and without the in-query checks of keys."""
    import sqlglot
    from sqlglot import exp

    policy = _load(which)
    try:
        sql.compile_sql(policy.ir)
    except sql.SqlUnsupported as e:
        pytest.skip(f"not expressible in the columnar plan: {e}")
    texts = {(apart, proven): sql.compile_sql(policy.ir, "duckdb", "records", row_id=sql.ROW, pretty=False,
                                              keys_proven=proven, apart=apart)
             for apart in (False, True) for proven in (False, True)}
    # (without the checks of keys, a policy of no cohort or history has no window: fewer examples)
    windowed = " OVER " in texts[False, True]
    if not windowed:
        assert texts[True, True] == texts[False, True]
    for proven in (False, True):
        for cte in sqlglot.parse_one(texts[True, proven], read="duckdb").find_all(exp.CTE):
            windows = list(cte.this.find_all(exp.Window))
            if windows:  # ordered windows (or a GROUP BY's numbers) only, beside the row id, nothing carried
                assert all(w.args.get("order") is not None or isinstance(w.this, exp.RowNumber)
                           and not w.args.get("partition_by") for w in windows), cte.alias
                assert not any(isinstance(x, exp.Star) or isinstance(x, exp.Column) and isinstance(x.this, exp.Star)
                               for x in cte.this.expressions), cte.alias

    @settings(PROFILE, max_examples=10 if windowed else 3)
    @given(batches(policy.ir))
    def check(records):
        con = duckdb.connect()
        con.register("records", frame_of(policy, records).with_row_index(sql.ROW))
        for proven in (False, True):
            assert _outcome(con, texts[True, proven]) == _outcome(con, texts[False, proven]), proven

    check()


@pytest.mark.parametrize("apart", [True, False], ids=["apart", "together"])
def test_records_with_no_team_are_one_cohort_in_the_engines_query(apart, no_fallback, monkeypatch):
    """A cohort's key may be N/A: those records make one cohort, as in the Python engine, and
    the GROUP BY joined back on the keys keeps them (a NULL key matches a NULL key). The engine
    sets windows apart from APART_ROWS records on."""
    monkeypatch.setattr(sql, "APART_ROWS", 0 if apart else 10 ** 9)
    policy = policyc.loads("policy nullteam\nperiod month\ncohort team by team\n"
                           "input team : choice a | b or na\ninput x : count\ninput r : number\n"
                           "best = max(x over team)\nn = count(over team)\ntotal = sum(x over team)\n"
                           "place = rank(r over team)\ntop = max((r / x when zero 0) over team)\n")
    records = [{"agent": f"g{i}", "period": "2026-01", "team": t, "x": x, "r": r}
               for i, (t, x, r) in enumerate([("a", "3", "1.5"), (None, "5", "2"), ("b", "1", "0.5"),
                                              (None, "2", "2.5"), ("a", "7", "0.25")])]
    want = _python_rows(policy, records)
    assert [w["n"] for w in want] == [2, 2, 1, 2, 2]
    assert not _problems(want, policy.score_frame(_text_frame(records), engine="duckdb").to_dicts())
    (query, _), = policy.__dict__["_sql_cache"].values()
    assert ("GROUP BY" in query) == apart


STREAKS = """policy streaks
period month
input x : count
hot = x >= 2
three = streak(hot) >= 3
more_than_one = streak(hot) > 1
exactly_two = streak(hot) = 2
under_two = streak(hot) < 2
at_most_one = streak(hot) <= 1
not_three = streak(hot) != 3
"""


@pytest.mark.parametrize("length", [False, True], ids=["compared", "with-length"])
@pytest.mark.parametrize("apart", [True, False], ids=["apart", "together"])
def test_a_streak_compared_with_a_number_is_found_by_joins_when_windows_are_apart(apart, length, no_fallback,
                                                                                    monkeypatch):
    """With windows set apart and an agent's periods proven distinct, `streak(c) >= m` is found
    by joining the records where c holds with themselves m − 1 periods back (no window over
    every record); each comparison reads it. Where the same level sorts the records by agent
    and period anyway (here: the streak's length), the comparisons take that window instead.
    A gap of a month ends a streak; the Python engine decides."""
    monkeypatch.setattr(sql, "APART_ROWS", 0 if apart else 10 ** 9)
    policy = policyc.loads(STREAKS + ("s = streak(hot)\n" if length else ""))
    runs = {"a": [3, 2, 5, 2, 0, 2, 2, 2, 2], "b": [2, 2, None, 2, 2, 2, 1, 2, 2], "c": [0, 1, 2, 2, 3, 1, 2, 0, 0]}
    records = [{"agent": a, "period": f"2026-{m + 1:02d}", "x": str(x)}
               for a, xs in runs.items() for m, x in enumerate(xs) if x is not None]  # (b skips March)
    records.reverse()  # (not in period order)
    want = _python_rows(policy, records)
    assert all({True, False} <= {w[k] for w in want} for k in ("three", "exactly_two", "not_three"))
    assert not _problems(want, policy.score_frame(_text_frame(records), engine="duckdb").to_dicts())
    (query, _), = policy.__dict__["_sql_cache"].values()
    assert ("SEMI JOIN" in query) == (apart and not length)
    assert (" OVER " in query) == (length or not apart)


def test_a_decimal_column_beyond_bigint_is_read_in_hugeint(no_fallback):
    """The BIGINT query reads a DECIMAL column through DECIMAL(18, s); a value wider than that
    makes it fail (never rounds or wraps), and the HUGEINT query reads it exactly."""
    policy = policyc.loads("policy big\nperiod month\ninput a : money\npay p = 2 * a\n")
    frame = pl.DataFrame({"agent": ["x", "y"], "period": ["2026-01"] * 2,
                          "a": pl.Series([Decimal("100000000000000000000.01"), Decimal("3.5")],
                                         dtype=pl.Decimal(38, 2))})
    got = policy.score_frame(frame, engine="duckdb").to_dicts()
    assert [r["p"] for r in got] == [Decimal("200000000000000000000.02"), Decimal("7.00")]


@pytest.mark.parametrize("typed", [False, True], ids=["text", "typed"])
def test_duplicates_and_team_level_differences_are_reported_as_the_python_engine_does(typed):
    """The engine proves per batch that keys are distinct and team-level inputs agree (a decimal
    column compared as numbers, a text one as text), and leaves those checks out of the query
    only then: a batch with either is reported, never scored."""
    policy = policyc.load(POLICIES / "team_kpi_2024.policy")
    records = _read_sample(POLICIES / "samples" / "team_kpi_2024.csv")
    to_frame = (lambda rs: frame_of(policy, rs)) if typed else _text_frame
    for spoil in ("duplicate", "pool", "pool by a cent"):
        bad = [dict(r) for r in records]
        if spoil == "duplicate":
            bad.append(dict(bad[0]))
        else:
            bad[1]["bonus_pool"] = str(Decimal(bad[1]["bonus_pool"]) + (1 if spoil == "pool" else Decimal("0.01")))
        frame = to_frame(bad)
        with pytest.raises(RecordError) as py:
            policy.score_batch(frame.to_dicts())  # (the frame's values: a typed frame's 10000.00)
        with pytest.raises(RecordError) as got:
            policy.score_frame(frame, engine="duckdb")
        assert [str(i) for i in got.value.errors] == [str(i) for i in py.value.errors], spoil


@pytest.mark.parametrize("period", [None, "2025-13", "2025-1", " 2025-01", "2025-01\n", "２０２５-01", "2025-Q1"])
def test_a_bad_period_is_reported_as_the_python_engine_does(period):
    """The engine checks the batch's distinct periods once and leaves the per-row check out of
    the query only when every one is a well-formed label: a bad or missing one is reported."""
    policy = policyc.load(POLICIES / "taobao_aftersales.policy")
    bad = _read_sample(POLICIES / "samples" / "taobao_aftersales.csv")
    bad[1]["period"] = period
    with pytest.raises(RecordError) as py:
        policy.score_batch(bad)
    with pytest.raises(RecordError) as got:
        policy.score_frame(_text_frame(bad), engine="duckdb")
    assert [str(i) for i in got.value.errors] == [str(i) for i in py.value.errors]


def test_well_formed_periods_are_proven_once_per_batch():
    p = policyc.load(POLICIES / "team_kpi_2024.policy").ir
    assert [sql.period_ok(p, x) for x in ("2026-01", "2026-12", "2026-00", "2026-13", "2026-1", None)] == \
        [True, True, False, False, False, False]
    q = policyc.loads("policy q\nperiod quarter\ninput x : count\ny = x\n").ir
    assert [sql.period_ok(q, x) for x in ("2026-Q4", "2026-Q5", "2026-q1")] == [True, False, False]


def test_hostile_names_and_labels_are_quoted(no_fallback):
    policy = policyc.loads(HOSTILE, "<hostile>")
    want = _python_rows(policy, HOSTILE_RECORDS)
    assert not _problems(want, policy.score_frame(_text_frame(HOSTILE_RECORDS), engine="duckdb").to_dicts())
    for dialect in sql.DIALECTS:
        text = sql.compile_sql(policy.ir, dialect)
        assert "DROP TABLE x" in text  # only ever inside a quoted literal:
        import sqlglot

        statements = sqlglot.parse(text, read=dialect)
        assert len(statements) == 1 and isinstance(statements[0], sqlglot.exp.Select)
        literals = {lit.this for lit in statements[0].find_all(sqlglot.exp.Literal) if lit.is_string}
        assert {'a"; DROP TABLE x; --', "it's", "back\\slash", "x'y", "--"} <= literals


def test_a_construct_the_plan_cannot_express_is_a_compile_time_error():
    policy = policyc.loads("policy f\nperiod month\ncohort team by team\ninput team : text\ninput a, b : count\n"
                           "let r = a / b when zero 0\ns = sum(r over team)\n")
    with pytest.raises(sql.SqlUnsupported, match="cannot compute policy 'f' exactly.*sum"):
        sql.compile_sql(policy.ir, "spark")
    with pytest.raises(sql.EngineLimit):
        policy.score_frame(_text_frame([{"agent": "a", "period": "2026-01", "team": "t", "a": "1", "b": "3"}]),
                           engine="duckdb")
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        sql.compile_sql(policyc.load(POLICIES / "shop_pay.policy").ir, "mysql")


def test_names_that_differ_only_in_case_are_refused():
    try:
        policy = policyc.loads("policy f\nperiod month\ninput Late, late : count\npay x = Late + late\n")
    except policyc.PolicyError:
        pytest.skip("the checker already refuses names that differ only in case")
    with pytest.raises(sql.SqlUnsupported, match="differ only in case"):
        sql.compile_sql(policy.ir)


def test_the_query_is_one_select_statement_in_each_dialect():
    import sqlglot

    policy = policyc.load(POLICIES / "team_kpi_2024.policy")
    for dialect in sql.DIALECTS:
        text = sql.compile_sql(policy.ir, dialect, table="db.kpi_records")
        statements = sqlglot.parse(text, read=dialect)
        assert len(statements) == 1 and isinstance(statements[0], sqlglot.exp.Select)
    assert "HUGEINT" in sql.compile_sql(policy.ir, "duckdb").upper().replace("INT128", "HUGEINT")
    spark_text = sql.compile_sql(policy.ir, "spark")
    assert "DECIMAL(38, 0)" in spark_text and " DIV " not in spark_text.upper()


# ───────────────────────── Spark ─────────────────────────


# pyspark warns that it does not yet support pandas 3; the test does not use pandas
SPARK_WARNINGS = pytest.mark.filterwarnings("ignore::FutureWarning")


def _spark_or_skip():
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        pytest.skip("pyspark is not installed (pip install 'policyc[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark needs Java, and none is installed")
    return SparkSession


@pytest.fixture(scope="module")
def spark():
    SparkSession = _spark_or_skip()
    session = (SparkSession.builder.master("local[1]").appName("policyc-test-sql")
               .config("spark.sql.ansi.enabled", "true")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.sql.adaptive.enabled", "false")
               .config("spark.sql.codegen.wholeStage", "false")
               .config("spark.driver.memory", "1g")
               .getOrCreate())
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()


def _scales_of(policy, records):
    """The decimals each numeric input's values need, as a data team would declare them."""
    out = {}
    for inp in policy.ir.inputs:
        if inp.kind in NUMERIC_KINDS:
            places = [len(str(r[inp.name]).partition(".")[2].rstrip("0")) for r in records if r[inp.name] is not None]
            out[inp.name] = max(places, default=0)
    return out


def _spark_rows(spark, policy, records, scales=None):
    cols = list(records[0])
    schema = ", ".join("`" + c.replace("`", "``") + "` string" for c in cols)
    spark.createDataFrame([[r[c] for c in cols] for r in records], schema=schema).createOrReplaceTempView("records")
    query = sql.compile_sql(policy.ir, "spark", scales=scales)
    return [r.asDict(recursive=True) for r in spark.sql(query).collect()]


def _in_query_order(want):
    return sorted(want, key=lambda r: (r["agent"], r["period"]))


@SPARK_WARNINGS
def test_spark_scores_the_samples_alike(spark):
    problems = []
    for sample in SAMPLES:
        policy = policyc.load(POLICIES / f"{sample.stem}.policy")
        records = _read_sample(sample)
        want = _in_query_order(_python_rows(policy, records))
        rows = _spark_rows(spark, policy, records, _scales_of(policy, records))
        problems += [f"{sample.stem}: {p}" for p in _problems(want, rows, "spark")]
    assert not problems, "\n".join(problems[:20])


@SPARK_WARNINGS
def test_spark_quotes_hostile_labels_and_floors_negative_quotients(spark):
    for text, records in ((HOSTILE, HOSTILE_RECORDS), (NEGATIVE, NEGATIVE_RECORDS)):
        policy = policyc.loads(text)
        want = _in_query_order(_python_rows(policy, records))
        rows = _spark_rows(spark, policy, records, _scales_of(policy, records))
        assert not _problems(want, rows, "spark")


@SPARK_WARNINGS
def test_spark_reads_typed_columns_exactly(spark):
    """DECIMAL and BIGINT columns (as a warehouse holds them) are read without their text."""
    policy = policyc.load(POLICIES / "team_kpi_2024.policy")
    records = _read_sample(POLICIES / "samples" / "team_kpi_2024.csv")
    types = {}
    for inp in policy.ir.inputs:
        if inp.kind == "count":
            types[inp.name] = "BIGINT"
        elif inp.kind in NUMERIC_KINDS:
            types[inp.name] = "DECIMAL(12,2)"
    cols = list(records[0])
    rows = [[(int(r[c]) if types.get(c) == "BIGINT" else Decimal(r[c])) if c in types else r[c] for c in cols]
            for r in records]
    schema = ", ".join(f"`{c}` {types.get(c, 'string')}" for c in cols)
    spark.createDataFrame(rows, schema=schema).createOrReplaceTempView("typed_records")
    query = sql.compile_sql(policy.ir, "spark", table="typed_records", types=types)
    assert "CAST(`paid_amount` AS STRING)" not in query and "CAST(`late_aftersales` AS STRING)" not in query
    assert "CAST(`team` AS STRING)" in query  # text stays text
    got = [r.asDict(recursive=True) for r in spark.sql(query).collect()]
    assert not _problems(_in_query_order(_python_rows(policy, records)), got, "spark")


@SPARK_WARNINGS
def test_spark_fails_loudly_on_a_value_it_would_round(spark):
    policy = policyc.load(POLICIES / "pdd_deduction.policy")
    records = _read_sample(POLICIES / "samples" / "pdd_deduction.csv")
    with pytest.raises(Exception, match="supervisor_deduction"):
        _spark_rows(spark, policy, records)  # default scale 2; the sample holds 4.9999


# ───────────────────────── the spark engine (score_frame / policyc score) ─────────────────────────


@pytest.fixture
def spark_no_fallback(monkeypatch):
    """Fail if the spark engine hands a batch to the Python engine."""
    from policyc.backends import polars_engine

    def refuse(*args):
        raise AssertionError("the spark engine handed the batch to the Python engine")

    monkeypatch.setattr(polars_engine, "_python", refuse)


@SPARK_WARNINGS
def test_spark_engine_scores_every_sample_alike(spark, spark_no_fallback):
    problems = []
    for sample in SAMPLES:
        policy = policyc.load(POLICIES / f"{sample.stem}.policy")
        records = _read_sample(sample)
        got = policy.score_frame(_text_frame(records), engine="spark").to_dicts()  # in the records' order
        problems += [f"{sample.stem}: {p}" for p in _problems(_python_rows(policy, records), got, "spark")]
    assert not problems, "\n".join(problems[:20])


SPARK_PROFILE = settings(max_examples=2, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SPARK_WARNINGS
@pytest.mark.parametrize("which", CASES)
def test_generated_batches_score_alike_in_spark(spark, which):
    """Generated batches (bad records included) through the spark engine, as through DuckDB
    above; fewer per policy, since each is a Spark job (about a second here)."""
    policy = _load(which)
    try:
        sql.compile_sql(policy.ir, "spark")
    except sql.SqlUnsupported as e:  # refused, never approximated
        pytest.skip(f"not expressible in the columnar plan: {e}")

    @SPARK_PROFILE
    @given(batches(policy.ir))
    def check(records):
        test_engines.compare(policy, records, frame_of(policy, records), engine="spark")

    check()


def test_spark_engine_refuses_a_csv_path_before_starting_spark(monkeypatch):
    """`score_spark` reads Parquet paths (the CLI hands it a frame for CSV): a CSV path is refused
    with a message saying what to do, before a Spark session is started for nothing."""
    from policyc.backends import spark_engine

    def no_session(*args, **kwargs):
        raise AssertionError("a Spark session was started")

    monkeypatch.setattr(spark_engine, "session", no_session)
    policy = policyc.load(POLICIES / "taobao_aftersales.policy")
    with pytest.raises(ValueError, match="reads Parquet files; read a CSV file into a frame first"):
        spark_engine.score_spark(policy, POLICIES / "samples" / "taobao_aftersales.csv")


@SPARK_WARNINGS
def test_spark_engine_reads_typed_parquet(spark, tmp_path, spark_no_fallback):
    policy = policyc.load(POLICIES / "team_kpi_2024.policy")
    records = _read_sample(POLICIES / "samples" / "team_kpi_2024.csv")
    typed = _text_frame(records).with_columns(
        pl.col(i.name).cast(pl.Int64) if i.kind == "count" else pl.col(i.name).str.to_decimal(scale=2)
        for i in policy.ir.inputs if i.kind in NUMERIC_KINDS)
    path = tmp_path / "records.parquet"
    typed.write_parquet(path)
    got = policy.score_frame(str(path), engine="spark").to_dicts()
    assert not _problems(_python_rows(policy, records), got, "spark")


@SPARK_WARNINGS
def test_spark_engine_reports_a_bad_record_as_the_python_engine_does(spark):
    policy = policyc.load(POLICIES / "taobao_aftersales.policy")
    records = _read_sample(POLICIES / "samples" / "taobao_aftersales.csv")
    records[3]["refund_rate"] = "5"  # 500%
    with pytest.raises(RecordError) as py:
        policy.score_batch(records)
    with pytest.raises(RecordError) as got:
        policy.score_frame(_text_frame(records), engine="spark")
    assert [str(i) for i in got.value.errors] == [str(i) for i in py.value.errors]


@SPARK_WARNINGS
def test_spark_query_scores_a_spark_dataframe_on_the_cluster(spark):
    """spark_query: the scoring as a lazy Spark DataFrame over typed columns, for pipelines that
    stay on Spark; collected, it gives the Python engine's results."""
    from policyc.backends.spark_engine import spark_query

    policy = policyc.load(POLICIES / "team_kpi_2024.policy")
    records = _read_sample(POLICIES / "samples" / "team_kpi_2024.csv")
    numeric = {i.name: i.kind for i in policy.ir.inputs if i.kind in NUMERIC_KINDS}
    cols = list(records[0])
    rows = [[(int(r[c]) if numeric[c] == "count" else Decimal(r[c])) if c in numeric else r[c] for c in cols]
            for r in records]
    schema = ", ".join(f"`{c}` {('bigint' if numeric[c] == 'count' else 'decimal(12,2)') if c in numeric else 'string'}"
                       for c in cols)
    scores = spark_query(policy, spark.createDataFrame(rows, schema=schema))
    assert type(scores).__name__ == "DataFrame" and scores.columns == ["agent", "period", *policy.outputs]
    got = [r.asDict(recursive=True) for r in scores.collect()]
    assert not _problems(_in_query_order(_python_rows(policy, records)), got, "spark")


@SPARK_WARNINGS
def test_spark_engine_in_policyc_score(spark, capsys):
    from policyc.cli import main

    sample = POLICIES / "samples" / "shop_pay.csv"
    policy = str(POLICIES / "shop_pay.policy")
    out = {}
    for engine in ("python", "spark"):
        code = main(["score", policy, str(sample), "--format", "jsonl", "--engine", engine])
        text, err = capsys.readouterr()
        assert code == 0, err
        out[engine] = _jsonl(text)  # the same values (a fraction may show more trailing zeros)
    assert out["spark"] == out["python"] and out["python"]


def test_scales_default_by_kind():
    assert sql.DEFAULT_SCALES == {"count": 0, "percent": 4, "money": 2, "points": 2, "number": 4, "duration": 3}
    assert issubclass(sql.SqlUnsupported, columnar.Unsupported)
