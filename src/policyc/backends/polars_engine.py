"""The Polars engine: a columnar plan (backends/columnar.py) rendered as Polars expressions.

Integers are `Decimal(38, 0)` columns, whose arithmetic Polars checks: a value
that does not fit raises, and the engine reports it (`EngineLimit`) instead of
wrapping. Input columns are read into scaled integers at the scale the batch
needs (a `Decimal(p, s)` column: s; integers: 0; text and float columns: the
most decimals any value is written with).

Validation: vectorised checks decide whether every row is well-formed; if one
is not, the whole batch goes to the Python engine's reader, so bad records are
reported exactly as `policyc score` reports them (and nothing is scored).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from .. import ir
from .. import runtime as rt
from . import columnar as C

try:  # polars is optional: `pip install policyc[polars]`
    import polars as pl
except ImportError:  # pragma: no cover - exercised only without polars
    pl = None

INT = None if pl is None else pl.Decimal(38, 0)
MAX_SCALE = 18


class EngineLimit(Exception):
    """The batch cannot be computed exactly by this engine (values too large, …); use python."""


def available() -> bool:
    return pl is not None


# ───────────────────────── rendering ─────────────────────────


class Renderer:
    def __init__(self, ordinal: str = "·ordinal"):
        self.ordinal = ordinal
        self.checks: list = []  # boolean expressions that must be false on every row

    def lit(self, v: int):
        return pl.lit(Decimal(v), dtype=INT)

    def i(self, n):
        m = getattr(self, "i_" + type(n).__name__)
        return m(n)

    def i_Col(self, n):
        return pl.col(n.name)

    def i_Lit(self, n):
        return self.lit(n.value)

    def i_NullI(self, n):
        return pl.lit(None, dtype=INT)

    def i_Add(self, n):
        return self.i(n.a) + self.i(n.b)

    def i_Sub(self, n):
        return self.i(n.a) - self.i(n.b)

    def i_Mul(self, n):
        return self.i(n.a) * self.i(n.b)

    def i_Neg(self, n):
        return -self.i(n.a)

    def i_FloorDiv(self, n):
        return self.i(n.a) // self.i(n.b)

    def i_IfI(self, n):
        return pl.when(self.b(n.cond)).then(self.i(n.then)).otherwise(self.i(n.other))

    def i_Win(self, n):
        keys = list(n.keys)
        if n.func == "count":
            return pl.len().cast(pl.Int64).cast(INT).over(keys)
        x = self.i(n.arg)
        agg = {"max": x.max(), "min": x.min(), "sum": x.sum()}[n.func]
        return agg.over(keys)

    def i_Rank(self, n):
        keys = list(n.keys)
        if n.den is None:
            return self.i(n.num).rank("min", descending=n.descending).over(keys).cast(pl.Int64).cast(INT)
        # fractions: order each window by a float key, then prove the order exactly (each value is
        # ≤ the one before it, compared in integers) and find the ties exactly; the rank is the
        # position where a row's run of equal values starts. A wrong float order is refused.
        num, den = self.i(n.num), self.i(n.den)
        key = num.cast(pl.Float64) / den.cast(pl.Float64)
        order = -key if n.descending else key

        def ordered(x):
            return x.over(keys, order_by=order)

        prev_num, prev_den = ordered(num.shift(1)), ordered(den.shift(1))
        mine, theirs = num * prev_den, prev_num * den
        self.checks.append(("a rank could not be ordered exactly",
                            ((mine > theirs) if n.descending else (mine < theirs)).fill_null(False)))
        tie = (mine == theirs).fill_null(False)
        pos = ordered(pl.int_range(pl.len(), dtype=pl.Int64))
        start = pl.when(tie).then(pl.lit(-1, dtype=pl.Int64)).otherwise(pos)
        return (ordered(start.cum_max()) + 1).cast(INT)

    def i_WinArgmax(self, n):
        """Pick the extreme num/den of each window by a float key, then prove the pick exactly:
        every row's value must be ≤ (≥) the pick, compared in integers; otherwise the batch is
        refused (EngineLimit). Floats only choose a candidate; they never become a value."""
        num, den = self.i(n.num), self.i(n.den)
        key = num.cast(pl.Float64) / den.cast(pl.Float64)
        keys = list(n.keys)
        pick_num = (num.sort_by(key).last() if n.largest else num.sort_by(key).first()).over(keys)
        pick_den = (den.sort_by(key).last() if n.largest else den.sort_by(key).first()).over(keys)
        mine, best = num * pick_den, pick_num * den
        self.checks.append(("a cohort maximum could not be picked exactly",
                            (mine > best) if n.largest else (mine < best)))
        return pick_num if n.part == "num" else pick_den

    def ordered(self, x):
        return x.over("agent", order_by=self.ordinal)

    def any(self, n):
        """Render a node of any kind (integer, condition or label)."""
        inner = n
        while isinstance(inner, C.Prev):
            inner = inner.arg
        if isinstance(inner, _LABEL_NODES):
            return self.lab(n)
        if isinstance(inner, _BOOL_NODES):
            return self.b(n)
        return self.i(n)

    def i_Prev(self, n):
        x = self.any(n.arg)
        o = pl.col(self.ordinal)
        consecutive = self.ordered(o.shift(1)) == o - 1
        return pl.when(consecutive).then(self.ordered(x.shift(1))).otherwise(None)

    def i_Streak(self, n):
        c = self.b(n.cond).fill_null(False)
        o = pl.col(self.ordinal)
        prev_c = self.ordered(c.shift(1)).fill_null(False)
        consecutive = (self.ordered(o.shift(1)) == o - 1).fill_null(False)
        idx = self.ordered(pl.int_range(pl.len(), dtype=pl.Int64))
        starts = pl.when(c & prev_c & consecutive).then(pl.lit(-1, dtype=pl.Int64)).otherwise(idx)
        last_start = self.ordered(starts.cum_max())
        return pl.when(c).then(idx - last_start + 1).otherwise(0).cast(INT)

    def i_LabelRank(self, n):
        return self.lab(n.label).replace_strict(list(n.labels), list(range(len(n.labels))),
                                              return_dtype=pl.Int64).cast(INT)

    # booleans
    def b(self, n):
        return getattr(self, "b_" + type(n).__name__)(n)

    def b_Cmp(self, n):
        a = self.i(n.a) if not isinstance(n.a, C.LabelRank) else self.i_LabelRank(n.a)
        b = self.i(n.b) if not isinstance(n.b, C.LabelRank) else self.i_LabelRank(n.b)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "=": a == b, "!=": a != b}[n.op]

    def b_And(self, n):
        return self.b(n.a) & self.b(n.b)

    def b_Or(self, n):
        return self.b(n.a) | self.b(n.b)

    def b_Not(self, n):
        return ~self.b(n.a)

    def b_BLit(self, n):
        return pl.lit(n.value)

    def b_BCol(self, n):
        return pl.col(n.name)

    def b_IsNull(self, n):
        return self.any(n.a).is_null()

    def b_IfB(self, n):
        return pl.when(self.b(n.cond)).then(self.b(n.then)).otherwise(self.b(n.other))

    def b_LabelIs(self, n):
        return self.lab(n.a) == self.lab(n.b)

    def b_Prev(self, n):
        return self.i_Prev(n)

    # labels
    def lab(self, n):
        return getattr(self, "l_" + type(n).__name__)(n)

    def l_LCol(self, n):
        return pl.col(n.name)

    def l_LLit(self, n):
        return pl.lit(n.value, dtype=pl.String)

    def l_IfL(self, n):
        return pl.when(self.b(n.cond)).then(self.lab(n.then)).otherwise(self.lab(n.other))

    def l_Prev(self, n):
        return self.i_Prev(n)


_LABEL_NODES = (C.LCol, C.LLit, C.IfL)
_BOOL_NODES = (C.BCol, C.Cmp, C.And, C.Or, C.Not, C.BLit, C.IsNull, C.IfB, C.LabelIs)


# ───────────────────────── reading a frame ─────────────────────────


def to_polars(frame):
    """A Polars DataFrame from a Polars, pandas or Arrow frame."""
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame
    mod = type(frame).__module__
    if mod.startswith("pandas"):
        return pl.from_pandas(frame)
    if mod.startswith("pyarrow"):
        return pl.from_arrow(frame)
    raise TypeError(f"score_frame takes a Polars, pandas or Arrow frame, not {type(frame).__name__}")


_NUMERIC = ("count", "percent", "duration", "money", "points", "number")
_PERIOD_RX = {
    "month": r"^[0-9]{4}-(0[1-9]|1[0-2])$",
    "half_month": r"^[0-9]{4}-(0[1-9]|1[0-2])-H[12]$",
    "quarter": r"^[0-9]{4}-Q[1-4]$",
    "year": r"^[0-9]{4}$",
}


def _ordinal(kind: str):
    p = pl.col("period")
    year = p.str.slice(0, 4).cast(pl.Int64, strict=False)
    if kind == "month":
        return year * 12 + p.str.slice(5, 2).cast(pl.Int64, strict=False) - 1
    if kind == "half_month":
        return (year * 12 + p.str.slice(5, 2).cast(pl.Int64, strict=False) - 1) * 2 \
            + p.str.slice(9, 1).cast(pl.Int64, strict=False) - 1
    if kind == "quarter":
        return year * 4 + p.str.slice(6, 1).cast(pl.Int64, strict=False) - 1
    return year


class _Fallback(Exception):
    """A row needs the careful reader: hand the batch to the Python engine."""


class _RequireBroken(_Fallback):
    """A `require` fails on some row: the Python engine's reader says which, exactly."""


