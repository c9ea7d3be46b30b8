"""`policyc doc`: the document model, built from a checked policy.

A document is a list of blocks (headings, paragraphs, bullet lists, tables)
whose text is *inline*: a list of segments, each plain text, code, strong
text or a link to a heading. Every fixed word comes from the catalogue in
`doc_words` (so `--lang zh` is Chinese throughout); every other string comes
from the policy — its doc strings, titles, names, comments and formulas as
written. The renderers in `doc_render` escape each segment for Markdown or
HTML; nothing here is escaped.

The builder reads the checked IR (types, maxima, docs, examples) and the AST
of the same text (tables, rows and numbers as written: `5%`, `24h`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import attrs

from . import ast, ir
from .doc_words import Words

# ───────────────────────── the model ─────────────────────────


@attrs.frozen
class Seg:
    """A piece of inline text: kind is text, code, strong, or link (text shown as code, `target` an id)."""

    kind: str
    text: str
    target: str | None = None


Inline = list  # list[Seg]


def T(text: str) -> Seg:
    return Seg("text", text)


def C(text: str) -> Seg:
    return Seg("code", text)


def B(text: str) -> Seg:
    return Seg("strong", text)


@attrs.frozen
class Heading:
    level: int
    inline: Inline
    id: str | None = None


@attrs.frozen
class Para:
    inline: Inline
    style: str = ""  # "" | "meta" | "note" | "warn"


@attrs.frozen
class Bullets:
    items: list  # list[Inline]
    style: str = ""


@attrs.frozen
class Table:
    header: list  # list[Inline]
    rows: list  # list[list[Inline]]


@attrs.frozen
class Document:
    title: str
    lang: str
    blocks: list
    warnings: list  # plain English/Chinese sentences for stderr (examples that do not give what they expect)


# ───────────────────────── helpers: numbers and text ─────────────────────────

_OPS = {ast.CmpOp.LT: "<", ast.CmpOp.LE: "≤", ast.CmpOp.GT: ">", ast.CmpOp.GE: "≥", ast.CmpOp.EQ: "=",
        ast.CmpOp.NE: "≠"}
_ARITH = {ast.BinOp.ADD: "+", ast.BinOp.SUB: "−", ast.BinOp.MUL: "×", ast.BinOp.DIV: "÷", ast.BinOp.PER: "×",
          ast.BinOp.OF: "×"}
_PREC = {ast.BinOp.ADD: 1, ast.BinOp.SUB: 1, ast.BinOp.MUL: 2, ast.BinOp.DIV: 2, ast.BinOp.PER: 2, ast.BinOp.OF: 2}

_PRETTY = [("->", "→"), ("<=", "≤"), (">=", "≥"), ("!=", "≠"), ("==", "="), ("*", "×"), ("/", "÷")]
_STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def pretty_code(text: str) -> str:
    """Code as written, on one line, with the language's own Unicode operators (`<=` → `≤`, `*` → `×`).

    The result is still valid policy text; strings are left untouched."""
    text = " ".join(_strip_comments(text).split())
    out = []
    pos = 0
    for m in _STRING.finditer(text):
        out.append(_pretty_plain(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_pretty_plain(text[pos:]))
    return "".join(out)


def _pretty_plain(text: str) -> str:
    for a, b in _PRETTY:
        text = text.replace(a, b)
    return text


def _strip_comments(text: str) -> str:
    """Drop `# …` comments from code text (a `#` inside a string is kept)."""
    lines = []
    for line in text.splitlines():
        in_string = escaped = False
        cut = len(line)
        for k, ch in enumerate(line):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "#":
                cut = k
                break
        lines.append(line[:cut])
    return "\n".join(lines)


def decimal_text(f: Fraction) -> str | None:
    """The exact decimal text of a number, or None when it has no finite decimal form."""
    d = f.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return None
    places = max(twos, fives)
    scaled = f * 10 ** places
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled.numerator))
    if places == 0:
        return sign + digits
    digits = digits.rjust(places + 1, "0")
    return sign + digits[:-places] + "." + digits[-places:]


def number_text(f: Fraction) -> str:
    """Exact when the number has a finite decimal form; else `≈` and 4 places, rounded half-up."""
    exact = decimal_text(f)
    if exact is not None:
        return exact
    q = Fraction(1, 10 ** 4)
    n = abs(f) / q
    whole = int(n)
    if n - whole >= Fraction(1, 2):
        whole += 1
    rounded = Fraction(whole) * q * (1 if f >= 0 else -1)
    return "≈ " + (decimal_text(rounded) or str(rounded))


def as_fraction(v) -> Fraction | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, Fraction)):
        return Fraction(v)
    if isinstance(v, Decimal):
        return Fraction(v) if v.is_finite() else None
    return None


# ───────────────────────── the builder ─────────────────────────


class Builder:
    def __init__(self, policy: ir.Policy, tree: ast.Policy, text: str, lang: str, scorer=None):
        self.p = policy
        self.tree = tree
        self.text = text
        self.lines = text.splitlines()
        self.w = Words(lang)
        self.lang = lang
        self.scorer = scorer
        self.blocks: list = []
        self.warnings: list[str] = []
        self.inputs = {i.name: i for i in policy.inputs}
        self.defs = {d.name: d for d in policy.definitions if d.kind != "hidden"}
        self.cohorts = {c.name: c for c in policy.cohorts}
        self.labels = self._labels()
        self.anchors: dict[str, str] = {}

    def t(self, key: str, **kw) -> str:
        return self.w.t(key, **kw)

    def ti(self, key: str, **kw) -> Inline:
        """A catalogue phrase as inline text; a hole given a list of segments takes them as they are."""
        out: Inline = []
        template = self.w.template(key)
        pos = 0
        for m in re.finditer(r"\{(\w+)\}", template):
            if m.start() > pos:
                out.append(T(template[pos:m.start()]))
            v = kw[m.group(1)]
            out += v if isinstance(v, list) else [T(str(v))]
            pos = m.end()
        if pos < len(template):
            out.append(T(template[pos:]))
        return out

    # ── names ──
    def _labels(self) -> dict[str, str]:
        """A short human label for every input and definition: its doc string, when it has one.

        A doc shared by several inputs (`input late, leave, absent : count "迟到, 请假, 旷工"`) is split
        at its commas when it has exactly one part per name (and no colon); otherwise those inputs are
        called by their names."""
        out: dict[str, str] = {}
        for s in self.tree.statements:
            if isinstance(s, ast.InputDecl) and s.doc:
                if len(s.names) == 1:
                    out[s.names[0].id] = s.doc
                elif ":" not in s.doc and "：" not in s.doc:
                    parts = [x.strip() for x in re.split(r"[,，、]", s.doc)]
                    if len(parts) == len(s.names) and all(parts):
                        for n, part in zip(s.names, parts):
                            out[n.id] = part
        for d in self.p.definitions:
            if d.kind != "hidden" and d.doc:
                out[d.name] = d.doc
        return out

    def known(self, name: str) -> bool:
        return name in self.inputs or name in self.defs

    def short(self, name: str) -> Seg:
        """The name as a reader calls it: its label, else the code name."""
        if name in self.labels:
            return T(self.labels[name])
        return self.ref(name)

    def ref(self, name: str) -> Seg:
        if name in self.anchors:
            return Seg("link", name, self.anchors[name])
        return C(name)

    def full(self, name: str) -> Inline:
        """`退款率 (refund_rate)`: label and code name; the code name alone when there is no label."""
        if name in self.labels:
            return [T(self.labels[name] + " ("), self.ref(name), T(")")]
        return [self.ref(name)]

    def src(self, node) -> str:
        return self.text[node.span.start:node.span.end]

    def code(self, node) -> Seg:
        return C(pretty_code(self.src(node)))

    # ── comments ──
    def comments_above(self, line: int) -> list[str]:
        """The comment lines directly above a statement (no blank line between), without `policyc:` directives."""
        out: list[str] = []
        n = line - 2
        while n >= 0:
            raw = self.lines[n].strip()
            if not raw.startswith("#"):
                break
            out.append(raw)
            n -= 1
        out.reverse()
        return _paragraphs(out)

    # ── build ──
    def build(self) -> Document:
        p = self.p
        self._plan_anchors()
        title = p.title or p.name
        self.blocks.append(Heading(1, [T(title)], "top"))
        meta = self.ti("Scheme {name} · {period}", name=[C(p.name)], period=self.t(_PERIOD_SHORT[p.period]))
        self.blocks.append(Para(meta, "meta"))
        self.purpose()
        self.period()
        self.measured()
        self.requirements()
        self.sections()
        self.examples()
        self.blocks.append(Para(self.ti("This document is rendered from the policy {name} and its doc strings; "
                                        "the policy is the reference.", name=[C(p.name)]), "meta"))
        return Document(title=title, lang=self.lang, blocks=self.blocks, warnings=self.warnings)

    def _plan_anchors(self) -> None:
        for s in self.tree.statements:
            if isinstance(s, ast.Definition):
                for n in s.names:
                    if n.id in self.defs:
                        self.anchors[n.id] = "def-" + s.names[0].id
            elif isinstance(s, ast.InputDecl):
                for n in s.names:
                    self.anchors[n.id] = "inputs"

    # ── purpose ──
    def purpose(self) -> None:
        decl = next(s for s in self.tree.statements if isinstance(s, ast.PolicyDecl))
        lines = [ln.strip() for ln in self.lines[: decl.span.line - 1]]
        paras = _paragraphs([ln for ln in lines if ln.startswith("#") or not ln])
        if not paras and not self.p.source:
            return
        self.blocks.append(Heading(2, [T(self.t("Purpose"))], "purpose"))
        for para in paras:
            self.blocks.append(Para([T(para)]))
        if self.p.source:
            self.blocks.append(Para([T(self.t("Source: {source}", source=self.p.source))]))

    # ── period ──
    def period(self) -> None:
        self.blocks.append(Heading(2, [T(self.t("Assessment period"))], "period"))
        self.blocks.append(Para([T(self.t(_PERIOD_WORDS[self.p.period]))]))
        for c in self.p.cohorts:
            if c.keys:
                keys = _join([self.full(k) for k in c.keys], self.t(", "))
                self.blocks.append(Para(self.ti("{cohort}: the agents with the same {keys} in the same period.",
                                                cohort=[C(c.name)], keys=keys)))
            else:
                self.blocks.append(Para(self.ti("{cohort}: every agent in the same period.", cohort=[C(c.name)])))

    # ── inputs ──
    def measured(self) -> None:
        self.blocks.append(Heading(2, [T(self.t("What is measured"))], "inputs"))
        self.blocks.append(Para([T(self.t("Each agent's record for the period gives these values."))]))
        header = [[T(h)] for h in (self.t("Input"), self.t("Description"), self.t("Type"), self.t("Allowed values"),
                                   self.t("N/A allowed"), self.t("Better when"))]
        rows = []
        for s in self.tree.statements:
            if not isinstance(s, ast.InputDecl):
                continue
            for n in s.names:
                i = self.inputs[n.id]
                kind = [T(self._type_words(i))]
                if i.same_over:
                    kind = self.ti("{type}; the same for everyone in {cohort}", type=kind, cohort=[C(i.same_over)])
                better = {"higher": self.t("higher"), "lower": self.t("lower")}.get(i.direction or "", "—")
                rows.append([[C(i.name)], [T(s.doc)] if s.doc else [T("—")], kind,
                             [T(self._domain_words(i, s.domain))],
                             [T(self.t("yes") if i.na else "—")], [T(better)]])
        self.blocks.append(Table(header, rows))

    def _type_words(self, i: ir.Input) -> str:
        return self.t(_TYPE_WORDS[i.kind])

    def _domain_words(self, i: ir.Input, domain: ast.Domain | None) -> str:
        if domain is not None and domain.alternatives:
            parts = []
            for alt in domain.alternatives:
                lo = alt.lo.text if alt.lo is not None else None
                hi = alt.hi.text if alt.hi is not None else None
                if lo is not None and hi is not None:
                    parts.append(lo if alt.lo.value == alt.hi.value else f"{lo} – {hi}")
                elif lo is not None:
                    parts.append(f"≥ {lo}")
                elif hi is not None:
                    parts.append(f"≤ {hi}")
            return (" " + self.t("or") + " ").join(parts)
        labels = i.type.labels
        if i.kind == "grade":
            return " > ".join(labels) + " (" + self.t("best first") + ")"
        if i.kind == "choice":
            return " / ".join(labels)
        return {
            "count": "0, 1, 2, …",
            "percent": "0% – 100%",
            "duration": "≥ 0",
            "money": "≥ 0",
            "points": self.t("any number"),
            "number": self.t("any number"),
            "text": self.t("any text"),
            "bool": self.t("yes or no"),
        }.get(i.kind, "—")

    # ── requirements ──
    def requirements(self) -> None:
        reqs = [s for s in self.tree.statements if isinstance(s, ast.Require)]
        if not reqs:
            return
        self.blocks.append(Heading(2, [T(self.t("Requirements"))], "requirements"))
        self.blocks.append(Para([T(self.t("A record that breaks one of these is not scored: "
                                          "it is sent back to be corrected."))]))
        items = []
        names: list[str] = []
        for r in reqs:
            item = self.condition(r.cond)
            if r.doc:
                item = item + [T(" — " + r.doc)]
            items.append(item)
            names += [n for n in self.names_in(r.cond) if n not in names]
        self.blocks.append(Bullets(items))
        self.legend(names)

    # ── definitions ──
    def sections(self) -> None:
        defs = [s for s in self.tree.statements if isinstance(s, ast.Definition)
                and any(n.id in self.defs for n in s.names)]
        items = [d for d in defs if d.kind is ast.DefKind.ITEM]
        pays = [d for d in defs if d.kind is ast.DefKind.PAY]
        ratings = [d for d in defs if d.kind is ast.DefKind.LABEL]
        gates = [d for d in defs if d.kind in (ast.DefKind.OUTPUT, ast.DefKind.LET) and _is_gate(d.body)]
        others = [d for d in defs if d.kind in (ast.DefKind.OUTPUT, ast.DefKind.LET) and not _is_gate(d.body)]
        if items:
            self.blocks.append(Heading(2, [T(self.t("Items"))], "items"))
            self.items_summary(items)
            for d in items:
                self.definition(d)
        if others:
            self.blocks.append(Heading(2, [T(self.t("Totals and other values"))], "values"))
            for d in others:
                self.definition(d)
        if gates:
            self.blocks.append(Heading(2, [T(self.t("Gates"))], "gates"))
            for d in gates:
                self.definition(d)
        if ratings:
            self.blocks.append(Heading(2, [T(self.t("Ratings"))], "ratings"))
            for d in ratings:
                self.definition(d)
        if pays:
            self.blocks.append(Heading(2, [T(self.t("Pay"))], "pay"))
            for d in pays:
                self.definition(d)

    def items_summary(self, items: list[ast.Definition]) -> None:
        rows = []
        total = Fraction(0)
        for d in items:
            idef = self.defs[d.names[0].id]
            total += idef.max
            rows.append([self.full(idef.name), [T(d.max.text if d.max is not None else number_text(idef.max))],
                         [T(self.t(_HOW.get(_shape(d.body), "formula")))]])
        declared = next((s for s in self.tree.statements if isinstance(s, ast.TotalDecl)), None)
        rows.append([[B(self.t("Full marks"))], [B(number_text(total))], [T("")]])
        self.blocks.append(Table([[T(self.t("Item"))], [T(self.t("Maximum (points)"))], [T(self.t("Scored by"))]],
                                 rows))
        if declared is not None:
            self.blocks.append(Para([T(self.t("Full marks: {n} points, as the policy declares; the items' maxima "
                                              "add up to it.", n=declared.points.text))]))
        else:
            self.blocks.append(Para([T(self.t("Full marks: {n} points, the sum of the items' maxima.",
                                              n=number_text(total)))]))

    def definition(self, d: ast.Definition) -> None:
        names = [n.id for n in d.names]
        first = self.defs[names[0]]
        heading: Inline = []
        for k, n in enumerate(names):
            if k:
                heading.append(T(", "))
            heading += [T(self.labels[n] + " ("), C(n), T(")")] if n in self.labels else [C(n)]
        self.blocks.append(Heading(3, heading, "def-" + names[0]))
        meta = self._meta(d, first)
        if meta:
            self.blocks.append(Para(meta, "meta"))
        for para in self.comments_above(d.span.line):
            self.blocks.append(Para([T(para)], "note"))
        body = d.body
        what = self._what(d, first)
        if isinstance(body, ast.Table):
            self.table(body, what, d)
        elif isinstance(body, ast.Split):
            self.split(body, names)
        elif isinstance(body, ast.Call) and body.func.id in ("all", "any") and first.type.kind == "bool":
            self.gate_call(body)
        else:
            code = [self.code(body)]
            self.blocks.append(Para(self.ti("Holds when: {code}", code=code) if first.type.kind == "bool"
                                    else self.ti("Formula: {code}", code=code)))
        exclude = set(names)
        if isinstance(body, ast.Table) and isinstance(body.subject, ast.Ref):
            exclude.add(body.subject.name.id)  # the table's lead names it already
        self.legend(self.names_in(body), exclude=exclude)
        notes = self.notes(body)
        if d.kind is ast.DefKind.ITEM:
            notes.append([T(self.t("An item never goes below 0 nor above its maximum of {max} points "
                                   "(deduct until nothing is left).", max=number_text(first.max)))])
        if notes:
            self.blocks.append(Bullets(notes, "note"))

    def _meta(self, d: ast.Definition, idef: ir.Definition) -> Inline:
        if d.kind is ast.DefKind.ITEM:
            return [T(self.t("Item, at most {max} points.", max=number_text(idef.max)))]
        if d.kind is ast.DefKind.LET:
            return [T(self.t("An intermediate value: used by the rules below, not a result of its own."))]
        if d.kind is ast.DefKind.PAY:
            return [T(self.t("Pay, in yuan."))]
        return self.ti("Result: {kind}", kind=self._value_kind(idef.type))

    def _value_kind(self, t: ir.Type) -> str:
        if t.kind == "num":
            if t.dim is ir.Dim.MONEY:
                return self.t("an amount of money (yuan)")
            if t.dim is ir.Dim.TIME:
                return self.t("a duration")
            if t.percent:
                return self.t("a percent")
            if t.count:
                return self.t("a whole number")
            return self.t("a number")
        if t.kind == "bool":
            return self.t("yes or no")
        if t.kind == "label":
            return self.t("a rating") + ": " + ", ".join(t.labels)
        if t.kind == "list":
            return self.t("a list of condition names")
        return self.t("text")

    def _what(self, d: ast.Definition, idef: ir.Definition) -> str:
        if d.kind is ast.DefKind.ITEM:
            return self.t("Points")
        if d.kind is ast.DefKind.PAY:
            return self.t("Amount (yuan)")
        if d.kind is ast.DefKind.LABEL:
            return self.t("Rating")
        return self.t("Value")

    # ── tables ──
    def table(self, tb: ast.Table, what: str, d: ast.Definition) -> None:
        k = tb.kind
        subj_name = tb.subject.name.id if isinstance(tb.subject, ast.Ref) else None
        subj = self.subject(tb.subject) if tb.subject is not None else None
        if k in (ast.TableKind.FIRST, ast.TableKind.RANGE):
            if subj is None:
                lead = [T(self.t("The first row that holds gives the value."))] if k is ast.TableKind.FIRST else \
                    [T(self.t("Exactly one row holds for every value."))]
            elif k is ast.TableKind.FIRST:
                lead = self.ti("By {subject}: the first row that holds gives the value.", subject=subj)
            else:
                lead = self.ti("By {subject}: exactly one row holds for every value.", subject=subj)
            self.blocks.append(Para(lead))
            rows = [[self.row_condition(r, tb.subject, subj_name), self.result(r.result, d)] for r in tb.rows]
            self.blocks.append(Table([[T(self.t("Condition"))], [T(what)]], rows))
        elif k is ast.TableKind.MAP:
            rows = []
            for r in tb.rows:
                if isinstance(r, ast.ElseRow):
                    rows.append([[T(self.t("any other"))], self.result(r.result, d)])
                else:
                    labels = " / ".join(x.id if isinstance(x, ast.Name) else x.text for x in r.labels)
                    rows.append([[T(labels)], self.result(r.result, d)])
            self.blocks.append(Para(self.ti("By {subject}:", subject=subj)))
            self.blocks.append(Table([subj, [T(what)]], rows))
        elif k is ast.TableKind.LINEAR:
            self.blocks.append(Para(self.ti("A straight line through the points below, by {subject}: between two "
                                            "points the value moves on the line; below the first point and above "
                                            "the last it stays at the end value.", subject=subj)))
            rows = [[[T(pretty_code(self.src(r.x)))], self.result(r.y, d)] for r in tb.rows]
            self.blocks.append(Table([subj, [T(what)]], rows))
        elif k is ast.TableKind.MARGINAL:
            self.blocks.append(Para(self.ti("Tiers, like tax brackets: each slice of {subject} is multiplied by its "
                                            "own rate, and the results are added.", subject=subj)))
            rows = []
            for r in tb.rows:
                lo = pretty_code(self.src(r.lo))
                if r.hi is None:
                    span = self.t("{lo} and above", lo=lo)
                else:
                    span = f"{lo} – {pretty_code(self.src(r.hi))}"
                rows.append([[T(span)], self.result(r.rate, d)])
            self.blocks.append(Table([[T(self.t("Slice"))], [T(self.t("Rate"))]], rows))
        elif k is ast.TableKind.WEIGHTED:
            self.blocks.append(Para([T(self.t("A weighted score: each criterion counts with its weight. A criterion "
                                              "that is not applicable is left out and the other weights are "
                                              "scaled up to add up again; when every criterion is not applicable, "
                                              "the score is not applicable."))]))
            rows = [[[T(r.weight.text)], self.condition(r.value)] for r in tb.rows if isinstance(r, ast.WeightRow)]
            self.blocks.append(Table([[T(self.t("Weight"))], [T(self.t("Criterion"))]], rows))
            crit = [self.condition(r.cond) for r in tb.rows if isinstance(r, ast.CriticalRow)]
            if crit:
                self.blocks.append(Para([T(self.t("Critical: when one of these does not hold, the whole score is 0."))]))
                self.blocks.append(Bullets(crit))
        elif k in (ast.TableKind.ALL, ast.TableKind.ANY):
            lead = self.t("Holds when every condition below holds.") if k is ast.TableKind.ALL else \
                self.t("Holds when at least one condition below holds.")
            self.blocks.append(Para([T(lead)]))
            gate = next((g for g in ir.walk(self.defs[d.names[0].id].expr) if isinstance(g, ir.Gate)), None)
            names = [n for n, _ in gate.rows] if gate is not None else []
            rows = []
            for k, r in enumerate(x for x in tb.rows if isinstance(x, ast.GateRow)):
                # an unnamed condition is named by its text (that is what `failed(…)` lists)
                name = r.label.id if r.label is not None else (names[k] if k < len(names) else pretty_code(
                    self.src(r.cond)))
                rows.append([[C(name)], self.condition(r.cond)])
            self.blocks.append(Table([[T(self.t("Name"))], [T(self.t("Condition"))]], rows))
        else:  # pragma: no cover - every table kind is handled above
            self.blocks.append(Para([self.code(tb)]))

    def gate_call(self, call: ast.Call) -> None:
        lead = self.t("Holds when every condition below holds.") if call.func.id == "all" else \
            self.t("Holds when at least one condition below holds.")
        self.blocks.append(Para([T(lead)]))
        self.blocks.append(Bullets([self.condition(a.value) for a in call.args if a.value is not None]))

    def split(self, sp: ast.Split, names: list[str]) -> None:
        amount = self.condition(sp.amount)
        self.blocks.append(Para(self.ti("{amount} is split in these shares:", amount=amount)))
        rows = [[self.full(n), [T(r.text)]] for n, r in zip(names, sp.ratios)]
        self.blocks.append(Table([[T(self.t("Part"))], [T(self.t("Share"))]], rows))
        q = pretty_code(self.src(sp.quantum)) if sp.quantum is not None else "0.01"
        self.blocks.append(Para([T(self.t("Every part but the last is rounded to {q}; the last part is the rest, "
                                          "so the parts add up to the amount exactly.", q=q))]))

    def subject(self, e) -> Inline:
        if isinstance(e, ast.Ref) and self.known(e.name.id):
            return self.full(e.name.id)
        return [self.code(e)]

    def row_condition(self, r, subject, subj_name) -> Inline:
        who = self.short(subj_name) if subj_name else (self.code(subject) if subject is not None else None)
        if isinstance(r, ast.ElseRow):
            return [T(self.t("otherwise"))]
        if isinstance(r, ast.CondRow):
            return self.condition(r.cond)
        if isinstance(r, ast.RangeRow):
            return [T(pretty_code(self.src(r.lo)) + " ≤ "), who, T(" ≤ " + pretty_code(self.src(r.hi)))]
        if isinstance(r, ast.CmpRow):
            tests = list(r.tests)
            if len(tests) == 2:
                (o1, v1), (o2, v2) = tests
                lower = {ast.CmpOp.GT: "<", ast.CmpOp.GE: "≤"}
                if o1 in lower and o2 in (ast.CmpOp.LT, ast.CmpOp.LE):
                    return [T(f"{pretty_code(self.src(v1))} {lower[o1]} "), who,
                            T(f" {_OPS[o2]} {pretty_code(self.src(v2))}")]
            out: Inline = []
            for k, (op, v) in enumerate(tests):
                if k:
                    out.append(T(" " + self.t("and") + " "))
                out += [who, T(f" {_OPS[op]} {pretty_code(self.src(v))}")]
            return out
        return [self.code(r)]  # pragma: no cover

    def result(self, e, d: ast.Definition) -> Inline:
        if isinstance(e, ast.Number):
            return [T(e.text)]
        if isinstance(e, ast.Ref) and d.kind is ast.DefKind.LABEL:
            return [T(e.name.id)]
        if isinstance(e, ast.String):
            return [T(e.text)]
        if isinstance(e, ast.Neg) and isinstance(e.operand, ast.Number):
            return [T("-" + e.operand.text)]
        return self.condition(e)

    # ── conditions in words ──
    def condition(self, e) -> Inline:
        """A simple condition or value in words, names by their labels (`退款率 ≤ 5%`); else the code."""
        words = self._words(e, 0)
        return words if words is not None else [self.code(e)]

    def _words(self, e, parent: int):
        if isinstance(e, ast.Number):
            return [T(e.text)]
        if isinstance(e, ast.Ref):
            if self.known(e.name.id):
                return [self.short(e.name.id)]
            return [T(e.name.id)]
        if isinstance(e, ast.String):
            return [T(e.text)]
        if isinstance(e, ast.BoolLit):
            return [T(self.t("yes") if e.value else self.t("no"))]
        if isinstance(e, ast.Items):
            return [T(self.t("the items' points"))]
        if isinstance(e, ast.Neg):
            inner = self._words(e.operand, 3)
            return None if inner is None else [T("−")] + inner
        if isinstance(e, ast.Compare) and parent in (0, "and", "or"):
            out = []
            for k, o in enumerate(e.operands):
                w = self._words(o, 1)
                if w is None:
                    return None
                if k:
                    out.append(T(f" {_OPS[e.ops[k - 1]]} "))
                out += w
            return out
        if isinstance(e, ast.Not) and isinstance(e.operand, ast.Ref) and self.known(e.operand.name.id) \
                and parent in (0, "and", "or"):
            return self.ti("{x}: no", x=[self.short(e.operand.name.id)])
        if isinstance(e, ast.Logic) and parent in (0, e.op):
            left, right = self._words(e.left, e.op), self._words(e.right, e.op)
            if left is None or right is None:
                return None
            return left + [T(" " + (self.t("and") if e.op == "and" else self.t("or")) + " ")] + right
        if isinstance(e, ast.Logic) and parent in ("and", "or"):
            inner = self._words(e, 0)
            return None if inner is None else [T("(")] + inner + [T(")")]
        return None

    # ── names explained ──
    def names_in(self, node) -> list[str]:
        out: list[str] = []
        for n in _walk(node):
            if isinstance(n, ast.Ref) and self.known(n.name.id) and n.name.id not in out:
                out.append(n.name.id)
            elif isinstance(n, ast.Items) and "items" not in out:
                out.append("items")
        return out

    def legend(self, names: list[str], exclude: set[str] = frozenset()) -> None:
        items = []
        for n in names:
            if n in exclude:
                continue
            if n == "items":
                items.append(self.ti("{name} — the sum of all the items' points", name=[C("items")]))
                continue
            what = self.t("input") if n in self.inputs else self.t(_KIND_WORDS[self.defs[n].kind])
            label = self.labels.get(n) or (self.inputs[n].doc if n in self.inputs else None)
            if label:
                items.append(self.ti("{name} — {label} ({what})", name=[self.ref(n)], label=[T(label)], what=what))
            else:
                items.append(self.ti("{name} — {what}", name=[self.ref(n)], what=what))
        if items:
            self.blocks.append(Para([T(self.t("Where:"))]))
            self.blocks.append(Bullets(items))

    # ── notes: what the formula's words mean ──
    def notes(self, body) -> list:
        out: list = []
        said: set = set()

        def once(key, inline):
            if key not in said:
                said.add(key)
                out.append(inline)

        for n in _walk(body):
            if isinstance(n, ast.Round):
                q = pretty_code(self.src(n.quantum))
                mode = n.mode.id if n.mode is not None else "half_up"
                phrase = _ROUND[mode]
                once(("round", q, mode), [T(self.t(phrase, q=q))])
            elif isinstance(n, ast.Clamp):
                lo = pretty_code(self.src(n.lo)) if n.lo is not None else None
                hi = pretty_code(self.src(n.hi)) if n.hi is not None else None
                if lo is not None and hi is not None:
                    s = self.t("Kept between {lo} and {hi}: less counts as {lo}, more as {hi}.", lo=lo, hi=hi)
                elif hi is not None:
                    s = self.t("Never more than {hi}.", hi=hi)
                else:
                    s = self.t("Never less than {lo}.", lo=lo)
                once(("clamp", lo, hi), [T(s)])
            elif isinstance(n, ast.WhenZero):
                once(("zero", self.src(n.default)),
                     [T(self.t("When a denominator is 0 (nothing to divide by), the value is {d}.",
                               d=pretty_code(self.src(n.default))))])
            elif isinstance(n, ast.WhenNa):
                once(("na", self.src(n)), self.ti("{code}: when not applicable, it counts as {d}.",
                                                  code=[self.code(n.operand)], d=pretty_code(self.src(n.default))))
            elif isinstance(n, ast.Beyond):
                once(("beyond", self.src(n)), self.ti("{code}: only the part above {k} counts (0 when not above).",
                                                      code=[self.code(n)], k=pretty_code(self.src(n.allowance))))
            elif isinstance(n, ast.Binary) and n.op is ast.BinOp.PER:
                once("per", self.ti("{code}: so much for each one: “5 per x” is 5 × x.", code=[C("per")]))
            elif isinstance(n, ast.Binary) and n.op is ast.BinOp.OF:
                once("of", self.ti("{code}: a share of: “70% of 130” is 70% × 130 = 91.", code=[C("of")]))
            elif isinstance(n, ast.Call):
                note = self._call_note(n)
                if note is not None:
                    once(("call", self.src(n)), note)
        return out

    def _call_note(self, n: ast.Call):
        f = n.func.id
        cohort = next((a.over.id for a in n.args if a.over is not None), None)
        code = [self.code(n)]
        if cohort is not None:
            key = _COHORT_NOTES.get(f)
            return None if key is None else self.ti(key, code=code, cohort=[C(cohort)])
        key = _CALL_NOTES.get(f)
        return None if key is None else self.ti(key, code=code)

    # ── examples ──
    def examples(self) -> None:
        exs = list(self.p.examples)
        if not exs:
            return
        self.blocks.append(Heading(2, [T(self.t("Worked cases"))], "cases"))
        self.blocks.append(Para([T(self.t("Each case is a record written into the policy with the values the scheme "
                                          "must give for it. The results are computed from this policy; ✓ marks a "
                                          "value the case states."))]))
        ast_by_start = {s.span.start: s for s in self.tree.statements if isinstance(s, ast.Example)}
        by_name = {e.name: e for e in exs if e.name}
        for k, ex in enumerate(exs, start=1):
            node = ast_by_start.get(ex.span.start)
            self.example(k, ex, node, by_name)

    def _example_label(self, ex: ir.Example) -> str:
        return ex.title or ex.name or self.t("Case at line {n}", n=ex.span.line)

    def example(self, k: int, ex: ir.Example, node: ast.Example | None, by_name: dict) -> None:
        heading = [T(f"{k}. " + self._example_label(ex))]
        if ex.name and ex.title:
            heading += [T(" ("), C(ex.name), T(")")]
        self.blocks.append(Heading(3, heading, f"case-{k}"))
        for para in self.comments_above(ex.span.line):
            self.blocks.append(Para([T(para)], "note"))
        records = ex.record_dicts()
        base = node.base.id if node is not None and node.base is not None else None
        if base is not None and base in by_name:
            fields: list[str] = []
            for ln in node.lines:
                if isinstance(ln, ast.GivenLine):
                    fields += [g.name.id for g in ln.fields if g.name.id in self.inputs and g.name.id not in fields]
            fields = [i.name for i in self.p.inputs if i.name in fields]
            self.blocks.append(Para([T(self.t("Starts from case “{base}” and changes:",
                                              base=self._example_label(by_name[base])))]))
        else:
            fields = [i.name for i in self.p.inputs]
            self.blocks.append(Para([T(self.t("Given:"))]))
        heads = self._record_heads(records)
        written = self._written(node) if node is not None else []
        if len(written) != len(records):
            written = [{} for _ in records]
        if fields:
            rows = [[self.full(f)] + [[T(w[f] if f in w else self.value(r.get(f), self.inputs[f].type))]
                                      for r, w in zip(records, written)]
                    for f in fields]
            self.blocks.append(Table([[T(self.t("Input"))]] + [[T(h)] for h in heads], rows))
        results, problem = self._score(ex, records)
        label = self._example_label(ex)
        if ex.rejected:
            if results is None and problem is not None:
                self.blocks.append(Para([T(self.t("The policy refuses this record, as the case expects:"))]))
                self.blocks.append(Bullets(problem))
                return
            self.warnings.append(self.t("case “{label}” expects the record to be refused, but the policy scores "
                                        "it; run {cmd}", label=label, cmd="policyc test"))
            self.blocks.append(Para(self.ti("The case expects this record to be refused, but the policy scores "
                                            "it: run {cmd}.", cmd=[C("policyc test")]), "warn"))
        elif results is None:
            self.warnings.append(self.t("case “{label}” cannot be computed; run {cmd}", label=label,
                                        cmd="policyc test"))
            self.blocks.append(Para(self.ti("This case cannot be computed: run {cmd}.", cmd=[C("policyc test")]),
                                    "warn"))
            if problem:
                self.blocks.append(Bullets(problem))
            return
        self._results(ex, records, results, heads, label)

    def _written(self, node: ast.Example, seen: tuple = ()) -> list[dict[str, str]]:
        """Each record's given values as the policy writes them (`3%`, `25s`, `优`), `from` followed."""
        base: dict[str, str] = {}
        if node.base is not None and node.base.id not in seen:
            target = next((s for s in self.tree.statements if isinstance(s, ast.Example) and s.name is not None
                           and s.name.id == node.base.id), None)
            if target is not None:
                records = self._written(target, seen + (node.base.id,))
                base = dict(records[0]) if records else {}
        out = []
        for ln in node.lines:
            if isinstance(ln, ast.GivenLine):
                rec = dict(base)
                for g in ln.fields:
                    rec[g.name.id] = self._value_as_written(g.value)
                out.append(rec)
        if not out and base:
            out.append(base)
        return out

    def _value_as_written(self, v) -> str:
        if isinstance(v, ast.Number):
            return v.text
        if isinstance(v, ast.Name):
            return v.id
        if isinstance(v, ast.String):
            return v.text
        if isinstance(v, ast.BoolLit):
            return self.t("yes") if v.value else self.t("no")
        if isinstance(v, ast.NaLit):
            return self.t("N/A")
        return self.src(v)

    def _record_heads(self, records: list[dict]) -> list[str]:
        if len(records) == 1:
            return [self.t("Value")]
        agents = {r.get("agent") for r in records}
        periods = {r.get("period") for r in records}
        if len(agents) == len(records):
            return [str(r.get("agent")) for r in records]
        if len(periods) == len(records):
            return [str(r.get("period")) for r in records]
        return [f"{r.get('agent')} · {r.get('period')}" for r in records]

    def _score(self, ex: ir.Example, records: list[dict]):
        from . import runtime as rt

        if self.scorer is None:
            return None, None
        try:
            return self.scorer.score_batch(records), None
        except rt.RecordError as e:
            issues = []
            for issue in e.errors:
                where: Inline = []
                for j, f in enumerate(issue.fields):
                    if j:
                        where.append(T(", "))
                    where += self.full(f) if self.known(f) else [C(f)]
                if self.lang == "en" or not where:
                    where += [T(": " if where else ""), T(issue.reason)]
                if where not in issues:
                    issues.append(where)
            return None, issues
        except rt.PolicyRuntimeError as e:
            return None, [[T(str(e))]] if self.lang == "en" else []

    def _results(self, ex: ir.Example, records: list[dict], results, heads: list[str], label: str) -> None:
        checks: dict[tuple[str, str, str], ir.Check] = {(c.agent, c.period, c.name): c for c in ex.checks}
        names = list(self.p.output_names)
        names += [c.name for c in ex.checks if c.name not in names]
        names = list(dict.fromkeys(names))
        rows = []
        bad = False
        for name in names:
            d = self.defs.get(name)
            if d is None:
                continue
            row = [self.full(name)]
            for r in results:
                actual = r.exact(name)
                cell = self.value(actual, d.type)
                c = checks.get((r.agent, r.period, name))
                if c is not None:
                    if _matches(c, actual):
                        cell += " ✓"
                    else:
                        bad = True
                        cell = self.t("{actual} ✗ (the case expects {expected})", actual=cell,
                                      expected=("≈ " if c.approx else "") + self.value(c.value, d.type))
                    row.append([B(cell)])
                else:
                    row.append([T(cell)])
            rows.append(row)
        self.blocks.append(Para([T(self.t("Results:"))]))
        self.blocks.append(Table([[T(self.t("Result"))]] + [[T(h)] for h in heads], rows))
        if bad:
            self.warnings.append(self.t("case “{label}” does not give the values it states; run {cmd}",
                                        label=label, cmd="policyc test"))

    # ── values ──
    def value(self, v, t: ir.Type) -> str:
        """A value as a reader reads it: numbers exact (percent as %, money in yuan, durations in s/min/h)."""
        if v is None:
            return self.t("N/A")
        if isinstance(v, bool):
            return self.t("yes") if v else self.t("no")
        if isinstance(v, (list, tuple)):
            return ", ".join(str(x) for x in v) if v else self.t("(none)")
        f = as_fraction(v)
        if f is None:
            return str(v)
        if t.kind != "num":
            return number_text(f)
        if t.percent:
            return number_text(f * 100) + "%"
        if t.dim is ir.Dim.MONEY:
            text = number_text(f)
            if "." in text and not text.startswith("≈") and len(text.split(".")[1]) == 1:
                text += "0"
            return self.t("{n} yuan", n=text)
        if t.dim is ir.Dim.TIME:
            return self.t("{n} s", n=number_text(f))
        return number_text(f)


