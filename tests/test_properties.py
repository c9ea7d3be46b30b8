"""Differential property tests: the generated Python agrees exactly with the
reference evaluator (every number a Fraction) on valid batches drawn from each
policy's own IR; the standalone module agrees with the API; bad records are
rejected naming the field.

Policies: every shipped `policies/*.policy`, the `policies/examples/*.policy`
that check, and a few small policies written here for the constructs the
shipped ones do not use (N/A, weighted, linear, marginal, split, rounding
modes, `previous`, cohort aggregates, quarter / year / half-month periods,
rational arithmetic).

Deterministic: `derandomize=True`, no example database.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import policyc
from policyc import ir
from policyc.interp import Evaluator
from policyc.ranges import Ranges
from policyc.runtime import public_number
from strategies import (
    NUMERIC_KINDS,
    batches,
    domain_of,
    in_domain,
    meaning_of,
)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "policies").glob("*.policy"))
# counter-examples (`# policyc: expect[...]`) are kept to be rejected, so they are not scored here
EXAMPLES = sorted(p for p in (REPO / "policies" / "examples").glob("*.policy")
                  if "policyc: expect[" not in p.read_text(encoding="utf-8"))

PROFILE = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=(Phase.explicit, Phase.generate, Phase.shrink),  # no "explain" phase: failures stay quick
)
FEW = settings(PROFILE, max_examples=25)

# Constructs the shipped policies do not use, one small policy per theme so a
# bug in one construct does not hide the others.
FEATURES = {
    "feat_na_weighted": '''policy feat_na_weighted "加权 QA"
period quarter
input greeting, resolution, upsell : points in 0..100 or na
input privacy_breach : bool
input tier : grade "A级" > "B级" > "C级"
qa = weighted:
    30% greeting
    50% resolution
    20% upsell
    critical not privacy_breach
qa_or_zero = qa when na 0
let up = upsell when na 0
good_tier = tier >= "B级"
bonus = 2 per (up beyond 50) at most 60
label band = first qa_or_zero:
    >= 90 -> top
    >= 60 -> mid
    else -> low
prev_qa = previous(qa_or_zero) when na 0
change = qa_or_zero - prev_qa
''',
    "feat_linear": '''policy feat_linear "线性"
period year
input avg_response : duration
input rate : percent
item response 20 pts = linear avg_response:
    10s -> 20
    60s -> 0
item rising 10 pts = linear rate:
    80% -> 0
    95% -> 6
    100% -> 10
points_left = response + rising
''',
    "feat_marginal": '''policy feat_marginal "阶梯"
period month
input sales : money
input rate : percent
pay commission = marginal sales:
    0 .. 50000 -> 3%
    50000 .. 100000 -> 5%
    100000 .. -> 8%
pay rounded = commission round 0.01
pay rated = sales * rate round 0.01 half_even
''',
    "feat_rounding": '''policy feat_rounding "取整"
period month
input sales : money
input n : count in 1..7
pay third = sales / 3 round 0.01
pay per_head = sales / n round 0.01 half_even
pay down = sales * 3% round 10 down
pay even = sales * 3% round 0.05 half_even
pay up = sales * 3% round 1 up
pay neg = (0 - sales) / 7 round 0.1
''',
    "feat_split": '''policy feat_split "拆分"
period month
input pool : money
input n : count
pay a, b, c = split pool 50% : 20% : 30%
pay x, y = split pool 1 : 2
pay share_pool = pool / 3 when zero 0
pay p, q, r = split pool / 3 5 : 2 : 3 round 0.1
''',
    "feat_cohort": '''policy feat_cohort "小组"
period half_month
cohort team by team
cohort everyone
input team : choice red | blue
input sales : money
input calls : count
input quota : money same over team
top = max(calls over team)
pay low = min(sales over everyone)
pay avg = mean(sales over team)
n = count(over team)
n_big = count(sales >= quota over team)
r = rank(sales over team)
r_asc = rank(calls over everyone ascending)
s = share(sales over team) when zero 0
pay bonus = 1000 * s round 0.01
streaky = streak(r = 1)
''',
    "feat_cohort_sum": '''policy feat_cohort_sum "小组合计"
period month
cohort team by team
input team : text
input sales : money
pay team_sales = sum(sales over team)
pay tenth = sum(sales over team) * 10%
''',
    "feat_arith": '''policy feat_arith "算术"
period month
input a, b : count
input x : number in -10..10
input p : percent
let r = a / b when zero 0
m2 = mean(a, x)
m3 = mean(x, p, r)
ab = abs(x) + abs(r - 1)
inside = 0 <= x < 5
diff = (a beyond 3) - x at least -5
q = a / 3 round 0.01
q2 = x / b round 0.1 half_even when zero 0
big = max(a, x, r) - min(b, x)
t = table x:
    < 0 -> -1
    0 .. 5 -> 0
    > 5 -> 1
''',
    "feat_grades_gates": '''policy feat_grades_gates "feat_grades_gates"
period month
input g : grade A > B > C > D
input h : grade A > B > C > D
input c : choice x | y | z
better = g > h
worse_or_same = g <= h
not_c = g is not C
mid = B >= g > D
cx = c != x
n = count(g > h, c is y, better)
label lab = by c: x | y -> hi, z -> lo
ok = all:
    g_ok: g >= B
    c_ok: c is not z
fails = failed(ok)
passes = passed(ok)
''',
    "feat_na_labels": '''policy feat_na_labels "feat_na_labels"
period month
input g : grade A > B > C > D or na
input c : choice x | y | z or na
input h : grade A > B > C > D
item pts 10 pts = by (g when na C): A -> 10, B -> 7, C -> 4, D -> 0
top = (g when na D) is A
at_least_b = (g when na D) >= B
beats_h = (g when na D) > h
same_as_h = (g when na A) is h
cz = (c when na z) is not z
label gl = g when na B
label cl = by (c when na y): x -> xx, y | z -> yz
''',
    "feat_history": '''policy feat_history "feat_history"
period quarter
input g : grade A > B > C
input s : points in 0..10
prev_s = previous(s) when na -1
up = s > (previous(s) when na 0)
label pg = previous(g) when na C
st = streak(g >= B)
stt = streak(s >= 5) >= 2
st_none = streak(s >= 5) = 0
st_long = streak(g >= B) > 2
st_short = streak(g >= B) < 3
st_le = streak(s >= 5) <= 1
st_ne = streak(s >= 5) != 2
st_flip = 2 <= streak(g >= B)
st_any = streak(s >= 5) >= 0
''',
    # one history value read in two phases (a previous of a previous, and the previous itself)
    "feat_history_nested": '''policy feat_history_nested "feat_history_nested"
period month
input s : points in 0..10
two_back = (previous(previous(s)) when na 0) + (previous(s) when na 1)
mean3 = mean(s, (previous(s) when na s), (previous(previous(s)) when na s))
rising = streak(s > (previous(s) when na 10)) >= 2
''',
    # table rows and `if` branches whose results are bounded where they are taken (ranges.py): the
    # clamps these bounds prove idle are left out of the compiled code, so every value must hold
    "feat_narrowed_rows": '''policy feat_narrowed_rows "feat_narrowed_rows"
period month
input c, late : count
input rate : percent
input x : number in -5..5
let d = first c:
    >= 3 -> -20
    >= 1 -> -10 per c
    else -> 0
item ci 40 pts = 40 + d
e = 2 per late if late < 5 else 10
g = first rate:
    <= 5% -> rate * 100
    else -> 0
h = (x * 3 if x > 1 and x <= 4 else 0) clamp 0 .. 12
k = first x:
    < -2 -> x + 2
    = 0 -> 7
    else -> x at least -2
m = (5 - late if not (late > 5 or late < 2) else 0) clamp 0 .. 3
never = 1 if late > 3 and not (late >= 3) else 0
''',
    # whole-number outputs that may be N/A, shown as N/A (they were a TypeError in the Python engine)
    "feat_na_whole": '''policy feat_na_whole "feat_na_whole"
period month
input n : count in 0..10 or na
input c : count
same_n = n
prev_c = previous(c)
prev_n = previous(n)
''',
    # a cohort with no key (the whole shop) and an input shared over it
    "feat_shop_wide": '''policy feat_shop_wide "feat_shop_wide"
period month
cohort shop
input x : points in 0..10
input pool : money same over shop
pay y = pool * x / 10 round 0.01
part = x / sum(x over shop) when zero 0
''',
    "feat_rational_mix": '''policy feat_rational_mix "feat_rational_mix"
period month
input a, b : count
input x : number in -10..10
input p : percent
let r = a / b when zero 0
c1 = 0 <= x < r
c2 = r >= p
m = mean(r, x)
ab = abs(r - x)
s = r + x + p
t = table r:
    < 1/2 -> 0
    >= 1/2 -> 1
half = r * 0.5 + x / 2
item it 10 pts = r * 10
tot = items
pay pp = r * 100 round 0.01 half_even
''',
    "feat_cohort_rational": '''policy feat_cohort_rational "feat_cohort_rational"
period month
cohort team by team
cohort all
input team : choice a | b
input x : number in -10..10
input n, d : count
let r = n / d when zero 0
mx = max(r over team)
mn = min(x over all)
av = mean(r over team)
sm = sum(r over team)
sx = sum(x over team)
rk = rank(r over team ascending)
rk2 = rank(x over all)
sh = share(x over team) when zero 0
cnt = count(r > 1/2 over all)
''',
    # ranks and picks of fractions of either sign, both ways, that every engine computes (the
    # SQL engine's one-window rank over an exact integer key, its cohort pick, a streak compared)
    "feat_rank_rational": '''policy feat_rank_rational "feat_rank_rational"
period month
cohort team by team
input team : choice a | b
input x : number in -10..10
input n, d : count
let r = n / d when zero 0
let q = x / (d + 1)
rk = rank(r over team ascending)
rk_desc = rank(q over team)
top = max(q over team)
low = min(r over team)
first = streak(rk_desc = 1) >= 2
''',
    "feat_weighted_more": '''policy feat_weighted_more "feat_weighted_more"
period month
input a : points in 0..100 or na
input b : number in -10..10 or na
input c : percent in 0..1 or na
input ok : bool
w = weighted:
    1 a
    2 b
    critical ok
    critical (b when na 0) >= 0
w2 = weighted:
    10% c
    90% a
w3 = (w when na 0) + (w2 when na 5)
''',
    "feat_range_table": '''policy feat_range_table "feat_range_table"
period month
input x : number in -10..10
input a, b : count
let r = a / b when zero 0
t1 = table x:
    < -5 -> 1
    -5 .. 0 -> 2
    > 0, <= 5 -> 3
    > 5 -> 4
t2 = table r:
    < 1 -> r
    >= 1 -> 1
''',
    "feat_split_decimal": '''policy feat_split_decimal "feat_split_decimal"
period month
input pool : money
pay a, b, c = split pool 1 : 1 : 1
pay d, e = split pool 1 : 2 round 1 down
pay f, g, h = split pool 33% : 33% : 34% round 0.05 half_even
''',
    "feat_signs": '''policy feat_signs "feat_signs"
period month
input sales : money
input x : number in -5..5
pay neg = 0 - sales * 3% round 0.01
y = x round 1 down
z = -x round 0.5 half_even
w = x * 0 - 0
v = -(x * 0)
u = abs(x) * -1 round 0.1 up
''',
    "feat_zero_guard_over_cohort": '''policy feat_zero_guard_over_cohort "feat_zero_guard_over_cohort"
period month
cohort team by team
input team : text
input a, b : count
m = max((a / b when zero 0) over team)
n = max(a over team) / max(b over team) when zero 0
s = streak((a / b when zero 0) > 1)
''',
    "feat_rational_literal_div": '''policy feat_rational_literal_div "有理数除以常数"
period month
input a, b : count
let r = a / b when zero 0
quarter_r = r / 4
''',
}

PARAMS = (
    [pytest.param(("file", str(p)), id=p.stem) for p in SHIPPED]
    + [pytest.param(("example", str(p)), id="examples-" + p.stem) for p in EXAMPLES]
    + [pytest.param(("text", name), id=name) for name in FEATURES]
)
assert SHIPPED, "no shipped policies found"

_CACHE: dict = {}


def compiled(which):
    """(Policy, namespace of the exec'd standalone module), cached per policy."""
    if which not in _CACHE:
        kind, ref = which
        if kind == "text":
            policy = policyc.loads(FEATURES[ref], f"<{ref}>")
        elif kind == "example":
            try:
                policy = policyc.load(ref)
            except policyc.PolicyError:  # an example of a policy that does not check
                _CACHE[which] = None
                return None
        else:
            policy = policyc.load(ref)
        ns: dict = {}
        exec(compile(policy.compile(), "<standalone>", "exec"), ns)
        _CACHE[which] = (policy, ns)
    if _CACHE[which] is None:
        pytest.skip("this example policy does not check")
    return _CACHE[which]


# ───────────────────────── comparing values ─────────────────────────


def same(got, want) -> bool:
    """Equal values of the same type (bool is not int; int is not Decimal)."""
    if type(got) is not type(want):
        return False
    if isinstance(got, list):
        return len(got) == len(want) and all(same(a, b) for a, b in zip(got, want))
    if isinstance(got, dict):
        return list(got) == list(want) and all(same(got[k], want[k]) for k in got)
    return got == want


def identical(got, want) -> bool:
    """`same`, and Decimals with the same digits and exponent (same text)."""
    if isinstance(got, Decimal) and isinstance(want, Decimal):
        return got.as_tuple() == want.as_tuple()
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(identical(a, b) for a, b in zip(got, want))
    if isinstance(got, dict) and isinstance(want, dict):
        return list(got) == list(want) and all(identical(got[k], want[k]) for k in got)
    return same(got, want)


def reference_public(d: ir.Definition, value):
    if d.type.kind != "num" or value is None:
        return value
    return public_number(value, whole_count(d))


def whole_count(d: ir.Definition) -> bool:
    """A count output (shown as an int; other numbers are Decimals)."""
    return d.type.count and d.kind not in ("pay", "item")


def number_problem(d: ir.Definition, got, want) -> str | None:
    """Why a public number differs from the reference's public number, or None.

    Values must be exactly equal. Types: an int or a Decimal (never a float, a
    Fraction or a bool), and an int for a count. A Decimal is never negative
    zero (the reference, a Fraction, has no sign on 0, so "-0.00" would be
    shown where the reference shows "0.00").
    """
    if want is None or got is None:
        return None if got is want else "N/A on one side only"
    if type(got) not in (int, Decimal):
        return f"a {type(got).__name__}, not an int or a Decimal"
    if whole_count(d) and type(got) is not int:
        return "a count that is not an int"
    if Fraction(got) != Fraction(want):
        return "a different value"
    if isinstance(got, Decimal) and got.is_zero() and got.is_signed():
        return "negative zero"
    return None


def check_batch(policy, ns, records):
    p = policy.ir
    before = copy.deepcopy(records)
    results = policy.score_batch(records)
    assert records == before, "score_batch changed its input records"
    assert len(results) == len(records)

    # validation reads each value as the docs say (checked independently)
    rows = results[0]._batch.rows()
    for rec, res, row in zip(records, results, rows):
        assert (res.agent, res.period) == (rec["agent"], rec["period"])
        assert (row.agent, row.period) == (rec["agent"], rec["period"])
        for inp in p.inputs:
            want = meaning_of(inp, rec[inp.name])
            got = row.inputs[inp.name]
            if inp.kind in NUMERIC_KINDS and got is not None:
                assert not isinstance(got, bool)
                got = Fraction(got)
            assert got == want and type(got) is type(want), (inp.name, rec[inp.name], row.inputs[inp.name])

    # every named value equals the reference evaluator's
    envs, _ = Evaluator(p).run(rows)
    problems = []
    for i, res in enumerate(results):
        assert list(res.outputs) == list(p.outputs)
        for name, got in res.values.items():
            d = p.definition(name)
            want = reference_public(d, envs[i][name])
            why = number_problem(d, got, want) if d.type.kind == "num" else None if same(got, want) else "differs"
            if why:
                problems.append(f"[{why}] "
                                f"record {i} ({res.agent}, {res.period}): {name} = {got!r}, "
                                f"reference {want!r} (exact {envs[i][name]!r})")
    assert not problems, "generated code disagrees with the reference evaluator:\n  " + "\n  ".join(
        problems) + f"\nrecords: {records!r}"

    # every value lies within the range the compiler proved for it (ranges.py decides which clamps
    # the generated code may drop, and which branches coverage counts)
    ranges = Ranges(p)
    for i, env in enumerate(envs):
        for name, v in env.items():
            if isinstance(v, Fraction) and not isinstance(v, bool):
                iv = ranges.of_name(name)
                if iv is not None:
                    lo, hi = iv
                    assert (lo is None or v >= lo) and (hi is None or v <= hi), \
                        f"record {i}: {name} = {v} outside its proven range {iv}\nrecords: {records!r}"

    # the standalone module gives the same rows as the API
    module_rows = ns["score_batch"](copy.deepcopy(records))
    api_rows = [r.as_row() for r in results]
    assert identical(module_rows, api_rows), (module_rows, api_rows)

    # `score` (for one-phase policies a separate straight-line path) = a batch of one
    for i, rec in enumerate(records):
        one = ns["score"](copy.deepcopy(rec))
        assert identical(one, ns["score_batch"]([copy.deepcopy(rec)])[0]), rec
        if p.phases == 1:
            assert identical(one, module_rows[i]), (one, module_rows[i])


@pytest.mark.parametrize("which", PARAMS)
def test_generated_code_matches_reference_evaluator(which):
    policy, ns = compiled(which)

    @PROFILE
    @given(batches(policy.ir))
    def check(records):
        check_batch(policy, ns, records)

    check()


# ───────────────────────── rejected records ─────────────────────────

BAD_PERIODS = ("2026-13", "2026-Q5", "2026-11-H3", "20261", "", "2026/11")


def _outside(inp: ir.Input) -> list:
    """Numbers just outside an input's domain (and far outside)."""
    dom = domain_of(inp)
    step = Fraction(1) if inp.kind == "count" else Fraction(1, 100)
    cands = set()
    for lo, hi in dom:
        if lo is not None:
            cands |= {lo - step, lo - 1000}
        if hi is not None:
            cands |= {hi + step, hi * 10 + 1}
    return [Decimal(c.numerator) / Decimal(c.denominator) if c.denominator != 1 else int(c)
            for c in sorted(cands) if not in_domain(c, dom)]


def bad_values(inp: ir.Input) -> list:
    """Values that are never valid for this input."""
    k = inp.kind
    out = []
    if k in NUMERIC_KINDS:
        out += ["abc", Decimal("NaN"), float("nan"), "NaN", Decimal("-Infinity"), float("inf"), "inf",
                True, [1], "1,5"]
        out += _outside(inp)
        if k == "count":
            out += [-1, Decimal("2.5"), "2.5", 0.5]
        if not inp.na:
            out += [None, ""]
    elif k in ("grade", "choice"):
        lab = inp.type.labels[0]
        out += [lab + "_x", " " + lab, 1, True]
        if not inp.na:
            out += [None]
    elif k == "text":
        out += [5, Decimal("1.5"), True]
        if not inp.na:
            out += [None]
    elif k == "bool":
        out += ["abc", 2, Decimal("1.5"), "maybe"]
        if not inp.na:
            out += [None]
    return out


@st.composite
def mutated_batches(draw, p: ir.Policy):
    """(records, index, field): a valid batch where one record was made bad in `field`."""
    records = draw(batches(p, max_size=4))
    i = draw(st.integers(0, len(records) - 1))
    rec = records[i]
    options = [("drop", inp.name, None) for inp in p.inputs]
    options += [("set", inp.name, v) for inp in p.inputs for v in bad_values(inp)]
    options += [("drop", "agent", None), ("set", "agent", ""), ("set", "agent", 7),
                ("drop", "period", None)]
    options += [("set", "period", v) for v in BAD_PERIODS + (202611,)]
    if not p.allow_extra:
        options += [("set", "unknown_field", 1), ("set", "Agent", "x")]
    if len(records) > 1:
        options.append(("duplicate", "period", None))
    how, field, value = draw(st.sampled_from(options))
    if how == "drop":
        del rec[field]
    elif how == "set":
        rec[field] = value
    else:  # the same agent and period as another record: the later one is rejected
        j = draw(st.integers(0, len(records) - 1).filter(lambda j: j != i))
        rec["agent"], rec["period"] = records[j]["agent"], records[j]["period"]
        i = max(i, j)
    return records, i, field


def _names(err, index, field) -> bool:
    return any(e.index == index and (e.field == field or field in e.fields) for e in err.errors)


@pytest.mark.parametrize("which", PARAMS)
def test_bad_records_are_rejected_naming_the_field(which):
    policy, ns = compiled(which)

    @FEW
    @given(mutated_batches(policy.ir))
    def check(case):
        records, index, field = case
        with pytest.raises(policyc.RecordError) as api:
            policy.score_batch(copy.deepcopy(records))
        assert _names(api.value, index, field), [str(e) for e in api.value.errors]
        with pytest.raises(ns["RecordError"]) as mod:
            ns["score_batch"](copy.deepcopy(records))
        assert _names(mod.value, index, field), [str(e) for e in mod.value.errors]
        # one record through `score` (the straight-line path for one-phase policies)
        bad = records[index]
        dup = sum(1 for r in records if (r.get("agent"), r.get("period")) == (bad.get("agent"), bad.get("period")))
        if dup == 1:
            with pytest.raises(ns["RecordError"]) as one:
                ns["score"](copy.deepcopy(bad))
            assert _names(one.value, 0, field), [str(e) for e in one.value.errors]

    check()


def _text_of(which) -> str:
    kind, ref = which
    return FEATURES[ref] if kind == "text" else Path(ref).read_text(encoding="utf-8")


@pytest.mark.parametrize("which", [p for p in PARAMS if "same over" in _text_of(p.values[0])])
def test_team_level_input_must_agree_within_cohort(which):
    policy, ns = compiled(which)
    p = policy.ir
    shared = [i for i in p.inputs if i.same_over and i.kind in NUMERIC_KINDS]
    if not shared:
        pytest.skip("no numeric `same over` input")

    @FEW
    @given(batches(p, min_size=2, max_size=5), st.data())
    def check(records, data):
        inp = data.draw(st.sampled_from(shared))
        cohort = next(c for c in p.cohorts if c.name == inp.same_over)
        j, i = data.draw(st.lists(st.integers(0, len(records) - 1), min_size=2, max_size=2, unique=True))
        a, b = records[j], records[i]
        b["period"] = a["period"]
        for k in cohort.keys:
            b[k] = a[k]
        b["agent"] = "新同事"  # (agent, period) stays unique
        b[inp.name] = meaning_value_plus_one(a[inp.name])
        with pytest.raises(policyc.RecordError) as err:
            policy.score_batch(records)
        assert any(inp.name in e.fields for e in err.value.errors), [str(e) for e in err.value.errors]

    check()


def meaning_value_plus_one(raw):
    v = Fraction(Decimal(raw)) if isinstance(raw, (str, Decimal)) else Fraction(Decimal(repr(raw))) \
        if isinstance(raw, float) else Fraction(raw)
    v += 1
    return int(v) if v.denominator == 1 else Decimal(v.numerator) / Decimal(v.denominator)


# ───────────────────────── number representations ─────────────────────────

ODD_NUMBERS = (
    Decimal("-0"), Decimal("-0.000"), Decimal("0E+3"), Decimal("5E+2"), Decimal("1E+40"), Decimal("1E-40"),
    Decimal("123456789012345678901234567890.123456789"), Decimal("0.1000000000000000000000000000000000000001"),
    Decimal("1.50"), Decimal("2.000"), Decimal("99999999999"), Decimal("-1E+40"),
)


def _forms(d: Decimal) -> list:
    """The same number as a Decimal, its text, its plain text, an int, a float."""
    forms = [d, str(d), format(d, "f"), " " + str(d) + " "]
    if d == d.to_integral_value():
        forms.append(int(d))
    if Decimal(repr(float(d))) == d:
        forms.append(float(d))
    return forms


def _outcome(policy, records):
    try:
        return "ok", [r.values for r in policy.score_batch(records)]
    except policyc.RecordError as e:
        return "rejected", sorted({(x.index, x.field) for x in e.errors})


@pytest.mark.parametrize("which", [p for p in PARAMS if p.values[0][0] != "text"])
def test_number_representation_does_not_matter(which):
    """The docs: numbers are read from their decimal text, whether a record holds a
    Decimal, a numeric string, an int or a float. So every form of the same
    number is accepted or rejected alike, and scores alike."""
    policy, _ = compiled(which)
    p = policy.ir
    numeric = [i for i in p.inputs if i.kind in NUMERIC_KINDS and not i.same_over]

    @settings(FEW, phases=(Phase.explicit, Phase.generate))  # the message names the field and forms
    @given(batches(p, max_size=3), st.data())
    def check(records, data):
        inp = p.inputs[data.draw(st.sampled_from([p.inputs.index(x) for x in numeric]))]
        i = data.draw(st.integers(0, len(records) - 1))
        d = data.draw(st.sampled_from(ODD_NUMBERS))
        outcomes = []
        for form in _forms(d):
            batch = copy.deepcopy(records)
            batch[i][inp.name] = form
            outcomes.append((form, _outcome(policy, batch)))
        (first_form, first), rest = outcomes[0], outcomes[1:]
        for form, got in rest:
            assert got[0] == first[0], f"{inp.name} = {first_form!r}: {first[0]} {first[1]!r}; " \
                                       f"{form!r}: {got[0]} {got[1]!r}"
            if got[0] == "rejected":
                assert got[1] == first[1], (first_form, first[1], form, got[1])
            else:
                for a, b in zip(first[1], got[1]):
                    assert list(a) == list(b)
                    for k in a:
                        d_ = p.definition(k)
                        if d_.type.kind == "num" and a[k] is not None:
                            assert number_problem(d_, b[k], a[k]) is None, (k, first_form, a[k], form, b[k])
                            assert number_problem(d_, a[k], b[k]) is None, (k, first_form, a[k], form, b[k])
                        else:
                            assert same(a[k], b[k]), (k, a[k], b[k])

    check()


# ───────────────────────── fixed regressions ─────────────────────────
# Minimal reproductions of disagreements the properties found, kept as plain tests.


def _agree(text: str, records: list[dict]):
    policy = policyc.loads(text)
    ns: dict = {}
    exec(compile(policy.compile(), "<standalone>", "exec"), ns)
    check_batch(policy, ns, records)


def test_rational_divided_by_a_literal_with_a_decimal_reciprocal():
    # `r / 4` multiplies by 0.25; when r is a rational that mixed Fraction and Decimal
    _agree(FEATURES["feat_rational_literal_div"], [{"agent": "a", "period": "2026-11", "a": 1, "b": 3}])


def test_sum_over_cohort_of_money_in_decimal_arithmetic():
    _agree(FEATURES["feat_cohort_sum"], [
        {"agent": "a", "period": "2026-11", "team": "x", "sales": Decimal("1.5")},
        {"agent": "b", "period": "2026-11", "team": "x", "sales": Decimal("2")},
    ])


def test_marginal_commission_as_pay_compiles():
    _agree(FEATURES["feat_marginal"], [{"agent": "a", "period": "2026-11", "sales": 60000, "rate": Decimal("0.1")}])


def test_split_of_a_rational_amount_compiles():
    _agree(FEATURES["feat_split"], [{"agent": "a", "period": "2026-11", "pool": 100, "n": 3}])


def test_when_zero_covers_a_division_inside_a_cohort_aggregate():
    # inside the aggregate, the guard works per record; a zero `b` gives 0
    _agree(FEATURES["feat_zero_guard_over_cohort"],
           [{"agent": "a", "period": "2026-11", "team": "x", "a": 1, "b": 0}])


@pytest.mark.parametrize("formula", [
    "max(a / b over team) when zero 0",
    "sum(a / b over team) when zero 0",
    "count(a / b > 1 over team) when zero 0",
    "streak(a / b > 1) when zero 0",
    "previous(a / b) when na 0 when zero 0",
])
def test_a_guard_outside_an_aggregate_is_refused_with_the_rewrite(formula):
    # the aggregate's argument is computed for every record before the guard runs, so a guard
    # outside cannot catch its division: the checker says so and shows where the guard goes
    text = ("policy p \"t\"\nperiod month\ncohort team by team\ninput team : text\n"
            f"input a, b : count\nm = {formula}\n")
    with pytest.raises(policyc.PolicyError) as info:
        policyc.loads(text)
    codes = [d.code for d in info.value.diagnostics]
    assert "E304" in codes
    assert any("(a / b when zero 0)" in (d.suggestion or "") for d in info.value.diagnostics)


def test_no_negative_zero_from_arithmetic():
    # Decimal("-5") * 0 is Decimal("-0"): shown as "-0" where the reference gives 0
    text = 'policy p "t"\nperiod month\ninput x : number in -5..5\nw = x * 0\n'
    _agree(text, [{"agent": "a", "period": "2026-11", "x": Decimal("-5")}])


def test_no_negative_zero_from_an_input():
    # "-0.00" is a valid zero; it must not come out as "-0.00"
    text = 'policy p "t"\nperiod month\ninput sales : money\npay s = sales\n'
    _agree(text, [{"agent": "a", "period": "2026-11", "sales": Decimal("-0.00")}])


def test_a_large_number_is_read_alike_as_decimal_and_as_text():
    policy = policyc.load(REPO / "policies" / "shop_pay.policy")
    rec = {"agent": "a", "period": "2026-11", "years_of_service": 1, "inquiries": 1, "orders": 1}
    as_decimal = _outcome(policy, [dict(rec, sales=Decimal("1E+40"))])
    as_text = _outcome(policy, [dict(rec, sales="1E+40")])
    assert as_decimal[0] == as_text[0], (as_decimal, as_text)


def test_comparison_helpers():
    assert public_number(Fraction(1, 3), False) == Decimal("0.33333333333333333333")
    assert not same(True, 1) and not same(3, Decimal(3)) and same(Decimal("1.50"), Decimal("1.5"))
    assert not identical(Decimal("1.50"), Decimal("1.5"))
