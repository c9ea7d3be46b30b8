"""`policyc test`: examples in policies, their report, coverage, `--suggest`.

Every test here runs the CLI in-process (`policyc.cli.main`) with stdout and
stderr captured apart, so the reports' destinations are checked too.
"""

from __future__ import annotations

import json
import re
import textwrap
import xml.etree.ElementTree as ET
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from policyc.cli import main
from policyc.compiler import check_source
from policyc.testing import run_source

REPO = Path(__file__).resolve().parents[1]
POLICIES = REPO / "policies"

HEADER = """\
policy t "测试"
period month
input late : count                 "迟到次数"
input rate : percent               "退款率"
input level : choice normal | senior
item attendance 20 pts = 20 - 5 per late
item refund 30 pts = first rate:
    <= 5%  -> 30
    <= 8%  -> 20
    else   -> 0
third = 1 / 3
pay bonus = 500 if level is senior else 300
"""

BASE = """\
example base "满分":
    given late = 0, rate = 3%, level = senior
    expect attendance = 20, refund = 30, bonus = 500
"""


def write(tmp_path: Path, text: str, name: str = "t.policy") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["test", *args])
    out, err = capsys.readouterr()
    return code, out, err


# ───────────────────────── passing and failing ─────────────────────────


def test_passing_examples_exit_0_and_report_on_stdout(tmp_path, capsys):
    p = write(tmp_path, HEADER + BASE)
    code, out, err = run(capsys, str(p))
    assert code == 0, out + err
    assert "1 example, all passed" in out
    assert err == ""


def test_failing_example_shows_expected_actual_and_explanation(tmp_path, capsys):
    p = write(tmp_path, HEADER + BASE + """\
example "迟到两次" from base:
    given late = 2
    expect attendance = 15
""")
    code, out, err = run(capsys, str(p))
    assert code == 1
    assert "FAIL  迟到两次" in out
    assert "attendance: expected = 15, got 10" in out
    # the explanation of the actual value, in the policy's own names
    assert "20 - 5 per late" in out and "where late = 2" in out
    assert err == ""


def test_a_mismatch_in_one_record_of_a_batch_names_the_record(tmp_path, capsys):
    p = write(tmp_path, HEADER + BASE + """\
example "两个人" from base:
    given agent = 张三, late = 1
    given agent = 李四, late = 3
    expect for 张三: attendance = 15
    expect for 李四: attendance = 10
""")
    code, out, _ = run(capsys, str(p))
    assert code == 1
    assert "attendance for 李四 in 2026-01: expected = 10, got 5" in out
    assert "张三" not in out.split("FAIL")[1].split("coverage")[0].replace("李四", "")


def test_exact_and_approximate_comparison(tmp_path):
    ok = run_source(HEADER + BASE + """\
example a from base:
    expect third ≈ 0.33, third ≈ 0.3333, third ~ 0.333
""")
    assert [r.passed for r in ok.results] == [True, True], [r.mismatches for r in ok.results]
    bad = run_source(HEADER + BASE + """\
example a from base:
    expect third = 0.33
example b from base:
    expect third ≈ 0.334
""")
    assert [r.passed for r in bad.results] == [True, False, False]


def test_exact_comparison_is_exact_for_decimals(tmp_path):
    rep = run_source(HEADER + """\
pay share = 1000 * rate
example a:
    given late = 0, rate = 3.33%, level = normal
    expect share = 33.3
example b:
    given late = 0, rate = 3.33%, level = normal
    expect share = 33.30
""")
    assert [r.passed for r in rep.results] == [True, True]
    rep = run_source(HEADER + """\
pay share = 1000 * rate
example a:
    given late = 0, rate = 3.331%, level = normal
    expect share = 33.3
""")
    assert [r.passed for r in rep.results] == [False]
    assert rep.results[0].mismatches[0].actual == "33.31"


def test_percent_expectations_show_the_actual_as_a_percent(tmp_path):
    rep = run_source(HEADER + """\
r = rate * 2
example a:
    given late = 0, rate = 3%, level = normal
    expect r = 5%
""")
    assert rep.results[0].mismatches[0].actual == "6%"


