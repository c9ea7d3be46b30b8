"""Reference evaluator: IR + validated records → every named value, with a trace.

Deliberately simple and independent of the Python backend: every number is a
`Fraction`, every node is interpreted directly. The property tests hold the
generated code to this evaluator; `explain` reads its trace.
"""

from __future__ import annotations

from fractions import Fraction

from . import ir
from . import runtime as rt


class Row:
    """One validated record: agent, period (label and ordinal) and input values."""

    __slots__ = ("agent", "period", "ordinal", "inputs")

    def __init__(self, agent: str, period: str, ordinal: int, inputs: dict):
        self.agent = agent
        self.period = period
        self.ordinal = ordinal
        self.inputs = inputs


class _Zero(Exception):
    pass


def _f(x):
    if isinstance(x, (bool, str, list, tuple)) or x is None:
        return x
    return Fraction(x)


class Evaluator:
    """Evaluate a policy over a batch of validated rows."""

    def __init__(self, policy: ir.Policy):
        self.policy = policy
        self.by_name = {d.name: d for d in policy.definitions}

    def run(self, rows: list[Row], trace_index: int | None = None, hits: set | None = None):
        """Return one {name: value} per row (inputs and definitions), and the trace of one row.

        `hits`, if given, collects `(id(node), branch)` for every branch taken (for `policyc test`
        coverage): table rows, if/else, clamp bounds, zero/N/A rules, gate outcomes, segments."""
        p = self.policy
        envs = [{k: _f(v) for k, v in r.inputs.items()} for r in rows]
        traces: dict[str, list[str]] = {}
        cohort_keys = {c.name: [tuple([r.period] + [r.inputs[k] for k in c.keys]) for r in rows]
                       for c in p.cohorts}
        for phase in range(p.phases):
            defs = [d for d in p.definitions if d.phase == phase]
            agg_cache: dict = {}
            for i, env in enumerate(envs):
                for d in defs:
                    events: list[str] | None = [] if i == trace_index else None
                    ctx = _Ctx(self, rows, envs, i, cohort_keys, agg_cache, events, hits)
                    env[d.name] = ctx.eval(d.expr)
                    if events is not None:
                        traces[d.name] = events
        return envs, traces


