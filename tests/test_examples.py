"""Example policies (policies/examples/): one per construct the eight shipped
schemes do not use, each scored on hand-picked records.

- response_linear.policy        piecewise-linear tables (`linear`), falling and rising
- sales_commission_tiers.policy marginal tiers (`marginal`), commission rounded to 0.01
- qa_scorecard.policy           `weighted:` rows, N/A criteria (`or na`), `critical`, `when na`
- critical_gate.policy          an `all:` gate voiding a bonus, `failed(...)` / `passed(...)`,
                                and an `any:` gate

Every expected value below was worked out by hand from docs/language.md (the
working is in the comments), never by running policyc. Numbers are compared
exactly (Decimal / Fraction, no floats). A value with no finite decimal form is
shown, per the reference, to 20 decimal places rounded half-up; those
expectations are written out digit by digit.

Each case is checked three ways: ``policy.score(record)``, one
``policy.score_batch(records)`` call per policy, and ``score(record)`` of the
standalone module ``policy.compile()`` returns.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

import policyc

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "policies" / "examples"
SRC = REPO / "src"
PERIOD = "2026-11"

D = Decimal
F = Fraction

NAMES = ("response_linear", "sales_commission_tiers", "qa_scorecard", "critical_gate")


# ==========================================================================
# the cases: (id, inputs, every output in definition order)


# response_linear
#   response:           10s -> 20, 60s -> 0       slope -20/50 = -0.4 per second
#   satisfaction_score: 80% -> 0, 95% -> 10       10 points per 15 percentage points
#   resolution:         60% -> 0, 80% -> 6, 95% -> 10
#                       (0.3 per point up to 80%, then 4/15 per point)
#   total = items;  bonus: total 20 -> 0, 36 -> 800   (50 yuan a point)
LINEAR = [
    ("below-the-first-points",
     dict(avg_response=5, satisfaction=D("0.70"), resolution_rate=D("0.50")),
     # falling table below its first point keeps its first value (20); rising
     # tables below theirs keep 0; total 20 is exactly the bonus's first point
     dict(response=20, satisfaction_score=0, resolution=0, total=20, bonus=0)),
    ("at-the-points",
     dict(avg_response=10, satisfaction=D("0.95"), resolution_rate=D("0.80")),
     # 10s is the first point, 95% the last, 80% the middle point (6);
     # total 20 + 10 + 6 = 36 is the bonus's last point
     dict(response=20, satisfaction_score=10, resolution=6, total=36, bonus=800)),
    ("at-the-other-end-points",
     dict(avg_response=60, satisfaction=D("0.80"), resolution_rate=D("0.60")),
     # 60s is the last point (0); 80% and 60% the first points (0); total 0 is
     # below the bonus's first point
     dict(response=0, satisfaction_score=0, resolution=0, total=0, bonus=0)),
    ("interpolated",
     dict(avg_response=D("12.5"), satisfaction=D("0.875"), resolution_rate=D("0.875")),
     # 20 - 0.4 * 2.5 = 19;  10 * 7.5 / 15 = 5;  6 + 4 * 7.5 / 15 = 8;
     # total 32;  bonus 50 * (32 - 20) = 600
     dict(response=19, satisfaction_score=5, resolution=8, total=32, bonus=600)),
    ("interpolated-first-segment",
     dict(avg_response=23, satisfaction=D("0.92"), resolution_rate=D("0.70")),
     # 20 - 0.4 * 13 = 14.8;  10 * 12 / 15 = 8;  6 * 10 / 20 = 3;
     # total 25.8;  bonus 50 * 5.8 = 290
     dict(response=D("14.8"), satisfaction_score=8, resolution=3, total=D("25.8"), bonus=290)),
    ("above-the-last-points",
     dict(avg_response=120, satisfaction=1, resolution_rate=D("0.99")),
     # falling past its last point stays 0; rising past theirs stay 10;
     # total 20 -> bonus 0
     dict(response=0, satisfaction_score=10, resolution=10, total=20, bonus=0)),
    ("full-marks-bonus-above-last-point",
     dict(avg_response=8, satisfaction=D("0.97"), resolution_rate=D("0.96")),
     # 20 + 10 + 10 = 40, past the bonus's last point (36): 800
     dict(response=20, satisfaction_score=10, resolution=10, total=40, bonus=800)),
    ("thirds-stay-exact",
     dict(avg_response=10, satisfaction=D("0.81"), resolution_rate=D("0.90")),
     # satisfaction 10 * 1/15 = 2/3;  resolution 6 + 4 * 10/15 = 26/3;
     # total 20 + 28/3 = 88/3;  bonus 50 * (88/3 - 20) = 1400/3 = 466.666...
     # (shown to 20 places; computed from the exact thirds, not the shown ones)
     dict(response=20,
          satisfaction_score=D("0.66666666666666666667"),
          resolution=D("8.66666666666666666667"),
          total=D("29.33333333333333333333"),
          bonus=D("466.66666666666666666667"))),
]

# sales_commission_tiers
#   raw = 1% of 0..50000 + 2% of 50000..100000 + 3% of 100000..
#   commission = raw round 0.01 (half-up);  effective_rate = raw / sales when zero 0%
#   pay = base_salary + commission
SALES = [
    ("no-sales",
     dict(sales=0, base_salary=3000),
     dict(commission=0, effective_rate=0, pay=3000)),
    ("inside-first-slice",
     dict(sales=30000, base_salary=3000),
     # 30000 * 1% = 300
     dict(commission=300, effective_rate=D("0.01"), pay=3300)),
    ("first-boundary",
     dict(sales=50000, base_salary=3000),
     # 50000 * 1% = 500; nothing at 2% yet
     dict(commission=500, effective_rate=D("0.01"), pay=3500)),
    ("just-above-first-boundary",
     dict(sales=D("50000.25"), base_salary=3000),
     # 500 + 0.25 * 2% = 500.005 -> 500.01 (a tie, rounded away from zero)
     # effective rate 500.005 / 50000.25 = 100001 / 10000050
     #   = 0.0100000499997500012499937500312498437...  -> 20 places
     dict(commission=D("500.01"), effective_rate=D("0.01000004999975000125"), pay=D("3500.01"))),
    ("just-below-first-boundary",
     dict(sales=D("49999.99"), base_salary=3000),
     # 49999.99 * 1% = 499.9999 -> 500.00
     dict(commission=500, effective_rate=D("0.01"), pay=3500)),
    ("inside-second-slice",
     dict(sales=75000, base_salary=3000),
     # 500 + 25000 * 2% = 1000;  1000 / 75000 = 1/75 = 0.0133...
     dict(commission=1000, effective_rate=D("0.01333333333333333333"), pay=4000)),
    ("second-boundary",
     dict(sales=100000, base_salary=3000),
     # 500 + 1000 = 1500;  1500 / 100000 = 0.015
     dict(commission=1500, effective_rate=D("0.015"), pay=4500)),
    ("inside-open-top-slice",
     dict(sales=150000, base_salary=3000),
     # 500 + 1000 + 50000 * 3% = 3000;  3000 / 150000 = 0.02
     dict(commission=3000, effective_rate=D("0.02"), pay=6000)),
    ("cents-in-top-slice",
     dict(sales=D("123456.78"), base_salary=2800),
     # 500 + 1000 + 23456.78 * 3% = 1500 + 703.7034 = 2203.7034 -> 2203.70
     # effective rate 2203.7034 / 123456.78 = 3672839 / 205761300
     #   = 0.0178499990036999183033...  -> 20 places
     dict(commission=D("2203.70"), effective_rate=D("0.01784999900369991830"),
          pay=D("5003.70"))),
    ("half-cent-tie",
     dict(sales=D("100.5"), base_salary=3000),
     # 100.5 * 1% = 1.005 -> 1.01 (half-up);  1.005 / 100.5 = 0.01
     dict(commission=D("1.01"), effective_rate=D("0.01"), pay=D("3001.01"))),
    ("rounds-down-to-nothing",
     dict(sales=D("0.4"), base_salary=3000),
     # 0.4 * 1% = 0.004 -> 0.00;  0.004 / 0.4 = 0.01
     dict(commission=0, effective_rate=D("0.01"), pay=3000)),
]

# qa_scorecard
#   qa = weighted 30% greeting, 50% resolution, 20% upsell; N/A criteria left
#        out and the other weights re-scaled; all N/A -> N/A;
#        critical not privacy_breach -> 0
#   upsell_bonus = 5 if (upsell when na 0) >= 90 else 0
#   qa_pass = (qa when na 0) + upsell_bonus >= 80;  qa_bonus = 300 if qa_pass else 0
QA = [
    ("all-applicable",
     dict(greeting=80, resolution=90, upsell=70, privacy_breach=False),
     # 0.3*80 + 0.5*90 + 0.2*70 = 24 + 45 + 14 = 83
     dict(qa=83, upsell_bonus=0, qa_pass=True, qa_bonus=300)),
    ("upsell-na-rescales-30-50",
     dict(greeting=80, resolution=90, upsell=None, privacy_breach=False),
     # (30*80 + 50*90) / 80 = 6900 / 80 = 86.25
     dict(qa=D("86.25"), upsell_bonus=0, qa_pass=True, qa_bonus=300)),
    ("upsell-na-rescales-resolution-only-marks",
     dict(greeting=0, resolution=100, upsell=None, privacy_breach=False),
     # (30*0 + 50*100) / 80 = 62.5
     dict(qa=D("62.5"), upsell_bonus=0, qa_pass=False, qa_bonus=0)),
    ("upsell-na-rescales-greeting-only-marks",
     dict(greeting=100, resolution=0, upsell=None, privacy_breach=False),
     # (30*100 + 50*0) / 80 = 37.5
     dict(qa=D("37.5"), upsell_bonus=0, qa_pass=False, qa_bonus=0)),
    ("greeting-na-rescales-50-20",
     dict(greeting=None, resolution=70, upsell=95, privacy_breach=False),
     # (50*70 + 20*95) / 70 = 5400 / 70 = 540/7 = 77.142857 142857...
     # upsell 95 >= 90 -> 5;  540/7 + 5 = 82.14... >= 80
     dict(qa=D("77.14285714285714285714"), upsell_bonus=5, qa_pass=True, qa_bonus=300)),
    ("resolution-na-rescales-30-20",
     dict(greeting=60, resolution=None, upsell=100, privacy_breach=False),
     # (30*60 + 20*100) / 50 = 3800 / 50 = 76;  76 + 5 = 81
     dict(qa=76, upsell_bonus=5, qa_pass=True, qa_bonus=300)),
    ("one-criterion-left",
     dict(greeting=60, resolution=None, upsell=None, privacy_breach=False),
     # 30*60 / 30 = 60
     dict(qa=60, upsell_bonus=0, qa_pass=False, qa_bonus=0)),
    ("all-na-gives-na",
     dict(greeting=None, resolution=None, upsell=None, privacy_breach=False),
     # nothing applicable: qa is N/A, counted as 0 for qa_pass
     dict(qa=None, upsell_bonus=0, qa_pass=False, qa_bonus=0)),
    ("critical-failure-zeroes-full-marks",
     dict(greeting=100, resolution=100, upsell=100, privacy_breach=True),
     # the critical row fails: 0 whatever the rest; bonus 5 is not enough
     dict(qa=0, upsell_bonus=5, qa_pass=False, qa_bonus=0)),
    ("critical-failure-beats-all-na",
     dict(greeting=None, resolution=None, upsell=None, privacy_breach=True),
     dict(qa=0, upsell_bonus=0, qa_pass=False, qa_bonus=0)),
    ("pass-boundary",
     dict(greeting=80, resolution=80, upsell=80, privacy_breach=False),
     # 80 >= 80
     dict(qa=80, upsell_bonus=0, qa_pass=True, qa_bonus=300)),
    ("upsell-bonus-boundary-not-enough",
     dict(greeting=70, resolution=70, upsell=90, privacy_breach=False),
     # 21 + 35 + 18 = 74; upsell 90 >= 90 -> 5; 79 < 80
     dict(qa=74, upsell_bonus=5, qa_pass=False, qa_bonus=0)),
    ("upsell-bonus-lifts-to-pass",
     dict(greeting=75, resolution=72, upsell=90, privacy_breach=False),
     # 22.5 + 36 + 18 = 76.5; + 5 = 81.5 >= 80
     dict(qa=D("76.5"), upsell_bonus=5, qa_pass=True, qa_bonus=300)),
    ("upsell-just-below-bonus",
     dict(greeting=85, resolution=80, upsell=89, privacy_breach=False),
     # 25.5 + 40 + 17.8 = 83.3; 89 < 90 -> no bonus
     dict(qa=D("83.3"), upsell_bonus=0, qa_pass=True, qa_bonus=300)),
]

# critical_gate
#   red_lines = all: privacy (not privacy_breach), abuse (abusive_language = 0),
#               promises (false_promises = 0), disputes (dispute_rate <= 1%)
#   excellent = any: praised (praises >= 3), one_touch (first_contact_rate >= 90%)
#   performance_bonus = 1500 * score / 100 round 0.01 if red_lines else 0
#   excellence_award = 200 if red_lines and excellent else 0
#   pay = base_salary + performance_bonus + excellence_award
ALL4 = ["privacy", "abuse", "promises", "disputes"]


def gate_inputs(base=3000, score=90, breach=False, abuse=0, promises=0,
                dispute="0.005", praises=0, fcr="0.5"):
    dispute, fcr = D(dispute), D(fcr)
    return dict(base_salary=base, score=score, privacy_breach=breach, abusive_language=abuse,
                false_promises=promises, dispute_rate=dispute, praises=praises,
                first_contact_rate=fcr)


GATE = [
    ("all-red-lines-kept",
     gate_inputs(score=87, fcr=D("0.9")),
     # 1500 * 87 / 100 = 1305;  fcr 90% >= 90% -> excellent; 3000 + 1305 + 200
     dict(red_lines=True, failed=[], passed=ALL4, excellent=True, excellent_via=["one_touch"],
          performance_bonus=1305, excellence_award=200, pay=4505)),
    ("boundaries-hold",
     gate_inputs(score=D("88.5"), dispute=D("0.01"), praises=3),
     # dispute 1% <= 1%; praises 3 >= 3;  1500 * 88.5 / 100 = 1327.5
     dict(red_lines=True, failed=[], passed=ALL4, excellent=True, excellent_via=["praised"],
          performance_bonus=D("1327.5"), excellence_award=200, pay=D("4527.5"))),
    ("one-red-line-voids-both-bonuses",
     gate_inputs(score=95, promises=1, praises=5, fcr=D("0.95")),
     dict(red_lines=False, failed=["promises"], passed=["privacy", "abuse", "disputes"],
          excellent=True, excellent_via=["praised", "one_touch"],
          performance_bonus=0, excellence_award=0, pay=3000)),
    ("several-failed-in-gate-order",
     gate_inputs(base=3200, breach=True, abuse=2, dispute=D("0.0101"), fcr=D("0.6")),
     # dispute 1.01% > 1%
     dict(red_lines=False, failed=["privacy", "abuse", "disputes"], passed=["promises"],
          excellent=False, excellent_via=[], performance_bonus=0, excellence_award=0,
          pay=3200)),
    ("every-red-line-failed",
     gate_inputs(score=100, breach=True, abuse=1, promises=1, dispute=D("0.05"), fcr=0),
     dict(red_lines=False, failed=ALL4, passed=[], excellent=False, excellent_via=[],
          performance_bonus=0, excellence_award=0, pay=3000)),
    ("kept-but-not-excellent",
     gate_inputs(score=100, dispute=0, praises=2, fcr=D("0.89")),
     # praises 2 < 3, fcr 89% < 90%: no award;  1500 * 100 / 100 = 1500
     dict(red_lines=True, failed=[], passed=ALL4, excellent=False, excellent_via=[],
          performance_bonus=1500, excellence_award=0, pay=4500)),
    ("bonus-rounded-half-up",
     gate_inputs(base=2500, score=D("66.667"), dispute=0),
     # 1500 * 66.667 / 100 = 1000.005 -> 1000.01
     dict(red_lines=True, failed=[], passed=ALL4, excellent=False, excellent_via=[],
          performance_bonus=D("1000.01"), excellence_award=0, pay=D("3500.01"))),
]

CASES = {
    "response_linear": LINEAR,
    "sales_commission_tiers": SALES,
    "qa_scorecard": QA,
    "critical_gate": GATE,
}


# ==========================================================================
# helpers


def record(inputs: dict, agent: str = "张三") -> dict:
    return {"agent": agent, "period": PERIOD, **inputs}


def _exact(v) -> Fraction:
    """An output number as an exact Fraction (via ``Decimal(str(v))``)."""
    return Fraction(Decimal(str(v)))


def value_problem(name: str, want, got) -> str | None:
    if isinstance(want, bool):
        if got is not want:
            return f"{name}: expected {want}, got {got!r}"
    elif want is None:
        if got is not None:
            return f"{name}: expected N/A (None), got {got!r}"
    elif isinstance(want, list):
        if not isinstance(got, list) or got != want:
            return f"{name}: expected the list {want!r}, got {got!r}"
    elif isinstance(want, (int, Decimal, Fraction)):
        if isinstance(got, bool) or not isinstance(got, (int, Decimal)):
            return f"{name}: expected the number {want}, got {type(got).__name__} {got!r}"
        if _exact(got) != Fraction(want):
            return f"{name}: expected {want}, got {got!r}"
    else:  # pragma: no cover - a mistake in this file
        raise TypeError(f"unsupported expectation {want!r}")
    return None


def assert_outputs(expected: dict, outputs: dict, where: str) -> None:
    """Every output, by name and in definition order, equals its expectation exactly."""
    names = [k for k in outputs if k not in ("agent", "period")]
    problems = []
    if names != list(expected):
        problems.append(f"outputs are {names}, expected {list(expected)}")
    for name, want in expected.items():
        if name not in outputs:
            continue
        p = value_problem(name, want, outputs[name])
        if p:
            problems.append(p)
    assert not problems, f"{where}:\n  " + "\n  ".join(problems)


def case_params():
    return [pytest.param(name, i, id=f"{name}-{case[0]}")
            for name in NAMES for i, case in enumerate(CASES[name])]


_POLICIES: dict[str, policyc.Policy] = {}


def load(name: str) -> policyc.Policy:
    if name not in _POLICIES:
        _POLICIES[name] = policyc.load(EXAMPLES / f"{name}.policy")
    return _POLICIES[name]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """name -> the standalone module ``policy.compile()`` gives, imported from a file."""
    where = tmp_path_factory.mktemp("compiled_examples")
    modules = {}

    def get(name: str):
        if name not in modules:
            path = where / f"example_{name}.py"
            path.write_text(load(name).compile(), encoding="utf-8")
            spec = importlib.util.spec_from_file_location(f"example_{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            modules[name] = module
        return modules[name]

    return get


# ==========================================================================
# the files check clean


COUNTER_EXAMPLES = ["presales_naive"]  # files marked `# policyc: expect[...]`: kept to be rejected


def test_the_four_examples_exist():
    assert sorted(p.stem for p in EXAMPLES.glob("*.policy")) == sorted([*NAMES, *COUNTER_EXAMPLES])


def test_presales_naive_is_rejected_naming_each_gap_of_the_page():
    from policyc.compiler import check_source

    text = (EXAMPLES / "presales_naive.policy").read_text(encoding="utf-8")
    _, diags = check_source(text, "presales_naive.policy")
    gaps = sorted(d.message.split(":")[0] for d in diags if d.code == "E310")
    assert gaps == sorted([
        "no row covers (10 s, 11 s)", "no row covers (19 s, 20 s)", "no row covers (39 s, 40 s)",
        "no row covers (89%, 90%)", "no row covers (97%, 98%)", "no row covers (99%, 100%)",
    ])
    assert all(d.expected for d in diags if d.code == "E310")
    with pytest.raises(policyc.PolicyError):
        policyc.loads(text, "presales_naive.policy")


@pytest.mark.parametrize("name", NAMES)
def test_example_loads_without_diagnostics(name):
    policy = load(name)
    assert policy.name == name
    assert policy.diagnostics == ()


def test_policyc_check_examples_has_no_errors_or_warnings():
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "policyc", "check", str(EXAMPLES)],
                          capture_output=True, encoding="utf-8", env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the counter-example's six gaps are shown, and expected, so the folder still passes
    assert "checked 5 policies: 0 error(s), 0 warning(s)" in proc.stdout + proc.stderr
    assert "(6 error(s) expected by counter-example files marked `policyc: expect`)" in proc.stdout


# ==========================================================================
# scoring: the API, one batch, the compiled module


@pytest.mark.parametrize("name, index", case_params())
def test_score(name, index):
    case_id, inputs, expected = CASES[name][index]
    result = load(name).score(record(inputs))
    assert result.agent == "张三" and result.period == PERIOD
    assert_outputs(expected, result.outputs, f"{name} / {case_id}")


@pytest.mark.parametrize("name", NAMES)
def test_score_batch(name):
    cases = CASES[name]
    records = [record(inputs, agent=f"客服{i:02d}") for i, (_, inputs, _) in enumerate(cases)]
    results = load(name).score_batch(records)
    assert [r.agent for r in results] == [r["agent"] for r in records]
    for (case_id, _, expected), result in zip(cases, results):
        assert_outputs(expected, result.outputs, f"{name} / {case_id} (batch)")


@pytest.mark.parametrize("name, index", case_params())
def test_compiled_module_score(name, index, compiled):
    case_id, inputs, expected = CASES[name][index]
    module = compiled(name)
    out = module.score(record(inputs))
    assert out["agent"] == "张三" and out["period"] == PERIOD
    assert_outputs(expected, out, f"{name} / {case_id} (compiled)")


@pytest.mark.parametrize("name", NAMES)
def test_compiled_module_agrees_with_api(name, compiled):
    module = compiled(name)
    policy = load(name)
    for case_id, inputs, _ in CASES[name]:
        rec = record(inputs)
        api = policy.score(rec).outputs
        out = module.score(rec)
        assert list(out) == ["agent", "period", *api], case_id
        for k, v in api.items():
            w = out[k]
            if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
                assert not isinstance(w, bool) and Decimal(str(w)) == Decimal(str(v)), (case_id, k)
            else:
                assert w == v and type(w) is type(v), (case_id, k, w, v)


# ==========================================================================
# details of each construct


def test_linear_falls_and_rises_monotonically_between_points():
    """Walking the response time up lowers the score by exactly 0.4 a second
    from 10 s to 60 s; walking satisfaction up raises it by 2/3 a percent."""
    policy = load("response_linear")
    base = dict(satisfaction=D("0.80"), resolution_rate=D("0.60"))
    got = [policy.score(record({**base, "avg_response": s}))["response"] for s in range(0, 71, 5)]
    # 0..10 s: 20;  then 20 - 0.4 * (s - 10);  60 s and later: 0
    want = [20, 20, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0, 0, 0]
    assert [_exact(g) for g in got] == [F(w) for w in want]
    got = [policy.score(record({"avg_response": 10, "resolution_rate": D("0.6"),
                                "satisfaction": D(p) / 100}))["satisfaction_score"]
           for p in (79, 80, 83, 86, 89, 92, 95, 96)]
    # 80% -> 0 rising 10 per 15 points to 95% -> 10, flat outside
    assert [_exact(g) for g in got] == [F(0), F(0), F(2), F(4), F(6), F(8), F(10), F(10)]


def test_marginal_commission_is_kept_exact_until_rounded():
    """The `let` before rounding holds the exact sum of the slices."""
    policy = load("sales_commission_tiers")
    result = policy.score(record(dict(sales=D("50000.25"), base_salary=3000)))
    assert "raw_commission" not in result.outputs
    assert _exact(result["raw_commission"]) == F("500.005")  # 500 + 0.25 * 2%
    assert _exact(result["commission"]) == F("500.01")
    result = policy.score(record(dict(sales=D("123456.78"), base_salary=3000)))
    assert _exact(result["raw_commission"]) == F("2203.7034")


def test_marginal_is_continuous_at_each_boundary():
    """A yuan more across a slice boundary earns that yuan at the new rate only."""
    policy = load("sales_commission_tiers")
    got = {s: _exact(policy.score(record(dict(sales=s, base_salary=0)))["commission"])
           for s in (49999, 50000, 50001, 99999, 100000, 100001)}
    assert got == {49999: F("499.99"), 50000: F(500), 50001: F("500.02"),
                   99999: F("1499.98"), 100000: F(1500), 100001: F("1500.03")}


@pytest.mark.parametrize("spelling", ["na", "n/a", "N/A", ""])
def test_qa_na_spellings(spelling):
    """N/A is written null, an empty CSV cell, or na / n/a / N/A."""
    policy = load("qa_scorecard")
    result = policy.score(record(dict(greeting=spelling, resolution=90, upsell=spelling,
                                      privacy_breach=False)))
    # only resolution applies: 50*90 / 50 = 90
    assert_outputs(dict(qa=90, upsell_bonus=0, qa_pass=True, qa_bonus=300), result.outputs,
                   f"N/A written {spelling!r}")


@pytest.mark.parametrize("field, value", [
    ("greeting", 101),               # outside 0..100
    ("upsell", -1),                  # outside 0..100
    ("privacy_breach", None),        # a bool may not be N/A
])
def test_qa_rejects_values_outside_the_domain(field, value):
    policy = load("qa_scorecard")
    rec = record(dict(greeting=80, resolution=90, upsell=70, privacy_breach=False))
    rec[field] = value
    with pytest.raises(policyc.RecordError) as info:
        policy.score(rec)
    assert field in {e.field for e in info.value.errors}


def test_gate_failed_list_explains_the_void_bonus():
    policy = load("critical_gate")
    result = policy.score(record(gate_inputs(score=100, promises=2, dispute=D("0.02"))))
    assert result["red_lines"] is False
    assert result["failed"] == ["promises", "disputes"]
    assert _exact(result["performance_bonus"]) == 0
    text = result.explain()
    assert "promises" in text and "disputes" in text
