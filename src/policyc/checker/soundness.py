"""Soundness: what the ranges of the policy's values prove about its totals, gates and clamps.

* E313 — the items' maxima do not add up to the declared `total N pts`, or the
  percent weights of a `weighted` score do not add up to 100%;
* W403 — a condition (a gate row, an `if`, a true/false output) that holds for
  every valid record, or for none: a gate that can never pass or never fail;
* W407 — an item whose formula can never reach the item's maximum (`item a 30 pts =
  30 - 5 per late at most 10` caps the whole formula at 10, not the deduction): its
  points are not what the scheme says it is worth, nor is the total of the maxima;
* W408 — weights written inline (`60% × a + 20% × b + 10% × c`) that do not add up to 100%;
* I501 — a top-level clamp that some records reach: the formula alone can leave
  the bounds (information; usually intended, e.g. "deduct until nothing is left").
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from .. import ast, ir
from ..diagnostics import Diagnostic, Note, Span
from ..ranges import Ranges
from .coverage import _show


def check_soundness(policy: ir.Policy, total: tuple[Fraction, Span] | None,
                    diagnostics: list[Diagnostic]) -> None:
    """Append the findings above for a checked policy."""
    ranges = Ranges(policy)
    items = [d for d in policy.definitions if d.kind == "item"]
    if total is not None and items:
        declared, span = total
        got = sum((d.max for d in items), Fraction(0))
        if got != declared:
            diagnostics.append(Diagnostic(
                code="E313",
                message=f"the items' maxima add up to {_num(got)} pts, but the policy declares "
                        f"`total {_num(declared)} pts`",
                span=span, label="does not add up",
                notes=tuple(Note(message=f"`{d.name}` is worth {_num(d.max)} pts", span=d.span) for d in items),
                suggestion="correct an item's maximum or the declared total",
            ))
    for d in items:
        _never_full(d, ranges, diagnostics)
    for d in policy.definitions:
        for node in ir.walk(d.expr):
            if isinstance(node, ir.Weighted):
                _weights(node, diagnostics)
        _conditions(d, ranges, diagnostics)
        if isinstance(d.expr, ir.Clamp) and d.kind not in ("hidden", "item"):  # items: [0, max] is their meaning
            _clamp(d, ranges, diagnostics)


def _num(v: Fraction) -> str:
    from ..runtime import _fmt, public_number

    return _fmt(public_number(v, False))


def _weights(node: ir.Weighted, diagnostics: list[Diagnostic]) -> None:
    total = sum((w for w, _ in node.rows), Fraction(0))
    if total != 1 and all(w < 1 for w, _ in node.rows):
        diagnostics.append(Diagnostic(
            code="E313",
            message=f"the weights add up to {_num(total * 100)}%, not 100%",
            span=node.span, label="weights do not add up",
            suggestion="make the weights add up to 100% (N/A criteria are re-scaled automatically)",
        ))


def _conditions(d: ir.Definition, ranges: Ranges, diagnostics: list[Diagnostic]) -> None:
    """Comparisons outside tables whose outcome the ranges already decide."""
    table_conds = {id(r.cond) for n in ir.walk(d.expr) if isinstance(n, ir.Cases) for r in n.rows}
    table_conds |= {id(c) for n in ir.walk(d.expr) if isinstance(n, ir.Cases)
                    for r in n.rows for c in ir.walk(r.cond)}
    for node in ir.walk(d.expr):
        if not isinstance(node, ir.Compare) or id(node) in table_conds or len(node.ops) != 1:
            continue
        a, b = node.operands
        if a.type.kind != "num" or b.type.kind != "num":
            continue
        ra, rb = ranges.of(a), ranges.of(b)
        if ra is None or rb is None:
            continue
        verdict = _decide(node.ops[0], ra, rb)
        if verdict is None:
            continue
        what = "holds for every valid record" if verdict else "can never hold"
        diagnostics.append(Diagnostic(
            code="W403",
            message=f"this condition {what}: the left side is always {_phrase(ra, a.type)} "
                    f"and the right side {_phrase(rb, b.type)}",
            span=node.span, label="always true" if verdict else "never true",
            suggestion="check the threshold against what the values can really be (a percent is 0% to 100%)",
        ))


def _decide(op: str, a, b) -> bool | None:
    """True/False if `a op b` is decided for every pair of values in the two ranges."""
    alo, ahi = a
    blo, bhi = b

    def lt(x, y):  # x < y for sure (None bounds are infinite)
        return x is not None and y is not None and x < y

    def le(x, y):
        return x is not None and y is not None and x <= y

    if op == "<":
        return True if lt(ahi, blo) else False if le(bhi, alo) else None
    if op == "<=":
        return True if le(ahi, blo) else False if lt(bhi, alo) else None
    if op == ">":
        return True if lt(bhi, alo) else False if le(ahi, blo) else None
    if op == ">=":
        return True if le(bhi, alo) else False if lt(ahi, blo) else None
    if op == "=":
        if lt(ahi, blo) or lt(bhi, alo):
            return False
        return True if alo is not None and alo == ahi == blo == bhi else None
    if op == "!=":
        if lt(ahi, blo) or lt(bhi, alo):
            return True
        return False if alo is not None and alo == ahi == blo == bhi else None
    return None


def _range_text(r, t: ir.Type) -> str:
    lo, hi = r
    if lo is not None and lo == hi:
        return _show(lo, t)
    left = "(-∞" if lo is None else "[" + _show(lo, t)
    right = "∞)" if hi is None else _show(hi, t) + "]"
    return f"{left}, {right}"


def _phrase(r, t: ir.Type) -> str:
    text = _range_text(r, t)
    return text if r[0] is not None and r[0] == r[1] else "in " + text


def check_inline_weights(policy: ast.Policy, result: ir.Policy, diagnostics: list[Diagnostic]) -> None:
    """W408: a sum whose every term is a percent written with `%` times a value that is no amount
    of money or time (`60% × a + 20% × b + 10% × c`) is a weighted score; its weights should add
    up to 100%. Rates of money (`5% of sales + 2% of upsell`: commissions) are not weights."""
    kinds = {i.name: i.type for i in result.inputs} | {d.name: d.type for d in result.definitions}

    def weight(term):
        if not (isinstance(term, ast.Binary) and term.op in (ast.BinOp.MUL, ast.BinOp.OF)):
            return None
        for w, x in ((term.left, term.right), (term.right, term.left)):
            if isinstance(w, ast.Number) and w.unit == "%" and isinstance(x, ast.Ref):
                t = kinds.get(x.name.id)
                if t is not None and t.kind == "num" and t.dim is ir.Dim.NONE:
                    return w.value
        return None

    def terms(e):
        if isinstance(e, ast.Binary) and e.op is ast.BinOp.ADD:
            return terms(e.left) + terms(e.right)
        return [e]

    def visit(e, in_sum: bool):
        if isinstance(e, ast.Binary) and e.op is ast.BinOp.ADD and not in_sum:
            parts = terms(e)
            weights = [weight(t) for t in parts]
            if len(parts) >= 2 and None not in weights and sum(weights) != 1:
                diagnostics.append(Diagnostic(
                    code="W408",
                    message=f"the weights add up to {_num(sum(weights) * 100)}%, not 100%",
                    span=e.span, label="weights do not add up",
                    suggestion="make the weights add up to 100% (or write the score as a `weighted:` block, "
                               "which re-scales N/A criteria)",
                ))
        if attrs.has(type(e)):
            for f in attrs.fields(type(e)):
                if f.name != "span":
                    visit(getattr(e, f.name), isinstance(e, ast.Binary) and e.op is ast.BinOp.ADD)
        elif isinstance(e, tuple):
            for x in e:
                visit(x, False)

    for st in policy.statements:
        if isinstance(st, ast.Definition):
            visit(st.body, False)


def _never_full(d: ir.Definition, ranges: Ranges, diagnostics: list[Diagnostic]) -> None:
    """W407: the item's greatest value over every valid record is below its maximum."""
    got = ranges.of(d.expr)
    if got is None or got[1] is None or got[1] >= d.max:
        return
    formula = d.expr.operand if isinstance(d.expr, ir.Clamp) else d.expr  # (an item's own [0, max])
    capped = isinstance(formula, ir.Clamp) and formula.hi is not None
    diagnostics.append(Diagnostic(
        code="W407",
        message=f"`{d.name}` is worth {_num(d.max)} pts, but it can never score more than {_num(got[1])}",
        span=d.span, label=f"never reaches {_num(d.max)}",
        suggestion="a cap (`at most`) applies to the whole formula before it: to cap one term only, put the "
                   "term and its cap in parentheses (`30 - (5 per late at most 10)`)" if capped else
                   "check the formula's values, or declare the maximum the item can reach",
    ))


def _clamp(d: ir.Definition, ranges: Ranges, diagnostics: list[Diagnostic]) -> None:
    e: ir.Clamp = d.expr
    inner = ranges.of(e.operand)
    if inner is None:
        return
    lo = ranges.of(e.lo) if e.lo is not None else None
    hi = ranges.of(e.hi) if e.hi is not None else None
    below = lo is not None and lo[1] is not None and (inner[0] is None or inner[0] < lo[1])
    above = hi is not None and hi[0] is not None and (inner[1] is None or inner[1] > hi[0])
    if not (below or above):
        return
    what = f"`{d.name}`"
    diagnostics.append(Diagnostic(
        code="I501",
        message=f"before its bounds, {what} can be anywhere in {_range_text(inner, e.type)}; "
                f"the bounds decide for the records outside them",
        span=d.span, label="bounds apply",
    ))
