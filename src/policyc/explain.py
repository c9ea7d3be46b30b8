"""Explanations: one record's result, in the policy's own names and words."""

from __future__ import annotations

from fractions import Fraction

from . import ir
from . import runtime as rt
from .interp import Evaluator


def show(value, t: ir.Type | None = None) -> str:
    """A value as a person reads it (exact; percents also shown with %)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "n/a"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]" if value else "[] (none)"
    if isinstance(value, (int, Fraction)) or hasattr(value, "as_integer_ratio"):
        text = rt._fmt(rt.public_number(value, False))
        if t is not None and t.kind == "num" and t.dim is ir.Dim.TIME:
            text += " s"
        if t is not None and t.percent:
            pct = rt._fmt(rt.public_number(Fraction(value) * 100, False))
            text += f" ({pct}%)"
        return text
    return str(value)


def explain(batch, index: int, names=None) -> str:
    """Explain record `index` of a scored batch (only the values in `names`, if given)."""
    p: ir.Policy = batch.policy.ir
    rows = batch.rows()
    envs, traces = Evaluator(p).run(rows, trace_index=index)
    env = envs[index]
    row = rows[index]
    out = [f"{row.agent} · {row.period} — {p.name}" + (f" ({p.title})" if p.title else "")]
    out.append("")
    out.append("inputs")
    if names is not None:
        out = []
    for i in p.inputs if names is None else ():
        doc = f"  — {i.doc}" if i.doc else ""
        out.append(f"  {i.name} = {show(env[i.name], i.type)}{doc}")
    by_name = {d.name: d for d in p.definitions}
    ordered = sorted((d for d in p.definitions if d.kind != "hidden"), key=lambda d: (d.span.start, d.name))
    for d in ordered:
        if names is not None and d.name not in names:
            continue
        if out:
            out.append("")
        value = env[d.name]
        head = {"item": "item ", "pay": "pay ", "let": "let ", "label": "label "}.get(d.kind, "")
        line = f"{head}{d.name} = {show(value, d.type)}"
        if d.max is not None:
            line += f" of {show(d.max)} pts"
        if d.doc:
            line += f"  — {d.doc}"
        out.append(line)
        body = d.text.strip().splitlines()
        out.append("    " + body[0] if body else "")
        out.extend("    " + b.strip() for b in body[1:])
        refs = _refs(d.expr, by_name)
        if refs:
            out.append("    where " + ", ".join(f"{n} = {show(env[n], t)}" for n, t in refs))
        worked = _worked(d.expr, env)
        if worked is not None:
            out.append(f"    = {worked}")
        events = list(traces.get(d.name, []))
        for h in _hidden_of(d, p):
            events += traces.get(h, [])
        for event in dict.fromkeys(events):  # (a value read twice is said once)
            out.append("    → " + event)
    return "\n".join(out) + "\n"


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
_SYM = {"+": "+", "-": "−", "*": "×", "/": "÷"}


def _worked(e: ir.Expr, env: dict) -> str | None:
    """The formula's arithmetic with every value filled in, when it is plain arithmetic."""
    inner = e.operand if isinstance(e, (ir.Clamp, ir.Round)) else e
    if not isinstance(inner, (ir.Arith, ir.MinMax, ir.Mean)):
        return None
    text = _arith(inner, env, 0)
    if text is None:
        return None
    return text + " = " + show(_value_of(inner, env), inner.type)


def _arith(e: ir.Expr, env: dict, parent: int) -> str | None:
    if isinstance(e, ir.Const) and isinstance(e.value, Fraction):
        return show(e.value)
    if isinstance(e, ir.Load):
        return show(env[e.name])
    if isinstance(e, ir.Neg):
        x = _arith(e.operand, env, 3)
        return None if x is None else f"−{x}"
    if isinstance(e, ir.MinMax):
        args = [_arith(a, env, 0) for a in e.args]
        return None if None in args else f"{e.func}({', '.join(args)})"
    if isinstance(e, ir.Mean):
        args = [_arith(a, env, 0) for a in e.args]
        return None if None in args else f"mean({', '.join(args)})"
    if isinstance(e, ir.Arith):
        p = _PREC[e.op]
        left = _arith(e.left, env, p)
        right = _arith(e.right, env, p + (0 if e.op in "+*" else 1))
        if left is None or right is None:
            return None
        text = f"{left} {_SYM[e.op]} {right}"
        return f"({text})" if p < parent else text
    return None


def _value_of(e: ir.Expr, env: dict):
    """Evaluate plain arithmetic from the values already computed (exact)."""
    if isinstance(e, ir.Const):
        return e.value
    if isinstance(e, ir.Load):
        return env[e.name]
    if isinstance(e, ir.Neg):
        return -_value_of(e.operand, env)
    if isinstance(e, ir.MinMax):
        vals = [_value_of(a, env) for a in e.args]
        return min(vals) if e.func == "min" else max(vals)
    if isinstance(e, ir.Mean):
        vals = [_value_of(a, env) for a in e.args]
        return sum(vals, Fraction(0)) / len(vals)
    a, b = _value_of(e.left, env), _value_of(e.right, env)
    return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[e.op]()


def _refs(e: ir.Expr, by_name) -> list[tuple[str, ir.Type]]:
    seen: dict[str, ir.Type] = {}
    for n in ir.walk(e):
        if isinstance(n, ir.Load):
            if n.name in by_name and by_name[n.name].kind == "hidden":
                for m in _refs(by_name[n.name].expr, by_name):
                    seen.setdefault(*m)
            else:
                seen.setdefault(n.name, n.type)
        elif isinstance(n, ir.GateNames):
            for _, c in n.rows:
                for m in _refs(c, by_name):
                    seen.setdefault(*m)
        elif isinstance(n, (ir.Aggregate, ir.History)) and n.column and n.column in by_name \
                and by_name[n.column].kind == "hidden":
            for m in _refs(by_name[n.column].expr, by_name):
                seen.setdefault(*m)
    return list(seen.items())


def _hidden_of(d: ir.Definition, p: ir.Policy) -> list[str]:
    prefix = d.name + "·"
    return [h.name for h in p.definitions if h.kind == "hidden" and h.name.startswith(prefix)]