def test_labels_booleans_and_lists(tmp_path):
    text = HEADER + """\
ok = all:
    punctual: late = 0
    refunds: rate <= 5%
missed = failed(ok)
label grade = first:
    refund = 30 -> A
    else -> B
example a:
    given late = 2, rate = 9%, level = normal
    expect ok = false, missed = [punctual, refunds], grade = B
example b:
    given late = 0, rate = 1%, level = normal
    expect ok = true, missed = [], grade = A
example c:
    given late = 0, rate = 1%, level = normal
    expect ok = false
"""
    rep = run_source(text)
    assert [r.passed for r in rep.results] == [True, True, False]
    assert rep.results[2].mismatches[0].actual == "true"


# ───────────────────────── rejected records ─────────────────────────


REQUIRE = HEADER.replace('input level', 'input complaints, complaint_points : count\ninput level') + \
    "require 5 per complaints <= complaint_points\nlet cp = complaint_points + complaints\n"


@pytest.mark.parametrize("body, passes", [
    # the require is broken: rejected, naming the fields
    ("given late = 0, rate = 3%, complaints = 1, complaint_points = 2, level = normal\n"
     "    expect rejected complaint_points", True),
    ("given late = 0, rate = 3%, complaints = 1, complaint_points = 2, level = normal\n"
     "    expect rejected", True),
    # rejected, but for another field than the example says
    ("given late = 0, rate = 3%, complaints = 1, complaint_points = 2, level = normal\n"
     "    expect rejected rate", False),
    # a value outside its domain is passed through to the reader as written
    ("given late = 0, rate = 300%, complaints = 0, complaint_points = 0, level = normal\n"
     "    expect rejected rate", True),
    # scored after all
    ("given late = 0, rate = 3%, complaints = 1, complaint_points = 5, level = normal\n"
     "    expect rejected", False),
])
def test_expect_rejected(body, passes):
    rep = run_source(REQUIRE + "example r:\n    " + body + "\n")
    assert not rep.broken, rep.diagnostics
    assert rep.results[0].passed is passes, rep.results[0].problem


def test_an_example_whose_record_is_rejected_unexpectedly_fails_with_the_reason():
    rep = run_source(REQUIRE + """\
example r:
    given late = 0, rate = 3%, complaints = 1, complaint_points = 2, level = normal
    expect cp = 3
""")
    assert not rep.results[0].passed
    assert "rejected" in rep.results[0].problem and "complaint_points" in rep.results[0].problem


# ───────────────────────── check errors ─────────────────────────


@pytest.mark.parametrize("example, code", [
    ("example x:\n    given late = 0, rate = 3%, level = senior, bonus = 1\n    expect refund = 30\n", "E601"),
    ("example x:\n    given late = 0, rate = 3%, level = senior\n    expect refnd = 30\n", "E602"),
    ("example x:\n    given late = 0, rate = 3%, level = senior\n    expect late = 0\n", "E602"),
    ("example x:\n    given late = 0, rate = 3%, level = boss\n    expect refund = 30\n", "E603"),
    ("example x:\n    given late = 0.5, rate = 3%, level = senior\n    expect refund = 30\n", "E603"),
    ("example x:\n    given late = 0, rate = 3%, level = senior\n    expect refund = A\n", "E603"),
    ("example x:\n    given late = 0, level = senior\n    expect refund = 30\n", "E604"),
    ("example x from y:\n    expect refund = 30\n", "E605"),
    ("example x:\n    given late = 0, rate = 3%, level = senior\n"
     "    given late = 1, rate = 3%, level = senior\n    expect refund = 30\n", "E605"),
    ("example x:\n    given late = 0, rate = 3%, level = senior\n", "W406"),
])
def test_malformed_examples_are_check_findings(example, code):
    _, diags = check_source(HEADER + example, "t.policy")
    assert code in [d.code for d in diags], [(d.code, d.message) for d in diags]


