"""The Polars engine: a columnar plan (backends/columnar.py) rendered as Polars expressions.

Integers are Int64 or Int128 where the batch's bounds prove that no value can
overflow (columnar.Bounds), else checked `Decimal(38, 0)`, whose arithmetic
Polars checks: a value that does not fit raises, and the engine reports it
(`EngineLimit`) instead of wrapping. Input columns are read into scaled
integers at the scale the batch needs (a `Decimal(p, s)` column: s; integers:
0; text and float columns: the most decimals any value is written with).
Labels are read once into codes; text keys of cohort windows are grouped by
codes; ranks of fractions and history work in one sorted order of the batch
(an index permutation and its inverse, never a sort of the frame itself).

Validation: vectorised checks decide whether every row is well-formed; if one
is not, the whole batch goes to the Python engine's reader, so bad records are
reported exactly as `policyc score` reports them (and nothing is scored).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import attrs

from .. import ir
from .. import runtime as rt
from . import columnar as C

try:  # polars is optional: `pip install policyc[polars]`
    import polars as pl
except ImportError:  # pragma: no cover - exercised only without polars
    pl = None

INT = None if pl is None else pl.Decimal(38, 0)
MAX_SCALE = 18
FORCE_INT = None  # tests only: "i128" or "dec" to render with a wider integer type than needed


class EngineLimit(Exception):
    """The batch cannot be computed exactly by this engine (values too large, …); use python."""


def available() -> bool:
    return pl is not None


# ───────────────────────── rendering ─────────────────────────


class Renderer:
    """Plan nodes → Polars expressions, over integers of one type: Int64 when the batch's bounds
    prove every value fits (fast), else checked Decimal(38, 0)."""

    def __init__(self, wide=True, ordinal: str = "·ordinal", enums=None, texts=()):
        self.ordinal = ordinal
        self.texts = set(texts)  # text columns (window keys among them are grouped by codes)
        self.pre: list = []  # columns a step needs made before it (codes, sort orders, picks)
        self.made: set[str] = set()
        self.picks: dict = {}
        # label inputs held as codes (name → their labels, in code order): see _label_codes
        self.enums: dict[str, tuple[str, ...]] = dict(enums or {})
        self.int = _int_type(wide)
        self.wide = self.int == INT
        self.checks: list = []  # boolean expressions that must be false on every row

    def lit(self, v: int):
        return _lit(Decimal(v), INT) if self.wide else _lit(v, self.int)

    def i(self, n):
        m = getattr(self, "i_" + type(n).__name__)
        return m(n)

    def i_Col(self, n):
        return pl.col(n.name)

    def i_Lit(self, n):
        return self.lit(n.value)

    def i_NullI(self, n):
        return _lit(None, self.int)

    def i_Add(self, n):
        return self.i(n.a) + self.i(n.b)

    def i_Sub(self, n):
        return self.i(n.a) - self.i(n.b)

    def i_Mul(self, n):
        return self.i(n.a) * self.i(n.b)

    def i_Neg(self, n):
        return self.lit(0) - self.i(n.a)  # Polars has no negation for Int128

    def i_FloorDiv(self, n):
        return self.i(n.a) // self.i(n.b)

    def i_IfI(self, n):
        return pl.when(self.b(n.cond)).then(self.i(n.then)).otherwise(self.i(n.other))

    def window(self, keys) -> list:
        """The columns a window over `keys` groups by: exact UInt32 codes of text keys (an integer
        hashes and sorts faster than a text), made once per batch (see `pre`)."""
        cols = []
        for k in keys:
            if k in self.texts:
                name = f"·code·{k}"
                if name not in self.made:
                    self.made.add(name)
                    self.pre.append(pl.col(k).cast(pl.Categorical).to_physical().alias(name))
                cols.append(name)
            else:
                cols.append(k)
        return cols

    def i_Win(self, n):
        keys = self.window(n.keys)
        if n.func == "count":
            return pl.len().cast(pl.Int64).cast(self.int).over(keys)
        x = self.i(n.arg)
        agg = {"max": x.max(), "min": x.min(), "sum": x.sum()}[n.func]
        return agg.over(keys)

    def i_Rank(self, n):
        keys = self.window(n.keys)
        if n.den is None:
            return self.i(n.num).rank("min", descending=n.descending).over(keys).cast(pl.Int64).cast(self.int)
        # fractions: the rows sorted once by window and a float key, then the order proved exactly
        # (each value ≤ the one before it in its window, compared in integers) and the ties found
        # exactly; a row's rank is where its run of equal values starts in its window. A wrong
        # float order is refused. (One sort of the whole batch: far faster than ordered windows.)
        num, den = self.i(n.num), self.i(n.den)
        key = num.cast(pl.Float64) / den.cast(pl.Float64)
        k = len(self.made)
        perm, inv = f"·perm{k}", f"·inv{k}"
        self.made |= {perm, inv}
        self.pre.append(pl.arg_sort_by([*keys, -key if n.descending else key]).alias(perm))
        self.pre.append(pl.col(perm).arg_sort().alias(inv))
        order = pl.col(perm)
        sn, sd = num.gather(order), den.gather(order)
        same = pl.lit(True)
        for c in keys:
            g = pl.col(c).gather(order)
            same = same & (g == g.shift(1))
        same = same.fill_null(False)
        mine, theirs = sn * sd.shift(1), sn.shift(1) * sd
        wrong = (same & ((mine > theirs) if n.descending else (mine < theirs))).fill_null(False)
        tie = same & (mine == theirs).fill_null(False)
        pos = pl.int_range(pl.len(), dtype=pl.Int64)
        start = pl.when(same).then(_lit(-1, pl.Int64)).otherwise(pos).cum_max()
        run = pl.when(tie).then(_lit(-1, pl.Int64)).otherwise(pos).cum_max()
        rank, bad = f"·rank{k}", f"·rank{k}·bad"
        self.pre.append([(run - start + 1).gather(pl.col(inv)).alias(rank), wrong.alias(bad)])
        self.checks.append(("a rank could not be ordered exactly", pl.col(bad)))
        return pl.col(rank).cast(self.int)

    def i_WinArgmax(self, n):
        """Pick the extreme num/den of each window by a float key, then prove the pick exactly:
        every row's value must be ≤ (≥) the pick, compared in integers; otherwise the batch is
        refused (EngineLimit). Floats only choose a candidate; they never become a value. The
        numerator and denominator are taken from the same row (one arg_max), never from two.
        Each distinct pick is made once, as two columns, before the step that uses it."""
        ident = (n.num, n.den, n.keys, n.largest)
        if ident not in self.picks:
            num, den = self.i(n.num), self.i(n.den)
            key = num.cast(pl.Float64) / den.cast(pl.Float64)
            keys = self.window(n.keys)
            at = key.arg_max() if n.largest else key.arg_min()
            k = len(self.picks)
            names = (f"·pick{k}·num", f"·pick{k}·den")
            self.pre.append([num.get(at).over(keys).alias(names[0]), den.get(at).over(keys).alias(names[1])])
            pick_num, pick_den = pl.col(names[0]), pl.col(names[1])
            mine, best = num * pick_den, pick_num * den
            self.checks.append(("a cohort maximum could not be picked exactly",
                                (mine > best) if n.largest else (mine < best)))
            self.picks[ident] = names
        names = self.picks[ident]
        return pl.col(names[0] if n.part == "num" else names[1])

    def history(self):
        """The order of the batch by agent and period, made once (`pre`): `·h·order` lists the rows
        sorted by agent and period, `·h·back` puts them back; `·h·follows` says, in that order,
        that the row above is the same agent's record of the period just before."""
        if "·h·order" not in self.made:
            self.made |= {"·h·order", "·h·back", "·h·follows"}
            agent = self.window(["agent"])[0]
            self.pre.append(pl.arg_sort_by([agent, self.ordinal]).alias("·h·order"))
            a, o = pl.col(agent).gather(pl.col("·h·order")), pl.col(self.ordinal).gather(pl.col("·h·order"))
            self.pre.append([pl.col("·h·order").arg_sort().alias("·h·back"),
                             ((a.shift(1) == a) & (o.shift(1) == o - 1)).fill_null(False).alias("·h·follows")])
        return pl.col("·h·order"), pl.col("·h·back"), pl.col("·h·follows")

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

    # History: values taken into the agent-and-period order (see `history`), where the period
    # before is the row above when it `follows`, and runs of consecutive periods are cumulative
    # scans; then put back in the batch's order.
    def i_Prev(self, n):
        order, back, follows = self.history()
        x = self.any(n.arg).gather(order)
        return pl.when(follows).then(x.shift(1)).otherwise(None).gather(back)

    def i_Streak(self, n):
        order, back, follows = self.history()
        c = self.b(n.cond).fill_null(False).gather(order)
        idx = pl.int_range(pl.len(), dtype=pl.Int64)
        go_on = c & follows & c.shift(1).fill_null(False)
        starts = pl.when(go_on).then(_lit(-1, pl.Int64)).otherwise(idx)
        return pl.when(c).then(idx - starts.cum_max() + 1).otherwise(0).gather(back).cast(self.int)

    def _by_code(self, name: str, value_of, dtype):
        """A value for each label of the code column `name`, picked by the row's code; a missing
        label gives null."""
        return _pick(pl.col(name), [value_of(lab) for lab in self.enums[name]], dtype)

    def i_LabelMap(self, n):
        conv = Decimal if self.wide else int
        if n.label in self.enums:
            table = dict(zip(n.labels, n.values, strict=True))

            def value_of(lab):
                v = table.get(lab, n.default)
                return None if v is None else conv(v)
            return self._by_code(n.label, value_of, self.int)
        return pl.col(n.label).replace_strict(list(n.labels), [conv(v) for v in n.values],
                                               default=None if n.default is None else conv(n.default),
                                               return_dtype=self.int)

    def i_LabelRank(self, n):
        if isinstance(n.label, C.LCol) and n.label.name in self.enums:
            rank = {lab: k for k, lab in enumerate(n.labels)}
            return self._by_code(n.label.name, rank.get, pl.Int64).cast(self.int)
        return self.lab(n.label).replace_strict(list(n.labels), list(range(len(n.labels))),
                                              return_dtype=pl.Int64).cast(self.int)

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
        a, b = n.a, n.b
        if isinstance(b, C.LCol) and isinstance(a, C.LLit):
            a, b = b, a
        if isinstance(a, C.LCol) and a.name in self.enums and isinstance(b, C.LLit):
            labels = self.enums[a.name]
            if b.value not in labels:  # never equal; null stays null
                return pl.when(pl.col(a.name).is_not_null()).then(pl.lit(False))
            return pl.col(a.name) == _lit(labels.index(b.value), CODE)
        return self.lab(n.a) == self.lab(n.b)

    def b_Prev(self, n):
        return self.i_Prev(n)

    # labels
    def lab(self, n):
        return getattr(self, "l_" + type(n).__name__)(n)

    def l_LCol(self, n):
        if n.name in self.enums:  # a code column: back to its text
            return self._by_code(n.name, lambda lab: lab, pl.String)
        return pl.col(n.name)

    def l_LLit(self, n):
        return _lit(n.value, pl.String)

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
        try:
            return pl.from_pandas(frame)
        except Exception:  # (pyarrow's ArrowInvalid, ArrowTypeError: a column of mixed types, as read from a sheet)
            return _mixed_pandas(frame)
    if mod.startswith("pyarrow"):
        return pl.from_arrow(_arrow_polars_reads(frame))
    raise TypeError(f"score_frame takes a Polars, pandas or Arrow frame, not {type(frame).__name__}")


