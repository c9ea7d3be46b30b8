"""Hypothesis strategies for policyc tests: valid batches of records built from a
policy's IR, and helpers to read a raw record value the way the docs say.

A batch is 1-8 records of a few agents over consecutive and non-consecutive
periods (crossing a year boundary), with a couple of teams, `(agent, period)`
unique, every `same over` input equal within its cohort and period, and every
`require` satisfied (values are constructed to satisfy simple chains like
`a <= b` and `5 per c <= p <= 20 per c`; what is left is filtered).

Numbers are mostly `Decimal` with few decimals and `int`; sometimes a numeric
string, a float with a short text, or a whole count written `Decimal("3.0")`.
Boundary values (0, domain edges, constants the policy compares with, and
their neighbours) are drawn often.
"""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from fractions import Fraction

import attrs
from hypothesis import assume
from hypothesis import strategies as st

from policyc import ir
from policyc.interp import Evaluator, Row

NUMERIC_KINDS = ("count", "percent", "duration", "money", "points", "number")
DEFAULT_DOMAIN = {
    "count": ((Fraction(0), None),),
    "percent": ((Fraction(0), Fraction(1)),),
    "duration": ((Fraction(0), None),),
    "money": ((Fraction(0), None),),
}

AGENTS = ("张伟", "王芳", "li.na", "Agent 4", "赵六", "q")
TEAMS = ("一组", "B-team", "c")
TEXTS = ("", "x", "备注", "a \"quoted\" \\ text", "line\nbreak")
BOOL_SPELLINGS = {True: (True, "true", "yes", "是", "1"), False: (False, "false", "no", "否", "0")}
NA_SPELLINGS = (None, "", "na", "N/A", "n/a")

# first ordinals of each period kind near a year boundary, so offsets 0..4 cross it
_BASES = {
    "month": (2025 * 12 + 9, 2026 * 12 + 0, 2026 * 12 + 10),  # 2025-10, 2026-01, 2026-11
    "half_month": ((2025 * 12 + 10) * 2 + 1, (2026 * 12 + 0) * 2, (2026 * 12 + 10) * 2),
    "quarter": (2025 * 4 + 2, 2026 * 4 + 0),
    "year": (2024, 2026),
}


def period_label(kind: str, ordinal: int) -> str:
    """The period label of an ordinal (the inverse of runtime.read_period)."""
    if kind == "month":
        y, m = divmod(ordinal, 12)
        return f"{y:04d}-{m + 1:02d}"
    if kind == "half_month":
        mo, h = divmod(ordinal, 2)
        y, m = divmod(mo, 12)
        return f"{y:04d}-{m + 1:02d}-H{h + 1}"
    if kind == "quarter":
        y, q = divmod(ordinal, 4)
        return f"{y:04d}-Q{q + 1}"
    return f"{ordinal:04d}"


def domain_of(inp: ir.Input):
    """The input's domain alternatives, or its kind's default ((None, None) = any)."""
    return inp.domain or DEFAULT_DOMAIN.get(inp.kind, ((None, None),))


def in_domain(x: Fraction, domain) -> bool:
    return any((lo is None or x >= lo) and (hi is None or x <= hi) for lo, hi in domain)


def terminates(f: Fraction) -> bool:
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def to_decimal(f: Fraction) -> Decimal:
    """The exact Decimal of a rational with a finite decimal form."""
    assert terminates(f), f
    with decimal.localcontext() as ctx:
        ctx.prec = 200
        ctx.traps[decimal.Inexact] = True
        d = Decimal(f.numerator) / Decimal(f.denominator)
    return d


def policy_constants(p: ir.Policy) -> list[Fraction]:
    """Every number the policy writes (thresholds, table points, slice bounds)."""
    out: set[Fraction] = set()
    exprs = [d.expr for d in p.definitions] + [r.cond for r in p.requires]
    for e in exprs:
        for node in ir.walk(e):
            if isinstance(node, ir.Const) and isinstance(node.value, Fraction):
                out.add(node.value)
            elif isinstance(node, ir.Linear):
                out.update(x for x, _ in node.points)
            elif isinstance(node, ir.Marginal):
                for lo, hi, _ in node.slices:
                    out.add(lo)
                    if hi is not None:
                        out.add(hi)
    return sorted(out)


