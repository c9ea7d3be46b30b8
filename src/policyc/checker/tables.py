"""Tables: lower each table kind to IR, checking that its rows fit the kind."""

from __future__ import annotations

from fractions import Fraction

import attrs

from .. import ast, ir
from ..diagnostics import did_you_mean
from ..ir import BOOL, Repr, Type
from .lower import CMP, Lowerer, _const_value
from .types import ERROR


def lower_table(lw: Lowerer, t: ast.Table, d: ast.Definition) -> ir.Expr | None:
    """Lower one table body; None if it has errors (already reported)."""
    k = t.kind
    if k in (ast.TableKind.FIRST, ast.TableKind.RANGE):
        return _cases(lw, t)
    if k is ast.TableKind.MAP:
        return _label_map(lw, t)
    if k is ast.TableKind.LINEAR:
        return _linear(lw, t)
    if k is ast.TableKind.MARGINAL:
        return _marginal(lw, t)
    if k is ast.TableKind.WEIGHTED:
        return _weighted(lw, t)
    return _gate(lw, t)


def _subject(lw: Lowerer, t: ast.Table) -> ir.Expr | None:
    s = lw.expr(t.subject)
    if s.type.kind == "error":
        return None
    if not isinstance(s, (ir.Load, ir.Const)):
        name = lw.column(s, t.subject.span)
        s = ir.Load(name=name, type=s.type, span=t.subject.span)
    return s


def _results(lw: Lowerer, rows, hint=None):
    """Lower row results and join their types."""
    out = []
    typ = None
    for r in rows:
        e = lw.expr(r.result, hint)
        out.append(e)
        if e.type.kind == "error":
            typ = ERROR
            continue
        typ = e.type if typ is None else lw.join(typ, e.type, r.result.span, "the results of this table's rows")
        if typ.kind == "label" and hint is None and not lw.s.label_def:
            hint = typ
    return out, typ


def _cases(lw: Lowerer, t: ast.Table) -> ir.Expr | None:
    subject = None
    if t.subject is not None:
        subject = _subject(lw, t)
        if subject is None:
            return None
        if subject.type.kind != "num" and t.kind is ast.TableKind.RANGE:
            lw.error("E305", f"a range table needs a number, but `{lw.text(t.subject.span)}` is "
                     f"{subject.type.describe()}", t.subject.span)
            return None
    rows = []
    other = None
    body_rows = [r for r in t.rows if not isinstance(r, ast.ElseRow)]
    elses = [r for r in t.rows if isinstance(r, ast.ElseRow)]
    for extra in elses[1:]:
        lw.error("E305", "a table has at most one `else` row", extra.span)
    if elses and t.rows[-1] is not elses[0] and t.kind is ast.TableKind.FIRST:
        lw.error("E305", "`else` must be the last row: the rows after it can never be reached", elses[0].span)
    results, typ = _results(lw, list(body_rows) + elses[:1])
    ok = typ is not None and typ.kind != "error"
    for r, res in zip(body_rows, results):
        cond = _row_condition(lw, r, subject)
        if cond is None:
            ok = False
            continue
        rows.append(ir.CaseRow(cond=cond, result=res, text=" ".join(lw.text(r.span).split()), span=r.span))
    if elses:
        e = elses[0]
        other = ir.CaseRow(cond=ir.Const(value=True, type=BOOL, span=e.span), result=results[-1],
                           text=" ".join(lw.text(e.span).split()), span=e.span)
    if not ok:
        return None
    kind = "unique" if t.kind is ast.TableKind.RANGE else "first"
    return ir.Cases(kind=kind, rows=tuple(rows), otherwise=other, type=typ, span=t.span)


def _row_condition(lw: Lowerer, r, subject: ir.Expr | None) -> ir.Expr | None:
    if isinstance(r, ast.CondRow):
        if subject is not None:
            lw.error("E305", "this table compares a subject; a row starts with a comparison like `<= 5%`", r.span)
            return None
        c = lw.expr(r.cond)
        return c if lw.need_bool(c, r.cond.span, "a row's condition") else None
    if subject is None:
        lw.error("E305", "this row compares, but the table has no subject: write `first x:`", r.span)
        return None
    hint = subject.type if subject.type.kind == "label" else None
    if isinstance(r, ast.RangeRow):
        lo, hi = lw.expr(r.lo, hint), lw.expr(r.hi, hint)
        tests = ((">=", lo, r.lo.span), ("<=", hi, r.hi.span))
    elif isinstance(r, ast.CmpRow):
        tests = tuple((CMP[op], lw.expr(e, hint), e.span) for op, e in r.tests)
    else:
        lw.error("E305", "this kind of row does not belong in this table", r.span)
        return None
    conds = []
    for op, value, span in tests:
        if value.type.kind == "error":
            return None
        lw._check_comparable(subject, value, op, span)
        conds.append(ir.Compare(ops=(op,), operands=(subject, value), span=span))
    cond = conds[0]
    for c in conds[1:]:
        cond = ir.Logic(op="and", left=cond, right=c, span=r.span)
    return cond


