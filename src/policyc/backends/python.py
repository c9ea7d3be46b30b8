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
from ..checker.types import terminates as _terminates
from ..ir import Repr
from ..ranges import Ranges, within

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
        # key → (slot, local, the first phase that reads it: its value is computed before that
        # phase runs, and read by every later phase that uses it too)
        self.aggs: dict[tuple, tuple[int, str, int]] = {}
        for d in policy.definitions:
            for node in ir.walk(d.expr):
                if isinstance(node, (ir.Aggregate, ir.History)):
                    key = _agg_key(node)
                    if key not in self.aggs:
                        self.aggs[key] = (n, f"g{len(self.aggs)}", d.phase)
                        n += 1
                    elif d.phase < self.aggs[key][2]:
                        self.aggs[key] = (*self.aggs[key][:2], d.phase)
        self.width = n
        self.ranges = Ranges(policy)

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
        w.line("from decimal import Decimal")
        w.line("from fractions import Fraction")
        w.line()
        w.line("_add, _sub, _mul, _neg, _abs = _CTX.add, _CTX.subtract, _CTX.multiply, _CTX.minus, _CTX.abs")
        w.line("_SEEN_PERIODS = {}")
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
        """`_read(rec, index, issues)`: a fast path for good records, the careful one otherwise."""
        w.line("def _read(rec, index, issues):")
        w.indent()
        w.line("try:")
        w.indent()
        self.emit_fast_reads(w, with_ordinal=True)
        w.line(f"return [{', '.join(self.slot_values())}]")
        w.dedent()
        w.line("except (_Bad, KeyError, TypeError):")
        w.line("    return _read_slowly(rec, index, issues)")
        w.dedent()
        w.line()
        w.line("def _read_slowly(rec, index, issues):")
        w.indent()
        w.line('"""Validate one record field by field, recording every problem; None if any."""')
        self.emit_validation(w)
        w.line("if not ok:")
        w.line("    return None")
        w.line(f"return [{', '.join(self.slot_values())}]")
        w.dedent()
        w.line()

    def slot_values(self) -> list[str]:
        vals = ["agent", "period", "ordinal"] + [self.local[i.name] for i in self.p.inputs]
        return vals + ["None"] * (self.width - len(vals))

    def emit_fast_reads(self, w: _Writer, with_ordinal: bool):
        """Straight-line reads of a well-formed record; raise _Bad (or KeyError/TypeError) on any doubt."""
        p = self.p
        w.line("if type(rec) is not dict:")
        w.line("    raise _Bad()")
        if not p.allow_extra:
            w.line(f"if len(rec) != {2 + len(p.inputs)}:")
            w.line("    raise _Bad()")
        w.line("agent = rec['agent']")
        w.line("if type(agent) is not str or not agent:")
        w.line("    raise _Bad()")
        w.line("period = rec['period']")
        w.line("ordinal = _SEEN_PERIODS.get(period)")
        w.line("if ordinal is None:")
        w.line(f"    ordinal = read_period(period, {py_literal(p.period)})")
        w.line("    if len(_SEEN_PERIODS) < 4096:")
        w.line("        _SEEN_PERIODS[period] = ordinal")
        for inp in p.inputs:
            x = self.local[inp.name]
            w.line(f"{x} = rec[{py_literal(inp.name)}]")
            test, fix = self.fast_check(inp, x)
            if inp.na:
                w.line(f"if {x} is not None and ({test}):")
                w.line(f"    {x} = None if is_na({x}) else {fix}")
            else:
                w.line(f"if {test}:")
                w.line(f"    {x} = {fix}")
        for r in p.requires:
            cond, _ = self.expr(r.cond, w)
            w.line(f"if not ({cond}):")
            w.line("    raise _Bad()")

    def fast_check(self, inp: ir.Input, x: str) -> tuple[str, str]:
        """(a test that is true when x needs the careful reader, the careful read)."""
        k = inp.kind
        if k == "count" and not inp.domain:
            return f"type({x}) is not int or {x} < 0", f"read_count({x})"
        if k in ("count", "percent", "duration", "money", "points", "number"):
            dom = self.consts.get(py_literal(tuple((lo_hi(lo), lo_hi(hi)) for lo, hi in inp.domain)))
            read = f"read_number({x}, {py_literal(k)}, {dom}, {py_literal(inp.name)})"
            ok = _domain_test(k, inp.domain, x, lambda v: self.const(v, Repr.INT if v.denominator == 1
                                                                   else Repr.DEC))
            if k == "count":
                return f"type({x}) is not int" + (f" or not ({ok})" if ok else ""), read
            # a finite Decimal or an ordinary int (JSON's 0, 5) passes; anything else gets the careful reader
            big = self.consts.get(repr(10**30))
            kind_ok = (f"(type({x}) is not Decimal or not {x}.is_finite() or not -30 <= {x}.adjusted() <= 30) "
                       f"and (type({x}) is not int or not -{big} < {x} < {big})")
            return kind_ok + (f" or not ({ok})" if ok else ""), read
        if k in ("grade", "choice"):
            labels = self.consts.get(py_literal(inp.type.labels))
            allowed = self.consts.get("frozenset(" + py_literal(inp.type.labels) + ")")
            return f"{x} not in {allowed}", f"read_label({x}, {labels})"
        if k == "text":
            return f"type({x}) is not str", f"read_text({x})"
        return f"{x} is not True and {x} is not False", f"read_bool({x})"

    def emit_validation(self, w: _Writer):
        p = self.p
        w.line("ok = True")
        w.line("if not isinstance(rec, dict):")
        w.line("    issues.append(RecordIssue(index, None, None, None, "
               "'a record must be an object of named fields, not %s' % type(rec).__name__))")
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
            w.line("for k in rec:")
            w.line("    if k not in _KNOWN:")
            w.line("        issues.append(RecordIssue(index, agent, period, k, "
                   "'unknown field (not an input of this policy)'))")
            w.line("        ok = False")
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
        test, fix = self.fast_check(inp, "v")
        w.line("try:")
        w.line(f"    v = rec[{key}]")
        w.line("except KeyError:")
        w.line(f"    issues.append(RecordIssue(index, agent, period, {key}, 'missing field'))")
        w.line("    ok = False")
        w.line(f"    {name} = None")
        w.line("else:")
        w.indent()
        if inp.na:
            w.line("if is_na(v):")
            w.line(f"    {name} = None")
            w.line("else:")
            w.indent()
        w.line("try:")
        w.line(f"    {name} = {fix} if {test} else v")
        w.line("except (_Bad, TypeError) as e:")
        w.line(f"    issues.append(RecordIssue(index, agent, period, {key}, "
               f"str(e) if isinstance(e, _Bad) else 'wrong type: %s' % type(v).__name__))")
        w.line("    ok = False")
        w.line(f"    {name} = None")
        if inp.na:
            w.dedent()
        w.dedent()

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
                if ph <= phase and self.uses_agg(defs, key):
                    w.line(f"{local} = e[{slot}]")
        for d in defs:
            target = self.local[d.name]
            if d.type.kind == "num" and isinstance(d.expr, ir.Clamp):
                self.emit_clamp(w, d.expr, target, d.type.repr)
            elif d.type.kind == "num":
                w.line(f"{target} = {self.num(d.expr, w, d.type.repr)}")
            else:
                w.line(f"{target} = {self.expr(d.expr, w)[0]}")
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
        """The output value: int for counts, Decimal for other numbers (see the repr invariant)."""
        d = self.p.definition(name)
        t = d.type
        if t.kind != "num":
            return code
        if t.repr is Repr.RAT:
            return f"public_number({code}, False)"
        if t.repr is Repr.DEC:  # a DEC value is an int or a Decimal; outputs are Decimals, never -0
            return f"({code} if type({code}) is Decimal and {code} else public_number({code}, False))"
        return code

    # ── batches ──
    def emit_batch(self, w: _Writer):
        p = self.p
        w.line("def evaluate_batch(records):")
        w.indent()
        w.line('"""Validate every record, then compute every value; return one list of slots per record."""')
        w.line("issues = []")
        w.line("if True:")
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
            # a team-level input must agree within the cohort; when it does not, no record of that
            # team and period can be scored (nobody knows which value is right), so all are rejected
            key = ", ".join(["e[1]", *(f"e[{self.slots[k]}]" for k in c.keys)])  # (period, then the keys)
            w.line("members = {}")
            w.line("for index, e in envs:")
            w.line(f"    members.setdefault(({key},), []).append((index, e))")
            w.line("for k, group in members.items():")
            for inp in shared:
                s_ = self.slots[inp.name]
                w.line("    values = {}")
                w.line("    for index, e in group:")
                w.line(f"        values.setdefault(e[{s_}], index)")
                w.line("    if len(values) > 1:")
                w.line("        seen_text = ', '.join('%s in record %d' % (_fmt(v), i + 1) for v, i in values.items())")
                w.line("        for index, e in group:")
                w.line(f"            issues.append(RecordIssue(index, e[0], e[1], {py_literal(inp.name)}, "
                       f"'team-level input differs within %s%s in period %r: %s' % "
                       f"({py_literal(c.name)}, ''.join(' %r' % (x,) for x in k[1:]), e[1], seen_text)))")
        w.line("if issues:")
        w.line("    issues.sort(key=lambda x: x.index)")
        w.line("    raise RecordError(issues)")
        w.line("envs = [e for _, e in envs]")
        for phase in range(p.phases):
            for key, (slot, _local, ph) in self.aggs.items():
                if ph != phase:
                    continue
                self.emit_aggregate(w, key, slot)
            w.line("for e in envs:")
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
        w.line("try:")
        w.indent()
        self.emit_fast_reads(w, with_ordinal=False)
        w.dedent()
        w.line("except (_Bad, KeyError, TypeError):")
        w.line("    issues = []")
        w.line("    e = _read_slowly(rec, 0, issues)")
        w.line("    if e is None:")
        w.line("        raise RecordError(issues) from None")
        w.line("    _phase0(e)")
        w.line("    return _public(e)")
        self.emit_phase(w, 0, fused=True)
        w.line("return {")
        w.line("    'agent': agent,")
        w.line("    'period': period,")
        for name in self.p.outputs:
            w.line(f"    {py_literal(name)}: {self.public(name, self.local[name])},")
        w.line("}")
        w.dedent()
        w.line()

    # ── expressions ──
    # The representation invariant: an expression whose IR repr is INT evaluates to an int,
    # DEC to an int or a Decimal (Decimal arithmetic goes through the exact context's methods,
    # which take both), RAT to a Fraction (or an int). `num(e, want)` delivers e as wanted.

    def coerce(self, code: str, have: Repr, want: Repr) -> str:
        if have is want or want is Repr.INT or (have is Repr.INT and want is Repr.DEC):
            return code
        if want is Repr.RAT:
            return f"Fraction({code})" if have is Repr.DEC else code
        raise AssertionError("a rational never narrows to a decimal without rounding")

    def tmp(self) -> str:
        self.temp += 1
        return f"t{self.temp}"

    def const(self, value: Fraction, r: Repr) -> str:
        if r is Repr.INT and value.denominator == 1:
            return repr(int(value))
        if r is Repr.RAT or not _terminates(value):
            return self.consts.get(py_literal(value))
        return self.consts.get(py_literal(decimal_of(value)))

    def expr(self, e: ir.Expr, w: _Writer) -> tuple[str, Repr]:
        """Python expression for e (may emit statements before it); and its repr."""
        m = getattr(self, "x_" + type(e).__name__)
        return m(e, w)

    def num(self, e: ir.Expr, w: _Writer, want: Repr) -> str:
        if isinstance(e, ir.Const) and isinstance(e.value, Fraction):
            natural = Repr.INT if e.value.denominator == 1 else Repr.DEC if _terminates(e.value) else Repr.RAT
            return self.const(e.value, max(want, natural))
        code, r = self.expr(e, w)
        return self.coerce(code, r, want)

    def x_Const(self, e: ir.Const, w):
        v = e.value
        if isinstance(v, Fraction):
            r = Repr.INT if v.denominator == 1 else Repr.DEC if _terminates(v) else Repr.RAT
            return self.const(v, r), r
        return py_literal(v), Repr.INT

    def x_Load(self, e: ir.Load, w):
        t = self.types.get(e.name, e.type)
        return self.local[e.name], (t.repr if t.kind == "num" else Repr.INT)

    def x_Arith(self, e: ir.Arith, w):
        target = e.type.repr
        if e.op == "/":
            value = _const(e.right)
            if value is not None and value != 0 and _terminates(1 / value) and target is not Repr.RAT:
                left, lr = self.expr(e.left, w)
                return f"_mul({left}, {self.const(1 / value, Repr.DEC)})", Repr.DEC
            left, lr = self.expr(e.left, w)
            right = self.num(e.right, w, Repr.RAT) if not isinstance(e.right, ir.Const) else \
                self.const(e.right.value, Repr.INT if e.right.value.denominator == 1 else Repr.RAT)
            left = left if lr is Repr.RAT else f"Fraction({left})"
            return f"({left} / {right})", Repr.RAT
        if target is Repr.DEC and e.op in ("+", "-"):
            return self.sum_chain(e, w), Repr.DEC
        if target is Repr.DEC:
            a, _ = self.expr(e.left, w)
            b, _ = self.expr(e.right, w)
            return f"_mul({a}, {b})", Repr.DEC
        if target is Repr.RAT:
            a = self.num_loose(e.left, w)
            b = self.num_loose(e.right, w)
            return f"({a} {e.op} {b})", Repr.RAT
        a, _ = self.expr(e.left, w)
        b, _ = self.expr(e.right, w)
        return f"({a} {e.op} {b})", Repr.INT

    def num_loose(self, e: ir.Expr, w) -> str:
        """e as an int or a Fraction (both mix with Fractions exactly)."""
        code, r = self.expr(e, w)
        return f"Fraction({code})" if r is Repr.DEC else code

    def sum_chain(self, e: ir.Arith, w) -> str:
        """An exact +/- chain with a decimal result: whole-number terms summed as ints first."""
        terms: list[tuple[str, ir.Expr]] = []

        def flatten(x: ir.Expr, sign: str):
            if isinstance(x, ir.Arith) and x.op in ("+", "-") and x.type.repr is not Repr.RAT:
                flatten(x.left, sign)
                flatten(x.right, sign if x.op == "+" else ("-" if sign == "+" else "+"))
            else:
                terms.append((sign, x))

        flatten(e, "+")
        ints = [(sg, x) for sg, x in terms if x.type.kind == "num" and x.type.repr is Repr.INT]
        decs = [(sg, x) for sg, x in terms if not (x.type.kind == "num" and x.type.repr is Repr.INT)]
        code = None
        for sg, x in ints:
            c = self.expr(x, w)[0]
            code = (c if sg == "+" else f"(-{c})") if code is None else f"({code} {sg} {c})"
        for sg, x in decs:
            c = self.expr(x, w)[0]
            if code is None:
                code = c if sg == "+" else f"_neg({c})"
            else:
                code = f"{'_add' if sg == '+' else '_sub'}({code}, {c})"
        return code

    def x_Neg(self, e: ir.Neg, w):
        code, r = self.expr(e.operand, w)
        return (f"_neg({code})" if r is Repr.DEC else f"(-{code})"), r

    def x_Compare(self, e: ir.Compare, w):
        t0 = e.operands[0].type
        if t0.kind == "label" and t0.ordered and any(op not in ("=", "!=") for op in e.ops):
            rank = self.consts.get("{" + ", ".join(f"{py_literal(lab)}: {len(t0.labels) - i}"
                                                   for i, lab in enumerate(t0.labels)) + "}")
            codes = [f"{rank}[{self.expr(o, w)[0]}]" for o in e.operands]
        else:
            codes = [self.expr(o, w)[0] for o in e.operands]
        parts = [codes[0]]
        for op, c in zip(e.ops, codes[1:]):
            parts.append({"=": "==", "!=": "!="}.get(op, op))
            parts.append(c)
        return "(" + " ".join(parts) + ")", Repr.INT

    def x_Not(self, e, w):
        return f"(not {self.expr(e.operand, w)[0]})", Repr.INT

    def x_Logic(self, e, w):
        return f"({self.expr(e.left, w)[0]} {e.op} {self.expr(e.right, w)[0]})", Repr.INT

    def value(self, e: ir.Expr, w, t: ir.Type) -> str:
        """e as a value of type t (numbers in t's repr)."""
        if t.kind == "num":
            return self.num(e, w, t.repr)
        return self.expr(e, w)[0]

    def x_If(self, e: ir.If, w):
        cond = self.expr(e.cond, w)[0]
        a = self.value(e.then, w, e.type)
        b = self.value(e.otherwise, w, e.type)
        return f"({a} if {cond} else {b})", self.repr_of(e.type)

    @staticmethod
    def repr_of(t: ir.Type) -> Repr:
        return t.repr if t.kind == "num" else Repr.INT

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

    def emit_clamp(self, w: _Writer, e: ir.Clamp, target: str, want: Repr):
        """A definition's top-level clamp as plain comparisons (the common item/total shape)."""
        need_lo, need_hi = self.clamp_needs(e)
        w.line(f"{target} = {self.num(e.operand, w, want)}")
        if need_lo:
            lo = self.num(e.lo, w, want)
            w.line(f"if {target} < {lo}:")
            w.line(f"    {target} = {lo}")
        if need_hi:
            hi = self.num(e.hi, w, want)
            w.line(f"{'elif' if need_lo else 'if'} {target} > {hi}:")
            w.line(f"    {target} = {hi}")

    def clamp_needs(self, e: ir.Clamp) -> tuple[bool, bool]:
        """Which bounds the formula can actually cross (from its range)."""
        inner = self.ranges.of(e.operand)
        lo_v = _const(e.lo) if e.lo is not None else None
        hi_v = _const(e.hi) if e.hi is not None else None
        ok_lo, ok_hi = within(inner, lo_v, hi_v)
        need_lo = e.lo is not None and not (lo_v is not None and ok_lo)
        need_hi = e.hi is not None and not (hi_v is not None and ok_hi)
        return need_lo, need_hi

    def x_Clamp(self, e: ir.Clamp, w):
        want = e.type.repr
        need_lo, need_hi = self.clamp_needs(e)
        code = self.num(e.operand, w, want)
        if need_lo:
            code = f"max({code}, {self.num(e.lo, w, want)})"
        if need_hi:
            code = f"min({code}, {self.num(e.hi, w, want)})"
        return code, want

    def x_MinMax(self, e: ir.MinMax, w):
        want = e.type.repr
        return f"{e.func}({', '.join(self.num(a, w, want) for a in e.args)})", want

    def x_Abs(self, e, w):
        code, r = self.expr(e.operand, w)
        return (f"_abs({code})" if r is Repr.DEC else f"abs({code})"), r

    def x_Mean(self, e: ir.Mean, w):
        n = len(e.args)
        if e.type.repr is Repr.RAT:
            total = " + ".join(self.num_loose(a, w) for a in e.args)
            return f"(Fraction({total}) / {n})", Repr.RAT
        total = self.num(e.args[0], w, Repr.DEC)
        for a in e.args[1:]:
            total = f"_add({total}, {self.expr(a, w)[0]})"
        return f"_mul({total}, {self.const(Fraction(1, n), Repr.DEC)})", Repr.DEC

    def x_CountTrue(self, e: ir.CountTrue, w):
        return "(0 + " + " + ".join(self.expr(a, w)[0] for a in e.args) + ")", Repr.INT

    def x_ZeroGuard(self, e: ir.ZeroGuard, w):
        t = self.tmp()
        w.line("try:")
        w.indent()
        w.line(f"{t} = {self.value(e.operand, w, e.type)}")
        w.dedent()
        w.line("except ZeroDivisionError:")
        w.indent()
        w.line(f"{t} = {self.value(e.default, w, e.type)}")
        w.dedent()
        return t, self.repr_of(e.type)

    def x_NaGuard(self, e: ir.NaGuard, w):
        t = self.tmp()
        inner = attrs_evolve(e.type, optional=True)
        w.line(f"{t} = {self.value(e.operand, w, inner)}")
        w.line(f"if {t} is None:")
        w.line(f"    {t} = {self.value(e.default, w, e.type)}")
        return t, self.repr_of(e.type)

    def x_Cases(self, e: ir.Cases, w):
        want = self.repr_of(e.type)
        lookup = self.label_lookup(e, w)
        if lookup is not None:
            return lookup, want
        if e.otherwise is not None:
            tail = self.value(e.otherwise.result, w, e.type)
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
                code = f"{self.value(row.result, w, e.type)} if {c} else {code}"
            return f"({code})", want
        code = tail
        for row in reversed(e.rows):
            code = f"{self.value(row.result, w, e.type)} if {self.expr(row.cond, w)[0]} else {code}"
        return f"({code})", want

    def label_lookup(self, e: ir.Cases, w) -> str | None:
        """A label map with constant results: one dict lookup instead of a chain of tests."""
        subject = None
        table = {}
        for row in e.rows:
            labels = _label_tests(row.cond)
            if labels is None or not isinstance(row.result, ir.Const):
                return None
            s, labs = labels
            if subject is None:
                subject = s
            elif s != subject:
                return None
            for lab in labs:
                table.setdefault(lab, row.result)
        if subject is None or (e.otherwise is not None and not isinstance(e.otherwise.result, ir.Const)):
            return None
        items = ", ".join(f"{py_literal(k)}: {self.value(v, w, e.type)}" for k, v in table.items())
        mapping = self.consts.get("{" + items + "}")
        key = self.local[subject]
        if e.otherwise is not None:
            return f"{mapping}.get({key}, {self.value(e.otherwise.result, w, e.type)})"
        return f"{mapping}[{key}]"

    def x_Linear(self, e: ir.Linear, w):
        pts = self.consts.get(py_literal(tuple(e.points)))
        return f"Fraction(linear({self.expr(e.subject, w)[0]}, {pts}))", Repr.RAT

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
        rational = r is Repr.RAT
        return (f"split_part({amount}, {ratios}, {e.index}, {q}, {py_literal(e.mode.value)}, {rational!r})",
                Repr.RAT if rational else Repr.DEC)

    def x_Aggregate(self, e: ir.Aggregate, w):
        slot, local, _ = self.aggs[_agg_key(e)]
        return local, e.type.repr

    def x_History(self, e: ir.History, w):
        slot, local, _ = self.aggs[_agg_key(e)]
        return local, self.repr_of(e.type)


