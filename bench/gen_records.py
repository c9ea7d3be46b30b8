"""Seeded, vectorised generation of valid records for the batch benchmarks.

    python bench/gen_records.py taobao 1000000 -o taobao_1e6.parquet
    python bench/gen_records.py team_kpi 1000000 --agents-per-team 8 --periods 6 -o kpi.parquet
    python bench/gen_records.py taobao 1000 -o sample.csv          # CSV (numbers as decimal text)

Two generators return a Polars DataFrame of exactly ``n`` valid records (every
input present and within its domain, every label one of the policy's labels,
every ``require`` line kept, no two records for one agent and period, team-level
inputs equal within each team and month):

- ``taobao_frame(n, seed)`` for ``policies/taobao_aftersales.policy`` (SPEC §3);
- ``team_kpi_frame(n, agents_per_team, periods, seed)`` for
  ``policies/team_kpi_2024.policy`` (SPEC §5): teams of ``agents_per_team``
  agents, each scored over ``periods`` consecutive months (crossing a year),
  so the cost can be measured against records, team size and history length.

The column types are what a data team would really have after reading its
warehouse export or a Parquet file (``SCHEMAS`` below states them):

- text (``agent``, ``period``, ``team``) and labels (``level``, the grades,
  ``role``) as ``pl.String`` - what Parquet/CSV exports give;
  ``labels="categorical"`` gives ``pl.Categorical`` label columns instead;
- counts as ``pl.Int64``;
- decimals as ``pl.Decimal(38, s)``: money, points and durations with 2
  places, percents with 4 (``refund_rate`` 0.0450 = 4.5%). Never floats.

``to_records(frame)`` turns a frame into the list of dicts that
``policyc.load(path).score_batch`` takes (``int``, ``decimal.Decimal``, ``str``,
as a JSON loader with ``parse_float=Decimal`` gives them).

The values reach every branch of both schemes: every refund band and its edges,
attendance and totals floored at 0 and capped at 130, both sides of the 91-point
gate, decimal points; zero denominators (teams with no good reviews, agents with
no paid items or inquiries, teams with no sales), ties in a team's ranking
(1, 2, 2, 4), runs of first places three months long and longer, and months
missing from an agent's history (a gap breaks a run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl

GRADES = ("优", "良", "中", "差")
LEVELS = ("normal", "senior", "lead")
ROLES = ("agent", "aftersales_specialist")

MONEY = pl.Decimal(38, 2)
POINTS = pl.Decimal(38, 2)
DURATION = pl.Decimal(38, 2)
PERCENT = pl.Decimal(38, 4)

TAOBAO_SCHEMA = {
    "agent": pl.String,
    "period": pl.String,
    "level": pl.String,
    "quality_grade": pl.String,
    "disputes_grade": pl.String,
    "cooperation_grade": pl.String,
    "execution_grade": pl.String,
    "refund_rate": PERCENT,
    "late": pl.Int64,
    "leave": pl.Int64,
    "absent": pl.Int64,
    "low_reviews": pl.Int64,
    "complaints": pl.Int64,
    "praises": pl.Int64,
    "complaint_points": POINTS,
    "standout": POINTS,
}

TEAM_KPI_SCHEMA = {
    "agent": pl.String,
    "period": pl.String,
    "team": pl.String,
    "role": pl.String,
    "avg_response": DURATION,
    "unreplied": pl.Int64,
    "attitude": POINTS,
    "good_reviews": pl.Int64,
    "paid_amount": MONEY,
    "paid_items": pl.Int64,
    "inquiries": pl.Int64,
    "paid_buyers": pl.Int64,
    "returns_handled": pl.Int64,
    "skill_warehouse": POINTS,
    "skill_ops": POINTS,
    "skill_supervisor": POINTS,
    "late_aftersales": pl.Int64,
    "sales": MONEY,
    "position_wage": MONEY,
    "bonus_pool": MONEY,
    "public_sales": MONEY,
}

SCHEMAS = {"taobao_aftersales": TAOBAO_SCHEMA, "team_kpi_2024": TEAM_KPI_SCHEMA}
LABEL_COLUMNS = {
    "taobao_aftersales": ("level", "quality_grade", "disputes_grade", "cooperation_grade",
                          "execution_grade"),
    "team_kpi_2024": ("role",),
}


# ---------------------------------------------------------------- helpers


def _decimal(unscaled: np.ndarray, dtype: pl.Decimal) -> pl.Series:
    """An int64 array of unscaled values as a Decimal column, exactly."""
    return pl.Series(unscaled.astype(np.int64)).cast(pl.Int128).reinterpret(dtype=dtype)


def _labels(codes: np.ndarray, labels) -> pl.Series:
    return pl.Series(list(labels), dtype=pl.String).gather(pl.Series(codes.astype(np.uint32)))


def _choice(rng, values, weights, size) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(np.asarray(values, dtype=np.int64), size=size, p=p / p.sum())


def _months(start: str, count: int) -> list[str]:
    y, m = (int(x) for x in start.split("-"))
    out = []
    o = y * 12 + m - 1
    for k in range(count):
        out.append(f"{(o + k) // 12:04d}-{(o + k) % 12 + 1:02d}")
    return out


def _categorical(frame: pl.DataFrame, columns) -> pl.DataFrame:
    return frame.with_columns(pl.col(c).cast(pl.Categorical) for c in columns)


# ---------------------------------------------------------------- taobao_aftersales


def taobao_frame(n: int, seed: int = 0, *, labels: str = "string",
                 months: int = 12, start: str = "2025-01") -> pl.DataFrame:
    """n valid taobao_aftersales records: n / months agents, each in `months` months."""
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = np.random.default_rng(seed)
    i = np.arange(n, dtype=np.int64)

    # refund_rate, unscaled at 4 places: band edges, around the bands, far out.
    r = rng.random(n)
    edges = rng.choice(np.array([500, 800, 1000, 0]), size=n)
    three = rng.integers(0, 121, n) * 10           # 3 decimals, 0 .. 12.0%
    four = rng.integers(0, 1201, n)                # 4 decimals, 0 .. 12.00%
    around = np.where(rng.random(n) < 0.5, three, four)
    far = rng.integers(121, 1001, n) * 10          # 12.1% .. 100%
    rate = np.where(r < 0.05, edges, np.where(r < 0.90, around, far))

    complaints = _choice(rng, (0, 1, 2, 3), (70, 18, 8, 4), n)
    lo, hi = 5 * complaints, 20 * complaints
    points = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
    half = (rng.random(n) < 0.3) & (points < hi) & (complaints > 0)
    points_c = points * 100 + np.where(half, 50, 0)  # hundredths

    s = rng.random(n)
    standout_c = np.where(
        s < 0.7, 0,
        np.where(s < 0.9, rng.integers(2, 6, n) * 100, rng.choice(np.array([250, 350, 450]), n)),
    )
    bad = rng.random(n) < 0.06  # a few very bad months: floors and clamps

    grade_p = (45, 35, 15, 5)
    cols = {
        "agent": pl.select(
            pl.format("A{}", (pl.lit(pl.Series(i)) // months).cast(pl.String).str.zfill(7))
        ).to_series(),
        "period": _labels(i % months, _months(start, months)),
        "level": _labels(rng.integers(0, 3, n), LEVELS),
        "quality_grade": _labels(_choice(rng, (0, 1, 2, 3), grade_p, n), GRADES),
        "disputes_grade": _labels(_choice(rng, (0, 1, 2, 3), grade_p, n), GRADES),
        "cooperation_grade": _labels(_choice(rng, (0, 1, 2, 3), grade_p, n), GRADES),
        "execution_grade": _labels(_choice(rng, (0, 1, 2, 3), grade_p, n), GRADES),
        "refund_rate": _decimal(rate, PERCENT),
        "late": pl.Series(_choice(rng, (0, 1, 2, 3, 6), (60, 20, 10, 6, 4), n)),
        "leave": pl.Series(_choice(rng, (0, 1, 2), (75, 18, 7), n)),
        "absent": pl.Series(_choice(rng, (0, 1, 2, 3), (85, 9, 4, 2), n) + np.where(bad, 2, 0)),
        "low_reviews": pl.Series(
            _choice(rng, (0, 1, 2, 4), (70, 18, 8, 4), n) + np.where(bad, 6, 0)
        ),
        "complaints": pl.Series(complaints),
        "praises": pl.Series(rng.integers(0, 7, n)),
        "complaint_points": _decimal(points_c, POINTS),
        "standout": _decimal(standout_c, POINTS),
    }
    frame = pl.DataFrame({k: v.alias(k) for k, v in cols.items()})
    frame = frame.cast({k: v for k, v in TAOBAO_SCHEMA.items()})
    if labels == "categorical":
        frame = _categorical(frame, LABEL_COLUMNS["taobao_aftersales"])
    elif labels != "string":
        raise ValueError("labels must be 'string' or 'categorical'")
    return frame


# ---------------------------------------------------------------- team_kpi_2024


def team_kpi_frame(n: int, agents_per_team: int = 8, periods: int = 6, seed: int = 0, *,
                   labels: str = "string", start: str = "2024-10",
                   gap_rate: float = 0.02) -> pl.DataFrame:
    """n valid team_kpi_2024 records, month by month (period, then team, then agent).

    ceil(n / (agents_per_team × periods)) teams (one more when months are missing),
    each agent with a record in up to `periods` consecutive months from `start`;
    `gap_rate` of the agent-months are missing (breaking runs of first places).
    The first n records in team order are kept, so a batch is whole teams except
    possibly the last.
    """
    k, P = int(agents_per_team), int(periods)
    if n < 0 or k < 1 or P < 1:
        raise ValueError("n >= 0, agents_per_team >= 1 and periods >= 1 are required")
    rng = np.random.default_rng(seed)
    per_team = k * P
    T = max(1, -(-n // per_team))
    T += max(1, int(T * gap_rate * 2)) if gap_rate > 0 else 0
    shape = (T, P, k)

    def u(lo, hi):  # integers in [lo, hi]
        return rng.integers(lo, hi + 1, size=shape)

    ability = rng.normal(0.0, 1.0, size=(T, 1, k))     # an agent's level, month after month
    noise = rng.normal(0.0, 0.35, size=shape)
    level = ability + noise
    specialist = np.broadcast_to(rng.random((T, 1, k)) < 0.2, shape)

    # avg_response in hundredths of a second: 25.00 and 25.01 s often.
    r = rng.random(shape)
    avg = np.where(r < 0.05, 2500, np.where(r < 0.08, 2501,
                   np.clip(np.round((24 - 4 * level + rng.normal(0, 3, shape)) * 100), 500, 6000)))
    unreplied = np.where(r < 0.6, 0, np.where(r < 0.9, u(1, 5), u(6, 12)))
    unreplied = np.where(rng.random(shape) < 0.6, 0, unreplied)
    attitude = np.clip(np.round((7.5 + 1.2 * level) * 4), 0, 40) * 25   # quarters of a point
    good = np.clip(np.round(40 + 15 * level + rng.normal(0, 5, shape)), 0, None)
    no_reviews = rng.random((T, P, 1)) < 0.02                            # a team-month with none
    good = np.where(no_reviews, 0, good)
    items = np.clip(np.round(150 + 60 * level + rng.normal(0, 30, shape)), 0, None)
    items = np.where((rng.random(shape) < 0.05) | specialist, 0, items)
    price_c = u(5000, 50000)                                             # 50 .. 500 yuan
    amount = items * price_c
    amount = np.where((items == 0) & (rng.random(shape) < 0.2), u(0, 99999), amount)
    inquiries = np.clip(np.round(400 + 100 * level + rng.normal(0, 80, shape)), 0, None)
    inquiries = np.where(rng.random(shape) < 0.05, 0, inquiries)
    frac = np.clip(0.45 + 0.12 * level + rng.normal(0, 0.08, shape), 0, 1)
    buyers = np.minimum(np.floor(inquiries * frac), inquiries)
    buyers = np.where(rng.random(shape) < 0.02, inquiries, buyers)      # equal is allowed
    returns = np.clip(np.round(8 + 3 * level + rng.normal(0, 3, shape)), 0, None)
    skills = [np.clip(np.round((7 + level + rng.normal(0, 0.8, shape)) * 4), 0, 40) * 25
              for _ in range(3)]
    late = np.where(rng.random(shape) < 0.8, 0, u(1, 3))
    late = np.where(rng.random(shape) < 0.01, 60, late)                  # score floored at 0
    sales = np.clip(np.round((30000 + 12000 * level + rng.normal(0, 4000, shape)) * 100), 0, None)
    sales = np.where(rng.random(shape) < 0.03, 0, sales)
    no_sales = rng.random((T, P, 1)) < 0.02                              # a team-month with none
    sales = np.where(no_sales, 0, sales)
    wage = rng.choice(np.array([250000, 280000, 300000, 320000, 350000]), size=(T, 1, k))
    wage = np.broadcast_to(wage, shape)
    pool = np.broadcast_to(rng.integers(500000, 2000001, size=(T, P, 1)), shape)
    public = np.broadcast_to(
        np.where(rng.random((T, P, 1)) < 0.1, 0, rng.integers(0, 50000001, size=(T, P, 1))),
        shape,
    )

    inputs = {
        "avg_response": avg, "unreplied": unreplied, "attitude": attitude,
        "good_reviews": good, "paid_amount": amount, "paid_items": items,
        "inquiries": inquiries, "paid_buyers": buyers, "returns_handled": returns,
        "skill_warehouse": skills[0], "skill_ops": skills[1], "skill_supervisor": skills[2],
        "late_aftersales": late,
    }
    inputs = {name: np.array(v, dtype=np.int64) for name, v in inputs.items()}
    role = np.array(specialist, dtype=np.int64)
    # Ties: in a fifth of the team-months the second agent's results equal the first's.
    if k >= 2:
        tie = rng.random((T, P)) < 0.2
        for v in (*inputs.values(), role):
            v[:, :, 1] = np.where(tie, v[:, :, 0], v[:, :, 1])

    t_idx, p_idx, a_idx = np.indices(shape)
    keep = rng.random(shape) >= gap_rate
    order_team = np.flatnonzero(keep.reshape(-1))[:n]  # team-major flat indexes, first n
    if order_team.size < n:
        raise AssertionError("generator sized its grid too small")  # pragma: no cover
    # month by month, as monthly exports are appended: period, team, agent
    flat_p = p_idx.reshape(-1)[order_team]
    flat_t = t_idx.reshape(-1)[order_team]
    flat_a = a_idx.reshape(-1)[order_team]
    order = np.lexsort((flat_a, flat_t, flat_p))
    sel = order_team[order]

    def col(v):
        return np.asarray(v).reshape(-1)[sel]

    team_no = col(t_idx)
    months = _months(start, P)
    frame = pl.DataFrame({
        "agent": pl.select(
            pl.format("T{}-{}", pl.lit(pl.Series(team_no)).cast(pl.String).str.zfill(6),
                      pl.lit(pl.Series(col(a_idx))).cast(pl.String).str.zfill(3))
        ).to_series(),
        "period": _labels(col(p_idx), months),
        "team": pl.select(
            pl.format("T{}", pl.lit(pl.Series(team_no)).cast(pl.String).str.zfill(6))
        ).to_series(),
        "role": _labels(col(role), ROLES),
        "avg_response": _decimal(col(inputs["avg_response"]), DURATION),
        "unreplied": pl.Series(col(inputs["unreplied"])),
        "attitude": _decimal(col(inputs["attitude"]), POINTS),
        "good_reviews": pl.Series(col(inputs["good_reviews"])),
        "paid_amount": _decimal(col(inputs["paid_amount"]), MONEY),
        "paid_items": pl.Series(col(inputs["paid_items"])),
        "inquiries": pl.Series(col(inputs["inquiries"])),
        "paid_buyers": pl.Series(col(inputs["paid_buyers"])),
        "returns_handled": pl.Series(col(inputs["returns_handled"])),
        "skill_warehouse": _decimal(col(inputs["skill_warehouse"]), POINTS),
        "skill_ops": _decimal(col(inputs["skill_ops"]), POINTS),
        "skill_supervisor": _decimal(col(inputs["skill_supervisor"]), POINTS),
        "late_aftersales": pl.Series(col(inputs["late_aftersales"])),
        "sales": _decimal(col(sales), MONEY),
        "position_wage": _decimal(col(wage), MONEY),
        "bonus_pool": _decimal(col(pool), MONEY),
        "public_sales": _decimal(col(public), MONEY),
    })
    frame = frame.cast(TEAM_KPI_SCHEMA)
    if labels == "categorical":
        frame = _categorical(frame, LABEL_COLUMNS["team_kpi_2024"])
    elif labels != "string":
        raise ValueError("labels must be 'string' or 'categorical'")
    return frame


# ---------------------------------------------------------------- conversions


def to_records(frame: pl.DataFrame) -> list[dict]:
    """The frame as policyc's Python API takes it: dicts of int / Decimal / str."""
    frame = frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
    return frame.to_dicts()