def test_an_example_naming_an_unknown_output_fails_policyc_test_too(tmp_path, capsys):
    p = write(tmp_path, HEADER + "example x:\n    given late = 0, rate = 3%, level = senior\n    expect totl = 1\n")
    code, out, _ = run(capsys, str(p))
    assert code == 1
    assert "does not check" in out and "E602" in out


def test_examples_starting_from_each_other_in_a_circle():
    _, diags = check_source(HEADER + "example a from b:\n    expect refund = 30\n"
                            "example b from a:\n    expect refund = 30\n", "t.policy")
    assert any(d.code == "E605" and "itself" in d.message for d in diags)


# ───────────────────────── coverage ─────────────────────────


def test_coverage_lists_the_rows_no_example_reached(tmp_path, capsys):
    p = write(tmp_path, HEADER + BASE)
    code, out, _ = run(capsys, str(p))
    assert code == 0
    missed = out.split("never exercised by an example:")[1]
    assert "row `<= 8% -> 20`" in missed and "row `else -> 0`" in missed
    assert "row `<= 5% -> 30`" not in missed
    # the `else` side of the bonus and the attendance floor are not reached either
    assert "bonus" in missed and "attendance" in missed
    line = next(ln for ln in missed.splitlines() if "<= 8% -> 20" in ln)
    assert re.search(r"t\.policy:9:\d+", line), line


def test_min_coverage_fails_below_and_passes_at(tmp_path, capsys):
    p = write(tmp_path, HEADER + BASE)
    rep = run_source(p.read_text(encoding="utf-8"), str(p))
    pct = rep.percent
    assert 0 < pct < 100
    code, out, _ = run(capsys, str(p), "--min-coverage", "100")
    assert code == 1 and "below the required 100%" in out
    code, _, _ = run(capsys, str(p), "--min-coverage", str(int(pct)))
    assert code == 0


def test_full_coverage_of_rows_branches_and_clamps(tmp_path, capsys):
    text = HEADER + BASE + """\
example "退款 7%" from base:
    given rate = 7%
    expect refund = 20
example "退款 9%, 普通" from base:
    given rate = 9%, level = normal
    expect refund = 0, bonus = 300
example "迟到五次" from base:
    given late = 5
    expect attendance = 0
"""
    p = write(tmp_path, text)
    code, out, _ = run(capsys, str(p), "--min-coverage", "100")
    assert code == 0, out
    assert "never exercised" not in out


def test_coverage_counts_gate_outcomes_zero_rules_and_segments():
    text = """\
policy g
period month
input a, b : count
ok = all:
    x: a > 1
    y: b > 1
r = a / b when zero 0
s = linear a:
    0 -> 0
    10 -> 100
    20 -> 150
example one:
    given a = 5, b = 5
    expect ok = true, r = 1, s = 50
"""
    rep = run_source(text)
    missed = {(p.kind, p.text) for p in rep.missed}
    assert ("gate", "condition `x` fails") in missed and ("gate", "condition `y` fails") in missed
    assert ("gate", "condition `x` passes") not in missed
    assert any(k == "zero" for k, _ in missed)
    assert ("segment", "between 10 and 20") in missed and ("segment", "between 0 and 10") not in missed
    rep = run_source(text + """\
example two:
    given a = 15, b = 0
    expect ok = false, r = 0, s = 125
example three:
    given a = 0, b = 3
    expect ok = false
""")
    assert rep.missed == [], rep.missed
    assert all(r.passed for r in rep.results), [r.mismatches for r in rep.results]


def test_clamp_bounds_a_formula_cannot_cross_are_not_counted():
    rep = run_source("policy c\nperiod month\ninput a : count in 0..4\n"
                     "item x 20 pts = 20 - 5 per a\n"
                     "example e:\n    given a = 0\n    expect x = 20\n")
    assert [p.kind for p in rep.points] == [], rep.points  # 20 - 5a stays within [0, 20] for a in 0..4


# ───────────────────────── batches: cohorts and history ─────────────────────────


