"""Every engine gives the same results: the Polars engine against the Python engine.

A disagreement is a bug in one of them, never a tolerance to widen: numbers
must be equal exactly (an int where Python gives an int, a Decimal of the same
value where it gives a Decimal), labels, conditions and lists identical, and a
batch Python rejects must be rejected with the same issues.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")

import policyc  # noqa: E402
from policyc import ir  # noqa: E402
from policyc.backends import columnar  # noqa: E402
from policyc.runtime import RecordError  # noqa: E402
from strategies import NUMERIC_KINDS, batches, meaning_of, to_decimal  # noqa: E402
from test_properties import FEATURES  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"
SHIPPED = sorted(p for p in POLICIES.rglob("*.policy") if "presales_naive" not in p.name)

PROFILE = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _policy(path: Path):
    return policyc.load(path)


def same(py, col) -> bool:
    """Python's value and the Polars engine's, equal exactly and of the same kind."""
    if py is None or col is None:
        return py is None and col is None
    if isinstance(py, bool) or isinstance(col, bool):
        return py is col
    if isinstance(py, int):
        return type(col) is int and col == py
    if isinstance(py, Decimal):
        return isinstance(col, Decimal) and col == py
    if isinstance(py, list):
        return list(col) == py
    return py == col


def compare(policy, records, frame, engine="polars"):
    """The engine's results for `frame` equal the Python engine's for `records`; or both reject
    the batch with the same issues."""
    try:
        want = [r.as_row() for r in policy.score_batch(records)]
    except RecordError as e:
        with pytest.raises(RecordError) as got:
            policy.score_frame(frame, engine=engine)
        assert [str(i) for i in got.value.errors] == [str(i) for i in e.errors]
        return
    rows = policy.score_frame(frame, engine=engine).to_dicts()
    assert len(rows) == len(want)
    problems = []
    for i, (w, g) in enumerate(zip(want, rows)):
        for k, v in w.items():
            if not same(v, g[k]):
                problems.append(f"record {i} {k}: python {v!r}, {engine} {g[k]!r}")
    assert not problems, "\n".join(problems[:20])


def frame_of(policy, records) -> "pl.DataFrame":
    """Records as a typed frame, the way a data team holds them: numbers as exact decimals
    (or integers), labels and text as strings, conditions as booleans, N/A as null."""
    p: ir.Policy = policy.ir
    data = {"agent": [r["agent"] for r in records], "period": [r["period"] for r in records]}
    schema = {"agent": pl.String, "period": pl.String}
    for inp in p.inputs:
        vals = [meaning_of(inp, r[inp.name]) for r in records]
        if inp.kind in NUMERIC_KINDS:
            decs = [None if v is None else to_decimal(Fraction(v)) for v in vals]
            scale = max([-d.as_tuple().exponent for d in decs if d is not None and d.as_tuple().exponent < 0],
                        default=0)
            if inp.kind == "count" or scale == 0 and all(d is None or d == d.to_integral_value() for d in decs):
                data[inp.name] = [None if d is None else int(d) for d in decs]
                schema[inp.name] = pl.Int64
            else:
                data[inp.name] = decs
                schema[inp.name] = pl.Decimal(38, scale)
        elif inp.kind == "bool":
            data[inp.name] = vals
            schema[inp.name] = pl.Boolean
        else:
            data[inp.name] = vals
            schema[inp.name] = pl.String
    return pl.DataFrame(data, schema=schema)


# ───────────────────────── the shipped samples ─────────────────────────

SAMPLES = sorted((POLICIES / "samples").glob("*.csv"))


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_sample_csv_scores_alike(sample):
    policy = _policy(POLICIES / f"{sample.stem}.policy")
    with sample.open(encoding="utf-8-sig", newline="") as f:
        records = list(csv.DictReader(f))
    records = [{k: (None if v == "" else v) for k, v in r.items()} for r in records]
    frame = pl.DataFrame(records, schema={k: pl.String for k in records[0]})
    compare(policy, records, frame)


# ───────────────────────── generated batches ─────────────────────────

CASES = [pytest.param(("file", p), id=p.stem) for p in SHIPPED] + \
    [pytest.param(("text", name), id=name) for name in FEATURES]
_LOADED: dict = {}


def _load(which):
    if which not in _LOADED:
        kind, ref = which
        _LOADED[which] = policyc.loads(FEATURES[ref], f"<{ref}>") if kind == "text" else _policy(ref)
    return _LOADED[which]


@pytest.mark.parametrize("which", CASES)
def test_generated_batches_score_alike(which):
    policy = _load(which)
    try:
        columnar.Planner(policy.ir, {i.name: 4 for i in policy.ir.inputs}).plan()
    except columnar.Unsupported as e:
        pytest.skip(f"not yet expressible in the columnar plan: {e}")

    @PROFILE
    @given(batches(policy.ir))
    def check(records):
        compare(policy, records, frame_of(policy, records))

    check()


# ───────────────────────── bad records ─────────────────────────


def test_a_bad_record_is_reported_as_the_python_engine_reports_it():
    policy = _policy(POLICIES / "taobao_aftersales.policy")
    with (POLICIES / "samples" / "taobao_aftersales.csv").open(encoding="utf-8-sig", newline="") as f:
        records = list(csv.DictReader(f))
    records[2]["refund_rate"] = "5"        # a percent written as 5 instead of 0.05
    records[4]["level"] = "boss"           # an unknown label
    del records[5]["late"]                 # a missing field
    frame = pl.DataFrame([{**r, "late": r.get("late")} for r in records], schema={k: pl.String for k in records[0]})
    with pytest.raises(RecordError) as py:
        policy.score_batch(frame.to_dicts())    # the same rows: a null cell is a null value
    with pytest.raises(RecordError) as col:
        policy.score_frame(frame, engine="polars")
    assert [str(i) for i in col.value.errors] == [str(i) for i in py.value.errors]
    assert {(i.index, i.field) for i in col.value.errors} == {(2, "refund_rate"), (4, "level"), (5, "late")}


@pytest.mark.parametrize("engine", ["python", "polars", "duckdb"])
def test_an_input_shared_over_a_cohort_with_no_key_is_checked_shop_wide(engine):
    """`cohort shop` with no `by` is the whole batch of a period: an input `same over shop` must
    agree across it (it made the generated checker code invalid before), and where it does not,
    every record of that period is rejected, the message naming the cohort and the period."""
    if engine == "duckdb":
        pytest.importorskip("duckdb")
    policy = policyc.loads(FEATURES["feat_shop_wide"])
    rows = [("a", "2026-01", "4", "100"), ("b", "2026-01", "6", "100"), ("a", "2026-02", "5", "80"),
            ("b", "2026-02", "5", "90")]
    records = [dict(zip(("agent", "period", "x", "pool"), r)) for r in rows]
    frame = pl.DataFrame(records, schema={k: pl.String for k in records[0]})
    run = policy.score_batch if engine == "python" else lambda recs: policy.score_frame(frame, engine=engine)
    with pytest.raises(RecordError) as bad:
        run(records)
    assert [(i.index, i.field) for i in bad.value.errors] == [(2, "pool"), (3, "pool")]
    assert all("differs within shop in period '2026-02': 80 in record 3, 90 in record 4" in str(i)
               for i in bad.value.errors)
    want = [r.as_row() for r in policy.score_batch(records[:2])]
    got = want if engine == "python" else policy.score_frame(frame.head(2), engine=engine).to_dicts()
    assert [str(g["y"]) for g in got] == ["40.00", "60.00"]  # 100 × 4/10, 100 × 6/10
    assert [Decimal(str(g["part"])) for g in got] == [Decimal("0.4"), Decimal("0.6")]  # 4/10, 6/10 of the shop
    assert all(same(w[k], g[k]) for w, g in zip(want, got) for k in w)


def test_exact_where_floats_would_not_be():
    """0.1 + 0.2 style sums and a third, exactly."""
    policy = policyc.loads("policy f\nperiod month\ninput a, b : money\n"
                           "pay s = a + b\npay t = (a + b) / 3\npay r = (a + b) / 3 round 0.01\n")
    frame = pl.DataFrame({"agent": ["x"], "period": ["2026-01"], "a": ["0.1"], "b": ["0.2"]})
    row = policy.score_frame(frame, engine="polars").to_dicts()[0]
    assert row["s"] == Decimal("0.3")
    assert row["t"] == Decimal("0.1")
    assert row["r"] == Decimal("0.10")


# ───────────────────────── the command line ─────────────────────────


def _cli(capsys, *args):
    from policyc.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _jsonl(text: str) -> list[dict]:
    import json

    return [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_score_engines_print_the_same_results(sample, capsys):
    policy = str(POLICIES / f"{sample.stem}.policy")
    code_py, out_py, err_py = _cli(capsys, "score", policy, str(sample), "--format", "jsonl", "--engine", "python")
    code_pl, out_pl, err_pl = _cli(capsys, "score", policy, str(sample), "--format", "jsonl", "--engine", "polars")
    assert (code_py, code_pl) == (0, 0), err_py + err_pl
    py, col = _jsonl(out_py), _jsonl(out_pl)
    assert len(py) == len(col)
    for a, b in zip(py, col):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] == b[k], (k, a[k], b[k])


def test_parquet_in_and_out(tmp_path, capsys):
    policy = str(POLICIES / "team_kpi_2024.policy")
    sample = str(POLICIES / "samples" / "team_kpi_2024.csv")
    out = tmp_path / "scores.parquet"
    code, _, err = _cli(capsys, "score", policy, sample, "--engine", "polars", "--format", "parquet", "-o", str(out))
    assert code == 0, err
    scored = pl.read_parquet(out)
    want = [r.as_row() for r in _policy(POLICIES / "team_kpi_2024.policy").score_batch(_csv_records(sample))]
    assert scored.height == len(want)
    for w, g in zip(want, scored.to_dicts()):
        for k, v in w.items():
            assert same(v, g[k]), (k, v, g[k])
    # Parquet input: the records as typed columns
    src = tmp_path / "records.parquet"
    pl.read_csv(sample, infer_schema=False).write_parquet(src)
    code, text, err = _cli(capsys, "score", policy, str(src), "--engine", "polars", "--format", "jsonl")
    assert code == 0, err
    assert len(_jsonl(text)) == len(want)


def test_bad_records_are_reported_alike_by_every_engine(tmp_path, capsys):
    sample = POLICIES / "samples" / "taobao_aftersales.csv"
    lines = sample.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("refund_rate")] = "5"
    lines[2] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    policy = str(POLICIES / "taobao_aftersales.policy")
    a = _cli(capsys, "score", policy, str(bad), "--engine", "python", "--format", "jsonl")
    b = _cli(capsys, "score", policy, str(bad), "--engine", "polars", "--format", "jsonl")
    assert a[0] == b[0] == 2
    assert a[1] == b[1] == ""
    assert a[2] == b[2] and "refund_rate" in a[2]


def _csv_records(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [{k: (None if v == "" else v) for k, v in r.items()} for r in csv.DictReader(f)]


def test_float_and_pandas_frames_are_read_by_their_shortest_text():
    policy = policyc.loads("policy f\nperiod month\ninput a : money\ninput r : percent\n"
                           "pay s = a * r round 0.01\npay t = a * r\n")
    frame = pl.DataFrame({"agent": ["p", "q", "z"], "period": ["2026-01"] * 3,
                          "a": [0.1, 1234.5, 1e-7], "r": [0.07, 0.3333, 0.5]})
    compare(policy, frame.to_dicts(), frame)


def test_pandas_and_arrow_frames():
    policy = _policy(POLICIES / "taobao_aftersales.policy")
    records = _csv_records(POLICIES / "samples" / "taobao_aftersales.csv")
    frame = pl.DataFrame(records, schema={k: pl.String for k in records[0]})
    compare(policy, records, frame.to_arrow())
    pytest.importorskip("pandas")
    compare(policy, records, frame.to_pandas())


@pytest.mark.parametrize("tier", ["i128", "dec"])
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_integer_type_gives_the_same_results(sample, tier, monkeypatch):
    """The engine computes in Int64, Int128 or checked Decimal(38, 0) as the batch's bounds allow;
    each type must give the same results (here forced wider than needed)."""
    from policyc.backends import polars_engine

    monkeypatch.setattr(polars_engine, "FORCE_INT", tier)
    policy = _policy(POLICIES / f"{sample.stem}.policy")
    records = _csv_records(sample)
    compare(policy, records, pl.DataFrame(records, schema={k: pl.String for k in records[0]}))


def test_compile_target_sql_gives_a_query_that_scores_alike(tmp_path, capsys):
    duckdb = pytest.importorskip("duckdb")
    pytest.importorskip("sqlglot")
    policy = POLICIES / "taobao_aftersales.policy"
    sample = POLICIES / "samples" / "taobao_aftersales.csv"
    out = tmp_path / "q.sql"
    code, stdout, err = _cli(capsys, "compile", str(policy), "--target", "sql", "--dialect", "duckdb", "-o", str(out))
    assert code == 0 and stdout == "" and "duckdb query" in err
    con = duckdb.connect()
    con.execute(f"CREATE TABLE records AS SELECT * FROM read_csv('{sample.as_posix()}', all_varchar=true)")
    cur = con.execute(out.read_text(encoding="utf-8"))
    names = [d[0] for d in cur.description]
    rows = {(r[0], r[1]): dict(zip(names, r)) for r in cur.fetchall()}
    want = [r.as_row() for r in _policy(policy).score_batch(_csv_records(sample))]
    assert len(rows) == len(want)
    for w in want:
        g = rows[(w["agent"], w["period"])]
        for k, v in w.items():
            assert same(v, g[k]), (k, v, g[k])
    code, _, err = _cli(capsys, "compile", str(policy), "--target", "sql", "--dialect", "spark", "-o",
                        str(tmp_path / "s.sql"))
    assert code == 0 and "spark query" in err
    assert "`refund_rate`" in (tmp_path / "s.sql").read_text(encoding="utf-8")  # Spark quotes with backticks


def test_compile_sql_scale_option_reads_more_places_and_never_rounds(tmp_path, capsys):
    duckdb = pytest.importorskip("duckdb")
    policy = POLICIES / "pdd_deduction.policy"
    sample = POLICIES / "samples" / "pdd_deduction.csv"   # holds supervisor_deduction = 4.9999
    con = duckdb.connect()
    con.execute(f"CREATE TABLE records AS SELECT * FROM read_csv('{sample.as_posix()}', all_varchar=true)")
    default, wider = tmp_path / "a.sql", tmp_path / "b.sql"
    assert _cli(capsys, "compile", str(policy), "--target", "sql", "-o", str(default))[0] == 0
    with pytest.raises(duckdb.Error):   # more decimals than the default scale: the query fails, it does not round
        con.execute(default.read_text(encoding="utf-8")).fetchall()
    code, _, err = _cli(capsys, "compile", str(policy), "--target", "sql", "--scale", "supervisor_deduction=4",
                        "-o", str(wider))
    assert code == 0, err
    got = con.execute(wider.read_text(encoding="utf-8")).fetchall()
    assert len(got) == len(_csv_records(sample))
    code, _, err = _cli(capsys, "compile", str(policy), "--target", "sql", "--scale", "nosuch=2", "-o", str(wider))
    assert code == 2 and "INPUT=PLACES" in err


# ───────────────────────── label columns of every type ─────────────────────────

MANY = [f"l{k}" for k in range(10)]  # more labels than the engine compares one by one
MANY_LABELS = policyc.loads(
    "policy many\nperiod month\n"
    f"input c : choice {' | '.join(MANY)}\n"
    "input g : grade A > B > C\n"
    f"item x 10 pts = by c: {', '.join(f'{lab} -> {k}' for k, lab in enumerate(MANY))}\n"
    "item y 5 pts = 5 if c is l7 else 0\n"
    "item z 5 pts = 5 if g >= B else 1\n",
    "<many>")


def _label_frames(policy, records):
    """The same records with their label columns as text, Categorical, and Enums whose own
    categories are in another order and include labels the policy does not know."""
    labels = {i.name: list(i.type.labels) for i in policy.ir.inputs if i.kind in ("grade", "choice")}
    text = pl.DataFrame(records, schema={k: pl.String for k in records[0]})
    yield "string", text
    yield "categorical", text.with_columns(pl.col(c).cast(pl.Categorical) for c in labels)
    yield "enum", text.with_columns(pl.col(c).cast(pl.Enum(["zz", *reversed(ls)])) for c, ls in labels.items())


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize("which", ["taobao_aftersales", "team_kpi_2024", "many"])
def test_label_columns_of_every_type_score_alike(which, engine, monkeypatch):
    if engine == "duckdb":
        pytest.importorskip("duckdb")
        pytest.importorskip("sqlglot")
        from policyc.backends import sql as backend
    else:
        from policyc.backends import polars_engine as backend

    def no_fallback(policy, *args):
        raise AssertionError("a well-formed batch was handed to the Python engine")

    if which == "many":
        policy = MANY_LABELS
        records = [{"agent": f"a{k}", "period": "2026-01", "c": MANY[k % 10], "g": "ABC"[k % 3]}
                   for k in range(30)]
    else:
        policy = _policy(POLICIES / f"{which}.policy")
        records = _csv_records(POLICIES / "samples" / f"{which}.csv")
    for kind, frame in _label_frames(policy, records):
        with monkeypatch.context() as m:  # computed by the engine itself, not handed over
            m.setattr(backend, "_python", no_fallback)
            compare(policy, records, frame, engine)
        # an unknown label is reported as the Python engine reports it, whatever the column type
        bad = [dict(r) for r in records]
        name = next(i.name for i in policy.ir.inputs if i.kind in ("grade", "choice"))
        bad[1][name] = "zz"
        frames = dict(_label_frames(policy, bad))
        with pytest.raises(RecordError) as py:
            policy.score_batch(bad)
        with pytest.raises(RecordError) as col:
            policy.score_frame(frames[kind], engine=engine)
        assert [str(i) for i in col.value.errors] == [str(i) for i in py.value.errors], kind
        assert (1, name) in {(i.index, i.field) for i in col.value.errors}


# ───────────────────────── the progress bar ─────────────────────────


class _Terminal(__import__("io").StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_a_progress_bar_shows_the_stages_on_a_terminal_only(terminal, monkeypatch, tmp_path):
    import io
    import sys

    from policyc.cli import main

    err = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.delenv("NO_COLOR", raising=False)
    out = tmp_path / "scores.jsonl"
    sample = POLICIES / "samples" / "taobao_aftersales.csv"
    code = main(["score", str(POLICIES / "taobao_aftersales.policy"), str(sample), "--engine", "polars",
                 "--format", "jsonl", "-o", str(out)])
    assert code == 0, err.getvalue()
    n = len(out.read_text(encoding="utf-8").splitlines())
    shown = err.getvalue()
    if terminal:
        assert f"writing {n} results" in shown and "3/3" in shown
    else:
        assert shown == ""  # nothing for a pipe or a log file


def test_a_value_beyond_38_digits_is_refused_never_wrapped():
    """Bounds beyond Int128 put the batch in checked Decimal(38, 0); a product that does not fit
    is an EngineLimit, never a wrapped number; `auto` then gives the Python engine's exact value."""
    from policyc.backends.polars_engine import EngineLimit

    policy = policyc.loads("policy big\nperiod month\ninput a, b, c, d : number\n"
                           "p = a * b * c * d - a * b * c * d + a\n")
    huge = "9" * 15  # the product has 60 digits; the result, 15
    frame = pl.DataFrame({"agent": ["x", "y"], "period": ["2026-01"] * 2,
                          "a": [huge, "2"], "b": [huge, "3"], "c": [huge, "4"], "d": [huge, "5"]})
    with pytest.raises(EngineLimit, match="38-digit"):
        policy.score_frame(frame, engine="polars")
    got = policy.score_frame(frame, engine="auto").to_dicts()
    assert [r["p"] for r in got] == [int(huge), 2]
    # a result no frame column can hold is refused with a message, never cut
    policy = policyc.loads("policy big\nperiod month\ninput a, b, c, d : number\np = a * b * c * d\n")
    with pytest.raises(EngineLimit, match="frame column"):
        policy.score_frame(frame, engine="auto")