def _mixed_pandas(frame):
    """A pandas frame with columns Arrow cannot type: those columns keep their Python values
    (Object, which no columnar engine reads, so the Python engine's reader names every bad cell,
    as for records); a missing cell (None, NaN) is None, as `from_pandas` makes it."""
    import math

    cols = []
    for name in frame.columns:
        try:
            cols.append(pl.from_pandas(frame[name]).alias(str(name)))
        except Exception:
            values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in frame[name].tolist()]
            cols.append(pl.Series(str(name), values, dtype=pl.Object))
    return pl.DataFrame(cols)


def _arrow_polars_reads(frame):
    """An Arrow table or batch with its 256-bit decimals as Polars reads them (Polars has none,
    and aborts on them): as 128-bit decimals when their precision allows, else as their text."""
    import pyarrow as pa

    schema = getattr(frame, "schema", None)
    if schema is None or not any(pa.types.is_decimal256(f.type) for f in schema):
        return frame
    types = [pa.decimal128(f.type.precision, f.type.scale) if pa.types.is_decimal256(f.type) and f.type.precision <= 38
             else pa.string() if pa.types.is_decimal256(f.type) else f.type for f in schema]
    return frame.cast(pa.schema([f.with_type(t) for f, t in zip(schema, types)]))


_NUMERIC = ("count", "percent", "duration", "money", "points", "number")
class _Fallback(Exception):
    """A row needs the careful reader: hand the batch to the Python engine."""


