"""The manifest: what a policy reads and writes, for the tools that embed it."""

from __future__ import annotations

from fractions import Fraction

from . import ir
from .runtime import public_number

_UNITS = {"duration": "s", "money": "yuan", "percent": "fraction (0.85 = 85%)", "points": "pts"}


def _num(x: Fraction | None):
    return None if x is None else str(public_number(x, False))


def manifest(p: ir.Policy) -> dict:
    """Return a JSON-ready description of the policy's inputs and outputs."""
    inputs = []
    for i in p.inputs:
        entry = {"name": i.name, "type": i.kind, "doc": i.doc, "unit": _UNITS.get(i.kind)}
        if i.type.kind == "label":
            entry["labels"] = list(i.type.labels)
            entry["ordered"] = i.type.ordered
        if i.domain:
            entry["range"] = [[_num(lo), _num(hi)] for lo, hi in i.domain]
        elif i.kind in ("count", "duration", "money"):
            entry["range"] = [["0", None]]
        elif i.kind == "percent":
            entry["range"] = [["0", "1"]]
        entry["na_allowed"] = i.na
        if i.same_over:
            entry["same_over"] = i.same_over
        inputs.append(entry)
    outputs = []
    for name in p.outputs:
        d = p.definition(name)
        t = d.type
        entry = {"name": name, "kind": d.kind, "type": _type_name(d), "doc": d.doc}
        if t.kind == "num":
            # the Python type of this output's values: int when the policy can only produce whole numbers
            entry["number"] = "integer" if t.repr is ir.Repr.INT else "decimal"
        if d.max is not None:
            entry["max"] = _num(d.max)
        if t.kind == "label":
            entry["labels"] = list(t.labels)
        outputs.append(entry)
    return {
        "policy": p.name,
        "title": p.title,
        "period": p.period,
        "source": p.source,
        "record_keys": ["agent", "period"],
        "cohorts": [{"name": c.name, "by": list(c.keys)} for c in p.cohorts],
        "inputs": inputs,
        "outputs": outputs,
    }


def _type_name(d: ir.Definition) -> str:
    t = d.type
    if t.kind == "num":
        if d.kind == "pay" or t.dim is ir.Dim.MONEY:
            return "money"
        if d.kind == "item":
            return "points"
        if t.dim is ir.Dim.TIME:
            return "duration"
        if t.count:
            return "count"
        if t.percent:
            return "percent"
        return "number"
    return {"bool": "bool", "label": "label", "text": "text", "list": "list"}[t.kind]
