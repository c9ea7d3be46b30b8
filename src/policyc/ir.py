"""The checked intermediate form: names resolved, every node typed, definitions ordered.

Produced by the checker from `ast.Policy`; read by the reference evaluator and
by every backend. Nothing here is Python-specific: numbers are exact rationals,
operators are named, and columnar/SQL backends can read it as well.
"""

from __future__ import annotations

import enum
from fractions import Fraction

import attrs

from .diagnostics import NOWHERE, Span


def _span():
    return attrs.field(default=NOWHERE, eq=False, repr=False)


class Repr(enum.IntEnum):
    """How exactly a number must be held: whole, finite decimal, or rational."""

    INT = 0
    DEC = 1
    RAT = 2


class Dim(enum.Enum):
    NONE = "none"
    MONEY = "money"
    TIME = "time"


@attrs.frozen(kw_only=True)
class Type:
    """The type of a value. `kind` is num, bool, label, text or list."""

    kind: str
    dim: Dim = Dim.NONE
    repr: Repr = Repr.DEC
    free: bool = False  # a bare number whose unit the context decides
    count: bool = False  # a whole count (shown as an int)
    percent: bool = False  # shown as a percent in explanations
    labels: tuple[str, ...] = ()
    ordered: bool = False
    optional: bool = False  # may be N/A

    def describe(self) -> str:
        if self.kind == "error":
            return "a value of unknown type"
        if self.kind == "num":
            if self.dim is Dim.MONEY:
                base = "money"
            elif self.dim is Dim.TIME:
                base = "a duration"
            elif self.count:
                base = "a count"
            elif self.percent:
                base = "a percent"
            else:
                base = "a number"
        elif self.kind == "label":
            base = ("a grade" if self.ordered else "a label") + " (" + ", ".join(self.labels) + ")"
        else:
            base = {"bool": "a condition (true/false)", "text": "text", "list": "a list of names"}[self.kind]
        return base + (" that may be N/A" if self.optional else "")


NUM = Type(kind="num")
BOOL = Type(kind="bool")
TEXT = Type(kind="text")
LIST = Type(kind="list")


# ───────────────────────── expressions ─────────────────────────


@attrs.frozen(kw_only=True)
class Const:
    value: Fraction | bool | str | None
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Load:
    """The value of an input or of an earlier definition."""

    name: str
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Arith:
    op: str  # + - * /
    left: Expr
    right: Expr
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Neg:
    operand: Expr
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Compare:
    """operands[0] ops[0] operands[1] …; for labels of a grade, order is the grade's."""

    ops: tuple[str, ...]  # < <= > >= = !=
    operands: tuple[Expr, ...]
    type: Type = BOOL
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Not:
    operand: Expr
    type: Type = BOOL
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Logic:
    op: str  # and | or
    left: Expr
    right: Expr
    type: Type = BOOL
    span: Span = _span()


@attrs.frozen(kw_only=True)
class If:
    cond: Expr
    then: Expr
    otherwise: Expr
    type: Type
    span: Span = _span()


