"""The columnar plan: `ir.Policy` → exact integer column expressions, for batch engines.

Every numeric value becomes `Num(num, scale, den)`: the value is
num / (10^scale × den), with num and den *integer* column expressions (den
absent for decimals and whole numbers, and always > 0). `+ − ×` stay in
integers, `/` moves the divisor into den, comparisons cross-multiply, and
`round` is the one integer division (floor division, then the policy's
rounding mode on the remainder — `runtime.div_round`'s rule). Engines render
the integer nodes with checked 128-bit (38-digit) integers, so a value that
would not fit raises instead of wrapping: nothing is ever approximated.

The plan is a list of steps, one per definition in dependency order; a step
may read any earlier column. Input scales are a parameter: they come from the
batch (the most decimals an input column holds). `Polars` renders a plan
(backends/polars_engine.py); SQL engines will render the same plan.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from .. import ir
from .. import runtime as rt


class Unsupported(Exception):
    """A construct this plan cannot express exactly (reported, never approximated)."""


# ───────────────────────── integer, boolean and label nodes ─────────────────────────

def _node(cls):
    return attrs.frozen(cls)


@_node
class Col:
    name: str


@_node
class Lit:
    value: int


@_node
class NullI:
    pass


@_node
class Add:
    a: object
    b: object


@_node
class Sub:
    a: object
    b: object


@_node
class Mul:
    a: object
    b: object


@_node
class Neg:
    a: object


@_node
class FloorDiv:
    a: object
    b: object  # always > 0


@_node
class IfI:
    cond: object
    then: object
    other: object


@_node
class Win:
    """An aggregate over the rows sharing `keys` (period first): max, min, sum, count."""

    func: str
    arg: object | None
    keys: tuple[str, ...]


@_node
class Rank:
    """1 + the number of rows in the window with a strictly better value (num/den exact)."""

    num: object
    den: object | None
    keys: tuple[str, ...]
    descending: bool


@_node
class WinArgmax:
    """The (num, den) of the largest (or smallest) num/den in each window, exactly."""

    num: object
    den: object
    keys: tuple[str, ...]
    largest: bool
    part: str  # num | den


@_node
class Prev:
    """The column's value for the same agent in the period before (null if absent)."""

    arg: object


@_node
class Streak:
    """Consecutive periods, ending with this one, in which the condition held for this agent."""

    cond: object


@_node
class LabelMap:
    """A label input looked up in a table of integers (`default` for the labels not listed)."""

    label: str
    labels: tuple[str, ...]
    values: tuple[int, ...]
    default: int | None


@_node
class LabelRank:
    """A grade's position, best first (0 = best)."""

    label: object
    labels: tuple[str, ...]


# booleans
@_node
class Cmp:
    op: str  # < <= > >= = !=
    a: object
    b: object


@_node
class And:
    a: object
    b: object


@_node
class Or:
    a: object
    b: object


@_node
class Not:
    a: object


@_node
class BLit:
    value: bool


@_node
class BCol:
    name: str


@_node
class IsNull:
    a: object


@_node
class IfB:
    cond: object
    then: object
    other: object


# labels and text
@_node
class LCol:
    name: str


@_node
class LLit:
    value: str


@_node
class IfL:
    cond: object
    then: object
    other: object


@_node
class LabelIs:
    """label = text (labels and text compare by equality)."""

    a: object
    b: object


# values of each kind
@_node
class Num:
    num: object
    scale: int
    den: object | None = None


@_node
class BoolV:
    b: object


@_node
class LabelV:
    label: object


@_node
class ListV:
    items: tuple[tuple[str, object], ...]  # (name, condition): the list holds the names whose condition holds


@_node
class Step:
    name: str
    value: object  # Num | BoolV | LabelV | ListV


@_node
class Plan:
    steps: tuple[Step, ...]
    scales: dict  # input name → scale
    outputs: tuple[str, ...]


# ───────────────────────── helpers on Num ─────────────────────────