def _matches(c: ir.Check, actual) -> bool:
    """Whether an example's stated value is what the policy gives (`≈`: rounded half-up to the places written)."""
    if isinstance(c.value, Fraction) and not isinstance(actual, bool):
        a = as_fraction(actual)
        if a is None:
            return False
        if c.approx:
            q = Fraction(1, 10 ** c.places)
            n = abs(a) / q
            whole = int(n) + (1 if n - int(n) >= Fraction(1, 2) else 0)
            return Fraction(whole) * q * (1 if a >= 0 else -1) == c.value
        return a == c.value
    if isinstance(c.value, tuple):
        return isinstance(actual, (list, tuple)) and tuple(actual) == c.value
    if isinstance(c.value, bool) or isinstance(actual, bool):
        return actual is c.value
    return actual == c.value


def _walk(node):
    """Every AST node under `node` (itself first), in source order."""
    if node is None:
        return
    if isinstance(node, tuple):
        for x in node:
            yield from _walk(x)
        return
    if not attrs.has(type(node)) or not hasattr(node, "span"):
        return
    yield node
    for f in attrs.fields(type(node)):
        if f.name == "span":
            continue
        v = getattr(node, f.name)
        if isinstance(v, tuple) or attrs.has(type(v)):
            yield from _walk(v)


