"""Ranges: a sound interval for every numeric IR expression, over all valid records.

Used by backends to drop work the policy can never need (an item's clamp when
its formula already stays within [0, max]) and, later, by the checker to
report ranges. `None` as a bound means unbounded; `bounds()` returns None when
it cannot say anything useful.
"""

from __future__ import annotations

import math
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
        share = self._part_of_cohort(e)
        if share is not None:
            return share
        return _mul(a, _reciprocal(b, whole=e.right.type.repr is ir.Repr.INT))

    def _part_of_cohort(self, e: ir.Arith) -> Interval | None:
        """`c × x / max(x over team)` or `x / sum(x over team)` with x ≥ 0 and c ≥ 0 lies in [0, c]:
        the agent is a member of their own cohort, so the denominator is at least x."""
        den = e.right
        if not (isinstance(den, ir.Aggregate) and den.func in ("max", "sum") and den.column):
            return None
        num, c = e.left, Fraction(1)
        if isinstance(num, ir.Arith) and num.op == "*":
            for k, x in ((num.left, num.right), (num.right, num.left)):
                if isinstance(k, ir.Const) and isinstance(k.value, Fraction) and k.value >= 0:
                    num, c = x, k.value
                    break
        if not (isinstance(num, ir.Load) and num.name == den.column):
            return None
        col = self.of_name(den.column)
        if col is None or col[0] is None or col[0] < 0:
            return None
        return (Fraction(0), c)

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
        return self._branches([(_facts(e.cond, False), e.then), (_facts(e.cond, True), e.otherwise)])

    def r_Cases(self, e):
        """A table's rows, each evaluated where it is taken: `first` takes a row when its condition
        holds and no earlier row's does; the `else` row when none holds (`first x: >= 3 -> …,
        >= 1 -> 10 per x` reads x in [1, 2] on the second row)."""
        branches, none_before = [], {}  # (what no earlier row holding implies)
        for r in e.rows:
            holds = _facts(r.cond, False)
            branches.append((_meet(holds, none_before) if e.kind == "first" else holds, r.result))
            none_before = _meet(none_before, _facts(r.cond, True))
        if e.otherwise is not None:
            branches.append((none_before, e.otherwise.result))
        return self._branches(branches)

    def _branches(self, branches):
        """The union of each (facts, expression)'s range, the expression read where the facts
        hold; a branch whose facts no value meets is left out (no record takes it)."""
        parts = []
        for facts, x in branches:
            where = self.under(facts)
            if where is not None:
                parts.append(where.of(x))
        return _union(parts) if parts else None

    def under(self, facts: dict) -> Ranges | None:
        """These ranges with each name of `facts` narrowed to its interval there, or None when a
        name's range and its fact do not meet. Names that may be N/A or have no range are left as
        they are (nothing is assumed of them)."""
        if not facts:
            return self
        child = Ranges(inputs=self.inputs, defs=self.defs)
        for name, fact in facts.items():
            r = self.of_name(name)
            if r is None:
                continue
            low, high = _intersect(r, fact)
            if low is not None and high is not None and low > high:
                return None
            child.memo[name] = (low, high)
        return child

    def r_Round(self, e):
        a = self.of(e.operand)
        if a is None:
            return None
        q = e.quantum
        return (None if a[0] is None else (a[0] / q).__floor__() * q,
                None if a[1] is None else -((-a[1] / q).__floor__()) * q)

    def r_CountTrue(self, e):
        return (Fraction(0), Fraction(len(e.args)))

    def r_Mean(self, e):
        parts = [self.of(a) for a in e.args]
        return _hull(parts)

    def r_Abs(self, e):
        a = self.of(e.operand)
        if a is None:
            return None
        lo, hi = a
        if lo is not None and lo >= 0:
            return a
        if hi is not None and hi <= 0:
            return (-hi, None if lo is None else -lo)
        return (Fraction(0), None if lo is None or hi is None else max(-lo, hi))

    def r_Linear(self, e):
        ys = [y for _, y in e.points]  # flat beyond the end points
        return (min(ys), max(ys))

    def r_ZeroGuard(self, e):
        return _union([self.of(e.operand), self.of(e.default)])

    def r_NaGuard(self, e):
        m = getattr(self, "r_" + type(e.operand).__name__, None)  # the operand's range, N/A aside
        inner = m(e.operand) if m is not None and e.operand.type.kind == "num" else None
        return _union([inner, self.of(e.default)])

    def r_Aggregate(self, e):
        if e.func == "rank":
            return (Fraction(1), None)
        if e.func == "count":
            return (Fraction(0), None)
        col = self.of_name(e.column) if e.column else None
        if col is None:
            return None
        if e.func in ("max", "min", "mean"):
            return col
        if e.func == "sum" and col[0] is not None and col[0] >= 0:
            return (col[0], None)  # at least the agent's own value
        return None

    def r_History(self, e):
        return (Fraction(0), None) if e.func == "streak" else None


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _facts(cond, negate: bool) -> dict:
    """{name: (lo, hi)} that `cond` (with `negate`, its negation) implies of numeric names compared
    with numbers (None: unbounded); {} where it implies nothing this can use. Only a conjunction
    narrows (`a and b`, `not (a or b)`, a chain `0 <= x < 5`): of `a or b` nothing is assumed."""
    if isinstance(cond, ir.Not):
        return _facts(cond.operand, not negate)
    if isinstance(cond, ir.Logic):
        if (cond.op == "and") != negate:
            return _meet(_facts(cond.left, negate), _facts(cond.right, negate))
        return {}
    if not isinstance(cond, ir.Compare) or (negate and len(cond.ops) != 1):
        return {}
    out: dict = {}
    for op, x, y in zip(cond.ops, cond.operands, cond.operands[1:]):
        if negate:
            if op not in _NEGATED:
                return {}
            op = _NEGATED[op]
        if isinstance(x, ir.Const) and isinstance(y, ir.Load):
            x, y, op = y, x, _FLIP.get(op)
        if (isinstance(x, ir.Load) and x.type.kind == "num" and not x.type.optional and isinstance(y, ir.Const)
                and isinstance(y.value, Fraction) and op in _FLIP):
            out = _meet(out, {x.name: _bound(op, y.value, x.type.repr is ir.Repr.INT)})
    return out