class _RequireBroken(_Fallback):
    """A `require` fails on some row: the Python engine's reader says which, exactly."""


def _parse_text_numbers(df, policy: ir.Policy):
    """Numeric inputs held as text or floats, parsed to exact decimals (floats by their shortest
    text); _Fallback if a value is not a plain decimal or needs more places than the engine takes."""
    parsed = []
    schema = df.schema
    for inp in policy.inputs:
        dtype = schema[inp.name]
        if inp.kind not in _NUMERIC or dtype.is_integer() or isinstance(dtype, pl.Decimal):
            continue
        if dtype != pl.String and not dtype.is_float():
            raise _Fallback()
        col = pl.col(inp.name)
        text = col.cast(pl.String) if dtype != pl.String else col.str.strip_chars()
        # (the places a value needs, trailing zeros aside: "40.0" is the count 40, as the Python
        # engine and DuckDB read it; reading it with one place would be exact, but wider)
        plain, scale = df.select(text.str.contains(r"^-?[0-9]+(\.[0-9]+)?$").fill_null(True).all().alias("a"),
                                 text.str.extract(r"\.([0-9]*?)0*$").str.len_chars().max().alias("b")).row(0)
        scale = scale or 0
        if not plain or scale > MAX_SCALE:
            raise _Fallback()
        parsed.append(text.str.to_decimal(scale=scale).alias(inp.name))
    return df.with_columns(parsed) if parsed else df


