"""Hand-written NumPy baseline for `taobao_aftersales` (SPEC §3), exact.

What an engineer who reaches for NumPy would write: columns as arrays, numbers
as int64 *scaled integers* (refund_rate in ten-thousandths, the point inputs in
hundredths, counts as they are), text and labels as NumPy 2 `StringDType`
arrays, and the same validation and arithmetic as policyc:

- labels mapped with one vectorised comparison per label (unknown -> refused);
- agent non-empty; period a month label (length 7, four digits, '-', 01-12),
  checked with `np.strings` slices;
- refund_rate in [0, 1]; counts >= 0; standout 0 or in [2, 5];
  5 × complaints <= complaint_points <= 20 × complaints; a missing value
  (a `None` in the record, a null in the frame) is refused;
- no two records for one agent and period: NumPy has no hash table, so the keys
  are sorted (`np.unique` on agent + period) - the honest NumPy cost;
- total in hundredths clamped to [0, 13000]; kpi_bonus in cents
  floor((20000 T + 1300) / 2600) if T >= 9100; salary = 100 × base + kpi.

`arrays_from_frame(frame)` converts a frame of `gen_records.TAOBAO_SCHEMA`
(outside the timed part: it is the loading a NumPy user does once) into
`{name: ndarray}` plus `{name: null mask}`; `score_arrays(arrays, nulls)` returns
`{output: ndarray}` (int64; `total`, `kpi_bonus`, `salary` in hundredths - see
`SCALES`; `qualified` bool) or raises `BatchError`. `to_rows(result)` gives the
outputs as Python values (int / Decimal / bool) for the checks.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from batch_common import BatchError, Issue, Unsupported, check_scales, prepare, scaled  # noqa: E402,E501

StringDType = np.dtypes.StringDType

GRADE = {"优": 20, "良": 15, "中": 10, "差": 0}
BASE = {"normal": 2000, "senior": 2500, "lead": 3000}
COUNTS = ("late", "leave", "absent", "low_reviews", "complaints", "praises")
LABELS = ("level", "quality_grade", "disputes_grade", "cooperation_grade", "execution_grade")
SCALED = {"refund_rate": 4, "complaint_points": 2, "standout": 2}
FIELDS = ("agent", "period", *LABELS, "refund_rate", *COUNTS, "complaint_points", "standout")
OUTPUTS = ("quality", "refund", "disputes", "cooperation", "execution", "attendance",
           "total", "qualified", "kpi_bonus", "base", "salary")
SCALES = {"total": 2, "kpi_bonus": 2, "salary": 2}  # the others are whole numbers / bool
KINDS = {"agent": "text", "period": "text", **{c: "label" for c in LABELS},
         "refund_rate": "number", **{c: "count" for c in COUNTS},
         "complaint_points": "number", "standout": "number"}


def arrays_from_frame(frame: pl.DataFrame):
    """Frame -> ({name: ndarray}, {name: null mask or None}). Raises BatchError for
    a missing, unknown or wrongly typed column (as the Polars baseline does)."""
    frame, issues = prepare(frame, KINDS)
    if issues:
        raise BatchError(issues)
    check_scales(frame, SCALED)
    arrays, nulls = {}, {}
    for name in FIELDS:
        s = frame.get_column(name)
        nulls[name] = s.is_null().to_numpy() if s.null_count() else None
        dt = s.dtype
        if KINDS[name] in ("text", "label"):
            arrays[name] = np.array(s.cast(pl.String).fill_null("").to_list(), dtype=StringDType())
            continue
        scale = SCALED.get(name, 0)
        if KINDS[name] == "count" and isinstance(dt, pl.Decimal) and dt.scale:
            whole = frame.select((pl.col(name).reinterpret(dtype=pl.Int128)
                                  % pl.lit(10 ** dt.scale, dtype=pl.Int128) == 0).all()).item()
            if not whole:
                raise BatchError([Issue(None, name, "not a whole number")])
        v = frame.select(scaled(name, dt, scale, out=pl.Int64)).to_series()
        if v.null_count() != s.null_count():
            raise Unsupported(f"column {name!r} has values beyond int64")
        arrays[name] = v.fill_null(0).to_numpy()
    return arrays, nulls


def _period_ok(p: np.ndarray) -> np.ndarray:
    ok = np.strings.str_len(p) == 7
    year = np.strings.slice(p, 0, 4)
    month = np.strings.slice(p, 5, 7)
    ok &= np.strings.isdigit(year) & (np.strings.slice(p, 4, 5) == "-")
    ok &= np.isin(month, np.array([f"{m:02d}" for m in range(1, 13)], dtype=StringDType()))
    return ok


def score_arrays(a: dict, nulls: dict | None = None) -> dict:
    n = len(a["agent"])
    nulls = nulls or {}
    flags = []  # (field, bool mask, reason)

    def missing(name):
        m = nulls.get(name)
        return m if m is not None else np.zeros(n, dtype=bool)

    flags.append(("agent", missing("agent") | (np.strings.str_len(a["agent"]) == 0),
                  "the agent must be a non-empty text"))
    flags.append(("period", missing("period") | ~_period_ok(a["period"]),
                  "not a month label like 2026-11"))

    points = {}
    for name, mapping in (("level", BASE), *((g, GRADE) for g in LABELS[1:])):
        col = a[name]
        out = np.full(n, -1, dtype=np.int64)
        for label, value in mapping.items():
            out[col == label] = value
        flags.append((name, missing(name) | (out < 0), "unknown label"))
        points[name] = out

    rate, cp, so = a["refund_rate"], a["complaint_points"], a["standout"]
    flags.append(("refund_rate", missing("refund_rate") | (rate < 0) | (rate > 10000),
                  "missing, or percent outside [0, 1]"))
    for c in COUNTS:
        flags.append((c, missing(c) | (a[c] < 0), "missing, or a negative count"))
    flags.append(("complaint_points", missing("complaint_points"), "missing"))
    flags.append(("standout", missing("standout") | ~((so == 0) | ((so >= 200) & (so <= 500))),
                  "missing, or standout not 0 nor in [2, 5]"))
    complaints = a["complaints"]
    flags.append(("complaint_points", ~((cp >= 500 * complaints) & (cp <= 2000 * complaints)),
                  "constraint 5 × complaints ≤ complaint_points ≤ 20 × complaints broken"))

    # duplicates of (agent, period): sort the joined keys (no hash tables in NumPy)
    key = np.strings.add(np.strings.add(a["agent"], "\x00"), a["period"])
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    if (counts > 1).any():
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        flags.append(("period", dup, "duplicate: the agent already has a record for this period"))

    bad = np.zeros(n, dtype=bool)
    for _, m, _ in flags:
        bad |= m
    if bad.any():
        issues = [Issue(int(i), f, r) for f, m, r in flags for i in np.flatnonzero(m)]
        issues.sort(key=lambda x: (x.index, x.field))
        raise BatchError(issues)

    refund = np.select([rate <= 500, rate <= 800, rate <= 1000], [30, 20, 10], 0)
    attendance = np.maximum(20 - 5 * a["late"] - 5 * a["leave"] - 10 * a["absent"], 0)
    quality, disputes = points["quality_grade"], points["disputes_grade"]
    cooperation, execution = points["cooperation_grade"], points["execution_grade"]
    total = (100 * (quality + disputes + cooperation + execution + refund + attendance
                    - 5 * a["low_reviews"] + 2 * a["praises"]) - cp + so)
    np.clip(total, 0, 13000, out=total)
    qualified = total >= 9100
    kpi = np.where(qualified, (20000 * total + 1300) // 2600, 0)
    base = points["level"]
    return {
        "quality": quality, "refund": refund, "disputes": disputes,
        "cooperation": cooperation, "execution": execution, "attendance": attendance,
        "total": total, "qualified": qualified, "kpi_bonus": kpi, "base": base,
        "salary": 100 * base + kpi,
    }


def to_rows(result: dict) -> list[dict]:
    """The outputs as Python values: int, bool, Decimal for the scaled ones."""
    cols = {}
    for name in OUTPUTS:
        v = result[name]
        if name in SCALES:
            cols[name] = [Decimal(int(x)).scaleb(-SCALES[name]) for x in v]
        elif v.dtype == bool:
            cols[name] = [bool(x) for x in v]
        else:
            cols[name] = [int(x) for x in v]
    return [dict(zip(OUTPUTS, row)) for row in zip(*(cols[o] for o in OUTPUTS))]
