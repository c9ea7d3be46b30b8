"""`policyc test --suggest`: boundary examples for HR to review and paste.

For every threshold a policy compares with (`first refund_rate: <= 5% -> 30`,
`qualified = total >= 70% of 130`, a range row `3 .. 4`, a linear point), it
proposes records at, just below and just above the threshold, at the
input's real precision, and prints them in example syntax with the values
the policy computes for them, so a person can check each against the scheme
and keep the ones they agree with.

A threshold on an input gives the three records directly. A threshold on a
computed value (`total >= 91`) is found by moving one input at a time from
the base record and bisecting, at that input's precision, for the step where
the comparison flips; the two records on either side of the flip are shown.
The base record is the policy's first single-record example (the suggestions
then say `from` it), or, without one, a record of plain values.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from fractions import Fraction

from . import ir
from . import runtime as rt

# the precision a value of each kind is recorded at: percent to 0.01%, money to the cent, …
PLACES = {"count": 0, "percent": 4, "duration": 0, "money": 2, "points": 1, "number": 2}
_SEARCH_LIMIT = 10 ** 7  # how far an unbounded input is searched for a flip, in its own units


def _places(x: Fraction) -> int:
    """Decimal places needed to write x (at most 6)."""
    for k in range(7):
        if (x * 10 ** k).denominator == 1:
            return k
    return 6


def _dec(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


def written(x, inp: ir.Input | None = None) -> str:
    """A number as an example writes it, in the input's unit."""
    f = Fraction(x)
    if inp is not None and inp.kind == "percent":
        return rt._fmt(_dec(f * 100)) + "%"
    if inp is not None and inp.kind == "duration":
        return rt._fmt(_dec(f)) + "s"
    return rt._fmt(_dec(f))


