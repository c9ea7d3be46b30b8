"""Coverage: prove a one-subject table has a row for every value its subject can take.

Each row of `first x:` / `table x:` is a set of intervals of x; the subject's
domain (its input's kind and range, or the range of a definition) is another.
A value in the domain that no row covers is a gap (E310); in a `table`, a value
two rows cover is an overlap (E311). Whole-number subjects (counts) have no
gaps between consecutive integers: `3 .. 4` and `>= 5` cover every count.
Tables whose rows are not comparisons of one subject with fixed numbers are
left to run-time checks.
"""

from __future__ import annotations

import math
from fractions import Fraction

from .. import ir
from ..diagnostics import Diagnostic, Note
from ..ranges import Ranges

# an interval: (lo, lo_closed, hi, hi_closed); None for an infinite end
Interval = tuple[Fraction | None, bool, Fraction | None, bool]
EVERYTHING: Interval = (None, False, None, False)


def check_tables(policy: ir.Policy, diagnostics: list[Diagnostic]) -> None:
    """Report gaps, overlaps, rows that can never match and rows that could merge."""
    ranges = Ranges(policy)
    inputs = {i.name: i for i in policy.inputs}
    for d in policy.definitions:
        for node in ir.walk(d.expr):
            if isinstance(node, ir.Cases):
                _check(node, inputs, ranges, diagnostics)


def _check(cases: ir.Cases, inputs: dict, ranges: Ranges, diagnostics: list[Diagnostic]) -> None:
    subject = None
    rows: list[tuple[ir.CaseRow, list[Interval]]] = []
    for row in cases.rows:
        got = _row_intervals(row.cond)
        if got is None:
            return
        s, ivs = got
        if subject is None:
            subject = s
        elif s != subject:
            return
        rows.append((row, ivs))
    if subject is None or subject.type.kind != "num":
        return
    whole = subject.type.repr is ir.Repr.INT
    domain = _domain(subject, inputs, ranges)
    if cases.kind == "first":
        _unreachable(rows, domain, whole, subject, diagnostics)
    _mergeable(rows, subject, whole, diagnostics)
    direction = inputs[subject.name].direction if subject.name in inputs else None
    if direction is not None:
        _monotone(cases, rows, domain, whole, subject, direction, diagnostics)
    if cases.otherwise is None:
        uncovered = domain
        for _, ivs in rows:
            for iv in ivs:
                uncovered = [part for u in uncovered for part in _subtract(u, iv)]
        uncovered = [u for u in uncovered if not _empty(u, whole)]
        for gap in uncovered:
            example = _example(gap, whole)
            diagnostics.append(Diagnostic(
                code="E310",
                message=f"no row covers {_show_interval(gap, subject.type, whole)}: a value such as "
                        f"{_show(example, subject.type)} would find no row",
                span=cases.span, label="incomplete",
                suggestion="add a row for these values, or an `else ->` row",
            ))
    if cases.kind == "unique":
        for i, (row_a, ivs_a) in enumerate(rows):
            for row_b, ivs_b in rows[i + 1:]:
                both = [_intersect(_intersect(a, b), dom) for a in ivs_a for b in ivs_b for dom in domain]
                both = [x for x in both if not _empty(x, whole)]
                if both:
                    diagnostics.append(Diagnostic(
                        code="E311",
                        message=f"rows `{row_a.text}` and `{row_b.text}` both hold for "
                                f"{_show_interval(both[0], subject.type, whole)}; in a `table` exactly one row "
                                "may hold",
                        span=row_b.span, label="overlaps an earlier row",
                        notes=(Note(message="the other row", span=row_a.span),),
                        suggestion="make the bounds meet without overlapping (`< 20s` then `>= 20s`), "
                                   "or use `first` if the order should decide",
                    ))


