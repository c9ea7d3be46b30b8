"""Hand-written baseline for `taobao_aftersales` (SPEC.md §3), for bench_per_record.py.

This is what a competent engineer would write by hand to do the same job as the
compiled policy module: the same validation (every input present, no unknown
field, labels, types, ranges, the constraints) and the same exact arithmetic (no
floats anywhere). It is written to be fast but honest: the common case (exact
`int` / `Decimal` inputs) takes an inline fast path, everything else goes
through the general helpers, and nothing the policy checks is skipped.

`score(record) -> dict` returns the 11 outputs by their SPEC names; numbers are
`int` or `decimal.Decimal`, `qualified` is a `bool`. A bad record raises
`ValueError("field 'name': reason")`.

Exactness does not depend on the caller's decimal context: the only `Decimal`
arithmetic goes through `_EXACT` (maximal precision, `Inexact` trapped), and
`Decimal` comparisons are exact in any context.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

__all__ = ["INPUTS", "OUTPUTS", "score"]

INPUTS = (
    "level",
    "quality_grade",
    "disputes_grade",
    "cooperation_grade",
    "execution_grade",
    "refund_rate",
    "late",
    "leave",
    "absent",
    "low_reviews",
    "complaints",
    "praises",
    "complaint_points",
    "standout",
)
OUTPUTS = (
    "quality",
    "refund",
    "disputes",
    "cooperation",
    "execution",
    "attendance",
    "total",
    "qualified",
    "kpi_bonus",
    "base",
    "salary",
)
_FIELDS = ("agent", "period") + INPUTS
_FIELD_SET = frozenset(_FIELDS)
_COUNTS = ("late", "leave", "absent", "low_reviews", "complaints", "praises")

# Exact arithmetic: any result that would need rounding raises instead.
_EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)

# fullmatch + [0-9]: `^\d{4}-(0[1-9]|1[0-2])$` with re.match would also accept
# "2026-11\n" ($ matches before a final newline) and non-ASCII digits (\d).
_PERIOD = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])").fullmatch
_NUMERIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?").fullmatch

_GRADE = {"优": 20, "良": 15, "中": 10, "差": 0}
_GRADE_LABELS = "优, 良, 中, 差"
# level -> (base, base in cents, salary when not qualified = base + 0.00)
_LEVEL = {
    "normal": (2000, 200000, Decimal("2000.00")),
    "senior": (2500, 250000, Decimal("2500.00")),
    "lead": (3000, 300000, Decimal("3000.00")),
}
_LEVEL_LABELS = "normal, senior, lead"

_P05 = Decimal("0.05")
_P08 = Decimal("0.08")
_P10 = Decimal("0.10")
_ZERO_CENTS = Decimal("0.00")


def _fail(name: str, reason: str):
    raise ValueError(f"field {name!r}: {reason}")


def _number(name: str, v):
    """Any accepted number -> int or finite Decimal, else ValueError."""
    if isinstance(v, bool):
        _fail(name, f"expected a number, got {v!r}")
    if isinstance(v, int):
        return int(v)
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, float):
        d = Decimal(repr(v))
    elif isinstance(v, str):
        if _NUMERIC(v) is None:
            _fail(name, f"expected a number, got {v!r}")
        d = Decimal(v)
    else:
        _fail(name, f"expected a number, got {type(v).__name__}")
    if not d.is_finite():
        _fail(name, f"expected a finite number, got {v!r}")
    if not d:
        return 0  # also keeps 0E-999999999 from blowing up the exact arithmetic
    return d


def _count(name: str, v) -> int:
    """Any accepted count -> int >= 0, else ValueError."""
    n = _number(name, v)
    if type(n) is not int:
        if n != n.to_integral_value(context=_EXACT):
            _fail(name, f"expected a whole number, got {v!r}")
        n = int(n)
    if n < 0:
        _fail(name, f"count {v} below 0")
    return n


def _bad_keys(record) -> None:
    keys = record.keys()
    for name in _FIELDS:
        if name not in keys:
            _fail(name, "missing")
    extra = sorted(str(k) for k in keys if k not in _FIELD_SET)
    _fail(extra[0], "unknown field")


def score(record) -> dict:
    if not isinstance(record, Mapping):
        raise TypeError(f"record must be a mapping, got {type(record).__name__}")
    if record.keys() != _FIELD_SET:
        _bad_keys(record)

    v = record["agent"]
    if not isinstance(v, str):
        _fail("agent", f"expected text, got {type(v).__name__}")
    v = record["period"]
    if not isinstance(v, str) or _PERIOD(v) is None:
        _fail("period", f"expected a month label like 2026-11, got {v!r}")

    # Labels. (TypeError: an unhashable value such as a list.)
    v = record["level"]
    try:
        base, base_cents, salary_unqualified = _LEVEL[v]
    except (KeyError, TypeError):
        _fail("level", f"unknown label {v!r}; expected one of {_LEVEL_LABELS}")
    v = record["quality_grade"]
    try:
        quality = _GRADE[v]
    except (KeyError, TypeError):
        _fail("quality_grade", f"unknown label {v!r}; expected one of {_GRADE_LABELS}")
    v = record["disputes_grade"]
    try:
        disputes = _GRADE[v]
    except (KeyError, TypeError):
        _fail("disputes_grade", f"unknown label {v!r}; expected one of {_GRADE_LABELS}")
    v = record["cooperation_grade"]
    try:
        cooperation = _GRADE[v]
    except (KeyError, TypeError):
        _fail("cooperation_grade", f"unknown label {v!r}; expected one of {_GRADE_LABELS}")
    v = record["execution_grade"]
    try:
        execution = _GRADE[v]
    except (KeyError, TypeError):
        _fail("execution_grade", f"unknown label {v!r}; expected one of {_GRADE_LABELS}")

    # Percent in [0, 1]. Fast path: a finite Decimal (what JSON/CSV loaders give).
    rate = record["refund_rate"]
    if type(rate) is not Decimal or not rate.is_finite():
        rate = _number("refund_rate", rate)
    if rate < 0 or rate > 1:
        _fail("refund_rate", f"percent {rate} outside [0, 1]")

    # Counts. Fast path: a plain int >= 0 (type() is not int also excludes bool).
    late = record["late"]
    if type(late) is not int or late < 0:
        late = _count("late", late)
    leave = record["leave"]
    if type(leave) is not int or leave < 0:
        leave = _count("leave", leave)
    absent = record["absent"]
    if type(absent) is not int or absent < 0:
        absent = _count("absent", absent)
    low_reviews = record["low_reviews"]
    if type(low_reviews) is not int or low_reviews < 0:
        low_reviews = _count("low_reviews", low_reviews)
    complaints = record["complaints"]
    if type(complaints) is not int or complaints < 0:
        complaints = _count("complaints", complaints)
    praises = record["praises"]
    if type(praises) is not int or praises < 0:
        praises = _count("praises", praises)

    # Points. Fast path: a plain int, or a finite non-zero Decimal.
    points = record["complaint_points"]
    t = type(points)
    if t is not int and (t is not Decimal or not points.is_finite() or not points):
        points = _number("complaint_points", points)
    standout = record["standout"]
    t = type(standout)
    if t is not int and (t is not Decimal or not standout.is_finite() or not standout):
        standout = _number("standout", standout)
    if standout != 0 and (standout < 2 or standout > 5):
        _fail("standout", f"standout must be 0 or in [2, 5], got {standout}")
    if points < 5 * complaints or points > 20 * complaints:
        _fail(
            "complaint_points",
            "constraint 5 × complaints ≤ complaint_points ≤ 20 × complaints broken: "
            f"complaints = {complaints}, complaint_points = {points}",
        )

    # Items.
    if rate <= _P05:
        refund = 30
    elif rate <= _P08:
        refund = 20
    elif rate <= _P10:
        refund = 10
    else:
        refund = 0
    attendance = 20 - 5 * late - 5 * leave - 10 * absent  # counts >= 0, so <= 20
    if attendance < 0:
        attendance = 0

    # Total: whole-number part in int, the two point inputs exactly.
    total = (
        quality
        + refund
        + disputes
        + cooperation
        + execution
        + attendance
        - 5 * low_reviews
        + 2 * praises
    )
    if type(points) is int and type(standout) is int:
        total = total - points + standout
    else:
        total = _EXACT.add(_EXACT.subtract(total, points), standout)
    if total < 0:
        total = 0
    elif total > 130:
        total = 130

    qualified = total >= 91
    if qualified:
        # kpi_bonus = 1000 × total / 130 yuan = 10000 × total / 13 cents, rounded
        # half-up to a whole cent, in integers: with total = n / d (d > 0, n >= 0),
        # floor(10000 n / (13 d) + 1/2) = (20000 n + 13 d) // (26 d). No decimal
        # division, so no precision to choose and no false tie: this is exact for
        # totals of any number of digits (a fixed 28-digit quotient would not be,
        # since the point inputs may carry arbitrarily many decimals).
        if type(total) is int:
            cents = (20000 * total + 13) // 26
        else:
            n, d = total.as_integer_ratio()
            cents = (20000 * n + 13 * d) // (26 * d)
        kpi_bonus = Decimal(cents).scaleb(-2, _EXACT)
        salary = Decimal(base_cents + cents).scaleb(-2, _EXACT)
    else:
        kpi_bonus = _ZERO_CENTS
        salary = salary_unqualified

    return {
        "quality": quality,
        "refund": refund,
        "disputes": disputes,
        "cooperation": cooperation,
        "execution": execution,
        "attendance": attendance,
        "total": total,
        "qualified": qualified,
        "kpi_bonus": kpi_bonus,
        "base": base,
        "salary": salary,
    }
