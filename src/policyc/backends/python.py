"""Python backend: `ir.Policy` → Python source (deterministic, standard library only).

Safety: policy names never become Python names (`py_name` gives ASCII names
made of a prefix and an index); every literal goes through `py_literal`
(`repr` of int/str/bool, or a constructor call on such a repr). User text
never lands inside hand-written quotes or comments.

Exactness: each value is held as int, Decimal or Fraction as the IR's `Repr`
says; the code converts Decimal → Fraction where a rational meets a decimal,
and runs under a Decimal context that traps any inexact step.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from .. import __version__, ir
from ..ir import Repr

_ASCII = re.compile(r"[^0-9A-Za-z]+")
_POW10 = {Fraction(1, 10**k): k for k in range(0, 30)}


def py_name(prefix: str, index: int, name: str) -> str:
    """A Python identifier for a policy name: ASCII only, unique by index."""
    tail = _ASCII.sub("", name)[:24]
    return f"{prefix}{index}_{tail}" if tail else f"{prefix}{index}"


def py_literal(value) -> str:
    """Python source for a constant: int, str, bool, None, Decimal or Fraction."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Decimal):
        return f"Decimal({str(value)!r})"
    if isinstance(value, Fraction):
        return f"Fraction({value.numerator!r}, {value.denominator!r})"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise TypeError(f"no literal for {type(value).__name__}")


def decimal_of(f: Fraction) -> Decimal:
    """The exact Decimal of a rational with a finite decimal form."""
    d = Decimal(f.numerator) / Decimal(f.denominator)
    return d


class _Writer:
    def __init__(self):
        self.lines: list[str] = []
        self.level = 0

    def line(self, text: str = ""):
        self.lines.append(("    " * self.level + text) if text else "")

    def indent(self):
        self.level += 1

    def dedent(self):
        self.level -= 1

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class _Consts:
    """Module-level constants, named by order of first use (deterministic)."""

    def __init__(self):
        self.by_code: dict[str, str] = {}

    def get(self, code: str) -> str:
        name = self.by_code.get(code)
        if name is None:
            name = f"_K{len(self.by_code)}"
            self.by_code[code] = name
        return name