def _scale_of(dtype) -> int:
    return dtype.scale if isinstance(dtype, pl.Decimal) else 0


def _int_type(wide):
    """The engine's integer type: True/"dec" = checked Decimal(38, 0); False/"i64" = Int64;
    "i128" = Int128 (both fast, and used only where the batch's bounds prove no overflow)."""
    if wide is True or wide == "dec":
        return INT
    return pl.Int128 if wide == "i128" else pl.Int64


def _as_int(col, dtype, wide):
    """A number column as scaled integers of the engine's type (a Decimal(p, s) column holds
    value × 10^s already)."""
    if isinstance(dtype, pl.Decimal):
        return col.to_physical().cast(_int_type(wide))
    return col.cast(_int_type(wide))


def prepare(policy: ir.Policy, df):
    """Check the columns, parse text numbers, and find each numeric input's scale and bounds
    (in scaled integers); _Fallback when any doubt needs the careful reader."""
    cols = set(df.columns)
    needed = {"agent", "period", *(i.name for i in policy.inputs)}
    if needed - cols or (not policy.allow_extra and cols - needed):
        raise _Fallback()
    schema = df.schema  # (each read of a frame's schema builds it anew)
    if schema["agent"] != pl.String or schema["period"] != pl.String:
        raise _Fallback()
    for inp in policy.inputs:
        dtype = schema[inp.name]
        if inp.kind in ("grade", "choice"):
            if dtype != pl.String and not isinstance(dtype, (pl.Categorical, pl.Enum)):
                raise _Fallback()
        elif inp.kind == "text" and dtype != pl.String:
            raise _Fallback()
        elif inp.kind == "bool" and dtype != pl.Boolean:
            raise _Fallback()
    df = _parse_text_numbers(df, policy)
    numeric = [i for i in policy.inputs if i.kind in _NUMERIC]
    schema = df.schema
    scales = {i.name: _scale_of(schema[i.name]) for i in numeric}
    if any(sc > MAX_SCALE for sc in scales.values()):
        raise _Fallback()
    summary, periods, distinct = summarise(df, numeric)
    _check_batch_level(policy, df, summary, periods)
    bounds = {}
    for i in numeric:
        lo, hi = summary[f"·lo·{i.name}"], summary[f"·hi·{i.name}"]
        unit = 10 ** scales[i.name]
        bounds[i.name] = (int(Decimal(lo) * unit) if lo is not None else 0,
                          int(Decimal(hi) * unit) if hi is not None else 0)
    return Batch(df, scales, bounds, periods, distinct)


@attrs.frozen
class Batch:
    """A frame the batch-level checks passed, with what they learnt of it."""

    df: object
    scales: dict  # numeric input → its decimal places in this frame
    bounds: dict  # numeric input → (least, greatest) in scaled integers
    periods: list  # the distinct period labels
    distinct: bool  # every (agent, period) key proven distinct (else the exact test decides)