def _unreachable(rows, domain, whole, subject, diagnostics) -> None:
    """In a first-match table, a row whose values all go to earlier rows can never match."""
    for i, (row, ivs) in enumerate(rows):
        own = [x for iv in ivs for dom in domain for x in [_intersect(iv, dom)] if not _empty(x, whole)]
        if not own:
            diagnostics.append(Diagnostic(
                code="E312",
                message=f"row `{row.text}` can never match: `{subject.name}` never takes such a value",
                span=row.span, label="never matches",
                suggestion="check the threshold and its unit (a percent is 0% to 100%)",
            ))
            continue
        left = own
        shadows = []
        for prev, prev_ivs in rows[:i]:
            before = left
            for iv in prev_ivs:
                left = [p for u in left for p in _subtract(u, iv)]
            left = [u for u in left if not _empty(u, whole)]
            if left != before:
                shadows.append(prev)
        if not left:
            diagnostics.append(Diagnostic(
                code="E312",
                message=f"row `{row.text}` can never match: every value it covers is taken by an earlier row",
                span=row.span, label="never matches",
                notes=tuple(Note(message=f"row `{p.text}` comes first", span=p.span) for p in shadows),
                suggestion="order the rows from the strictest threshold to the loosest "
                           "(`>= 5` before `>= 3`)",
            ))


def _mergeable(rows, subject, whole, diagnostics) -> None:
    """Neighbouring rows with the same constant result whose values touch could be one row."""
    for (a, ivs_a), (b, ivs_b) in zip(rows, rows[1:]):
        if not (isinstance(a.result, ir.Const) and isinstance(b.result, ir.Const)) or a.result.value != b.result.value:
            continue
        if len(ivs_a) == 1 and len(ivs_b) == 1 and _touch(ivs_a[0], ivs_b[0], whole):
            diagnostics.append(Diagnostic(
                code="I502",
                message=f"rows `{a.text}` and `{b.text}` give the same result and their values meet; "
                        "they could be one row",
                span=b.span, label="same result as the row before",
            ))


def _touch(a: Interval, b: Interval, whole: bool) -> bool:
    """Whether a ∪ b is one interval (they overlap or meet)."""
    lo, hi = (a, b) if (a[0] is None or (b[0] is not None and a[0] <= b[0])) else (b, a)
    if lo[2] is None:
        return True
    if hi[0] is None:
        return True
    if hi[0] < lo[2] or (hi[0] == lo[2] and (lo[3] or hi[1])):
        return True
    if whole:
        f_lo, l_lo = _whole_bounds(lo)
        f_hi, _ = _whole_bounds(hi)
        return l_lo is not None and f_hi is not None and f_hi <= l_lo + 1
    return False


def _monotone(cases, rows, domain, whole, subject, direction, diagnostics) -> None:
    """With `higher is better`, a better value must never get a smaller result (W405)."""
    pieces = []  # (interval, result value, row)
    taken: list[Interval] = []
    entries = list(rows) + ([(cases.otherwise, [EVERYTHING])] if cases.otherwise is not None else [])
    for row, ivs in entries:
        if not isinstance(row.result, ir.Const) or not isinstance(row.result.value, Fraction):
            return
        own = [x for iv in ivs for dom in domain for x in [_intersect(iv, dom)] if not _empty(x, whole)]
        if cases.kind == "first":
            for iv in taken:
                own = [p for u in own for p in _subtract(u, iv)]
            own = [u for u in own if not _empty(u, whole)]
        taken.extend(ivs)
        pieces.extend((iv, row.result.value, row) for iv in own)

    def start(piece):
        lo = piece[0][0]
        return (Fraction(-10**30) if lo is None else lo, not piece[0][1])

    pieces.sort(key=start)
    for (_, a, row_a), (iv_b, b, row_b) in zip(pieces, pieces[1:]):
        worse = b < a if direction == "higher" else b > a
        if worse and row_a is not row_b:
            example = _example(iv_b, whole)
            diagnostics.append(Diagnostic(
                code="W405",
                message=f"`{subject.name}` is marked `{direction} is better`, but row `{row_b.text}` gives "
                        f"{_show(b, row_b.result.type)} for a {'better' if direction == 'higher' else 'worse'} "
                        f"value (such as {_show(example, subject.type)}) than row `{row_a.text}`, which gives "
                        f"{_show(a, row_a.result.type)}",
                span=row_b.span, label="out of order with the row before",
                notes=(Note(message="the row it should not be below", span=row_a.span),),
                suggestion="check this row's result; if intended, say so with `# policyc: ignore[W405] reason`",
            ))
            return