def frame_from_records(records, policy: str) -> pl.DataFrame:
    """Records (dicts, e.g. an acceptance case's) as a frame of the policy's schema.

    A field absent from a record is null in its row; a field that is not an input
    becomes an extra column (so a baseline sees and refuses it). Numbers must fit
    the schema's scale; a value that is not a number of the schema's kind (text
    where a number goes) makes the column a String column, as a loader would.
    """
    from decimal import Decimal

    schema = SCHEMAS[policy]
    names = list(schema)
    for rec in records:
        for key in rec:
            if key not in names:
                names.append(key)
    columns = {}
    for name in names:
        values = [rec.get(name) for rec in records]
        dtype = schema.get(name)
        if dtype is None:
            columns[name] = pl.Series(name, values)
            continue
        if isinstance(dtype, pl.Decimal):
            ok = all(v is None or (not isinstance(v, bool) and isinstance(v, (int, Decimal, float)))
                     for v in values)
            if ok:
                vals = [None if v is None else Decimal(repr(v)) if isinstance(v, float)
                        else Decimal(v) for v in values]
                places = max([-v.as_tuple().exponent for v in vals if v is not None] + [0])
                scale = max(dtype.scale, places)
                columns[name] = pl.Series(name, vals, dtype=pl.Decimal(38, scale))
                continue
        if dtype == pl.Int64:
            if all(v is None or type(v) is int for v in values):
                columns[name] = pl.Series(name, values, dtype=pl.Int64)
                continue
        if dtype == pl.String and all(v is None or isinstance(v, str) for v in values):
            columns[name] = pl.Series(name, values, dtype=pl.String)
            continue
        columns[name] = pl.Series(name, [None if v is None else str(v) for v in values],
                                  dtype=pl.String)
    return pl.DataFrame(columns)


