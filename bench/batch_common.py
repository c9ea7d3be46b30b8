"""What the batch baselines share: errors, reading typed columns as scaled integers.

Every baseline works on *scaled integers*: a decimal column with `s` places is
read as its unscaled integers (``Decimal(38, s)`` reinterpreted as ``Int128``),
brought to the scheme's working scale (percent 4 places, money/points/durations
2) and computed on with integer arithmetic only; outputs go back to
``Decimal(38, s)`` columns by reinterpreting integers, never through floats or
Polars' decimal division (which rounds to the operands' scale: 1.25 × 0.0301 is
0.0376 in Polars 2.1, and 1235 / 100 is 12).

A bad batch raises ``BatchError`` whose ``issues`` are ``Issue(index, field,
reason)`` (index 0-based; None when a whole column is wrong), like policyc's
``RecordError``: nothing is scored.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

import polars as pl

PERIOD_RE = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"


class Issue(NamedTuple):
    index: int | None
    field: str
    reason: str


class BatchError(ValueError):
    """Bad records: every problem found, nothing scored."""

    def __init__(self, issues):
        self.issues = list(issues)
        shown = "; ".join(
            f"{'all records' if i.index is None else f'record {i.index}'}: field {i.field!r}: {i.reason}"
            for i in self.issues[:5]
        )
        more = f" (and {len(self.issues) - 5} more)" if len(self.issues) > 5 else ""
        super().__init__(f"{len(self.issues)} problem(s): {shown}{more}")


class Unsupported(Exception):
    """Input this baseline was not written for (not a bad record): e.g. more decimal
    places than its working scale, or magnitudes beyond its integer width."""


INT_TYPES = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)
FLOAT_TYPES = (pl.Float32, pl.Float64)


def is_int(dtype) -> bool:
    return dtype in INT_TYPES


def is_text(dtype) -> bool:
    return dtype == pl.String or dtype == pl.Categorical or isinstance(dtype, pl.Enum)


def float_to_decimal(series: pl.Series) -> pl.Series:
    """A float column read the way policyc reads a float: by its shortest text
    (``Decimal(repr(x))``). NaN and infinities become null (reported separately).
    The slow path: frames of this benchmark never have float columns."""
    vals = []
    places = 0
    for v in series.to_list():
        if v is None or v != v or v in (float("inf"), float("-inf")):
            vals.append(None)
            continue
        d = Decimal(repr(v))
        places = max(places, -d.as_tuple().exponent)
        vals.append(d)
    return pl.Series(series.name, vals, dtype=pl.Decimal(38, min(max(places, 0), 38)))


def nonfinite_float_mask(series: pl.Series) -> pl.Series:
    return series.is_nan() | series.is_infinite()


def check_scales(frame: pl.DataFrame, scales: dict[str, int]) -> None:
    """Raise Unsupported if a Decimal column has values with more places than the
    working scale given for it (trailing zeros are fine: 0.0500 at 2 places)."""
    for name, scale in scales.items():
        if name not in frame.columns:
            continue
        dt = frame.schema[name]
        if isinstance(dt, pl.Decimal) and dt.scale > scale:
            step = pl.lit(10 ** (dt.scale - scale), dtype=pl.Int128)
            rest = frame.select((pl.col(name).reinterpret(dtype=pl.Int128) % step != 0).any())
            if rest.item():
                raise Unsupported(
                    f"column {name!r} has values with more than {scale} decimal places"
                )


def scaled(name: str, dtype, scale: int, *, out=pl.Int64) -> pl.Expr:
    """Column `name` (integers or Decimal of type `dtype`) as integers in units of
    10**-scale (check_scales first). A value too large for `out` becomes null: the
    caller treats null as missing or out of range, which such a value is."""
    c = pl.col(name)
    if isinstance(dtype, pl.Decimal):
        raw = c.reinterpret(dtype=pl.Int128)
        if dtype.scale < scale:
            raw = raw * pl.lit(10 ** (scale - dtype.scale), dtype=pl.Int128)
        elif dtype.scale > scale:
            raw = raw // pl.lit(10 ** (dtype.scale - scale), dtype=pl.Int128)
        return raw.cast(out, strict=False)
    if is_int(dtype):
        if scale == 0:
            return c.cast(out, strict=False)
        return (c.cast(pl.Int128) * pl.lit(10 ** scale, dtype=pl.Int128)).cast(out, strict=False)
    raise TypeError(f"column {name!r}: {dtype} is not a number column")


def decimal_column(unscaled: pl.Expr, scale: int) -> pl.Expr:
    """Integers in units of 10**-scale as a Decimal(38, scale) column, exactly."""
    return unscaled.cast(pl.Int128).reinterpret(dtype=pl.Decimal(38, scale))


def python_value(v):
    """An output cell as policyc's API would give it (Decimal stays Decimal)."""
    return v