def _row_intervals(cond: ir.Expr):
    """(subject, intervals) for `subject OP constant` rows and `and` of two of them."""
    if isinstance(cond, ir.Compare) and len(cond.ops) == 1:
        a, b = cond.operands
        if isinstance(a, ir.Load) and isinstance(b, ir.Const) and isinstance(b.value, Fraction):
            iv = _from_op(cond.ops[0], b.value)
            return (a, iv) if iv is not None else None
        return None
    if isinstance(cond, ir.Logic) and cond.op == "and":
        left, right = _row_intervals(cond.left), _row_intervals(cond.right)
        if left and right and left[0] == right[0]:
            return left[0], [_intersect(x, y) for x in left[1] for y in right[1]]
    return None


def _from_op(op: str, v: Fraction):
    return {
        "<": [(None, False, v, False)],
        "<=": [(None, False, v, True)],
        ">": [(v, False, None, False)],
        ">=": [(v, True, None, False)],
        "=": [(v, True, v, True)],
        "!=": [(None, False, v, False), (v, False, None, False)],
    }.get(op)


def _domain(subject: ir.Load, inputs: dict, ranges: Ranges) -> list[Interval]:
    inp = inputs.get(subject.name)
    if inp is not None and inp.domain:
        return [(lo, lo is not None, hi, hi is not None) for lo, hi in inp.domain]
    r = ranges.of_name(subject.name)
    if r is None:
        return [EVERYTHING]
    lo, hi = r
    return [(lo, lo is not None, hi, hi is not None)]


def _whole_bounds(iv: Interval):
    """The first and last whole number in the interval (None for an infinite end)."""
    lo, lc, hi, hc = iv
    first = None if lo is None else (math.ceil(lo) if lc else math.floor(lo) + 1)
    last = None if hi is None else (math.floor(hi) if hc else math.ceil(hi) - 1)
    return first, last


def _empty(iv: Interval, whole: bool = False) -> bool:
    lo, lc, hi, hc = iv
    if whole:
        first, last = _whole_bounds(iv)
        return first is not None and last is not None and first > last
    if lo is None or hi is None:
        return False
    return lo > hi or (lo == hi and not (lc and hc))


def _intersect(a: Interval, b: Interval) -> Interval:
    alo, alc, ahi, ahc = a
    blo, blc, bhi, bhc = b
    if alo is None or (blo is not None and blo > alo):
        lo, lc = blo, blc
    elif blo is None or alo > blo:
        lo, lc = alo, alc
    else:
        lo, lc = alo, alc and blc
    if ahi is None or (bhi is not None and bhi < ahi):
        hi, hc = bhi, bhc
    elif bhi is None or ahi < bhi:
        hi, hc = ahi, ahc
    else:
        hi, hc = ahi, ahc and bhc
    return (lo, lc, hi, hc)


def _subtract(a: Interval, b: Interval) -> list[Interval]:
    blo, blc, bhi, bhc = b
    if _empty(_intersect(a, b)):
        return [a]
    parts = []
    if blo is not None:
        parts.append(_intersect(a, (None, False, blo, not blc)))
    if bhi is not None:
        parts.append(_intersect(a, (bhi, not bhc, None, False)))
    return [p for p in parts if not _empty(p)]


def _example(iv: Interval, whole: bool) -> Fraction:
    lo, lc, hi, hc = iv
    if whole:
        first, last = _whole_bounds(iv)
        return Fraction(first if first is not None else last)
    if lo is not None and hi is not None:
        return lo if lo == hi else (lo + hi) / 2
    if lo is not None:
        return lo if lc else lo + 1
    return hi if hc else hi - 1


def _show(v: Fraction, t: ir.Type) -> str:
    from ..runtime import _fmt, public_number

    if t.percent:
        return _fmt(public_number(v * 100, False)) + "%"
    text = _fmt(public_number(v, False))
    return text + " s" if t.dim is ir.Dim.TIME else text


def _show_interval(iv: Interval, t: ir.Type, whole: bool) -> str:
    lo, lc, hi, hc = iv
    if whole:
        first, last = (None if x is None else Fraction(x) for x in _whole_bounds(iv))
        if first is not None and first == last:
            return f"the value {_show(first, t)}"
        if last is None:
            return f"values from {_show(first, t)} up"
        if first is None:
            return f"values up to {_show(last, t)}"
        return f"the values {_show(first, t)} to {_show(last, t)}"
    if lo is not None and lo == hi:
        return f"the value {_show(lo, t)}"
    left = "(-∞" if lo is None else ("[" if lc else "(") + _show(lo, t)
    right = "∞)" if hi is None else _show(hi, t) + ("]" if hc else ")")
    return f"{left}, {right}"
