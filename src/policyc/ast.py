"""The surface tree: a faithful, typed picture of a policy's text.

parser.py builds it; the checker reads it; `fmt` and `doc` will print from it.
Every node has a `span` that tests ignore when comparing structure.
"""

from __future__ import annotations

import enum
from fractions import Fraction

import attrs

from .diagnostics import NOWHERE, Span


def _span():
    return attrs.field(default=NOWHERE, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class Name:
    id: str
    span: Span = _span()


# ───────────────────────── expressions ─────────────────────────


@attrs.frozen(kw_only=True)
class Number:
    """An exact literal; `unit` is None, '%', 's', 'min' or 'h' as written."""

    value: Fraction
    text: str
    unit: str | None = None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Ref:
    name: Name
    span: Span = _span()


@attrs.frozen(kw_only=True)
class String:
    text: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Items:
    """`items`: the sum of every item of the policy."""

    span: Span = _span()


@attrs.frozen(kw_only=True)
class BoolLit:
    value: bool
    span: Span = _span()


@attrs.frozen(kw_only=True)
class NaLit:
    span: Span = _span()


class BinOp(enum.Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    OF = "of"
    PER = "per"


class CmpOp(enum.Enum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "="
    NE = "!="


@attrs.frozen(kw_only=True)
class Binary:
    op: BinOp
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Neg:
    operand: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Beyond:
    operand: Expr
    allowance: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Compare:
    """A comparison, possibly chained: operands[0] ops[0] operands[1] …"""

    operands: tuple[Expr, ...]
    ops: tuple[CmpOp, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Not:
    operand: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Logic:
    op: str  # "and" | "or"
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class If:
    then: Expr
    cond: Expr
    otherwise: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Round:
    operand: Expr
    quantum: Expr
    mode: Name | None = None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Clamp:
    operand: Expr
    lo: Expr | None
    hi: Expr | None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class WhenZero:
    operand: Expr
    default: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class WhenNa:
    operand: Expr
    default: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Arg:
    """A call argument: `x`, `x over team [ascending]`, or `over team`."""

    value: Expr | None
    over: Name | None = None
    order: str | None = None  # "ascending" | "descending"
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Call:
    func: Name
    args: tuple[Arg, ...]
    span: Span = _span()


# ───────────────────────── tables ─────────────────────────


class TableKind(enum.Enum):
    FIRST = "first"
    RANGE = "table"
    MAP = "by"
    LINEAR = "linear"
    MARGINAL = "marginal"
    WEIGHTED = "weighted"
    ALL = "all"
    ANY = "any"


@attrs.frozen(kw_only=True)
class CmpRow:
    """`<= 5% -> 30` or `> 10s, < 20s -> 90`."""

    tests: tuple[tuple[CmpOp, Expr], ...]
    result: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class RangeRow:
    """`3 .. 4 -> -5`: a closed range of the subject."""

    lo: Expr
    hi: Expr
    result: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class CondRow:
    cond: Expr
    result: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ElseRow:
    result: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class LabelRow:
    labels: tuple[Name | String, ...]
    result: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class PointRow:
    x: Expr
    y: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class SliceRow:
    lo: Expr
    hi: Expr | None
    rate: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class WeightRow:
    weight: Number
    value: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class CriticalRow:
    cond: Expr
    span: Span = _span()


@attrs.frozen(kw_only=True)
class GateRow:
    label: Name | None
    cond: Expr
    span: Span = _span()


Row = CmpRow | RangeRow | CondRow | ElseRow | LabelRow | PointRow | SliceRow | WeightRow | CriticalRow | GateRow


@attrs.frozen(kw_only=True)
class Table:
    kind: TableKind
    subject: Expr | None
    rows: tuple[Row, ...]
    block: bool = True
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Split:
    amount: Expr
    ratios: tuple[Number, ...]
    quantum: Expr | None = None
    mode: Name | None = None
    span: Span = _span()


Expr = (
    Number | Ref | String | Items | BoolLit | NaLit | Binary | Neg | Beyond | Compare | Not | Logic
    | If | Round | Clamp | WhenZero | WhenNa | Call
)
Body = Expr | Table | Split


# ───────────────────────── statements ─────────────────────────


@attrs.frozen(kw_only=True)
class PolicyDecl:
    name: Name
    title: str | None = None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class PeriodDecl:
    kind: Name
    span: Span = _span()


@attrs.frozen(kw_only=True)
class SourceDecl:
    text: str
    span: Span = _span()


@attrs.frozen(kw_only=True)
class CohortDecl:
    name: Name
    keys: tuple[Name, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class AllowExtra:
    span: Span = _span()


@attrs.frozen(kw_only=True)
class TotalDecl:
    """`total 130 pts`: the policy's full marks."""

    points: Number
    span: Span = _span()


@attrs.frozen(kw_only=True)
class TypeSpec:
    """`count`, `percent`, … or `grade A > B`, `choice A | B` with their labels."""

    kind: Name
    labels: tuple[Name | String, ...] = ()
    span: Span = _span()


@attrs.frozen(kw_only=True)
class DomainRange:
    """One alternative of a domain: a point (lo == hi), a range, or open-ended."""

    lo: Number | None
    hi: Number | None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Domain:
    alternatives: tuple[DomainRange, ...]
    na: bool = False
    span: Span = _span()


@attrs.frozen(kw_only=True)
class InputDecl:
    names: tuple[Name, ...]
    type: TypeSpec
    domain: Domain | None = None
    same_over: Name | None = None
    direction: str | None = None  # "higher" | "lower": which way the measure improves
    doc: str | None = None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Require:
    cond: Expr
    doc: str | None = None
    span: Span = _span()


class DefKind(enum.Enum):
    LET = "let"
    OUTPUT = "output"
    ITEM = "item"
    PAY = "pay"
    LABEL = "label"


@attrs.frozen(kw_only=True)
class Definition:
    kind: DefKind
    names: tuple[Name, ...]
    body: Body
    max: Number | None = None
    doc: str | None = None
    span: Span = _span()


# ───────────────────────── examples ─────────────────────────


@attrs.frozen(kw_only=True)
class ListValue:
    """`[a, b]`: the expected names of `failed(…)` / `passed(…)`."""

    items: tuple[Name | String, ...]
    span: Span = _span()


Value = Number | Name | String | BoolLit | NaLit | ListValue
"""A literal in an example: a number (negative ones carry the sign in `text`), a
label written as a name or a string, true/false, na, or a list of labels."""


@attrs.frozen(kw_only=True)
class Given:
    """`late = 1` in a `given` line: an input (or `agent`, `period`) and its value."""

    name: Name
    value: Value
    span: Span = _span()


@attrs.frozen(kw_only=True)
class GivenLine:
    """One record of an example."""

    fields: tuple[Given, ...]
    span: Span = _span()


@attrs.frozen(kw_only=True)
class Expectation:
    """`total = 125` (exact) or `share ≈ 33.33%` (approx: rounded to the places written)."""

    name: Name
    value: Value
    approx: bool = False
    span: Span = _span()


@attrs.frozen(kw_only=True)
class ExpectLine:
    """`expect [for AGENT [in "PERIOD"]:] checks`."""

    checks: tuple[Expectation, ...]
    agent: Name | String | None = None
    period: String | None = None
    span: Span = _span()


@attrs.frozen(kw_only=True)
class RejectLine:
    """`expect rejected [FIELD]`."""

    field: Name | None = None
    span: Span = _span()


ExampleLine = GivenLine | ExpectLine | RejectLine


@attrs.frozen(kw_only=True)
class Example:
    name: Name | None
    title: str | None
    base: Name | None
    lines: tuple[ExampleLine, ...]
    span: Span = _span()


Statement = (
    PolicyDecl | PeriodDecl | SourceDecl | CohortDecl | AllowExtra | TotalDecl | InputDecl | Require | Definition
    | Example
)


@attrs.frozen(kw_only=True)
class Policy:
    statements: tuple[Statement, ...]
    file: str = "<string>"
    span: Span = _span()