ONE = Lit(1)
ZERO = Lit(0)


def pow10(k: int) -> Lit:
    return Lit(10 ** k)


def align(x: Num, scale: int):
    """x's numerator at a larger scale."""
    if scale == x.scale:
        return x.num
    if isinstance(x.num, Lit):
        return Lit(x.num.value * 10 ** (scale - x.scale))
    return Mul(x.num, pow10(scale - x.scale))


def const(v: Fraction) -> Num:
    v = Fraction(v)
    for k in range(40):
        if (v * 10 ** k).denominator == 1:
            return Num(Lit(int(v * 10 ** k)), k)
    return Num(Lit(v.numerator), 0, Lit(v.denominator))


def _den(x: Num):
    return x.den if x.den is not None else ONE


def _mul(a, b):
    if isinstance(a, Lit) and a.value == 1:
        return b
    if isinstance(b, Lit) and b.value == 1:
        return a
    if isinstance(a, Lit) and isinstance(b, Lit):
        return Lit(a.value * b.value)
    return Mul(a, b)


def add(a: Num, b: Num, sub: bool = False) -> Num:
    s = max(a.scale, b.scale)
    op = Sub if sub else Add
    if a.den is None and b.den is None:
        return Num(op(align(a, s), align(b, s)), s)
    return Num(op(_mul(align(a, s), _den(b)), _mul(align(b, s), _den(a))), s, _mul(_den(a), _den(b)))


def mul(a: Num, b: Num) -> Num:
    den = None if a.den is None and b.den is None else _mul(_den(a), _den(b))
    return Num(_mul(a.num, b.num), a.scale + b.scale, den)


def neg(a: Num) -> Num:
    return Num(Neg(a.num), a.scale, a.den)


def cmp(op: str, a: Num, b: Num):
    s = max(a.scale, b.scale)
    if a.den is None and b.den is None:
        return Cmp(op, align(a, s), align(b, s))
    return Cmp(op, _mul(align(a, s), _den(b)), _mul(align(b, s), _den(a)))


def if_num(c, t: Num, o: Num) -> Num:
    s = max(t.scale, o.scale)
    den = None if t.den is None and o.den is None else IfI(c, _den(t), _den(o))
    return Num(IfI(c, align(t, s), align(o, s)), s, den)


def round_int(num, den, mode: str, share=lambda n: n):
    """num / den (den > 0) rounded to an integer by mode, in integers only. `share` turns a
    node used several times into a column."""
    num, den = share(num), share(den)
    q = share(FloorDiv(num, den))
    r = Sub(num, Mul(q, den))
    nonzero = Cmp("!=", r, ZERO)
    if mode == "down":  # toward zero: floor for positives, floor + 1 for negatives with a remainder
        bump = And(nonzero, Cmp("<", num, ZERO))
    elif mode == "up":
        bump = And(nonzero, Cmp(">", num, ZERO))
    else:
        twice = Mul(Lit(2), r)
        tie = Cmp("=", twice, den)
        if mode == "half_even":
            odd = Cmp("!=", Sub(q, Mul(FloorDiv(q, Lit(2)), Lit(2))), ZERO)
            bump = Or(Cmp(">", twice, den), And(tie, odd))
        else:  # half_up: ties away from zero
            bump = Or(Cmp(">", twice, den), And(tie, Cmp(">", num, ZERO)))
    return IfI(bump, Add(q, ONE), q)


def round_to(x: Num, quantum: Fraction, mode: str, share=lambda n: n) -> Num:
    """x rounded to a multiple of quantum (a finite decimal); its scale is the quantum's places."""
    q = const(quantum)
    if q.den is not None:
        raise Unsupported(f"rounding to a step with no finite decimal form ({quantum})")
    qs, qn = q.scale, q.num.value
    e = qs - x.scale
    num = _mul(x.num, pow10(e)) if e >= 0 else x.num
    den = _mul(_mul(_den(x), Lit(qn)), pow10(-e) if e < 0 else ONE)
    k = round_int(num, den, mode, share)
    return Num(_mul(k, Lit(qn)), qs)


