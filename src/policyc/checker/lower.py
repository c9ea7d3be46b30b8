"""Lower: typed, resolved AST expressions → IR expressions, with diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import attrs

from .. import ast, ir
from ..diagnostics import Diagnostic, Note, Span, did_you_mean
from ..ir import BOOL, TEXT, Dim, Repr, RoundMode, Type
from .types import ERROR, UnitError, div_type, join_num, literal_type, mul_type, terminates

CMP = {ast.CmpOp.LT: "<", ast.CmpOp.LE: "<=", ast.CmpOp.GT: ">", ast.CmpOp.GE: ">=",
       ast.CmpOp.EQ: "=", ast.CmpOp.NE: "!="}
AGG_FUNCS = {"max", "min", "sum", "mean", "count", "rank", "share"}
FUNCS = {"min", "max", "sum", "mean", "count", "rank", "share", "all", "any", "failed", "passed",
         "abs", "streak", "previous"}


class Scope:
    """What names mean while lowering one definition."""

    def __init__(self, *, inputs: dict[str, ir.Input], defs: dict[str, ir.Definition],
                 pending: set[str], cohorts: dict[str, ir.Cohort], items: list[str],
                 add_hidden: Callable[[str, ir.Expr, Span], str], source: str,
                 gates: dict[str, ir.Gate]):
        self.inputs = inputs
        self.defs = defs
        self.pending = pending  # defined names not (yet) lowered: cycles or errors
        self.cohorts = cohorts
        self.items = items
        self.add_hidden = add_hidden
        self.source = source
        self.gates = gates
        self.label_def = False
        self.guarded = 0
        self.owner = ""
        self.allow_inputs_only = False
        self.input_labels: set[str] | None = None
        self.header_total = None  # the N of a header's `total N pts` (a maximum, not a value)


class Lowerer:
    def __init__(self, scope: Scope, diagnostics: list[Diagnostic]):
        self.s = scope
        self.diags = diagnostics

    # ── helpers ──
    def error(self, code: str, message: str, span: Span, label: str = "", suggestion: str | None = None,
              notes: tuple[Note, ...] = ()) -> None:
        self.diags.append(Diagnostic(code=code, message=message, span=span, label=label,
                                     suggestion=suggestion, notes=notes))

    def text(self, span: Span) -> str:
        return self.s.source[span.start:span.end]

    def bad(self, span: Span) -> ir.Const:
        return ir.Const(value=None, type=ERROR, span=span)

    def need_num(self, e: ir.Expr, span: Span, what: str) -> bool:
        t = e.type
        if t.kind == "error":
            return False
        if t.kind != "num":
            self.error("E301", f"{what} must be a number, but this is {t.describe()}", span, "not a number")
            return False
        if t.optional:
            self.error("E303", f"{what} may be N/A here; say what it counts as with `when na`", span,
                       "may be N/A", suggestion=f"write `({self.text(span)} when na 0)` (or another value than 0)")
            return False
        return True

    def need_bool(self, e: ir.Expr, span: Span, what: str = "a condition") -> bool:
        t = e.type
        if t.kind == "error":
            return False
        if t.kind != "bool":
            self.error("E301", f"{what} must be true or false, but this is {t.describe()}", span,
                       "not a condition")
            return False
        return True

    def join(self, a: Type, b: Type, span: Span, what: str) -> Type:
        if a.kind == "error" or b.kind == "error":
            return ERROR
        if a.kind == "num" and b.kind == "num":
            try:
                return join_num(a, b)
            except UnitError as e:
                self.error("E302", f"{what}: {e}", span, "units differ")
                return ERROR
        if a.kind == "label" and b.kind == "label":
            if a.labels == b.labels:
                return attrs.evolve(a, optional=a.optional or b.optional)
            if a.free or b.free:
                labels = tuple(dict.fromkeys(a.labels + b.labels))
                return Type(kind="label", labels=labels, free=a.free and b.free)
            self.error("E301", f"{what}: labels of different kinds ({', '.join(a.labels)} / "
                       f"{', '.join(b.labels)})", span)
            return ERROR
        if a.kind == b.kind and a.kind in ("bool", "text", "list"):
            return attrs.evolve(a, optional=a.optional or b.optional)
        self.error("E301", f"{what}: {a.describe()} and {b.describe()} cannot be mixed", span,
                   "different kinds of value")
        return ERROR

    def constant(self, node: ast.Expr, what: str) -> Fraction | None:
        e = self.expr(node)
        value = _const_value(e)
        if value is None:
            if e.type.kind != "error":
                self.error("E309", f"{what} must be a fixed number written in the policy", node.span,
                           "not a fixed number")
            return None
        return value

    # ── expressions ──
    def expr(self, node: ast.Expr, label_hint: Type | None = None) -> ir.Expr:
        method = getattr(self, "x_" + type(node).__name__)
        return method(node, label_hint)

    def x_Number(self, n: ast.Number, hint):
        return ir.Const(value=n.value, type=literal_type(n.value, n.unit), span=n.span)

    def x_BoolLit(self, n: ast.BoolLit, hint):
        return ir.Const(value=n.value, type=BOOL, span=n.span)

    def x_NaLit(self, n: ast.NaLit, hint):
        return ir.Const(value=None, type=Type(kind="num", free=True, optional=True), span=n.span)

    def x_String(self, n: ast.String, hint):
        if hint is not None and hint.kind == "label":
            return self.label_const(n.text, hint, n.span)
        if self.s.label_def:
            return ir.Const(value=n.text, type=Type(kind="label", labels=(n.text,), free=True), span=n.span)
        return ir.Const(value=n.text, type=TEXT, span=n.span)

    def label_const(self, label: str, hint: Type, span: Span) -> ir.Expr:
        if label not in hint.labels and not hint.free:
            guess = did_you_mean(label, hint.labels)
            self.error("E206", f"`{label}` is not one of the labels here ({', '.join(hint.labels)})", span,
                       "unknown label", suggestion=f"did you mean `{guess}`?" if guess else None)
            return self.bad(span)
        return ir.Const(value=label, type=attrs.evolve(hint, optional=False), span=span)

    def x_Ref(self, n: ast.Ref, hint):
        name = n.name.id
        if hint is not None and hint.kind == "label" and name in hint.labels:
            return ir.Const(value=name, type=attrs.evolve(hint, optional=False), span=n.span)
        if name in self.s.inputs:
            return ir.Load(name=name, type=self.s.inputs[name].type, span=n.span)
        if self.s.allow_inputs_only and (name in self.s.defs or name in self.s.pending):
            self.error("E201", f"a `require` may use inputs only, and `{name}` is a definition", n.span,
                       "not an input")
            return self.bad(n.span)
        if name in self.s.defs:
            return ir.Load(name=name, type=self.s.defs[name].type, span=n.span)
        if name in self.s.pending:
            return self.bad(n.span)  # already reported (cycle or error in that definition)
        if self.s.label_def:
            return ir.Const(value=name, type=Type(kind="label", labels=(name,), free=True), span=n.span)
        if hint is not None and hint.kind == "label":
            return self.label_const(name, hint, n.span)
        if name in ("agent", "period"):
            self.error("E201", f"formulas cannot read `{name}`: it identifies the record, it is not a measure",
                       n.span, "not a value", suggestion="use `cohort` for team values and `streak`/`previous` "
                       "for earlier periods")
            return self.bad(n.span)
        if name in self.s.cohorts:
            self.error("E301", f"`{name}` is a cohort; use it with `over`, as in `max(x over {name})`",
                       n.span, "a cohort, not a value")
            return self.bad(n.span)
        candidates = list(self.s.inputs) + list(self.s.defs) + list(self.s.pending)
        guess = did_you_mean(name, candidates)
        if name == "total" and self.s.header_total is not None and not guess:
            from .soundness import _num

            n_pts = _num(self.s.header_total)
            self.error("E201", f"`{name}` is not defined", n.span, "not defined",
                       suggestion=f"the header's `total {n_pts} pts` is the maximum, not a value: write the number "
                                  f"(`70% of {n_pts}`), or define the total (`total = items`)")
            return self.bad(n.span)
        self.error("E201", f"`{name}` is not defined", n.span, "not defined",
                   suggestion=f"did you mean `{guess}`?" if guess else "define it with `input` or `let`")
        return self.bad(n.span)

    def x_Items(self, n: ast.Items, hint):
        if not self.s.items:
            self.error("E201", "`items` is the sum of the policy's items, but it has no `item`", n.span)
            return self.bad(n.span)
        loads = [ir.Load(name=i, type=self.s.defs[i].type if i in self.s.defs else ERROR, span=n.span)
                 for i in self.s.items]
        if any(x.type.kind == "error" for x in loads):
            return self.bad(n.span)
        acc: ir.Expr = loads[0]
        for x in loads[1:]:
            acc = ir.Arith(op="+", left=acc, right=x, type=join_num(acc.type, x.type), span=n.span)
        return acc

    def x_Binary(self, n: ast.Binary, hint):
        e = self._binary(n)
        value = _const_value(e) if isinstance(e, ir.Arith) else None
        if value is not None:  # fold constants: `70% of 130` is 91
            r = Repr.INT if value.denominator == 1 else Repr.DEC if terminates(value) else Repr.RAT
            return ir.Const(value=value, type=attrs.evolve(e.type, repr=r), span=n.span)
        return e

    def _binary(self, n: ast.Binary):
        left = self.expr(n.left)
        right = self.expr(n.right)
        what = {"+": "the two sides of `+`", "-": "the two sides of `-`"}.get(n.op.value, "")
        ok = self.need_num(left, n.left.span, "this value") & self.need_num(right, n.right.span, "this value")
        if not ok:
            return self.bad(n.span)
        op = n.op
        try:
            if op in (ast.BinOp.ADD, ast.BinOp.SUB):
                t = join_num(left.type, right.type)
                t = attrs.evolve(t, count=t.count and op is ast.BinOp.ADD or (t.count and op is ast.BinOp.SUB
                                                                              and False))
                return ir.Arith(op=op.value, left=left, right=right, type=t, span=n.span)
            if op in (ast.BinOp.MUL, ast.BinOp.OF):
                return ir.Arith(op="*", left=left, right=right, type=mul_type(left.type, right.type), span=n.span)
            if op is ast.BinOp.PER:
                if right.type.dim is not Dim.NONE:
                    self.error("E302", f"`per` counts occurrences, but `{self.text(n.right.span)}` is "
                               f"{right.type.describe()}", n.right.span, "not a count")
                    return self.bad(n.span)
                t = Type(kind="num", dim=left.type.dim, repr=max(left.type.repr, right.type.repr),
                         free=left.type.free)
                return ir.Arith(op="*", left=left, right=right, type=t, span=n.span)
            # division
            denominator = _const_value(right)
            exact_recip = denominator is not None and denominator != 0 and terminates(1 / denominator)
            t = div_type(left.type, right.type, exact_recip)
            if denominator is not None and denominator == 0:
                self.error("E304", "division by zero", n.right.span, "this is zero")
                return self.bad(n.span)
            if denominator is None and not self.s.guarded and not _never_zero(right, self.s):
                self.error("E304", f"`{self.text(n.right.span)}` can be zero, and the policy does not say "
                           "what this division gives then", n.right.span, "may be zero",
                           suggestion=f"write `({self.text(n.span)} when zero 0)` (or the value it should give)")
            return ir.Arith(op="/", left=left, right=right, type=t, span=n.span)
        except UnitError as e:
            self.error("E302", f"{what or 'these values'}: {e}" if what else str(e)[0].upper() + str(e)[1:],
                       n.span, "units do not fit")
            return self.bad(n.span)

    def x_Neg(self, n: ast.Neg, hint):
        x = self.expr(n.operand)
        if not self.need_num(x, n.operand.span, "a negated value"):
            return self.bad(n.span)
        return ir.Neg(operand=x, type=attrs.evolve(x.type, count=False), span=n.span)

    def x_Beyond(self, n: ast.Beyond, hint):
        x = self.expr(n.operand)
        k = self.expr(n.allowance)
        if not (self.need_num(x, n.operand.span, "the value before `beyond`")
                & self.need_num(k, n.allowance.span, "the allowance after `beyond`")):
            return self.bad(n.span)
        t = self.join(x.type, k.type, n.span, "`beyond`")
        if t.kind == "error":
            return self.bad(n.span)
        zero = ir.Const(value=Fraction(0), type=Type(kind="num", repr=Repr.INT, free=True), span=n.span)
        diff = ir.Arith(op="-", left=x, right=k, type=t, span=n.span)
        return ir.MinMax(func="max", args=(zero, diff), type=attrs.evolve(t, free=False) if not t.free else t,
                         span=n.span)

    def x_Compare(self, n: ast.Compare, hint):
        operands = self._compare_operands(n.operands)
        for (a, b), op, span in zip(zip(operands, operands[1:]), n.ops, _pairs_spans(n.operands)):
            self._check_comparable(a, b, CMP[op], span)
        return ir.Compare(ops=tuple(CMP[o] for o in n.ops), operands=tuple(operands), span=n.span)

    def _compare_operands(self, nodes) -> list[ir.Expr]:
        # resolve label names against the label type on the other side
        first_pass = []
        label_type = None
        for node in nodes:
            if isinstance(node, (ast.Ref, ast.String)) and _could_be_label(node, self.s):
                first_pass.append(None)
            else:
                e = self.expr(node)
                first_pass.append(e)
                if e.type.kind == "label" and label_type is None:
                    label_type = e.type
        out = []
        for node, e in zip(nodes, first_pass):
            out.append(e if e is not None else self.expr(node, label_type))
        return out

    def _check_comparable(self, a: ir.Expr, b: ir.Expr, op: str, span: Span):
        ta, tb = a.type, b.type
        if ta.kind == "error" or tb.kind == "error":
            return
        if ta.kind == "num" and tb.kind == "num":
            if ta.optional or tb.optional:
                self.error("E303", "a value that may be N/A is compared; say what it counts as with `when na`",
                           span, "may be N/A")
                return
            self.join(ta, tb, span, "the two sides of this comparison")
            return
        if ta.kind == "label" and tb.kind == "label":
            if ta.optional or tb.optional:
                self.error("E303", "a value that may be N/A is compared; say what it counts as with `when na`",
                           span, "may be N/A")
                return
            if self.join(ta, tb, span, "the two sides of this comparison").kind == "error":
                return  # (labels of different kinds: said once, not again as "not ordered")
            if op not in ("=", "!=") and not (ta.ordered and tb.ordered):
                self.error("E301", "only grades are ordered; these labels can only be compared with `=` or `!=`",
                           span, "not ordered")
            return
        if ta.kind == tb.kind and ta.kind in ("bool", "text"):
            if op not in ("=", "!="):
                self.error("E301", f"{ta.describe()} can only be compared with `=` or `!=`", span)
            return
        self.error("E301", f"cannot compare {ta.describe()} with {tb.describe()}", span, "different kinds")

    def x_Not(self, n: ast.Not, hint):
        x = self.expr(n.operand)
        self.need_bool(x, n.operand.span)
        return ir.Not(operand=x, span=n.span)

    def x_Logic(self, n: ast.Logic, hint):
        a = self.expr(n.left)
        b = self.expr(n.right)
        self.need_bool(a, n.left.span)
        self.need_bool(b, n.right.span)
        return ir.Logic(op=n.op, left=a, right=b, span=n.span)

    def x_If(self, n: ast.If, hint):
        cond = self.expr(n.cond)
        self.need_bool(cond, n.cond.span)
        then = self.expr(n.then, hint)
        other = self.expr(n.otherwise, hint if hint is not None else (then.type if then.type.kind == "label" else None))
        t = self.join(then.type, other.type, n.span, "the two branches of `if … else`")
        return ir.If(cond=cond, then=then, otherwise=other, type=t, span=n.span)

    def x_Round(self, n: ast.Round, hint):
        x = self.expr(n.operand)
        q = self.constant(n.quantum, "the rounding step")
        mode = RoundMode.HALF_UP
        if n.mode is not None:
            try:
                mode = RoundMode(n.mode.id)
            except ValueError:
                guess = did_you_mean(n.mode.id, [m.value for m in RoundMode])
                self.error("E308", f"`{n.mode.id}` is not a rounding mode (half_up, half_even, up, down)",
                           n.mode.span, "unknown mode", suggestion=f"did you mean `{guess}`?" if guess else None)
        if q is not None and (q <= 0 or not terminates(q)):
            self.error("E308", "the rounding step must be a positive decimal number, like 0.01", n.quantum.span)
            q = None
        if not self.need_num(x, n.operand.span, "the rounded value") or q is None:
            return self.bad(n.span)
        return ir.Round(operand=x, quantum=q, mode=mode,
                        type=attrs.evolve(x.type, repr=Repr.DEC, count=False), span=n.span)

    def x_Clamp(self, n: ast.Clamp, hint):
        x = self.expr(n.operand)
        if not self.need_num(x, n.operand.span, "the clamped value"):
            return self.bad(n.span)
        t = x.type
        lo = hi = None
        if n.lo is not None:
            lo = self.expr(n.lo)
            if self.need_num(lo, n.lo.span, "the lower bound"):
                t = self.join(t, lo.type, n.lo.span, "the value and its lower bound")
        if n.hi is not None:
            hi = self.expr(n.hi)
            if self.need_num(hi, n.hi.span, "the upper bound"):
                t = self.join(t, hi.type, n.hi.span, "the value and its upper bound")
        lo_v = _const_value(lo) if lo is not None else None
        hi_v = _const_value(hi) if hi is not None else None
        if lo_v is not None and hi_v is not None and lo_v > hi_v:
            self.error("E305", "the lower bound is above the upper bound, so every value would be clamped",
                       n.span, "bounds reversed", suggestion="write the smaller bound first: `clamp 0 .. 130`")
        return ir.Clamp(operand=x, lo=lo, hi=hi, type=t, span=n.span)

    def x_WhenZero(self, n: ast.WhenZero, hint):
        self.s.guarded += 1
        try:
            x = self.expr(n.operand, hint)
        finally:
            self.s.guarded -= 1
        d = self.expr(n.default, hint)
        t = self.join(x.type, d.type, n.span, "the value and its `when zero` value")
        return ir.ZeroGuard(operand=x, default=d, type=t, span=n.span)

    def x_WhenNa(self, n: ast.WhenNa, hint):
        x = self.expr(n.operand, hint)
        # a label's default is one of its labels: `(grade when na 中)`
        d = self.expr(n.default, attrs.evolve(x.type, optional=False) if x.type.kind == "label" else hint)
        if x.type.kind != "error" and not x.type.optional:
            self.error("E303", f"`{self.text(n.operand.span)}` is never N/A, so `when na` has nothing to do",
                       n.span, "never N/A")
        t = self.join(attrs.evolve(x.type, optional=False), d.type, n.span, "the value and its `when na` value")
        return ir.NaGuard(operand=x, default=d, type=attrs.evolve(t, optional=d.type.optional), span=n.span)

    # ── calls ──
    def x_Call(self, n: ast.Call, hint):
        f = n.func.id
        if f not in FUNCS:
            guess = did_you_mean(f, FUNCS)
            self.error("E204", f"there is no function `{f}`", n.func.span, "unknown function",
                       suggestion=f"did you mean `{guess}`?" if guess else
                       "functions: " + ", ".join(sorted(FUNCS)))
            return self.bad(n.span)
        overs = [a for a in n.args if a.over is not None]
        if overs:
            return self.aggregate(n, f)
        if f in ("streak", "previous"):
            saved, self.s.guarded = self.s.guarded, 0  # computed for every period first: guard inside
            try:
                args = [self.expr(a.value) for a in n.args]
            finally:
                self.s.guarded = saved
            return self.history(n, f, args)
        if f in ("rank", "share"):
            self.error("E205", f"`{f}` compares an agent with a cohort: write `{f}(x over team)`", n.span)
            return self.bad(n.span)
        args = [self.expr(a.value) for a in n.args]
        spans = [a.span for a in n.args]
        if not args:
            self.error("E205", f"`{f}` needs at least one argument", n.span)
            return self.bad(n.span)
        if f in ("min", "max", "sum", "mean"):
            if not all([self.need_num(a, s, f"an argument of `{f}`") for a, s in zip(args, spans)]):
                return self.bad(n.span)
            t = args[0].type
            for a, s in zip(args[1:], spans[1:]):
                t = self.join(t, a.type, s, f"the arguments of `{f}`")
            if t.kind == "error":
                return self.bad(n.span)
            if f == "sum":
                acc = args[0]
                for a in args[1:]:
                    acc = ir.Arith(op="+", left=acc, right=a, type=join_num(acc.type, a.type), span=n.span)
                return acc
            if f == "mean":
                k = len(args)
                r = Repr.RAT if not terminates(Fraction(1, k)) else max(t.repr, Repr.DEC)
                return ir.Mean(args=tuple(args), type=attrs.evolve(t, repr=r, count=False), span=n.span)
            return ir.MinMax(func=f, args=tuple(args), type=t, span=n.span)
        if f == "abs":
            if len(args) != 1:
                self.error("E205", f"`abs` takes one value, but {len(args)} are given", n.span,
                           "one value expected")
                return self.bad(n.span)
            if not self.need_num(args[0], spans[0], "the argument of `abs`"):
                return self.bad(n.span)
            return ir.Abs(operand=args[0], type=args[0].type, span=n.span)
        if f in ("count", "all", "any"):
            if not all([self.need_bool(a, s, f"an argument of `{f}`") for a, s in zip(args, spans)]):
                return self.bad(n.span)
            if f == "count":
                return ir.CountTrue(args=tuple(args), type=Type(kind="num", repr=Repr.INT, count=True), span=n.span)
            rows = tuple((self._gate_label(a), e) for a, e in zip(n.args, args))
            return ir.Gate(kind=f, rows=rows, span=n.span)
        if f in ("failed", "passed"):
            target = n.args[0].value
            if len(n.args) != 1 or not isinstance(target, ast.Ref) or target.name.id not in self.s.gates:
                self.error("E205", f"`{f}` takes the name of a gate defined with `all` or `any`", n.span,
                           "not a gate")
                return self.bad(n.span)
            gate = self.s.gates[target.name.id]
            return ir.GateNames(want=f, rows=gate.rows, span=n.span)
        raise AssertionError(f)

    def history(self, n: ast.Call, f: str, args: list[ir.Expr]) -> ir.Expr:
        spans = [a.span for a in n.args]
        if True:
            if len(args) != 1:
                self.error("E205", f"`{f}` takes one argument", n.span)
                return self.bad(n.span)
            a = args[0]
            if f == "streak":
                if not self.need_bool(a, spans[0], "the argument of `streak`"):
                    return self.bad(n.span)
                col = self.column(a, spans[0])
                return ir.History(func="streak", column=col, type=Type(kind="num", repr=Repr.INT, count=True),
                                  span=n.span)
            if a.type.kind == "error":
                return self.bad(n.span)
            col = self.column(a, spans[0])
            return ir.History(func="previous", column=col, type=attrs.evolve(a.type, optional=True), span=n.span)

    def _gate_label(self, arg: ast.Arg) -> str:
        v = arg.value
        if isinstance(v, ast.Ref):
            return v.name.id
        return " ".join(self.text(arg.span).split())

    def column(self, e: ir.Expr, span: Span) -> str:
        """Name the column an aggregate reads: an input or definition, or a hidden one."""
        if isinstance(e, ir.Load):
            return e.name
        return self.s.add_hidden(self.s.owner, e, span)

    def aggregate(self, n: ast.Call, f: str) -> ir.Expr:
        if f not in AGG_FUNCS or len(n.args) != 1:
            self.error("E205", "`over` works with max, min, sum, mean, count, rank and share, "
                       "with one argument: `max(x over team)`", n.span)
            return self.bad(n.span)
        arg = n.args[0]
        cohort = arg.over.id
        if cohort not in self.s.cohorts:
            guess = did_you_mean(cohort, self.s.cohorts)
            self.error("E107", f"there is no cohort `{cohort}`", arg.over.span, "unknown cohort",
                       suggestion=f"did you mean `{guess}`?" if guess else
                       f"declare it, e.g. `cohort {cohort} by {cohort}`")
            return self.bad(n.span)
        if arg.value is None:
            if f != "count":
                self.error("E205", f"`{f}` needs a value before `over`", n.span)
                return self.bad(n.span)
            return ir.Aggregate(func="count", column=None, cohort=cohort, descending=True,
                                type=Type(kind="num", repr=Repr.INT, count=True), span=n.span)
        saved, self.s.guarded = self.s.guarded, 0  # computed for the whole cohort first: guard inside
        try:
            value = self.expr(arg.value)
        finally:
            self.s.guarded = saved
        if f == "count":
            if not self.need_bool(value, arg.value.span, "what `count … over` counts"):
                return self.bad(n.span)
            t = Type(kind="num", repr=Repr.INT, count=True)
        else:
            if not self.need_num(value, arg.value.span, f"the value of `{f}`"):
                return self.bad(n.span)
            vt = value.type
            if f in ("max", "min", "sum"):
                t = attrs.evolve(vt, free=False)
            elif f == "mean":
                t = attrs.evolve(vt, repr=Repr.RAT, count=False, free=False)
            elif f == "rank":
                t = Type(kind="num", repr=Repr.INT, count=True)
            else:  # share
                t = Type(kind="num", repr=Repr.RAT)
                if not self.s.guarded:
                    self.error("E304", "a share divides by the cohort's sum, which can be zero; "
                               "say what it gives then", n.span, "may divide by zero",
                               suggestion=f"write `({self.text(n.span)} when zero 0)`")
        desc = arg.order != "ascending"
        col = self.column(value, arg.value.span)
        if f == "share":  # x ÷ the cohort's sum: an ordinary division, so `when zero` governs it
            total = ir.Aggregate(func="sum", column=col, cohort=cohort, descending=True,
                                 type=attrs.evolve(value.type, free=False), span=n.span)
            part = ir.Load(name=col, type=value.type, span=arg.value.span)
            return ir.Arith(op="/", left=part, right=total, type=t, span=n.span)
        return ir.Aggregate(func=f, column=col, cohort=cohort, descending=desc, type=t, span=n.span)


def _pairs_spans(nodes) -> list[Span]:
    return [a.span.join(b.span) for a, b in zip(nodes, nodes[1:])]


def _could_be_label(node, scope: Scope) -> bool:
    if isinstance(node, ast.String):
        return True
    name = node.name.id
    if name not in scope.inputs and name not in scope.defs and name not in scope.pending:
        return True
    if scope.input_labels is None:  # every label of every input, computed once per policy
        scope.input_labels = {lab for t in scope.inputs.values() if t.type.kind == "label" for lab in t.type.labels}
    return name in scope.input_labels


def _const_value(e: ir.Expr) -> Fraction | None:
    """The value of a constant number expression, if it is one."""
    if isinstance(e, ir.Const) and isinstance(e.value, Fraction):
        return e.value
    if isinstance(e, ir.Neg):
        v = _const_value(e.operand)
        return -v if v is not None else None
    if isinstance(e, ir.Arith):
        a, b = _const_value(e.left), _const_value(e.right)
        if a is None or b is None:
            return None
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if e.op == "/" and b != 0:
            return a / b
    return None


def _never_zero(e: ir.Expr, scope: Scope) -> bool:
    """True when the range of a denominator, over all valid records, excludes zero."""
    from ..ranges import Ranges

    if isinstance(e, ir.Load) and e.name in scope.inputs and scope.inputs[e.name].domain:
        return all((lo is not None and lo > 0) or (hi is not None and hi < 0)
                   for lo, hi in scope.inputs[e.name].domain)
    r = Ranges(inputs=scope.inputs, defs=scope.defs).of(e)
    return r is not None and ((r[0] is not None and r[0] > 0) or (r[1] is not None and r[1] < 0))