# ───────────────────────── numbers ─────────────────────────


def _cap(consts) -> Fraction:
    big = max((abs(c) for c in consts), default=Fraction(0))
    return max(Fraction(200), min(2 * big + 10, Fraction(10**7)))


def _bounded(lo, hi, cap):
    if lo is None and hi is None:
        return -cap, cap
    if lo is None:
        return hi - cap, hi
    if hi is None:
        return lo, lo + cap
    return lo, hi


@st.composite
def number_between(draw, lo: Fraction, hi: Fraction, whole: bool, consts=()):
    """A Fraction in [lo, hi] (finite): edges, the policy's constants and their
    neighbours, small values, or a decimal of 1-3 places."""
    if whole:
        lo_i, hi_i = math.ceil(lo), math.floor(hi)
        assume(lo_i <= hi_i)
        special = {lo_i, hi_i}
        for c in consts:
            for v in (c, c - 1, c + 1):
                if v.denominator == 1 and lo_i <= v <= hi_i:
                    special.add(int(v))
        how = draw(st.sampled_from(("low", "low", "special", "small", "small", "any")))
        if how == "low":  # 0 and 1 make most scores interesting: deductions stay small
            return Fraction(draw(st.integers(lo_i, min(hi_i, lo_i + 1))))
        if how == "special":
            return Fraction(draw(st.sampled_from(sorted(special))))
        if how == "small":
            return Fraction(draw(st.integers(lo_i, min(hi_i, lo_i + 12))))
        return Fraction(draw(st.integers(lo_i, hi_i)))
    step = Fraction(1, 100)
    special = {x for x in (lo, hi) if terminates(x)}
    for c in consts:
        for v in (c, c - step, c + step):
            if lo <= v <= hi and terminates(v):
                special.add(v)
    if lo <= 0 <= hi:
        special.add(Fraction(0))
    how = draw(st.sampled_from(("special", "special", "small", "decimal")))
    if how == "special" and special:
        return draw(st.sampled_from(sorted(special)))
    if how == "small":
        a, b = math.ceil(lo), math.floor(min(hi, lo + 12))
        if a <= b:
            return Fraction(draw(st.integers(a, b)))
    places = draw(st.integers(0, 3))
    scale = 10**places
    a, b = math.ceil(lo * scale), math.floor(hi * scale)
    assume(a <= b)
    return Fraction(draw(st.integers(a, b)), scale)


@st.composite
def raw_number(draw, value: Fraction, whole: bool):
    """A raw record value that reads as `value`: mostly Decimal or int."""
    if whole:
        how = draw(st.sampled_from(("int", "int", "int", "decimal", "decimal_point", "str", "exponent")))
        n = value.numerator
        if how == "exponent":  # 100 as 1E+2, 0 as -0
            return Decimal("-0") if n == 0 else Decimal(n).normalize(decimal.Context(prec=60))
        if how == "int":
            return n
        if how == "decimal":
            return Decimal(n)
        if how == "decimal_point":
            return Decimal(f"{n}.0")  # a count accepts 3.0
        return str(n)
    d = to_decimal(value)
    how = draw(st.sampled_from(("decimal", "decimal", "decimal", "int", "str", "float", "padded", "exponent")))
    if how == "exponent":  # 1500 as 1.5E+3, 0 as -0.00
        return Decimal("-0.00") if not d else d.normalize(decimal.Context(prec=60))
    if how == "int" and value.denominator == 1:
        return value.numerator
    if how == "str":
        return str(d)
    if how == "padded" and d.as_tuple().exponent >= -4 and d.adjusted() < 20:
        return d.quantize(Decimal("0.0001"))  # trailing zeros: 1.5000
    if how == "float":
        f = float(d)
        if Decimal(repr(f)) == d:  # a float read by its shortest text is exact
            return f
    return d