def _is_gate(body) -> bool:
    if isinstance(body, ast.Table):
        return body.kind in (ast.TableKind.ALL, ast.TableKind.ANY)
    return isinstance(body, ast.Call) and body.func.id in ("all", "any")


def _shape(body) -> str:
    if isinstance(body, ast.Table):
        return body.kind.value
    if isinstance(body, ast.Split):
        return "split"
    return "formula"


def _join(parts: list, sep: str) -> Inline:
    out: Inline = []
    for k, p in enumerate(parts):
        if k:
            out.append(T(sep))
        out += p
    return out


def _paragraphs(comment_lines: list[str]) -> list[str]:
    """Comment lines (with their `#`) → paragraphs; `policyc:` directives dropped, blank lines separate."""
    paras: list[list[str]] = [[]]
    for raw in comment_lines:
        body = raw.lstrip("#").strip() if raw.startswith("#") else ""
        if re.match(r"^policyc:", body):
            continue
        if not body or re.fullmatch(r"[─—\-=\s]*", body) or re.fullmatch(r"─+.*─+", body):
            if paras[-1]:
                paras.append([])
            continue
        paras[-1].append(body)
    return [_join_lines(p) for p in paras if p]


_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _join_lines(lines: list[str]) -> str:
    out = lines[0]
    for ln in lines[1:]:
        if _CJK.match(out[-1:]) and _CJK.match(ln[:1]):
            out += ln
        else:
            out += " " + ln
    return out


