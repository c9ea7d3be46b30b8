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
