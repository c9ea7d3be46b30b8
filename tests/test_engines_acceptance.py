"""The acceptance cases (tests/acceptance/*.json, from the shared specification) through every
batch engine: each batch must give exactly the Python engine's results, and each rejected
record or batch must be refused with the same issues, word for word.

Polars and DuckDB take every batch and every reject. Spark (a local session; skipped without
PySpark or Java) takes the first batch and the first reject of each case: its queries cost
seconds each, and tests/test_sql.py covers it further.
"""

from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")

import policyc  # noqa: E402
from policyc.runtime import RecordError  # noqa: E402
from test_engines import same  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CASES = sorted((REPO / "tests" / "acceptance").glob("*.json"))


def _case(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return json.load(f, parse_float=Decimal)


def _text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _frame(records: list[dict]):
    """The records as a frame of text columns, as a CSV file gives them."""
    names = list(dict.fromkeys(k for r in records for k in r))
    return pl.DataFrame({n: [_text(r.get(n)) for r in records] for n in names},
                        schema={n: pl.String for n in names})


def _items(case: dict, spark: bool):
    batches = [(b["name"], b["records"]) for b in case["batches"]]
    rejects = [(r["name"], [r["record"]]) for r in case["rejects"]]
    rejects += [(r["name"], r["records"]) for r in case.get("batch_rejects", [])]
    return (batches[:1] + rejects[:1]) if spark else batches + rejects


def _engine_available(engine: str):
    if engine == "duckdb":
        pytest.importorskip("duckdb")
        pytest.importorskip("sqlglot")
    if engine == "spark":
        pytest.importorskip("pyspark")
        pytest.importorskip("sqlglot")
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            pytest.skip("Spark needs Java, and none is installed")


@pytest.mark.filterwarnings("ignore::FutureWarning")  # pyspark on pandas 3
@pytest.mark.parametrize("engine", ["polars", "duckdb", "spark"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_acceptance_cases_through_every_engine(path, engine):
    _engine_available(engine)
    case = _case(path)
    policy = policyc.load(REPO / "policies" / f"{case['policy']}.policy")
    problems = []
    for name, records in _items(case, spark=engine == "spark"):
        try:
            want = [r.as_row() for r in policy.score_batch(records)]
        except RecordError as e:
            try:
                policy.score_frame(_frame(records), engine=engine)
            except RecordError as got:
                if [str(i) for i in got.errors] != [str(i) for i in e.errors]:
                    problems.append(f"{name}: reported {[str(i) for i in got.errors]}, "
                                    f"python {[str(i) for i in e.errors]}")
            else:
                problems.append(f"{name}: scored a batch the Python engine rejects")
            continue
        rows = policy.score_frame(_frame(records), engine=engine).to_dicts()
        if len(rows) != len(want):
            problems.append(f"{name}: {len(rows)} rows for {len(want)} records")
            continue
        for i, (w, g) in enumerate(zip(want, rows)):
            for k, v in w.items():
                if not same(v, g[k]):
                    problems.append(f"{name}, record {i}, {k}: python {v!r}, {engine} {g[k]!r}")
    assert not problems, "\n".join(problems[:20])