class RoundMode(enum.Enum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    UP = "up"
    DOWN = "down"


@attrs.frozen(kw_only=True)
class Round:
    operand: Expr
    quantum: Fraction
    mode: RoundMode
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Clamp:
    operand: Expr
    lo: Expr | None
    hi: Expr | None
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class MinMax:
    func: str  # min | max
    args: tuple[Expr, ...]
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Abs:
    operand: Expr
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Mean:
    args: tuple[Expr, ...]
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class CountTrue:
    args: tuple[Expr, ...]
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ZeroGuard:
    """`operand when zero default`: default if a division inside meets a zero."""

    operand: Expr
    default: Expr
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class NaGuard:
    operand: Expr
    default: Expr
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class CaseRow:
    cond: Expr
    result: Expr
    text: str  # the row as written, for explanations
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Cases:
    """A table: `first` takes the first row that holds; `unique` needs exactly one."""

    kind: str  # first | unique
    rows: tuple[CaseRow, ...]
    otherwise: CaseRow | None
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Linear:
    subject: Expr
    points: tuple[tuple[Fraction, Fraction], ...]
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Marginal:
    subject: Expr
    slices: tuple[tuple[Fraction, Fraction | None, Fraction], ...]  # lo, hi (None = no top), rate
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Weighted:
    rows: tuple[tuple[Fraction, Expr], ...]
    critical: tuple[Expr, ...]
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Gate:
    """`all:` / `any:` with named conditions."""

    kind: str  # all | any
    rows: tuple[tuple[str, Expr], ...]
    type: Type = BOOL
    span: Span = _span()


@attrs.frozen(kw_only=True)
class GateNames:
    """`failed(G)` / `passed(G)`: the names of G's conditions that failed / passed."""

    want: str  # failed | passed
    rows: tuple[tuple[str, Expr], ...]
    type: Type = LIST
    span: Span = _span()


@attrs.frozen(kw_only=True)
class SplitPart:
    amount: Expr
    ratios: tuple[Fraction, ...]
    index: int
    quantum: Fraction
    mode: RoundMode
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Aggregate:
    """A value over the record's cohort in the same period.

    func: max, min, sum, mean, count, rank, share. `column` names the input or
    definition aggregated (a condition for `count`; None for `count(over c)`).
    """

    func: str
    column: str | None
    cohort: str
    descending: bool
    type: Type
    span: Span = _span()


@attrs.frozen(kw_only=True)
class History:
    """func streak: consecutive periods (ending now) where `column` held;
    func previous: `column` in the preceding period (N/A if absent)."""

    func: str
    column: str
    type: Type
    span: Span = _span()


Expr = (
    Const | Load | Arith | Neg | Compare | Not | Logic | If | Round | Clamp | MinMax | Abs | Mean
    | CountTrue | ZeroGuard | NaGuard | Cases | Linear | Marginal | Weighted | Gate | GateNames
    | SplitPart | Aggregate | History
)


def children(e: Expr) -> tuple:
    """Return the sub-expressions of a node, in evaluation order."""
    if isinstance(e, (Const, Load, Aggregate, History)):
        return ()
    if isinstance(e, Arith):
        return (e.left, e.right)
    if isinstance(e, (Neg, Not, Abs)):
        return (e.operand,)
    if isinstance(e, Compare):
        return e.operands
    if isinstance(e, Logic):
        return (e.left, e.right)
    if isinstance(e, If):
        return (e.cond, e.then, e.otherwise)
    if isinstance(e, Round):
        return (e.operand,)
    if isinstance(e, Clamp):
        return tuple(x for x in (e.operand, e.lo, e.hi) if x is not None)
    if isinstance(e, (MinMax, Mean, CountTrue)):
        return e.args
    if isinstance(e, (ZeroGuard, NaGuard)):
        return (e.operand, e.default)
    if isinstance(e, Cases):
        out = []
        for r in e.rows:
            out += [r.cond, r.result]
        if e.otherwise is not None:
            out.append(e.otherwise.result)
        return tuple(out)
    if isinstance(e, (Linear, Marginal)):
        return (e.subject,)
    if isinstance(e, Weighted):
        return tuple(x for _, x in e.rows) + e.critical
    if isinstance(e, (Gate, GateNames)):
        return tuple(x for _, x in e.rows)
    if isinstance(e, SplitPart):
        return (e.amount,)
    raise TypeError(f"unknown IR node {type(e).__name__}")


def walk(e: Expr):
    """Yield every node of an expression, parents first."""
    yield e
    for c in children(e):
        yield from walk(c)


# ───────────────────────── the policy ─────────────────────────


@attrs.frozen(kw_only=True)
class Input:
    name: str
    kind: str  # count percent duration money points number grade choice text bool
    type: Type
    domain: tuple[tuple[Fraction | None, Fraction | None], ...]  # alternatives; () = the kind's default
    na: bool
    same_over: str | None
    doc: str | None
    direction: str | None = None  # "higher" | "lower" is better
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Require:
    cond: Expr
    fields: tuple[str, ...]
    text: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Cohort:
    name: str
    keys: tuple[str, ...]  # input names; the period is always part of the key


@attrs.frozen(kw_only=True)
class Definition:
    name: str
    kind: str  # let output item pay label hidden
    expr: Expr
    type: Type
    phase: int
    text: str  # the body as written
    max: Fraction | None = None
    doc: str | None = None
    span: Span = _span()

    @property
    def is_output(self) -> bool:
        return self.kind not in ("let", "hidden")


@attrs.frozen(kw_only=True)
class Check:
    """One expected value of an example: `name = value` for the record (agent, period)."""

    agent: str
    period: str
    name: str
    value: Fraction | bool | str | None | tuple[str, ...]  # a number, true/false, a label, N/A, a list of names
    approx: bool  # `≈`: compare after rounding half-up to `places` decimals
    places: int
    text: str  # the expected value as written
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Example:
    """A worked case: records (raw values, as a record file would hold them) and what they must give."""

    name: str | None
    title: str | None
    records: tuple[tuple[tuple[str, object], ...], ...]  # each record: (field, value) pairs, agent and period first
    checks: tuple[Check, ...]
    rejected: bool = False  # `expect rejected`: the batch must be refused
    reject_field: str | None = None
    span: Span = _span()

    @property
    def label(self) -> str:
        """How reports name the example: its title, else its name, else its line."""
        return self.title or self.name or f"example at line {self.span.line}"

    def record_dicts(self) -> list[dict]:
        return [dict(r) for r in self.records]


@attrs.frozen(kw_only=True)
class Policy:
    name: str
    title: str | None
    period: str  # month half_month quarter year
    source: str | None
    allow_extra: bool
    cohorts: tuple[Cohort, ...]
    inputs: tuple[Input, ...]
    requires: tuple[Require, ...]
    definitions: tuple[Definition, ...]  # in dependency order
    output_names: tuple[str, ...]  # in the order the policy writes them
    file: str = "<string>"
    examples: tuple[Example, ...] = ()

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output names in the order the policy defines them."""
        return self.output_names

    @property
    def phases(self) -> int:
        return 1 + max((d.phase for d in self.definitions), default=0)

    def definition(self, name: str) -> Definition:
        for d in self.definitions:
            if d.name == name:
                return d
        raise KeyError(name)