# ───────────────────────── the planner ─────────────────────────


class Planner:
    """Lower a checked policy to a plan, for given input scales."""

    def __init__(self, policy: ir.Policy, scales: dict[str, int]):
        self.p = policy
        self.scales = dict(scales)
        self.values: dict[str, object] = {}
        self.cohorts = {c.name: ("period", *c.keys) for c in policy.cohorts}
        self.guards: list[list] = []  # zero conditions collected for the innermost `when zero`
        self.pending: list[Step] = []  # temporary columns for values used more than once
        from ..ranges import Ranges

        self.ranges = Ranges(policy)
        for inp in policy.inputs:
            t = inp.type
            if t.kind == "num":
                self.values[inp.name] = Num(Col(inp.name), self.scales.get(inp.name, 0))
            elif t.kind == "bool":
                self.values[inp.name] = BoolV(BCol(inp.name))
            else:
                self.values[inp.name] = LabelV(LCol(inp.name))

    def plan(self) -> Plan:
        steps = []
        for d in self.p.definitions:
            v = self.lower(d.expr)
            steps.extend(self.pending)
            self.pending = []
            steps.append(Step(d.name, v))
            self.values[d.name] = self.column_of(d.name, v)
        return Plan(steps=tuple(steps), scales=self.scales, outputs=self.p.outputs)

    def requires(self) -> list:
        """The `require` conditions, as boolean expressions over the inputs."""
        return [self.lower(r.cond).b for r in self.p.requires]

    @staticmethod
    def column_of(name: str, v):
        if isinstance(v, Num):
            return Num(Col(name), v.scale, Col(name + "·den") if v.den is not None else None)
        if isinstance(v, BoolV):
            return BoolV(BCol(name))
        if isinstance(v, LabelV):
            return LabelV(LCol(name))
        return v  # lists are read in place

    def share(self, x):
        """x as a column, when it is used more than once (so engines compute it once)."""
        simple = (Col, Lit, NullI)
        if isinstance(x, Num) and isinstance(x.num, simple) and (x.den is None or isinstance(x.den, simple)):
            return x
        if isinstance(x, BoolV) and isinstance(x.b, (BCol, BLit)):
            return x
        name = f"·t{len(self.values)}_{len(self.pending)}"  # per definition: stable from run to run
        self.pending.append(Step(name, x))
        return self.column_of(name, x)

    # ── dispatch ──
    def lower(self, e: ir.Expr):
        m = getattr(self, "l_" + type(e).__name__, None)
        if m is None:
            raise Unsupported(f"{type(e).__name__} is not supported by the columnar engines yet")
        return m(e)

    def num(self, e: ir.Expr) -> Num:
        v = self.lower(e)
        if not isinstance(v, Num):
            raise Unsupported(f"expected a number, got {type(v).__name__}")
        return v

    def cond(self, e: ir.Expr):
        v = self.lower(e)
        if not isinstance(v, BoolV):
            raise Unsupported("expected a condition")
        return v.b

    # ── leaves ──
    def l_Const(self, e: ir.Const):
        v = e.value
        if isinstance(v, bool):
            return BoolV(BLit(v))
        if isinstance(v, str):
            return LabelV(LLit(v))
        if v is None:
            return Num(NullI(), 0)
        return const(v)

    def l_Load(self, e: ir.Load):
        return self.values[e.name]

    # ── arithmetic ──
    def l_Arith(self, e: ir.Arith):
        a, b = self.num(e.left), self.num(e.right)
        if e.op == "+":
            return add(a, b)
        if e.op == "-":
            return add(a, b, sub=True)
        if e.op == "*":
            return mul(a, b)
        return self.divide(a, b, e.right)

    def divide(self, a: Num, b: Num, right: ir.Expr) -> Num:
        if isinstance(b.num, Lit) and b.den is None:  # a constant divisor
            if b.num.value == 0:
                raise Unsupported("a division by the constant 0")
            recip = Fraction(10 ** b.scale, b.num.value)
            return mul(a, const(recip))
        bn = b.num
        if self.guards:
            zero = Cmp("=", bn, ZERO)
            self.guards[-1].append(zero)
            bn = IfI(zero, ONE, bn)  # never divide by zero while computing the unused branch
        num = _mul(_mul(a.num, pow10(b.scale)), _den(b))
        r = self.ranges.of(right)
        if r is not None and r[0] is not None and r[0] >= 0:  # a divisor that is never negative
            return Num(num, a.scale, _mul(_den(a), bn))
        negative = Cmp("<", bn, ZERO)
        num = IfI(negative, Neg(num), num)
        den = _mul(_den(a), IfI(negative, Neg(bn), bn))
        return Num(num, a.scale, den)

    def l_Neg(self, e):
        return neg(self.num(e.operand))

    def l_Abs(self, e):
        x = self.share(self.num(e.operand))
        return Num(IfI(Cmp("<", x.num, ZERO), Neg(x.num), x.num), x.scale, x.den)

    def l_MinMax(self, e):
        vals = [self.share(self.num(a)) for a in e.args]
        out = vals[0]
        for v in vals[1:]:
            better = cmp("<" if e.func == "min" else ">", v, out)
            out = self.share(if_num(better, v, out))
        return out

    def l_Mean(self, e):
        vals = [self.num(a) for a in e.args]
        total = vals[0]
        for v in vals[1:]:
            total = add(total, v)
        return mul(total, const(Fraction(1, len(vals))))

    def l_CountTrue(self, e):
        total = None
        for a in e.args:
            one = Num(IfI(self.cond(a), ONE, ZERO), 0)
            total = one if total is None else add(total, one)
        return total

    def l_Round(self, e: ir.Round):
        return round_to(self.share(self.num(e.operand)), e.quantum, e.mode.value, self.share_int)

    def share_int(self, node):
        """An integer node as a column (round_int reads its numerator and quotient several times)."""
        if isinstance(node, (Col, Lit)):
            return node
        return self.share(Num(node, 0)).num

    def l_Clamp(self, e: ir.Clamp):
        from ..ranges import within

        lo_v = e.lo.value if isinstance(e.lo, ir.Const) else None
        hi_v = e.hi.value if isinstance(e.hi, ir.Const) else None
        ok_lo, ok_hi = within(self.ranges.of(e.operand), lo_v, hi_v)
        need_lo = e.lo is not None and not (lo_v is not None and ok_lo)
        need_hi = e.hi is not None and not (hi_v is not None and ok_hi)
        x = self.num(e.operand)
        if need_hi:
            x = self.share(x)
            hi = self.num(e.hi)
            x = if_num(cmp(">", x, hi), hi, x)
        if need_lo:
            x = self.share(x)
            lo = self.num(e.lo)
            x = if_num(cmp("<", x, lo), lo, x)
        return x

    def l_ZeroGuard(self, e: ir.ZeroGuard):
        self.guards.append([])
        x = self.lower(e.operand)
        zeros = self.guards.pop()
        d = self.lower(e.default)
        if not zeros:
            return x
        any_zero = zeros[0]
        for z in zeros[1:]:
            any_zero = Or(any_zero, z)
        return self.choose(any_zero, d, x)

    def l_NaGuard(self, e: ir.NaGuard):
        x = self.lower(e.operand)
        d = self.lower(e.default)
        probe = x.num if isinstance(x, Num) else x.b if isinstance(x, BoolV) else x.label
        return self.choose(IsNull(probe), d, x)

    def choose(self, c, t, o):
        if isinstance(t, Num) and isinstance(o, Num):
            return if_num(c, t, o)
        if isinstance(t, BoolV) and isinstance(o, BoolV):
            return BoolV(IfB(c, t.b, o.b))
        if isinstance(t, LabelV) and isinstance(o, LabelV):
            return LabelV(IfL(c, t.label, o.label))
        raise Unsupported("branches of different kinds")

    # ── logic ──
    def l_Compare(self, e: ir.Compare):
        vals = [self.lower(o) for o in e.operands]
        out = None
        for op, a, b, node in zip(e.ops, vals, vals[1:], e.operands):
            if isinstance(a, Num):
                c = cmp(op, a, b)
            elif isinstance(a, LabelV) and node.type.kind == "label" and node.type.ordered and op not in ("=", "!="):
                # grades: listed best first, so a "greater" grade has a smaller position
                flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
                labels = node.type.labels
                c = Cmp(flipped, LabelRank(a.label, labels), LabelRank(b.label, labels))
            elif isinstance(a, LabelV):
                c = LabelIs(a.label, b.label) if op == "=" else Not(LabelIs(a.label, b.label))
            else:
                eq = Or(And(a.b, b.b), And(Not(a.b), Not(b.b)))
                c = eq if op == "=" else Not(eq)
            out = c if out is None else And(out, c)
        return BoolV(out)

    def l_Not(self, e):
        return BoolV(Not(self.cond(e.operand)))

    def l_Logic(self, e):
        a, b = self.cond(e.left), self.cond(e.right)
        return BoolV(And(a, b) if e.op == "and" else Or(a, b))

    def l_If(self, e: ir.If):
        return self.choose(self.cond(e.cond), self.lower(e.then), self.lower(e.otherwise))

    # ── tables ──
    def l_Cases(self, e: ir.Cases):
        mapped = self.label_map(e)
        if mapped is not None:
            return mapped
        if e.otherwise is not None:
            out = self.lower(e.otherwise.result)
        else:
            t = e.type
            out = Num(NullI(), 0) if t.kind == "num" else LabelV(LLit("")) if t.kind == "label" else None
            if out is None:
                raise Unsupported("a table of conditions without `else`")
        for row in reversed(e.rows):
            out = self.choose(self.cond(row.cond), self.lower(row.result), out)
        return out

    def label_map(self, e: ir.Cases):
        """`by label: a -> 20, b -> 15`: one lookup, when every row tests one label input against
        labels and gives a constant number."""
        subject, table = None, {}
        for row in e.rows:
            tests = _label_tests(row.cond)
            if tests is None or not isinstance(row.result, ir.Const) or isinstance(row.result.value, (bool, str)) \
                    or row.result.value is None:
                return None
            s_, labels = tests
            if subject not in (None, s_):
                return None
            subject = s_
            for lab in labels:
                table.setdefault(lab, row.result.value)
        if subject is None:
            return None
        if e.otherwise is not None:
            if not isinstance(e.otherwise.result, ir.Const) or isinstance(e.otherwise.result.value, (bool, str)):
                return None
            default = e.otherwise.result.value
        else:
            default = None
        values = [const(v) for v in table.values()]
        scale = max([v.scale for v in values] + ([const(default).scale] if default is not None else []))
        if any(v.den is not None for v in values) or (default is not None and const(default).den is not None):
            return None
        ints = tuple(align(v, scale).value for v in values)
        dflt = None if default is None else align(const(default), scale).value
        return Num(LabelMap(subject, tuple(table), ints, dflt), scale)

    def l_Linear(self, e: ir.Linear):
        x = self.num(e.subject)
        pts = e.points
        out = const(pts[-1][1])
        for (x0, y0), (x1, y1) in reversed(list(zip(pts, pts[1:]))):
            slope = Fraction(y1 - y0, 1) / (x1 - x0)
            seg = add(const(y0), mul(const(slope), add(x, const(x0), sub=True)))
            out = if_num(cmp("<=", x, const(x1)), seg, out)
        return if_num(cmp("<=", x, const(pts[0][0])), const(pts[0][1]), out)

    def l_Marginal(self, e: ir.Marginal):
        x = self.num(e.subject)
        total = const(Fraction(0))
        for lo, hi, rate in e.slices:
            top = x if hi is None else if_num(cmp("<", x, const(hi)), x, const(hi))
            part = mul(add(top, const(lo), sub=True), const(rate))
            total = add(total, if_num(cmp(">", x, const(lo)), part, const(Fraction(0))))
        return total

    def l_Weighted(self, e: ir.Weighted):
        num = const(Fraction(0))
        wsum = const(Fraction(0))
        for w, v in e.rows:
            x = self.num(v)
            na = IsNull(x.num)
            num = add(num, if_num(na, const(Fraction(0)), mul(const(w), x)))
            wsum = add(wsum, if_num(na, const(Fraction(0)), const(w)))
        none = Cmp("=", wsum.num, ZERO)
        safe = if_num(none, const(Fraction(1)), wsum)
        value = self.divide_positive(num, safe)
        value = if_num(none, Num(NullI(), value.scale, value.den), value)
        if e.critical:
            ok = self.cond(e.critical[0])
            for c in e.critical[1:]:
                ok = And(ok, self.cond(c))
            value = if_num(ok, value, const(Fraction(0)))
        return value

    def divide_positive(self, a: Num, b: Num) -> Num:
        """a / b for b > 0."""
        num = _mul(_mul(a.num, pow10(b.scale)), _den(b))
        return Num(num, a.scale, _mul(_den(a), b.num))

    def l_Gate(self, e: ir.Gate):
        conds = [self.cond(c) for _, c in e.rows]
        out = conds[0]
        for c in conds[1:]:
            out = And(out, c) if e.kind == "all" else Or(out, c)
        return BoolV(out)

    def l_GateNames(self, e: ir.GateNames):
        items = []
        for label, c in e.rows:
            b = self.cond(c)
            items.append((label, b if e.want == "passed" else Not(b)))
        return ListV(tuple(items))

    def l_SplitPart(self, e: ir.SplitPart):
        amount = self.num(e.amount)
        total = sum(e.ratios)
        parts = [round_to(mul(amount, const(r / total)), e.quantum, e.mode.value) for r in e.ratios[:-1]]
        if e.index < len(parts):
            return parts[e.index]
        rest = amount
        for p in parts:
            rest = add(rest, p, sub=True)
        return rest

    # ── cohorts and history ──
    def l_Aggregate(self, e: ir.Aggregate):
        keys = self.cohorts[e.cohort]
        if e.func == "count":
            arg = None if e.column is None else IfI(self.values[e.column].b, ONE, ZERO)
            return Num(Win("count" if arg is None else "sum", arg, keys), 0)
        col = self.values[e.column]
        if e.func == "rank":
            return Num(Rank(col.num, col.den, keys, e.descending), 0)
        if e.func in ("max", "min"):
            if col.den is None:
                return Num(Win(e.func, col.num, keys), col.scale)
            largest = e.func == "max"
            return Num(WinArgmax(col.num, col.den, keys, largest, "num"), col.scale,
                       WinArgmax(col.num, col.den, keys, largest, "den"))
        if e.func in ("sum", "mean"):
            if col.den is not None:
                raise Unsupported(f"`{e.func}` of fractions over a cohort")
            total = Num(Win("sum", col.num, keys), col.scale)
            if e.func == "sum":
                return total
            return self.divide_positive(total, Num(Win("count", None, keys), 0))
        raise Unsupported(f"cohort `{e.func}`")

    def l_History(self, e: ir.History):
        col = self.values[e.column]
        if e.func == "streak":
            return Num(Streak(col.b), 0)
        if isinstance(col, Num):
            return Num(Prev(col.num), col.scale, Prev(col.den) if col.den is not None else None)
        if isinstance(col, BoolV):
            return BoolV(Prev(col.b))
        return LabelV(Prev(col.label))