# ───────────────────────── values ─────────────────────────


@st.composite
def input_value(draw, inp: ir.Input, consts=(), teams=TEAMS):
    """(raw value, meaning) for one input; meaning is what validation should give:
    Fraction, label str, bool, text str, or None for N/A."""
    if inp.na and draw(st.integers(0, 4)) == 0:
        return draw(st.sampled_from(NA_SPELLINGS)), None
    k = inp.kind
    if k in NUMERIC_KINDS:
        whole = k == "count"
        lo, hi = draw(st.sampled_from(domain_of(inp)))
        lo, hi = _bounded(lo, hi, _cap(consts))
        value = draw(number_between(lo, hi, whole, consts))
        return draw(raw_number(value, whole)), value
    if k in ("grade", "choice"):
        lab = draw(st.sampled_from(inp.type.labels))
        return lab, lab
    if k == "bool":
        b = draw(st.booleans())
        return draw(st.sampled_from(BOOL_SPELLINGS[b])), b
    if k == "text":
        t = draw(st.sampled_from(teams + TEXTS))
        if inp.na and t.strip().lower() in ("", "na", "n/a", "none", "null"):
            return t, None
        return t, t
    raise AssertionError(k)


def meaning_of(inp: ir.Input, raw):
    """What a (valid) raw value means, read independently of policyc's runtime."""
    if inp.na and (raw is None or (isinstance(raw, str) and raw.strip().lower() in
                                   ("", "na", "n/a", "none", "null"))):
        return None
    if inp.kind in NUMERIC_KINDS:
        if isinstance(raw, float):
            return Fraction(Decimal(repr(raw)))
        if isinstance(raw, str):
            return Fraction(Decimal(raw.strip()))
        return Fraction(raw)
    if inp.kind == "bool":
        if isinstance(raw, bool):
            return raw
        return raw.strip().lower() in ("true", "yes", "1", "是", "y")
    return raw


# ───────────────────────── constraints ─────────────────────────


def evaluate(p: ir.Policy, exprs, values: dict):
    """Evaluate IR expressions over one record's input meanings (reference evaluator)."""
    defs = tuple(ir.Definition(name=f"__probe{i}", kind="hidden", expr=e, type=e.type, phase=0, text="")
                 for i, e in enumerate(exprs))
    probe = attrs.evolve(p, cohorts=(), definitions=defs)
    envs, _ = Evaluator(probe).run([Row("probe", "probe", 0, dict(values))])
    return [envs[0][d.name] for d in defs]


def requires_hold(p: ir.Policy, values: dict) -> bool:
    if not p.requires:
        return True
    return all(evaluate(p, [r.cond for r in p.requires], values))


def _loads(e) -> set[str]:
    return {n.name for n in ir.walk(e) if isinstance(n, ir.Load)}


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def _interval(ops, vals, j, whole):
    """Bounds on operand j of a comparison chain from its neighbours' values."""
    lo, hi = None, None
    step = Fraction(1) if whole else Fraction(1, 100)
    conds = []
    if j > 0:
        conds.append((_FLIP[ops[j - 1]], vals[j - 1]))  # x FLIP(op) left
    if j + 1 < len(vals):
        conds.append((ops[j], vals[j + 1]))  # x op right
    for op, v in conds:
        if v is None or isinstance(v, (bool, str)):
            return None
        if op in ("<", "<="):
            b = v - step if op == "<" else v
            hi = b if hi is None else min(hi, b)
        elif op in (">", ">="):
            b = v + step if op == ">" else v
            lo = b if lo is None else max(lo, b)
        elif op == "=":
            lo = v if lo is None else max(lo, v)
            hi = v if hi is None else min(hi, v)
        else:
            return None
    return lo, hi


