"""The SQL backend: a columnar plan (backends/columnar.py) rendered as one SQL query.

The query is built as a sqlglot expression tree and rendered per dialect: `duckdb` (run
in-process by `score_duckdb`) and `spark` (Spark SQL, ANSI mode). There is no second
lowering from the IR: every value is the plan's `Num(num, scale, den)` over integer nodes,
and the integers are *checked* — DuckDB `HUGEINT` and Spark `DECIMAL(38, 0)` raise on
overflow — so a result is exact or the query fails; it is never approximated.

Shape of the query (docs/sql.md):

- `_policyc_0` reads the table: agent, period, the period's ordinal, and every input
  converted — a number to its scaled integer, exactly (the decimal text's digits; a value
  with more decimals than its scale, or not a plain decimal, makes the query fail), labels
  and text as text, conditions as booleans, N/A as NULL.
- `_policyc_1`, `_policyc_2`, …: one SELECT per dependency level, each adding the columns
  whose inputs are in earlier relations; a window (cohort value, rank, previous, streak)
  always reads an earlier relation.
- the final SELECT: agent, period and the outputs (whole numbers BIGINT, decimals
  DECIMAL(38, s), fractions rounded half-up to DECIMAL(38, 20), booleans, labels, lists),
  behind a guard that raises on a record that is not valid (with `validate=True`) and on a
  cohort pick or rank whose exact proof failed.

`compile_validation_sql` is the companion query that lists the bad rows instead of
failing; `score_duckdb` runs it first and hands a batch with a bad row to the Python
engine's reader, so bad records are reported exactly as `policyc score` reports them.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import warnings
from decimal import Decimal
from fractions import Fraction

import attrs

from .. import ir
from .. import runtime as rt
from . import columnar as C
from .polars_engine import EngineLimit  # one exception for every engine's limits

try:  # sqlglot is optional: `pip install policyc[sql]`
    from sqlglot import exp
except ImportError:  # pragma: no cover - exercised only without sqlglot
    exp = None

__all__ = ["DEFAULT_SCALES", "DIALECTS", "SqlUnsupported", "compile_sql", "compile_validation_sql",
           "score_duckdb", "EngineLimit"]

#: Decimal places an input kind is read with when the caller gives no scale (docs/sql.md).
DEFAULT_SCALES = {"count": 0, "percent": 4, "money": 2, "points": 2, "number": 4, "duration": 3}
DIALECTS = ("duckdb", "spark")
MAX_SCALE = 18
MARK = "policyc:"  # every error the query raises starts with this
RATIONAL_PLACES = 20
STREAK_LAGS = 12  # a streak compared with a whole number up to this takes one window of LAGs

_NUMERIC = ("count", "percent", "duration", "money", "points", "number")
_NA_TEXT = ("", "na", "n/a", "none", "null")
_TRUE = ("true", "yes", "1", "是", "y")
_FALSE = ("false", "no", "0", "否", "n")
_PERIOD = {  # regular expression (no backslashes: the same text in every dialect) and length
    "month": ("^[0-9]{4}-(0[1-9]|1[0-2])$", 7),
    "half_month": ("^[0-9]{4}-(0[1-9]|1[0-2])-H[12]$", 10),
    "quarter": ("^[0-9]{4}-Q[1-4]$", 7),
    "year": ("^[0-9]{4}$", 4),
}

RANK_NOT_EXACT = "a rank could not be ordered exactly"
PICK_NOT_EXACT = "a cohort maximum could not be picked exactly"


class SqlUnsupported(C.Unsupported):
    """A policy (or a part of it) the SQL backend cannot express exactly; reported at compile time."""


def available() -> bool:
    return exp is not None


# ───────────────────────── dialects ─────────────────────────


class _Dialect:
    """What differs between the SQL engines: the checked integer type, floor division, errors."""

    def __init__(self, name: str, narrow: bool = False):
        if name not in DIALECTS:
            raise ValueError(f"unknown SQL dialect {name!r}: use one of {', '.join(DIALECTS)}")
        self.name = name
        # DuckDB checks BIGINT arithmetic as it checks HUGEINT (overflow raises), so a query in
        # BIGINT is exact or fails; `narrow` renders one, which the engine tries first
        self.narrow = narrow and name == "duckdb"
        self.hugeint = exp.DataType.build("HUGEINT", dialect="duckdb")
        self.int = exp.DataType.build("BIGINT") if self.narrow else self.hugeint if name == "duckdb" \
            else exp.DataType.build("DECIMAL(38, 0)")
        self.text = exp.DataType.build("VARCHAR")
        self.double = exp.DataType.build("DOUBLE")
        self.bigint = exp.DataType.build("BIGINT")

    @contextlib.contextmanager
    def wide(self):
        """Integers built inside are HUGEINT (in a BIGINT query: what meets them is widened)."""
        narrow, self.int = self.int, self.hugeint if self.name == "duckdb" else self.int
        try:
            yield
        finally:
            self.int = narrow

    def error(self, message):
        """An expression that raises with `message` (a text expression) when evaluated."""
        return exp.Anonymous(this="error" if self.name == "duckdb" else "raise_error", expressions=[message])

    def floordiv(self, a, b):
        """⌊a / b⌋ for b > 0, exactly."""
        if self.name == "duckdb":
            # `//` on HUGEINT truncates toward zero: one less when the remainder is negative
            trunc = _p(exp.IntDiv(this=a, expression=b))
            neg = exp.LT(this=_p(exp.Mod(this=a, expression=b)), expression=self.lit(0))
            return _p(exp.Sub(this=trunc, expression=_case([(neg, self.lit(1))], self.lit(0))))
        # Spark: `div` returns a BIGINT (and wraps); `/` on DECIMAL(38, 0) rounds to 6 places. So
        # take the exact remainder pmod(a, b) ∈ [0, b) off first: (a − r) / b is a whole number,
        # which the division gives exactly (or raises, past 32 digits); the cast keeps its value.
        r = exp.Anonymous(this="pmod", expressions=[a, b])
        whole = _p(exp.Div(this=_p(exp.Sub(this=a, expression=r)), expression=b))
        return exp.Cast(this=whole, to=self.int)

    def lit(self, v: int):
        n = exp.Literal.number(abs(v))
        # (a literal too large for BIGINT stays HUGEINT: what meets it is computed in HUGEINT)
        e = exp.Cast(this=n, to=self.hugeint if self.narrow and abs(v) >= 2 ** 62 else self.int)
        return _p(exp.Neg(this=e)) if v < 0 else e

    def decimal(self, k, places: int):
        """The integer expression k as a DECIMAL(38, places) worth k / 10^places, exactly."""
        to = exp.DataType.build(f"DECIMAL(38, {places})")
        if places == 0:
            return exp.Cast(this=k, to=to)
        if self.name == "duckdb":  # DECIMAL × DECIMAL is exact in DuckDB (and checked)
            unit = exp.Cast(this=exp.Literal.string("0." + "0" * (places - 1) + "1"),
                            to=exp.DataType.build(f"DECIMAL({places}, {places})"))
            return exp.Cast(this=_p(exp.Mul(this=exp.Cast(this=k, to=exp.DataType.build("DECIMAL(38, 0)")),
                                            expression=unit)), to=to)
        # Spark may round a decimal product or quotient to fewer places: write the digits instead
        digits = exp.Concat(expressions=[exp.Literal.string("0" * places),
                                         exp.Cast(this=exp.Abs(this=k), to=self.text)])
        sign = _case([(exp.LT(this=k, expression=self.lit(0)), exp.Literal.string("-"))], exp.Literal.string(""))
        length = exp.Length(this=digits)
        head = exp.Left(this=digits, expression=_p(exp.Sub(this=length, expression=exp.Literal.number(places))))
        tail = exp.Right(this=digits, expression=exp.Literal.number(places))
        text = exp.Concat(expressions=[sign, head, exp.Literal.string("."), tail])
        return exp.Cast(this=text, to=to)

    def regex(self, text, pattern: str):
        return exp.RegexpLike(this=text, expression=exp.Literal.string(pattern))


def _p(e):
    return exp.Paren(this=e)


def _case(ifs, default=None):
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in ifs], default=default)


def _balanced(cls, parts):
    """a op b op c …, as a balanced tree (a chain of 60 conditions nests too deeply for parsers)."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return cls(this=_p(_balanced(cls, parts[:mid])), expression=_p(_balanced(cls, parts[mid:])))


def _and(parts):
    return _balanced(exp.And, parts)


def _or(parts):
    return _balanced(exp.Or, parts)


def _not(e):
    return exp.Not(this=_p(e))


def _coalesce(e, default: bool):
    return exp.Coalesce(this=e, expressions=[exp.Boolean(this=default)])


def _ident(name: str):
    return exp.to_identifier(name, quoted=True)


def _col(name: str):
    return exp.Column(this=_ident(name))


def _strs(values):
    return [exp.Literal.string(v) for v in values]


# ───────────────────────── rendering ─────────────────────────