def prepare(frame: pl.DataFrame, kinds: dict[str, str]) -> tuple[pl.DataFrame, list[Issue]]:
    """Check the frame's columns against the inputs' kinds; return the frame with
    float columns read as decimals, and the issues found so far.

    `kinds` maps every field (agent, period and each input) to "text", "label",
    "count" or "number". A missing or unknown column, or a column of a type that
    cannot hold the field (a boolean for a count, text for a number), is an issue
    of every record (index None). Float columns are read by their shortest text;
    NaN and infinities are issues of their records.
    """
    issues: list[Issue] = []
    for name in kinds:
        if name not in frame.columns:
            issues.append(Issue(None, name, "missing field"))
    for name in frame.columns:
        if name not in kinds:
            issues.append(Issue(None, name, "unknown field (not an input of this policy)"))
    replace = []
    for name, kind in kinds.items():
        if name not in frame.columns:
            continue
        dt = frame.schema[name]
        if dt == pl.Null:
            issues.append(Issue(None, name, "missing field"))
        elif kind in ("text", "label"):
            if not is_text(dt):
                issues.append(Issue(None, name, f"wrong type: {dt} is not text"))
        elif dt in FLOAT_TYPES:
            s = frame.get_column(name)
            bad = nonfinite_float_mask(s)
            for i in bad.arg_true().to_list():
                v = s[i]
                issues.append(Issue(i, name, "NaN is not a number" if v != v else
                                    "infinity is not a number"))
            replace.append(float_to_decimal(s))
        elif not (isinstance(dt, pl.Decimal) or is_int(dt)):
            issues.append(Issue(None, name, f"wrong type: {dt} is not a number"))
    if replace:
        frame = frame.with_columns(replace)
    return frame, issues


def describe(lf: pl.LazyFrame, flags) -> list[Issue]:
    """Every (record, field, reason) whose flag is true; `flags` is a list of
    (field, boolean expression over lf, reason). The slow path, for bad batches."""
    cols = lf.select([e.fill_null(False).alias(f"__flag{k}") for k, (_, e, _) in enumerate(flags)])
    return flagged_issues(cols.collect(), flags, "__flag{}")


def flagged_issues(frame: pl.DataFrame, flags, column: str) -> list[Issue]:
    """The issues of a frame of boolean flag columns (`column.format(k)` for flag k, row i
    = record i), sorted by record and field."""
    issues = []
    for k, (field, _, reason) in enumerate(flags):
        for i in frame.get_column(column.format(k)).arg_true().to_list():
            issues.append(Issue(i, field, reason))
    issues.sort(key=lambda x: (x.index, x.field))
    return issues


def any_flag(flags) -> pl.Expr:
    return pl.any_horizontal([e.fill_null(False) for _, e, _ in flags]).alias("__bad")


def label_points(name: str, mapping: dict) -> pl.Expr:
    """A label column mapped through `mapping`; null for an unknown label or null.
    (A when/then chain of string comparisons: 2.5x faster than replace_strict here.)"""
    c = pl.col(name)
    expr = None
    for label, value in mapping.items():
        expr = (pl.when(c == label) if expr is None else expr.when(c == label)).then(
            pl.lit(value, dtype=pl.Int64))
    return expr.otherwise(pl.lit(None, dtype=pl.Int64))


def duplicate_flag() -> pl.Expr:
    """True for every record after the first for its agent and period."""
    return pl.struct("agent", "period").is_first_distinct().not_()


def key_flags(frame: pl.DataFrame, keys=("agent", "period"), period_re: str = PERIOD_RE):
    """Flags for agent, period and duplicates (`keys` ends with the period),
    cheap when the batch is clean.

    One pre-pass decides which row checks are needed: records grouped by period
    label, with the number of distinct hashes of the other keys in each group -
    if every record of a period has its own hash, no two share the keys (equal
    keys hash equal), else the exact `is_first_distinct` check runs; and the
    period labels themselves, checked with the regular expression in Python -
    only if one is bad (or null) are the rows checked. Both answers are exact;
    only work is skipped. (Grouping by period first keeps each hash table small:
    at 10^7 records this is about twice as fast as one global n_unique.)"""
    import re

    hashed = pl.col(keys[0]).hash(1)
    for k, key in enumerate(keys[1:-1], start=2):
        hashed = hashed ^ pl.col(key).hash(k)
    pre = (frame.lazy().group_by(pl.col(keys[-1]).cast(pl.String).alias("__p"))
           .agg(hashed.n_unique().alias("__u"), pl.len().alias("__n")).collect())
    distinct = bool((pre.get_column("__u") == pre.get_column("__n")).all())
    periods = pre.get_column("__p").to_list()
    flags = [("agent", pl.col("agent").is_null()
              | (pl.col("agent").cast(pl.String).str.len_bytes() == 0),
              "the agent must be a non-empty text")]
    rx = re.compile(period_re)
    good = [p for p in periods if p is not None and rx.fullmatch(p)]  # (`$` alone lets a final \n through)
    if len(good) != len(periods):
        flags.append(("period", ~pl.col("period").cast(pl.String).is_in(good).fill_null(False),
                      "not a month label like 2026-11"))
    if not distinct:
        flags.append(("period", pl.struct(*keys).is_first_distinct().not_(),
                      "duplicate: the agent already has a record for this period"))
    return flags


def text_flags(period_re: str = PERIOD_RE):
    return [
        ("agent", pl.col("agent").is_null() | (pl.col("agent").cast(pl.String).str.len_bytes() == 0),
         "the agent must be a non-empty text"),
        ("period", pl.col("period").is_null()
         | ~pl.col("period").cast(pl.String).str.contains(period_re),
         "not a month label like 2026-11"),
    ]
