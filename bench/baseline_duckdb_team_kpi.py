"""Hand-written DuckDB SQL baseline for `team_kpi_2024` (SPEC §5), exact.

What a competent data engineer would write by hand in DuckDB SQL for the team
KPI scheme, honestly: the same validation and the same exact results as
`baseline_polars_team_kpi.py`, on scaled integers (BIGINT; HUGEINT only where
the batch's bounds need it), never DOUBLE for a value. The work is SQL on one
module-level connection; the frame is registered as Arrow
(`to_arrow(compat_level=newest)`: string views, no copy) with its row number.

Statements, in order:

1. Validation, one cheap aggregate: a `bool_or` over every per-record flag
   (missing values, labels, domains, `paid_buyers <= inquiries`, limits), the
   batch's maxima and total sales (for the bounds), and a GROUP BY
   hash(agent, period) - only a clash runs the exact duplicate check.
2. The team table, GROUP BY (period, team) (Arrow, registered): the highest
   good_reviews, the sum of sales, whether bonus_pool / public_sales differ
   (then the batch is bad), the month's ordinal, a team number for the rank
   window, and the record with the highest average order value `paid_amount /
   paid_items`, picked with an *exact* integer key floor(A·M / n), M = (max
   paid_items)²: two different fractions A/n of the batch differ by at least
   1/M, so their keys differ, and equal fractions have equal keys. The period
   labels are its distinct periods, checked in Python as the Polars baseline
   does. A bad batch runs the listing query instead: every (record, field,
   reason), as the Polars baseline lists them.
3. Every record's values, ORDER BY row number: the team table joined back, then
   the row arithmetic as nested SELECTs. Rationals with no finite decimal form
   are given to 20 places half-up by long division in BIGINT, as many digits
   per step as the batch's largest divisor allows (DuckDB divides HUGEINT bit
   by bit, ~150 ms per million). The score is a sum of such fractions; it is
   rounded from their floors and remainders r_k / d_k: score·10^20 = Bx + Sn/D
   with D = Π d_k and 0 <= Sn/D < 4, so half-up adds (2·Sn + D) // (2·D), and
   the result is clamped at 0. Pay in integer cents: floor((2·pool·sales + Σ) /
   (2Σ)), the 0.5% commission likewise, the split (p + 1) // 2, (2p + 5) // 10
   and the rest.
4. Ranks and streaks, over (3) registered back as Arrow, ORDER BY row number:
   `rank()` over the team ordered by the exact rounded score. Rounding is
   monotone, so only peers (equal rounded scores) can differ: each record after
   the first of its peers is compared exactly with the one before it (lag; D =
   C·q with C common to the team, so (Bx - Bx')·D·q' + Sn·q' - Sn'·q = 0 in
   HUGEINT). A pair not proved equal sends its team to an exact Python ranking
   (fractions) and (4) runs again with those ranks. `streak(rank = 1) >= 3`:
   the first places semi-joined with themselves one and two months on.

Bounds computed from the batch's own maxima choose BIGINT or HUGEINT for each
part and prove that no HUGEINT product overflows; beyond them the batch raises
`Unsupported` (DuckDB also raises on an integer overflow rather than wrap: such
an error is reported as `Unsupported` too, never as an answer).

`score_frame(frame) -> pl.DataFrame`: agent, period (the input's columns) and
the 17 outputs, in input order, with the Polars baseline's names and dtypes; or
`BatchError` (every problem found), nothing scored.
"""

from __future__ import annotations

import re
import sys
import threading
from fractions import Fraction
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the scheme's constants, as the Polars baseline states them
from baseline_polars_team_kpi import COUNTS, KINDS, MONEY, OUTPUTS, POINTS10, SCALES  # noqa: E402
from batch_common import (  # noqa: E402
    PERIOD_RE,
    BatchError,
    Issue,
    Unsupported,
    check_scales,
    flagged_issues,
    prepare,
)

ROLES = ("agent", "aftersales_specialist")
TABLE = "__team_kpi_batch"
GTABLE = "__team_kpi_teams"
XTABLE = "__team_kpi_rows"
BIG = 2 ** 63 - 1          # BIGINT
HUGE = 2 ** 126            # HUGEINT, with a bit to spare
INT64_100 = (2 ** 63 - 1) // 100   # largest whole number whose ×100 is a BIGINT
# True sends every team through the exact Python ranking (to test that path).
_FORCE_RANK_FIX = False

_CON = duckdb.connect()
_CON.sql("SET enable_progress_bar = false")
_LOCK = threading.Lock()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(name: str) -> str:
    return f"CAST({_q(name)} AS VARCHAR)"


