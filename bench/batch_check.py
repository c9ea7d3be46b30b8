"""Agreement checks for the batch benchmarks: every implementation must give
exactly policyc's results before anything is timed.

An *implementation* is a callable ``frame -> rows`` (one dict of outputs per
record, in input order) that raises on a bad batch. ``check(policy, impl)``
runs, and returns the disagreements found (an empty list means agreement):

1. every batch of ``tests/acceptance/<policy>.json`` (as a frame of the
   generator's schema): every expected output must match, numbers compared as
   exact numbers (``"_approx"`` outputs rounded half-up to 6 places first);
2. every reject (and batch reject) must be refused with an error naming the
   field (``BatchError.issues`` or policyc's ``RecordError.errors``);
3. ``n`` generated records (default 10,000): every output must equal what
   ``policyc.load(path).score_batch(records)`` gives (``int`` / ``Decimal``),
   compared as exact numbers. One allowance, counted and reported: where
   policyc's value is a decimal with more than 20 places (a rational whose
   decimal form ends, but late), a value equal to it rounded half-up to 20
   places matches - the precision policyc's API itself uses for rationals with
   no finite decimal form.
"""

from __future__ import annotations

import json
import sys
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import gen_records  # noqa: E402
from bench_per_record import matches_expected, same_output  # noqa: E402

POLICIES = {
    "taobao_aftersales": REPO / "policies" / "taobao_aftersales.policy",
    "team_kpi_2024": REPO / "policies" / "team_kpi_2024.policy",
}
Q20 = Decimal("1e-20")

_loaded = {}


def load_policy(policy: str):
    import policyc

    if policy not in _loaded:
        _loaded[policy] = policyc.load(POLICIES[policy])
    return _loaded[policy]


def outputs_of(policy: str) -> tuple[str, ...]:
    return tuple(load_policy(policy).outputs)


def cases(policy: str) -> dict:
    with open(REPO / "tests" / "acceptance" / f"{policy}.json", encoding="utf-8") as f:
        return json.load(f, parse_float=Decimal)


def generated(policy: str, n: int, seed: int = 7):
    if policy == "taobao_aftersales":
        return gen_records.taobao_frame(n, seed)
    return gen_records.team_kpi_frame(n, agents_per_team=8, periods=6, seed=seed)


def reference_rows(policy: str, frame) -> list[dict]:
    """policyc's Python path on the frame's records."""
    results = load_policy(policy).score_batch(gen_records.to_records(frame))
    return [r.outputs for r in results]


def same_value(got, want) -> tuple[bool, bool]:
    """(equal, equal only at 20 places)."""
    if same_output(got, want):
        return True, False
    if isinstance(want, Decimal) and want.is_finite() and want.as_tuple().exponent < -20:
        if not isinstance(got, bool) and isinstance(got, (int, Decimal)):
            rounded = want.quantize(Q20, rounding=ROUND_HALF_UP)
            if Fraction(got) == Fraction(rounded):
                return True, True
    return False, False


def _named_fields(err) -> set:
    named = set()
    for issue in list(getattr(err, "issues", None) or ()) + list(getattr(err, "errors", None) or ()):
        named.add(getattr(issue, "field", None))
        named.update(getattr(issue, "fields", None) or ())
    return named


def _call(impl, frame):
    try:
        return impl(frame), None
    except Exception as e:  # noqa: BLE001 - any refusal is inspected, anything else reported
        return None, e


def check_acceptance(policy: str, impl, name: str = "implementation") -> list[str]:
    data = cases(policy)
    problems = []
    for batch in data["batches"]:
        frame = gen_records.frame_from_records(batch["records"], policy)
        rows, err = _call(impl, frame)
        if err is not None:
            problems.append(f"{name}: case {batch['name']!r}: raised {type(err).__name__}: {err}")
            continue
        if len(rows) != len(batch["expect"]):
            problems.append(f"{name}: case {batch['name']!r}: {len(rows)} rows for "
                            f"{len(batch['expect'])} records")
            continue
        for i, (row, expect) in enumerate(zip(rows, batch["expect"])):
            approx = set(expect.get("_approx", ()))
            for out, want in expect.items():
                if out == "_approx":
                    continue
                got = row.get(out, "<missing>")
                if not matches_expected(got, want, out in approx):
                    problems.append(f"{name}: case {batch['name']!r} record {i}: {out} = "
                                    f"{got!r}, expected {want!r}")
    rejects = [(c["name"], [c["record"]], c) for c in data.get("rejects", ())]
    rejects += [(c["name"], c["records"], c) for c in data.get("batch_rejects", ())]
    for label, records, case in rejects:
        fields = set(case.get("fields", ())) | {case["field"]}
        frame = gen_records.frame_from_records(records, policy)
        rows, err = _call(impl, frame)
        if err is None:
            problems.append(f"{name}: reject {label!r}: was scored, expected a refusal")
        elif not (_named_fields(err) & fields):
            problems.append(f"{name}: reject {label!r}: {type(err).__name__}: {err} "
                            f"does not name {sorted(fields)}")
    return problems


