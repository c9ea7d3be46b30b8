"""Hand-written DuckDB SQL baseline for `taobao_aftersales` (SPEC §3), exact.

What a competent data engineer would write by hand in DuckDB SQL to score a
whole frame of records, honestly: the same validation as policyc and as
`baseline_polars_taobao` (every input present and no unknown column; agent a
non-empty text, period a month label; labels; `refund_rate` in [0, 1]; counts
whole and >= 0; `standout` 0 or in [2, 5]; 5 × complaints <= complaint_points
<= 20 × complaints; NaN and infinities refused; no two records for one agent
and period) and the same exact arithmetic, in SQL on scaled integers (BIGINT;
no DOUBLE anywhere, no decimal division):

- refund_rate in ten-thousandths, the two point inputs in hundredths: a
  DECIMAL(38, s) column is narrowed to DECIMAL(18, s) (int64 inside; TRY_CAST,
  so a value too wide is NULL) and multiplied by 10^s into a BIGINT, exact and
  in 64-bit integers (multiplying the DECIMAL(38, s) itself goes through
  HUGEINT: 10 times slower);
- labels mapped by `CASE col WHEN '优' THEN 20 ...` (per label column,
  `list_position` in a list of the labels is 1.3 times slower, a join with a
  VALUES table 1.5, TRY_CAST to an ENUM and `enum_code` 1.7, a MAP 2);
- total in hundredths of a point, clamped to [0, 13000]; kpi_bonus in cents,
  `(20000 T + 1300) // 2600` - 1000 × total / 130 yuan rounded half-up to
  0.01, in integers;
- outputs BIGINT (whole-number outputs; `refund` INTEGER, as the Polars
  baseline gives it), BOOLEAN (`qualified`), DECIMAL(38, 2) (`total`,
  `kpi_bonus`, `salary`) built as `CAST(CAST(x AS DECIMAL(18, 0)) * 0.01 AS
  DECIMAL(38, 2))` - exact, int64 until the last step (multiplying in
  DECIMAL(38, 0) makes the scoring query about 10% slower).

DuckDB's BIGINT arithmetic raises on overflow (a count beyond about 10^15);
such a batch raises `Unsupported`, as does a count or complaint_points too
wide for BIGINT, or a decimal with more places than the working scale: never
a wrapped or rounded answer.

On one DuckDB connection opened once per process, the frame's Arrow table
registered (zero-copy: `CompatLevel.newest()`, strings as views), a clean
batch takes two queries:

1. the keys: one aggregate pass giving the distinct hashes of (agent, period)
   (as many as records proves no agent has two records in a month: equal keys
   hash equal), the distinct period labels (checked against the month pattern
   in Python, as the Polars baseline does, but with `fullmatch`: policyc
   refuses "2025-01\\n") and the records with an empty agent;
2. the scoring query, which also returns `__bad`: whether any rule on the
   inputs refuses the record - the rules are computed on the same typed
   inputs the scores are, in the same pass. (A first aggregate counting the
   bad values per field, then the scoring query, reads and maps every input
   twice: 1.3 times slower.) No ORDER BY: DuckDB keeps the input order
   (`preserve_insertion_order`, the default), returned with `.pl()`.

agent and period are not sent back through DuckDB: the input's own columns
are put beside the outputs (zero-copy; copying them through DuckDB and Arrow
cost 40-50 ms per 10^6 records). The relations are made once per query text
and re-run (`_query`): making one again costs 4-5 ms.

A bad batch (`__bad` set, a duplicate hash, a bad period or agent, NaN)
takes a third query over the table with a row index, listing every bad record
(record index, field, reason; duplicates by a window over the index); then
`BatchError` is raised and nothing is scored.

`score_frame(frame) -> pl.DataFrame` returns agent, period and the 11 outputs,
one row per record in input order, with the names and dtypes
`baseline_polars_taobao.score_frame` gives. Frames of the schema
`gen_records.TAOBAO_SCHEMA` (String or Categorical labels; any integer or
Decimal number column; float columns are read by their shortest text, in
Python, by `batch_common.prepare`, as the Polars baseline reads them). Not
thread-safe: one connection, one registered table at a time.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import duckdb
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the scheme's constants, as the Polars baseline states them
from baseline_polars_taobao import BASE, COUNTS, GRADE, GRADES, KINDS, SCALES  # noqa: E402
from batch_common import PERIOD_RE, BatchError, Issue, Unsupported, prepare  # noqa: E402

DUPLICATE = "duplicate: the agent already has a record for this period"
BAD_PERIOD = "not a month label like 2026-11"

_CON = duckdb.connect(config={"preserve_insertion_order": True})
_TABLE = "taobao_batch"
_QUERIES: dict[str, object] = {}


def _query(sql: str):
    """The relation for `sql`, made once per text: a relation runs its query, against the
    table registered at that moment, each time it is read, and making it again costs 4-5 ms
    (tokenizing and binding the text) - most of the time of a batch of 1,000."""
    rel = _QUERIES.get(sql)
    if rel is None:
        rel = _QUERIES[sql] = _CON.sql(sql)
    return rel


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _units(name: str, scale: int) -> str:
    """Column `name` (integers or DECIMAL) as a BIGINT in units of 10^-scale; NULL for a
    missing value or one too wide for BIGINT. Exact once the scale check has passed."""
    c = _q(name)
    if scale == 0:
        return f"TRY_CAST({c} AS BIGINT)"
    return (f"CAST(TRY_CAST({c} AS DECIMAL(18, {scale})) "
            f"* CAST({10 ** scale} AS DECIMAL({scale + 1}, 0)) AS BIGINT)")


def _label(name: str, mapping: dict) -> str:
    whens = " ".join(f"WHEN '{label}' THEN {value}" for label, value in mapping.items())
    return f"CASE {_q(name)} {whens} END"


def _reading() -> str:
    """The input columns and, after them, every input typed (NULL = missing or unusable)."""
    cols = [
        "*",
        *(f"{_label(g, GRADE)} AS {item}" for item, g in GRADES.items()),
        f"{_label('level', BASE)} AS base",
        f"{_units('refund_rate', 4)} AS rate",
        f"{_units('complaint_points', 2)} AS cp",
        f"{_units('standout', 2)} AS so",
        *(f"{_units(c, 0)} AS n_{c}" for c in COUNTS),
    ]
    return ", ".join(cols)


AGENT = ("agent", '"agent" IS NULL OR "agent" = \'\'', "the agent must be a non-empty text")


def _flags(schema) -> list[tuple[str, str, str]]:
    """(field, SQL condition over the reading, reason) for every input: a record is bad where
    a condition is true (NULL counts as false). The agent (AGENT), the period and duplicates
    are checked by the check query, which reads those two columns anyway."""
    flags = []
    for item, g in GRADES.items():
        flags.append((g, f"{item} IS NULL", "unknown label; expected one of 优, 良, 中, 差"))
    flags.append(("level", "base IS NULL", "unknown label; expected one of normal, senior, lead"))
    flags.append(("refund_rate", "rate IS NULL OR rate < 0 OR rate > 10000",
                  "missing, or percent outside [0, 1]"))
    for c in COUNTS:
        dt = schema[c]
        if isinstance(dt, pl.Decimal) and dt.scale > 0:  # a count given as a decimal must be whole
            flags.append((c, f"{_q(c)} % 1 <> 0", "not a whole number"))
        flags.append((c, f"n_{c} IS NULL OR n_{c} < 0", "missing, or a negative count"))
    flags.append(("complaint_points", "cp IS NULL", "missing"))
    flags.append(("standout", "so IS NULL OR NOT (so = 0 OR so BETWEEN 200 AND 500)",
                  "missing, or standout not 0 nor in [2, 5]"))
    flags.append(("complaint_points",
                  "NOT (cp >= 500 * n_complaints AND cp <= 2000 * n_complaints)",
                  "constraint 5 × complaints ≤ complaint_points ≤ 20 × complaints broken"))
    return flags


def _scale_checks(schema) -> list[tuple[str, str]]:
    """(SQL condition, message): a decimal with more places than the working scale, which the
    reading would round. Only for a column whose type has more places than that scale."""
    out = []
    for name, scale in SCALES.items():
        dt = schema[name]
        if isinstance(dt, pl.Decimal) and dt.scale > scale:
            out.append((f"{_q(name)} <> round({_q(name)}, {scale})",
                        f"column {name!r} has values with more than {scale} decimal places"))
    return out


def _too_wide(schema) -> list[tuple[str, str]]:
    """(SQL condition, message): a count or complaint_points too wide for BIGINT. The reading
    makes such a value NULL, which flags the record, so this is asked on the slow path only."""
    out = []
    for name in (*COUNTS, "complaint_points"):
        var = "cp" if name == "complaint_points" else f"n_{name}"
        if name == "complaint_points" or isinstance(schema[name], pl.Decimal) \
                or schema[name] == pl.UInt64:
            out.append((f"{_q(name)} IS NOT NULL AND {var} IS NULL",
                        f"column {name!r} has values too large for BIGINT"))
    return out


def _score_sql(reading: str, flags) -> str:
    """The outputs (no agent and period: the caller puts the input's own columns beside them)
    and __bad: whether any flag refuses the record."""
    bad = " OR ".join(f"({cond})" for _, cond, _ in flags)
    return f"""
WITH r AS (SELECT {reading} FROM {_TABLE}),
s AS (
  SELECT *,
    CASE WHEN rate <= 500 THEN 30 WHEN rate <= 800 THEN 20 WHEN rate <= 1000 THEN 10 ELSE 0 END
      AS refund,
    greatest(20 - 5 * n_late - 5 * n_leave - 10 * n_absent, 0) AS attendance
  FROM r),
t AS (
  SELECT *,
    least(greatest(
      100 * (quality + disputes + cooperation + execution + refund + attendance
             - 5 * n_low_reviews + 2 * n_praises) - cp + so, 0), 13000) AS tot
  FROM s),
k AS (
  SELECT *, tot >= 9100 AS qualified,
    CASE WHEN tot >= 9100 THEN (20000 * tot + 1300) // 2600 ELSE 0 END AS kpi
  FROM t)
SELECT
  CAST(quality AS BIGINT) AS quality,
  CAST(refund AS INTEGER) AS refund,
  CAST(disputes AS BIGINT) AS disputes,
  CAST(cooperation AS BIGINT) AS cooperation,
  CAST(execution AS BIGINT) AS execution,
  CAST(attendance AS BIGINT) AS attendance,
  CAST(CAST(tot AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(38, 2)) AS total,
  qualified,
  CAST(CAST(kpi AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(38, 2)) AS kpi_bonus,
  CAST(base AS BIGINT) AS base,
  CAST(CAST(100 * base + kpi AS DECIMAL(18, 0)) * 0.01 AS DECIMAL(38, 2)) AS salary,
  coalesce({bad}, false) AS __bad
FROM k"""


def _check_sql(reading: str, unsupported) -> str:
    """One aggregate row: the records; the distinct hashes of (agent, period); the period
    labels; the records with no period; the records whose agent is refused; then, per
    condition of `unsupported`, the records it holds for."""
    parts = ["count(*)", 'count(DISTINCT hash("agent", "period"))', 'list(DISTINCT "period")',
             'count(*) FILTER (WHERE "period" IS NULL)', f"count(*) FILTER (WHERE {AGENT[1]})"]
    parts += [f"count(*) FILTER (WHERE {cond})" for cond, _ in unsupported]
    return f"WITH r AS (SELECT {reading} FROM {_TABLE}) SELECT {', '.join(parts)} FROM r"


def _listing(reading: str, flags, period_good, duplicates: bool) -> list[Issue]:
    """Every (record, field, reason) of a bad batch: the slow path. The table has a row index
    __i; the require line is evaluated in HUGEINT here (a huge bad count is still named)."""
    named = [AGENT] + [
        (f, c.replace("500 * n_complaints", "500 * CAST(n_complaints AS HUGEINT)")
         .replace("2000 * n_complaints", "2000 * CAST(n_complaints AS HUGEINT)"), r)
        for f, c, r in flags]
    if period_good is not None:
        named.append(("period", '"period" IS NULL OR NOT list_contains($good, "period")',
                      BAD_PERIOD))
    if duplicates:
        named.append(("period", 'row_number() OVER (PARTITION BY "agent", "period" '
                                'ORDER BY __i) > 1', DUPLICATE))
    cols = ", ".join(f"coalesce({cond}, false) AS f{k}" for k, (_, cond, _) in enumerate(named))
    sql = f"WITH r AS (SELECT {reading} FROM {_TABLE}) SELECT __i, {cols} FROM r"
    params = {"good": period_good} if period_good is not None else None
    res = _CON.sql(sql, params=params).pl()
    index = res.get_column("__i")
    issues = []
    for k, (field, _, reason) in enumerate(named):
        for i in index.filter(res.get_column(f"f{k}")).to_list():
            issues.append(Issue(i, field, reason))
    return issues


def _arrow(frame: pl.DataFrame):
    # CompatLevel.newest(): strings as Arrow string views, zero-copy (the default, large
    # strings, copies every string column: 15 ms per 10^6 records here)
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())


def _refuse(counts, conditions) -> None:
    for count, (_, message) in zip(counts, conditions):
        if count:
            raise Unsupported(message)


def score_frame(frame: pl.DataFrame) -> pl.DataFrame:
    frame, issues = prepare(frame, KINDS)
    if any(i.index is None for i in issues):
        raise BatchError(issues)
    schema = frame.schema
    reading = _reading()
    flags = _flags(schema)
    scales = _scale_checks(schema)

    _CON.register(_TABLE, _arrow(frame))
    try:
        n, distinct, periods, null_periods, bad_agents, *held = \
            _query(_check_sql(reading, scales)).fetchall()[0]
        _refuse(held, scales)
        periods = periods or []
        rx = re.compile(PERIOD_RE)  # fullmatch: `$` alone lets "2025-01\n" through
        good = [p for p in periods if p is not None and rx.fullmatch(p)]
        period_good = good if len(good) < len(periods) or null_periods else None
        out = failure = None
        if not (issues or bad_agents or distinct != n or period_good is not None):
            try:
                out = _query(_score_sql(reading, flags)).pl()
            except duckdb.OutOfRangeException as e:
                failure = e  # a bad record, or a batch beyond BIGINT: the listing decides
            else:
                if out.get_column("__bad").any():
                    out = None
        if out is None:  # the slow path: name every bad record, or say why not scored
            wide = _too_wide(schema)
            _refuse(_query(_check_sql(reading, wide)).fetchall()[0][5:], wide)
            _CON.unregister(_TABLE)
            _CON.register(_TABLE, _arrow(frame.with_row_index("__i")))
            issues = issues + _listing(reading, flags, period_good, distinct != n)
            if not issues:
                raise Unsupported("a value does not fit this baseline's BIGINT arithmetic: "
                                  f"{failure}") from failure
            issues.sort(key=lambda x: (x.index, x.field))
            raise BatchError(issues)
    except duckdb.OutOfRangeException as e:
        raise Unsupported(f"a value does not fit this baseline's BIGINT arithmetic: {e}") from e
    finally:
        _CON.unregister(_TABLE)
    # agent and period are the input's own columns (zero-copy), beside the outputs in the
    # same row order; returning them through DuckDB would copy every string twice
    return pl.concat([frame.select("agent", "period"), out.drop("__bad")], how="horizontal")