def _label_tests(cond: ir.Expr):
    """(input, labels) when cond is `x = a` or `x = a or x = b …` for one label input x."""
    if isinstance(cond, ir.Logic) and cond.op == "or":
        a, b = _label_tests(cond.left), _label_tests(cond.right)
        if a is None or b is None or a[0] != b[0]:
            return None
        return a[0], a[1] + b[1]
    if isinstance(cond, ir.Compare) and cond.ops == ("=",) and len(cond.operands) == 2:
        x, v = cond.operands
        if isinstance(x, ir.Load) and isinstance(v, ir.Const) and isinstance(v.value, str) \
                and x.type.kind == "label":
            return x.name, (v.value,)
    return None


# ───────────────────────── bounds: may a plan run in 64-bit integers? ─────────────────────────

INT64_SAFE = 2 ** 62
INT128_SAFE = 2 ** 126


class Unbounded(Exception):
    """A node whose values the batch's bounds do not bound (a column with no known range)."""


class Bounds:
    """Sound integer bounds for every integer node of a plan, from the batch's input bounds.

    An engine may compute in fast 64-bit integers (which wrap silently on overflow) only when
    every integer the plan can produce — every intermediate included — is proven to lie within
    ±2^62 for this batch; otherwise it uses checked 38-digit integers."""

    def __init__(self, inputs: dict[str, tuple[int, int]], rows: int):
        self.env = dict(inputs)  # column name → (lo, hi)
        self.rows = max(rows, 1)
        self.memo: dict[int, tuple[int, int]] = {}
        self.seen: list = []  # nodes bounded, kept alive: a freed node's id() may be reused

    def fits_int64(self, plan: Plan, extra=()) -> bool:
        return self.fits(plan, extra, INT64_SAFE)

    def largest(self, plan: Plan, extra=()) -> int | None:
        """The largest magnitude any integer of the plan can take for this batch (None: unbounded)."""
        try:
            for step in plan.steps:
                v = step.value
                if isinstance(v, Num):
                    self.env[step.name] = self.of(v.num)
                    if v.den is not None:
                        self.env[step.name + "·den"] = self.of(v.den)
                else:
                    self.walk_other(v)
            for node in extra:
                self.walk_other(node)
        except Unbounded:
            return None
        values = list(self.memo.values()) + list(self.env.values())
        return max((max(abs(lo), abs(hi)) for lo, hi in values), default=0)

    def fits(self, plan: Plan, extra, limit: int) -> bool:
        top = self.largest(plan, extra)
        return top is not None and top < limit

    def walk_other(self, node):
        """Bound the integer nodes inside conditions, labels and lists too."""
        if isinstance(node, (BoolV,)):
            return self.walk_other(node.b)
        if isinstance(node, LabelV):
            return self.walk_other(node.label)
        if isinstance(node, ListV):
            for _, b in node.items:
                self.walk_other(b)
            return None
        if isinstance(node, Cmp):
            self.of(node.a)
            self.of(node.b)
            return None
        if attrs.has(type(node)):
            for f in attrs.fields(type(node)):
                v = getattr(node, f.name)
                if attrs.has(type(v)):
                    if _is_int_node(v):
                        self.of(v)
                    else:
                        self.walk_other(v)
        return None

    def of(self, n) -> tuple[int, int]:
        key = id(n)
        got = self.memo.get(key)
        if got is None:
            got = getattr(self, "b_" + type(n).__name__)(n)
            self.memo[key] = got
            self.seen.append(n)
        return got

    def b_Col(self, n):
        if n.name not in self.env:
            raise Unbounded()
        return self.env[n.name]

    def b_Lit(self, n):
        return (n.value, n.value)

    def b_NullI(self, n):
        return (0, 0)

    def b_Add(self, n):
        a, b = self.of(n.a), self.of(n.b)
        return (a[0] + b[0], a[1] + b[1])

    def b_Sub(self, n):
        a, b = self.of(n.a), self.of(n.b)
        d = _floor_multiple(n.b)
        if d is not None and _same(d[0], n.a):  # a − ⌊a/d⌋·d, the remainder: in [0, d)
            return (0, max(self.of(d[1])[1] - 1, 0))
        return (a[0] - b[1], a[1] - b[0])

    def b_Mul(self, n):
        a, b = self.of(n.a), self.of(n.b)
        d = _floor_multiple(n)
        if d is not None:  # ⌊x/d⌋·d lies in (x − d, x] (d > 0)
            x, dd = self.of(d[0]), self.of(d[1])
            return (x[0] - dd[1] + 1, x[1])
        p = [x * y for x in a for y in b]
        return (min(p), max(p))

    def b_Neg(self, n):
        a = self.of(n.a)
        return (-a[1], -a[0])

    def b_FloorDiv(self, n):
        a, b = self.of(n.a), self.of(n.b)
        lo_b = max(b[0], 1)  # divisors are > 0 by construction
        cands = [x // y for x in a for y in (lo_b, max(b[1], lo_b))]
        return (min(cands + [a[0], 0]) if a[0] < 0 else min(cands), max(cands + [0]) if a[1] > 0 else max(cands))

    def b_IfI(self, n):
        self.walk_other(n.cond)
        a, b = self.of(n.then), self.of(n.other)
        return (min(a[0], b[0]), max(a[1], b[1]))

    def b_Win(self, n):
        if n.func == "count":
            return (0, self.rows)
        a = self.of(n.arg)
        if n.func == "sum":
            return (min(0, a[0] * self.rows), max(0, a[1] * self.rows))
        return a

    def b_Rank(self, n):
        self.of(n.num)
        if n.den is not None:
            self.of(n.den)
            self.products(n.num, n.den)
        return (0, self.rows + 1)

    def products(self, num, den):
        """Ranks and picks of fractions compare num_i × den_j: bound those products too."""
        a, b = self.of(num), self.of(den)
        p = [x * y for x in a for y in b]
        key = ("cross", id(num), id(den))
        self.memo[hash(key)] = (min(p), max(p))

    def b_WinArgmax(self, n):
        self.products(n.num, n.den)
        return self.of(n.num) if n.part == "num" else self.of(n.den)

    def b_Prev(self, n):
        return self.of(n.arg) if _is_int_node(n.arg) else (0, 1)

    def b_Streak(self, n):
        self.walk_other(n.cond)
        return (0, self.rows)

    def b_LabelMap(self, n):
        vals = list(n.values) + ([n.default] if n.default is not None else [])
        return (min(vals), max(vals))

    def b_LabelRank(self, n):
        return (0, len(n.labels))


def _same(x, y) -> bool:
    return x is y or x == y


def _floor_multiple(n):
    """(x, d) when n is ⌊x/d⌋·d (as `round_int` builds it), else None."""
    if isinstance(n, Mul) and isinstance(n.a, FloorDiv) and _same(n.a.b, n.b):
        return n.a.a, n.b
    return None


_INT_NODES = (Col, Lit, NullI, Add, Sub, Mul, Neg, FloorDiv, IfI, Win, Rank, WinArgmax, Streak, LabelMap, LabelRank)


def _is_int_node(n) -> bool:
    if isinstance(n, Prev):
        return _is_int_node(n.arg)
    return isinstance(n, _INT_NODES)


def proven_valid(inp: ir.Input, bound: tuple[int, int], scale: int) -> bool:
    """Whether a batch's least and greatest value of a numeric input (`bound`, in its scaled
    integers: units of 10^-scale) prove every value of the column valid, so that no row needs
    its own test: whole (scale 0) for a count, within the reader's size limit (|x| < 10^31),
    inside one alternative of the input's domain. Both engines leave the proven tests out."""
    lo, hi = bound
    unit = 10 ** scale
    if inp.kind == "count" and scale:
        return False
    if not (-(10 ** 31) * unit < lo and hi < 10 ** 31 * unit):
        return False
    dom = inp.domain or rt._DEFAULT.get(inp.kind, ())
    if not dom:
        return True
    for a, b in dom:
        if (a is None or Fraction(lo, unit) >= a) and (b is None or Fraction(hi, unit) <= b):
            return True
    return False