@st.composite
def repair(draw, p: ir.Policy, inputs: dict, raw: dict, values: dict, consts, frozen: set):
    """Change inputs so the policy's `require` chains hold, drawing each repaired
    value within the bounds its neighbours give (edges included)."""
    fixed = set(frozen)
    for r in p.requires:
        if evaluate(p, [r.cond], values)[0]:
            fixed |= set(r.fields)
            continue
        c = r.cond
        if not isinstance(c, ir.Compare):
            continue
        vals = evaluate(p, list(c.operands), values)
        for j, operand in enumerate(c.operands):
            if not isinstance(operand, ir.Load) or operand.name not in inputs or operand.name in fixed:
                continue
            inp = inputs[operand.name]
            if inp.kind not in NUMERIC_KINDS:
                continue
            if any(operand.name in _loads(o) for k, o in enumerate(c.operands) if k != j):
                continue
            whole = inp.kind == "count"
            bounds = _interval(c.ops, vals, j, whole)
            if bounds is None:
                continue
            alternatives = []
            for dlo, dhi in domain_of(inp):
                lo = bounds[0] if dlo is None else dlo if bounds[0] is None else max(dlo, bounds[0])
                hi = bounds[1] if dhi is None else dhi if bounds[1] is None else min(dhi, bounds[1])
                lo, hi = _bounded(lo, hi, _cap(consts))
                if lo <= hi and (not whole or math.ceil(lo) <= math.floor(hi)):
                    alternatives.append((lo, hi))
            if not alternatives:
                continue
            lo, hi = draw(st.sampled_from(alternatives))
            v = draw(number_between(lo, hi, whole, consts))
            values[operand.name] = v
            raw[operand.name] = draw(raw_number(v, whole))
            break
        fixed |= set(r.fields)


# ───────────────────────── batches ─────────────────────────


@st.composite
def batches(draw, p: ir.Policy, min_size: int = 1, max_size: int = 8):
    """A valid batch for policy IR `p`: a list of raw record dicts."""
    consts = policy_constants(p)
    n_agents = draw(st.integers(1, len(AGENTS)))
    span = draw(st.sampled_from((0, 1, 2, 4)))  # 0: one period (larger cohorts); 4: gaps likely
    keys = draw(st.lists(st.tuples(st.sampled_from(AGENTS[:n_agents]), st.integers(0, span)),
                         min_size=min_size, max_size=max_size, unique=True))
    calm = draw(st.booleans())  # a calm batch: most counts are 0
    base = draw(st.sampled_from(_BASES[p.period]))
    n_teams = draw(st.integers(1, len(TEAMS)))
    teams = TEAMS[:n_teams]
    inputs = {i.name: i for i in p.inputs}
    cohort_keys = {k for c in p.cohorts for k in c.keys}
    shared = {i.name for i in p.inputs if i.same_over}
    records, meanings = [], []
    for agent, off in keys:
        rec = {"agent": agent, "period": period_label(p.period, base + off)}
        vals = {}
        for inp in p.inputs:
            if inp.name in cohort_keys and inp.kind == "text" and not inp.na:
                t = draw(st.sampled_from(teams))
                rec[inp.name], vals[inp.name] = t, t
            elif calm and inp.kind == "count" and not inp.domain and draw(st.integers(0, 3)):
                rec[inp.name], vals[inp.name] = 0, Fraction(0)
            else:
                rec[inp.name], vals[inp.name] = draw(input_value(inp, consts))
        records.append(rec)
        meanings.append(vals)
    # team-level inputs: equal within the cohort and period (the first record's)
    for c in p.cohorts:
        names = [i.name for i in p.inputs if i.same_over == c.name]
        first: dict = {}
        for rec, vals in zip(records, meanings):
            k = (rec["period"],) + tuple(_key(vals[n]) for n in c.keys)
            owner = first.setdefault(k, (rec, vals))
            for n in names:
                rec[n], vals[n] = owner[0][n], owner[1][n]
    for rec, vals in zip(records, meanings):
        draw(repair(p, inputs, rec, vals, consts, shared | cohort_keys))
        assume(requires_hold(p, vals))
    # shuffle the order: history and cohorts must not depend on it
    order = draw(st.permutations(range(len(records))))
    return [records[i] for i in order]


def _key(v):
    return ("num", v) if isinstance(v, Fraction) else (type(v).__name__, v)