class PythonBackend:
    def __init__(self, policy: ir.Policy):
        self.p = policy
        self.consts = _Consts()
        self.slots: dict[str, int] = {}
        self.local: dict[str, str] = {}
        self.temp = 0
        self.types: dict[str, ir.Type] = {}
        n = 3
        for i, inp in enumerate(policy.inputs):
            self.slots[inp.name] = n
            self.local[inp.name] = py_name("i", i, inp.name)
            self.types[inp.name] = inp.type
            n += 1
        for i, d in enumerate(policy.definitions):
            self.slots[d.name] = n
            self.local[d.name] = py_name("d", i, d.name)
            self.types[d.name] = d.type
            n += 1
        self.aggs: dict[tuple, tuple[int, str, int]] = {}  # key → (slot, local, phase)
        for d in policy.definitions:
            for node in ir.walk(d.expr):
                if isinstance(node, (ir.Aggregate, ir.History)):
                    key = _agg_key(node)
                    if key not in self.aggs:
                        self.aggs[key] = (n, f"g{len(self.aggs)}", d.phase)
                        n += 1
        self.width = n

    # ── entry ──
    def module(self, standalone: bool) -> str:
        """Return the module source; standalone modules carry the runtime inline."""
        body = self.policy_code()
        head = [
            f'"""Scoring functions for the policy {self.p.name!r}, compiled by policyc {__version__}.',
            "",
            "Generated code: do not edit; change the .policy file and compile again.",
            "Needs only the Python standard library.",
            '"""',
            "",
        ]
        if standalone:
            runtime = (Path(__file__).resolve().parent.parent / "runtime.py").read_text(encoding="utf-8")
            return "\n".join(head) + "\n# ── policyc runtime ──\n" + runtime + "\n# ── the policy ──\n" + body
        return body

    def policy_code(self) -> str:
        w = _Writer()
        main = _Writer()
        self.emit_metadata(main)
        self.emit_read(main)
        for phase in range(self.p.phases):
            self.emit_phase(main, phase)
        self.emit_public(main)
        self.emit_batch(main)
        self.emit_score(main)
        w.line("from decimal import Decimal, ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_UP, ROUND_DOWN")
        w.line("from fractions import Fraction")
        w.line()
        for code, name in self.consts.by_code.items():
            w.line(f"{name} = {code}")
        w.line()
        return w.text() + main.text()

    # ── metadata ──
    def emit_metadata(self, w: _Writer):
        p = self.p
        w.line(f"POLICY = {py_literal(p.name)}")
        w.line(f"TITLE = {py_literal(p.title)}")
        w.line(f"PERIOD = {py_literal(p.period)}")
        w.line("INPUTS = (")
        for inp in p.inputs:
            w.line(f"    ({py_literal(inp.name)}, {py_literal(inp.kind)}),")
        w.line(")")
        w.line("OUTPUTS = (")
        for name in p.outputs:
            w.line(f"    {py_literal(name)},")
        w.line(")")
        w.line(f"_KNOWN = frozenset(({', '.join(py_literal(n) for n in ['agent', 'period'] + [i.name for i in p.inputs])},))")
        w.line()

    # ── validation ──
    def emit_read(self, w: _Writer):
        """`_read(rec, index, issues)`: validate one record; return its slots or None."""
        w.line("def _read(rec, index, issues):")
        w.indent()
        self.emit_validation(w)
        w.line("if not ok:")
        w.line("    return None")
        vals = ["agent", "period", "ordinal"] + [self.local[i.name] for i in self.p.inputs]
        vals += ["None"] * (self.width - len(vals))
        w.line(f"return [{', '.join(vals)}]")
        w.dedent()
        w.line()

    def emit_validation(self, w: _Writer):
        p = self.p
        w.line("ok = True")
        w.line("if type(rec) is not dict:")
        w.line("    issues.append(RecordIssue(index, None, None, None, 'a record must be an object of fields'))")
        w.line("    return None")
        w.line("agent = rec.get('agent')")
        w.line("period = rec.get('period')")
        w.line("ordinal = None")
        w.line("if type(agent) is not str or not agent:")
        w.line("    issues.append(RecordIssue(index, agent, period, 'agent', "
               "'missing field' if agent is None else 'the agent must be a non-empty text'))")
        w.line("    ok = False")
        w.line("try:")
        w.line(f"    ordinal = read_period(period, {py_literal(p.period)})")
        w.line("except _Bad as e:")
        w.line("    issues.append(RecordIssue(index, agent, period, 'period', "
               "'missing field' if period is None else str(e)))")
        w.line("    ok = False")
        for inp in p.inputs:
            self.emit_field(w, inp)
        if not p.allow_extra:
            w.line(f"if not ok or len(rec) != {2 + len(p.inputs)}:")
            w.line("    for k in rec:")
            w.line("        if k not in _KNOWN:")
            w.line("            issues.append(RecordIssue(index, agent, period, k, "
                   "'unknown field (not an input of this policy)'))")
            w.line("            ok = False")
        if p.requires:
            w.line("if ok:")
            w.indent()
            for r in p.requires:
                cond, _ = self.expr(r.cond, w)
                w.line(f"if not ({cond}):")
                shown = " + ', ' + ".join(
                    f"{py_literal(f + ' = ')} + _fmt({self.local[f]})" for f in r.fields) or "''"
                w.line(f"    issues.append(RecordIssue(index, agent, period, {py_literal(r.fields[0])}, "
                       f"{py_literal('constraint ' + r.text + ' broken: ')} + {shown}, "
                       f"{py_literal(tuple(r.fields))}))")
                w.line("    ok = False")
            w.dedent()

    def emit_field(self, w: _Writer, inp: ir.Input):
        name = self.local[inp.name]
        key = py_literal(inp.name)
        w.line("try:")
        w.line(f"    v = rec[{key}]")
        w.line("except KeyError:")
        w.line(f"    issues.append(RecordIssue(index, agent, period, {key}, 'missing field'))")
        w.line("    ok = False")
        w.line(f"    {name} = None")
        w.line("else:")
        w.indent()
        reader = self.reader(inp)
        if inp.na:
            w.line(f"if is_na(v):")
            w.line(f"    {name} = None")
            w.line("else:")
            w.indent()
        w.line("try:")
        w.line(f"    {name} = {reader}")
        w.line("except _Bad as e:")
        w.line(f"    issues.append(RecordIssue(index, agent, period, {key}, str(e)))")
        w.line("    ok = False")
        w.line(f"    {name} = None")
        if inp.na:
            w.dedent()
        w.dedent()

    def reader(self, inp: ir.Input) -> str:
        k = inp.kind
        if k == "count" and not inp.domain:
            return "v if type(v) is int and v >= 0 else read_count(v)"
        if k in ("count", "percent", "duration", "money", "points", "number"):
            dom = self.consts.get(py_literal(tuple((lo_hi(lo), lo_hi(hi)) for lo, hi in inp.domain)))
            call = f"read_number(v, {py_literal(k)}, {dom}, {py_literal(inp.name)})"
            fast = _fast_domain(k, inp.domain)
            if fast is not None:
                return f"v if type(v) is int and {fast} else {call}"
            return call
        if k in ("grade", "choice"):
            labels = self.consts.get(py_literal(inp.type.labels))
            allowed = self.consts.get("frozenset(" + py_literal(inp.type.labels) + ")")
            return f"v if type(v) is str and v in {allowed} else read_label(v, {labels})"
        if k == "text":
            return "v if type(v) is str else read_text(v)"
        return "v if v is True or v is False else read_bool(v)"

    # ── phases ──
    def emit_phase(self, w: _Writer, phase: int, fused: bool = False):
        defs = [d for d in self.p.definitions if d.phase == phase]
        if not fused:
            w.line(f"def _phase{phase}(e):")
            w.indent()
            used = self.loads_of(defs)
            for name in used:
                w.line(f"{self.local[name]} = e[{self.slots[name]}]")
            for key, (slot, local, ph) in self.aggs.items():
                if ph == phase and self.uses_agg(defs, key):
                    w.line(f"{local} = e[{slot}]")
        for d in defs:
            code, r = self.expr(d.expr, w)
            if d.type.kind == "num" and d.type.repr is Repr.RAT and r is not Repr.RAT:
                code = self.coerce(code, r, Repr.RAT)
            w.line(f"{self.local[d.name]} = {code}")
            if not fused:
                w.line(f"e[{self.slots[d.name]}] = {self.local[d.name]}")
        if not fused:
            if not defs:
                w.line("pass")
            w.dedent()
            w.line()

    def loads_of(self, defs) -> list[str]:
        names = {d.name for d in defs}
        seen: dict[str, None] = {}
        for d in defs:
            for node in ir.walk(d.expr):
                if isinstance(node, ir.Load) and node.name not in names:
                    seen[node.name] = None
                if isinstance(node, ir.GateNames):
                    for _, c in node.rows:
                        for x in ir.walk(c):
                            if isinstance(x, ir.Load) and x.name not in names:
                                seen[x.name] = None
        return sorted(seen, key=lambda n: self.slots[n])

    def uses_agg(self, defs, key) -> bool:
        return any(isinstance(n, (ir.Aggregate, ir.History)) and _agg_key(n) == key
                   for d in defs for n in ir.walk(d.expr))

    # ── outputs ──
    def emit_public(self, w: _Writer):
        w.line("def _public(e):")
        w.indent()
        w.line("return {")
        w.line("    'agent': e[0],")
        w.line("    'period': e[1],")
        for name in self.p.outputs:
            w.line(f"    {py_literal(name)}: {self.public(name, f'e[{self.slots[name]}]')},")
        w.line("}")
        w.dedent()
        w.line()

    def public(self, name: str, code: str) -> str:
        d = self.p.definition(name)
        t = d.type
        if t.kind != "num":
            return code
        whole = t.count and d.kind not in ("pay", "item")
        return f"public_number({code}, {whole!r})"

    # ── batches ──
    def emit_batch(self, w: _Writer):
        p = self.p
        w.line("def evaluate_batch(records):")
        w.indent()
        w.line('"""Validate every record, then compute every value; return one list of slots per record."""')
        w.line("issues = []")
        w.line("with exact_context():")
        w.indent()
        w.line("envs = []")
        w.line("for index, rec in enumerate(records):")
        w.line("    e = _read(rec, index, issues)")
        w.line("    if e is not None:")
        w.line("        envs.append((index, e))")
        w.line("seen = {}")
        w.line("for index, e in envs:")
        w.line("    first = seen.setdefault((e[0], e[1]), index)")
        w.line("    if first != index:")
        w.line("        issues.append(RecordIssue(index, e[0], e[1], 'period', "
               "'duplicate: agent %r already has a record for period %r (record %d)' % (e[0], e[1], first + 1)))")
        for c in p.cohorts:
            shared = [i for i in p.inputs if i.same_over == c.name]
            if not shared:
                continue
            keyslots = ", ".join(f"e[{self.slots[k]}]" for k in c.keys)
            w.line(f"owner = {{}}")
            w.line("for index, e in envs:")
            w.line(f"    k = (e[1], {keyslots},)")
            w.line("    first = owner.setdefault(k, (index, e))")
            for inp in shared:
                s = self.slots[inp.name]
                w.line(f"    if first[0] != index and first[1][{s}] != e[{s}]:")
                label = py_literal(c.keys[0]) if c.keys else "'cohort'"
                w.line(f"        issues.append(RecordIssue(index, e[0], e[1], {py_literal(inp.name)}, "
                       f"'team-level input differs within %s %r in period %r: %s here, %s in record #%d' % "
                       f"({label}, k[1] if len(k) > 1 else '', e[1], _fmt(e[{s}]), _fmt(first[1][{s}]), first[0])))")
        w.line("if issues:")
        w.line("    issues.sort(key=lambda x: x.index)")
        w.line("    raise RecordError(issues)")
        w.line("envs = [e for _, e in envs]")
        for phase in range(p.phases):
            for key, (slot, local, ph) in self.aggs.items():
                if ph != phase:
                    continue
                self.emit_aggregate(w, key, slot)
            w.line(f"for e in envs:")
            w.line(f"    _phase{phase}(e)")
        w.dedent()
        w.line("return envs")
        w.dedent()
        w.line()

    def emit_aggregate(self, w: _Writer, key, slot):
        kind = key[0]
        if kind == "history":
            _, func, column = key
            w.line(f"col = history({py_literal(func)}, [e[{self.slots[column]}] for e in envs], "
                   "[e[0] for e in envs], [e[2] for e in envs])")
        else:
            _, func, column, cohort, desc = key
            c = next(c for c in self.p.cohorts if c.name == cohort)
            keyexpr = "(e[1], " + "".join(f"e[{self.slots[k]}], " for k in c.keys) + ")"
            values = f"[e[{self.slots[column]}] for e in envs]" if column else "None"
            w.line(f"col = cohort_aggregate({py_literal(func)}, {values}, [{keyexpr} for e in envs], {desc!r})")
        w.line("for e, v in zip(envs, col):")
        w.line(f"    e[{slot}] = v")

    def emit_score(self, w: _Writer):
        w.line("def score_batch(records):")
        w.line('    """Score a batch (cohort and history rules see the whole batch); one dict per record."""')
        w.line("    return [_public(e) for e in evaluate_batch(records)]")
        w.line()
        if self.p.phases > 1:
            w.line("def score(record):")
            w.line('    """Score one record as a batch of one (cohort values see only this record)."""')
            w.line("    return score_batch([record])[0]")
            return
        # one phase: validate and compute straight through, in locals
        w.line("def score(record):")
        w.indent()
        w.line('"""Score one record; raise RecordError naming every bad field."""')
        w.line("rec = record")
        w.line("index = 0")
        w.line("issues = []")
        w.line("with exact_context():")
        w.indent()
        self.emit_validation(w)
        w.line("if not ok:")
        w.line("    raise RecordError(issues)")
        self.emit_phase(w, 0, fused=True)
        w.line("return {")
        w.line("    'agent': agent,")
        w.line("    'period': period,")
        for name in self.p.outputs:
            w.line(f"    {py_literal(name)}: {self.public(name, self.local[name])},")
        w.line("}")
        w.dedent()
        w.dedent()
        w.line()

    # ── expressions ──
    def coerce(self, code: str, have: Repr, want: Repr) -> str:
        if want is Repr.RAT and have is Repr.DEC:
            return f"to_fraction({code})"
        return code

    def tmp(self) -> str:
        self.temp += 1
        return f"t{self.temp}"

    def const(self, value: Fraction, r: Repr) -> str:
        if value.denominator == 1 and r is not Repr.RAT:
            return repr(int(value))
        if r is Repr.RAT or not _terminates(value):
            return self.consts.get(py_literal(value))
        return self.consts.get(py_literal(decimal_of(value)))

    def expr(self, e: ir.Expr, w: _Writer) -> tuple[str, Repr]:
        """Python expression for e (may emit statements before it); and how it is held."""
        m = getattr(self, "x_" + type(e).__name__)
        return m(e, w)

    def num(self, e: ir.Expr, w: _Writer, want: Repr) -> str:
        code, r = self.expr(e, w)
        return self.coerce(code, r, want)

    def x_Const(self, e: ir.Const, w):
        v = e.value
        if isinstance(v, Fraction):
            r = e.type.repr if e.type.kind == "num" else Repr.DEC
            if v.denominator == 1:
                return repr(int(v)), Repr.INT
            return self.const(v, r), (Repr.DEC if _terminates(v) else Repr.RAT)
        return py_literal(v), Repr.INT

    def x_Load(self, e: ir.Load, w):
        t = self.types.get(e.name, e.type)
        return self.local[e.name], (t.repr if t.kind == "num" else Repr.INT)

    def x_Arith(self, e: ir.Arith, w):
        target = e.type.repr
        if e.op == "/":
            value = _const(e.right)
            if value is not None and value != 0 and _terminates(1 / value):
                left = self.num(e.left, w, target)
                return f"({left} * {self.const(1 / value, Repr.DEC)})", max(target, Repr.DEC)
            left, lr = self.expr(e.left, w)
            right, rr = self.expr(e.right, w)
            left = f"to_fraction({left})" if lr is not Repr.RAT else left
            right = self.coerce(right, rr, Repr.RAT)
            return f"({left} / {right})", Repr.RAT
        left = self.num(e.left, w, target)
        right = self.num(e.right, w, target)
        return f"({left} {e.op} {right})", target

    def x_Neg(self, e: ir.Neg, w):
        code, r = self.expr(e.operand, w)
        return f"(-{code})", r

    def x_Compare(self, e: ir.Compare, w):
        t0 = e.operands[0].type
        parts = []
        if t0.kind == "num":
            want = max((o.type.repr for o in e.operands), default=Repr.INT)
            codes = [self.num(o, w, want) for o in e.operands]
        elif t0.kind == "label" and t0.ordered and any(op not in ("=", "!=") for op in e.ops):
            rank = self.consts.get("{" + ", ".join(f"{py_literal(lab)}: {len(t0.labels) - i}"
                                                   for i, lab in enumerate(t0.labels)) + "}")
            codes = [f"{rank}[{self.expr(o, w)[0]}]" for o in e.operands]
        else:
            codes = [self.expr(o, w)[0] for o in e.operands]
        parts.append(codes[0])
        for op, c in zip(e.ops, codes[1:]):
            parts.append({"=": "==", "!=": "!="}.get(op, op))
            parts.append(c)
        return "(" + " ".join(parts) + ")", Repr.INT

    def x_Not(self, e, w):
        return f"(not {self.expr(e.operand, w)[0]})", Repr.INT

    def x_Logic(self, e, w):
        return f"({self.expr(e.left, w)[0]} {e.op} {self.expr(e.right, w)[0]})", Repr.INT

    def x_If(self, e: ir.If, w):
        cond = self.expr(e.cond, w)[0]
        if e.type.kind == "num":
            want = e.type.repr
            a = self.num(e.then, w, want)
            b = self.num(e.otherwise, w, want)
            return f"({a} if {cond} else {b})", want
        return f"({self.expr(e.then, w)[0]} if {cond} else {self.expr(e.otherwise, w)[0]})", Repr.INT

    def x_Round(self, e: ir.Round, w):
        q = e.quantum
        mode = e.mode.value
        inner = e.operand
        if (q in _POW10 and isinstance(inner, ir.Arith) and inner.op == "/"
                and inner.left.type.repr is not Repr.RAT and inner.right.type.repr is not Repr.RAT):
            c = _const(inner.right)
            if c is None or not _terminates(1 / c):
                # exact rounding of a quotient of decimals, in integers
                a = self.expr(inner.left, w)[0]
                b = self.expr(inner.right, w)[0]
                return f"div_round({a}, {b}, {_POW10[q]}, {py_literal(mode)})", Repr.DEC
        code, r = self.expr(inner, w)
        if r is Repr.RAT or q not in _POW10:
            return f"round_to({code}, {self.consts.get(py_literal(q))}, {py_literal(mode)})", Repr.DEC
        exp = self.consts.get(py_literal(Decimal(1).scaleb(-_POW10[q])))
        return f"round_decimal({code}, {exp}, {py_literal(mode)})", Repr.DEC

    def x_Clamp(self, e: ir.Clamp, w):
        want = e.type.repr
        code = self.num(e.operand, w, want)
        if e.lo is not None:
            code = f"max({code}, {self.num(e.lo, w, want)})"
        if e.hi is not None:
            code = f"min({code}, {self.num(e.hi, w, want)})"
        return code, want

    def x_MinMax(self, e: ir.MinMax, w):
        want = e.type.repr
        return f"{e.func}({', '.join(self.num(a, w, want) for a in e.args)})", want

    def x_Abs(self, e, w):
        code, r = self.expr(e.operand, w)
        return f"abs({code})", r

    def x_Mean(self, e: ir.Mean, w):
        n = len(e.args)
        if e.type.repr is Repr.RAT:
            total = " + ".join(self.num(a, w, Repr.RAT) for a in e.args)
            return f"(to_fraction({total}) / {n})", Repr.RAT
        total = " + ".join(self.num(a, w, Repr.DEC) for a in e.args)
        return f"(({total}) * {self.const(Fraction(1, n), Repr.DEC)})", Repr.DEC

    def x_CountTrue(self, e: ir.CountTrue, w):
        return "(0 + " + " + ".join(self.expr(a, w)[0] for a in e.args) + ")", Repr.INT

    def x_ZeroGuard(self, e: ir.ZeroGuard, w):
        t = self.tmp()
        want = e.type.repr if e.type.kind == "num" else Repr.INT
        w.line("try:")
        w.indent()
        code = self.num(e.operand, w, want) if e.type.kind == "num" else self.expr(e.operand, w)[0]
        w.line(f"{t} = {code}")
        w.dedent()
        w.line("except ZeroDivisionError:")
        w.indent()
        code = self.num(e.default, w, want) if e.type.kind == "num" else self.expr(e.default, w)[0]
        w.line(f"{t} = {code}")
        w.dedent()
        return t, want

    def x_NaGuard(self, e: ir.NaGuard, w):
        t = self.tmp()
        want = e.type.repr if e.type.kind == "num" else Repr.INT
        code = self.num(e.operand, w, want) if e.type.kind == "num" else self.expr(e.operand, w)[0]
        w.line(f"{t} = {code}")
        default = self.num(e.default, w, want) if e.type.kind == "num" else self.expr(e.default, w)[0]
        w.line(f"if {t} is None:")
        w.line(f"    {t} = {default}")
        return t, want

    def x_Cases(self, e: ir.Cases, w):
        want = e.type.repr if e.type.kind == "num" else Repr.INT

        def res(row):
            return self.num(row.result, w, want) if e.type.kind == "num" else self.expr(row.result, w)[0]

        if e.otherwise is not None:
            tail = res(e.otherwise)
        else:
            tail = f"no_row({py_literal(' / '.join(r.text for r in e.rows))})"
        if e.kind == "unique":
            conds = []
            for row in e.rows:
                c = self.tmp()
                w.line(f"{c} = {self.expr(row.cond, w)[0]}")
                conds.append(c)
            w.line(f"if {' + '.join(conds)} > 1:")
            w.line(f"    no_row({py_literal('one row of: ' + ' / '.join(r.text for r in e.rows))})")
            code = tail
            for row, c in reversed(list(zip(e.rows, conds))):
                code = f"{res(row)} if {c} else {code}"
            return f"({code})", want
        code = tail
        for row in reversed(e.rows):
            code = f"{res(row)} if {self.expr(row.cond, w)[0]} else {code}"
        return f"({code})", want

    def x_Linear(self, e: ir.Linear, w):
        pts = self.consts.get(py_literal(tuple(e.points)))
        return f"to_fraction(linear({self.expr(e.subject, w)[0]}, {pts}))", Repr.RAT

    def x_Marginal(self, e: ir.Marginal, w):
        sl = self.consts.get(py_literal(tuple(e.slices)))
        return f"marginal({self.expr(e.subject, w)[0]}, {sl})", Repr.RAT

    def x_Weighted(self, e: ir.Weighted, w):
        rows = ", ".join(f"({self.consts.get(py_literal(wt))}, {self.expr(x, w)[0]})" for wt, x in e.rows)
        crit = ", ".join(self.expr(c, w)[0] for c in e.critical)
        return f"weighted(({rows},), ({crit}{',' if crit else ''}))", Repr.RAT

    def x_Gate(self, e: ir.Gate, w):
        op = " and " if e.kind == "all" else " or "
        return "(" + op.join(f"({self.expr(c, w)[0]})" for _, c in e.rows) + ")", Repr.INT

    def x_GateNames(self, e: ir.GateNames, w):
        pairs = ", ".join(f"({py_literal(label)}, {self.expr(c, w)[0]})" for label, c in e.rows)
        neg = "not " if e.want == "failed" else ""
        return f"[n for n, ok in ({pairs},) if {neg}ok]", Repr.INT

    def x_SplitPart(self, e: ir.SplitPart, w):
        amount, r = self.expr(e.amount, w)
        ratios = self.consts.get(py_literal(tuple(e.ratios)))
        q = self.consts.get(py_literal(e.quantum))
        return (f"split_part({amount}, {ratios}, {e.index}, {q}, {py_literal(e.mode.value)}, "
                f"{(r is Repr.RAT)!r})"), (Repr.RAT if r is Repr.RAT else Repr.DEC)

    def x_Aggregate(self, e: ir.Aggregate, w):
        slot, local, _ = self.aggs[_agg_key(e)]
        return local, e.type.repr

    def x_History(self, e: ir.History, w):
        slot, local, _ = self.aggs[_agg_key(e)]
        return local, (e.type.repr if e.type.kind == "num" else Repr.INT)