_PERIOD_SHORT = {"month": "monthly", "half_month": "every half month", "quarter": "quarterly", "year": "yearly"}

_PERIOD_WORDS = {
    "month": "Monthly: every agent is assessed once a month (periods are written like 2026-11).",
    "half_month": "Every half month: from the 1st to the 15th and from the 16th to the end of the month "
                  "(periods are written like 2026-11-H1 and 2026-11-H2).",
    "quarter": "Quarterly: every agent is assessed once a quarter (periods are written like 2026-Q4).",
    "year": "Yearly: every agent is assessed once a year (periods are written like 2026).",
}

_TYPE_WORDS = {
    "count": "count (a whole number)",
    "percent": "percent",
    "duration": "duration",
    "money": "money (yuan)",
    "points": "points",
    "number": "number",
    "grade": "grade",
    "choice": "choice",
    "text": "text",
    "bool": "yes or no",
}

_KIND_WORDS = {"let": "intermediate value", "output": "result", "item": "item", "pay": "pay", "label": "rating"}

_HOW = {
    "first": "bands (the first that holds)",
    "table": "bands",
    "by": "by grade or choice",
    "linear": "straight line between points",
    "marginal": "tiers",
    "weighted": "weighted criteria",
    "all": "all conditions",
    "any": "any condition",
    "formula": "formula",
}