TEAM = """\
policy team
period month
cohort team by team
input team : text
input sales : money
rank = rank(sales over team)
streak3 = streak(rank = 1) >= 3
pay bonus = 300 if streak3 else 0
"""


def test_cohort_and_history_examples(tmp_path, capsys):
    p = write(tmp_path, TEAM + """\
example "连续三月第一":
    given agent = 张三, period = "2026-07", team = A, sales = 100
    given agent = 李四, period = "2026-07", team = A, sales = 50
    given agent = 张三, period = "2026-08", team = A, sales = 100
    given agent = 李四, period = "2026-08", team = A, sales = 60
    given agent = 张三, period = "2026-09", team = A, sales = 90
    given agent = 李四, period = "2026-09", team = A, sales = 80
    expect for 张三 in "2026-09": rank = 1, streak3 = true, bonus = 300
    expect for 李四 in "2026-09": rank = 2, bonus = 0
    expect for 张三 in "2026-08": streak3 = false
""")
    code, out, err = run(capsys, str(p), "--min-coverage", "100")
    assert code == 0, out + err


def test_an_agent_with_several_records_needs_a_period():
    _, diags = check_source(TEAM + """\
example x:
    given agent = 张三, period = "2026-07", team = A, sales = 100
    given agent = 张三, period = "2026-08", team = A, sales = 100
    expect for 张三: rank = 1
""", "t.policy")
    assert [d.code for d in diags] == ["E605"]
    assert "which period" in diags[0].message


# ───────────────────────── report formats ─────────────────────────


def test_json_report(tmp_path, capsys):
    p = write(tmp_path, HEADER + BASE + "example bad from base:\n    given late = 1\n    expect attendance = 20\n")
    code, out, err = run(capsys, str(p), "--format", "json")
    assert code == 1 and err == ""
    data = json.loads(out)
    pol = data["policies"][0]
    assert [e["passed"] for e in pol["examples"]] == [True, False]
    m = pol["examples"][1]["mismatches"][0]
    assert (m["name"], m["expected"], m["actual"]) == ("attendance", "20", "15")
    assert pol["coverage"]["branches"] > pol["coverage"]["covered"] > 0
    assert {"line", "definition", "kind", "text"} <= set(pol["coverage"]["missed"][0])


def test_junit_report(tmp_path, capsys):
    p = write(tmp_path, HEADER + BASE + "example bad from base:\n    given late = 1\n    expect attendance = 20\n")
    code, out, _ = run(capsys, str(p), "--format", "junit", "--min-coverage", "100")
    assert code == 1
    root = ET.fromstring(out)
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["满分"].find("failure") is None
    assert "attendance" in cases["bad"].find("failure").get("message")
    assert cases["coverage"].find("failure") is not None
    assert suite.get("failures") == "2"


def test_usage_errors_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, str(tmp_path / "missing.policy"))
    assert code == 2 and "no such file" in err
    with pytest.raises(SystemExit) as e:
        main(["test", "--min-coverage", "120", str(tmp_path)])
    assert e.value.code == 2


# ───────────────────────── --suggest ─────────────────────────


def _suggested_blocks(out: str) -> list[str]:
    return [b for b in re.split(r"\n(?=# )", out) if "\nexample " in "\n" + b or b.startswith("example ")]


def test_suggest_proposes_records_at_and_around_each_threshold(tmp_path, capsys):
    p = write(tmp_path, HEADER + BASE)
    code, out, err = run(capsys, "--suggest", str(p))
    assert code == 0, err
    for value in ("4.99%", "5%", "5.01%", "7.99%", "8%", "8.01%"):
        assert f"given rate = {value}\n" in out, value
    assert "given rate = 5.01%\n    expect refund = 20" in out
    assert 'from base:' in out