def _agg_key(node) -> tuple:
    if isinstance(node, ir.History):
        return ("history", node.func, node.column)
    return ("cohort", node.func, node.column, node.cohort, node.descending)


def _const(e: ir.Expr) -> Fraction | None:
    if isinstance(e, ir.Const) and isinstance(e.value, Fraction):
        return e.value
    return None


def _terminates(f: Fraction) -> bool:
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def lo_hi(x):
    if x is None:
        return None
    return int(x) if x.denominator == 1 else decimal_of(x) if _terminates(x) else x


def _fast_domain(kind: str, domain) -> str | None:
    """An inline check for int values, when the domain is one simple range."""
    dom = domain or {"percent": ((Fraction(0), Fraction(1)),), "duration": ((Fraction(0), None),),
                     "money": ((Fraction(0), None),), "count": ((Fraction(0), None),)}.get(kind, ((None, None),))
    if len(dom) != 1:
        return None
    lo, hi = dom[0]
    parts = []
    if lo is not None:
        if lo.denominator != 1:
            return None
        parts.append(f"v >= {int(lo)}")
    if hi is not None:
        if hi.denominator != 1:
            return None
        parts.append(f"v <= {int(hi)}")
    return " and ".join(parts) if parts else "True"


def compile_policy(policy: ir.Policy, standalone: bool = True) -> str:
    """Return Python source for the policy (a standalone module by default)."""
    return PythonBackend(policy).module(standalone)