@given(st.integers(-10 ** 30, 10 ** 30), st.integers(1, 10 ** 12), st.sampled_from(["half_up", "half_even", "down", "up"]))
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_bounds_of_a_rounding_hold_every_value_it_takes(a, d, mode):
    """`Bounds` bounds the remainder a − ⌊a/d⌋·d by [0, d) and ⌊a/d⌋·d by (a − d, a], tighter
    than interval arithmetic (which an engine would pay for in wider integers); every node of a
    rounding must still hold its actual value, for any a and d within the inputs' bounds."""
    env = {"a": (-10 ** 30, 10 ** 30), "d": (1, 10 ** 12)}
    top = columnar.round_int(columnar.Col("a"), columnar.Col("d"), mode)
    bounds = columnar.Bounds(env, 1)
    bounds.of(top)

    def value(n):
        if isinstance(n, columnar.Col):
            return {"a": a, "d": d}[n.name]
        if isinstance(n, columnar.Lit):
            return n.value
        if isinstance(n, columnar.Add):
            return value(n.a) + value(n.b)
        if isinstance(n, columnar.Sub):
            return value(n.a) - value(n.b)
        if isinstance(n, columnar.Mul):
            return value(n.a) * value(n.b)
        if isinstance(n, columnar.FloorDiv):
            return value(n.a) // value(n.b)
        if isinstance(n, columnar.IfI):
            return value(n.then) if truth(n.cond) else value(n.other)
        raise AssertionError(type(n))

    def truth(c):
        if isinstance(c, columnar.Cmp):
            x, y = value(c.a), value(c.b)
            return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "=": x == y, "!=": x != y}[c.op]
        if isinstance(c, columnar.And):
            return truth(c.a) and truth(c.b)
        if isinstance(c, columnar.Or):
            return truth(c.a) or truth(c.b)
        raise AssertionError(type(c))

    def walk(n):
        if isinstance(n, (columnar.Cmp, columnar.And, columnar.Or)):
            for x in (n.a, n.b):
                walk(x)
            return
        lo, hi = bounds.of(n)
        assert lo <= value(n) <= hi, (n, lo, hi, value(n))
        for f in ("a", "b", "cond", "then", "other"):
            if hasattr(n, f):
                walk(getattr(n, f))

    walk(top)
    remainder = columnar.Sub(columnar.Col("a"), columnar.Mul(columnar.FloorDiv(columnar.Col("a"), columnar.Col("d")),
                                                             columnar.Col("d")))
    assert bounds.of(remainder) == (0, 10 ** 12 - 1)  # not ±10^42: the tight bound is what is tested


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_a_fraction_longer_than_20_places_is_shown_to_20_places_by_every_engine(engine):
    """Outputs show a fraction to 20 decimal places, half-up, when its exact decimal form is
    longer: a third, and also 2^-21 (21 places, which a DECIMAL(38, 20) column cannot hold and
    the Python engine once gave exactly). 2^-20 and 5^-20 fit 20 places and are exact."""
    policy = policyc.loads("policy f\nperiod month\ninput a, b : count\nlet q = a / b when zero 0\n"
                           "item x 10 pts = 10\nshare = q\n")
    records = [{"agent": f"x{k}", "period": "2026-01", "a": a, "b": b}
               for k, (a, b) in enumerate([(1, 3), (1, 2 ** 21), (1, 2 ** 20), (1, 5 ** 20), (3, 2 ** 23)])]
    want = [r["share"] for r in policy.score_batch(records)]
    assert want == [Decimal("0.33333333333333333333"), Decimal("0.00000047683715820313"),
                    Decimal("0.00000095367431640625"), Decimal("0.00000000000001048576"),
                    Decimal("0.00000035762786865234")]
    compare(policy, records, frame_of(policy, records), engine)


