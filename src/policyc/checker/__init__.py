"""Check: `ast.Policy` → `ir.Policy` plus diagnostics.

Collects the header, the inputs and the definitions, resolves every name,
orders definitions by dependency, types and lowers every formula, then
assigns phases for cohort and history values. Never stops at the first
finding; never prints.
"""

from __future__ import annotations

from fractions import Fraction

import attrs

from .. import ast, ir
from ..diagnostics import Diagnostic, Note, Span, dedupe, did_you_mean, has_errors
from ..ir import Dim, Repr, RoundMode, Type
from .coverage import check_tables
from .examples import check_examples
from .lower import Lowerer, Scope, _const_value
from .names import RESERVED, body_refs, dependency_order
from .soundness import check_inline_weights, check_soundness
from .tables import lower_table
from .types import ERROR, INPUT_KINDS, input_type, terminates

PERIOD_KINDS = ("month", "half_month", "quarter", "year")


def check(policy: ast.Policy, source: str) -> tuple[ir.Policy | None, list[Diagnostic]]:
    """Check a parsed policy; return its IR (None if there are errors) and all findings."""
    c = _Checker(policy, source)
    result = c.run()
    if result is not None:
        check_tables(result, c.diags)
        check_soundness(result, c.total, c.diags)
        check_inline_weights(policy, result, c.diags)
        result = attrs.evolve(result, examples=check_examples(policy, result, c.diags))
    diags = dedupe(c.diags)
    return (None if has_errors(diags) else result), diags