class _Ctx:
    def __init__(self, ev, rows, envs, i, cohort_keys, agg_cache, events, hits=None):
        self.ev = ev
        self.rows = rows
        self.envs = envs
        self.i = i
        self.env = envs[i]
        self.cohort_keys = cohort_keys
        self.agg_cache = agg_cache
        self.events = events
        self.hits = hits

    def hit(self, e, branch):
        if self.hits is not None:
            self.hits.add((id(e), branch))

    def note(self, text: str):
        if self.events is not None:
            self.events.append(text)

    def eval(self, e: ir.Expr):
        return getattr(self, "e_" + type(e).__name__)(e)

    def e_Const(self, e):
        return e.value

    def e_Load(self, e):
        return self.env[e.name]

    def e_Arith(self, e):
        a, b = self.eval(e.left), self.eval(e.right)
        if e.op == "+":
            return a + b
        if e.op == "-":
            return a - b
        if e.op == "*":
            return a * b
        if b == 0:
            raise _Zero()
        return a / b

    def e_Neg(self, e):
        return -self.eval(e.operand)

    def e_Compare(self, e):
        vals = [self.eval(o) for o in e.operands]
        for op, a, b, node in zip(e.ops, vals, vals[1:], e.operands):
            if not _cmp(op, a, b, node.type):
                return False
        return True

    def e_Not(self, e):
        return not self.eval(e.operand)

    def e_Logic(self, e):
        a = self.eval(e.left)
        if e.op == "and":
            return a and self.eval(e.right)
        return a or self.eval(e.right)

    def e_If(self, e):
        cond = self.eval(e.cond)
        self.hit(e, "then" if cond else "else")
        return self.eval(e.then) if cond else self.eval(e.otherwise)

    def e_Round(self, e):
        x = self.eval(e.operand)
        r = Fraction(rt.round_to(x, e.quantum, e.mode.value))
        if r != x:
            self.note(f"rounded {_show(x)} to {_show(r)} (step {_show(e.quantum)}, {e.mode.value})")
        return r

    def e_Clamp(self, e):
        x = self.eval(e.operand)
        lo = self.eval(e.lo) if e.lo is not None else None
        hi = self.eval(e.hi) if e.hi is not None else None
        if lo is not None and x < lo:
            self.hit(e, "lo")
            self.note(f"{_show(x)} is below {_show(lo)}, so it counts as {_show(lo)}")
            return lo
        if hi is not None and x > hi:
            self.hit(e, "hi")
            self.note(f"{_show(x)} is above {_show(hi)}, so it counts as {_show(hi)}")
            return hi
        return x

    def e_MinMax(self, e):
        vals = [self.eval(a) for a in e.args]
        return min(vals) if e.func == "min" else max(vals)

    def e_Abs(self, e):
        return abs(self.eval(e.operand))

    def e_Mean(self, e):
        vals = [self.eval(a) for a in e.args]
        return sum(vals, Fraction(0)) / len(vals)

    def e_CountTrue(self, e):
        return sum(1 for a in e.args if self.eval(a))

    def e_ZeroGuard(self, e):
        try:
            return self.eval(e.operand)
        except _Zero:
            self.hit(e, "zero")
            d = self.eval(e.default)
            self.note(f"a denominator is zero, so the value is {_show(d)} (`when zero`)")
            return d

    def e_NaGuard(self, e):
        v = self.eval(e.operand)
        if v is None:
            self.hit(e, "na")
            d = self.eval(e.default)
            self.note(f"not applicable, so it counts as {_show(d)} (`when na`)")
            return d
        return v

    def e_Cases(self, e):
        matched = [r for r in e.rows if self.eval(r.cond)]
        if e.kind == "unique" and len(matched) > 1:
            raise rt.PolicyRuntimeError("rows overlap: " + "; ".join(r.text for r in matched))
        if matched:
            self.hit(e, e.rows.index(matched[0]))
            self.note(f"row `{matched[0].text}` matched")
            return self.eval(matched[0].result)
        if e.otherwise is not None:
            self.hit(e, "else")
            self.note(f"row `{e.otherwise.text}` matched")
            return self.eval(e.otherwise.result)
        raise rt.PolicyRuntimeError("no row matched")

    def e_Linear(self, e):
        x = self.eval(e.subject)
        v = rt.linear(x, e.points)
        for k, ((x0, _), (x1, _)) in enumerate(zip(e.points, e.points[1:])):
            if x0 <= x <= x1:
                self.hit(e, k)
        x0, xn = e.points[0][0], e.points[-1][0]
        if x <= x0 or x >= xn:
            end = x0 if x <= x0 else xn
            self.note(f"{_show(x)} is at or beyond the end point {_show(end)}, so the value stays {_show(v)}")
        else:
            self.note(f"interpolated between the points around {_show(x)}: {_show(v)}")
        return v

    def e_Marginal(self, e):
        x = self.eval(e.subject)
        v = rt.marginal(x, e.slices)
        for k, (lo, _hi, _rate) in enumerate(e.slices):
            if x > lo:
                self.hit(e, k)
        self.note(f"slices of {_show(x)} at their rates add up to {_show(v)}")
        return v

    def e_Weighted(self, e):
        crit = [self.eval(c) for c in e.critical]
        for k, ok in enumerate(crit):
            if not ok:
                self.hit(e, ("critical", k))
        rows = [(w, self.eval(x)) for w, x in e.rows]
        if not all(crit):
            self.note("a critical criterion failed, so the score is 0")
            return Fraction(0)
        applicable = [(w, v) for w, v in rows if v is not None]
        if not applicable:
            self.note("every criterion is not applicable, so the score is N/A")
            return None
        if len(applicable) < len(rows):
            self.note(f"{len(rows) - len(applicable)} criterion(s) not applicable; the weights of the others "
                      "re-scaled to add up again")
        den = sum(w for w, _ in applicable)
        return sum(w * v for w, v in applicable) / den

    def e_Gate(self, e):
        results = [(label, self.eval(c)) for label, c in e.rows]
        for k, (_, ok) in enumerate(results):
            self.hit(e, (k, bool(ok)))
        failed = [label for label, ok in results if not ok]
        if failed:
            self.note("failed: " + ", ".join(failed))
        return all(ok for _, ok in results) if e.kind == "all" else any(ok for _, ok in results)

    def e_GateNames(self, e):
        results = [(label, self.eval(c)) for label, c in e.rows]
        want = e.want == "passed"
        return [label for label, ok in results if bool(ok) == want]

    def e_SplitPart(self, e):
        amount = self.eval(e.amount)
        total = sum(e.ratios)
        parts = [Fraction(rt.round_to(amount * r / total, e.quantum, e.mode.value)) for r in e.ratios[:-1]]
        if e.index < len(parts):
            return parts[e.index]
        return amount - sum(parts)

    def e_Aggregate(self, e):
        key = (e.func, e.column, e.cohort, e.descending)
        col = self.agg_cache.get(key)
        if col is None:
            keys = self.cohort_keys[e.cohort]
            values = [env[e.column] for env in self.envs] if e.column else None
            col = _aggregate(e.func, values, keys, e.descending)
            self.agg_cache[key] = col
        if self.events is not None:  # (the value over the cohort, for `explain`)
            arg = self.column_text(e.column) + " " if e.column else ""
            order = " ascending" if e.func == "rank" and not e.descending else ""
            self.note(f"{e.func}({arg}over {e.cohort}{order}) = {_show(col[self.i])}, over "
                      f"{self.members(e.cohort)}")
        return col[self.i]

    def column_text(self, name: str) -> str:
        """A column as the policy writes it: a hidden definition's own text (`rank = 1`)."""
        d = self.ev.by_name.get(name)
        return d.text.strip() if d is not None and d.kind == "hidden" and d.text else name

    def members(self, cohort: str) -> str:
        """The record's cohort in words: how many records, which key values, which period."""
        keys = self.cohort_keys[cohort]
        mine = keys[self.i]
        c = next(c for c in self.ev.policy.cohorts if c.name == cohort)
        where = "".join(f"{k} {_show(v)}, " for k, v in zip(c.keys, mine[1:]))
        return f"{sum(1 for k in keys if k == mine)} record(s): {where}period {mine[0]}"

    def e_History(self, e):
        agent = self.rows[self.i].agent
        ordinal = self.rows[self.i].ordinal
        where = {(r.agent, r.ordinal): j for j, r in enumerate(self.rows)}
        if e.func == "previous":
            j = where.get((agent, ordinal - 1))
            v = self.envs[j][e.column] if j is not None else None
            if self.events is not None:  # (for `explain`)
                self.note(f"previous({self.column_text(e.column)}) = {_show(v)}"
                          + (f", from period {self.rows[j].period}" if j is not None
                             else ": no record of the period before"))
            return v
        n = 0
        o = ordinal
        while True:
            j = where.get((agent, o))
            if j is None or not self.envs[j][e.column]:
                break
            n += 1
            o -= 1
        if self.events is not None:
            self.note(f"streak({self.column_text(e.column)}) = {n}: period(s) in a row ending "
                      f"{self.rows[self.i].period}")
        return n


def _aggregate(func, values, keys, descending):
    members: dict = {}
    for i, k in enumerate(keys):
        members.setdefault(k, []).append(i)
    out = [None] * len(keys)
    for idx in members.values():
        if func == "count":
            n = len(idx) if values is None else sum(1 for i in idx if values[i])
            for i in idx:
                out[i] = n
            continue
        vals = [values[i] for i in idx]
        if func == "rank":
            for i in idx:
                out[i] = 1 + sum(1 for v in vals if (v > values[i] if descending else v < values[i]))
            continue
        r = {"max": max, "min": min}.get(func)
        if r is not None:
            agg = r(vals)
        elif func == "sum":
            agg = sum(vals, Fraction(0))
        else:  # mean
            agg = sum(vals, Fraction(0)) / len(vals)
        for i in idx:
            out[i] = agg
    return out


def _cmp(op, a, b, t: ir.Type) -> bool:
    if t.kind == "label" and t.ordered and op not in ("=", "!="):
        # grades are listed best first: a "greater" grade has a smaller index
        a, b = -t.labels.index(a), -t.labels.index(b)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "=":
        return a == b
    return a != b


def _show(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Fraction):
        return rt._fmt(rt.public_number(v, False))
    if v is None:
        return "n/a"
    return str(v)