class Suggester:
    def __init__(self, policy):
        self.policy = policy
        self.p: ir.Policy = policy.ir
        self.inputs = {i.name: i for i in self.p.inputs}
        self.defs = {d.name: d for d in self.p.definitions}
        self.base_name, self.base = self._base()
        self.skipped = 0

    # ── the base record ──
    def _base(self) -> tuple[str | None, dict | None]:
        for ex in self.p.examples:
            if len(ex.records) == 1 and not ex.rejected:
                return ex.name, ex.record_dicts()[0]
        rec = {"agent": "A1", "period": _first_period(self.p.period)}
        for i in self.p.inputs:
            rec[i.name] = _plain_value(i)
        return None, rec

    def score(self, record: dict):
        try:
            return self.policy.score_batch([record])[0]
        except rt.RecordError:
            return None

    # ── thresholds ──
    def thresholds(self):
        """(definition, compare node, side expr, constant) for every comparison with a constant."""
        seen = set()
        for d in self.p.definitions:
            for e in ir.walk(d.expr):
                if isinstance(e, ir.Compare):
                    for a, b in zip(e.operands, e.operands[1:]):
                        for x, t in ((a, b), (b, a)):
                            if isinstance(t, ir.Const) and isinstance(t.value, Fraction) \
                                    and not isinstance(t.value, bool) and x.type.kind == "num":
                                key = (_key(x), t.value)
                                if key not in seen:
                                    seen.add(key)
                                    yield d, x, t.value
                elif isinstance(e, (ir.Linear, ir.Marginal)):
                    points = [p[0] for p in e.points] if isinstance(e, ir.Linear) else [s[0] for s in e.slices]
                    for t in points:
                        key = (_key(e.subject), t)
                        if key not in seen:
                            seen.add(key)
                            yield d, e.subject, t

    def owner(self, d: ir.Definition) -> str:
        return d.name.split("·")[0]

    def candidates(self):
        """Yield (comment, changes, owner) for every threshold: `changes` maps inputs to values,
        `owner` is the definition the threshold belongs to."""
        base_result = self.score(self.base)
        if base_result is None:
            return
        for d, x, t in self.thresholds():
            if isinstance(x, ir.Load) and x.name in self.inputs:
                inp = self.inputs[x.name]
                step = Fraction(1, 10 ** max(PLACES.get(inp.kind, 2), _places(t)))
                where = f"{self.owner(d)}: `{x.name}` at {written(t, inp)}"
                for v, word in ((t - step, "just below"), (t, "at"), (t + step, "just above")):
                    if _fits(inp, v):
                        yield where + f", {word}", {x.name: _value(inp, v)}, self.owner(d)
                continue
            flip = self.find_flip(x, t)
            if flip is not None:
                name, below, above = flip
                inp = self.inputs[name]
                shown_t = rt._fmt(_dec(t * 100)) + "%" if x.type.percent else written(t)
                where = f"{self.owner(d)}: `{_text(x)}` crosses {shown_t} as `{name}` goes " \
                        f"from {written(below, inp)} to {written(above, inp)}"
                yield where + ", before", {name: _value(inp, below)}, self.owner(d)
                yield where + ", after", {name: _value(inp, above)}, self.owner(d)

    def find_flip(self, x: ir.Expr, t: Fraction):
        """Move one numeric input from the base record to find where `x` crosses t."""
        from .interp import Evaluator, Row, _Ctx

        result = self.score(self.base)
        if result is None:
            return None
        row = result._batch.rows()[0]
        deps = [n for n in _inputs_of(x, self.defs) if self.inputs[n].type.kind == "num" and not self.inputs[n].na]

        def side(name, v) -> bool | None:
            r = Row(row.agent, row.period, row.ordinal, {**row.inputs, name: _value(self.inputs[name], v)})
            try:
                envs, _ = Evaluator(self.p).run([r])
                keys = {c.name: [tuple([r.period] + [r.inputs[k] for k in c.keys])] for c in self.p.cohorts}
                val = _Ctx(Evaluator(self.p), [r], envs, 0, keys, {}, None).eval(x)
            except (ArithmeticError, rt.PolicyRuntimeError, KeyError):
                return None
            if val is None:
                return None
            return Fraction(val) >= t

        for name in deps:
            inp = self.inputs[name]
            step = Fraction(1, 10 ** PLACES.get(inp.kind, 2))
            lo, hi = _bounds(inp)
            a, b = side(name, lo), side(name, hi)
            if a is None or b is None or a == b:
                continue
            lo_n, hi_n = 0, int((hi - lo) / step)
            while hi_n - lo_n > 1:  # invariant: side(lo_n) == a, side(hi_n) == b
                mid = (lo_n + hi_n) // 2
                s = side(name, lo + mid * step)
                if s is None:
                    break
                if s == a:
                    lo_n = mid
                else:
                    hi_n = mid
            else:
                return name, lo + lo_n * step, lo + hi_n * step
        return None

    def render(self) -> str:
        out = []
        base_result = self.score(self.base)
        if base_result is None:
            return ""
        seen = set()
        for comment, changes, owner in self.candidates():
            key = tuple(sorted((k, str(v)) for k, v in changes.items()))
            if key in seen:
                continue
            seen.add(key)
            record = {**self.base, **changes}
            result = self.score(record)
            if result is None:
                self.skipped += 1
                continue
            out.append(self.example(comment, changes, owner, record, result, base_result))
        return "\n".join(out)

    def example(self, comment, changes, owner, record, result, base_result) -> str:
        name, value = next(iter(changes.items()))
        inp = self.inputs[name]
        title = f"{name} = {written(value, inp)}"
        lines = [f"# {comment}"]
        if self.base_name is not None:
            lines.append(f'example "{title}" from {self.base_name}:')
            lines.append("    given " + ", ".join(f"{k} = {_given(self.inputs[k], v)}" for k, v in changes.items()))
        else:
            lines.append(f'example "{title}":')
            lines.append("    given " + ", ".join(f"{i.name} = {_given(i, record[i.name])}" for i in self.p.inputs))
        shown = [owner] + [o for o in self.p.outputs if o != owner and result.exact(o) != base_result.exact(o)]
        lines.append("    expect " + ", ".join(_expect(o, result.exact(o), self.defs[o]) for o in shown))
        return "\n".join(lines) + "\n"


