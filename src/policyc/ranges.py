"""Ranges: a sound interval for every numeric IR expression, over all valid records.

Used by backends to drop work the policy can never need (an item's clamp when
its formula already stays within [0, max]) and, later, by the checker to
report ranges. `None` as a bound means unbounded; `bounds()` returns None when
it cannot say anything useful.
"""

from __future__ import annotations

from fractions import Fraction

from . import ir

Interval = tuple[Fraction | None, Fraction | None]
_DEFAULT = {
    "count": (Fraction(0), None),
    "percent": (Fraction(0), Fraction(1)),
    "duration": (Fraction(0), None),
    "money": (Fraction(0), None),
}


class Ranges:
    """Compute intervals for the expressions of one policy (memoised per definition)."""

    def __init__(self, policy: ir.Policy | None = None, *, inputs=None, defs=None):
        self.inputs = {i.name: i for i in policy.inputs} if policy is not None else inputs
        self.defs = {d.name: d for d in policy.definitions} if policy is not None else defs
        self.memo: dict[str, Interval | None] = {}

    def of_name(self, name: str) -> Interval | None:
        if name in self.memo:
            return self.memo[name]
        self.memo[name] = None  # guards against (impossible) cycles
        if name in self.inputs:
            inp = self.inputs[name]
            if inp.type.kind != "num" or inp.na:
                r = None
            elif inp.domain:
                los = [lo for lo, _ in inp.domain]
                his = [hi for _, hi in inp.domain]
                r = (None if None in los else min(los), None if None in his else max(his))
            else:
                r = _DEFAULT.get(inp.kind, (None, None))
        elif name in self.defs:
            r = self.of(self.defs[name].expr)
        else:
            r = None
        self.memo[name] = r
        return r

    def of(self, e: ir.Expr) -> Interval | None:
        """A sound interval for e, or None."""
        if e.type.kind != "num" or e.type.optional:
            return None
        m = getattr(self, "r_" + type(e).__name__, None)
        return m(e) if m is not None else None

    def r_Const(self, e):
        return (e.value, e.value) if isinstance(e.value, Fraction) else None

    def r_Load(self, e):
        return self.of_name(e.name)

    def r_Arith(self, e):
        a, b = self.of(e.left), self.of(e.right)
        if a is None or b is None:
            return None
        if e.op == "+":
            return (_add(a[0], b[0]), _add(a[1], b[1]))
        if e.op == "-":
            return (_add(a[0], _neg(b[1])), _add(a[1], _neg(b[0])))
        if e.op == "*":
            return _mul(a, b)
        return None

    def r_Neg(self, e):
        a = self.of(e.operand)
        return None if a is None else (_neg(a[1]), _neg(a[0]))

    def r_MinMax(self, e):
        parts = [self.of(a) for a in e.args]
        if any(p is None for p in parts):
            return None
        pick = _min if e.func == "min" else _max
        return (pick([p[0] for p in parts], low=True), pick([p[1] for p in parts], low=False))

    def r_Clamp(self, e):
        x = self.of(e.operand) or (None, None)
        lo = (self.of(e.lo) or (None, None)) if e.lo is not None else None
        hi = (self.of(e.hi) or (None, None)) if e.hi is not None else None
        low, high = x
        if hi is not None:  # min(x, hi)
            low = _lo_min(low, hi[0])
            high = _hi_min(high, hi[1])
        if lo is not None:  # max(·, lo)
            low = _lo_max(low, lo[0])
            high = _hi_max(high, lo[1])
        return (low, high)

    def r_If(self, e):
        return _union([self.of(e.then), self.of(e.otherwise)])

    def r_Cases(self, e):
        rows = [self.of(r.result) for r in e.rows]
        if e.otherwise is not None:
            rows.append(self.of(e.otherwise.result))
        return _union(rows)

    def r_Round(self, e):
        a = self.of(e.operand)
        if a is None:
            return None
        q = e.quantum
        return (None if a[0] is None else (a[0] / q).__floor__() * q,
                None if a[1] is None else -((-a[1] / q).__floor__()) * q)

    def r_CountTrue(self, e):
        return (Fraction(0), Fraction(len(e.args)))


def within(inner: Interval | None, lo: Fraction | None, hi: Fraction | None) -> tuple[bool, bool]:
    """Whether inner is provably ≥ lo, and provably ≤ hi."""
    if inner is None:
        return (lo is None, hi is None)
    ok_lo = lo is None or (inner[0] is not None and inner[0] >= lo)
    ok_hi = hi is None or (inner[1] is not None and inner[1] <= hi)
    return ok_lo, ok_hi


def _lo_min(a, b):  # lower bound of min(x, y); None is -inf
    return None if a is None or b is None else min(a, b)


def _hi_min(a, b):  # upper bound of min(x, y); None is +inf
    return b if a is None else a if b is None else min(a, b)


def _lo_max(a, b):  # lower bound of max(x, y); None is -inf
    return b if a is None else a if b is None else max(a, b)


def _hi_max(a, b):  # upper bound of max(x, y); None is +inf
    return None if a is None or b is None else max(a, b)


def _add(a, b):
    return None if a is None or b is None else a + b


def _neg(a):
    return None if a is None else -a


def _mul(a: Interval, b: Interval) -> Interval | None:
    if None in a or None in b:
        # only the common case: a non-negative constant times a non-negative interval
        for c, x in ((a, b), (b, a)):
            if c[0] is not None and c[0] == c[1] and c[0] >= 0 and x[0] is not None and x[0] >= 0:
                return (c[0] * x[0], None if x[1] is None else c[0] * x[1])
        return None
    products = [x * y for x in a for y in b]
    return (min(products), max(products))


def _min(values, low):
    if None in values:
        return None if low else (None if all(v is None for v in values) else min(v for v in values if v is not None))
    return min(values)


def _max(values, low):
    if None in values:
        return (None if all(v is None for v in values) else max(v for v in values if v is not None)) if low \
            else None
    return max(values)


def _union(parts):
    if not parts or any(p is None for p in parts):
        return None
    los = [p[0] for p in parts]
    his = [p[1] for p in parts]
    return (None if None in los else min(los), None if None in his else max(his))


def describe(policy: ir.Policy) -> list[dict]:
    """The range every input and named value can take over all valid records, for `policyc inspect`."""
    from .checker.coverage import _show

    r = Ranges(policy)
    rows = []
    entries = [(i.name, "input", i.type) for i in policy.inputs]
    entries += [(d.name, d.kind, d.type) for d in policy.definitions if d.kind != "hidden"]
    for name, kind, t in entries:
        if t.kind == "num":
            iv = r.of_name(name)
            if iv is None:
                text = "any number" + (" or n/a" if t.optional else "")
            else:
                lo, hi = iv
                if lo is not None and lo == hi:
                    text = _show(lo, t)
                else:
                    text = ("(-∞" if lo is None else "[" + _show(lo, t)) + ", " + \
                           ("∞)" if hi is None else _show(hi, t) + "]")
        elif t.kind == "bool":
            text = "true or false"
        elif t.kind == "label":
            text = " | ".join(t.labels)
        elif t.kind == "list":
            text = "a list of names"
        else:
            text = "text"
        rows.append({"name": name, "kind": kind, "range": text})
    return rows
