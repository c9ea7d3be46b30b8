"""How fast can DuckDB score taobao_aftersales at all? A lower bound, not a baseline.

Times, in one process on the same frame (`gen_records.taobao_frame(N, seed=1)`, registered in
Arrow's string-view layout as the engines do), the hand-written Polars baseline (validation
included) against the smallest DuckDB query that computes the scheme's outputs: the label
lookups, the refund table, attendance, the clamped total, the bonus in integer cents and the
salary, as BIGINT, with no validation whatever and no DECIMAL outputs. Whatever a real DuckDB
query adds (checking every input, exact decimal outputs) comes on top of this ratio.

    .venv/bin/python bench/duckdb_floor_taobao.py [N]      (default 1,000,000; best of 7)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline_polars_taobao as bp  # noqa: E402
import gen_records  # noqa: E402

GRADE = "CASE {c} WHEN '优' THEN 20 WHEN '良' THEN 15 WHEN '中' THEN 10 WHEN '差' THEN 0 END"
GRADES = ("quality_grade", "disputes_grade", "cooperation_grade", "execution_grade")
QUERY = f"""WITH a AS (SELECT {' + '.join(GRADE.format(c=c) for c in GRADES)} AS g,
  CASE WHEN refund_rate <= 0.05 THEN 30 WHEN refund_rate <= 0.08 THEN 20 WHEN refund_rate <= 0.1 THEN 10
       ELSE 0 END AS refund,
  greatest(20 - 5 * late - 5 * leave - 10 * absent, 0) AS att,
  CAST(CAST(complaint_points AS DECIMAL(18, 2)) * 100 AS BIGINT) AS cp,
  CAST(CAST(standout AS DECIMAL(18, 2)) * 100 AS BIGINT) AS so, low_reviews, praises,
  CASE level WHEN 'normal' THEN 2000 WHEN 'senior' THEN 2500 WHEN 'lead' THEN 3000 END AS base FROM t),
b AS (SELECT *, least(greatest((g + refund + att - 5 * low_reviews + 2 * praises) * 100 - cp + so, 0), 13000)
      AS total FROM a),
c AS (SELECT *, CASE WHEN total >= 9100 THEN (20000 * total + 1300) // 2600 ELSE 0 END AS kpi FROM b)
SELECT g, refund, att, total, total >= 9100 AS qualified, kpi, base, base * 100 + kpi AS salary FROM c"""


def best(f, k: int = 7) -> float:
    out = float("inf")
    for _ in range(k):
        t0 = time.perf_counter()
        f()
        out = min(out, time.perf_counter() - t0)
    return out


def main() -> None:
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**6
    df = gen_records.taobao_frame(n, seed=1)
    con = duckdb.connect(config={"preserve_insertion_order": True})
    con.register("t", df.to_arrow(compat_level=pl.CompatLevel.newest()))
    out = con.sql(QUERY).pl()
    want = bp.score_frame(df)  # the floor query must compute the same totals, or it proves nothing
    assert out["total"].to_list() == [int(x * 100) for x in want["total"].to_list()], "totals differ"
    for _ in range(2):
        base = best(lambda: bp.score_frame(df))
        floor = best(lambda: con.sql(QUERY).pl())
        print(f"N={n:,}  Polars hand-written (validated) {base * 1000:7.1f} ms   "
              f"DuckDB floor (no validation, BIGINT out) {floor * 1000:7.1f} ms   ratio {floor / base:.2f}")


if __name__ == "__main__":
    main()
