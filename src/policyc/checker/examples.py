"""Examples: resolve `from`, check every given and expected value, lower to `ir.Example`.

An example is checked against the policy it sits in: every given field must be
an input (or `agent`, `period`) and its value must be one the record reader
accepts; every expected name must be a value the policy computes, with a value
of its type. The examples are not *run* here (that is `policyc test`): a
failing example is a test failure, a malformed one is a check error.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from .. import ast, ir
from .. import runtime as rt
from ..diagnostics import Diagnostic, Note, Span, did_you_mean

FIRST_PERIOD = {"month": "2026-01", "half_month": "2026-01-H1", "quarter": "2026-Q1", "year": "2026"}


def check_examples(tree: ast.Policy, policy: ir.Policy, diags: list[Diagnostic]) -> tuple[ir.Example, ...]:
    """Check the examples of a policy that otherwise checks; return them lowered."""
    return _Examples(tree, policy, diags).run()


def _decimal(f: Fraction) -> Decimal:
    """An exact literal as a Decimal (literals are finite decimals)."""
    return Decimal(f.numerator) / Decimal(f.denominator)


def _value_text(v: ast.Value) -> str:
    if isinstance(v, ast.Number):
        return v.text
    if isinstance(v, ast.Name):
        return v.id
    if isinstance(v, ast.String):
        return v.text
    if isinstance(v, ast.BoolLit):
        return "true" if v.value else "false"
    if isinstance(v, ast.NaLit):
        return "na"
    return "[" + ", ".join(_value_text(i) for i in v.items) + "]"


def _places(n: ast.Number) -> int:
    """Decimal places of a written number, in the value's own scale (`33.33%` → 4)."""
    text = n.text.lstrip("-")
    if n.unit:
        text = text[: -len(n.unit)]
    written = len(text.partition(".")[2])
    if n.unit == "%":
        return written + 2
    if n.unit in ("min", "h"):
        return max(0, -_decimal(abs(n.value)).normalize().as_tuple().exponent)
    return written


def _describe(v: ast.Value) -> str:
    if isinstance(v, ast.Number):
        return f"the number {v.text}"
    if isinstance(v, (ast.Name, ast.String)):
        return f"the label `{_value_text(v)}`"
    if isinstance(v, ast.BoolLit):
        return f"`{_value_text(v)}`"
    if isinstance(v, ast.NaLit):
        return "`na` (not applicable)"
    return "a list"