def _label_map(lw: Lowerer, t: ast.Table) -> ir.Expr | None:
    subject = _subject(lw, t)
    if subject is None:
        return None
    st = subject.type
    if st.kind == "bool":
        lw.error("E305", f"`by` maps labels, and `{lw.text(t.subject.span)}` is a condition (true/false)",
                 t.subject.span, suggestion=f"write `… if {lw.text(t.subject.span)} else …`")
        return None
    if st.kind not in ("label", "bool"):
        lw.error("E305", f"`by` maps labels, but `{lw.text(t.subject.span)}` is {st.describe()}",
                 t.subject.span, suggestion="use `first` or `table` for numbers")
        return None
    if st.optional:
        text = lw.text(t.subject.span)
        lw.error("E303", f"`{text}` may be N/A here; say what it counts as with `when na`", t.subject.span,
                 "may be N/A", suggestion=f"write `by ({text} when na {st.labels[-1]}):` (or another label)")
        return None
    seen: dict[str, ast.Node] = {}
    rows = []
    ok = True
    body_rows = [r for r in t.rows if not isinstance(r, ast.ElseRow)]
    elses = [r for r in t.rows if isinstance(r, ast.ElseRow)]
    results, typ = _results(lw, body_rows + elses[:1])
    for r, res in zip(body_rows, results):
        if not isinstance(r, ast.LabelRow):
            lw.error("E305", "a `by` table's rows are labels: `优 -> 20`", r.span)
            ok = False
            continue
        conds = []
        for lab in r.labels:
            text = lab.id if isinstance(lab, ast.Name) else lab.text
            if st.kind == "label" and text not in st.labels:
                guess = did_you_mean(text, st.labels)
                lw.error("E206", f"`{text}` is not a label of `{lw.text(t.subject.span)}` "
                         f"({', '.join(st.labels)})", lab.span, "unknown label",
                         suggestion=f"did you mean `{guess}`?" if guess else None)
                ok = False
                continue
            if text in seen:
                lw.error("E106", f"`{text}` already has a row in this table", lab.span, "again")
                ok = False
                continue
            seen[text] = lab
            const = ir.Const(value=text, type=attrs.evolve(st, optional=False), span=lab.span)
            conds.append(ir.Compare(ops=("=",), operands=(subject, const), span=lab.span))
        if not conds:
            continue
        cond = conds[0]
        for c in conds[1:]:
            cond = ir.Logic(op="or", left=cond, right=c, span=r.span)
        rows.append(ir.CaseRow(cond=cond, result=res, text=" ".join(lw.text(r.span).split()), span=r.span))
    other = None
    if elses:
        e = elses[0]
        other = ir.CaseRow(cond=ir.Const(value=True, type=BOOL, span=e.span), result=results[-1],
                           text=" ".join(lw.text(e.span).split()), span=e.span)
    elif st.kind == "label" and ok:
        missing = [lab for lab in st.labels if lab not in seen]
        if missing:
            lw.error("E306", f"no row for {', '.join('`' + m + '`' for m in missing)}: every label of "
                     f"`{lw.text(t.subject.span)}` needs a row, or add `else ->`", t.span, "incomplete",
                     suggestion="add " + ", ".join(f"`{m} -> …`" for m in missing))
            ok = False
    if not ok or typ is None or typ.kind == "error":
        return None
    return ir.Cases(kind="first", rows=tuple(rows), otherwise=other, type=typ, span=t.span)


def _constant_rows(lw: Lowerer, t: ast.Table, kind, fields, what):
    out = []
    for r in t.rows:
        if not isinstance(r, kind):
            lw.error("E305", f"this row does not fit a `{t.kind.value}` table: {what}", r.span)
            return None
        values = []
        for f in fields:
            node = getattr(r, f)
            if node is None:
                values.append(None)
                continue
            v = lw.constant(node, "a row of this table")
            if v is None:
                return None
            values.append(v)
        out.append((r, values))
    return out