def _strs(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# ---------------------------------------------------------------- reading columns


class _Cols:
    """SQL for each input column as a scaled integer, by its Arrow/DuckDB type."""

    def __init__(self, schema):
        self.schema = schema

    def dec(self, name):
        dt = self.schema[name]
        return dt if isinstance(dt, pl.Decimal) else None

    def scaled(self, name: str, scale: int, wide: bool = False) -> str:
        """The value in units of 10^-scale, BIGINT, for a valid batch (check_scales
        first). Decimals: DECIMAL(16, s) × 10^s is done in 64 bits (values below 10^14);
        `wide` for larger ones (DECIMAL(36, s), 128 bits)."""
        c, dt = _q(name), self.schema[name]
        if isinstance(dt, pl.Decimal):
            if scale == 0:
                return f"CAST({c} AS BIGINT)"
            width = 36 if wide else 16
            return (f"CAST(CAST({c} AS DECIMAL({width}, {scale})) * "
                    f"CAST({10 ** scale} AS DECIMAL({scale + 1}, 0)) AS BIGINT)")
        if scale == 0:
            return f"CAST({c} AS BIGINT)"
        return f"(CAST({c} AS BIGINT) * {10 ** scale})"

    def scaled_try(self, name: str, scale: int) -> str:
        """As the Polars baseline's `scaled`: NULL when the value does not fit BIGINT
        (any batch; the listing of a bad batch)."""
        c, dt = _q(name), self.schema[name]
        if isinstance(dt, pl.Decimal):
            if scale == 0:
                return f"TRY_CAST(floor({c}) AS BIGINT)"
            return (f"TRY_CAST(TRY_CAST({c} AS DECIMAL(36, {scale})) * "
                    f"CAST({10 ** scale} AS DECIMAL({scale + 1}, 0)) AS BIGINT)")
        if scale == 0:
            return f"TRY_CAST({c} AS BIGINT)"
        lim = (2 ** 63 - 1) // 10 ** scale
        return (f"(CASE WHEN {c} BETWEEN -{lim} AND {lim} "
                f"THEN CAST({c} AS BIGINT) * {10 ** scale} END)")

    def above(self, name: str, value: str, whole_digits: int) -> str | None:
        """`name > value` if the column can hold so large a value, else None."""
        dt = self.schema[name]
        if isinstance(dt, pl.Decimal) and dt.precision - dt.scale < whole_digits:
            return None
        return f"{_q(name)} > {value}"


def _row_flags_fast(cols: _Cols) -> list[str]:
    """Per-record conditions any of which makes the batch bad (raw columns; exact
    decimal comparisons). The listing query reports them in detail."""
    out = [f"{_q('agent')} IS NULL OR {_text('agent')} = ''",
           f"{_q('period')} IS NULL OR {_q('team')} IS NULL",
           f"{_q('role')} IS NULL OR {_text('role')} NOT IN ({_strs(ROLES)})"]
    for name in ("avg_response", *MONEY):
        f = f"{_q(name)} IS NULL OR {_q(name)} < 0"
        big = cols.above(name, "92233720368547758.07" if cols.dec(name) else str(INT64_100), 17)
        out.append(f + (f" OR {big}" if big else ""))
    for name in POINTS10:
        out.append(f"{_q(name)} IS NULL OR {_q(name)} < 0 OR {_q(name)} > 10")
    for name in COUNTS:
        f = f"{_q(name)} IS NULL OR {_q(name)} < 0"
        if cols.dec(name):
            f += f" OR {_q(name)} <> trunc({_q(name)})"
        big = cols.above(name, str(2 ** 63 - 1), 19)
        if big and (cols.dec(name) or cols.schema[name] == pl.UInt64):
            f += f" OR {big}"
        out.append(f)
    out.append(f"{_q('paid_buyers')} > {_q('inquiries')}")
    return out


def _listing_flags(cols: _Cols, good_periods) -> list[tuple[str, str, str]]:
    """(field, SQL condition, reason), in the Polars baseline's order."""
    s = {n: cols.scaled_try(n, 2) for n in ("avg_response", *POINTS10, *MONEY)}
    s.update({n: cols.scaled_try(n, 0) for n in COUNTS})
    period_ok = (f"{_text('period')} IN ({_strs(good_periods)})" if good_periods else "false")
    flags = [
        ("agent", f"{_q('agent')} IS NULL OR {_text('agent')} = ''",
         "the agent must be a non-empty text"),
        ("period", f"NOT coalesce({period_ok}, false)", "not a month label like 2026-11"),
        ("period", "row_number() OVER (PARTITION BY agent, CAST(period AS VARCHAR) "
                   "ORDER BY __rn) > 1",
         "duplicate: the agent already has a record for this period"),
        ("team", f"{_q('team')} IS NULL", "missing field"),
        ("role", f"{_q('role')} IS NULL OR {_text('role')} NOT IN ({_strs(ROLES)})",
         "unknown label; expected one of agent, aftersales_specialist"),
    ]
    for name in ("avg_response", *MONEY):
        flags.append((name, f"{_q(name)} IS NULL OR {s[name]} IS NULL OR {s[name]} < 0",
                      "missing, negative, or too large"))
    for name in POINTS10:
        flags.append((name, f"{s[name]} IS NULL OR {s[name]} < 0 OR {s[name]} > 1000",
                      "missing, or outside [0, 10]"))
    for name in COUNTS:
        if cols.dec(name):
            flags.append((name, f"{_q(name)} <> trunc({_q(name)})", "not a whole number"))
        flags.append((name, f"{s[name]} IS NULL OR {s[name]} < 0",
                      "missing, or a negative count"))
    flags.append(("paid_buyers", f"{s['paid_buyers']} > {s['inquiries']}",
                  "constraint paid_buyers <= inquiries broken"))
    for name in MONEY + ("avg_response",):
        dt = cols.dec(name)
        if dt and dt.precision > 31:
            flags.append((name, f"abs({_q(name)}) >= CAST('1{'0' * 31}' AS DECIMAL(38, {dt.scale}))"
                          if dt.precision - dt.scale > 31 else "false",
                          "too large for an assessment value"))
    for name in ("bonus_pool", "public_sales"):
        flags.append((name, f"min({s[name]}) OVER __g <> max({s[name]}) OVER __g",
                      "team-level input differs within the team in this period"))
    return flags


def _ordinal(period: str) -> str:
    p = f"CAST({period} AS VARCHAR)"
    return (f"(TRY_CAST(substr({p}, 1, 4) AS INTEGER) * 12 "
            f"+ TRY_CAST(substr({p}, 6, 2) AS INTEGER) - 1)")


def _describe(cols: _Cols, good_periods) -> list[Issue]:
    flags = _listing_flags(cols, good_periods)
    sel = ", ".join(f"coalesce(({cond}), false) AS f{k}" for k, (_, cond, _) in enumerate(flags))
    sql = (f"SELECT __rn, {sel} FROM (SELECT *, {_ordinal('period')} AS __ord FROM {TABLE}) "
           f"WINDOW __g AS (PARTITION BY __ord, team) ORDER BY __rn")
    return flagged_issues(_CON.sql(sql).pl(), flags, "f{}")


# ---------------------------------------------------------------- validation


def _validate(cols: _Cols) -> dict:
    """The cheap aggregate statement: whether some record is bad (a bool_or of every
    per-record flag), the batch's maxima and total sales, and whether two records
    may share an agent and month (equal hashes: then the exact check). Team-level
    inputs and period labels are checked on the team table (`_teams`)."""
    bad = " OR ".join(f"({f})" for f in _row_flags_fast(cols))
    maxima = {
        "A": "paid_amount", "N": "paid_items", "I": "inquiries", "G": "good_reviews",
        "LATE": "late_aftersales", "S": "sales", "BP": "bonus_pool", "PS": "public_sales",
        "R": "returns_handled", "PB": "paid_buyers", "W": "position_wage",
        "AVG": "avg_response",
    }
    sel = ", ".join(f"max({_q(c)}) AS {k}" for k, c in maxima.items())
    sql = f"""
        WITH r AS (SELECT bool_or({bad}) AS bad, {sel}, sum(sales) AS SS FROM {TABLE}),
        d AS (SELECT coalesce(max(c), 0) > 1 AS clash
              FROM (SELECT count(*) AS c FROM {TABLE} GROUP BY hash(agent, CAST(period AS VARCHAR))))
        SELECT * FROM r, d
    """
    row = _CON.sql(sql).fetchall()[0]
    st = dict(zip(["bad", *maxima, "SS", "clash"], row))
    st["bad"] = bool(st["bad"])
    if not st["bad"] and st["clash"]:  # equal hashes: the exact check
        st["bad"] = bool(_CON.sql(
            f"SELECT count(*) > count(DISTINCT (agent, CAST(period AS VARCHAR))) "
            f"FROM {TABLE}").fetchall()[0][0])
    return st


def _good_periods(periods) -> list:
    rx = re.compile(PERIOD_RE)
    return [p for p in periods if p is not None and rx.match(p)]


def _all_periods() -> list:
    return [r[0] for r in _CON.sql(f"SELECT DISTINCT CAST(period AS VARCHAR) FROM {TABLE}")
            .fetchall()]


def _teams(cols: _Cols, b: dict):
    """The team table, one row per (period, team) of a batch whose records are valid:
    the highest good_reviews, the sum of sales, the record with the highest average
    order value (exact key floor(A·M / n)), a number (tid) for the rank window, the
    month's ordinal, and whether bonus_pool / public_sales differ within it."""
    wide = b["money_wide"]
    A, S = cols.scaled("paid_amount", 2, wide), cols.scaled("sales", 2, wide)
    n, G = cols.scaled("paid_items", 0), cols.scaled("good_reviews", 0)
    M = b["M"]
    key_t = "BIGINT" if b["A"] * M <= BIG else "HUGEINT"
    akey = f"CASE WHEN {n} > 0 THEN CAST({A} AS {key_t}) * {M} // {n} ELSE 0 END"
    sum_t = "BIGINT" if b["SS"] <= BIG else "HUGEINT"
    sql = f"""
        SELECT period, team, row_number() OVER () AS tid, {_ordinal('period')} AS ord,
               gmax, tsales, CAST(pick >> 64 AS BIGINT) AS Am,
               CAST(pick & CAST('18446744073709551615' AS HUGEINT) AS BIGINT) AS nm, differs
        FROM (SELECT period, team, max({G}) AS gmax, CAST(sum({S}) AS {sum_t}) AS tsales,
                     arg_max((CAST({A} AS HUGEINT) << 64) + {n}, {akey}) AS pick,
                     min(bonus_pool) <> max(bonus_pool)
                     OR min(public_sales) <> max(public_sales) AS differs
              FROM {TABLE} GROUP BY period, team)"""
    teams = _CON.sql(sql).to_arrow_table()
    _CON.register(GTABLE, teams)
    differs, ts, periods = _CON.sql(
        f"SELECT coalesce(bool_or(differs), false), max(tsales), "
        f"list(DISTINCT CAST(period AS VARCHAR)) FROM {GTABLE}").fetchall()[0]
    return bool(differs), int(ts or 0), periods or []


# ---------------------------------------------------------------- bounds


def _cents(v) -> int:
    return 0 if v is None else int(v * 100)


def _bounds(st: dict) -> dict:
    """Maxima of the (valid) batch, and the proof that every HUGEINT product fits."""
    b = {k: _cents(st[k]) for k in ("A", "S", "SS", "BP", "PS", "W", "AVG")}
    b.update({k: int(st[k] or 0) for k in ("N", "I", "G", "LATE", "R", "PB")})
    b["TS"] = b["SS"]  # the largest team's sales: the team table gives it exactly
    for k in ("A", "N", "I", "G", "S", "SS", "TS", "PB"):
        b[k] = max(b[k], 1)
    b["M"] = max(b["N"] ** 2, 2)                       # AOV keys: A·M // n
    b["D"] = 3 * b["G"] * b["A"] * b["N"] * b["I"]     # denominators of the score's remainders
    checks = {
        "aov keys": b["A"] * b["M"],
        "score remainders": 9 * b["D"],
        "exact score comparisons": 16 * b["D"] * b["N"] * b["I"],
        "aov output division": 15 * b["A"] * b["N"] * 10,
        "share output division": b["SS"] * 10,
    }
    for what, bound in checks.items():
        if bound >= HUGE:
            raise Unsupported(f"values too large for this baseline's HUGEINT path ({what})")
    b["pack"] = 16 * 4 * b["D"] + 16 <= BIG and b["N"] * b["I"] <= BIG
    b["money_wide"] = max(b["A"], b["S"], b["BP"], b["PS"], b["W"], b["AVG"]) >= 10 ** 16
    return b


def _with_teams(b: dict, ts: int) -> dict:
    """The bounds that need the largest team's sales (pay, share)."""
    b = dict(b, TS=max(ts, 1))
    b["PAY"] = 10 * max(b["PS"], b["BP"], 1) * b["S"] + 2000 * b["TS"] + b["W"] + 30000
    if b["PAY"] >= HUGE:
        raise Unsupported("values too large for this baseline's HUGEINT path (pay products)")
    return b


# ---------------------------------------------------------------- scoring SQL


class _Levels:
    """Row arithmetic as nested SELECTs: each level adds columns computed from the
    columns of the levels before it (no expression is computed twice)."""

    def __init__(self):
        self.levels: list[list[tuple[str, str]]] = []

    def at(self, k: int, name: str, expr: str) -> str:
        while len(self.levels) <= k:
            self.levels.append([])
        self.levels[k].append((name, expr))
        return name

    def render(self, source: str, keep: list[str]) -> str:
        sql = source
        for cols in self.levels:
            adds = ", ".join(f"{e} AS {n}" for n, e in cols)
            sql = f"SELECT *, {adds} FROM ({sql})"
        return f"SELECT {', '.join(keep)} FROM ({sql})"


def _digits(bound: int, lim: int) -> int:
    """The most decimal digits d (at most 20) with bound × 10^d <= lim."""
    d = 0
    while d < 20 and bound * 10 ** (d + 1) <= lim:
        d += 1
    return d


def _long_division(lv: _Levels, k: int, tag: str, num: str, den: str,
                   num_max: int, den_max: int) -> tuple[str, str, int]:
    """floor(num × 10^20 / den) as a HUGEINT expression, and the column holding the
    remainder (over den), for 0 <= num <= num_max and 0 < den <= den_max: the first
    step takes as many digits as num × 10^d allows, each further step as many as
    remainder × 10^d < den × 10^d allows - in BIGINT when the bounds keep it there
    (HUGEINT division is slow in DuckDB), else in HUGEINT. Returns (floor, remainder
    column, next free level)."""
    narrow = num_max * 10 <= BIG and den_max * 10 <= BIG
    typ, lim = ("BIGINT", BIG) if narrow else ("HUGEINT", HUGE)
    step = _digits(den_max, lim)
    if step == 0:
        raise Unsupported(f"divisor too large for this baseline's integer path ({tag})")
    first = _digits(num_max, lim)
    x = num if narrow else f"CAST({num} AS HUGEINT)"
    t = f"{x} * CAST({10 ** first} AS {typ})" if first else x
    lv.at(k, f"{tag}_q1", f"{t} // {den}")
    lv.at(k, f"{tag}_r1", f"{t} % {den}")
    done, i = first, 1
    parts = [(f"{tag}_q1", first)]
    while done < 20:
        d = min(step, 20 - done)
        done += d
        i += 1
        k += 1
        t = f"{tag}_r{i - 1} * CAST({10 ** d} AS {typ})"
        lv.at(k, f"{tag}_q{i}", f"{t} // {den}")
        lv.at(k, f"{tag}_r{i}", f"{t} % {den}")
        parts.append((f"{tag}_q{i}", done))
    floor = " + ".join(f"CAST({q} AS HUGEINT) * {10 ** (20 - at)}" if at < 20 else q
                       for q, at in parts)
    return floor, f"{tag}_r{i}", k + 1


def _dec(expr: str, places: int, small: bool = False) -> str:
    """The integer `expr` in units of 10^-places as DECIMAL(38, places), exactly (DECIMAL
    × DECIMAL is exact in DuckDB, and checked: DECIMAL(38, 0) × DECIMAL(p, p) is
    DECIMAL(38, p)). `small`: the bounds prove |expr| < 10^18, and 64 bits do (faster)."""
    unit = f"CAST('0.{'0' * (places - 1)}1' AS DECIMAL({places}, {places}))"
    if small:
        return f"CAST(CAST({expr} AS DECIMAL(18, 0)) * {unit} AS DECIMAL(38, {places}))"
    return f"(CAST({expr} AS DECIMAL(38, 0)) * {unit})"


def _score_sql(cols: _Cols, b: dict, rank_patch: bool = False, exact_parts: bool = False):
    """The two scoring statements: every record's values, in input order (the team
    table joined back, then row arithmetic), and the ranks and streaks over them. With
    `exact_parts`, one query for every record's exact score parts (tid, Bx, Sn, D) -
    for the exact ranking of teams whose ranks the SQL could not prove."""
    wide = b["money_wide"]
    s2 = {n: cols.scaled(n, 2, wide) for n in ("avg_response", *POINTS10, *MONEY)}
    s0 = {n: cols.scaled(n, 0) for n in COUNTS}
    typed = ", ".join([f"{v} AS {k}" for k, v in s2.items()] + [f"{v} AS {k}" for k, v in s0.items()])
    # (a HUGEINT column comes back from Arrow as DECIMAL(38, 0))
    tsales = "g.tsales" if b["SS"] <= BIG else "CAST(g.tsales AS HUGEINT)"
    rows = f"""
        SELECT t.__rn AS rn, t.agent, g.tid, g.ord, {typed},
               {_text('role')} = 'aftersales_specialist' AS spec,
               g.gmax, {tsales} AS tsales, g.Am, g.nm
        FROM {TABLE} AS t JOIN {GTABLE} AS g ON t.period = g.period AND t.team = g.team"""

    lv = _Levels()
    lv.at(0, "response", "CAST(greatest((CASE WHEN avg_response <= 2500 THEN 10 ELSE 0 END) - "
          "(CASE WHEN unreplied = 0 THEN 0 WHEN unreplied <= 5 THEN 2 ELSE 10 END), 0) AS BIGINT)")
    lv.at(0, "aftersales", "CAST(CASE WHEN spec THEN 30 ELSE least(3 * returns_handled, 30) END "
          "AS BIGINT)")
    lv.at(0, "csat", "inquiries > 0 AND 25 * paid_buyers >= 15 * inquiries")
    lv.at(0, "zaov", "nm = 0 OR Am = 0")
    lv.at(0, "ssum", "skill_warehouse + skill_ops + skill_supervisor")
    lv.at(0, "has_sales", "tsales > 0")
    lv.at(1, "cfrac", "inquiries > 0 AND NOT csat")
    lv.at(1, "aterm", "paid_items > 0 AND NOT zaov")
    lv.at(1, "d_rv", "CASE WHEN gmax > 0 THEN gmax ELSE 1 END")
    lv.at(1, "n_rv", "CASE WHEN gmax > 0 THEN 10 * good_reviews ELSE 0 END")
    lv.at(1, "n_sh", "CASE WHEN has_sales THEN sales ELSE 0 END")
    lv.at(1, "d_sh", "CASE WHEN has_sales THEN tsales ELSE 1 END")
    lv.at(1, "base_int", "response + aftersales - 2 * late_aftersales + "
          "(CASE WHEN csat THEN 15 ELSE 0 END)")
    # skills = ssum / 300: ssum·10^20/300 = ssum·10^18/3, and 10^18 = 3·333…3 + 1
    lv.at(1, "sk_a", "ssum // 3")
    lv.at(1, "sk_r", "ssum % 3")
    lv.at(1, "amp", "CASE WHEN zaov THEN 1 ELSE Am END")
    lv.at(2, "qa", "CASE WHEN aterm THEN paid_items ELSE 1 END")
    ta = "BIGINT" if b["A"] * b["N"] <= BIG else "HUGEINT"
    tn = "BIGINT" if 15 * b["A"] * b["N"] <= BIG else "HUGEINT"
    lv.at(2, "d_av", f"CASE WHEN aterm THEN CAST(paid_items AS {ta}) * Am ELSE amp END")
    lv.at(2, "n_av", f"CASE WHEN aterm THEN CAST(paid_amount AS {tn}) * 15 * nm ELSE 0 END")
    lv.at(2, "d_cv", "CASE WHEN cfrac THEN inquiries ELSE 1 END")
    lv.at(2, "n_cv", "CASE WHEN cfrac THEN 25 * paid_buyers ELSE 0 END")
    # pay, in cents
    W = "BIGINT" if b["PAY"] <= BIG else "HUGEINT"
    lv.at(1, "perf", f"CASE WHEN has_sales THEN (2 * CAST(bonus_pool AS {W}) * sales + tsales) "
          f"// (2 * CAST(tsales AS {W})) ELSE 0 END")
    lv.at(1, "pub", f"CASE WHEN has_sales THEN (10 * CAST(public_sales AS {W}) * sales "
          f"+ 1000 * CAST(tsales AS {W})) // (2000 * CAST(tsales AS {W})) ELSE 0 END")
    lv.at(2, "m_part", "(perf + 1) // 2")
    lv.at(2, "dq", "(2 * perf + 5) // 10")
    # the fractions, by long division
    fl_rv, r_rv, k1 = _long_division(lv, 2, "rv", "n_rv", "d_rv", 10 * b["G"], b["G"])
    fl_sh, r_sh, k2 = _long_division(lv, 2, "sh", "n_sh", "d_sh", b["S"], b["TS"])
    fl_av, r_av, k3 = _long_division(lv, 3, "av", "n_av", "d_av", 15 * b["A"] * b["N"],
                                     b["A"] * b["N"])
    fl_cv, r_cv, k4 = _long_division(lv, 3, "cv", "n_cv", "d_cv", 25 * b["PB"], b["I"])
    k = max(k1, k2, k3, k4)
    H = "CAST({} AS HUGEINT)".format
    lv.at(k, "sk_fl", f"{H('sk_a')} * {10 ** 18} + sk_r * 333333333333333333")
    for tag, fl in (("rv", fl_rv), ("av", fl_av), ("cv", fl_cv), ("sh", fl_sh)):
        lv.at(k, f"{tag}_fl", fl)
    # score·10^20 = Bx + Sn / D, 0 <= Sn / D < 4 (the four remainders over D = Π dens)
    R = "BIGINT" if 9 * b["D"] <= BIG else "HUGEINT"
    C = f"CAST({{}} AS {R})".format
    lv.at(k, "D", f"{C('d_rv')} * d_av * d_cv * 3")
    lv.at(k, "q", f"{C('qa')} * d_cv")
    lv.at(k, "Sn", f"{C('sk_r')} * d_rv * d_av * d_cv + {C(r_rv)} * 3 * d_av * d_cv"
          f" + {C(r_av)} * 3 * d_rv * d_cv + {C(r_cv)} * 3 * d_rv * d_av")
    lv.at(k + 1, "Bx", f"{H('base_int')} * {10 ** 20} + {H('attitude')} * {10 ** 18}"
          " + sk_fl + rv_fl + av_fl + cv_fl")
    lv.at(k + 1, "g4", "(2 * Sn + D) // (2 * D)")
    lv.at(k + 2, "score20", "greatest(Bx + g4, 0)")
    lv.at(k + 2, "z", f"CASE WHEN Bx > 0 THEN false WHEN Bx <= -4 THEN true "
          f"ELSE {H('Sn')} <= -Bx * D END")
    # what the exact tie check needs of a record: q, Sn, g4, z (and D); packed into one
    # BIGINT when the bounds allow (Sn < 4·D)
    if b["pack"]:
        lv.at(k + 3, "tie", "Sn * 16 + g4 * 2 + CAST(z AS INTEGER)")
    else:
        lv.at(k + 3, "tie", "{'s': Sn, 'g': CAST(g4 AS INTEGER), 'z': z}")

    small_pay = b["PAY"] < 10 ** 18   # every amount in cents, pay_monthly included

    def rounded(tag, r, d):
        return f"{tag}_fl + CAST(2 * {r} >= {d} AS INTEGER)"

    outs = {
        "response": "response",
        "attitude_item": _dec("attitude", 2, small=True),
        "reviews": _dec(rounded("rv", r_rv, "d_rv"), 20),
        "aov": _dec(rounded("av", r_av, "d_av"), 20),
        "conversion": _dec(f"CASE WHEN csat THEN CAST({15 * 10 ** 20} AS HUGEINT) ELSE "
                           f"{rounded('cv', r_cv, 'd_cv')} END", 20),
        "aftersales": "aftersales",
        "skills": _dec("sk_fl + CAST(sk_r = 2 AS INTEGER)", 20),
        "score": _dec("score20", 20),
        "share": _dec(rounded("sh", r_sh, "d_sh"), 20),
        "performance_pay": _dec("perf", 2, small_pay),
        "public_commission": _dec("pub", 2, small_pay),
        "pay_month_part": _dec("m_part", 2, small_pay),
        "deferred_quarterly": _dec("dq", 2, small_pay),
        "deferred_annual": _dec("perf - m_part - dq", 2, small_pay),
    }
    if exact_parts:
        x = lv.render(rows, ["rn", "tid", "Bx", "Sn", "D"])
        return f"WITH x AS ({x}) SELECT rn, tid, Bx, Sn, D FROM x"
    keep = ["rn", "agent", "tid", "ord", "q", "tie", "D",
            f"CAST(position_wage AS {W}) + m_part + pub AS pay0",
            *(f"{e} AS {o}" for o, e in outs.items())]
    x = lv.render(rows, keep)

    # rank: rank() on the exact rounded score. Rounding is monotone, so only peers (equal
    # rounded scores) can differ; each row after the first of its peers is compared
    # exactly with the one before it (lag): equal when both are <= 0 (z), or when
    # (g4' - g4)·D·q' + Sn·q' - Sn'·q = 0 (D = C·q, C common to the team; for scores
    # > 0, Bx = score20 - g4).
    def unpack(t):
        if b["pack"]:
            return (f"CAST({t} >> 4 AS HUGEINT)", f"CAST(({t} >> 1) & 7 AS HUGEINT)",
                    f"(({t} & 1) = 1)")
        return (f"CAST({t}.s AS HUGEINT)", f"CAST({t}.g AS HUGEINT)", f"{t}.z")

    S1, g1, z1 = unpack("tie")
    S0, g0, z0 = unpack("(lag(tie) OVER w)")
    q1, q0 = "CAST(q AS HUGEINT)", "CAST(lag(q) OVER w AS HUGEINT)"
    same = (f"(CASE WHEN {z1} AND {z0} THEN true WHEN {z1} OR {z0} THEN false "
            f"ELSE ({g0} - {g1}) * CAST(D AS HUGEINT) * {q0} + {S1} * {q0} - {S0} * {q1} = 0 END)")
    rank = "rank() OVER w"
    patch_join = ""
    if rank_patch:
        rank = "coalesce(rp.rank, rank() OVER w)"
        patch_join = "LEFT JOIN __rank_patch AS rp USING (rn)"
    x_cols = ["rn", "agent", "tid", "ord", "q", "tie", "D", "pay0",
              *(o for o in OUTPUTS if o in outs)]
    rows_sql = f"""
        WITH x AS ({x})
        SELECT {', '.join(x_cols)} FROM x ORDER BY rn"""
    # (the score's DECIMAL(38, 20) orders as score20 does; HUGEINT columns come back from
    # Arrow as DECIMAL(38, 0), and are only cast where the tie check needs them)
    k_cte = f"""
        SELECT rn, agent, ord, pay0, CAST({rank} AS BIGINT) AS rank,
               CASE WHEN row_number() OVER w <> rank() OVER w THEN NOT {same} ELSE false END
               AS __rbad
        FROM {XTABLE} AS x {patch_join}
        WINDOW w AS (PARTITION BY tid ORDER BY score DESC)"""
    streak = "(CASE WHEN s.rn IS NULL THEN 0 ELSE 300 END)"
    ranks_sql = f"""
        WITH k AS MATERIALIZED ({k_cte}),
        f AS MATERIALIZED (SELECT rn, agent, ord FROM k WHERE rank = 1),
        s AS (SELECT f0.rn FROM f AS f0
              SEMI JOIN f AS f1 ON f1.agent = f0.agent AND f1.ord = f0.ord - 1
              SEMI JOIN f AS f2 ON f2.agent = f0.agent AND f2.ord = f0.ord - 2)
        SELECT k.__rbad, k.rank, CAST({streak} AS BIGINT) AS streak_bonus,
               {_dec(f"pay0 + 100 * {streak}", 2, small_pay)} AS pay_monthly
        FROM k LEFT JOIN s USING (rn)
        ORDER BY rn"""
    return rows_sql, ranks_sql


# ---------------------------------------------------------------- entry point


def score_frame(frame: pl.DataFrame) -> pl.DataFrame:
    frame, issues = prepare(frame, KINDS)
    if any(i.index is None for i in issues):
        raise BatchError(issues)
    check_scales(frame, SCALES)
    cols = _Cols(frame.schema)
    table = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    table = table.append_column("__rn", pa.array(np.arange(frame.height, dtype=np.int64)))
    with _LOCK:
        _CON.register(TABLE, table)
        try:
            st = _validate(cols)
            if issues or st["bad"]:
                raise BatchError(issues + _describe(cols, _good_periods(_all_periods())))
            b = _bounds(st)
            differs, ts, periods = _teams(cols, b)
            good = _good_periods(periods)
            if differs or len(good) != len(periods):
                raise BatchError(_describe(cols, good))
            out = _score(cols, _with_teams(b, ts))
        except duckdb.OutOfRangeException as e:  # an integer overflow the bounds missed
            raise Unsupported(f"values too large for this baseline: {e}") from e
        finally:
            for name in (TABLE, GTABLE):
                try:
                    _CON.unregister(name)
                except Exception:  # noqa: BLE001 - not registered
                    pass
    return frame.select("agent", "period").hstack(out.get_columns())


def _score(cols: _Cols, b: dict) -> pl.DataFrame:
    """Every record's values (ordered by row number), registered back as Arrow (no
    copy) for the statement that ranks them and finds the streaks (ordered likewise);
    the two results side by side."""
    rows_sql, ranks_sql = _score_sql(cols, b)
    rows = _CON.sql(rows_sql).to_arrow_table()
    _CON.register(XTABLE, rows)
    try:
        ranked = _CON.sql(ranks_sql).pl()
        if _FORCE_RANK_FIX or ranked.get_column("__rbad").any():
            _CON.register("__rank_patch", _exact_ranks(cols, b, ranked, rows).to_arrow())
            try:
                ranked = _CON.sql(_score_sql(cols, b, rank_patch=True)[1]).pl()
            finally:
                _CON.unregister("__rank_patch")
    finally:
        _CON.unregister(XTABLE)
    x = pl.from_arrow(rows, rechunk=False)
    return pl.concat([x, ranked], how="horizontal").select(OUTPUTS)


def _exact_ranks(cols: _Cols, b: dict, res: pl.DataFrame, rows) -> pl.DataFrame:
    """Teams where two neighbours' rounded scores are equal but not proved equal
    exactly: rank them with exact fractions, max(Bx + Sn/D, 0)."""
    parts = _CON.sql(_score_sql(cols, b, exact_parts=True)).pl()
    if not _FORCE_RANK_FIX:
        rn = pl.from_arrow(rows.select(["rn"])).get_column("rn")
        bad = parts.join(pl.DataFrame({"rn": rn.filter(res.get_column("__rbad"))}), on="rn",
                         how="semi")
        parts = parts.join(bad.select("tid").unique(), on="tid", how="semi")
    groups: dict = {}
    for rn, tid, Bx, Sn, D in parts.iter_rows():
        value = max(Fraction(int(Bx)) + Fraction(int(Sn), int(D)), 0)  # score·10^20
        groups.setdefault(tid, []).append((rn, value))
    fixed = {}
    for members in groups.values():
        for rn, v in members:
            fixed[rn] = 1 + sum(1 for _, w in members if w > v)
    return pl.DataFrame({"rn": list(fixed), "rank": list(fixed.values())},
                        schema={"rn": pl.Int64, "rank": pl.Int64})