def summarise(df, numeric):
    """(the summary row by name, the distinct period labels, whether every key is distinct), from
    one pass (one select, run in parallel; the duckdb engine takes a Polars frame's from here too): missing values, the shortest agent, each numeric
    input's least and greatest value, the distinct period labels, and the number of distinct
    hashes of the (agent, period) keys: equal keys hash equal, so as many hashes as records
    proves no agent twice in a period (fewer only calls for the exact test)."""
    stats = [pl.col(c).null_count().alias(f"·null·{c}") for c in df.columns]
    stats.append(pl.col("agent").str.len_bytes().min().alias("·agentlen"))
    stats += [e for i in numeric for e in (pl.col(i.name).min().alias(f"·lo·{i.name}"),
                                           pl.col(i.name).max().alias(f"·hi·{i.name}"))]
    stats.append(pl.col("period").unique().implode().alias("·periods"))
    stats.append((pl.col("agent").hash(1) ^ pl.col("period").hash(2)).n_unique().alias("·keys"))
    summary = df.select(stats).row(0, named=True)
    return summary, list(summary["·periods"]), summary["·keys"] == df.height


def _check_batch_level(policy: ir.Policy, df, summary, periods) -> None:
    """Checks decided once per batch from the summary (agents, periods, missing values), so rows
    need no test of their own; _Fallback on any doubt. (Unknown labels are found row by row, in
    the same pass as the scoring: see _input_columns.)"""
    if df.height == 0:
        return
    if summary["·null·agent"] or summary["·null·period"] or not summary["·agentlen"]:
        raise _Fallback()
    for period in periods:
        try:
            rt.read_period(period, policy.period)
        except rt._Bad:
            raise _Fallback() from None
    for inp in policy.inputs:
        if summary[f"·null·{inp.name}"] and not inp.na:
            raise _Fallback()


def _ordinals(policy: ir.Policy, labels):
    """Each row's period as an ordinal (consecutive periods differ by 1), from its distinct labels."""
    return pl.col("period").replace_strict(labels, [rt.read_period(x, policy.period) for x in labels],
                                           return_dtype=pl.Int64)


def _input_columns(policy: ir.Policy, df, scales, wide: bool, periods=None, bounds=None):
    """The engine's input columns, the per-row well-formedness condition (labels, and only the
    numeric checks the batch's bounds do not already prove; agents, periods and nulls were
    checked once per batch) and the label columns held as Enums (name → labels)."""
    exprs = [pl.col("agent"), pl.col("period")]
    enums: dict[str, tuple[str, ...]] = {}
    if periods is not None:
        exprs.append(_ordinals(policy, periods).alias("·ordinal"))
    ok = []
    schema = df.schema
    for inp in policy.inputs:
        name = inp.name
        col = pl.col(name)
        if inp.kind in _NUMERIC:
            x = _as_int(col, schema[name], wide)
            exprs.append(x.alias(name))
            if bounds is not None and C.proven_valid(inp, bounds[name], scales[name]):
                continue
            ok.append(_value_checks(inp, x, scales[name], wide).fill_null(True))
        elif inp.kind in ("grade", "choice"):
            # held as codes (the label's position among the input's labels): read once here, and
            # every later use is a comparison or a gather; a label not among them has no code,
            # and that row is not well-formed
            labels = tuple(inp.type.labels)
            code = _label_codes(col, schema[name], labels)
            exprs.append(code.alias(name))
            ok.append(code.is_not_null() | col.is_null())
            enums[name] = labels
        else:
            exprs.append(col)
    all_ok = pl.lit(True)
    for c in ok:
        all_ok = all_ok & c
    return exprs, all_ok, enums


CODE = None if pl is None else pl.UInt32
_FEW_LABELS = 8  # up to this many, comparing beats hashing (short texts compare in place)


def _pick(code, values: list, dtype):
    """values[code] for a column of codes 0, 1, …, as an element-wise expression (so Polars'
    streaming engine can run it in morsels: a gather from a literal would make it hold every
    column of the query at once); null for a null code."""
    if len(values) <= _FEW_LABELS:
        out = pl.when(code == _lit(0, CODE)).then(_lit(values[0], dtype))
        for k, v in enumerate(values[1:], start=1):
            out = out.when(code == _lit(k, CODE)).then(_lit(v, dtype))
        return out.otherwise(_lit(None, dtype))
    return code.replace_strict(list(range(len(values))), values, default=None, return_dtype=dtype)