def _linear(lw: Lowerer, t: ast.Table) -> ir.Expr | None:
    subject = _subject(lw, t)
    rows = _constant_rows(lw, t, ast.PointRow, ("x", "y"), "each row is `x -> y`")
    if subject is None or rows is None:
        return None
    if not lw.need_num(subject, t.subject.span, "the subject of `linear`"):
        return None
    if len(rows) < 2:
        lw.error("E305", "a linear table needs at least two points", t.span)
        return None
    points = []
    for (r, (x, y)), prev in zip(rows, [None] + rows[:-1]):
        lw.join(subject.type, lw.expr(r.x).type, r.x.span, "the subject and this point")
        if prev is not None and x <= prev[1][0]:
            lw.error("E305", "the points of a linear table must go up in x", r.x.span, "not above the row before")
            return None
        points.append((x, y))
    ytype = lw.expr(rows[0][0].y).type
    return ir.Linear(subject=subject, points=tuple(points),
                     type=Type(kind="num", dim=ytype.dim, repr=Repr.RAT, free=ytype.free), span=t.span)


def _marginal(lw: Lowerer, t: ast.Table) -> ir.Expr | None:
    subject = _subject(lw, t)
    rows = _constant_rows(lw, t, ast.SliceRow, ("lo", "hi", "rate"), "each row is `from .. to -> rate`")
    if subject is None or rows is None:
        return None
    if not lw.need_num(subject, t.subject.span, "the subject of `marginal`"):
        return None
    slices = []
    for i, (r, (lo, hi, rate)) in enumerate(rows):
        if hi is None and i != len(rows) - 1:
            lw.error("E305", "only the last slice may be open-ended", r.span)
            return None
        if hi is not None and hi <= lo:
            lw.error("E305", "a slice must end above where it starts", r.span)
            return None
        if i > 0 and lo != rows[i - 1][1][1]:
            lw.error("E305", "each slice must start where the one before it ends", r.lo.span,
                     "gap or overlap with the slice before")
            return None
        slices.append((lo, hi, rate))
    rate_t = lw.expr(rows[0][0].rate).type
    st = subject.type
    from .types import mul_type
    rt = mul_type(st, attrs.evolve(rate_t, free=True))
    return ir.Marginal(subject=subject, slices=tuple(slices),
                       type=Type(kind="num", dim=rt.dim, repr=Repr.RAT, free=rt.free), span=t.span)


def _weighted(lw: Lowerer, t: ast.Table) -> ir.Expr | None:
    rows = []
    critical = []
    typ = None
    all_optional = True
    for r in t.rows:
        if isinstance(r, ast.CriticalRow):
            c = lw.expr(r.cond)
            if lw.need_bool(c, r.cond.span, "a critical criterion"):
                critical.append(c)
            continue
        if not isinstance(r, ast.WeightRow):
            lw.error("E305", "a weighted row is `30% criterion` or `critical condition`", r.span)
            return None
        v = lw.expr(r.value)
        if v.type.kind != "num":
            if v.type.kind != "error":
                lw.error("E301", f"a criterion must be a number, but this is {v.type.describe()}", r.value.span)
            return None
        if r.weight.value <= 0:
            lw.error("E305", "a weight must be positive", r.weight.span)
            return None
        all_optional = all_optional and v.type.optional
        vt = attrs.evolve(v.type, optional=False)
        typ = vt if typ is None else lw.join(typ, vt, r.value.span, "the criteria of this weighted score")
        rows.append((r.weight.value, v))
    if not rows or typ is None or typ.kind == "error":
        if not rows:
            lw.error("E305", "a weighted score needs at least one weighted criterion", t.span)
        return None
    return ir.Weighted(rows=tuple(rows), critical=tuple(critical),
                       type=Type(kind="num", dim=typ.dim, repr=Repr.RAT, optional=all_optional), span=t.span)


def _gate(lw: Lowerer, t: ast.Table) -> ir.Expr | None:
    rows = []
    names = set()
    for r in t.rows:
        if not isinstance(r, ast.GateRow):
            lw.error("E305", "a gate's rows are conditions, optionally named: `dsr: dsr >= 4.8`", r.span)
            return None
        c = lw.expr(r.cond)
        if not lw.need_bool(c, r.cond.span, "a gate condition"):
            return None
        if r.label is not None:
            label = r.label.id
        elif isinstance(r.cond, ast.Ref):
            label = r.cond.name.id
        else:
            label = " ".join(lw.text(r.cond.span).split())
        if label in names:
            lw.error("E106", f"two conditions of this gate are named `{label}`", r.span)
            return None
        names.add(label)
        rows.append((label, c))
    return ir.Gate(kind=t.kind.value, rows=tuple(rows), span=t.span)


_ = Fraction, _const_value
