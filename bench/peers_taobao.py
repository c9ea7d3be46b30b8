"""`taobao_aftersales` written for the tools a team might pick instead of policyc.

Each is written the way that tool's users write rules - its own number type,
its own rounding - so the comparison shows both speed and what comes out:

- **zen-engine** (GoRules JDM, `pip install zen-engine`): a decision graph of a
  decision table (refund bands, first hit) and expression nodes, evaluated per
  record with `ZenDecision.evaluate(context)`. ZEN computes in 96-bit decimals
  (`rust_decimal`, 28 digits) but its Python binding takes the context as
  Python/JSON numbers and returns non-integers as binary floats; `round(x, 2)`
  rounds half away from zero.
- **json-logic** (`json-logic-qubit`, the Python port of json-logic-js): one
  rule per output, evaluated in order with each result added to the data (JSON
  logic has no variables); Python floats throughout; JSON logic has no
  rounding, so `round2` is added as a custom operation written as JavaScript
  users write it, `Math.round(x * 100) / 100` (here `math.floor(x * 100 + 0.5) / 100`).
- **OpenFisca** (`openfisca-core`): a minimal tax-benefit system (one person
  entity, monthly variables, the scheme's formulas vectorised with NumPy),
  inputs set with `set_input`, outputs with `calculate`. Labels are OpenFisca
  Enums (an unknown label raises); numbers are OpenFisca `float` (NumPy
  float32) and `int` (int32); `round` is NumPy's `round` (half to even).

None of the three validates records as policyc does (missing fields, domains,
the `require` line, duplicates): their timings do not include validation.
Their outputs are compared with policyc's after rounding to the cent
(`differences`), and every difference is counted, not hidden.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

OUTPUTS = ("quality", "refund", "disputes", "cooperation", "execution", "attendance",
           "total", "qualified", "kpi_bonus", "base", "salary")
GRADE_POINTS = {"优": 20, "良": 15, "中": 10, "差": 0}
BASE = {"normal": 2000, "senior": 2500, "lead": 3000}


def float_record(record: dict) -> dict:
    """What these tools take: JSON numbers (floats for decimals)."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in record.items()}


# ---------------------------------------------------------------- zen-engine


def _node(id_, type_, name, content=None):
    node = {"id": id_, "type": type_, "name": name, "position": {"x": 0, "y": 0}}
    if content is not None:
        node["content"] = content
    return node


def _grade(field):
    return (f'{field} == "优" ? 20 : {field} == "良" ? 15 : {field} == "中" ? 10 : '
            f'{field} == "差" ? 0 : null')


