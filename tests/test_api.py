"""The Python API (docs/architecture.md, "Python API"): load / loads, Policy,
manifest, score / score_batch, Result, RecordError / RecordIssue, and the
number rules (int for counts, Decimal otherwise, never float)."""

from __future__ import annotations

import csv
import json
import sys
import textwrap
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
POLICIES = REPO / "policies"
SAMPLES = POLICIES / "samples"

if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

import policyc  # noqa: E402

SAMPLE_POLICIES = (
    "aftersales_veto",
    "douyin_service",
    "pdd_deduction",
    "presales_tiers",
    "service_standard",
    "shop_pay",
    "taobao_aftersales",
    "team_kpi_2024",
)

TAOBAO_ITEMS = ("quality", "disputes", "cooperation", "execution", "refund", "attendance")

# A small policy whose inputs pass straight through to results.
PASSTHROUGH = textwrap.dedent("""\
    policy passthrough "直通"
    period month

    input amount : money          "金额"
    input n : count               "次数"
    input rate : percent          "比率"
    input x : number in 0..10     "系数"

    pay paid "实发" = amount
    copies = n + 1
    scaled = x * 2
    let doubled = rate * 2
    over = doubled > 50%
    """)


def _records(name: str) -> list[dict]:
    with open(SAMPLES / f"{name}.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _taobao_record(**changes) -> dict:
    rec = {"agent": "张伟", "period": "2026-11", "level": "normal", "quality_grade": "优",
           "disputes_grade": "良", "cooperation_grade": "优", "execution_grade": "良",
           "refund_rate": "0.045", "late": 1, "leave": 0, "absent": 0, "low_reviews": 0,
           "complaints": 0, "praises": 3, "complaint_points": 0, "standout": 0}
    rec.update(changes)
    return rec


def _pt_record(**changes) -> dict:
    rec = {"agent": "a", "period": "2026-01", "amount": "12.50", "n": 3, "rate": "0.3", "x": "1.1"}
    rec.update(changes)
    return rec


@pytest.fixture(scope="module")
def taobao():
    return policyc.load(POLICIES / "taobao_aftersales.policy")


@pytest.fixture(scope="module")
def passthrough():
    return policyc.loads(PASSTHROUGH)


def test_imports_the_repository_package():
    assert Path(policyc.__file__).resolve().is_relative_to(SRC.resolve())


# ───────────────────────── load / loads ─────────────────────────


def test_load_accepts_str_and_path(taobao):
    p = policyc.load(str(POLICIES / "taobao_aftersales.policy"))
    assert isinstance(p, policyc.Policy) and isinstance(taobao, policyc.Policy)
    assert p.name == taobao.name == "taobao_aftersales"


def test_policy_name_inputs_outputs(taobao):
    assert taobao.name == "taobao_aftersales"
    assert tuple(taobao.inputs) == (
        "level", "quality_grade", "disputes_grade", "cooperation_grade", "execution_grade",
        "refund_rate", "late", "leave", "absent", "low_reviews", "complaints", "praises",
        "complaint_points", "standout")
    assert tuple(taobao.outputs) == (*TAOBAO_ITEMS, "total", "qualified", "kpi_bonus", "base", "salary")


def test_loads(passthrough):
    assert passthrough.name == "passthrough"
    assert tuple(passthrough.inputs) == ("amount", "n", "rate", "x")
    # `let` values are not outputs
    assert tuple(passthrough.outputs) == ("paid", "copies", "scaled", "over")


def test_loads_error_raises_policy_error_with_diagnostics():
    text = "policy broken\nperiod month\ninput late : count\nscore = 10 - 1 per lat\n"
    with pytest.raises(policyc.PolicyError) as info:
        policyc.loads(text, "broken.policy")
    diags = info.value.diagnostics
    e201 = [d for d in diags if d.code == "E201"]
    assert len(e201) == 1
    d = e201[0]
    assert isinstance(d, policyc.Diagnostic)
    assert (d.span.file, d.span.line, d.span.column) == ("broken.policy", 4, 20)
    assert "lat" in d.message
    assert "E201" in str(info.value)  # the exception text is the rendered report


def test_load_error_names_the_file(tmp_path):
    path = tmp_path / "bad.policy"
    path.write_text("policy bad\nperiod fortnight\ninput late : count\nscore = 1 per late\n", encoding="utf-8")
    with pytest.raises(policyc.PolicyError) as info:
        policyc.load(path)
    assert any(d.code == "E103" for d in info.value.diagnostics)
    assert {d.span.file for d in info.value.diagnostics} == {str(path)}


def test_loads_syntax_error_is_a_policy_error():
    with pytest.raises(policyc.PolicyError) as info:
        policyc.loads("policy x\nperiod month\ninput late : count\nscore = = 1\n")
    assert info.value.diagnostics
    assert all(d.code.startswith("E") for d in info.value.diagnostics)


def test_loads_with_only_a_warning_succeeds():
    p = policyc.loads("policy w\nperiod month\ninput a, b : count\nscore = 1 per a\n")
    assert p.score({"agent": "x", "period": "2026-01", "a": 2, "b": 0})["score"] == 1 * 2


# ───────────────────────── manifest ─────────────────────────


def test_manifest_inputs(taobao):
    m = taobao.manifest()
    json.dumps(m, ensure_ascii=False)  # JSON-ready
    assert m["policy"] == "taobao_aftersales"
    inputs = {i["name"]: i for i in m["inputs"]}
    assert list(inputs) == list(taobao.inputs)

    level = inputs["level"]
    assert level["type"] == "choice" and level["labels"] == ["normal", "senior", "lead"]
    assert level["doc"] == "岗位级别"

    grade = inputs["quality_grade"]
    assert grade["type"] == "grade" and grade["labels"] == ["优", "良", "中", "差"] and grade["ordered"] is True
    assert grade["doc"] == "售后客服素质"

    refund = inputs["refund_rate"]
    assert refund["type"] == "percent" and refund["doc"] == "退款率"
    assert refund["unit"] and "0.85" in refund["unit"]
    assert refund["range"] == [["0", "1"]]

    late = inputs["late"]
    assert late["type"] == "count" and late["range"] == [["0", None]]

    standout = inputs["standout"]  # `points in 0 or 2..5`
    assert standout["type"] == "points" and standout["unit"] == "pts"
    assert standout["range"] == [["0", "0"], ["2", "5"]]
    assert standout["doc"] == "表现突出加分"


def test_manifest_units_of_other_kinds():
    m = policyc.load(POLICIES / "team_kpi_2024.policy").manifest()
    inputs = {i["name"]: i for i in m["inputs"]}
    assert inputs["avg_response"]["type"] == "duration" and inputs["avg_response"]["unit"] == "s"
    assert inputs["sales"]["type"] == "money" and inputs["sales"]["unit"] == "yuan"
    assert inputs["attitude"]["range"] == [["0", "10"]]
    assert inputs["bonus_pool"]["same_over"] == "team"
    assert m["cohorts"] == [{"name": "team", "by": ["team"]}]


def test_manifest_outputs(taobao):
    outputs = {o["name"]: o for o in taobao.manifest()["outputs"]}
    assert list(outputs) == list(taobao.outputs)
    for item in TAOBAO_ITEMS:
        assert outputs[item]["kind"] == "item"
    assert outputs["refund"]["max"] == "30"
    assert outputs["kpi_bonus"]["kind"] == "pay" and outputs["kpi_bonus"]["type"] == "money"
    assert outputs["salary"]["kind"] == "pay"
    assert outputs["qualified"]["type"] == "bool"
    assert outputs["total"]["doc"] == "总分"
    standing = {o["name"]: o for o in policyc.load(POLICIES / "pdd_deduction.policy").manifest()["outputs"]}["standing"]
    assert standing["type"] == "label" and standing["labels"] == ["penalty", "warning", "good"]


# ───────────────────────── score / Result ─────────────────────────


def test_score_result(taobao):
    r = taobao.score(_taobao_record())
    assert isinstance(r, policyc.Result)
    assert (r.agent, r.period) == ("张伟", "2026-11")
    assert list(r.outputs) == list(taobao.outputs)
    assert r["salary"] == Decimal("2930.77") and str(r["salary"]) == "2930.77"
    assert r["kpi_bonus"] == r.outputs["kpi_bonus"] == Decimal("930.77")
    assert r["total"] == 121 and r["qualified"] is True
    assert [r[i] for i in TAOBAO_ITEMS] == [20, 15, 20, 15, 30, 15]
    with pytest.raises(KeyError):
        r["no_such_value"]


def test_result_values_include_let_values():
    p = policyc.load(POLICIES / "pdd_deduction.policy")
    r = p.score_batch(_records("pdd_deduction"))[0]
    assert "slow" in r.values and "attitude" in r.values  # `let`s
    assert "slow" not in r.outputs and "attitude" not in r.outputs
    assert set(r.outputs) <= set(r.values)
    for k, v in r.outputs.items():
        assert r.values[k] == v
    assert r["attitude"] == -1  # 张伟: one attitude complaint
    assert r["score"] == Decimal("7.5")


def test_result_explain(taobao):
    text = taobao.score(_taobao_record()).explain()
    assert isinstance(text, str)
    for item in TAOBAO_ITEMS:
        assert f"item {item} = " in text
    assert "row `<= 5% -> 30` matched" in text
    assert "pay kpi_bonus = 930.77" in text
    assert "rounded 930.76923076923076923077 to 930.77 (step 0.01, half_up)" in text


def test_score_batch_in_input_order(taobao):
    recs = _records("taobao_aftersales")
    results = taobao.score_batch(recs)
    assert [(r.agent, r.period) for r in results] == [(x["agent"], x["period"]) for x in recs]
    assert [str(r["kpi_bonus"]) for r in results[:4]] == ["930.77", "0", "1000.00", "0"]
    assert taobao.score_batch([]) == []


def test_score_batch_accepts_any_iterable(taobao):
    recs = _records("taobao_aftersales")
    assert [r.outputs for r in taobao.score_batch(iter(recs))] == [r.outputs for r in taobao.score_batch(recs)]


def test_score_accepts_a_dict_subclass(taobao):
    # An OrderedDict is a dict: it must score exactly like a plain dict.
    rec = _taobao_record()
    assert taobao.score(OrderedDict(rec)).outputs == taobao.score(rec).outputs


def test_score_allow_extra(taobao):
    rec = _taobao_record(备注="x")
    with pytest.raises(policyc.RecordError) as info:
        taobao.score(rec)
    assert [e.field for e in info.value.errors] == ["备注"]
    assert taobao.score(rec, allow_extra=True).outputs == taobao.score(_taobao_record()).outputs


def test_team_ranks_from_score_batch():
    p = policyc.load(POLICIES / "team_kpi_2024.policy")
    results = p.score_batch(_records("team_kpi_2024"))
    ranks = {(r.agent, r.period): r["rank"] for r in results}
    assert ranks == {
        ("张三", "2026-09"): 1, ("李四", "2026-09"): 2, ("王五", "2026-09"): 4, ("赵六", "2026-09"): 2,
        ("张三", "2026-10"): 1, ("李四", "2026-10"): 2, ("王五", "2026-10"): 4, ("赵六", "2026-10"): 3,
        ("张三", "2026-11"): 1, ("李四", "2026-11"): 2, ("王五", "2026-11"): 4, ("赵六", "2026-11"): 2,
    }
    assert all(type(v) is int for v in ranks.values())
    # three months first in the team: the streak bonus, only in the third month
    bonus = {(r.agent, r.period): r["streak_bonus"] for r in results if r.agent == "张三"}
    assert bonus == {("张三", "2026-09"): 0, ("张三", "2026-10"): 0, ("张三", "2026-11"): 300}
    # the team's shares add up to 1 and the split adds back to the amount
    for period in ("2026-09", "2026-10", "2026-11"):
        team = [r for r in results if r.period == period]
        assert sum(r["share"] for r in team) == 1
    for r in results:
        assert r["pay_month_part"] + r["deferred_quarterly"] + r["deferred_annual"] == r["performance_pay"]


def test_team_rank_needs_the_whole_batch():
    p = policyc.load(POLICIES / "team_kpi_2024.policy")
    recs = _records("team_kpi_2024")
    alone = p.score(recs[2])  # 王五 is 4th in his team, but 1st when scored alone
    assert alone["rank"] == 1
    assert p.score_batch(recs)[2]["rank"] == 4


# ───────────────────────── number types ─────────────────────────


def _walk_numbers(value):
    if isinstance(value, list):
        for v in value:
            yield from _walk_numbers(v)
    else:
        yield value


@pytest.mark.parametrize("name", SAMPLE_POLICIES)
def test_values_are_int_decimal_bool_str_list_or_none(name):
    p = policyc.load(POLICIES / f"{name}.policy")
    kinds = {o["name"]: o["type"] for o in p.manifest()["outputs"]}
    numbers = {o["name"]: o.get("number") for o in p.manifest()["outputs"]}
    for r in p.score_batch(_records(name)):
        for k, v in r.values.items():
            for x in _walk_numbers(v):
                assert not isinstance(x, float), f"{name}.{k} is a float: {x!r}"
                assert x is None or type(x) in (int, Decimal, bool, str), f"{name}.{k}: {type(x).__name__} {x!r}"
                if isinstance(x, Decimal):
                    assert x.is_finite()
        for k, v in r.outputs.items():
            # each numeric output has one fixed Python type, stated by the manifest:
            # "integer" (the policy can only produce whole numbers) → int, "decimal" → Decimal
            if kinds[k] == "count":
                assert numbers[k] == "integer"
            if numbers[k] == "integer":
                assert type(v) is int, f"{name}.{k} is an integer output but {type(v).__name__} {v!r}"
            elif kinds[k] in ("money", "points", "number", "percent", "duration"):
                assert numbers[k] == "decimal"
                assert type(v) is Decimal, f"{name}.{k} is {kinds[k]} but {type(v).__name__} {v!r}"
            elif kinds[k] == "bool":
                assert type(v) is bool


def test_counts_are_int():
    p = policyc.load(POLICIES / "service_standard.policy")
    r = p.score_batch(_records("service_standard"))[0]
    assert type(r["met_count"]) is int and r["met_count"] == 5
    pdd = policyc.load(POLICIES / "pdd_deduction.policy").score_batch(_records("pdd_deduction"))
    assert all(type(x["excess_leave"]) is int for x in pdd)


def test_passthrough_types(passthrough):
    r = passthrough.score(_pt_record())
    assert type(r["paid"]) is Decimal and str(r["paid"]) == "12.50"
    assert type(r["copies"]) is int and r["copies"] == 4
    assert type(r["scaled"]) is Decimal and r["scaled"] == Decimal("2.2")
    assert type(r["doubled"]) is Decimal and r["doubled"] == Decimal("0.6")
    assert r["over"] is True


@pytest.mark.parametrize("given, expected", [
    (0.1, "0.1"),
    (1.1, "1.1"),
    (0.1 + 0.2, "0.30000000000000004"),  # its shortest repr, not the binary expansion
    (1e-7, "1E-7"),
    (12.5, "12.5"),
])
def test_float_input_is_read_by_its_shortest_repr(passthrough, given, expected):
    r = passthrough.score(_pt_record(amount=given))
    assert type(r["paid"]) is Decimal
    assert r["paid"] == Decimal(expected)


def test_float_input_that_is_exactly_a_bound(passthrough):
    x = passthrough.score(_pt_record(x=1.1))
    assert x["scaled"] == Decimal("2.2")  # binary 1.1 * 2 would be 2.2000000000000001776...
    taobao = policyc.load(POLICIES / "taobao_aftersales.policy")
    # binary 0.05 is 0.05000000000000000277 > 5%: read exactly it would miss the `<= 5%` row
    assert taobao.score(_taobao_record(refund_rate=0.05))["refund"] == 30
    assert taobao.score(_taobao_record(refund_rate=0.08))["refund"] == 20


def test_decimal_and_str_inputs(passthrough):
    a = passthrough.score(_pt_record(amount=Decimal("7.10")))
    b = passthrough.score(_pt_record(amount="7.10"))
    assert str(a["paid"]) == str(b["paid"]) == "7.10"


@pytest.mark.parametrize("field", ["amount", "n", "rate", "x"])
@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_a_number(passthrough, field, value):
    with pytest.raises(policyc.RecordError) as info:
        passthrough.score(_pt_record(**{field: value}))
    (issue,) = info.value.errors
    assert issue.field == field and issue.index == 0
    assert "bool" in issue.reason


@pytest.mark.parametrize("changes, field", [
    ({"amount": float("nan")}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": float("inf")}, "amount"),
    ({"amount": -1}, "amount"),
    ({"n": 1.5}, "n"),
    ({"n": -2}, "n"),
    ({"rate": 5}, "rate"),
    ({"x": 11}, "x"),
    ({"x": "abc"}, "x"),
    ({"x": None}, "x"),
    ({"period": "2026-13"}, "period"),
    ({"agent": ""}, "agent"),
])
def test_bad_values_are_rejected(passthrough, changes, field):
    with pytest.raises(policyc.RecordError) as info:
        passthrough.score(_pt_record(**changes))
    assert [e.field for e in info.value.errors] == [field]


def test_missing_field_is_rejected(passthrough):
    rec = _pt_record()
    del rec["rate"]
    with pytest.raises(policyc.RecordError) as info:
        passthrough.score(rec)
    assert [(e.index, e.field) for e in info.value.errors] == [(0, "rate")]


def test_a_record_that_is_not_a_dict_is_rejected(passthrough):
    with pytest.raises(policyc.RecordError):
        passthrough.score(["a", "2026-01"])


# ───────────────────────── RecordError ─────────────────────────


def test_record_error_lists_every_bad_record():
    p = policyc.load(POLICIES / "douyin_service.policy")
    recs = _records("douyin_service")
    good = [r.outputs for r in p.score_batch(recs)]
    recs[1]["first_reply_2min"] = "500"     # breaks `require first_reply_2min <= transferred`
    recs[3]["rated"] = "-1"                 # a negative count
    del recs[4]["agent"]                    # no agent
    recs[6]["period"] = "2026-11"           # not a half-month label
    recs[7]["five_star"] = "many"           # not a number
    with pytest.raises(policyc.RecordError) as info:
        p.score_batch(recs)
    errors = info.value.errors
    assert [e.index for e in errors] == [1, 3, 4, 6, 7]
    by_index = {e.index: e for e in errors}
    for e in errors:
        assert isinstance(e, policyc.RecordIssue)
        assert isinstance(e.reason, str) and e.reason
        assert e.field in e.fields

    c = by_index[1]
    assert (c.agent, c.period) == (recs[1]["agent"], recs[1]["period"])
    assert c.field in ("first_reply_2min", "transferred")
    assert set(c.fields) == {"first_reply_2min", "transferred"}  # every field the constraint spans

    assert (by_index[3].agent, by_index[3].field, by_index[3].fields) == (recs[3]["agent"], "rated", ("rated",))
    assert "negative" in by_index[3].reason
    assert by_index[4].agent is None and by_index[4].field == "agent"
    assert by_index[4].period == recs[4]["period"]
    assert by_index[6].field == "period" and by_index[6].period == "2026-11"
    assert by_index[7].field == "five_star" and by_index[7].agent == recs[7]["agent"]

    # nothing was scored, and the good records still score as before once fixed
    assert [r.outputs for r in p.score_batch(_records("douyin_service"))] == good


def test_record_error_for_several_fields_of_one_record(taobao):
    rec = _taobao_record(quality_grade="好", late=-1)
    del rec["level"]
    with pytest.raises(policyc.RecordError) as info:
        taobao.score(rec)
    assert {e.field for e in info.value.errors} == {"quality_grade", "late", "level"}
    assert {e.index for e in info.value.errors} == {0}


def test_duplicate_agent_and_period(taobao):
    recs = _records("taobao_aftersales")[:3] + [_records("taobao_aftersales")[1]]
    with pytest.raises(policyc.RecordError) as info:
        taobao.score_batch(recs)
    assert [(e.index, e.field) for e in info.value.errors] == [(3, "period")]


def test_team_level_input_must_agree_within_the_team():
    p = policyc.load(POLICIES / "team_kpi_2024.policy")
    recs = _records("team_kpi_2024")
    recs[1]["bonus_pool"] = "999"
    with pytest.raises(policyc.RecordError) as info:
        p.score_batch(recs)
    # nobody can know which value is right, so every record of that team and period is refused
    same_team = [i for i, r in enumerate(recs) if r["team"] == recs[1]["team"] and r["period"] == recs[1]["period"]]
    assert len(same_team) > 1
    assert [(e.index, e.field) for e in info.value.errors] == [(i, "bonus_pool") for i in same_team]
    assert all("999 in record 2" in e.reason for e in info.value.errors)


def test_compile_returns_module_source(taobao):
    src = taobao.compile()
    assert isinstance(src, str)
    assert "def score(" in src and "def score_batch(" in src and "class RecordError" in src
    assert "import policyc" not in src and "from policyc" not in src