def test_suggested_examples_pass_when_pasted_into_the_policy(tmp_path, capsys):
    """The suggestions are what the policy computes: pasted back, they check and pass."""
    text = HEADER + BASE + "qualified = attendance + refund >= 70% of 50\n"
    p = write(tmp_path, text)
    code, out, _ = run(capsys, "--suggest", str(p))
    assert code == 0
    assert "crosses 35" in out  # a threshold on a computed value, found by moving one input
    blocks = [ln for ln in out.splitlines() if not ln.startswith("# ")]
    pasted = text + "\n".join(blocks) + "\n"
    # each suggested example has its own title, so they are told apart in the report
    rep = run_source(pasted, "pasted.policy")
    assert not rep.broken, [d.message for d in rep.diagnostics]
    assert len(rep.results) > 6
    assert all(r.passed for r in rep.results)


def test_suggest_without_an_example_writes_full_records(tmp_path, capsys):
    p = write(tmp_path, HEADER)
    code, out, _ = run(capsys, "--suggest", str(p))
    assert code == 0
    assert "given late = " in out and "rate = 4.99%" in out and "level = normal" in out
    pasted = HEADER + "\n".join(ln for ln in out.splitlines() if not ln.startswith("# ")) + "\n"
    rep = run_source(pasted)
    assert not rep.broken and rep.results and all(r.passed for r in rep.results)


def test_suggest_respects_the_inputs_precision_and_domain(tmp_path, capsys):
    p = write(tmp_path, """\
policy d
period month
input late : count in 0..10
input wait : duration
a = first late: <= 0 -> 10, <= 3 -> 5, else -> 0
b = first wait: <= 30s -> 1, else -> 0
""")
    code, out, _ = run(capsys, "--suggest", str(p))
    assert code == 0
    assert "late = -1" not in out  # below the domain: not proposed
    for v in ("late = 0,", "late = 1,", "late = 2,", "late = 3,", "late = 4,", "wait = 29s", "wait = 30s", "wait = 31s"):
        assert v in out, v


# ───────────────────────── the shipped policies ─────────────────────────


SHIPPED = sorted(POLICIES.rglob("*.policy"))


def test_every_shipped_policy_passes_its_examples(capsys):
    code, out, err = run(capsys, str(POLICIES))
    assert code == 0, out + err


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_policy_has_examples_covering_all_its_rows(path):
    rep = run_source(path.read_text(encoding="utf-8"), str(path))
    if rep.skipped:
        pytest.skip(rep.skipped)
    assert rep.results, f"{path.name} has no examples"
    rows = [p for p in rep.missed if p.kind == "row"]
    assert not rows, f"{path.name}: rows no example reaches: " + "; ".join(f"line {p.span.line} {p.text}" for p in rows)


@pytest.mark.parametrize("path", [p for p in SHIPPED if "presales_naive" not in p.name], ids=lambda p: p.name)
def test_shipped_examples_are_not_vacuous(path):
    """Changing any expected number of a shipped example makes that example fail."""
    text = path.read_text(encoding="utf-8")
    rep = run_source(text, str(path))
    checks = [c for r in rep.results for c in r.example.checks if isinstance(c.value, Fraction)]
    assert checks or not rep.results
    for c in checks[:12]:
        start, end = c.span.start, c.span.end
        written = text[start:end]
        m = re.search(r"(=|≈|~)\s*(-?[\d.]+)(%|s|min|h)?$", written)
        assert m, written
        bumped = written[: m.start(2)] + _bump(m.group(2)) + written[m.end(2):]
        mutated = text[:start] + bumped + text[end:]
        again = run_source(mutated, str(path))
        assert not again.broken, [d.message for d in again.diagnostics]
        assert any(not r.passed for r in again.results), f"{path.name}: `{written}` → `{bumped}` still passes"


def _bump(number: str) -> str:
    neg = number.startswith("-")
    digits = number.lstrip("-")
    places = len(digits.split(".")[1]) if "." in digits else 0
    out = str(Decimal(digits) + Decimal(1).scaleb(-places))
    return ("-" if neg else "") + out


def test_an_example_built_on_a_broken_example_reports_the_base_error_once():
    _, diags = check_source(HEADER + """\
example base:
    given lat = 0, rate = 3%, level = senior
    expect refund = 30
example x from base:
    given late = 1
    expect attendance = 15
""", "t.policy")
    assert [d.code for d in diags] == ["E601"]
