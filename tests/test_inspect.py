"""`policyc inspect`: the range every value can take, over all valid records."""

import json
import subprocess
import sys
from pathlib import Path

import policyc
from policyc.ranges import describe

REPO = Path(__file__).resolve().parent.parent


def _ranges(name):
    return {r["name"]: r["range"] for r in describe(policyc.load(REPO / "policies" / f"{name}.policy").ir)}


def test_items_totals_and_counts_have_their_proven_ranges():
    r = _ranges("service_standard")
    assert r["met_count"] == "[0, 6]"          # count of six conditions
    assert r["bonus"] == "[0, 10]"             # `at most 10` over non-negative per-occurrence points
    assert r["score"] == "[0, 100]"            # clamp 0 .. 100
    assert r["rating"] == "excellent | good | pass | fail"
    assert r["avg_first_response"] == "[0 s, ∞)"


def test_percent_and_item_ranges():
    r = _ranges("taobao_aftersales")
    assert r["refund_rate"] == "[0%, 100%]"
    assert r["refund"] == "[0, 30]" and r["attendance"] == "[0, 20]"
    assert r["total"] == "[0, 130]"


def test_inspect_command_json():
    proc = subprocess.run([sys.executable, "-m", "policyc", "inspect", "--format", "json",
                           str(REPO / "policies" / "shop_pay.policy")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["base"]["range"] == "2200" and rows["base"]["kind"] == "pay"
    assert rows["retention_risk"]["range"] == "true or false"


# ───────────────────────── ranges of quotients, cohort values and tables ─────────────────────────


def _ranges_of_text(text: str) -> dict:
    from policyc.compiler import check_source
    from policyc.ranges import Ranges

    p, diags = check_source(text, "r.policy")
    assert p is not None, [d.message for d in diags]
    r = Ranges(p)
    return {d.name: r.of_name(d.name) for d in p.definitions if d.kind != "hidden"}


def test_ranges_of_a_value_over_its_cohort_maximum_and_share():
    from fractions import Fraction as F

    got = _ranges_of_text("""policy r
period month
cohort team by team
input team : text
input sales, refunds : money
input calls : count
a = 10 * sales / max(sales over team) when zero 0
b = share(sales over team) when zero 0
c = refunds / calls when zero 0
d = mean(calls, 10)
e = -1 per calls
f = linear calls:
    0 -> 5
    10 -> 20
""")
    assert got["a"] == (F(0), F(10))
    assert got["b"] == (F(0), F(1))
    assert got["c"] == (F(0), None)          # a whole count ≥ 1 when not zero: at most refunds
    assert got["d"] == (F(0), None)
    assert got["e"] == (None, F(0))
    assert got["f"] == (F(5), F(20))


def test_a_quotient_by_a_value_that_can_cross_zero_has_no_range():
    got = _ranges_of_text("""policy r
period month
input x : points
input y : points
q = x / y when zero 0
""")
    assert got["q"] is None


def test_a_table_row_is_read_where_it_is_taken():
    """`first x:` takes a row when its condition holds and no earlier one did: the row's result
    is bounded with x there, not over all of x (the deduction below is at most 20, not
    unbounded; `policyc test --min-coverage` then asks for no clamp no record can reach), and an
    `if` branch likewise. (The same policy is a feature every engine is tested on.)"""
    from fractions import Fraction as F

    from test_properties import FEATURES

    got = _ranges_of_text(FEATURES["feat_narrowed_rows"])
    assert got["d"] == (F(-20), F(0))      # the second row: c in [1, 2]
    assert got["ci"] == (F(20), F(40))
    assert got["e"] == (F(0), F(10))       # late in [0, 4] on the first branch
    assert got["g"] == (F(0), F(5))        # rate in [0, 5%] on the first row
    assert got["h"] == (F(0), F(12))       # 3x for x in (1, 4]
    assert got["m"] == (F(0), F(3))        # 5 − late for late in [2, 5]
    assert got["never"] == (F(0), F(0))    # the first branch is never taken