def jdm_graph() -> dict:
    """The scheme as a JDM decision graph: request → refund table → items →
    total → pay → response, every node passing its input through."""
    refund_rules = [("<= 0.05", "30"), ("<= 0.08", "20"), ("<= 0.1", "10"), ("", "0")]
    table = {
        "hitPolicy": "first",
        "passThrough": True,
        "inputs": [{"id": "in_rate", "name": "refund rate", "field": "refund_rate"}],
        "outputs": [{"id": "out_refund", "name": "refund", "field": "refund"}],
        "rules": [{"_id": f"r{k}", "in_rate": cond, "out_refund": value}
                  for k, (cond, value) in enumerate(refund_rules)],
    }
    items = [
        ("quality", _grade("quality_grade")),
        ("disputes", _grade("disputes_grade")),
        ("cooperation", _grade("cooperation_grade")),
        ("execution", _grade("execution_grade")),
        ("attendance", "max([0, 20 - 5 * late - 5 * leave - 10 * absent])"),
        ("base", 'level == "normal" ? 2000 : level == "senior" ? 2500 : '
                 'level == "lead" ? 3000 : null'),
    ]
    total = [("total", "min([130, max([0, quality + disputes + cooperation + execution + refund"
                       " + attendance - 5 * low_reviews - complaint_points + 2 * praises"
                       " + standout])])"),
             ("qualified", "$.total >= 0.7 * 130")]   # `$.x`: a value of this same node
    pay = [("kpi_bonus", "qualified ? round(1000 * total / 130, 2) : 0"),
           ("salary", "base + $.kpi_bonus")]

    def expr_node(id_, name, pairs):
        return _node(id_, "expressionNode", name, {
            "passThrough": True,
            "expressions": [{"id": f"{id_}_{k}", "key": key, "value": value}
                            for k, (key, value) in enumerate(pairs)],
        })

    nodes = [
        _node("request", "inputNode", "request"),
        _node("refund_table", "decisionTableNode", "refund", table),
        expr_node("items", "items", items),
        expr_node("total", "total", total),
        expr_node("pay", "pay", pay),
        _node("response", "outputNode", "response"),
    ]
    order = ["request", "refund_table", "items", "total", "pay", "response"]
    edges = [{"id": f"e{k}", "sourceId": a, "targetId": b, "type": "edge"}
             for k, (a, b) in enumerate(zip(order, order[1:]))]
    return {"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}


def zen_scorer():
    import zen

    decision = zen.ZenEngine().create_decision(json.dumps(jdm_graph()))

    def score(record: dict) -> dict:
        return decision.evaluate(record)["result"]

    return score


# ---------------------------------------------------------------- json-logic


def _jl_grade(field):
    return {"if": [{"==": [{"var": field}, "优"]}, 20,
                   {"==": [{"var": field}, "良"]}, 15,
                   {"==": [{"var": field}, "中"]}, 10, 0]}


def json_logic_rules() -> list[tuple[str, dict]]:
    v = lambda name: {"var": name}  # noqa: E731
    return [
        ("quality", _jl_grade("quality_grade")),
        ("disputes", _jl_grade("disputes_grade")),
        ("cooperation", _jl_grade("cooperation_grade")),
        ("execution", _jl_grade("execution_grade")),
        ("refund", {"if": [{"<=": [v("refund_rate"), 0.05]}, 30,
                           {"<=": [v("refund_rate"), 0.08]}, 20,
                           {"<=": [v("refund_rate"), 0.1]}, 10, 0]}),
        ("attendance", {"max": [0, {"-": [20, {"+": [{"*": [5, v("late")]},
                                                      {"*": [5, v("leave")]},
                                                      {"*": [10, v("absent")]}]}]}]}),
        ("total", {"min": [130, {"max": [0, {"+": [
            v("quality"), v("disputes"), v("cooperation"), v("execution"), v("refund"),
            v("attendance"), {"*": [-5, v("low_reviews")]}, {"*": [-1, v("complaint_points")]},
            {"*": [2, v("praises")]}, v("standout")]}]}]}),
        ("qualified", {">=": [v("total"), {"*": [0.7, 130]}]}),
        ("kpi_bonus", {"if": [v("qualified"), {"round2": [{"/": [{"*": [1000, v("total")]}, 130]}]},
                              0]}),
        ("base", {"if": [{"==": [v("level"), "normal"]}, 2000,
                         {"==": [v("level"), "senior"]}, 2500, 3000]}),
        ("salary", {"+": [v("base"), v("kpi_bonus")]}),
    ]


def json_logic_scorer():
    import json_logic

    json_logic.add_operation("round2", lambda x: math.floor(x * 100 + 0.5) / 100)
    rules = json_logic_rules()
    evaluate = json_logic.jsonLogic

    def score(record: dict) -> dict:
        data = dict(record)
        out = {}
        for name, rule in rules:
            out[name] = data[name] = evaluate(rule, data)
        return out

    return score


# ---------------------------------------------------------------- OpenFisca


def openfisca_system():
    """A minimal OpenFisca tax-benefit system computing the scheme's formulas."""
    from openfisca_core.entities import build_entity
    from openfisca_core.indexed_enums import Enum
    from openfisca_core.periods import DateUnit
    from openfisca_core.taxbenefitsystems import TaxBenefitSystem
    from openfisca_core.variables import Variable

    Agent = build_entity(key="agent", plural="agents", label="customer-service agent",
                         is_person=True)
    MONTH = DateUnit.MONTH

    class Grade(Enum):
        优 = "优"
        良 = "良"
        中 = "中"
        差 = "差"

    class Level(Enum):
        normal = "normal"
        senior = "senior"
        lead = "lead"

    def var(name, value_type, formula=None, **kw):
        attrs = {"value_type": value_type, "entity": Agent, "definition_period": MONTH,
                 "label": name, **kw}
        if formula is not None:
            attrs["formula"] = formula
        return type(name, (Variable,), attrs)

    def grade_item(field):
        def formula(agent, period):
            g = agent(field, period)
            return np.select([g == Grade.优, g == Grade.良, g == Grade.中], [20, 15, 10], 0)
        return formula

    def refund(agent, period):
        r = agent("refund_rate", period)
        return np.select([r <= 0.05, r <= 0.08, r <= 0.1], [30, 20, 10], 0)

    def attendance(agent, period):
        return np.maximum(0, 20 - 5 * agent("late", period) - 5 * agent("leave", period)
                          - 10 * agent("absent", period))

    def total(agent, period):
        t = (agent("quality", period) + agent("disputes", period) + agent("cooperation", period)
             + agent("execution", period) + agent("refund", period)
             + agent("attendance", period) - 5 * agent("low_reviews", period)
             - agent("complaint_points", period) + 2 * agent("praises", period)
             + agent("standout", period))
        return np.clip(t, 0, 130)

    def qualified(agent, period):
        return agent("total", period) >= 0.7 * 130

    def kpi_bonus(agent, period):
        return np.where(agent("qualified", period),
                        np.round(1000 * agent("total", period) / 130, 2), 0)

    def base(agent, period):
        lv = agent("level", period)
        return np.select([lv == Level.normal, lv == Level.senior], [2000, 2500], 3000)

    def salary(agent, period):
        return agent("base", period) + agent("kpi_bonus", period)

    variables = [
        var("level", Enum, possible_values=Level, default_value=Level.normal),
        *(var(g, Enum, possible_values=Grade, default_value=Grade.差)
          for g in ("quality_grade", "disputes_grade", "cooperation_grade", "execution_grade")),
        var("refund_rate", float),
        *(var(c, int) for c in ("late", "leave", "absent", "low_reviews", "complaints",
                                "praises")),
        var("complaint_points", float), var("standout", float),
        var("quality", int, grade_item("quality_grade")),
        var("disputes", int, grade_item("disputes_grade")),
        var("cooperation", int, grade_item("cooperation_grade")),
        var("execution", int, grade_item("execution_grade")),
        var("refund", int, refund), var("attendance", int, attendance),
        var("total", float, total), var("qualified", bool, qualified),
        var("kpi_bonus", float, kpi_bonus), var("base", int, base),
        var("salary", float, salary),
    ]
    tbs = TaxBenefitSystem([Agent])
    tbs.add_variables(*variables)
    return tbs


OPENFISCA_INPUTS = ("level", "quality_grade", "disputes_grade", "cooperation_grade",
                    "execution_grade", "refund_rate", "late", "leave", "absent",
                    "low_reviews", "complaints", "praises", "complaint_points", "standout")


def openfisca_inputs(frame) -> dict:
    """Columns as OpenFisca takes them: label strings, floats, ints (prepared once,
    outside the timed part)."""
    import polars as pl

    cols = {}
    for name in OPENFISCA_INPUTS:
        s = frame.get_column(name)
        if s.dtype == pl.String or s.dtype == pl.Categorical:
            cols[name] = np.array(s.cast(pl.String).to_list())
        elif isinstance(s.dtype, pl.Decimal):
            cols[name] = s.cast(pl.Float64).to_numpy()
        else:
            cols[name] = s.to_numpy()
    return cols


def openfisca_score(tbs, cols: dict, period: str = "2025-01") -> dict:
    from openfisca_core.simulations import SimulationBuilder

    n = len(cols["level"])
    sim = SimulationBuilder().build_default_simulation(tbs, n)
    for name, values in cols.items():
        sim.set_input(name, period, values)
    return {name: sim.calculate(name, period) for name in OUTPUTS}


# ---------------------------------------------------------------- comparing


def cents(x) -> Decimal:
    """A float / int / Decimal to 0.01, half-up (to compare float outputs)."""
    if isinstance(x, bool):
        return Decimal(int(x))
    if isinstance(x, (float, np.floating)):
        x = Decimal(repr(float(x)))
    return Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def differences(rows, want_rows) -> dict:
    """Per output, how many records differ from policyc after rounding to the cent."""
    diff = {o: 0 for o in OUTPUTS}
    records = 0
    for row, want in zip(rows, want_rows):
        bad = False
        for o in OUTPUTS:
            got, w = row.get(o), want[o]
            if isinstance(w, bool):
                same = bool(got) == w
            else:
                same = got is not None and cents(got) == cents(w)
            if not same:
                diff[o] += 1
                bad = True
        records += bad
    diff["records"] = records
    return diff


def openfisca_rows(result: dict) -> list[dict]:
    cols = {o: result[o].tolist() for o in OUTPUTS}
    return [dict(zip(OUTPUTS, row)) for row in zip(*(cols[o] for o in OUTPUTS))]