def generate(policy: str, n: int, seed: int = 0, **kw) -> pl.DataFrame:
    if policy in ("taobao", "taobao_aftersales"):
        return taobao_frame(n, seed, **kw)
    if policy in ("team_kpi", "team_kpi_2024"):
        return team_kpi_frame(n, seed=seed, **kw)
    raise ValueError(f"unknown policy {policy!r}")


def write(frame: pl.DataFrame, path: Path) -> None:
    path = Path(path)
    if path.suffix == ".parquet":
        frame.write_parquet(path)
    elif path.suffix == ".csv":
        # decimal text as written (0.0450), labels as text: what policyc score reads
        frame.with_columns(pl.col(pl.Categorical).cast(pl.String)).write_csv(path)
    else:
        raise ValueError("output must end in .parquet or .csv")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Generate valid records for the batch benchmarks.")
    p.add_argument("policy", choices=("taobao", "team_kpi"))
    p.add_argument("n", type=int)
    p.add_argument("-o", "--output", type=Path, required=True, help="FILE.parquet or FILE.csv")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--labels", choices=("string", "categorical"), default="string")
    p.add_argument("--agents-per-team", type=int, default=8)
    p.add_argument("--periods", type=int, default=6)
    args = p.parse_args(argv)
    kw = {"labels": args.labels}
    if args.policy == "team_kpi":
        kw.update(agents_per_team=args.agents_per_team, periods=args.periods)
    frame = generate(args.policy, args.n, args.seed, **kw)
    write(frame, args.output)
    print(f"wrote {frame.height} records to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