# ───────────────────────── frames and files of every kind, alike ─────────────────────────

ENGINES = ["python", "polars", "duckdb"]


def _outcome(policy, frame, engine):
    """The scored frame's rows, or the rejection's lines, of one engine (DuckDB skipped when absent)."""
    if engine == "duckdb":
        pytest.importorskip("duckdb")
    try:
        return policy.score_frame(frame, engine=engine).rows()
    except RecordError as e:
        return [str(i) for i in e.errors]


def _taobao_frame(n=3):
    return pl.read_csv(POLICIES / "samples" / "taobao_aftersales.csv", infer_schema_length=0).head(n)


def test_a_float32_column_is_read_by_its_shortest_text_by_every_engine():
    """0.05 held as a Float32 is 0.0500000007… in binary: every engine reads the value it names,
    0.05 (a refund rate of exactly 5% is the 30-point row), as the columnar engines always did."""
    policy = _policy(POLICIES / "taobao_aftersales.policy")
    frame = _taobao_frame().with_columns(pl.lit(0.05, pl.Float32).alias("refund_rate"))
    got = {e: _outcome(policy, frame, e) for e in ENGINES}
    assert got["python"] == got["polars"] == got["duckdb"]
    assert policy.score_frame(frame, engine="python")["refund"].to_list() == [30, 30, 30]
    pytest.importorskip("pandas")
    assert _outcome(policy, frame.to_pandas(), "python") == got["polars"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_pandas_column_of_mixed_types_is_rejected_by_the_cell(engine):
    """A column holding numbers and text (as read from a sheet) cannot be typed by Arrow: the
    bad cell is reported as for records, never Arrow's own error."""
    pytest.importorskip("pandas")
    policy = _policy(POLICIES / "taobao_aftersales.policy")
    frame = _taobao_frame().to_pandas()
    frame["late"] = [1, "x", None]
    got = _outcome(policy, frame, engine)
    assert got == ["record 2 (agent '王芳', period '2026-11'): field 'late': wrong type: string 'x' is not a decimal "
                   "number", "record 3 (agent '李娜', period '2026-11'): field 'late': missing value"]


@pytest.mark.parametrize("precision", [20, 40])
@pytest.mark.parametrize("engine", ENGINES)
def test_an_arrow_decimal256_column_is_read(engine, precision):
    """Polars has no 256-bit decimal (it aborts on one): such a column is read as a 128-bit
    decimal when its precision allows, else as its text."""
    import pyarrow as pa

    policy = _policy(POLICIES / "taobao_aftersales.policy")
    table = _taobao_frame().with_columns(pl.col("late").cast(pl.Int64)).to_arrow()
    at = table.schema.get_field_index("late")
    table = table.set_column(at, "late", table.column("late").cast(pa.decimal256(precision, 0)))
    want = _outcome(policy, _taobao_frame(), "python")
    assert _outcome(policy, table, engine) == want


def test_an_empty_label_cell_is_a_missing_value():
    policy = _policy(POLICIES / "taobao_aftersales.policy")
    frame = _taobao_frame(1).with_columns(pl.lit(None, pl.String).alias("level"))
    assert _outcome(policy, frame, "python") == [
        "record 1 (agent '张伟', period '2026-11'): field 'level': missing value (expected one of normal, senior, lead)"]
    assert _outcome(policy, frame, "polars") == _outcome(policy, frame, "python")


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_numbers_with_more_places_than_their_values_need_are_still_scored(engine):
    """Counts held as floats (40.0) are whole numbers, and amounts in Decimal(20, 4) that are
    whole cents need 2 places: read so, team_kpi's 20-place fractions stay within 38 digits
    (read at their column's places they did not, and the engine refused the batch)."""
    policy = _policy(POLICIES / "team_kpi_2024.policy")
    base = pl.read_csv(POLICIES / "samples" / "team_kpi_2024.csv", infer_schema_length=0)
    numeric = [i.name for i in policy.ir.inputs if i.kind in ("count", "percent", "duration", "money", "points", "number")]
    for frame in (base.with_columns(pl.col(["good_reviews", "paid_amount", "paid_items", "inquiries"]).cast(pl.Float64)),
                  base.with_columns(pl.col(numeric).cast(pl.Decimal(20, 4)))):
        assert _outcome(policy, frame, engine) == _outcome(policy, frame, "python")


def test_json_values_of_the_wrong_type_are_reported_alike_by_every_engine(tmp_path, capsys):
    """A JSON number where text or a label is wanted, or a list where a number is: the columnar
    engines would read its text ("123" as an agent); the batch goes to the Python engine's
    reader instead, which names it, whatever the engine asked for."""
    import json

    source = (POLICIES / "samples" / "team_kpi_2024.jsonl").read_text(encoding="utf-8").splitlines()
    for field, value, reason in [("agent", 123, "the agent must be a non-empty text"),
                                 ("team", 1, "wrong type: int is not text"),
                                 ("role", 1, "wrong type: int is not a label"),
                                 ("unreplied", [1], "wrong type: list is not a number")]:
        records = [json.loads(line) for line in source]
        records[0][field] = value
        path = tmp_path / f"{field}.jsonl"
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
        outs = [_cli(capsys, "score", str(POLICIES / "team_kpi_2024.policy"), str(path), "--engine", e)
                for e in ENGINES if e != "duckdb" or _has("duckdb")]
        assert all(o[0] == 2 and o[1] == "" for o in outs), field
        assert len({o[2] for o in outs}) == 1 and reason in outs[0][2], outs[0][2]


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_duckdb_reads_a_csv_file_with_a_title_line_as_policyc_does(tmp_path):
    """DuckDB's CSV sniffer would skip a title line above the header; policyc's reader refuses
    the file, and so does the duckdb engine (it hands the file to that reader)."""
    pytest.importorskip("duckdb")
    from policyc.records import InputError

    path = tmp_path / "titled.csv"
    path.write_text("淘宝售后 2026年11月 考核表\n" + (POLICIES / "samples" / "taobao_aftersales.csv").read_text(
        encoding="utf-8-sig"), encoding="utf-8")
    policy = _policy(POLICIES / "taobao_aftersales.policy")
    with pytest.raises(InputError, match="line 2: this row has 16 cell"):
        policy.score_frame(str(path), engine="duckdb")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_agent_reads_the_same_in_the_api_and_on_the_command_line(engine):
    """A record with no agent: the RecordError's line is the line `policyc score` prints
    (`agent ?`, never `agent None`), whichever engine found it."""
    from policyc import output

    policy = policyc.loads("policy t\nperiod month\ninput late : count\nitem a 20 pts = 20 - 5 per late\n")
    frame = pl.DataFrame({"agent": [None, "b"], "period": ["2026-11", None], "late": [1, 2]},
                         schema={"agent": pl.String, "period": pl.String, "late": pl.Int64})
    if engine == "duckdb":
        pytest.importorskip("duckdb")
    with pytest.raises(RecordError) as bad:
        policy.score_frame(frame, engine=engine)
    lines = [str(i) for i in bad.value.errors]
    assert lines == [output.format_issue(i) for i in bad.value.errors]
    assert lines[0].startswith("record 1 (agent ?, period '2026-11')") and "period ?" in lines[-1]