def _label_codes(col, dtype, labels: tuple[str, ...]):
    """A label column as UInt32 codes: the position of each row's label in `labels`, null for a
    missing value or a text that is not one of them."""
    if isinstance(dtype, pl.Enum):  # its own codes, translated by a table
        own = dtype.categories.to_list()
        return _pick(col.to_physical().cast(CODE), [labels.index(x) if x in labels else None for x in own], CODE)
    if dtype == pl.String and len(labels) <= _FEW_LABELS:
        code = pl.when(col == labels[0]).then(_lit(0, CODE))
        for k, lab in enumerate(labels[1:], start=1):
            code = code.when(col == lab).then(_lit(k, CODE))
        return code.otherwise(_lit(None, CODE))
    return col.cast(pl.Enum(labels), strict=False).to_physical().cast(CODE)


_LITS: dict = {}


def _lit(value, dtype):
    """pl.lit(value, dtype=dtype), made once per (value, type) and reused: a typed literal costs a
    Series each time it is made, and a plan renders the same few hundreds on every batch."""
    key = (type(value), value, dtype)
    e = _LITS.get(key)
    if e is None:
        if len(_LITS) > 4096:  # (bounded: a policy's constants are few, a batch's bounds are not)
            _LITS.clear()
        e = _LITS[key] = pl.lit(value, dtype=dtype)
    return e


