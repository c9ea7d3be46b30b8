"""Types and units: how values combine, and what each input kind means."""

from __future__ import annotations

from fractions import Fraction

import attrs

from ..ir import Dim, Repr, Type

ERROR = Type(kind="error")

INPUT_KINDS = ("count", "percent", "duration", "money", "points", "number", "text", "bool", "grade", "choice")


def input_type(kind: str, labels: tuple[str, ...] = (), optional: bool = False) -> Type:
    """Return the type of an input of the given kind."""
    if kind == "count":
        t = Type(kind="num", repr=Repr.INT, count=True)
    elif kind == "percent":
        t = Type(kind="num", percent=True)
    elif kind == "duration":
        t = Type(kind="num", dim=Dim.TIME)
    elif kind == "money":
        t = Type(kind="num", dim=Dim.MONEY)
    elif kind in ("points", "number"):
        t = Type(kind="num")
    elif kind == "text":
        t = Type(kind="text")
    elif kind == "bool":
        t = Type(kind="bool")
    elif kind in ("grade", "choice"):
        t = Type(kind="label", labels=labels, ordered=(kind == "grade"))
    else:
        raise ValueError(kind)
    return attrs.evolve(t, optional=optional)


def literal_type(value: Fraction, unit: str | None) -> Type:
    """Return the type of a number literal as written."""
    if value.denominator == 1:
        repr_ = Repr.INT
    elif terminates(value):
        repr_ = Repr.DEC
    else:
        repr_ = Repr.RAT
    if unit in ("s", "min", "h"):
        return Type(kind="num", dim=Dim.TIME, repr=repr_)
    if unit == "%":
        return Type(kind="num", repr=repr_, percent=True)
    return Type(kind="num", repr=repr_, free=True)


def terminates(value: Fraction) -> bool:
    """True if the rational has a finite decimal expansion."""
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


class UnitError(Exception):
    pass


def join_num(a: Type, b: Type) -> Type:
    """The type of a value that may be either a or b (sum, comparison, branches)."""
    if a.kind == "error" or b.kind == "error":
        return ERROR
    if a.free and not b.free:
        dim = b.dim
    elif b.free and not a.free:
        dim = a.dim
    else:
        if a.dim is not b.dim:
            raise UnitError(f"{a.describe()} and {b.describe()} have different units")
        dim = a.dim
    return Type(
        kind="num",
        dim=dim,
        repr=max(a.repr, b.repr),
        free=a.free and b.free,
        count=_count_join(a, b),
        percent=a.percent and b.percent,
        optional=a.optional or b.optional,
    )


def _count_join(a: Type, b: Type) -> bool:
    """A sum of counts (and whole literals) is a count."""
    lit_a = a.free and a.repr is Repr.INT
    lit_b = b.free and b.repr is Repr.INT
    return (a.count or lit_a) and (b.count or lit_b) and (a.count or b.count)


def mul_type(a: Type, b: Type) -> Type:
    """The type of a × b."""
    if a.kind == "error" or b.kind == "error":
        return ERROR
    if a.dim is not Dim.NONE and b.dim is not Dim.NONE:
        raise UnitError(f"multiplying {a.describe()} by {b.describe()} gives a unit policies do not have")
    dim = a.dim if a.dim is not Dim.NONE else b.dim
    return Type(kind="num", dim=dim, repr=max(a.repr, b.repr),
                free=dim is Dim.NONE and (a.free or b.free))


def div_type(a: Type, b: Type, exact_reciprocal: bool) -> Type:
    """The type of a ÷ b."""
    if a.kind == "error" or b.kind == "error":
        return ERROR
    if b.dim is Dim.NONE:
        dim, free = a.dim, a.dim is Dim.NONE and (a.free or b.free)
    elif a.dim is b.dim:
        dim, free = Dim.NONE, False
    elif a.free and a.dim is Dim.NONE:
        raise UnitError(f"dividing a number by {b.describe()} gives a unit policies do not have")
    else:
        raise UnitError(f"dividing {a.describe()} by {b.describe()} gives a unit policies do not have")
    repr_ = max(a.repr, Repr.DEC) if exact_reciprocal else Repr.RAT
    return Type(kind="num", dim=dim, repr=repr_, free=free)


def same_kind(a: Type, b: Type) -> bool:
    return a.kind == b.kind or "error" in (a.kind, b.kind)
