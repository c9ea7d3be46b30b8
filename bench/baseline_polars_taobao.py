"""Hand-written Polars baseline for `taobao_aftersales` (SPEC §3), exact.

What a competent data engineer would write by hand to score a whole frame of
records with Polars, honestly: the same validation as policyc (every input
present and no unknown column; agent a non-empty text, period a month label;
labels; `refund_rate` in [0, 1]; counts whole and >= 0; `standout` 0 or in
[2, 5]; 5 × complaints <= complaint_points <= 20 × complaints; NaN and
infinities refused; no two records for one agent and period) and the same exact
arithmetic, on scaled integers (no floats, no Polars decimal arithmetic):

- refund_rate in ten-thousandths, the two point inputs in hundredths (Int64);
- total in hundredths of a point, clamped to [0, 13000];
- kpi_bonus in cents: 1000 × total / 130 yuan rounded half-up to 0.01 is, with
  T = total in hundredths, floor((20000 T + 1300) / 2600) cents - integer
  division, exact for every total;
- outputs as Int64 (whole-number outputs), Boolean (`qualified`) and
  Decimal(38, 2) (`total`, `kpi_bonus`, `salary`), by reinterpreting integers.

`score_frame(frame) -> pl.DataFrame` returns agent, period and the 11 outputs,
one row per record in input order, or raises `BatchError` (every problem:
record index, field, reason) and scores nothing. Frames of the schema
`gen_records.TAOBAO_SCHEMA` (String or Categorical labels; any integer or
Decimal number column; float columns are read by their shortest text).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_common import (  # noqa: E402
    BatchError,
    Unsupported,
    any_flag,
    check_scales,
    decimal_column,
    describe,
    key_flags,
    label_points,
    prepare,
    scaled,
)

GRADE = {"优": 20, "良": 15, "中": 10, "差": 0}
BASE = {"normal": 2000, "senior": 2500, "lead": 3000}
COUNTS = ("late", "leave", "absent", "low_reviews", "complaints", "praises")
KINDS = {
    "agent": "text", "period": "text", "level": "label",
    "quality_grade": "label", "disputes_grade": "label",
    "cooperation_grade": "label", "execution_grade": "label",
    "refund_rate": "number", **{c: "count" for c in COUNTS},
    "complaint_points": "number", "standout": "number",
}
SCALES = {"refund_rate": 4, "complaint_points": 2, "standout": 2}
OUTPUTS = ("quality", "refund", "disputes", "cooperation", "execution", "attendance",
           "total", "qualified", "kpi_bonus", "base", "salary")
GRADES = {"quality": "quality_grade", "disputes": "disputes_grade",
          "cooperation": "cooperation_grade", "execution": "execution_grade"}


def score_frame(frame: pl.DataFrame) -> pl.DataFrame:
    frame, issues = prepare(frame, KINDS)
    if any(i.index is None for i in issues):
        raise BatchError(issues)
    check_scales(frame, {k: v for k, v in SCALES.items()})
    schema = frame.schema

    # Stage 1: every input as a typed integer (null = missing or unusable).
    typed = [
        scaled("refund_rate", schema["refund_rate"], 4).alias("__rate"),
        scaled("complaint_points", schema["complaint_points"], 2).alias("__cp"),
        scaled("standout", schema["standout"], 2).alias("__so"),
        *(scaled(c, schema[c], 0).alias(f"__{c}") for c in COUNTS),
        *(label_points(g, GRADE).alias(f"__{item}") for item, g in GRADES.items()),
        label_points("level", BASE).alias("__base"),
    ]
    lf = frame.lazy().with_columns(typed)

    rate, cp, so = pl.col("__rate"), pl.col("__cp"), pl.col("__so")
    n = {c: pl.col(f"__{c}") for c in COUNTS}
    flags = key_flags(frame)
    for item, g in GRADES.items():
        flags.append((g, pl.col(f"__{item}").is_null(),
                      "unknown label; expected one of 优, 良, 中, 差"))
    flags.append(("level", pl.col("__base").is_null(),
                  "unknown label; expected one of normal, senior, lead"))
    flags.append(("refund_rate", rate.is_null() | (rate < 0) | (rate > 10000),
                  "missing, or percent outside [0, 1]"))
    for c in COUNTS:
        if isinstance(schema[c], pl.Decimal):  # a count given as a decimal must be whole
            whole = (pl.col(c).reinterpret(dtype=pl.Int128)
                     % pl.lit(10 ** schema[c].scale, dtype=pl.Int128)) == 0
            flags.append((c, ~whole, "not a whole number"))
        flags.append((c, n[c].is_null() | (n[c] < 0), "missing, or a negative count"))
    flags.append(("complaint_points", cp.is_null(), "missing"))
    flags.append(("standout", so.is_null() | ~((so == 0) | ((so >= 200) & (so <= 500))),
                  "missing, or standout not 0 nor in [2, 5]"))
    complaints = n["complaints"]
    flags.append(("complaint_points", ~((cp >= 500 * complaints) & (cp <= 2000 * complaints)),
                  "constraint 5 × complaints ≤ complaint_points ≤ 20 × complaints broken"))

    refund = (pl.when(rate <= 500).then(30).when(rate <= 800).then(20)
              .when(rate <= 1000).then(10).otherwise(0))
    attendance = (20 - 5 * n["late"] - 5 * n["leave"] - 10 * n["absent"]).clip(lower_bound=0)
    points = (pl.col("__quality") + pl.col("__disputes") + pl.col("__cooperation")
              + pl.col("__execution"))
    out = lf.with_columns(refund.alias("refund"), attendance.alias("attendance")).with_columns(
        (100 * (points + pl.col("refund") + pl.col("attendance")
                - 5 * n["low_reviews"] + 2 * n["praises"]) - cp + so)
        .clip(0, 13000).alias("__total"),
    ).with_columns(
        (pl.col("__total") >= 9100).alias("qualified"),
    ).with_columns(
        pl.when(pl.col("qualified")).then((20000 * pl.col("__total") + 1300) // 2600)
        .otherwise(0).alias("__kpi"),
    ).select(
        pl.col("agent"), pl.col("period"),
        pl.col("__quality").alias("quality"),
        pl.col("refund"),
        pl.col("__disputes").alias("disputes"),
        pl.col("__cooperation").alias("cooperation"),
        pl.col("__execution").alias("execution"),
        pl.col("attendance"),
        decimal_column(pl.col("__total"), 2).alias("total"),
        pl.col("qualified"),
        decimal_column(pl.col("__kpi"), 2).alias("kpi_bonus"),
        pl.col("__base").alias("base"),
        decimal_column(100 * pl.col("__base") + pl.col("__kpi"), 2).alias("salary"),
        any_flag(flags),
        # Int64 wraps silently: every product above stays within it while the counts and points
        # stay below 10^15 (in hundredths); beyond, this baseline refuses rather than wraps
        pl.any_horizontal([(x.abs() >= 10 ** 15).fill_null(False) for x in (*n.values(), cp, so)])
        .alias("__huge"),
    ).collect()

    if out.get_column("__huge").any():
        raise Unsupported("counts or points of 10^15 and more are beyond this baseline's Int64 arithmetic")
    if issues or out.get_column("__bad").any():
        raise BatchError(issues + describe(lf, flags))
    return out.drop("__bad", "__huge")