class _Query:
    """Builds the relations of one query: columns placed at levels (0 = read from the table)."""

    def __init__(self, policy: ir.Policy, dialect: str, table: str, scales: dict, row_id: str | None,
                 strict: bool, types: dict | None = None, narrow: bool = False, keys_proven: bool = False,
                 bounds: C.Bounds | None = None, checked: frozenset = frozenset(), scaled_out: dict | None = None,
                 apart: bool = False):
        self.p = policy
        self.apart = apart and row_id is not None  # see compile_sql
        # with apart: the partitions of ordered windows (made by `relations`, once the levels are
        # final), and partition → the column of its number, once a GROUP BY on its keys made it
        self.numbered: set[str] = set()
        self.numbers: dict[str, str] = {}
        self.keys_proven = keys_proven
        self.checked = checked  # inputs (and "agent") the caller proved valid in every row
        self.trusted: set[str] = set()  # the checked inputs read without a test (typed columns)
        self.scaled_out = scaled_out  # see compile_sql
        self.bounds = bounds
        self.types = dict(types or {})
        self.d = _Dialect(dialect, narrow)
        self.table = table
        self.scales = scales
        self.row_id = row_id
        self.strict = strict
        self.cols: dict[str, tuple[str, int]] = {}  # plan column name → (SQL column, level)
        self.levels: dict[int, list] = {}  # level → [(SQL column, expression)]
        self.memo: dict = {}
        self.count = 0
        self.checks: list[tuple[object, object]] = []  # (bad-row condition column, message)
        self.fields: list[tuple[str, object, str]] = []  # validation: (field, ok column, what is wrong)
        self.windowed = False  # whether a window reorders rows (then only ORDER BY restores their order)
        # label inputs held as codes (name → their labels, in code order): a label's position, read
        # once; lookups and comparisons with a literal compare integers, other uses decode
        self.enums: dict[str, tuple[str, ...]] = {}
        self.window_floor = 0  # the first level a window of the plan may be at (after validation)

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"_{prefix}{self.count}"

    def place(self, e, level: int, prefix: str = "h", name: str | None = None):
        """Put expression e (reading columns up to `level`) in a column; return (ref, its level)."""
        name = name or self.fresh(prefix)
        at = max(level + 1, 1)
        if self.window_floor and e.find(exp.Window) is not None:
            at = max(at, self.window_floor)  # (a window carries every column of its level)
        self.levels.setdefault(at, []).append((name, e))
        return _col(name), at

    def level_of(self, *cols) -> int:
        """The highest level at which one of these placed columns is made."""
        names = {c.name for c in cols}
        return max(lv for lv, placed in self.levels.items() for n, _ in placed if n in names)

    def base(self, name: str, e):
        self.levels.setdefault(0, []).append((name, e))
        return _col(name), 0

    # ── integers ──
    def i(self, n):
        return getattr(self, "i_" + type(n).__name__)(n)

    def fits(self, *nodes) -> bool:
        """Whether a BIGINT query may compute these nodes (or the product of two) in BIGINT: True
        unless the batch's bounds (when known) say a value may need more. (Either way DuckDB checks
        BIGINT overflow: a wrong guess fails the query, and the engine runs the HUGEINT one.)"""
        if not self.d.narrow or self.bounds is None:
            return True
        try:
            ranges = [self.bounds.of(n) for n in nodes]
        except C.Unbounded:
            return False
        top = 1
        for lo, hi in ranges:
            top *= max(abs(lo), abs(hi))
        return top < C.INT64_SAFE

    def below(self, node, limit: int) -> bool:
        """Whether the batch's bounds (when known) keep every value of node within ±(limit − 1)."""
        if self.bounds is None:
            return False
        try:
            lo, hi = self.bounds.of(node)
        except C.Unbounded:
            return False
        return max(-lo, hi) < limit

    def widen(self, *es):
        return [exp.Cast(this=e, to=self.d.hugeint) for e in es]

    def i_Col(self, n):
        name, lv = self.cols[n.name]
        return _col(name), lv

    def i_Lit(self, n):
        return self.d.lit(n.value), -1

    def i_NullI(self, n):
        return exp.Cast(this=exp.Null(), to=self.d.int), -1

    def _bin(self, cls, n):
        (a, la), (b, lb) = self.i(n.a), self.i(n.b)
        if not self.fits(n):
            a, b = self.widen(a, b)
        return _p(cls(this=a, expression=b)), max(la, lb)

    def i_Add(self, n):
        return self._bin(exp.Add, n)

    def i_Sub(self, n):
        return self._bin(exp.Sub, n)

    def i_Mul(self, n):
        return self._bin(exp.Mul, n)

    def i_Neg(self, n):
        a, la = self.i(n.a)
        if not self.fits(n):
            (a,) = self.widen(a)
        return _p(exp.Neg(this=a)), la

    def i_FloorDiv(self, n):
        (a, la), (b, lb) = self.i(n.a), self.i(n.b)
        rounds = self.estimable(n)
        if rounds:
            return self.floordiv_from_estimate(n, a, b, max(la, lb), rounds)
        if self.nonnegative(n.a):  # DuckDB's `//` truncates: the floor itself for a ≥ 0 (b > 0)
            return _p(exp.IntDiv(this=a, expression=b)), max(la, lb)
        return self.d.floordiv(a, b), max(la, lb)

    def estimable(self, n) -> int:
        """In the BIGINT query, how many floating-point estimates `floordiv_from_estimate` needs to
        compute ⌊a / b⌋ for a HUGEINT `a` and a BIGINT `b` (0: divide in HUGEINT): one when the
        batch's bounds keep `a` within ±2^110, else two."""
        if not self.d.narrow or self.bounds is None or self.fits(n.a):
            return 0
        try:
            if self.bounds.of(n.b)[1] >= C.INT64_SAFE:
                return 0
        except C.Unbounded:
            return 0
        try:
            lo, hi = self.bounds.of(n.a)
        except C.Unbounded:
            return 2
        return 1 if max(-lo, hi) < 2 ** 110 else 2

    def floordiv_from_estimate(self, n, a, b, level, rounds):
        """⌊a / b⌋ (b > 0) for a HUGEINT a, without DuckDB's HUGEINT division, which works bit by
        bit (about 200 ms per million rows, ten times a BIGINT one). An estimate q of x / b, the
        quotient of their DOUBLEs, is within |x|·2^-51 / b + 1 of it, so the remainder x − q·b,
        exact in HUGEINT, is within |x|·2^-51 + b of 0: a BIGINT for |x| < 2^110, else within
        2^76 and a second estimate brings it to a BIGINT. Then ⌊a / b⌋ = Σq + ⌊r / b⌋, whatever
        the estimates are: they are never trusted, and a remainder beyond BIGINT fails its cast,
        and so the query, and the engine then runs its all-HUGEINT query."""
        if n in self.memo:
            return self.memo[n]
        x, lv, qs = a, level, []
        for k in range(rounds):
            q, lv = self.place(exp.Cast(this=self.key(x, b), to=self.d.hugeint), lv, "q")
            qs.append(q)
            x = _p(exp.Sub(this=x, expression=_p(exp.Mul(this=q, expression=b))))
            if k < rounds - 1:
                x, lv = self.place(x, lv, "q")
        whole = self.d.floordiv(exp.Cast(this=x, to=self.d.bigint), exp.Cast(this=b, to=self.d.bigint))
        for q in qs:
            whole = _p(exp.Add(this=q, expression=whole))
        self.memo[n] = out = self.place(whole, lv, "q")
        return out

    def nonnegative(self, n) -> bool:
        """Whether the batch's bounds (when known) prove node n ≥ 0. (Unlike a width, this is
        relied on: the bounds' signs are exact — a text column's float bounds keep the sign.)"""
        if not self.d.narrow or self.bounds is None:
            return False
        try:
            return self.bounds.of(n)[0] >= 0
        except C.Unbounded:
            return False

    def i_IfI(self, n):
        (c, lc), (t, lt), (o, lo) = self.b(n.cond), self.i(n.then), self.i(n.other)
        return _case([(c, t)], o), max(lc, lt, lo)

    def keys(self, keys):
        out, lv = [], 0
        for k in keys:
            e, lk = self.i_Col(C.Col(k)) if k in self.cols else (_col(k), 0)
            out.append(e)
            lv = max(lv, lk)
        return out, lv

    def window(self, func, partition, order=None, frame=False):
        self.windowed = True
        spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW") \
            if frame else None
        return exp.Window(this=func, partition_by=partition,
                          order=exp.Order(expressions=order) if order else None, spec=spec)

    def i_Win(self, n):
        if n in self.memo:
            return self.memo[n]
        part, lk = self.keys(n.keys)
        if n.func == "count":
            func, la = exp.Count(this=exp.Star()), -1
        else:
            a, la = self.i(n.arg)
            func = {"max": exp.Max, "min": exp.Min, "sum": exp.Sum}[n.func](this=a)
        e = exp.Cast(this=self.window(func, part), to=self.d.int if self.fits(n) else self.d.hugeint)
        self.memo[n] = out = self.place(e, max(la, lk), "w")
        return out

    def key(self, num, den):
        return _p(exp.Div(this=exp.Cast(this=num, to=self.d.double), expression=exp.Cast(this=den, to=self.d.double)))

    def i_Rank(self, n):
        if n in self.memo:
            return self.memo[n]
        part, lk = self.keys(n.keys)
        num, ln = self.i(n.num)
        if n.den is None:  # exact: 1 + the rows ordered strictly before
            order = [exp.Ordered(this=num, desc=n.descending)]
            e = exp.Cast(this=self.window(exp.Anonymous(this="RANK"), part, order), to=self.d.int)
            self.memo[n] = out = self.place(e, max(ln, lk), "r")
            return out
        # fractions: order each window by a float key, then prove the order exactly (each value
        # against the one before it, in integers) and find the ties exactly; the rank is where a
        # row's run of equal values starts. A wrong float order fails the query. (RANK() over the
        # float key alone would save a window, but equal fractions can have keys an ulp apart
        # once their integers exceed 2^53, and it would then not see the tie.)
        den, ld = self.i(n.den)
        lv = max(ln, ld, lk)
        places = self.key_places(n)
        if places is not None:
            return self.rank_by_key(n, part, num, den, lv, places)
        agent, _ = self.keys(["agent"])
        order = [exp.Ordered(this=self.key(num, den), desc=n.descending), exp.Ordered(this=agent[0])]
        prev_num, l1 = self.place(self.window(exp.Anonymous(this="LAG", expressions=[num]), part, order), lv, "r")
        prev_den, _ = self.place(self.window(exp.Anonymous(this="LAG", expressions=[den]), part, order), lv, "r")
        pos, _ = self.place(self.window(exp.RowNumber(), part, order), lv, "r")
        mine, theirs = self.cross(n.num, n.den, (num, prev_den), (prev_num, den))
        wrong = exp.GT(this=mine, expression=theirs) if n.descending else exp.LT(this=mine, expression=theirs)
        bad, _ = self.place(_coalesce(wrong, False), l1, "r")
        self.checks.append((bad, RANK_NOT_EXACT))
        start = _case([(exp.EQ(this=mine, expression=theirs), exp.Literal.number(-1))], pos)
        e = exp.Cast(this=self.window(exp.Max(this=start), part, order, frame=True), to=self.d.int)
        self.memo[n] = out = self.place(e, l1, "r")
        return out

    def key_places(self, n) -> int | None:
        """For a rank of fractions in the BIGINT query: the decimal places k of an exact integer
        key ⌊num·10^k / den⌋ the batch's bounds keep within HUGEINT (as many as 20), or None."""
        if not self.d.narrow or self.bounds is None:
            return None
        try:
            (lo, hi), (_, top_den) = self.bounds.of(n.num), self.bounds.of(n.den)
        except C.Unbounded:
            return None
        top = max(-lo, hi, 1)
        if top_den >= C.INT64_SAFE or top >= 2 ** 120:
            return None
        k = 0
        while k < 20 and top * 10 ** (k + 1) < 2 ** 120:
            k += 1
        return k

    def rank_by_key(self, n, part, num, den, level, places):
        """A rank of fractions in one window: RANK() over the integer key ⌊num·10^k / den⌋, which
        never orders two values wrongly (a larger key means a larger value) and gives equal
        fractions equal keys; only two different values with one key would tie wrongly, so each
        row is compared exactly with the one before it where their keys are equal, and a wrong
        tie fails the query (the engine's all-HUGEINT query then ranks as `i_Rank` does)."""
        key, lk = self.i(C.FloorDiv(C.Mul(n.num, C.pow10(places)), n.den))
        lv = max(level, lk)
        order = [exp.Ordered(this=key, desc=n.descending)]
        rank, l1 = self.place(exp.Cast(this=self.window(exp.Anonymous(this="RANK"), part, order), to=self.d.int),
                              lv, "r")
        prev_key, _ = self.place(self.window(exp.Anonymous(this="LAG", expressions=[key]), part, order), lv, "r")
        prev_num, _ = self.place(self.window(exp.Anonymous(this="LAG", expressions=[num]), part, order), lv, "r")
        prev_den, _ = self.place(self.window(exp.Anonymous(this="LAG", expressions=[den]), part, order), lv, "r")
        mine, theirs = self.cross(n.num, n.den, (num, prev_den), (prev_num, den))
        wrong = _and([exp.EQ(this=prev_key, expression=key), exp.NEQ(this=mine, expression=theirs)])
        bad, _ = self.place(_coalesce(wrong, False), l1, "r")
        self.checks.append((bad, RANK_NOT_EXACT))
        self.memo[n] = out = (rank, l1)
        return out

    def i_WinArgmax(self, n):
        """Pick the extreme num/den of each window by a float key, then prove the pick exactly:
        every row's value must be ≤ (≥) the pick, compared in integers, or the query fails."""
        key = (n.num, n.den, n.keys, n.largest)
        if key not in self.memo:
            part, lk = self.keys(n.keys)
            (num, ln), (den, ld) = self.i(n.num), self.i(n.den)
            lv = max(ln, ld, lk)
            agent, _ = self.keys(["agent"])
            order = [exp.Ordered(this=self.key(num, den), desc=n.largest), exp.Ordered(this=agent[0])]
            pick_num, lp = self.place(self.window(exp.FirstValue(this=num), part, order), lv, "m")
            pick_den, _ = self.place(self.window(exp.FirstValue(this=den), part, order), lv, "m")
            mine, best = self.cross(n.num, n.den, (num, pick_den), (pick_num, den))
            wrong = exp.GT(this=mine, expression=best) if n.largest else exp.LT(this=mine, expression=best)
            bad, _ = self.place(_coalesce(wrong, False), lp, "m")
            self.checks.append((bad, PICK_NOT_EXACT))
            self.memo[key] = {"num": (pick_num, lp), "den": (pick_den, lp)}
        return self.memo[key][n.part]

    def cross(self, num, den, *pairs):
        """The products num_i × den_j that compare two fractions num/den exactly."""
        wide = not self.fits(num, den)
        out = []
        for a, b in pairs:
            if wide:
                a, b = self.widen(a, b)
            out.append(_p(exp.Mul(this=a, expression=b)))
        return out

    def history(self):
        agent, _ = self.keys(["agent"])
        order, _ = self.keys(["·ordinal"])
        return agent, [exp.Ordered(this=order[0])], order[0]

    def i_Prev(self, n):
        if n in self.memo:
            return self.memo[n]
        x, lx = self.any(n.arg)
        part, order, o = self.history()
        lag_o = self.window(exp.Anonymous(this="LAG", expressions=[o]), part, order)
        lag_x = self.window(exp.Anonymous(this="LAG", expressions=[x]), part, order)
        consecutive = exp.EQ(this=lag_o, expression=_p(exp.Sub(this=o, expression=exp.Literal.number(1))))
        self.memo[n] = out = self.place(_case([(consecutive, lag_x)]), lx, "p")
        return out

    def i_Streak(self, n):
        if n in self.memo:
            return self.memo[n]
        c, lc = self.b(n.cond)
        c = _coalesce(c, False)
        part, order, o = self.history()
        prev_c, l1 = self.place(_coalesce(self.window(exp.Anonymous(this="LAG", expressions=[c]), part, order),
                                          False), lc, "k")
        lag_o = self.window(exp.Anonymous(this="LAG", expressions=[o]), part, order)
        cons, _ = self.place(_coalesce(exp.EQ(this=lag_o, expression=_p(exp.Sub(this=o, expression=exp.Literal.number(1)))),
                                       False), lc, "k")
        idx, _ = self.place(self.window(exp.RowNumber(), part, order), lc, "k")
        starts = _case([(_and([c, prev_c, cons]), exp.Literal.number(-1))], idx)
        last = self.window(exp.Max(this=starts), part, order, frame=True)
        value = _case([(c, _p(exp.Add(this=_p(exp.Sub(this=idx, expression=last)), expression=exp.Literal.number(1))))],
                      exp.Literal.number(0))
        self.memo[n] = out = self.place(exp.Cast(this=value, to=self.d.int), l1, "k")
        return out

    def streak_compared(self, n):
        """`streak(c) op k` for a whole number k, in one window instead of the two a streak's
        length takes, or None (k too large). Every comparison is said with at_least(m), that the
        streak is m periods or more: c holds in this record and in the m − 1 before it, and the
        (m − 1)th record before is m − 1 periods back (an agent's periods are distinct and
        ordered, so the records between fill the months between)."""
        flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
        streak, k, op = (n.a, n.b.value, n.op) if isinstance(n.a, C.Streak) else (n.b, n.a.value, flip[n.op])
        if k > STREAK_LAGS:
            return None
        c, lc = self.b(streak.cond)
        c = _coalesce(c, False)
        part, order, o = self.history()
        levels = [-1]

        def lag(x, j):
            return self.window(exp.Anonymous(this="LAG", expressions=[x, exp.Literal.number(j)]), part, order)

        def at_least(m):
            if m <= 0:
                return exp.Boolean(this=True)
            if (streak, m) not in self.memo and m > 1 and self.apart and self.keys_proven:
                # windows set apart, an agent's periods proven distinct: the records where c holds,
                # joined with themselves m − 1 periods back (`apart_level`), instead of a window
                # over every record; the window's form goes along, for a level that sorts the
                # records by agent and period anyway
                if (streak, "c") not in self.memo:
                    self.memo[(streak, "c")] = self.place(c, lc, "k")
                held, lh = self.memo[(streak, "c")]
                back = _p(exp.Sub(this=o, expression=exp.Literal.number(m - 1)))
                window = _and([held] + [_coalesce(lag(held, j), False) for j in range(1, m)]
                              + [_coalesce(exp.EQ(this=lag(o, m - 1), expression=back), False)])
                mark = exp.Anonymous(this=_STREAK_JOIN, expressions=[held, part[0], o, exp.Literal.number(m), window])
                self.memo[(streak, m)] = self.place(mark, lh, "k")
            if (streak, m) not in self.memo:
                parts = [c] + [_coalesce(lag(c, j), False) for j in range(1, m)]
                if m > 1:
                    back = _p(exp.Sub(this=o, expression=exp.Literal.number(m - 1)))
                    parts.append(_coalesce(exp.EQ(this=lag(o, m - 1), expression=back), False))
                self.memo[(streak, m)] = self.place(_and(parts), lc, "k")
            ref, lv = self.memo[(streak, m)]
            levels.append(lv)
            return ref

        forms = {">=": lambda: at_least(k), ">": lambda: at_least(k + 1), "<": lambda: _not(at_least(k)),
                 "<=": lambda: _not(at_least(k + 1)),
                 "=": lambda: _and([at_least(k), _not(at_least(k + 1))]),
                 "!=": lambda: _or([_not(at_least(k)), at_least(k + 1)])}
        e = forms[op]()
        return e, max(levels)

    def label_test(self, x, label_expr_name: str | None, label: str):
        """x = label, for x a label column (by its code when `label_expr_name` is a coded input),
        or None when a coded input cannot hold that label."""
        if label_expr_name in self.enums:
            labels = self.enums[label_expr_name]
            return exp.EQ(this=x, expression=exp.Literal.number(labels.index(label))) if label in labels else None
        return exp.EQ(this=x, expression=exp.Literal.string(label))

    def _label_case(self, x, name, pairs):
        """The (test, value) pairs of a CASE over label column x, for the (label, value) pairs
        it can hold."""
        return [(t, v) for t, v in ((self.label_test(x, name, lab), v) for lab, v in pairs) if t is not None]

    def i_LabelMap(self, n):
        x, lx = self.i_Col(C.Col(n.label))
        ifs = self._label_case(x, n.label, [(lab, self.d.lit(v)) for lab, v in zip(n.labels, n.values)])
        default = self.d.lit(n.default) if n.default is not None else exp.Cast(this=exp.Null(), to=self.d.int)
        return (_case(ifs, default) if ifs else default), lx

    def i_LabelRank(self, n):
        coded = n.label.name if isinstance(n.label, C.LCol) and n.label.name in self.enums else None
        x, lx = self.i_Col(C.Col(coded)) if coded else self.lab(n.label)
        ifs = self._label_case(x, coded, [(lab, self.d.lit(k)) for k, lab in enumerate(n.labels)])
        null = exp.Cast(this=exp.Null(), to=self.d.int)
        return (_case(ifs, null) if ifs else null), lx

    # ── any kind ──
    def any(self, n):
        inner = n
        while isinstance(inner, C.Prev):
            inner = inner.arg
        if isinstance(inner, (C.LCol, C.LLit, C.IfL)):
            return self.lab(n)
        if isinstance(inner, (C.BCol, C.Cmp, C.And, C.Or, C.Not, C.BLit, C.IsNull, C.IfB, C.LabelIs)):
            return self.b(n)
        return self.i(n)

    # ── booleans ──
    def b(self, n):
        return getattr(self, "b_" + type(n).__name__)(n)

    def b_Cmp(self, n):
        if isinstance(n.a, C.Streak) and isinstance(n.b, C.Lit) or isinstance(n.b, C.Streak) and isinstance(n.a, C.Lit):
            got = self.streak_compared(n)
            if got is not None:
                return got
        (a, la), (b, lb) = self.i(n.a), self.i(n.b)
        cls = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE, "=": exp.EQ, "!=": exp.NEQ}[n.op]
        return _p(cls(this=a, expression=b)), max(la, lb)

    def b_And(self, n):
        (a, la), (b, lb) = self.b(n.a), self.b(n.b)
        return _p(exp.And(this=a, expression=b)), max(la, lb)

    def b_Or(self, n):
        (a, la), (b, lb) = self.b(n.a), self.b(n.b)
        return _p(exp.Or(this=a, expression=b)), max(la, lb)

    def b_Not(self, n):
        a, la = self.b(n.a)
        return _not(a), la

    def b_BLit(self, n):
        return exp.Boolean(this=n.value), -1

    def b_BCol(self, n):
        name, lv = self.cols[n.name]
        return _col(name), lv

    def b_IsNull(self, n):
        a, la = self.any(n.a)
        return _p(exp.Is(this=a, expression=exp.Null())), la

    def b_IfB(self, n):
        (c, lc), (t, lt), (o, lo) = self.b(n.cond), self.b(n.then), self.b(n.other)
        return _case([(c, t)], o), max(lc, lt, lo)

    def b_LabelIs(self, n):
        a, b = n.a, n.b
        if isinstance(b, C.LCol) and isinstance(a, C.LLit):
            a, b = b, a
        if isinstance(a, C.LCol) and a.name in self.enums and isinstance(b, C.LLit):
            x, lx = self.i_Col(C.Col(a.name))
            test = self.label_test(x, a.name, b.value)
            if test is None:  # never equal; N/A stays N/A
                return _case([(exp.Not(this=exp.Is(this=x, expression=exp.Null())), exp.Boolean(this=False))]), lx
            return _p(test), lx
        (a, la), (b, lb) = self.lab(n.a), self.lab(n.b)
        return _p(exp.EQ(this=a, expression=b)), max(la, lb)

    def b_Prev(self, n):
        return self.i_Prev(n)

    # ── labels ──
    def lab(self, n):
        return getattr(self, "l_" + type(n).__name__)(n)

    def l_LCol(self, n):
        name, lv = self.cols[n.name]
        if n.name in self.enums:  # a code column: back to its text
            x = _col(name)
            return _case([(exp.EQ(this=x, expression=exp.Literal.number(k)), exp.Literal.string(lab))
                          for k, lab in enumerate(self.enums[n.name])]), lv
        return _col(name), lv

    def l_LLit(self, n):
        return exp.Literal.string(n.value), -1

    def l_IfL(self, n):
        (c, lc), (t, lt), (o, lo) = self.b(n.cond), self.lab(n.then), self.lab(n.other)
        return _case([(c, t)], o), max(lc, lt, lo)

    def l_Prev(self, n):
        return self.i_Prev(n)

    # ── reading the table ──
    def read(self):
        """Level 0: agent, period, ordinal, the row id and every input, converted."""
        p, d = self.p, self.d
        self.cols["agent"] = ("agent", 0)
        self.cols["period"] = ("period", 0)
        self.base("agent", _col("agent"))
        self.base("period", _col("period"))
        self.cols["·ordinal"] = ("_ord", 0)
        self.base("_ord", self.ordinal())
        if self.row_id is not None:
            self.base("_row", _col(self.row_id))
        agent = _col("agent")
        if "agent" not in self.checked:
            self.fields.append(("agent", self.base("_ok_agent", _coalesce(
                exp.GT(this=exp.Length(this=agent), expression=exp.Literal.number(0)), False))[0],
                "missing or empty"))
        rx, length = _PERIOD[p.period]
        period = _col("period")
        if not self.keys_proven:  # (else the engine proved every period label of the batch well-formed)
            self.fields.append(("period", self.base("_ok_period", _coalesce(_and([
                d.regex(period, rx), exp.EQ(this=exp.Length(this=period), expression=exp.Literal.number(length))]),
                False))[0], f"not a {p.period.replace('_', '-')} label"))
        for k, inp in enumerate(p.inputs):
            name = f"_i{k}"
            self.cols[inp.name] = (name, 0)
            raw = _col(inp.name)
            text = exp.Trim(this=exp.Cast(this=raw, to=d.text))
            na = None
            missing = exp.Is(this=raw, expression=exp.Null())
            typed = self.typed(inp, raw)
            if typed is not None and inp.name in self.checked:  # no test: every row proven valid
                self.base(name, typed)
                self.trusted.add(inp.name)
                continue
            if inp.na:
                na = missing if typed is not None else \
                    _or([missing, exp.In(this=exp.Lower(this=text), expressions=_strs(_NA_TEXT))])
            if typed is not None:  # an integer, decimal or boolean column: no text to read
                value, ok = typed, exp.Not(this=missing)
            elif inp.kind in _NUMERIC:
                value, ok = self.number(inp, text)
            elif inp.kind in ("grade", "choice"):
                labels = tuple(inp.type.labels)
                label = exp.Cast(this=raw, to=d.text)
                code = _case([(exp.EQ(this=label, expression=exp.Literal.string(lab)), exp.Literal.number(k))
                              for k, lab in enumerate(labels)])
                self.enums[inp.name] = labels
                if na is None and not self.strict:  # the code is N/A exactly when the cell is no label
                    self.base(name, code)
                    ok, _ = self.place(exp.Not(this=exp.Is(this=_col(name), expression=exp.Null())), 0,
                                       name=f"_ok{k}")
                    self.fields.append((inp.name, ok, self.expected(inp)))
                    continue
                ok = exp.Not(this=exp.Is(this=code, expression=exp.Null()))
                value = code
            elif inp.kind == "text":
                ok = exp.Not(this=exp.Is(this=raw, expression=exp.Null()))
                value = exp.Cast(this=raw, to=d.text)
            else:
                spelled = exp.Lower(this=text)
                yes = exp.In(this=spelled, expressions=_strs(_TRUE))
                no = exp.In(this=spelled, expressions=_strs(_FALSE))
                ok = _or([yes, no])
                value = _case([(yes, exp.Boolean(this=True)), (no, exp.Boolean(this=False))],
                              exp.Cast(this=exp.Null(), to=exp.DataType.build("BOOLEAN")))
            what = f"{MARK} a record's field {inp.name!r} is {self.expected(inp)}"
            ifs = [] if na is None else [(na, exp.Cast(this=exp.Null(), to=self.type_of(inp)))]
            ifs.append((_coalesce(ok, False), value))
            conv = _case(ifs, d.error(self.where(what)) if self.strict else None)
            self.base(name, conv)
            okay = _coalesce(ok, False) if na is None else _or([_coalesce(na, False), _coalesce(ok, False)])
            self.fields.append((inp.name, self.base(f"_ok{k}", okay)[0], self.expected(inp)))

    def typed(self, inp: ir.Input, raw):
        """An input column whose SQL type (given in `types`) needs no reading from text: a number
        column of integers, or of decimals with at most the input's scale (read exactly by
        multiplying by 10^scale, in a width that can neither round nor overflow silently), and
        a BOOLEAN column for a condition; else None."""
        kind = _sql_type(self.types.get(inp.name))
        if kind is None:
            return None
        if inp.kind == "bool":
            return raw if kind == ("bool",) else None
        if inp.kind not in _NUMERIC or kind[0] not in ("int", "decimal"):
            return None
        s = self.scales.get(inp.name, 0)
        if kind[0] == "int":
            x = exp.Cast(this=raw, to=self.d.int)
            return _p(exp.Mul(this=x, expression=self.d.lit(10 ** s))) if s else x
        q = kind[2]
        if q > s or s > 17:
            return None
        if self.d.narrow:
            # DuckDB multiplies two DECIMALs of at most 18 digits in 64 bits, as DECIMAL(18, s),
            # checking overflow: several times faster than in 128 bits, and as exact (a value too
            # wide for DECIMAL(18, s) makes the cast fail, and the engine then runs the wide query)
            narrow = exp.Cast(this=raw, to=exp.DataType.build(f"DECIMAL(18, {s})"))
            unit = exp.Cast(this=exp.Literal.number(10 ** s), to=exp.DataType.build(f"DECIMAL({s + 1}, 0)"))
            return exp.Cast(this=_p(exp.Mul(this=narrow, expression=unit)), to=self.d.int)
        # DECIMAL(36 − s, q) × DECIMAL(s + 1, 0) is DECIMAL(38, q) in both engines: exact, and a value
        # too wide for DECIMAL(36 − s, q) makes the cast fail instead of rounding
        narrow = exp.Cast(this=raw, to=exp.DataType.build(f"DECIMAL({36 - s}, {q})"))
        unit = exp.Cast(this=exp.Literal.number(10 ** s), to=exp.DataType.build(f"DECIMAL({s + 1}, 0)"))
        return exp.Cast(this=_p(exp.Mul(this=narrow, expression=unit)), to=self.d.int)

    def type_of(self, inp: ir.Input):
        if inp.kind in _NUMERIC or inp.name in self.enums:
            return self.d.int
        if inp.kind == "bool":
            return exp.DataType.build("BOOLEAN")
        return self.d.text

    def expected(self, inp: ir.Input) -> str:
        if inp.kind in _NUMERIC:
            s = self.scales.get(inp.name, 0)
            return f"missing or not a plain decimal number with at most {s} decimal place(s)"
        if inp.kind in ("grade", "choice"):
            return "missing or not one of " + ", ".join(inp.type.labels)
        if inp.kind == "bool":
            return "missing or not true or false"
        return "missing"

    def where(self, message: str):
        """message + the record's agent and period, as a text expression (never NULL)."""
        def text(name):
            return exp.Coalesce(this=exp.Cast(this=_col(name), to=self.d.text), expressions=[exp.Literal.string("")])
        return exp.Concat(expressions=[exp.Literal.string(message + " (agent "), text("agent"),
                                       exp.Literal.string(", period "), text("period"), exp.Literal.string(")")])

    def number(self, inp: ir.Input, text):
        """(scaled integer, ok) for a numeric input read from its decimal text. The text must be a
        plain decimal whose digits past the scale are zeros (no silent rounding), with at most 31
        digits before the point (the Python reader's size limit)."""
        d = self.d
        s = self.scales.get(inp.name, 0)
        frac = f"([.][0-9]{{1,{s}}}0*)?" if s else "([.]0+)?"
        plain = d.regex(text, "^-?0*[0-9]{1,31}" + frac + "$")
        whole = exp.RegexpExtract(this=text, expression=exp.Literal.string("^(-?[0-9]+)"),
                                  group=exp.Literal.number(1))
        digits = whole
        if s:
            decimals = exp.RegexpExtract(this=text, expression=exp.Literal.string("[.]([0-9]+)$"),
                                         group=exp.Literal.number(1))
            digits = exp.Concat(expressions=[whole, exp.Pad(this=decimals, expression=exp.Literal.number(s),
                                                            fill_pattern=exp.Literal.string("0"), is_left=False)])
        if self.strict:
            return exp.Cast(this=digits, to=d.int), plain
        value = exp.TryCast(this=digits, to=d.int)
        return value, _and([plain, exp.Not(this=exp.Is(this=value, expression=exp.Null()))])

    def ordinal(self):
        period = _col("period")

        def part(start, length):
            return exp.TryCast(this=exp.Substring(this=period, start=exp.Literal.number(start),
                                                  length=exp.Literal.number(length)),
                               to=self.d.bigint)

        def lin(*terms):
            out = terms[0]
            for t in terms[1:]:
                out = _p(exp.Add(this=out, expression=t))
            return out

        def times(e, k):
            return _p(exp.Mul(this=e, expression=exp.Literal.number(k)))

        minus1 = exp.Literal.number(-1)
        kind = self.p.period
        if kind == "month":
            return lin(times(part(1, 4), 12), part(6, 2), minus1)
        if kind == "half_month":
            return lin(times(lin(times(part(1, 4), 12), part(6, 2), minus1), 2), part(10, 1), minus1)
        if kind == "quarter":
            return lin(times(part(1, 4), 4), part(7, 1), minus1)
        return part(1, 4)

    # ── validation beyond one field ──
    def validate(self, requires):
        """Domains, whole counts, `require`, duplicates and team-level inputs: one ok column each."""
        for inp in self.p.inputs:
            if inp.kind not in _NUMERIC or inp.name in self.trusted:
                continue
            x, lx = self.i_Col(C.Col(inp.name))
            good = self.domain(inp, x)
            if good is not None:
                ok, _ = self.place(_or([exp.Is(this=x, expression=exp.Null()), _coalesce(good, False)]), lx, "v")
                self.fields.append((inp.name, ok, "outside its domain" + (" or not whole" if inp.kind == "count" else "")))
        for r, cond in zip(self.p.requires, requires):
            c, lc = self.b(cond)
            ok, _ = self.place(_coalesce(c, False), lc, "v")
            self.fields.append((r.fields[0] if r.fields else "require", ok, f"constraint {r.text} broken"))
        if self.keys_proven:  # the engine proved, for this batch, no duplicate and no team-level difference
            return
        part, _ = self.keys(["agent", "period"])
        once = exp.EQ(this=self.window(exp.Count(this=exp.Star()), part), expression=exp.Literal.number(1))
        self.fields.append(("period", self.place(once, 0, "v")[0], "duplicate: the agent has another record for the period"))
        for c in self.p.cohorts:
            shared = [i for i in self.p.inputs if i.same_over == c.name]
            if not shared:
                continue
            part, lk = self.keys(("period", *c.keys))
            for inp in shared:
                x, lx = self.i_Col(C.Col(inp.name))
                same = _coalesce(exp.EQ(this=self.window(exp.Min(this=x), part),
                                        expression=self.window(exp.Max(this=x), part)), True)
                n = self.window(exp.Count(this=x), part)
                full = _or([exp.EQ(this=n, expression=exp.Literal.number(0)),
                            exp.EQ(this=n, expression=self.window(exp.Count(this=exp.Star()), part))])
                self.fields.append((inp.name, self.place(_and([same, full]), max(lx, lk), "v")[0],
                                    f"team-level input differs within {c.name}"))

    def domain(self, inp: ir.Input, x):
        d = self.d
        s = self.scales.get(inp.name, 0)
        unit = 10 ** s
        checks = []
        if 31 + s < 38 and not d.narrow:  # the Python reader refuses magnitudes of 10^31 and more
            # (a BIGINT is always below them: |x| < 2^63 < 10^31)
            big = 10 ** (31 + s)
            checks.append(_and([exp.LT(this=x, expression=d.lit(big)), exp.GT(this=x, expression=d.lit(-big))]))
        if inp.kind == "count" and s:
            checks.append(exp.EQ(this=_p(exp.Mod(this=x, expression=d.lit(unit))), expression=d.lit(0)))
        dom = inp.domain or rt._DEFAULT.get(inp.kind, ())
        alts = []
        for lo, hi in dom:
            t = []
            if lo is not None:  # x ≥ lo·10^s ⟺ x ≥ ⌈lo·10^s⌉ for a whole x
                t.append(exp.GTE(this=x, expression=d.lit(int(-((-Fraction(lo) * unit) // 1)))))
            if hi is not None:
                t.append(exp.LTE(this=x, expression=d.lit(int((Fraction(hi) * unit) // 1))))
            alts.append(_and(t) if t else exp.Boolean(this=True))
        if alts:
            checks.append(_or(alts))
        return _and(checks) if checks else None

    # ── the plan ──
    def steps(self, plan: C.Plan):
        for k, step in enumerate(plan.steps):
            v = step.value
            name = f"_s{k}"
            if isinstance(v, C.Num):
                e, lv = self.i(v.num)
                _, at = self.place(e, lv, name=name)
                self.cols[step.name] = (name, at)
                if v.den is not None:
                    e, lv = self.i(v.den)
                    _, at = self.place(e, lv, name=name + "d")
                    self.cols[step.name + "·den"] = (name + "d", at)
            elif isinstance(v, C.BoolV):
                e, lv = self.b(v.b)
                _, at = self.place(e, lv, name=name)
                self.cols[step.name] = (name, at)
            elif isinstance(v, C.LabelV):
                e, lv = self.lab(v.label)
                _, at = self.place(e, lv, name=name)
                self.cols[step.name] = (name, at)
            # lists are read in place, by the output

    def public(self, d: ir.Definition, v):
        """The output column's expression (reading the last relation)."""
        dl = self.d
        if isinstance(v, C.Num):
            num, _ = self.i(v.num)
            den = self.i(v.den)[0] if v.den is not None else None
            if d.type.repr is ir.Repr.INT:  # whole by its type: num / (10^scale · den), exactly
                divisor = dl.lit(10 ** v.scale) if den is None else _p(exp.Mul(this=den, expression=dl.lit(10 ** v.scale)))
                whole = num if v.scale == 0 and den is None else dl.floordiv(num, divisor)
                return exp.Cast(this=whole, to=dl.bigint), -1
            if den is None:
                if self.scaled_out is not None and dl.narrow and self.fits(v.num):
                    # the caller reads these integers as decimals with v.scale places (no 128-bit
                    # DECIMAL product per row, nor a wider result to carry)
                    self.scaled_out[d.name] = v.scale
                    return exp.Cast(this=num, to=dl.bigint), -1
                return dl.decimal(num, v.scale), -1
            e = RATIONAL_PLACES - v.scale  # round half-up at the 20th place (as the Python engine)
            n = C.Mul(v.num, C.pow10(e)) if e >= 0 else v.num
            dd = v.den if e >= 0 else C.Mul(v.den, C.pow10(-e))
            rounded = C.round_int(n, dd, "half_up")
            with dl.wide():  # num × 10^e needs 128 bits whatever the values
                k, lk = self.i(rounded)
            ref, _ = self.place(k, lk, "o")
            if self.scaled_out is not None and dl.narrow and self.below(rounded, 10 ** 38):
                # the HUGEINT count of 10^-20, which DuckDB hands over as DECIMAL(38, 0) (no
                # 128-bit DECIMAL product per row); the bounds keep it within 38 digits
                self.scaled_out[d.name] = RATIONAL_PLACES
                return ref, -1
            return dl.decimal(ref, RATIONAL_PLACES), -1
        if isinstance(v, C.ListV):
            items = []
            for label, c in v.items:
                cond, _ = self.b(c)
                items.append(_case([(cond, exp.Literal.string(label))]))
            return exp.ArrayCompact(this=exp.Array(expressions=items)), -1
        if isinstance(v, C.BoolV):
            return self.b(v.b)[0], -1
        return self.lab(v.label)[0], -1

    # ── assembling ──
    def sink(self, final):
        """Move each computed column that is no window as late as its readers allow, where that
        carries nothing more: a window carries every column made before it that is read after
        it, so a step read only after a window is better made after it, when what it reads is
        carried past the window anyway (read later by something else). Levels stay consistent:
        a column is made after what it reads and before what reads it."""
        where = {n: lv for lv, placed in self.levels.items() for n, _ in placed}
        expr = {n: e for placed in self.levels.values() for n, e in placed}
        reads = {n: {c.name for c in e.find_all(exp.Column)} & where.keys() for n, e in expr.items()}
        readers: dict[str, list[str]] = {n: [] for n in where}
        for n, xs in reads.items():
            for x in xs:
                readers[x].append(n)
        top = max(self.levels)
        at_end = {c.name for c in final.find_all(exp.Column)} & where.keys()
        new = dict(where)

        def reached(x, but):  # the last level at which something other than `but` reads x
            return max([new[r] for r in readers[x] if r != but] + [top + 1] * (x in at_end), default=-1)

        for n in sorted(where, key=lambda n: -where[n]):  # readers before what they read
            if where[n] == 0 or expr[n].find(exp.Window) is not None or not (readers[n] or n in at_end):
                continue
            latest = min([new[r] for r in readers[n]] + [top + 1] * (n in at_end)) - 1
            for x in reads[n]:
                latest = min(latest, reached(x, n))
            new[n] = max(where[n], latest)
        if new != where:
            levels: dict[int, list] = {}
            for lv in sorted(self.levels):
                for n, e in self.levels[lv]:
                    levels.setdefault(new[n], []).append((n, e))
            self.levels = levels

    def relations(self):
        """The WITH clause: level 0 from the table, then one relation per level."""
        if self.apart:  # the partitions of ordered windows: a GROUP BY on the same keys numbers them
            self.numbered = {_partition(w) for placed in self.levels.values() for _, e in placed
                             if _grouped(e) is None for w in e.find_all(exp.Window)}
        for lv in range(max(self.levels) + 1):
            placed = self.levels.get(lv, [])
            if lv == 0:
                cols = [exp.alias_(e, _ident(n), copy=False) for n, e in placed]
                yield "_policyc_0", exp.select(*cols, copy=False).from_(exp.to_table(self.table), copy=False)
            elif self.apart and any(e.find(exp.Window) is not None or _streak_join(e) for _, e in placed):
                yield from self.apart_level(lv, placed)
            else:
                cols = [exp.alias_(e, _ident(n), copy=False) for n, e in placed]
                sel = exp.select(exp.Star(), *cols, copy=False).from_(exp.to_table(f"_policyc_{lv - 1}"), copy=False)
                yield f"_policyc_{lv}", sel

    def apart_level(self, lv: int, placed):
        """A level with windows, as relations that carry only what each window reads (see
        `compile_sql`'s `apart`): a column whose windows all aggregate one partition (`_grouped`)
        is an aggregate of a GROUP BY on the partition's keys, joined back on them (NULL keys too,
        as a window's partition holds them); the other windowed columns are made in one relation
        of the row id and them, joined back on the row id, and an ordered window over keys a GROUP
        BY of an earlier level numbered is partitioned by that number (one integer, not the keys'
        text); the rest as usual."""
        prev = f"_policyc_{lv - 1}"
        groups: dict[str, tuple[list, list]] = {}
        ordered, plain, joined = [], [], []
        # a streak's joins only where nothing else at this level sorts by agent and period
        history = {_partition(w) for n, e in placed if not _streak_join(e) for w in e.find_all(exp.Window)}
        for n, e in placed:
            if _streak_join(e) and e.expressions[1].sql() in history:
                e = e.expressions[4]
            if _streak_join(e):
                joined.append((n, e))
            elif e.find(exp.Window) is None:
                plain.append(exp.alias_(e, _ident(n), copy=False))
            elif (g := _grouped(e)) is None:
                e = e.copy()
                for w in e.find_all(exp.Window):
                    if _partition(w) in self.numbers:
                        w.set("partition_by", [_col(self.numbers[_partition(w)])])
                ordered.append((n, e))
            else:
                groups.setdefault(_partition(e.find(exp.Window)), (g, []))[1].append((n, _aggregate(e)))
        names = [n for _, (_, aggs) in groups.items() for n, _ in aggs] + [n for n, _ in ordered]
        found = [exp.alias_(_coalesce(exp.column(f"_j{lv}_{j}", f"_policyc_{lv}j{j}", quoted=True), False),
                            _ident(n), copy=False) for j, (n, _) in enumerate(joined)]
        sel = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(prev)), *map(_col, names), *found,
                         *plain, copy=False).from_(exp.to_table(prev), copy=False)
        for j, (key, (part, aggs)) in enumerate(groups.items()):
            table = f"_policyc_{lv}g{j}"
            keys = [f"_g{lv}_{j}_{k}" for k in range(len(part))]
            cols = [exp.alias_(a, _ident(n)) for n, a in aggs]
            if key in self.numbered and key not in self.numbers:
                self.numbers[key] = number = f"_g{lv}_{j}_no"
                cols.append(exp.alias_(exp.Window(this=exp.RowNumber()), _ident(number)))
                sel = sel.select(_col(number), copy=False)
            yield table, exp.select(*(exp.alias_(x.copy(), _ident(k)) for x, k in zip(part, keys)), *cols,
                                    copy=False).from_(exp.to_table(prev), copy=False) \
                .group_by(*(x.copy() for x in part), copy=False)
            on = _and([exp.NullSafeEQ(this=exp.column(k, table, quoted=True),
                                      expression=exp.column(x.name, prev, quoted=True)) for x, k in zip(part, keys)])
            sel = sel.join(exp.to_table(table), on=on, join_type="left", copy=False)
        if ordered:
            table, rid = f"_policyc_{lv}w", f"_w{lv}_row"
            yield table, exp.select(exp.alias_(_col("_row"), _ident(rid)),
                                    *(exp.alias_(e, _ident(n)) for n, e in ordered), copy=False) \
                .from_(exp.to_table(prev), copy=False)
            sel = sel.join(exp.to_table(table), on=exp.EQ(this=exp.column(rid, table, quoted=True),
                                                          expression=exp.column("_row", prev, quoted=True)),
                           copy=False)
        for j, (_, e) in enumerate(joined):
            # a streak of m periods or more (`streak_compared`): the records where its condition
            # holds (row id, agent, period ordinal), each kept when the same agent has such a
            # record in each of the m − 1 periods before, found by semi-joins on (agent, ordinal)
            held, agent, order, m, _ = e.expressions
            rows, table = f"_policyc_{lv}f{j}", f"_policyc_{lv}j{j}"
            yield rows, exp.select(_col("_row"), agent.copy(), order.copy(), copy=False) \
                .from_(exp.to_table(prev), copy=False).where(held.copy(), copy=False)

            def at(k, x):
                return exp.column(x.name, f"_k{k}", quoted=True)

            q = exp.select(exp.alias_(at(0, _col("_row")), _ident(f"_j{lv}_{j}_row")),
                           exp.alias_(exp.Boolean(this=True), _ident(f"_j{lv}_{j}")), copy=False) \
                .from_(exp.alias_(exp.to_table(rows), "_k0", table=True), copy=False)
            for k in range(1, int(m.name)):
                back = _p(exp.Sub(this=at(0, order), expression=exp.Literal.number(k)))
                q = q.join(exp.alias_(exp.to_table(rows), f"_k{k}", table=True), join_type="semi", copy=False,
                           on=_and([exp.EQ(this=at(k, agent), expression=at(0, agent)),
                                    exp.EQ(this=at(k, order), expression=back)]))
            yield table, q
            sel = sel.join(exp.to_table(table), join_type="left", copy=False,
                           on=exp.EQ(this=exp.column(f"_j{lv}_{j}_row", table, quoted=True),
                                     expression=exp.column("_row", prev, quoted=True)))
        yield f"_policyc_{lv}", sel


# a column `apart_level` makes with joins, or as its last argument, a window: (condition, agent,
# ordinal, m, the window's form)
_STREAK_JOIN = "_policyc_streak"


def _streak_join(e) -> bool:
    return isinstance(e, exp.Anonymous) and e.name == _STREAK_JOIN


def _partition(w) -> str:
    """A window's partition, as text (windows over the same keys have the same)."""
    return "|".join(x.sql() for x in (w.args.get("partition_by") or []))


def _grouped(e):
    """The partition's columns if every window of e aggregates that one partition of columns
    (max, min, sum, count with no order; a first value in an order: a pick of one of its rows)
    and e reads nothing outside its windows, so that a GROUP BY on them computes e; else None."""
    wins = list(e.find_all(exp.Window))
    part = wins[0].args.get("partition_by") or [] if wins else []
    if not part or not all(isinstance(x, exp.Column) for x in part):
        return None
    for w in wins:
        if _partition(w) != _partition(wins[0]) or w.args.get("spec") is not None:
            return None
        if not (isinstance(w.this, (exp.Max, exp.Min, exp.Sum, exp.Count)) and w.args.get("order") is None
                or isinstance(w.this, exp.FirstValue) and w.args.get("order") is not None):
            return None
    # (nodes are shared between expressions: walk down from e, never up through parents)
    if any(isinstance(x, exp.Column) for x in e.walk(prune=lambda x: isinstance(x, exp.Window))):
        return None
    return part


def _aggregate(e):
    """e (`_grouped`) as an aggregate of the GROUP BY: each window's function, a first value
    as FIRST(x ORDER BY the window's order)."""
    agg = e.copy()
    for w in list(agg.find_all(exp.Window)):
        f = w.this.copy()
        if isinstance(f, exp.FirstValue):
            f = exp.First(this=exp.Order(this=f.this, expressions=w.args["order"].expressions))
        if w is agg:
            agg = f
        else:
            w.replace(f)
    return agg


_INT_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "INT128", "LONG", "SHORT", "BYTE",
              "INT1", "INT2", "INT4", "INT8", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def _sql_type(name: str | None):
    """("int",) / ("decimal", p, s) / ("bool",) for a column type name, else None."""
    if not name:
        return None
    t = name.strip().upper().replace(" ", "")
    if t in _INT_TYPES:
        return ("int",)
    if t in ("BOOLEAN", "BOOL"):
        return ("bool",)
    for word in ("DECIMAL(", "NUMERIC("):
        if t.startswith(word) and t.endswith(")"):
            parts = t[len(word):-1].split(",")
            if len(parts) == 2 and all(x.isdigit() for x in parts):
                return ("decimal", int(parts[0]), int(parts[1]))
    return None


def _check_names(p: ir.Policy):
    """Column names must differ in more than case (DuckDB and Spark ignore case in names)."""
    seen: dict[str, str] = {}
    for name in ("agent", "period", *(i.name for i in p.inputs), *p.outputs):
        key = name.casefold()
        if key in seen and seen[key] != name:
            raise SqlUnsupported(f"the names {seen[key]!r} and {name!r} differ only in case, which SQL "
                                 "engines do not tell apart")
        seen[key] = name


def _scales(p: ir.Policy, scales: dict | None) -> dict:
    out = {}
    for inp in p.inputs:
        if inp.kind in _NUMERIC:
            s = (scales or {}).get(inp.name, DEFAULT_SCALES[inp.kind])
            if not isinstance(s, int) or s < 0 or s > MAX_SCALE:
                raise ValueError(f"the scale of {inp.name!r} must be a whole number of places in 0..{MAX_SCALE}")
            out[inp.name] = s
    return out


def _plan(p: ir.Policy, scales: dict):
    try:
        planner = C.Planner(p, scales)
        requires = planner.requires()
        plan = planner.plan()
    except C.Unsupported as e:
        raise SqlUnsupported(f"the SQL backend cannot compute policy {p.name!r} exactly: {e}") from e
    return plan, requires


def _with(q: _Query, final):
    """final, preceded by the relations as a WITH clause."""
    for alias, sel in q.relations():
        final = final.with_(exp.to_identifier(alias), as_=sel, copy=False)
    return final


def build(policy_ir: ir.Policy, dialect: str = "duckdb", table: str = "records", scales: dict | None = None,
          *, validate: bool = True, row_id: str | None = None, types: dict | None = None, narrow: bool = False,
          keys_proven: bool = False, bounds: dict | None = None, rows: int | None = None,
          in_row_order: bool = False, keys_out: bool = True, checked: frozenset = frozenset(),
          scaled_out: dict | None = None, apart: bool = False):
    """The scoring query as a sqlglot expression (see `compile_sql`)."""
    if exp is None:
        raise ImportError("the SQL backend needs sqlglot: pip install 'policyc[sql]'")
    p = policy_ir
    _check_names(p)
    scales = _scales(p, scales)
    plan, requires = _plan(p, scales)
    # with validation, a value that cannot be read is NULL and the guard below fails the query on
    # its row; without, the conversion itself fails the query
    proven = None
    if narrow and bounds is not None:
        proven = C.Bounds(_scaled_bounds(p, scales, bounds), rows if rows is not None else 2 ** 31)
        proven.largest(plan, [C.BoolV(r) for r in requires])  # every step's range, into its env
    q = _Query(p, dialect, table, scales, row_id, strict=not validate, types=types, narrow=narrow,
               keys_proven=keys_proven, bounds=proven, checked=checked, scaled_out=scaled_out, apart=apart)
    q.read()
    agent = _col("agent")
    if validate:
        q.validate(requires)
    valid = None
    if validate and q.fields:
        # a bad record fails the query as soon as its fields are read, on a boolean column the
        # result's guards read (`_valid`): the ok columns are then dead, and the windows and steps
        # after them need not carry them along
        fields = exp.Anonymous(this="CONCAT_WS", expressions=[exp.Literal.string(", ")] + [
            _case([(_not(ok), exp.Literal.string(f"{field!r} ({why})"))]) for field, ok, why in q.fields])
        msg = exp.Concat(expressions=[exp.Literal.string(f"{MARK} a record is not valid: "), fields,
                                      exp.Literal.string("; the validation query lists every bad row"),
                                      q.where("")])
        bad = _not(_and([ok for _, ok, _ in q.fields]))
        valid, at = q.place(_case([(bad, q.d.error(msg))], exp.Boolean(this=True)),
                            q.level_of(*(ok for _, ok, _ in q.fields)), name="_valid")
        q.window_floor = at + 1
    q.steps(plan)
    outputs = []
    types = {d.name: d for d in p.definitions}
    for name in p.outputs:
        value = _plan_value(plan, name)
        e, _ = q.public(types[name], value)
        outputs.append(exp.alias_(e, _ident(name), copy=False))
    guards = []
    for bad, what in q.checks:
        guards.append((bad, q.d.error(exp.Literal.string(f"{MARK} {what}"))))
    for name in p.outputs:
        d = types[name]
        if d.type.kind in ("num", "label") and not d.type.optional:
            value = _plan_value(plan, name)
            probe = value.num if isinstance(value, C.Num) else value.label
            got, _ = q.any(probe)
            guards.append((exp.Is(this=got, expression=exp.Null()),
                           q.d.error(exp.Literal.string(f"{MARK} no row of the table for `{name}` matched"))))
    if valid is not None:  # first, so that a bad record is named as such (`_valid` is true, or fails the query)
        guards.insert(0, (_not(valid), exp.Null()))
    if keys_out:
        keys = [exp.alias_(_case(guards, agent) if guards else agent, _ident("agent"), copy=False), _col("period")]
    else:  # the caller has the keys: the result's last column is one of guards only
        keys = []
        ok = exp.Boolean(this=True)
        outputs.append(exp.alias_(_case(guards, ok) if guards else ok, _ident(CHECKED), copy=False))
    top = max(q.levels)
    final = exp.select(*keys, *outputs, copy=False).from_(exp.to_table(f"_policyc_{top}"), copy=False)
    if not (in_row_order and dialect == "duckdb" and not q.windowed):
        final = final.order_by(*([_col("_row")] if row_id is not None else [_col("agent"), _col("period")]),
                               copy=False)
    q.sink(final)
    return _with(q, final)


def _scaled_bounds(p: ir.Policy, scales: dict, bounds: dict) -> dict:
    """{input: (lo, hi)} in the input's units → the same range in its scaled integers (widened
    outward to whole numbers)."""
    out = {}
    for i in p.inputs:
        if i.name in bounds and i.kind in _NUMERIC and None not in bounds[i.name]:
            unit = 10 ** scales.get(i.name, 0)
            lo, hi = (Fraction(x) * unit for x in bounds[i.name])
            out[i.name] = (math.floor(lo), math.ceil(hi))
    return out


def _plan_value(plan: C.Plan, name: str):
    for s in plan.steps:
        if s.name == name:
            return C.Planner.column_of(name, s.value)
    raise KeyError(name)


def compile_sql(policy_ir: ir.Policy, dialect: str = "duckdb", table: str = "records",
                scales: dict | None = None, *, validate: bool = True, row_id: str | None = None,
                types: dict | None = None, pretty: bool = True, narrow: bool = False,
                keys_proven: bool = False, bounds: dict | None = None, rows: int | None = None,
                in_row_order: bool = False, keys_out: bool = True, checked: frozenset = frozenset(),
                scaled_out: dict | None = None, apart: bool = False) -> str:
    """The policy as one SQL query over `table` (columns agent, period and every input): one row
    per record with agent, period and every output.

    `dialect`: duckdb or spark. `scales`: decimal places each numeric input is read with
    (default: DEFAULT_SCALES by kind); a value with more non-zero decimals makes the query fail.
    `validate`: the query also fails on a record the Python engine would reject (domain,
    `require`, duplicates, team-level inputs); run `compile_validation_sql` to list them.
    `row_id`: a column of the table that orders the result (default: agent, period).
    `types`: the SQL types of input columns, when known (`{"sales": "DECIMAL(18,2)", "late":
    "BIGINT"}`): integer and decimal columns (with at most the input's scale) are then read
    without going through their text, which is faster; other columns are read from their text.
    `narrow` (duckdb): integers in BIGINT instead of HUGEINT — faster, and as exact, since DuckDB
    raises on BIGINT overflow too; a batch that overflows it needs the HUGEINT query.
    `bounds` (with `narrow`): the least and greatest value of numeric inputs in the batch
    (`{"sales": (0, Decimal("98000.50"))}`) and `rows` its size: a step whose values those bounds
    do not keep within BIGINT is computed in HUGEINT (the rest stays BIGINT, still checked), and
    a quotient whose numerator they prove ≥ 0 is one `//`. They must hold every value: a wrong
    magnitude only makes the query fail, but it relies on their signs.
    `keys_out`: the result starts with agent and period; without, it has the outputs only and
    a last column `CHECKED` (always true), for a caller that holds the keys in the same order.
    `in_row_order` (duckdb): the table's rows are in `row_id` order already; DuckDB keeps the order
    of a single table through a query with no window, and such a query then needs no ORDER BY.
    `keys_proven`: the caller has proven the table has no agent twice in a period, no period
    that is not a well-formed label of the policy's period kind (`period_ok`), and no team-level
    input that differs within its cohort; the query leaves those checks out.
    `checked`: inputs read from an integer or decimal column (see `types`) that the caller has
    proven present in every row (or allowed N/A) and valid (`columnar.proven_valid`), and
    "agent" if no agent is missing or empty: the query reads them without a test.
    `scaled_out` (a dict, with `narrow`): a decimal output whose values the bounds keep within
    BIGINT is returned as its integer count of 10^-places (BIGINT), and the dict maps the
    output's name to its places; for a caller that makes the decimals itself.
    `apart` (with `row_id`, unique in the table): a window does not carry the columns made before
    it that are read after it. Windows that aggregate a partition (cohort values, and the checks
    of duplicates and team-level inputs) become a GROUP BY on the partition, joined back on its
    keys; ordered windows (ranks, history) are made in a relation of the row id and the windowed
    columns only, joined back on the row id. Faster in DuckDB when the windows would carry many
    columns; the same results.
    Raises SqlUnsupported for a policy the backend cannot express exactly."""
    return build(policy_ir, dialect, table, scales, validate=validate, row_id=row_id, types=types,
                 narrow=narrow, keys_proven=keys_proven, bounds=bounds, rows=rows,
                 in_row_order=in_row_order, keys_out=keys_out, checked=checked,
                 scaled_out=scaled_out, apart=apart).sql(dialect=dialect, pretty=pretty)


def build_validation(policy_ir: ir.Policy, dialect: str = "duckdb", table: str = "records",
                     scales: dict | None = None, *, row_id: str | None = None, types: dict | None = None):
    if exp is None:
        raise ImportError("the SQL backend needs sqlglot: pip install 'policyc[sql]'")
    p = policy_ir
    _check_names(p)
    scales = _scales(p, scales)
    _, requires = _plan(p, scales)
    q = _Query(p, dialect, table, scales, row_id, strict=False, types=types)
    q.read()
    q.validate(requires)
    problems = exp.Anonymous(this="CONCAT_WS", expressions=[exp.Literal.string(", ")] + [
        _case([(_not(ok), exp.Literal.string(field))]) for field, ok, _ in q.fields])
    top = max(q.levels)
    cols = ([_col("_row")] if row_id is not None else []) + [_col("agent"), _col("period")]
    final = exp.select(*cols, exp.alias_(problems, _ident("problems"), copy=False), copy=False).from_(
        exp.to_table(f"_policyc_{top}"), copy=False)
    final = final.where(_not(_and([ok for _, ok, _ in q.fields])), copy=False)
    final = final.order_by(*([_col("_row")] if row_id is not None else [_col("agent"), _col("period")]), copy=False)
    return _with(q, final)


def compile_validation_sql(policy_ir: ir.Policy, dialect: str = "duckdb", table: str = "records",
                           scales: dict | None = None, *, row_id: str | None = None,
                           types: dict | None = None, pretty: bool = True) -> str:
    """A query listing the records of `table` the policy would reject (and nothing else): agent,
    period and `problems`, the fields at fault. It never fails on a bad value. The reasons, worded
    as `policyc score` words them, come from the Python engine's reader."""
    return build_validation(policy_ir, dialect, table, scales, row_id=row_id, types=types).sql(
        dialect=dialect, pretty=pretty)


# ───────────────────────── DuckDB ─────────────────────────

_SOURCE = "_policyc_source"
ROW = "·row"
CHECKED = "·checked"  # the last column of a query with keys_out=False


# from this many records the engine's query sets its windows apart (`compile_sql`): below, the
# longer query's planning costs more than its windows save (team_kpi: even at ≈ 3·10^4 records)
APART_ROWS = 2 ** 15


class _Fallback(Exception):
    """A row needs the careful reader: hand the batch to the Python engine."""


def score_duckdb(policy, source):
    """Score records with DuckDB, in process: `source` is a Polars, pandas or Arrow frame, or the
    path of a CSV or Parquet file. Returns a Polars frame like `polars_engine.score_frame`; bad
    records raise RecordError exactly as `score_batch` does; a batch DuckDB cannot compute
    exactly raises EngineLimit."""
    try:
        import duckdb
    except ImportError as e:  # pragma: no cover - exercised only without duckdb
        raise ImportError("the duckdb engine needs DuckDB and sqlglot: pip install 'policyc[sql]'") from e
    from . import polars_engine as pe

    p: ir.Policy = policy.ir
    con = _database(duckdb).cursor()  # a connection of its own: its views and tables are its own
    try:
        path = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
        frame = None
        if path is not None:
            parquet = path.lower().endswith((".parquet", ".pq"))
            reader = "read_parquet(?)" if parquet else (
                "read_csv(?, all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"', "
                "strict_mode = true, null_padding = false, skip = 0)")  # (no line skipped: a title line is an error)
            # the record index: a Parquet reader's own row number (half the cost of numbering the
            # rows with a window), else (a file with a column of that name; CSV) row_number()
            numbered = [f"SELECT file_row_number AS \"{ROW}\", * EXCLUDE (file_row_number) "
                        f"FROM read_parquet(?, file_row_number = true)"] if parquet else []
            numbered.append(f"SELECT row_number() OVER () - 1 AS \"{ROW}\", * FROM {reader}")
            for k, select in enumerate(numbered):
                try:
                    con.execute(f"CREATE TEMP TABLE {_SOURCE}_raw AS {select}", [path])
                    break
                except duckdb.Error:
                    if k == len(numbered) - 1:
                        raise _Fallback() from None
            if not parquet:  # as policyc's CSV reader: cells stripped, an empty cell is N/A
                names = [r[0] for r in con.execute(f"DESCRIBE {_SOURCE}_raw").fetchall() if r[0] != ROW]
                cells = ", ".join(f"NULLIF(TRIM({_q(n)}), '') AS {_q(n)}" for n in names)
                con.execute(f"CREATE TEMP VIEW {_SOURCE} AS SELECT \"{ROW}\", {cells} FROM {_SOURCE}_raw")
                if _odd_spaces(con, names):
                    raise _Fallback()
            else:
                con.execute(f"CREATE TEMP VIEW {_SOURCE} AS SELECT * FROM {_SOURCE}_raw")
        else:
            import polars as pl

            df = pe.to_polars(source)
            if ROW in df.columns:
                raise _Fallback()
            # Arrow's newest layout (string views) is Polars' own: handed over without a copy
            # (the default layout copies every text column into large strings first)
            con.register(_SOURCE, df.with_row_index(ROW).to_arrow(compat_level=pl.CompatLevel.newest()))
            frame = df if "agent" in df.columns and "period" in df.columns else None
        try:
            try:
                return _run(policy, p, con, duckdb, frame)
            except EngineLimit:
                narrower = _fewest_places(p, con)  # a decimal column wider than its values need
                if not narrower:
                    raise
                return _run(policy, p, con, duckdb, frame, narrower)
        except C.Unsupported as e:
            raise EngineLimit(f"the duckdb engine cannot compute this policy exactly: {e}") from e
    except _Fallback:
        return _python(policy, source, path if isinstance(source, (str, os.PathLike)) else None)
    finally:
        con.close()


_DB = []


def _database(duckdb):
    """One in-memory DuckDB database for the process (opening one costs more than a small batch)."""
    if not _DB:
        # (the default, stated: a query with no window returns rows in the table's order, which
        # lets the engine leave out its ORDER BY)
        _DB.append(duckdb.connect(config={"preserve_insertion_order": True}))
    return _DB[0]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Python's str.strip() removes these too; DuckDB's TRIM only spaces: such a cell needs policyc's reader
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != " ")


def _odd_spaces(con, names) -> bool:
    """A cell policyc's CSV reader may read differently: other white space at an end, or a quote
    first (Python's reader takes `a, "b"` as b; DuckDB's keeps the quotes)."""
    if not names:
        return False
    cls = "[" + _SPACES + "]"
    tests = " OR ".join(f"regexp_matches({_q(n)}, ?)" for n in names)
    row = con.execute(f"SELECT count(*) FROM {_SOURCE} WHERE {tests}",
                      [f'^{cls}|{cls}$|^"'] * len(names)).fetchall()[0]
    return bool(row[0])


_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "VARCHAR")


def _types_ok(p: ir.Policy, types: dict) -> bool:
    cols = set(types) - {ROW}
    needed = {"agent", "period", *(i.name for i in p.inputs)}
    if needed - cols or (not p.allow_extra and cols - needed):
        return False
    if types["agent"] != "VARCHAR" or types["period"] != "VARCHAR":
        return False
    for inp in p.inputs:
        t = types[inp.name]
        if inp.kind in _NUMERIC:
            if not (t in _NUMERIC_TYPES or t.startswith("DECIMAL")):
                return False
        elif inp.kind in ("grade", "choice"):
            if not (t == "VARCHAR" or t.startswith("ENUM")):
                return False
        elif inp.kind == "text":
            if t != "VARCHAR":
                return False
        elif t not in ("BOOLEAN", "VARCHAR"):
            return False
    return True


def profile_query(p: ir.Policy, types: dict, dialect: str, table: str) -> tuple[dict, list, str | None]:
    """The scale of each numeric input, as the Polars engine takes it from the batch: a
    DECIMAL(p, s) column's s, 0 for integers; for the other columns, a query (in `dialect`, over
    `table`) that finds the most decimals a value has (trailing zeros aside) and counts the values
    that are not plain decimals. Returns (the scales known, the inputs to scan, the query or None);
    `scales_from` reads the query's one row."""
    scales, scan = {}, []
    for i in p.inputs:
        if i.kind not in _NUMERIC:
            continue
        kind = _sql_type(types.get(i.name))
        if kind is not None and kind[0] == "int":
            scales[i.name] = 0
        elif kind is not None and kind[0] == "decimal" and kind[2] <= 17:
            scales[i.name] = kind[2]
        else:
            scan.append(i)
    if not scan:
        return scales, scan, None
    quote = _q if dialect == "duckdb" else (lambda n: "`" + n.replace("`", "``") + "`")
    parts = []
    for i in scan:
        t = f"TRIM(CAST({quote(i.name)} AS STRING))"
        na = f"({quote(i.name)} IS NULL OR lower({t}) IN ('', 'na', 'n/a', 'none', 'null'))"
        rx = "'^-?[0-9]+([.][0-9]+)?$'"
        plain = f"regexp_matches({t}, {rx})" if dialect == "duckdb" else f"({t} RLIKE {rx})"
        parts.append(f"sum(CASE WHEN NOT {na} AND NOT {plain} THEN 1 ELSE 0 END)")
        parts.append(f"max(CASE WHEN {plain} THEN length(regexp_replace(regexp_extract({t}, '[.]([0-9]+)$', 1), "
                     "'0+$', '')) END)")
    return scales, scan, f"SELECT {', '.join(parts)} FROM {table}"


def scales_from(scales: dict, scan: list, row) -> dict | None:
    """The scales, with those `profile_query`'s row found; None when a value is not a plain
    decimal (the Python reader decides about those) or needs more places than the engine takes."""
    out = dict(scales)
    for k, i in enumerate(scan):
        odd, places = row[2 * k], row[2 * k + 1] or 0
        if odd or places > MAX_SCALE:
            return None
        out[i.name] = places
    return out


def _fewest_places(p: ir.Policy, con) -> dict:
    """{input: places} for each DECIMAL(p, s) input column whose values all need fewer than s
    places (whole cents in a DECIMAL(20, 4) column: 2), found by one query; read at those places
    (as text, exactly), the query's integers are narrower by as many digits per factor."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {_SOURCE}").fetchall()}
    cols = [(i.name, kind[2]) for i in p.inputs
            if i.kind in _NUMERIC and (kind := _sql_type(types.get(i.name))) is not None
            and kind[0] == "decimal" and kind[2] > 0]
    if not cols:
        return {}
    parts = [f"coalesce(bool_and({_q(n)} = round({_q(n)}, {k})), true)" for n, s in cols for k in range(s)]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {_SOURCE}").fetchall()[0]
    out, j = {}, 0
    for n, s in cols:
        k = next((k for k in range(s) if row[j + k]), s)
        j += s
        if k < s:
            out[n] = k
    return out


def _run(policy, p: ir.Policy, con, duckdb, frame=None, narrower: dict | None = None):
    """The batch's results; `frame`, when given, is the Polars frame of the records registered as
    the source: the results then take its agent and period columns instead of reading them back
    from DuckDB, and its summary is taken in Polars when its columns allow (`_frame_summary`)."""
    keys = None if frame is None else frame.select("agent", "period")
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {_SOURCE}").fetchall()}
    if not _types_ok(p, types):
        raise _Fallback()
    scales, scan, query = profile_query(p, types, "duckdb", _SOURCE)
    if query is not None:
        scales = scales_from(scales, scan, con.execute(query).fetchall()[0])
        if scales is None:
            raise _Fallback()
    scales.update(narrower or {})  # (`_fewest_places`: such a column is then read as text)
    types = {i.name: types[i.name] for i in p.inputs}
    summary = None if frame is None else _frame_summary(p, frame)
    rows, distinct, periods, bounds, facts = summary or _summary(p, types, con)
    proven = rows == distinct and all(period_ok(p, x) for x in periods) and _cohorts_agree(p, types, con)
    checked = checked_inputs(p, facts, scales)
    cache = policy.__dict__.setdefault("_sql_cache", {})
    # the query validates every row as it scores (it fails on a bad one, naming it); BIGINT first
    # (HUGEINT for the steps the batch's bounds do not keep within BIGINT), and all HUGEINT if a
    # value overflows it (both checked: never a wrapped or rounded result)
    apart = rows >= APART_ROWS
    for narrow in (True, False):
        key = (tuple(sorted(scales.items())), tuple(sorted(types.items())), narrow, proven,
               tuple(sorted(bounds.items())) if narrow else None, rows.bit_length() if narrow else None,
               keys is None, apart, checked)
        if key not in cache:
            places: dict = {}
            cache[key] = compile_sql(p, "duckdb", _SOURCE, scales, row_id=ROW, types=types, pretty=False,
                                     narrow=narrow, keys_proven=proven, bounds=bounds if narrow else None,
                                     rows=2 ** rows.bit_length(), in_row_order=True, keys_out=keys is None,
                                     checked=checked, scaled_out=places, apart=apart), places
        query, places = cache[key]
        try:
            out = _result(con, query)
        except duckdb.Error as e:  # (a failure of the BIGINT query: the HUGEINT one decides)
            failure = e
            continue
        if places:  # counts of 10^-places (BIGINT, or HUGEINT as Decimal(38, 0)): the same integers,
            import polars as pl  # read as Decimal(38, places)

            out = out.with_columns(
                (pl.col(n).to_physical() if out.schema[n] == pl.Decimal(38, 0) else pl.col(n).cast(pl.Int128))
                .reinterpret(dtype=pl.Decimal(38, s)) for n, s in places.items())
        return out if keys is None else keys.hstack(out.drop(CHECKED))
    # a failure: a bad record (the Python engine's reader reports it, word for word), else a limit
    check = compile_validation_sql(p, "duckdb", _SOURCE, scales, row_id=ROW, types=types, pretty=False)
    if con.execute(check + " LIMIT 1").fetchall():
        raise _Fallback()
    text = str(failure)
    if isinstance(failure, (duckdb.OutOfRangeException, duckdb.ConversionException)):
        raise EngineLimit(f"a value does not fit the duckdb engine's exact 38-digit arithmetic ({text})") \
            from failure
    if MARK in text:
        raise EngineLimit(text[text.index(MARK) + len(MARK):].strip()) from failure
    raise failure


def _result(con, query: str):
    """The query's rows as a Polars frame, through a DB-API cursor: DuckDB's relation API
    (`con.sql(query).pl()`) first tokenizes and binds the query text once more to describe it,
    ≈ 25 ms for team_kpi's query, a third of a batch of 10^3; the copy of the rows DuckDB warns
    of on this path measured nothing at 10^6. That warning, attributed to this module, is
    ignored: for calls from this module only (the filter is put first again if later filters
    went before it)."""
    import polars as pl

    if not warnings.filters or warnings.filters[0] != _QUIET:
        warnings.filterwarnings("ignore", message=_QUIET[1].pattern, category=UserWarning, module=_QUIET[3].pattern)
    cursor = con.execute(query)
    table = cursor.to_arrow_table() if hasattr(cursor, "to_arrow_table") else cursor.fetch_arrow_table()
    return pl.from_arrow(table, rechunk=False)


_QUIET = ("ignore", re.compile("Arrow output on a DB-API result", re.I), UserWarning, re.compile(re.escape(__name__)), 0)


def period_ok(p: ir.Policy, label) -> bool:
    """Whether `label` is a period label the query's own check accepts (a well-formed label of
    the policy's period kind)."""
    rx, length = _PERIOD[p.period]
    return isinstance(label, str) and len(label) == length and re.fullmatch(rx[1:-1], label) is not None


@attrs.frozen
class Facts:
    """What a batch's summary proves of every row, so that the query need not test each row:
    no agent missing or empty (`agents_ok`); each numeric input's missing values (`nulls`) and,
    for an integer or decimal column, its exact least and greatest value (`extremes`)."""

    agents_ok: bool
    nulls: dict
    extremes: dict


def checked_inputs(p: ir.Policy, facts: Facts, scales: dict) -> frozenset:
    """The fields `facts` prove valid in every row (`compile_sql`'s `checked`): "agent" when no
    agent is missing or empty, and each numeric input with no missing value (or N/A allowed)
    whose least and greatest value lie within its domain (`columnar.proven_valid`)."""
    out = {"agent"} if facts.agents_ok else set()
    for i in p.inputs:
        if i.kind not in _NUMERIC or i.name not in facts.extremes or (facts.nulls.get(i.name, 1) and not i.na):
            continue
        lo, hi = facts.extremes[i.name]
        if lo is None or hi is None:  # no value at all: nothing to test
            out.add(i.name)
            continue
        unit = 10 ** scales.get(i.name, 0)
        lo, hi = Fraction(lo) * unit, Fraction(hi) * unit
        if lo.denominator == 1 and hi.denominator == 1 and C.proven_valid(i, (int(lo), int(hi)), scales.get(i.name, 0)):
            out.add(i.name)
    return frozenset(out)


def _summary(p: ir.Policy, types: dict, con) -> tuple[int, int, list, dict, Facts]:
    """One query over the batch: its size; how many distinct hashes its (agent, period) keys have
    (as many as records proves no agent twice in a period: equal keys hash equal); its distinct
    period labels (a batch holds few: checked here once instead of on every row); and the bounds
    of its numeric inputs, widened to 0 or a power of two, {input: (0 or −2^j, 0 or 2^k)}, so that
    batches of like magnitude share a query. A text column's bounds come from its values read as
    floating point: near enough, since they only choose integer widths and divisions for the
    BIGINT query, whose overflow DuckDB checks (the sign of a value is never off). Last, the
    `Facts` that let the query leave tests out."""
    names = [i.name for i in p.inputs if i.kind in _NUMERIC]
    parts = ["count(*)", 'count(DISTINCT hash("agent", "period"))', 'list(DISTINCT "period") FILTER (WHERE "period" IS NOT NULL)',
             'count(*) FILTER (WHERE "period" IS NULL)', 'count(*) FILTER (WHERE NOT coalesce(length("agent") > 0, false))']
    for n in names:
        x = _q(n) if _sql_type(types.get(n)) else f"TRY_CAST(TRIM(CAST({_q(n)} AS VARCHAR)) AS DOUBLE)"
        parts += [f"min({x})", f"max({x})", f"count(*) - count({_q(n)})"]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {_SOURCE}").fetchall()[0]
    extremes = {n: tuple(row[5 + 3 * k: 7 + 3 * k]) for k, n in enumerate(names)}
    facts = Facts(agents_ok=not row[4], nulls={n: row[7 + 3 * k] for k, n in enumerate(names)},
                  extremes={n: v for n, v in extremes.items() if _sql_type(types.get(n))})
    return row[0], row[1], (row[2] or []) + [None] * bool(row[3]), _bounds(extremes), facts  # (missing period: None)


def _frame_summary(p: ir.Policy, df) -> tuple[int, int, list, dict, Facts] | None:
    """`_summary` of a Polars frame whose numeric inputs are all integer or decimal columns, taken
    by the Polars engine's `summarise` (a third of the time of the DuckDB query, most of which is
    counting the distinct keys); None for other frames, which `_summary` reads."""
    import polars as pl

    from .polars_engine import summarise

    numeric = [i for i in p.inputs if i.kind in _NUMERIC]
    schema = df.schema
    if any(not (schema[i.name].is_integer() or isinstance(schema[i.name], pl.Decimal)) for i in numeric) \
            or schema["agent"] != pl.String or schema["period"] != pl.String:
        return None
    row, periods, _ = summarise(df, numeric)
    names = [i.name for i in numeric]
    extremes = {n: (row[f"·lo·{n}"], row[f"·hi·{n}"]) for n in names}
    facts = Facts(agents_ok=not row["·null·agent"] and (df.height == 0 or bool(row["·agentlen"])),
                  nulls={n: row[f"·null·{n}"] for n in names}, extremes=extremes)
    return df.height, row["·keys"], periods, _bounds(extremes), facts


def _bounds(extremes: dict) -> dict:
    """{input: (least, greatest)} → {input: (0 or −2^j, 0 or 2^k)}, each widened to 0 or a power of
    two beyond it (one bit more for a float, which may be a little off), so that batches of like
    magnitude share a query; an input with no finite extremes has no bounds."""

    def out(x):
        if x == 0:
            return 0
        k = max(math.ceil(abs(x)), 1).bit_length() + (0 if isinstance(x, (int, Decimal)) else 1)
        return 2 ** k if x > 0 else -(2 ** k)

    bounds = {}
    for n, (lo, hi) in extremes.items():
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            bounds[n] = (min(out(lo), 0), max(out(hi), 0))
    return bounds


def _cohorts_agree(p: ir.Policy, types: dict, con) -> bool:
    """Whether no team-level input of this batch has cells that differ within its cohort (the same
    value in every cell, or none); then the query need not check them row by row (with no
    duplicate keys either). False only means "not proven": the query checks them. An integer,
    decimal or boolean column is compared as itself (equal numbers are one value, as in the
    Python engine; rendering decimals as text cost most of this query), others by their text."""
    for c in p.cohorts:
        shared = [i.name for i in p.inputs if i.same_over == c.name]
        if not shared:
            continue
        keys = ", ".join(_q(k) for k in ("period", *c.keys))
        cells = {x: _q(x) if _sql_type(types.get(x)) else f"CAST({_q(x)} AS VARCHAR)" for x in shared}
        differs = " OR ".join(
            f"(min({cells[x]}) IS DISTINCT FROM max({cells[x]}) "
            f"OR count({_q(x)}) NOT IN (0, count(*)))" for x in shared)
        row = con.execute(f"SELECT coalesce(bool_or(d), false) FROM (SELECT {differs} AS d FROM {_SOURCE} "
                          f"GROUP BY {keys})").fetchall()[0]
        if row[0]:
            return False
    return True


def _python(policy, source, path):
    """The batch through the Python engine (its reader reports bad records exactly); as a frame."""
    import polars as pl

    from . import polars_engine as pe

    if path is None:
        return pe._python(policy, pe.to_polars(source))
    if path.lower().endswith((".parquet", ".pq")):
        return pe._python(policy, pl.read_parquet(path))
    from ..records import read_records

    results = policy.score_batch(read_records(path, fmt="csv"))
    rows = [r.as_row() for r in results]
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