# ───────────────────────── small helpers ─────────────────────────


def _key(e: ir.Expr):
    return (type(e).__name__, e.span.start, e.span.end, getattr(e, "name", None))


def _text(e: ir.Expr) -> str:
    if isinstance(e, ir.Load):
        return e.name
    return "the value"


def _inputs_of(e: ir.Expr, defs: dict) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()

    def visit(x):
        for node in ir.walk(x):
            if isinstance(node, ir.Load) and node.name not in seen:
                seen.add(node.name)
                if node.name in defs:
                    visit(defs[node.name].expr)
                else:
                    out.append(node.name)

    visit(e)
    return out


def _bounds(inp: ir.Input) -> tuple[Fraction, Fraction]:
    from .ranges import Ranges

    lo, hi = Ranges(inputs={inp.name: inp}, defs={}).of_name(inp.name) or (None, None)
    lo = Fraction(0) if lo is None else Fraction(lo)
    hi = Fraction(_SEARCH_LIMIT) if hi is None else Fraction(hi)
    return lo, hi


def _fits(inp: ir.Input, v: Fraction) -> bool:
    try:
        rt.read_number(_dec(v), inp.kind, inp.domain, inp.name)
    except rt._Bad:
        return False
    return True


def _value(inp: ir.Input, v: Fraction):
    return int(v) if inp.kind == "count" else _dec(v)


def _first_period(kind: str) -> str:
    from .checker.examples import FIRST_PERIOD

    return FIRST_PERIOD[kind]


def _plain_value(i: ir.Input):
    if i.kind in ("grade", "choice"):
        return i.type.labels[0]
    if i.kind == "text":
        return "x"
    if i.kind == "bool":
        return False
    lo, _ = _bounds(i)
    return _value(i, lo)


def _given(inp: ir.Input, v) -> str:
    if v is None:
        return "na"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        if inp.kind in ("grade", "choice") and v.isidentifier():
            return v
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return written(v, inp)


def _expect(name: str, v, d: ir.Definition) -> str:
    if isinstance(v, bool):
        return f"{name} = {'true' if v else 'false'}"
    if v is None:
        return f"{name} = na"
    if isinstance(v, (list, tuple)):
        return f"{name} = [" + ", ".join(v) + "]"
    if isinstance(v, str):
        return f"{name} = {v}" if v.isidentifier() else f'{name} = "{v}"'
    f = Fraction(v)
    if d.type.percent and (f * 10 ** 6).denominator == 1:
        return f"{name} = {rt._fmt(_dec(f * 100))}%"
    if _places(f) < 6 and (f * 10 ** 6).denominator == 1:
        return f"{name} = {written(f, None)}"
    return f"{name} ≈ {rt._fmt(_dec(Fraction(rt.round_to(f, Fraction(1, 10 ** 4), 'half_up'))))}"


def run_suggest(texts: list[tuple[str, str]]) -> int:
    """Print suggestions for each policy; 1 if a policy does not check."""
    from .compiler import check_source
    from .diagnostics import has_errors, render_one
    from .policy import Policy

    status = 0
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    for name, text in texts:
        checked, diags = check_source(text, name)
        if checked is None or has_errors(diags):
            for d in diags:
                sys.stderr.write(render_one(d, text))
            print(f"policyc: {name} does not check; no suggestions", file=sys.stderr)
            status = 1
            continue
        s = Suggester(Policy(checked, text, diags))
        body = s.render()
        print(f"# suggestions for {name} ({checked.name}): review each against the scheme before pasting")
        if s.base_name is None:
            print("# (no single-record example to start from: records use plain values for the other inputs)")
        print()
        print(body if body else "# no thresholds found\n")
        if s.skipped:
            print(f"# {s.skipped} record(s) left out: the policy rejects them (a `require` or a domain)")
    return status