class _Checker:
    def __init__(self, policy: ast.Policy, source: str):
        self.policy = policy
        self.source = source
        self.file = policy.file
        self.diags: list[Diagnostic] = []
        self.total = None  # (points, span) from `total N pts`

    def error(self, code, message, span, label="", suggestion=None, notes=()):
        self.diags.append(Diagnostic(code=code, message=message, span=span, label=label,
                                     suggestion=suggestion, notes=tuple(notes)))

    def text(self, span: Span) -> str:
        return self.source[span.start:span.end]

    def run(self) -> ir.Policy | None:
        header = self.header()
        inputs = self.inputs()
        cohorts = self.cohorts(inputs)
        for inp in inputs.values():
            if inp.same_over is not None and inp.same_over not in cohorts:
                guess = did_you_mean(inp.same_over, cohorts)
                self.error("E107", f"there is no cohort `{inp.same_over}`", inp.span, "unknown cohort",
                           suggestion=f"did you mean `{guess}`?" if guess else None)
        defs_ast = self.definitions(inputs)
        items = [n for n, (d, _) in defs_ast.items() if d.kind is ast.DefKind.ITEM]
        order = dependency_order({n: d for n, (d, _) in defs_ast.items()}, items, self.diags)
        lowered: dict[str, ir.Definition] = {}
        pending = set(defs_ast)
        gates: dict[str, ir.Gate] = {}
        hidden: list[ir.Definition] = []
        counter = [0]

        def add_hidden(owner: str, expr: ir.Expr, span: Span) -> str:
            counter[0] += 1
            name = f"{owner}·{counter[0]}"
            hidden.append(ir.Definition(name=name, kind="hidden", expr=expr, type=expr.type, phase=0,
                                        text=self.text(span), span=span))
            lowered[name] = hidden[-1]
            return name

        scope = Scope(inputs=inputs, defs=lowered, pending=pending, cohorts=cohorts, items=items,
                      add_hidden=add_hidden, source=self.source, gates=gates)
        scope.header_total = self.total[0] if self.total else None  # (`total N pts`: no value)
        lowerer = Lowerer(scope, self.diags)
        ordered: list[ir.Definition] = []
        in_cycle = {n for d in self.diags if d.code == "E203" for n in _cycle_names(d)}
        for name in order:
            d, index = defs_ast[name]
            if name in in_cycle:
                continue
            n_before = len(hidden)
            scope.owner = name
            scope.label_def = d.kind is ast.DefKind.LABEL
            expr = self.lower_body(lowerer, d, index)
            scope.label_def = False
            if expr is None or expr.type.kind == "error":
                continue
            if isinstance(expr, ir.Gate):
                gates[name] = expr
            definition = self.make_definition(d, name, index, expr)
            if definition is None:
                continue
            ordered.extend(hidden[n_before:])
            ordered.append(definition)
            lowered[name] = definition
            pending.discard(name)
        requires = self.requires(lowerer, scope)
        self.unused(inputs, defs_ast, ordered, requires, cohorts)
        if has_errors(self.diags) or header is None:
            return None
        phased = _assign_phases(ordered)
        output_order = []
        for name, (d, _index) in sorted(defs_ast.items(), key=lambda kv: (kv[1][0].span.start, kv[1][1])):
            if d.kind is not ast.DefKind.LET:
                output_order.append(name)
        name, title, period, source, allow_extra = header
        return ir.Policy(name=name, title=title, period=period, source=source, allow_extra=allow_extra,
                         cohorts=tuple(cohorts.values()), inputs=tuple(inputs.values()), requires=tuple(requires),
                         definitions=tuple(phased), output_names=tuple(output_order), file=self.file)

    # ── header ──
    def header(self):
        decls: dict[type, list] = {}
        for s in self.policy.statements:
            decls.setdefault(type(s), []).append(s)
        for kind, what in ((ast.PolicyDecl, "policy"), (ast.PeriodDecl, "period"), (ast.SourceDecl, "source"),
                           (ast.TotalDecl, "total"), (ast.AllowExtra, "allow extra fields")):
            for extra in decls.get(kind, [])[1:]:
                self.error("E102", f"`{what}` is given twice", extra.span, "second time",
                           notes=(Note(message="first given here", span=decls[kind][0].span),))
        pol = decls.get(ast.PolicyDecl)
        if not pol:
            self.error("E101", "the file has no `policy` line naming the policy",
                       Span(file=self.file, line=1, column=1, end_line=1, end_column=2, start=0, end=1),
                       suggestion='start the file with `policy my_policy "title"`')
            return None
        period = "month"
        per = decls.get(ast.PeriodDecl)
        if per:
            kind = per[0].kind
            if kind.id not in PERIOD_KINDS:
                guess = did_you_mean(kind.id, PERIOD_KINDS)
                self.error("E103", f"`{kind.id}` is not a period kind (month, half_month, quarter, year)",
                           kind.span, "unknown period", suggestion=f"did you mean `{guess}`?" if guess else None)
            else:
                period = kind.id
        source = decls[ast.SourceDecl][0].text if decls.get(ast.SourceDecl) else None
        if decls.get(ast.TotalDecl):
            t = decls[ast.TotalDecl][0]
            if t.points.unit is not None or t.points.value <= 0:
                self.error("E105", "the total is a positive number of points, like `total 100 pts`", t.span)
            else:
                self.total = (t.points.value, t.span)
        return pol[0].name.id, pol[0].title, period, source, bool(decls.get(ast.AllowExtra))

    # ── inputs ──
    def inputs(self) -> dict[str, ir.Input]:
        out: dict[str, ir.Input] = {}
        first_span: dict[str, Span] = {}
        for s in self.policy.statements:
            if not isinstance(s, ast.InputDecl):
                continue
            kind = s.type.kind.id
            if kind not in INPUT_KINDS:
                guess = did_you_mean(kind, INPUT_KINDS)
                self.error("E104", f"`{kind}` is not an input type", s.type.kind.span, "unknown type",
                           suggestion=f"did you mean `{guess}`?" if guess else
                           "types: " + ", ".join(INPUT_KINDS))
                for n in s.names:  # keep the name, with no type, so its uses raise no further errors
                    out.setdefault(n.id, ir.Input(name=n.id, kind="number", type=ERROR, domain=(), na=False,
                                                  same_over=None, doc=s.doc, span=n.span))
                continue
            labels = []
            for lab in s.type.labels:
                text = lab.id if isinstance(lab, ast.Name) else lab.text
                if text in labels:
                    self.error("E106", f"the label `{text}` is listed twice", lab.span, "again")
                labels.append(text)
            domain, na = self.domain(s, kind)
            t = input_type(kind, tuple(labels), optional=na)
            for n in s.names:
                if n.id in RESERVED:
                    self.error("E108", f"`{n.id}` is part of every record already; it cannot be an input",
                               n.span, "reserved")
                    continue
                if n.id in out:
                    self.error("E202", f"the input `{n.id}` is declared twice", n.span, "again",
                               notes=(Note(message="first declared here", span=first_span[n.id]),))
                    continue
                first_span[n.id] = n.span
                if s.direction is not None and t.kind != "num":
                    self.error("E105", f"`{s.direction} is better` needs a number, but `{n.id}` is "
                               f"{t.describe()}", n.span)
                out[n.id] = ir.Input(name=n.id, kind=kind, type=t, domain=domain, na=na,
                                     same_over=s.same_over.id if s.same_over else None, doc=s.doc,
                                     direction=s.direction, span=n.span)
        return out

    def domain(self, s: ast.InputDecl, kind: str):
        if s.domain is None:
            return (), False
        alts = []
        for alt in s.domain.alternatives:
            if kind not in ("count", "percent", "duration", "money", "points", "number"):
                self.error("E105", f"a {kind} input has labels, not a range of numbers", alt.span)
                continue
            lo = alt.lo.value if alt.lo is not None else None
            hi = alt.hi.value if alt.hi is not None else None
            if lo is not None and hi is not None and lo > hi:
                self.error("E105", "this range is empty: its start is above its end", alt.span)
            for num in (alt.lo, alt.hi):
                if num is not None and kind == "percent" and num.unit != "%" and not 0 <= num.value <= 1:
                    self.error("E105", f"a percent is between 0 and 1 (0.85 means 85%), so {num.text} is outside it",
                               num.span, suggestion=f"write `{num.text}%`")
                if num is not None and num.unit in ("s", "min", "h") and kind != "duration":
                    self.error("E105", f"a time unit on a {kind} input", num.span)
                if num is not None and num.unit == "%" and kind != "percent":
                    self.error("E105", f"a percent on a {kind} input", num.span,
                               suggestion="write the plain number")
            alts.append((lo, hi))
        return tuple(alts), s.domain.na

    # ── cohorts ──
    def cohorts(self, inputs: dict[str, ir.Input]) -> dict[str, ir.Cohort]:
        out: dict[str, ir.Cohort] = {}
        for s in self.policy.statements:
            if not isinstance(s, ast.CohortDecl):
                continue
            if s.name.id in out:
                self.error("E202", f"the cohort `{s.name.id}` is declared twice", s.name.span)
                continue
            keys = []
            for k in s.keys:
                if k.id not in inputs:
                    guess = did_you_mean(k.id, inputs)
                    self.error("E201", f"a cohort is formed by inputs, and `{k.id}` is not one", k.span,
                               "not an input", suggestion=f"did you mean `{guess}`?" if guess else None)
                elif inputs[k.id].type.kind != "error" and \
                        inputs[k.id].kind not in ("text", "choice", "grade", "count", "bool"):
                    self.error("E301", f"`{k.id}` is {inputs[k.id].type.describe()}; cohorts are formed by "
                               "text, labels or counts", k.span)
                keys.append(k.id)
            out[s.name.id] = ir.Cohort(name=s.name.id, keys=tuple(keys))
        return out

    # ── definitions ──
    def definitions(self, inputs) -> dict[str, tuple[ast.Definition, int]]:
        out: dict[str, tuple[ast.Definition, int]] = {}
        for s in self.policy.statements:
            if not isinstance(s, ast.Definition):
                continue
            if len(s.names) > 1 and not isinstance(s.body, ast.Split):
                self.error("E307", "several names can only be defined by a `split`", s.names[1].span)
            for i, n in enumerate(s.names):
                if n.id in RESERVED:
                    self.error("E108", f"`{n.id}` is part of every record already; choose another name", n.span)
                    continue
                clash = out.get(n.id)
                if clash is not None or n.id in inputs:
                    first = clash[0].names[clash[1]].span if clash else inputs[n.id].span
                    self.error("E202", f"`{n.id}` is defined twice", n.span, "defined again",
                               notes=(Note(message="first defined here", span=first),))
                    continue
                out[n.id] = (s, i)
        return out

    def lower_body(self, lowerer: Lowerer, d: ast.Definition, index: int) -> ir.Expr | None:
        body = d.body
        if isinstance(body, ast.Split):
            return self.lower_split(lowerer, d, index)
        if isinstance(body, ast.Table):
            return lower_table(lowerer, body, d)
        return lowerer.expr(body)

    def lower_split(self, lowerer: Lowerer, d: ast.Definition, index: int) -> ir.Expr | None:
        sp: ast.Split = d.body
        if len(sp.ratios) != len(d.names):
            if index == 0:
                self.error("E307", f"{len(d.names)} names but {len(sp.ratios)} ratios: each part needs a name",
                           sp.span)
            return None
        amount = lowerer.expr(sp.amount)
        if not lowerer.need_num(amount, sp.amount.span, "the amount split"):
            return None
        ratios = tuple(r.value for r in sp.ratios)
        if all(r.unit == "%" for r in sp.ratios) and sum(ratios) != 1:
            if index == 0:
                total = sum(ratios) * 100
                self.error("E307", f"the parts add up to {total.numerator / total.denominator:g}%, not 100%",
                           sp.span, "parts do not add up",
                           suggestion="make the percents add up to 100%, or give plain ratios like `5 : 2 : 3`")
            return None
        if any(r <= 0 for r in ratios):
            if index == 0:
                self.error("E307", "split ratios must be positive", sp.span)
            return None
        quantum = Fraction(1, 100)
        mode = RoundMode.HALF_UP
        if sp.quantum is not None:
            q = _const_value(lowerer.expr(sp.quantum))
            if q is None or q <= 0 or not terminates(q):
                self.error("E308", "the rounding step must be a positive number, like 0.01", sp.quantum.span)
                return None
            quantum = q
        if sp.mode is not None:
            try:
                mode = RoundMode(sp.mode.id)
            except ValueError:
                self.error("E308", f"`{sp.mode.id}` is not a rounding mode (half_up, half_even, up, down)",
                           sp.mode.span)
                return None
        t = attrs.evolve(amount.type, repr=Repr.RAT if amount.type.repr is Repr.RAT else Repr.DEC, count=False)
        return ir.SplitPart(amount=amount, ratios=ratios, index=index, quantum=quantum, mode=mode, type=t,
                            span=sp.span)

    def make_definition(self, d: ast.Definition, name: str, index: int, expr: ir.Expr) -> ir.Definition | None:
        t = expr.type
        kind = d.kind.value
        maximum = None
        span = d.names[index].span
        body_span = d.body.span
        if d.kind in (ast.DefKind.ITEM, ast.DefKind.PAY) and t.kind == "num" and t.optional:
            self.error("E303", f"this {d.kind.value} may be N/A (not applicable); say what it counts as then",
                       body_span, "may be N/A",
                       suggestion=f"compute it with `let`, then write `{d.kind.value} {name} … = that_value when na 0`")
            return None
        if d.kind is ast.DefKind.ITEM:
            maximum = d.max.value
            if d.max.unit is not None:
                self.error("E302", "an item's maximum is a number of points", d.max.span)
                return None
            if t.kind != "num" or t.dim is not Dim.NONE or t.optional:
                self.error("E302", f"an item is points, but this formula gives {t.describe()}", body_span,
                           "not points")
                return None
            zero = ir.Const(value=Fraction(0), type=Type(kind="num", repr=Repr.INT, free=True), span=d.max.span)
            top = ir.Const(value=maximum, type=Type(kind="num", repr=Repr.INT if maximum.denominator == 1
                                                    else Repr.DEC, free=True), span=d.max.span)
            t = Type(kind="num", repr=max(t.repr, top.type.repr))
            expr = ir.Clamp(operand=expr, lo=zero, hi=top, type=t, span=body_span)
        elif d.kind is ast.DefKind.PAY:
            if t.kind != "num" or not (t.dim is Dim.MONEY or (t.dim is Dim.NONE and t.free)):
                self.error("E302", f"pay is money, but this formula gives {t.describe()}", body_span, "not money",
                           suggestion="money comes from money inputs, or from plain numbers (2000, 5% of sales)")
                return None
            t = attrs.evolve(t, dim=Dim.MONEY, free=False, count=False)
        elif d.kind is ast.DefKind.LABEL:
            if t.kind != "label":
                self.error("E301", f"a `label` definition gives a label, but this gives {t.describe()}", body_span)
                return None
            t = attrs.evolve(t, free=False)
        else:
            if t.kind == "num":
                t = attrs.evolve(t, free=False)
            if t.kind == "label" and t.free:
                t = attrs.evolve(t, free=False)
        if t.kind == "label" and isinstance(expr, ir.Cases):
            pass
        return ir.Definition(name=name, kind=kind, expr=expr, type=t, phase=0, text=self.text(body_span),
                             max=maximum, doc=d.doc, span=span)

    # ── requires ──
    def requires(self, lowerer: Lowerer, scope: Scope) -> list[ir.Require]:
        out = []
        scope.allow_inputs_only = True
        scope.owner = "require"
        for s in self.policy.statements:
            if not isinstance(s, ast.Require):
                continue
            e = lowerer.expr(s.cond)
            if e.type.kind == "error":
                continue
            if not lowerer.need_bool(e, s.cond.span, "a `require`"):
                continue
            fields = tuple(dict.fromkeys(n.name for n in ir.walk(e) if isinstance(n, ir.Load)))
            out.append(ir.Require(cond=e, fields=fields, text=" ".join(self.text(s.cond.span).split()), span=s.span))
        scope.allow_inputs_only = False
        return out

    def unused(self, inputs, defs_ast, ordered, requires, cohorts):
        used: set[str] = set()
        all_defs = [s for s in self.policy.statements if isinstance(s, ast.Definition)]
        for d in all_defs:
            for r in body_refs(d.body, d.kind is ast.DefKind.LABEL):
                if r == "items":
                    used.update(n for n, (dd, _) in defs_ast.items() if dd.kind is ast.DefKind.ITEM)
                else:
                    used.add(r.id)
        for r in requires:
            used.update(r.fields)
        for c in cohorts.values():
            used.update(c.keys)
        for name, inp in inputs.items():
            if name not in used:
                self.diags.append(Diagnostic(code="W401", message=f"the input `{name}` is not used by any "
                                             "definition", span=inp.span, label="unused"))
        for name, (d, _) in defs_ast.items():
            if d.kind is ast.DefKind.LET and name not in used:
                self.diags.append(Diagnostic(code="W402", message=f"`{name}` is computed but nothing uses it",
                                             span=d.names[0].span, label="unused"))


def _cycle_names(d: Diagnostic) -> list[str]:
    text = d.message.split(": ", 1)[1]
    return text.split(" → ")


def _assign_phases(defs: list[ir.Definition]) -> list[ir.Definition]:
    phase: dict[str, int] = {}
    out = []
    for d in defs:
        p = 0
        for n in ir.walk(d.expr):
            if isinstance(n, ir.Load):
                p = max(p, phase.get(n.name, 0))
            elif isinstance(n, (ir.Aggregate, ir.History)):
                p = max(p, (phase.get(n.column, 0) if n.column else 0) + 1)
        phase[d.name] = p
        out.append(attrs.evolve(d, phase=p))
    return out


__all__ = ["check", "ERROR"]
