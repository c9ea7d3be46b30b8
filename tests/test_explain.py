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


def test_the_team_and_history_values_a_result_reads_are_shown():
    """A result that reads its team (a maximum, a sum, a rank) or its history (a streak, the
    period before) shows those values too, with the team and period they come from: HR can
    then redo `10 × 40 / 40` or see why the streak bonus was paid."""
    policy = policyc.load(REPO / "policies" / "team_kpi_2024.policy")
    with (REPO / "policies" / "samples" / "team_kpi_2024.csv").open(encoding="utf-8") as f:
        import csv

        records = [{k: (v or None) for k, v in r.items()} for r in csv.DictReader(f)]
    results = policy.score_batch(records)
    i = next(k for k, r in enumerate(records) if r["agent"] == "张三" and r["period"] == "2026-11")
    team = [r for r in records if r["team"] == records[i]["team"] and r["period"] == "2026-11"]
    best = max(int(r["good_reviews"]) for r in team)
    total = sum(Decimal(r["sales"]) for r in team)
    text = results[i].explain()
    where = f"over {len(team)} record(s): team {records[i]['team']}, period 2026-11"
    assert f"→ max(good_reviews over team) = {best}, {where}" in text
    assert f"→ sum(sales over team) = {policyc.runtime._fmt(total)}, {where}" in text
    assert f"→ rank(score over team) = {results[i].values['rank']}, {where}" in text
    assert "→ streak(rank = 1) = 3: period(s) in a row ending 2026-11" in text
    assert results[i].values["streak_bonus"] == 300


def test_the_period_before_is_shown_or_said_missing():
    policy = policyc.loads("policy p\nperiod month\ninput s : count\nup = s - (previous(s) when na 0)\n")
    records = [{"agent": "a", "period": "2026-10", "s": "4"}, {"agent": "a", "period": "2026-11", "s": "9"}]
    first, second = policy.score_batch(records)
    assert "→ previous(s) = n/a: no record of the period before" in first.explain()
    assert "→ previous(s) = 4, from period 2026-10" in second.explain()