def _scaled(df, name: str, inp: ir.Input):
    """(expression for the scaled integer column, scale, ok-expression) for a numeric input."""
    s = df.schema[name]
    col = pl.col(name)
    if s.is_integer():
        return col.cast(INT), 0
    if isinstance(s, pl.Decimal):
        scale = s.scale
        if scale > MAX_SCALE:
            raise _Fallback()
        return (col.cast(pl.Decimal(38, scale)) * pl.lit(Decimal(10) ** scale, dtype=pl.Decimal(38, 0))).cast(INT), \
            scale
    if s == pl.String or s.is_float():
        text = col.cast(pl.String) if s != pl.String else col.str.strip_chars()
        plain = df.select(text.str.contains(r"^-?[0-9]+(\.[0-9]+)?$").fill_null(True).all()).item()
        if not plain:
            raise _Fallback()
        scale = df.select(text.str.extract(r"\.([0-9]+)$").str.len_chars().max()).item() or 0
        if scale > MAX_SCALE:
            raise _Fallback()
        return (text.str.to_decimal(scale=scale) * pl.lit(Decimal(10) ** scale, dtype=pl.Decimal(38, 0))).cast(INT), \
            scale
    raise _Fallback()


def prepare(policy: ir.Policy, df):
    """The frame with inputs as engine columns and the input scales; _Fallback if any doubt."""
    cols = set(df.columns)
    needed = {"agent", "period", *(i.name for i in policy.inputs)}
    if needed - cols or (not policy.allow_extra and cols - needed):
        raise _Fallback()
    if df.schema["agent"] != pl.String or df.schema["period"] != pl.String:
        raise _Fallback()
    exprs = [pl.col("agent"), pl.col("period"), _ordinal(policy.period).alias("·ordinal")]
    ok = [pl.col("agent").is_not_null() & (pl.col("agent").str.len_chars() > 0),
          pl.col("period").str.contains(_PERIOD_RX[policy.period]).fill_null(False)]
    scales = {}
    for inp in policy.inputs:
        name = inp.name
        col = pl.col(name)
        dtype = df.schema[name]
        present = col.is_not_null()
        if inp.kind in _NUMERIC:
            if dtype.is_float():
                ok.append(col.is_nan().not_().fill_null(True) & col.is_infinite().not_().fill_null(True))
            x, scale = _scaled(df, name, inp)
            scales[name] = scale
            exprs.append(x.alias(name))
            checks = []
            unit = Decimal(10) ** scale
            dom = inp.domain or rt._DEFAULT.get(inp.kind, ())
            if inp.kind == "count" and scale:
                checks.append((x % pl.lit(unit, dtype=INT)) == 0)
            big = pl.lit(Decimal(10) ** 31 * unit, dtype=INT)
            checks.append((x < big) & (x > -big))
            if dom:
                alt = None
                for lo, hi in dom:
                    t = pl.lit(True)
                    if lo is not None:  # x ≥ lo·10^s ⟺ x ≥ ⌈lo·10^s⌉ for a whole x
                        t = t & (x >= pl.lit(Decimal(-((-Fraction(lo) * 10 ** scale) // 1)), dtype=INT))
                    if hi is not None:
                        t = t & (x <= pl.lit(Decimal((Fraction(hi) * 10 ** scale) // 1), dtype=INT))
                    alt = t if alt is None else alt | t
                checks.append(alt)
            good = checks[0]
            for c in checks[1:]:
                good = good & c
            ok.append((good.fill_null(False) | ~present) if inp.na else (good.fill_null(False) & present))
        elif inp.kind in ("grade", "choice"):
            if dtype not in (pl.String, pl.Categorical) and not isinstance(dtype, (pl.Categorical, pl.Enum)):
                raise _Fallback()
            x = col.cast(pl.String)
            exprs.append(x.alias(name))
            member = x.is_in(list(inp.type.labels))
            ok.append(member | ~present if inp.na else member.fill_null(False))
        elif inp.kind == "text":
            if dtype != pl.String:
                raise _Fallback()
            exprs.append(col)
            ok.append(pl.lit(True) if inp.na else present)
        else:  # bool
            if dtype != pl.Boolean:
                raise _Fallback()
            exprs.append(col)
            ok.append(pl.lit(True) if inp.na else present)
    all_ok = ok[0]
    for c in ok[1:]:
        all_ok = all_ok & c
    try:
        out = df.select(*exprs, all_ok.alias("·ok"))
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError) as e:
        raise _Fallback() from e
    if not out["·ok"].all():
        raise _Fallback()
    out = out.drop("·ok")
    if out.select(pl.struct("agent", "period").is_duplicated().any()).item():
        raise _Fallback()
    for c in policy.cohorts:
        keys = ["period", *c.keys]
        for inp in policy.inputs:
            if inp.same_over == c.name and out.select((pl.col(inp.name).n_unique().over(keys) > 1).any()).item():
                raise _Fallback()
    return out, scales


# ───────────────────────── scoring ─────────────────────────


def score_frame(policy, frame):
    """Score a frame of records (validation included); return a Polars frame of the outputs."""
    if pl is None:
        raise ImportError("the polars engine needs Polars: pip install 'policyc[polars]'")
    p: ir.Policy = policy.ir
    df = to_polars(frame)
    try:
        data, scales = prepare(p, df)
        planner = C.Planner(p, scales)
        requires = planner.requires()
        plan = planner.plan()
    except _Fallback:
        return _python(policy, df)
    except C.Unsupported as e:
        raise EngineLimit(f"the polars engine cannot compute this policy exactly: {e}") from e
    try:
        return _run(p, data, planner, requires, plan)
    except _RequireBroken:
        return _python(policy, df)
    except C.Unsupported as e:
        raise EngineLimit(f"the polars engine cannot compute this policy exactly: {e}") from e


def _run(p, data, planner, requires, plan):
    r = Renderer()
    if requires:
        cond = r.b(requires[0])
        for q in requires[1:]:
            cond = cond & r.b(q)
        if not data.select(cond.fill_null(False).all()).item():
            raise _RequireBroken()
    lf = data.lazy()
    types = {d.name: d for d in p.definitions}
    for step in plan.steps:
        lf = lf.with_columns(_render_step(r, step))
    outputs = [pl.col("agent"), pl.col("period")]
    for name in p.outputs:
        outputs.append(_public(types[name], plan_value(plan, name)).alias(name))
    checks = [c.alias(f"·check{i}") for i, (_, c) in enumerate(r.checks)]
    try:
        result = lf.select(*outputs, *checks).collect()
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError) as e:
        if "overflow" in str(e) or "conversion" in str(e):
            raise EngineLimit(f"a value does not fit the polars engine's exact 38-digit arithmetic ({e})") from e
        raise
    for i, (what, _) in enumerate(r.checks):
        if result[f"·check{i}"].fill_null(False).any():
            raise EngineLimit(what)
    result = result.drop([f"·check{i}" for i in range(len(checks))])
    for name in p.outputs:
        d = types[name]
        if not d.type.optional and result[name].null_count():
            raise rt.PolicyRuntimeError(f"no row of the table for `{name}` matched")
    return result


def plan_value(plan: C.Plan, name: str):
    for s in plan.steps:
        if s.name == name:
            return C.Planner.column_of(name, s.value)
    raise KeyError(name)


def _render_step(r: Renderer, step: C.Step):
    v = step.value
    if isinstance(v, C.Num):
        out = [r.i(v.num).alias(step.name)]
        if v.den is not None:
            out.append(r.i(v.den).alias(step.name + "·den"))
        return out
    if isinstance(v, C.BoolV):
        return [r.b(v.b).alias(step.name)]
    if isinstance(v, C.LabelV):
        return [r.lab(v.label).alias(step.name)]
    items = [pl.when(r.b(c)).then(pl.lit(label)) for label, c in v.items]
    return [pl.concat_list(items).list.drop_nulls().alias(step.name)]


def _public(d: ir.Definition, v):
    """The output column: Int64 for whole numbers, Decimal(38, s) for decimals, Decimal(38, 20)
    for rationals (rounded half-up at the 20th place, as the Python engine shows them)."""
    if isinstance(v, C.Num):
        num = pl.col(v.num.name)
        if v.den is not None:
            den = pl.col(v.den.name)
            places = 20
            e = places - v.scale
            n = num * pl.lit(Decimal(10) ** e, dtype=INT) if e >= 0 else num
            dd = den if e >= 0 else den * pl.lit(Decimal(10) ** (-e), dtype=INT)
            q = n // dd
            rem = n - q * dd
            bump = ((rem * 2 > dd) | ((rem * 2 == dd) & (n > 0)))
            k = pl.when(bump).then(q + 1).otherwise(q)
            return k * pl.lit(Decimal(1).scaleb(-places), dtype=pl.Decimal(38, places))
        if d.type.repr is ir.Repr.INT:
            whole = num // pl.lit(Decimal(10) ** v.scale, dtype=INT) if v.scale else num
            return whole.cast(pl.Int64)
        if v.scale == 0:
            return num
        return num * pl.lit(Decimal(1).scaleb(-v.scale), dtype=pl.Decimal(38, v.scale))
    if isinstance(v, C.ListV):
        return pl.col(d.name)
    return pl.col(d.name)


def _python(policy, df):
    """The batch through the Python engine (its reader reports bad records exactly); as a frame."""
    results = policy.score_batch(df.to_dicts())
    rows = [r.as_row() for r in results]
    return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