def _bound(op: str, c: Fraction, whole: bool) -> Interval:
    """The values x with `x op c` (whole numbers only, when `whole`), as a closed interval."""
    if op == "=":
        return (c, c)
    if op in ("<", "<="):
        if whole:
            return (None, Fraction(math.ceil(c) - 1 if op == "<" else math.floor(c)))
        return (None, c)  # (x < c: closed at c, a little wide and still sound)
    if whole:
        return (Fraction(math.floor(c) + 1 if op == ">" else math.ceil(c)), None)
    return (c, None)


def _meet(a: dict, b: dict) -> dict:
    """Both sets of facts: each name within both intervals."""
    out = dict(a)
    for name, fact in b.items():
        out[name] = _intersect(out[name], fact) if name in out else fact
    return out


def _intersect(a: Interval, b: Interval) -> Interval:
    """The values in both intervals (None: unbounded; possibly empty, lo > hi)."""
    lo = a[0] if b[0] is None else b[0] if a[0] is None else max(a[0], b[0])
    hi = a[1] if b[1] is None else b[1] if a[1] is None else min(a[1], b[1])
    return (lo, hi)


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


def _mul(a: Interval | None, b: Interval | None) -> Interval | None:
    """Interval product over the extended reals (None is ∓∞); 0 × ∞ counts as 0, which is sound
    because a bound of ∞ is never a value."""
    if a is None or b is None:
        return None
    ea = (-math.inf if a[0] is None else a[0], math.inf if a[1] is None else a[1])
    eb = (-math.inf if b[0] is None else b[0], math.inf if b[1] is None else b[1])
    products = [0 if x == 0 or y == 0 else x * y for x in ea for y in eb]
    lo, hi = min(products), max(products)
    return (None if lo == -math.inf else Fraction(lo), None if hi == math.inf else Fraction(hi))


def _reciprocal(d: Interval | None, whole: bool) -> Interval | None:
    """The range of 1/x for x in d. A zero denominator never yields a value (it is proven impossible,
    or `when zero` replaces the whole formula), so x = 0 is left out; a whole x ≥ 0 is then ≥ 1."""
    if d is None:
        return None
    lo, hi = d
    if lo is not None and lo >= 0:
        if lo == 0:
            if not whole:
                return (Fraction(0) if hi is None or hi == 0 else 1 / hi, None)
            lo = Fraction(1)
        if hi is not None and hi < lo:
            return None
        return (Fraction(0) if hi is None else 1 / hi, 1 / lo)
    if hi is not None and hi <= 0:
        r = _reciprocal((-hi, None if lo is None else -lo), whole)
        return None if r is None else (None if r[1] is None else -r[1], -r[0])
    return None


def _hull(parts):
    """The smallest interval holding every part (None if any part is unknown)."""
    return _union(parts)


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