def compare(policy: str, rows, want_rows, name: str = "implementation"):
    """(problems, count of values equal only at 20 places)."""
    outputs = outputs_of(policy)
    problems, at20 = [], 0
    if len(rows) != len(want_rows):
        return [f"{name}: {len(rows)} rows for {len(want_rows)} records"], 0
    for i, (row, want) in enumerate(zip(rows, want_rows)):
        for out in outputs:
            got = row.get(out, "<missing>")
            ok, only20 = same_value(got, want[out])
            at20 += only20
            if not ok:
                problems.append(f"{name}: generated record {i}: {out} = {got!r}, "
                                f"policyc {want[out]!r}")
                if len(problems) >= 10:
                    return problems + ["(stopped after 10 disagreements)"], at20
    return problems, at20


def check(policy: str, impl, name: str = "implementation", n: int = 10_000, seed: int = 7,
          reference=None):
    """Acceptance cases and n generated records; returns (problems, note)."""
    problems = check_acceptance(policy, impl, name)
    frame = generated(policy, n, seed)
    want = reference if reference is not None else reference_rows(policy, frame)
    rows, err = _call(impl, frame)
    if err is not None:
        problems.append(f"{name}: generated records: raised {type(err).__name__}: {err}")
        return problems, ""
    more, at20 = compare(policy, rows, want, name)
    problems += more
    note = f"{n} generated records agree" + (f" ({at20} values at 20 places)" if at20 else "")
    return problems, note


# ---------------------------------------------------------------- implementations


def polars_taobao(frame):
    import baseline_polars_taobao

    return baseline_polars_taobao.score_frame(frame).to_dicts()


def numpy_taobao(frame):
    import baseline_numpy_taobao as b

    arrays, nulls = b.arrays_from_frame(frame)
    return b.to_rows(b.score_arrays(arrays, nulls))


def duckdb_taobao(frame):
    import baseline_duckdb_taobao

    return baseline_duckdb_taobao.score_frame(frame).to_dicts()


def polars_team_kpi(frame):
    import baseline_polars_team_kpi

    return baseline_polars_team_kpi.score_frame(frame).to_dicts()


def duckdb_team_kpi(frame):
    import baseline_duckdb_team_kpi

    return baseline_duckdb_team_kpi.score_frame(frame).to_dicts()


def rows_of(result) -> list[dict]:
    """Rows from whatever a policyc engine returns: a Polars or pandas frame, an
    Arrow table, a DuckDB relation, or a list of Results / dicts."""
    if hasattr(result, "to_dicts"):
        return result.to_dicts()
    if hasattr(result, "pl"):  # a DuckDB relation
        return result.pl().to_dicts()
    if hasattr(result, "to_pylist"):
        return result.to_pylist()
    if hasattr(result, "to_dict") and hasattr(result, "columns"):
        return result.to_dict(orient="records")
    rows = []
    for r in result:
        rows.append(dict(r.outputs) if hasattr(r, "outputs") else dict(r))
    return rows


def policyc_engine(policy: str, engine: str):
    """policy.score_frame(frame, engine=engine) as an implementation."""
    p = load_policy(policy)

    def impl(frame):
        return rows_of(p.score_frame(frame, engine=engine))

    return impl


BASELINES = {
    "taobao_aftersales": {"polars (hand-written)": polars_taobao,
                          "numpy (hand-written)": numpy_taobao,
                          "duckdb (hand-written)": duckdb_taobao},
    "team_kpi_2024": {"polars (hand-written)": polars_team_kpi,
                      "duckdb (hand-written)": duckdb_team_kpi},
}