def _agg_key(node) -> tuple:
    if isinstance(node, ir.History):
        return ("history", node.func, node.column)
    return ("cohort", node.func, node.column, node.cohort, node.descending)


def _const(e: ir.Expr) -> Fraction | None:
    if isinstance(e, ir.Const) and isinstance(e.value, Fraction):
        return e.value
    return None


def lo_hi(x):
    if x is None:
        return None
    return int(x) if x.denominator == 1 else decimal_of(x) if _terminates(x) else x


def attrs_evolve(t, **kw):
    import attrs

    return attrs.evolve(t, **kw)


def _label_tests(cond: ir.Expr):
    """(subject input, labels) if cond is `subject = label` or an `or` of them."""
    if isinstance(cond, ir.Compare) and cond.ops == ("=",):
        a, b = cond.operands
        if isinstance(a, ir.Load) and isinstance(b, ir.Const) and isinstance(b.value, str):
            return a.name, [b.value]
        return None
    if isinstance(cond, ir.Logic) and cond.op == "or":
        left, right = _label_tests(cond.left), _label_tests(cond.right)
        if left and right and left[0] == right[0]:
            return left[0], left[1] + right[1]
    return None


def _domain_test(kind: str, domain, x: str, const) -> str | None:
    """A Python test that x (already of the right type) lies in the input's domain."""
    dom = domain or {"percent": ((Fraction(0), Fraction(1)),), "duration": ((Fraction(0), None),),
                     "money": ((Fraction(0), None),), "count": ((Fraction(0), None),)}.get(kind)
    if not dom:
        return None
    alts = []
    for lo, hi in dom:
        if lo is not None and lo == hi:
            alts.append(f"{x} == {const(lo)}")
        elif lo is not None and hi is not None:
            alts.append(f"{const(lo)} <= {x} <= {const(hi)}")
        elif lo is not None:
            alts.append(f"{x} >= {const(lo)}")
        elif hi is not None:
            alts.append(f"{x} <= {const(hi)}")
    return " or ".join(f"({a})" for a in alts) if len(alts) > 1 else alts[0]


def compile_policy(policy: ir.Policy, standalone: bool = True) -> str:
    """Return Python source for the policy (a standalone module by default)."""
    return PythonBackend(policy).module(standalone)