class _Examples:
    def __init__(self, tree: ast.Policy, policy: ir.Policy, diags: list[Diagnostic]):
        self.tree = tree
        self.p = policy
        self.diags = diags
        self.inputs = {i.name: i for i in policy.inputs}
        self.values = {d.name: d for d in policy.definitions if d.kind != "hidden"}
        self.gate_rows = {d.name: [label for label, _ in d.expr.rows] for d in policy.definitions
                          if isinstance(d.expr, ir.Gate)}

    def error(self, code, message, span, label="", suggestion=None, notes=()):
        self.diags.append(Diagnostic(code=code, message=message, span=span, label=label,
                                     suggestion=suggestion, notes=tuple(notes)))

    def run(self) -> tuple[ir.Example, ...]:
        examples = [s for s in self.tree.statements if isinstance(s, ast.Example)]
        by_name: dict[str, ast.Example] = {}
        for ex in examples:
            if ex.name is None:
                continue
            if ex.name.id in by_name:
                self.error("E605", f"there are two examples named `{ex.name.id}`", ex.name.span, "second one",
                           notes=(Note(message="the first one", span=by_name[ex.name.id].name.span),))
                continue
            by_name[ex.name.id] = ex
        self.by_name = by_name
        self.resolved: dict[int, list[dict] | None] = {}
        out = []
        for ex in examples:
            lowered = self.lower(ex)
            if lowered is not None:
                out.append(lowered)
        return tuple(out)

    # ── records ──
    def records_of(self, ex: ast.Example, chain: tuple[str, ...] = ()) -> list[dict] | None:
        """The example's records as {field: (value, span)}, `from` applied; None if it cannot be built."""
        key = id(ex)
        if key in self.resolved:
            return self.resolved[key]
        base_record: dict = {}
        if ex.base is not None:
            base = self.by_name.get(ex.base.id)
            if base is None:
                guess = did_you_mean(ex.base.id, self.by_name)
                self.error("E605", f"there is no example named `{ex.base.id}` to start from", ex.base.span,
                           "unknown example", suggestion=f"did you mean `{guess}`?" if guess else None)
                self.resolved[key] = None
                return None
            if base.name.id in chain or base is ex:
                self.error("E605", f"example `{ex.base.id}` starts from itself through `from`", ex.base.span,
                           "circular `from`")
                self.resolved[key] = None
                return None
            base_records = self.records_of(base, chain + (base.name.id,))
            if base_records is None:
                self.resolved[key] = None
                return None
            base_record = dict(base_records[0]) if base_records else {}
        lines = [ln for ln in ex.lines if isinstance(ln, ast.GivenLine)]
        records = []
        for ln in lines:
            rec = dict(base_record)
            seen: dict[str, Span] = {}
            for g in ln.fields:
                if g.name.id in seen:
                    self.error("E605", f"`{g.name.id}` is given twice for the same record", g.name.span, "again",
                               notes=(Note(message="first given here", span=seen[g.name.id]),))
                seen[g.name.id] = g.name.span
                rec[g.name.id] = (g.value, g.span)
            records.append(rec)
        if not lines and base_record:
            records.append(base_record)
        self.resolved[key] = records
        return records

    def lower(self, ex: ast.Example) -> ir.Example | None:
        n_errors = len(self.diags)
        records = self.records_of(ex, (ex.name.id,) if ex.name else ())
        if records is None:
            return None
        if not records:
            self.error("E604", "the example gives no record", ex.span, "no `given` line",
                       suggestion="add `given NAME = VALUE, …` for the record, or `from` another example")
            return None
        raw_records = []
        lenient = any(isinstance(ln, ast.RejectLine) for ln in ex.lines)
        for index, rec in enumerate(records):
            raw = self.record(ex, index, rec, lenient)
            raw_records.append(raw)
        keys: dict[tuple[str, str], int] = {}
        for index, raw in enumerate(raw_records):
            if raw is None:
                continue
            k = (raw["agent"], raw["period"])
            if k in keys:
                self.error("E605", f"two records of the example are agent {k[0]!r} in period {k[1]!r}", ex.span,
                           "same agent and period twice",
                           suggestion="give each record its own `agent` (or `period`)")
            keys[k] = index
        rejected = [ln for ln in ex.lines if isinstance(ln, ast.RejectLine)]
        expects = [ln for ln in ex.lines if isinstance(ln, ast.ExpectLine)]
        reject_field = None
        for r in rejected:
            if r.field is not None:
                if r.field.id not in self.inputs and r.field.id not in ("agent", "period"):
                    self.unknown_field(r.field)
                reject_field = r.field.id
        if rejected and expects:
            self.error("E605", "an example expects both a rejection and values", expects[0].span,
                       "values of a rejected record",
                       notes=(Note(message="the rejection is expected here", span=rejected[0].span),),
                       suggestion="a rejected record has no values: make two examples")
        checks = []
        for ln in expects:
            target = self.target(ln, raw_records, keys)
            for c in ln.checks:
                check = self.check(c, target)
                if check is not None:
                    checks.append(check)
        if not rejected and not expects:
            self.error("W406", "the example expects nothing, so it tests nothing", ex.span, "no `expect` line",
                       suggestion="add `expect NAME = VALUE` with the values the scheme gives for it")
        if any(r is None for r in raw_records):  # a record with errors (here, or in the example it starts from)
            return None
        if len(self.diags) > n_errors and any(d.code.startswith("E") for d in self.diags[n_errors:]):
            return None
        return ir.Example(name=ex.name.id if ex.name else None, title=ex.title,
                          records=tuple(tuple(r.items()) for r in raw_records), checks=tuple(checks),
                          rejected=bool(rejected), reject_field=reject_field, span=ex.span)

    def unknown_field(self, name: ast.Name):
        if name.id in self.values:
            self.error("E601", f"`{name.id}` is computed by the policy; an example gives inputs only",
                       name.span, "not an input", suggestion=f"move it to an `expect` line: `expect {name.id} = …`")
            return
        guess = did_you_mean(name.id, [*self.inputs, "agent", "period"])
        self.error("E601", f"`{name.id}` is not an input of the policy", name.span, "not an input",
                   suggestion=f"did you mean `{guess}`?" if guess else
                   "the inputs are: " + ", ".join(self.inputs))

    def record(self, ex: ast.Example, index: int, rec: dict, lenient: bool = False) -> dict | None:
        """One record's raw values, as a record file would hold them; None on errors.

        `lenient` (an example that expects a rejection): values are passed on as written,
        unchecked, and fields may be left out; the record reader is what is being tested."""
        ok = True
        all_known = True  # False after an unknown field: a misspelt name explains a missing one
        raw: dict = {"agent": f"A{index + 1}", "period": FIRST_PERIOD[self.p.period]}
        for field, (value, _where) in rec.items():
            if field == "agent":
                if isinstance(value, (ast.Name, ast.String, ast.Number)):
                    raw["agent"] = _value_text(value)
                else:
                    self.bad_value(value, "the agent is a name or a quoted text, like `agent = 张伟`")
                    ok = False
                continue
            if field == "period":
                text = _value_text(value) if isinstance(value, (ast.String, ast.Number, ast.Name)) else None
                try:
                    if text is None:
                        raise rt._Bad("the period is a quoted label")
                    rt.read_period(text, self.p.period)
                    raw["period"] = text
                except rt._Bad as e:
                    self.bad_value(value, f"{e}; write it quoted, like `period = \"{FIRST_PERIOD[self.p.period]}\"`")
                    ok = False
                continue
            inp = self.inputs.get(field)
            if inp is None:
                name = next(g.name for ln in ex.lines if isinstance(ln, ast.GivenLine)
                            for g in ln.fields if g.name.id == field) if _given_here(ex, field) else None
                if name is not None:
                    self.unknown_field(name)
                ok = all_known = False
                continue
            v = _raw(value) if lenient else self.input_value(inp, value)
            if v is _BAD:
                ok = False
            else:
                raw[field] = v
        missing = [i for i in self.inputs if i not in rec]
        if missing and not lenient and all_known:
            shown = ", ".join(f"`{m}`" for m in missing[:8]) + (", …" if len(missing) > 8 else "")
            self.error("E604", f"the example's record {index + 1} does not give {shown}", ex.span,
                       "inputs missing",
                       suggestion="every input must be given (a record without it would be rejected); "
                                  "`from ANOTHER_EXAMPLE` starts from that example's record")
            ok = False
        if not ok:
            return None
        order = ["agent", "period", *self.inputs]
        return {k: raw[k] for k in order if k in raw}

    def bad_value(self, value: ast.Value, message: str, suggestion: str | None = None):
        self.error("E603", message, value.span, "this value", suggestion=suggestion)

    def input_value(self, inp: ir.Input, value: ast.Value):
        kind = inp.kind
        if isinstance(value, ast.NaLit):
            if inp.na:
                return None
            self.bad_value(value, f"`{inp.name}` cannot be N/A (its domain has no `or na`)")
            return _BAD
        if kind in ("grade", "choice"):
            if isinstance(value, (ast.Name, ast.String)):
                text = _value_text(value)
                if text in inp.type.labels:
                    return text
                guess = did_you_mean(text, inp.type.labels)
                self.bad_value(value, f"`{text}` is not a label of `{inp.name}` ({', '.join(inp.type.labels)})",
                               suggestion=f"did you mean `{guess}`?" if guess else None)
                return _BAD
            self.bad_value(value, f"`{inp.name}` is a label ({', '.join(inp.type.labels)}), not {_describe(value)}")
            return _BAD
        if kind == "text":
            if isinstance(value, (ast.Name, ast.String, ast.Number)):
                return _value_text(value)
            self.bad_value(value, f"`{inp.name}` is text; write it in quotes")
            return _BAD
        if kind == "bool":
            if isinstance(value, ast.BoolLit):
                return value.value
            self.bad_value(value, f"`{inp.name}` is true or false, not {_describe(value)}")
            return _BAD
        # numbers
        if not isinstance(value, ast.Number):
            self.bad_value(value, f"`{inp.name}` is {inp.type.describe()}, not {_describe(value)}")
            return _BAD
        unit_ok = {None: True, "%": kind in ("percent", "number", "points"),
                   "s": kind == "duration", "min": kind == "duration", "h": kind == "duration"}[value.unit]
        if not unit_ok:
            self.bad_value(value, f"`{inp.name}` is {inp.type.describe()}; `{value.text}` has the wrong unit")
            return _BAD
        d = _decimal(value.value)
        try:
            rt.read_number(d, kind, inp.domain, inp.name)
        except rt._Bad as e:
            hint = None
            if kind == "percent" and value.unit is None and d > 1:
                hint = f"a percent is written with its sign: did you mean `{value.text}%`?"
            self.bad_value(value, f"`{inp.name}` cannot be {value.text}: {e}", suggestion=hint)
            return _BAD
        if kind == "count":
            return int(d)
        return d

    # ── expectations ──
    def target(self, ln: ast.ExpectLine, raw_records: list, keys: dict) -> tuple[str, str] | None:
        valid = [r for r in raw_records if r is not None]
        if len(valid) != len(raw_records):
            return None  # errors already reported for the records
        if ln.agent is None:
            if len(valid) > 1:
                self.error("E605", "the example has several records; say whose values these are", ln.span,
                           "which record?", suggestion="write `expect for AGENT: …` (and `in \"PERIOD\"` when "
                                                      "the agent has several records)")
                return None
            return (valid[0]["agent"], valid[0]["period"])
        agent = _value_text(ln.agent)
        mine = [r for r in valid if r["agent"] == agent]
        if ln.period is not None:
            mine = [r for r in mine if r["period"] == ln.period.text]
        if not mine:
            who = f"agent {agent!r}" + (f" in period {ln.period.text!r}" if ln.period else "")
            agents = sorted({r["agent"] for r in valid})
            self.error("E605", f"the example has no record for {who}", ln.agent.span, "no such record",
                       suggestion="its agents are: " + ", ".join(agents))
            return None
        if len(mine) > 1:
            self.error("E605", f"agent {agent!r} has several records in the example; say which period",
                       ln.agent.span, "which period?", suggestion=f"write `expect for {agent} in \"PERIOD\": …`")
            return None
        return (mine[0]["agent"], mine[0]["period"])

    def check(self, c: ast.Expectation, target) -> ir.Check | None:
        name = c.name.id
        d = self.values.get(name)
        if d is None:
            if name in self.inputs:
                self.error("E602", f"`{name}` is an input: an example gives it, it does not expect it",
                           c.name.span, "an input", suggestion=f"move it to the `given` line: `given {name} = …`")
            else:
                guess = did_you_mean(name, self.values)
                self.error("E602", f"the policy computes no value named `{name}`", c.name.span, "unknown value",
                           suggestion=f"did you mean `{guess}`?" if guess else None)
            return None
        value = self.expected_value(d, c)
        if value is _BAD or target is None:
            return None
        places = _places(c.value) if isinstance(c.value, ast.Number) else 0
        return ir.Check(agent=target[0], period=target[1], name=name, value=value, approx=c.approx,
                        places=places, text=_value_text(c.value), span=c.span)

    def expected_value(self, d: ir.Definition, c: ast.Expectation):
        t, v = d.type, c.value
        if c.approx and (t.kind != "num" or not isinstance(v, ast.Number)):
            self.bad_value(v, "`≈` compares numbers only; use `=`")
            return _BAD
        if isinstance(v, ast.NaLit):
            if t.optional:
                return None
            self.bad_value(v, f"`{d.name}` is never N/A")
            return _BAD
        if t.kind == "num":
            if isinstance(v, ast.Number):
                return v.value
        elif t.kind == "bool":
            if isinstance(v, ast.BoolLit):
                return v.value
        elif t.kind == "label":
            if isinstance(v, (ast.Name, ast.String)):
                text = _value_text(v)
                if text in t.labels:
                    return text
                guess = did_you_mean(text, t.labels)
                self.bad_value(v, f"`{d.name}` is never `{text}`; it is one of {', '.join(t.labels)}",
                               suggestion=f"did you mean `{guess}`?" if guess else None)
                return _BAD
        elif t.kind == "text":
            if isinstance(v, (ast.Name, ast.String)):
                return _value_text(v)
        elif t.kind == "list":
            if isinstance(v, ast.ListValue):
                names = [_value_text(i) for i in v.items]
                allowed = self.list_names(d)
                for item, text in zip(v.items, names):
                    if allowed is not None and text not in allowed:
                        guess = did_you_mean(text, allowed)
                        self.bad_value(item, f"`{text}` is not a condition `{d.name}` can list",
                                       suggestion=f"did you mean `{guess}`?" if guess else
                                       "it lists: " + ", ".join(allowed))
                        return _BAD
                return tuple(names)
        self.bad_value(v, f"`{d.name}` is {t.describe()}, not {_describe(v)}")
        return _BAD

    def list_names(self, d: ir.Definition) -> list[str] | None:
        if isinstance(d.expr, ir.GateNames):
            return [label for label, _ in d.expr.rows]
        return None


def _raw(value: ast.Value):
    """A value as written, for a record that is meant to be rejected."""
    if isinstance(value, ast.Number):
        return _decimal(value.value)
    if isinstance(value, ast.BoolLit):
        return value.value
    if isinstance(value, ast.NaLit):
        return None
    if isinstance(value, ast.ListValue):
        return [_value_text(i) for i in value.items]
    return _value_text(value)


def _given_here(ex: ast.Example, field: str) -> bool:
    return any(g.name.id == field for ln in ex.lines if isinstance(ln, ast.GivenLine) for g in ln.fields)


class _BadValue:
    pass


_BAD = _BadValue()