_ROUND = {
    "half_up": "Rounded to the nearest {q} (a half rounds up).",
    "half_even": "Rounded to the nearest {q} (a half rounds to the even neighbour).",
    "up": "Rounded up (away from zero) to a multiple of {q}.",
    "down": "Rounded down (toward zero) to a multiple of {q}.",
}

_COHORT_NOTES = {
    "max": "{code}: the highest value in {cohort}, this period.",
    "min": "{code}: the lowest value in {cohort}, this period.",
    "sum": "{code}: the total of {cohort}, this period.",
    "mean": "{code}: the average of {cohort}, this period.",
    "count": "{code}: how many records of {cohort} count, this period.",
    "rank": "{code}: the place in {cohort} this period: 1 is the highest (the lowest when written "
            "“ascending”); equal values share a place.",
    "share": "{code}: the agent's part of the total of {cohort}, this period.",
}

_CALL_NOTES = {
    "min": "{code}: the smallest of the values.",
    "max": "{code}: the largest of the values.",
    "mean": "{code}: the average of the values.",
    "count": "{code}: how many of the conditions hold.",
    "abs": "{code}: the value without its sign.",
    "failed": "{code}: the names of the gate's conditions that failed, in order.",
    "passed": "{code}: the names of the gate's conditions that held, in order.",
    "streak": "{code}: how many periods in a row, up to and including this one, the condition has held "
              "(a missing period breaks the run).",
    "previous": "{code}: the value in the previous period (not applicable when there is none).",
    "all": "{code}: holds when every condition holds.",
    "any": "{code}: holds when at least one condition holds.",
}

#: every module-level phrase table whose values go through `Words.t`
PHRASE_TABLES = (_PERIOD_SHORT, _PERIOD_WORDS, _TYPE_WORDS, _KIND_WORDS, _HOW, _ROUND, _COHORT_NOTES, _CALL_NOTES)