def _value_checks(inp: ir.Input, x, scale: int, wide):
    """Whole counts, the reader's size limit and the input's domain, on the scaled integers."""
    itype = _int_type(wide)

    def lit(v):
        if itype == INT:
            return _lit(Decimal(v), INT)
        if itype == pl.Int128:
            return _lit(max(min(v, 2 ** 127 - 1), -(2 ** 127)), pl.Int128)
        return _lit(max(min(v, 2 ** 63 - 1), -(2 ** 63)), pl.Int64)

    unit = 10 ** scale
    checks = [pl.lit(True)]
    if inp.kind == "count" and scale:
        checks.append((x % lit(unit)) == 0)
    if 31 + scale < 38:  # the Python reader refuses magnitudes of 10^31 and more
        big = 10 ** 31 * unit
        checks.append((x < lit(big)) & (x > lit(-big)))
    dom = inp.domain or rt._DEFAULT.get(inp.kind, ())
    if dom:
        alt = None
        for lo, hi in dom:
            t = pl.lit(True)
            if lo is not None:  # x ≥ lo·10^s ⟺ x ≥ ⌈lo·10^s⌉ for a whole x
                t = t & (x >= lit(int(-((-Fraction(lo) * unit) // 1))))
            if hi is not None:
                t = t & (x <= lit(int((Fraction(hi) * unit) // 1)))
            alt = t if alt is None else alt | t
        checks.append(alt)
    good = checks[0]
    for c in checks[1:]:
        good = good & c
    return good


def check_keys(policy: ir.Policy, batch: Batch):
    """No agent twice in a period; team-level inputs equal within their cohort; _Fallback if not."""
    data = batch.df
    if not batch.distinct and data.select(pl.struct("agent", "period").is_duplicated().any()).item():
        raise _Fallback()  # (a clash of hashes alone is not a duplicate: the exact test decides)
    for c in policy.cohorts:
        same = [inp.name for inp in policy.inputs if inp.same_over == c.name]
        if not same:
            continue
        x = [pl.col(n) for n in same]  # one value per cohort: least = greatest, and all or no nulls
        differs = data.group_by(["period", *c.keys]).agg(
            pl.any_horizontal(*((v.min() != v.max()) | ((v.null_count() > 0) & (v.null_count() < pl.len()))
                                for v in x)).alias("d"))
        if differs.get_column("d").any():
            raise _Fallback()


# ───────────────────────── scoring ─────────────────────────


def score_frame(policy, frame):
    """Score a frame of records (validation included); return a Polars frame of the outputs."""
    if pl is None:
        raise ImportError("the polars engine needs Polars: pip install 'policyc[polars]'")
    df = to_polars(frame)
    try:
        return _score(policy, df)
    except EngineLimit:
        narrower = _fewest_places(policy.ir, df)  # a decimal column wider than its values need
        if narrower is None:
            raise
        return _score(policy, narrower)


def _fewest_places(p: ir.Policy, df):
    """The frame with each decimal input column at the fewest places its values need (Decimal(38,
    4) values that are all whole cents, read at 2 places, keep the exact arithmetic 2 places
    narrower per factor), or None if no column can be narrowed."""
    cols = [i.name for i in p.inputs if i.kind in _NUMERIC and isinstance(df.schema[i.name], pl.Decimal)
            and df.schema[i.name].scale > 0]
    if not cols:
        return None
    whole = df.select(*((pl.col(n).to_physical() % 10 ** k == 0).all().alias(f"{n}·{k}")
                        for n in cols for k in range(1, df.schema[n].scale + 1))).row(0, named=True)
    out = {}
    for n in cols:
        s = df.schema[n].scale
        drop = max([k for k in range(1, s + 1) if whole[f"{n}·{k}"]], default=0)
        if drop:
            out[n] = pl.col(n).cast(pl.Decimal(38, s - drop))  # (exact: every value is a multiple of 10^drop)
    return df.with_columns(**out) if out else None


def _score(policy, df):
    p: ir.Policy = policy.ir
    try:
        batch = prepare(p, df)
        requires, plan, history = _plan(policy, batch.scales)
        proven = C.Bounds(batch.bounds, len(batch.df))
        top = proven.largest(plan, [C.BoolV(r) for r in requires])
        wide = "dec" if top is None or top >= C.INT128_SAFE else "i128" if top >= C.INT64_SAFE else "i64"
        if FORCE_INT is not None and (FORCE_INT == "dec" or (FORCE_INT == "i128" and wide != "dec")):
            wide = FORCE_INT  # tests: a wider type than the bounds need (never a narrower one)
        check_keys(p, batch)
        return _run(p, batch, requires, plan, wide, proven.env if top is not None else {}, history)
    except _Fallback:
        return _python(policy, df)
    except C.Unsupported as e:
        raise EngineLimit(f"the polars engine cannot compute this policy exactly: {e}") from e


def _plan(policy, scales: dict):
    """(the `require` conditions, the plan, whether it reads history) for these input scales:
    planned once per policy and scales (a pure function of the two, which costs about 1 ms)."""
    cache = policy.__dict__.setdefault("_polars_plans", {})
    key = tuple(sorted(scales.items()))
    if key not in cache:
        planner = C.Planner(policy.ir, scales)
        requires = planner.requires()
        plan = planner.plan()
        cache[key] = requires, plan, _needs_ordinal(plan)
    return cache[key]


def _needs_ordinal(plan: C.Plan) -> bool:
    import attrs

    def walk(n):
        if isinstance(n, (C.Prev, C.Streak)):
            return True
        if attrs.has(type(n)):
            return any(walk(getattr(n, f.name)) for f in attrs.fields(type(n)))
        if isinstance(n, tuple):
            return any(walk(x) for x in n)
        return False

    return any(walk(s.value) for s in plan.steps)


def _run(p, batch: Batch, requires, plan, wide, env, history: bool):
    data = batch.df
    inputs, ok, enums = _input_columns(p, data, batch.scales, wide, batch.periods if history else None,
                                       batch.bounds)
    texts = ["agent", "period", *(i.name for i in p.inputs if i.kind == "text")]
    r = Renderer(wide, enums=enums, texts=texts)
    lf = data.lazy().select(*inputs, ok.alias("·ok"))
    broken = None
    if requires:
        cond = r.b(requires[0])
        for q in requires[1:]:
            cond = cond & r.b(q)
        broken = (~cond.fill_null(False)).alias("·broken")  # a `require` fails: the Python reader says how
    types = {d.name: d for d in p.definitions}
    for step in plan.steps:
        exprs = _render_step(r, step)
        for made in r.pre:  # in order: a sort order before its inverse
            lf = lf.with_columns(made)
        r.pre = []
        lf = lf.with_columns(exprs)
    outputs = [pl.col("agent"), pl.col("period")]
    for name in p.outputs:
        outputs.append(_public(types[name], plan_value(plan, name), wide, env or {}).alias(name))
    checks = [c.alias(f"·check{i}") for i, (_, c) in enumerate(r.checks)]
    if broken is not None:
        checks.append(broken)
    final = lf.select(*outputs, *checks, pl.col("·ok"))
    try:
        result = final.collect(engine="streaming")  # in morsels where it can (row order kept)
    except (pl.exceptions.ComputeError, pl.exceptions.InvalidOperationError) as e:
        probe = data.lazy().select(*inputs, ok.alias("·ok"))
        if not probe.select(pl.col("·ok").all()).collect().item():
            raise _Fallback() from e  # a bad record explains it: the records are reported instead
        if broken is not None and probe.select(broken.any()).collect().item():
            raise _Fallback() from e
        if "overflow" in str(e) or "conversion" in str(e):
            raise EngineLimit(f"a value does not fit the polars engine's exact 38-digit arithmetic ({e})") from e
        raise
    if not result["·ok"].all() or (broken is not None and result["·broken"].any()):
        raise _Fallback()
    for i, (what, _) in enumerate(r.checks):
        if result[f"·check{i}"].fill_null(False).any():
            raise EngineLimit(what)
    # one selection (each realigns the streaming engine's chunks: ≈ 18 ms per 10^6 rows of team_kpi)
    result = result.select("agent", "period", *p.outputs)
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


def _public(d: ir.Definition, v, wide=True, env=None):
    """The output column: Int64 for whole numbers, Decimal(38, s) for decimals, Decimal(38, 20)
    for rationals (rounded half-up at the 20th place, as the Python engine shows them).
    Rationals are divided in Int128 when the batch's bounds (`env`: column → (lo, hi)) prove
    every intermediate fits, else in checked Decimal(38, 0)."""
    dec = _int_type(wide) == INT
    if isinstance(v, C.Num) and v.den is not None:
        places = 20 if d.type.repr is not ir.Repr.INT else 0
        e = places - v.scale
        top = _magnitude(env, v.num.name) * 10 ** max(e, 0), _magnitude(env, v.den.name) * 10 ** max(-e, 0)
        fast = not dec and 4 * max(top) < C.INT128_SAFE
        itype = pl.Int128 if fast else INT

        def lit(x):
            return _lit(x, pl.Int128) if fast else _lit(Decimal(x), INT)
        num = pl.col(v.num.name) if dec else pl.col(v.num.name).cast(itype)
        den = pl.col(v.den.name) if dec else pl.col(v.den.name).cast(itype)
        if d.type.repr is ir.Repr.INT:  # a whole number held as a fraction
            return (num // (den * lit(10 ** v.scale))).cast(pl.Int64)
        n = num * lit(10 ** e) if e >= 0 else num
        dd = den if e >= 0 else den * lit(10 ** (-e))
        q = n // dd
        rem = n - q * dd
        bump = ((rem * 2 > dd) | ((rem * 2 == dd) & (n > 0)))
        k = pl.when(bump).then(q + 1).otherwise(q)
        return _as_decimal(k, places, wide=not fast)
    if isinstance(v, C.Num):
        num = pl.col(v.num.name) if dec else pl.col(v.num.name).cast(INT)
        if d.type.repr is ir.Repr.INT:
            if not dec:
                raw = pl.col(v.num.name)
                return (raw // (10 ** v.scale) if v.scale else raw).cast(pl.Int64)
            whole = num // _lit(Decimal(10) ** v.scale, INT) if v.scale else num
            return whole.cast(pl.Int64)
        return _as_decimal(pl.col(v.num.name), v.scale, dec)
    if isinstance(v, C.ListV):
        return pl.col(d.name)
    return pl.col(d.name)


def _magnitude(env, name) -> int:
    """The largest magnitude the column can hold in this batch; unbounded (huge) if unknown."""
    if name not in env:
        return C.INT128_SAFE
    lo, hi = env[name]
    return max(abs(lo), abs(hi))


def _as_decimal(unscaled, scale: int, wide: bool):
    """Integers in units of 10^-scale as a Decimal(38, scale) column: the same bits, reinterpreted."""
    raw = unscaled.to_physical() if wide else unscaled.cast(pl.Int128)
    return raw.reinterpret(dtype=pl.Decimal(38, scale))


def records_of(df) -> list[dict]:
    """A frame's rows as the records the Python engine reads. A Float32 cell is the float its
    shortest text names (0.05, as the columnar engines and DuckDB read it), not the binary value
    widened to a double (0.05000000074505806)."""
    f32 = [n for n, t in df.schema.items() if t == pl.Float32]
    if f32:
        df = df.with_columns(pl.col(f32).cast(pl.String).cast(pl.Float64))
    return df.to_dicts()


def _python(policy, df):
    """The batch through the Python engine (its reader reports bad records exactly); as a frame."""
    results = policy.score_batch(records_of(df))
    rows = [r.as_row() for r in results]
    try:
        return pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    except (RuntimeError, OverflowError, pl.exceptions.PolarsError) as e:
        raise EngineLimit("a result has more digits than a frame column holds (38); "
                          "score_batch gives every result exactly") from e
