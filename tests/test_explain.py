"""Explanations say, in the policy's own names, how every value came about."""

import json
from decimal import Decimal
from pathlib import Path

import policyc

REPO = Path(__file__).resolve().parent.parent


def _cases(name):
    return json.loads((REPO / "tests" / "acceptance" / f"{name}.json").read_text("utf-8"), parse_float=Decimal)


def _explain(name, batch_index, record_index=0):
    policy = policyc.load(REPO / "policies" / f"{name}.policy")
    records = _cases(name)["batches"][batch_index]["records"]
    return policy.score_batch(records)[record_index].explain()


def test_items_show_the_row_matched_and_the_worked_arithmetic():
    text = _explain("taobao_aftersales", 0)
    assert "item refund = 30 of 30 pts" in text
    assert "row `<= 5% -> 30` matched" in text
    assert "refund_rate = 0.045 (4.5%)" in text
    assert "= 20 − 5 × 1 − 5 × 0 − 10 × 0 = 15" in text  # per-occurrence arithmetic, values filled in


def test_floors_clamps_and_rounding_are_said():
    worst = _explain("taobao_aftersales", 3)  # attendance floored at 0, total clamped to 0
    assert "is below 0, so it counts as 0" in worst
    passing = _explain("taobao_aftersales", 0)
    assert "rounded 930.76923076923076923077 to 930.77" in passing


def test_gates_list_what_failed_in_order():
    text = _explain("aftersales_veto", 2)
    assert "failed: refund_rate, refund_time, dispute_rate, dsr, internal_complaints" in text
    assert "failed = [refund_rate, refund_time, dispute_rate, dsr, internal_complaints]" in text


def test_team_values_and_zero_rules_are_explained():
    text = _explain("team_kpi_2024", 2, 0)  # zero denominators
    assert "a denominator is zero, so the value is 0 (`when zero`)" in text
