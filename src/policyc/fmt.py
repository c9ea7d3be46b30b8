"""`policyc fmt`: print a policy in its canonical layout (docs/fmt.md).

The layout is printed from the surface tree (`ast.Policy`), so formatting can
never change what a policy means: the formatted text parses to the same tree.
What the tree does not hold is recovered from the source text:

* comments (the parser drops them): each is attached by line to a statement,
  a table row or an example line — as its trailing comment, a comment above
  it, or a comment below it — and printed there again;
* blank lines between statements (at most one is kept);
* the spelling of an operator when it has two (`×` or `*`, `≤` or `<=`, `is`
  or `=`, `≈` or `~`): the author's is kept.

Line breaking uses a small Wadler-style document printer (groups that print
flat when they fit, "fill" groups that break only where needed) with widths
measured in display columns (East-Asian wide characters count 2).
"""

from __future__ import annotations

import bisect
import difflib
import sys
import unicodedata

from . import ast
from .diagnostics import PolicyError
from .parser import parse

HELP = "rewrite policies in the canonical layout (--check for CI, --diff to preview)"

WIDTH = 100  # display columns; a soft limit: names, strings and inline tables are never split
INDENT = 4  # rows of a block, and continuation lines, go 4 deeper
JUMP = 8  # alignment: a line this much wider than the rest of its column does not push the column out
KEY_CAP = 40  # table rows: a key (left of `->`) wider than this is not lined up with the others
DOC_GAP = 3  # spaces between the widest `input` declaration and the doc-string column
COMMENT_GAP = 2  # spaces before a trailing comment

# ───────────────────────── widths ─────────────────────────


def text_width(s: str) -> int:
    """Display width: East-Asian wide and full-width characters count 2, combining marks 0."""
    if s.isascii():
        return len(s)
    n = 0
    for c in s:
        if unicodedata.combining(c):
            continue
        n += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return n


def _column(widths: list[int], gap: int, cap: int | None = None) -> int:
    """The alignment column for cells of these widths: `gap` after the widest.

    The widest cells do not count when they are more than JUMP columns wider
    than the next narrower one and at most a third of all: they overflow the
    column instead of pushing everyone else out; so do cells wider than `cap`.
    """
    ws = sorted(w for w in widths if cap is None or w <= cap)
    n = len(ws)
    if not n:
        return 0
    cut = n
    for i in range(n - 1, 0, -1):
        if (n - i) * 3 > n:
            break
        if ws[i] - ws[i - 1] > JUMP:
            cut = i
            break
    return ws[cut - 1] + gap


def _pad(text: str, column: int, gap: int) -> str:
    """`text` padded to `column`, or followed by `gap` spaces when it is wider."""
    w = text_width(text)
    return text + " " * (column - w if w + gap <= column else gap)


# ───────────────────────── the document printer ─────────────────────────


class _Line:
    """A place to break: a space when its group prints flat, else a new line at the current indent."""

    __slots__ = ()


LINE = _Line()


class _Group:
    """Flat if it fits on the line; else broken: every LINE breaks, or (fill) only those that must."""

    __slots__ = ("parts", "fill")

    def __init__(self, parts: list, fill: bool = False):
        self.parts = parts
        self.fill = fill


class _FillRest:
    __slots__ = ("parts",)

    def __init__(self, parts: list):
        self.parts = parts


class _Nest:
    __slots__ = ("n", "doc")

    def __init__(self, n: int, doc):
        self.n = n
        self.doc = doc


class _Align:
    """Continuation lines inside start at the column where this begins (used inside parentheses)."""

    __slots__ = ("doc",)

    def __init__(self, doc):
        self.doc = doc


_FLAT, _BREAK = 0, 1


def _fits(cmds: list, rest: list, width: int) -> bool:
    stack = list(cmds)
    ri = len(rest)
    while width >= 0:
        if not stack:
            if ri == 0:
                return True
            ri -= 1
            stack.append(rest[ri])
            continue
        ind, mode, d = stack.pop()
        if isinstance(d, str):
            width -= text_width(d)
        elif isinstance(d, list):
            stack.extend((ind, mode, x) for x in reversed(d))
        elif d is LINE:
            if mode == _BREAK:
                return True
            width -= 1
        elif isinstance(d, (_Group, _FillRest)):
            stack.append((ind, mode, d.parts))
        else:  # _Nest, _Align
            stack.append((ind, mode, d.doc))
    return False


def render(doc, indent: int = 0, width: int | None = None) -> str:
    """Print a document whose first line starts at column `indent` (the indent itself is not printed)."""
    if width is None:
        width = WIDTH
    out: list[str] = []
    col = indent
    cmds = [(indent, _BREAK, doc)]
    while cmds:
        ind, mode, d = cmds.pop()
        if isinstance(d, str):
            out.append(d)
            col += text_width(d)
        elif isinstance(d, list):
            cmds.extend((ind, mode, x) for x in reversed(d))
        elif isinstance(d, _Nest):
            cmds.append((ind + d.n, mode, d.doc))
        elif isinstance(d, _Align):
            cmds.append((col, mode, d.doc))
        elif d is LINE:
            if mode == _FLAT:
                out.append(" ")
                col += 1
            else:
                out.append("\n" + " " * ind)
                col = ind
        elif isinstance(d, _Group):
            if mode == _FLAT or _fits([(ind, _FLAT, d.parts)], cmds, width - col):
                cmds.append((ind, _FLAT, d.parts))
            elif d.fill:
                cmds.append((ind, _BREAK, _FillRest(d.parts)))
            else:
                cmds.append((ind, _BREAK, d.parts))
        elif isinstance(d, _FillRest):
            # parts alternate content, separator, content, …: break a separator only when the
            # content after it does not fit on the line
            parts = d.parts
            if not parts:
                continue
            content = parts[0]
            content_mode = _FLAT if _fits([(ind, _FLAT, content)], [], width - col) else _BREAK
            if len(parts) <= 2:
                if len(parts) == 2:
                    cmds.append((ind, content_mode, parts[1]))
                cmds.append((ind, content_mode, content))
                continue
            cmds.append((ind, mode, _FillRest(parts[2:])))
            if _fits([(ind, _FLAT, [content, parts[1], parts[2]])], [], width - col):
                cmds.append((ind, _FLAT, parts[1]))
            else:
                cmds.append((ind, _BREAK, parts[1]))
            cmds.append((ind, content_mode, content))
    return "".join(out)


def _flat(doc) -> str:
    return render(doc, 0, 10**9)


def _fill(items: list) -> _Group:
    """A fill group of items separated by LINE."""
    parts: list = []
    for i, item in enumerate(items):
        if i:
            parts.append(LINE)
        parts.append(item)
    return _Group(parts, fill=True)


# ───────────────────────── strings and source scanning ─────────────────────────


def quote(text: str) -> str:
    """A string literal for `text` (the parser reads `\\"`, `\\\\`, `\\n` and `\\t`)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


class Comment:
    """A comment in the source: its line (1-based), text from `#`, whether code precedes it on its line."""

    __slots__ = ("line", "text", "trailing", "indent", "blank_before")

    def __init__(self, line: int, text: str, trailing: bool, indent: int, blank_before: bool):
        self.line = line
        self.text = text
        self.trailing = trailing
        self.indent = indent
        self.blank_before = blank_before

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Comment({self.line}, {self.text!r}, trailing={self.trailing})"


def scan_comments(text: str) -> list[Comment]:
    """Every comment of `text` (LF line ends), in order; `#` inside a string is not a comment."""
    comments = []
    lines = text.split("\n")
    for number, line in enumerate(lines, start=1):
        in_string = False
        code = False
        i = 0
        while i < len(line):
            c = line[i]
            if in_string:
                if c == "\\":
                    i += 2
                    continue
                if c == '"':
                    in_string = False
            elif c == '"':
                in_string = code = True
            elif c == "#":
                blank = number > 1 and not lines[number - 2].strip()
                comments.append(Comment(number, line[i:].rstrip(), code, i, blank))
                break
            elif not c.isspace():
                code = True
            i += 1
    return comments


def _skip_junk(text: str, i: int, end: int) -> int:
    """Skip spaces, line breaks, parentheses, commas and comments."""
    while i < end:
        c = text[i]
        if c in " \t\f\r\n(),":
            i += 1
        elif c == "#":
            j = text.find("\n", i, end)
            i = end if j < 0 else j
        else:
            break
    return i


def _find_colon(text: str, start: int) -> int:
    """The offset of the first `:` at or after `start` outside strings and comments (-1 if none)."""
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i += 1
            while i < n and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == ":":
            return i
        i += 1
    return -1


_CMP_DEFAULT = {
    ast.CmpOp.LT: "<", ast.CmpOp.LE: "<=", ast.CmpOp.GT: ">", ast.CmpOp.GE: ">=",
    ast.CmpOp.EQ: "=", ast.CmpOp.NE: "!=",
}
_CMP_SPELLINGS = {
    ast.CmpOp.LT: ("<",), ast.CmpOp.LE: ("<=", "≤"), ast.CmpOp.GT: (">",), ast.CmpOp.GE: (">=", "≥"),
    ast.CmpOp.EQ: ("==", "=", "is"), ast.CmpOp.NE: ("!=", "≠", "is not"),
}
_BIN_SPELLINGS = {
    ast.BinOp.ADD: ("+",), ast.BinOp.SUB: ("-",), ast.BinOp.MUL: ("*", "×"), ast.BinOp.DIV: ("/", "÷"),
    ast.BinOp.OF: ("of",), ast.BinOp.PER: ("per",),
}

# ───────────────────────── expressions ─────────────────────────

# binding strength, loosest first (grammar/policy.lark, "expressions")
P_IF, P_MOD, P_OR, P_AND, P_NOT, P_CMP, P_SUM, P_PROD, P_UNARY, P_BEYOND, P_ATOM = range(11)
_MODIFIERS = (ast.Round, ast.Clamp, ast.WhenZero, ast.WhenNa)
_SUM_OPS = (ast.BinOp.ADD, ast.BinOp.SUB)


def _prec(e) -> int:
    if isinstance(e, ast.If):
        return P_IF
    if isinstance(e, _MODIFIERS):
        return P_MOD
    if isinstance(e, ast.Logic):
        return P_OR if e.op == "or" else P_AND
    if isinstance(e, ast.Not):
        return P_NOT
    if isinstance(e, ast.Compare):
        return P_CMP
    if isinstance(e, ast.Binary):
        return P_SUM if e.op in _SUM_OPS else P_PROD
    if isinstance(e, ast.Neg):
        return P_UNARY
    if isinstance(e, ast.Beyond):
        return P_BEYOND
    return P_ATOM


def _label(x) -> str:
    return quote(x.text) if isinstance(x, ast.String) else x.id


class _Printer:
    """Documents for the nodes of one policy; `text` is the source the spans point into."""

    def __init__(self, text: str):
        self.text = text

    # ── operator spellings ──

    def _spelling(self, start: int, end: int, choices: tuple[str, ...], default: str) -> str:
        if not (0 <= start < end <= len(self.text)):
            return default
        i = _skip_junk(self.text, start, end)
        seg = self.text[i:end]
        if "is not" in choices and seg.startswith("is"):
            rest = seg[2:]
            stripped = rest.lstrip(" \t\f\r\n")
            if stripped != rest and stripped.startswith("not") and not (stripped[3:4].isalnum()
                                                                        or stripped[3:4] == "_"):
                return "is not"
        for choice in sorted(choices, key=len, reverse=True):
            if seg.startswith(choice):
                if choice[0].isalpha() and (seg[len(choice):len(choice) + 1].isalnum()
                                            or seg[len(choice):len(choice) + 1] == "_"):
                    continue
                return choice
        return default

    def _cmp(self, op: ast.CmpOp, start: int, end: int) -> str:
        return self._spelling(start, end, _CMP_SPELLINGS[op], _CMP_DEFAULT[op])

    def _binop(self, e: ast.Binary) -> str:
        choices = _BIN_SPELLINGS[e.op]
        return self._spelling(e.left.span.end, e.right.span.start, choices, choices[0])

    # ── expressions ──

    def expr(self, e, ctx: int = P_IF):
        """The document for `e` where the grammar needs binding strength `ctx` (parenthesised if weaker)."""
        d = self._expr(e)
        if _prec(e) < ctx:
            return ["(", _Align(d), ")"]
        return d

    def flat(self, e, ctx: int = P_IF) -> str:
        return _flat(self.expr(e, ctx))

    def _expr(self, e):
        if isinstance(e, ast.Number):
            return e.text
        if isinstance(e, ast.Ref):
            return e.name.id
        if isinstance(e, ast.String):
            return quote(e.text)
        if isinstance(e, ast.Items):
            return "items"
        if isinstance(e, ast.BoolLit):
            return "true" if e.value else "false"
        if isinstance(e, ast.NaLit):
            return "na"
        if isinstance(e, ast.Binary):
            return self._chain(e)
        if isinstance(e, ast.Neg):
            return ["-", self.expr(e.operand, P_UNARY)]
        if isinstance(e, ast.Beyond):
            return [self.expr(e.operand, P_ATOM), " beyond ", self.expr(e.allowance, P_ATOM)]
        if isinstance(e, ast.Compare):
            items = [self.expr(e.operands[0], P_SUM)]
            for i, op in enumerate(e.ops):
                left, right = e.operands[i], e.operands[i + 1]
                items.append([self._cmp(op, left.span.end, right.span.start), " ", self.expr(right, P_SUM)])
            return _fill(items)
        if isinstance(e, ast.Not):
            return ["not ", self.expr(e.operand, P_NOT)]
        if isinstance(e, ast.Logic):
            return self._logic(e)
        if isinstance(e, ast.If):
            return _Group([self.expr(e.then, P_MOD), LINE, "if ", self.expr(e.cond, P_IF), LINE, "else ",
                           self.expr(e.otherwise, P_IF)])
        if isinstance(e, _MODIFIERS):
            mods = []
            while isinstance(e, _MODIFIERS):
                mods.append(self._modifier(e))
                e = e.operand
            parts: list = [self.expr(e, P_MOD)]
            for m in reversed(mods):
                parts += [LINE, m]
            return _Group(parts)
        if isinstance(e, ast.Call):
            if not e.args:
                return e.func.id + "()"
            args = [[self._arg(a), ","] for a in e.args]
            args[-1] = args[-1][0]
            return [e.func.id, "(", _Align(_fill(args)), ")"]
        raise TypeError(f"fmt: no layout for {type(e).__name__}")  # pragma: no cover

    def _chain(self, e: ast.Binary):
        ops = _SUM_OPS if e.op in _SUM_OPS else tuple(op for op in ast.BinOp if op not in _SUM_OPS)
        own = _prec(e)
        tail = []
        while isinstance(e, ast.Binary) and e.op in ops:
            tail.append([self._binop(e), " ", self.expr(e.right, own + 1)])
            e = e.left
        return _fill([self.expr(e, own), *reversed(tail)])

    def _logic(self, e: ast.Logic):
        own = _prec(e)
        tail = []
        while isinstance(e, ast.Logic) and e.op == ("or" if own == P_OR else "and"):
            tail.append([e.op, " ", self.expr(e.right, own + 1)])
            e = e.left
        return _fill([self.expr(e, own), *reversed(tail)])

    def _modifier(self, e):
        if isinstance(e, ast.Round):
            return ["round ", self.expr(e.quantum, P_ATOM), f" {e.mode.id}" if e.mode else ""]
        if isinstance(e, ast.Clamp):
            if e.lo is None:
                return ["at most ", self.expr(e.hi, P_SUM)]
            if e.hi is None:
                return ["at least ", self.expr(e.lo, P_SUM)]
            return ["clamp ", self.expr(e.lo, P_SUM), " .. ", self.expr(e.hi, P_SUM)]
        if isinstance(e, ast.WhenZero):
            return ["when zero ", self.expr(e.default, P_SUM)]
        return ["when na ", self.expr(e.default, P_SUM)]

    def _arg(self, a: ast.Arg):
        if a.value is None:
            return f"over {a.over.id}"
        d: list = [self.expr(a.value, P_IF)]
        if a.over is not None:
            d.append(f" over {a.over.id}")
            if a.order:
                d.append(f" {a.order}")
        return d

    # ── tables ──

    def row_cells(self, row):
        """(key, separator, value document) of a row: `key -> value`, `30% value`, `name: value`."""
        if isinstance(row, ast.CmpRow):
            tests = []
            pos = row.span.start
            for op, value in row.tests:
                tests.append(f"{self._cmp(op, pos, value.span.start)} {self.flat(value, P_SUM)}")
                pos = value.span.end
            return ", ".join(tests), "->", self.expr(row.result)
        if isinstance(row, ast.RangeRow):
            return f"{self.flat(row.lo, P_SUM)} .. {self.flat(row.hi, P_SUM)}", "->", self.expr(row.result)
        if isinstance(row, ast.ElseRow):
            return "else", "->", self.expr(row.result)
        if isinstance(row, ast.CondRow):
            return self.flat(row.cond), "->", self.expr(row.result)
        if isinstance(row, ast.LabelRow):
            return " | ".join(_label(x) for x in row.labels), "->", self.expr(row.result)
        if isinstance(row, ast.PointRow):
            return self.flat(row.x, P_SUM), "->", self.expr(row.y, P_SUM)
        if isinstance(row, ast.SliceRow):
            hi = f" {self.flat(row.hi, P_SUM)}" if row.hi is not None else ""
            return f"{self.flat(row.lo, P_SUM)} ..{hi}", "->", self.expr(row.rate, P_SUM)
        if isinstance(row, ast.WeightRow):
            return row.weight.text, "", self.expr(row.value)
        if isinstance(row, ast.CriticalRow):
            return None, "", ["critical ", self.expr(row.cond)]
        if isinstance(row, ast.GateRow):
            if row.label is None:
                return None, "", self.expr(row.cond)
            return row.label.id + ":", "", self.expr(row.cond)
        raise TypeError(f"fmt: no layout for {type(row).__name__}")  # pragma: no cover

    def inline_row(self, row) -> str:
        key, sep, value = self.row_cells(row)
        value = _flat(value)
        if key is None:
            return value
        return f"{key} {sep} {value}" if sep else f"{key} {value}"

    def block_rows(self, rows) -> list:
        """The document of each row of a block, keys padded so that `->` (or the values) line up."""
        cells = [self.row_cells(r) for r in rows]
        keyed = [text_width(k) for k, _, _ in cells if k is not None]
        column = _column(keyed, 1, KEY_CAP) if keyed else 0
        docs = []
        for key, sep, value in cells:
            if key is None:
                docs.append(_Nest(INDENT, value))
                continue
            head = _pad(key, column, 1)
            docs.append(_Nest(INDENT, [head, f"{sep} " if sep else "", value]))
        return docs

    def table_head(self, t: ast.Table) -> str:
        kw = t.kind.value
        return f"{kw} {self.flat(t.subject)}:" if t.subject is not None else f"{kw}:"

    # ── examples ──

    def value(self, v) -> str:
        if isinstance(v, ast.Number):
            return v.text
        if isinstance(v, ast.Name):
            return v.id
        if isinstance(v, ast.String):
            return quote(v.text)
        if isinstance(v, ast.BoolLit):
            return "true" if v.value else "false"
        if isinstance(v, ast.NaLit):
            return "na"
        if isinstance(v, ast.ListValue):
            return "[" + ", ".join(_label(x) for x in v.items) + "]"
        raise TypeError(f"fmt: no layout for {type(v).__name__}")  # pragma: no cover

    def example_line(self, line):
        if isinstance(line, ast.GivenLine):
            items = [f"{g.name.id} = {self.value(g.value)}" for g in line.fields]
            return ["given ", _Nest(INDENT, _fill(_commas(items)))]
        if isinstance(line, ast.ExpectLine):
            checks = []
            for c in line.checks:
                op = self._spelling(c.name.span.end, c.value.span.start, ("≈", "~"), "≈") if c.approx else "="
                checks.append(f"{c.name.id} {op} {self.value(c.value)}")
            head = "expect "
            if line.agent is not None:
                period = f" in {quote(line.period.text)}" if line.period is not None else ""
                head = f"expect for {_label(line.agent)}{period}: "
            return [head, _Nest(INDENT, _fill(_commas(checks)))]
        if isinstance(line, ast.RejectLine):
            return "expect rejected" + (f" {line.field.id}" if line.field is not None else "")
        raise TypeError(f"fmt: no layout for {type(line).__name__}")  # pragma: no cover


def _commas(items: list[str]) -> list[str]:
    return [item + ("," if i < len(items) - 1 else "") for i, item in enumerate(items)]


# ───────────────────────── statements ─────────────────────────


def _type_text(t: ast.TypeSpec) -> str:
    if t.kind.id == "grade" and t.labels:
        return "grade " + " > ".join(_label(x) for x in t.labels)
    if t.kind.id == "choice" and t.labels:
        return "choice " + " | ".join(_label(x) for x in t.labels)
    return t.kind.id


def _domain_text(d: ast.Domain) -> str:
    alts = []
    for a in d.alternatives:
        if a.lo is not None and a.hi is not None and a.lo == a.hi:
            alts.append(a.lo.text)
        else:
            alts.append(f"{a.lo.text if a.lo is not None else ''}..{a.hi.text if a.hi is not None else ''}")
    if not alts:
        return " or na" if d.na else ""
    return " in " + " or ".join(alts) + (" or na" if d.na else "")


def _input_head(s: ast.InputDecl) -> str:
    text = f"input {', '.join(n.id for n in s.names)} : {_type_text(s.type)}"
    if s.domain is not None:
        text += _domain_text(s.domain)
    if s.same_over is not None:
        text += f" same over {s.same_over.id}"
    if s.direction is not None:
        text += f" {s.direction} is better"
    return text


def _definition_head(s: ast.Definition) -> str:
    names = ", ".join(n.id for n in s.names)
    head = {
        ast.DefKind.LET: f"let {names}",
        ast.DefKind.OUTPUT: names,
        ast.DefKind.ITEM: f"item {names} {s.max.text if s.max is not None else ''} pts",
        ast.DefKind.PAY: f"pay {names}",
        ast.DefKind.LABEL: f"label {names}",
    }[s.kind]
    if s.doc is not None:
        head += f" {quote(s.doc)}"
    return head + " = "


def _block_of(s) -> tuple | None:
    """The rows of a statement that opens a block (a block table, an example), else None."""
    if isinstance(s, ast.Definition) and isinstance(s.body, ast.Table) and s.body.block:
        return s.body.rows
    if isinstance(s, ast.Example):
        return s.lines
    return None


def _statement_doc(s, p: _Printer):
    """The document of a statement's own line(s); a block's rows are printed separately."""
    if isinstance(s, ast.PolicyDecl):
        return f"policy {s.name.id}" + (f" {quote(s.title)}" if s.title is not None else "")
    if isinstance(s, ast.PeriodDecl):
        return f"period {s.kind.id}"
    if isinstance(s, ast.SourceDecl):
        return f"source {quote(s.text)}"
    if isinstance(s, ast.CohortDecl):
        return f"cohort {s.name.id}" + (" by " + ", ".join(k.id for k in s.keys) if s.keys else "")
    if isinstance(s, ast.AllowExtra):
        return "allow extra fields"
    if isinstance(s, ast.TotalDecl):
        return f"total {s.points.text} pts"
    if isinstance(s, ast.InputDecl):
        return _input_head(s) + (f"   {quote(s.doc)}" if s.doc is not None else "")
    if isinstance(s, ast.Require):
        return ["require ", _Nest(INDENT, [p.expr(s.cond), f" {quote(s.doc)}" if s.doc is not None else ""])]
    if isinstance(s, ast.Definition):
        head = _definition_head(s)
        body = s.body
        if isinstance(body, ast.Table):
            table = p.table_head(body)
            if body.block:
                return head + table
            return head + table + " " + ", ".join(p.inline_row(r) for r in body.rows)
        if isinstance(body, ast.Split):
            ratios = " : ".join(r.text for r in body.ratios)
            rounding: list = []
            if body.quantum is not None:
                rounding = [" round ", p.expr(body.quantum, P_ATOM), f" {body.mode.id}" if body.mode else ""]
            return [head, _Nest(INDENT, ["split ", p.expr(body.amount), f" {ratios}", *rounding])]
        return [head, _Nest(INDENT, p.expr(body))]
    if isinstance(s, ast.Example):
        text = "example"
        if s.name is not None:
            text += f" {s.name.id}"
        if s.title is not None:
            text += f" {quote(s.title)}"
        if s.base is not None:
            text += f" from {s.base.id}"
        return text + ":"
    raise TypeError(f"fmt: no layout for {type(s).__name__}")  # pragma: no cover


# ───────────────────────── comments and layout ─────────────────────────


class _Anchor:
    """A statement or a row of a block: where comments attach, one output unit."""

    __slots__ = ("node", "depth", "start", "own_end", "indent", "leading", "trailing", "after",
                 "blank_before", "text")

    def __init__(self, node, depth: int, start: int, own_end: int, indent: int):
        self.node = node
        self.depth = depth
        self.start = start
        self.own_end = own_end
        self.indent = indent  # the source indentation, to decide where a comment between anchors goes
        self.leading: list[Comment] = []
        self.trailing: Comment | None = None
        self.after: list[Comment] = []
        self.blank_before = False
        self.text = ""


def _anchors(policy: ast.Policy, text: str) -> list[_Anchor]:
    seq = []
    for s in policy.statements:
        rows = _block_of(s)
        own_end = s.span.end_line
        if rows is not None:
            colon = _find_colon(text, s.span.start)
            own_end = text.count("\n", 0, colon) + 1 if colon >= 0 else s.span.line
        seq.append(_Anchor(s, 0, s.span.line, own_end, 0))
        for r in rows or ():
            seq.append(_Anchor(r, 1, r.span.line, r.span.end_line, r.span.column - 1))
    return seq


def _attach(seq: list[_Anchor], comments: list[Comment], lines: list[str]) -> list[Comment]:
    """Attach every comment to an anchor; return those after the last statement (the file's end)."""
    owner: dict[int, _Anchor] = {}
    for a in seq:
        if a.depth == 0:
            for n in range(a.start, a.own_end + 1):
                owner[n] = a
    for a in seq:
        if a.depth == 1:
            for n in range(a.start, a.own_end + 1):
                owner[n] = a
    starts = [a.start for a in seq]
    tail: list[Comment] = []
    below: tuple[_Anchor, int] | None = None  # the last comment placed below an anchor, and its line
    for c in comments:
        a = owner.get(c.line)
        if a is not None:
            if c.trailing and c.line == a.start and a.trailing is None:
                a.trailing = c
            else:
                a.after.append(c)  # inside a statement that spans lines: below it
                below = (a, c.line)
            continue
        k = bisect.bisect_right(starts, c.line)
        prev = seq[k - 1] if k > 0 else None
        nxt = seq[k] if k < len(seq) else None
        contiguous = prev is not None and not c.blank_before and (
            c.line == prev.own_end + 1 or (below is not None and below[0] is prev and below[1] == c.line - 1))
        if contiguous and c.indent > (nxt.indent if nxt is not None else 0):
            prev.after.append(c)  # an indented comment right below a line belongs to it
            below = (prev, c.line)
        elif nxt is not None:
            nxt.leading.append(c)
        else:
            tail.append(c)
    for a in seq:
        a.blank_before = a.start > 1 and not lines[a.start - 2].strip()
    return tail


def _align_inputs(seq: list[_Anchor], p: _Printer) -> None:
    """Line up the doc strings of consecutive `input` lines (no blank line between them)."""
    groups: list[list[_Anchor]] = []
    for i, a in enumerate(seq):
        if isinstance(a.node, ast.InputDecl):
            joined = (i > 0 and groups and groups[-1][-1] is seq[i - 1] and not a.blank_before
                      and not any(c.blank_before for c in a.leading))
            if joined:
                groups[-1].append(a)
            else:
                groups.append([a])
    for group in groups:
        heads = [_input_head(a.node) for a in group]
        widths = [text_width(h) for h, a in zip(heads, group) if a.node.doc is not None]
        if not widths:
            continue
        column = _column(widths, DOC_GAP)
        for head, a in zip(heads, group):
            if a.node.doc is not None:
                a.text = _pad(head, column, DOC_GAP) + quote(a.node.doc)


def _render_anchors(seq: list[_Anchor], p: _Printer) -> None:
    for a in seq:
        if a.depth == 0 and not a.text:
            a.text = render(_statement_doc(a.node, p), 0)
    i = 0
    while i < len(seq):
        a = seq[i]
        rows = _block_of(a.node) if a.depth == 0 else None
        if rows:
            if isinstance(a.node, ast.Example):
                docs = [p.example_line(r) for r in rows]
            else:
                docs = p.block_rows(rows)
            for j, doc in enumerate(docs, start=1):
                seq[i + j].text = " " * INDENT + render(doc, INDENT)
            i += len(rows)
        i += 1


_BLANK = None


def _kind_key(a: _Anchor, seq_parent: dict[int, object]) -> object:
    """Which trailing comments may line up: those of consecutive lines of the same key."""
    if a.depth:
        return ("rows", id(seq_parent[id(a)]))
    s = a.node
    if isinstance(s, ast.InputDecl):
        return "input"
    if isinstance(s, ast.Definition):
        return "block" if _block_of(s) else "definition"
    return type(s).__name__


def _layout(seq: list[_Anchor], tail: list[Comment]) -> list:
    """The output lines: (code, trailing comment, alignment key) and _BLANK."""
    out: list = []
    opened = False  # the last line opened a block: no blank line right after it
    parent: dict[int, object] = {}
    current = None
    for a in seq:
        if a.depth == 0:
            current = a
        else:
            parent[id(a)] = current

    def blank(wanted: bool) -> None:
        if wanted and out and out[-1] is not _BLANK and not opened:
            out.append(_BLANK)

    def comment_line(c: Comment, indent: int) -> None:
        nonlocal opened
        out.append((" " * indent + c.text, None, None))
        opened = False

    for a in seq:
        indent = INDENT if a.depth else 0
        for c in a.leading:
            blank(c.blank_before)
            comment_line(c, indent)
        blank(a.blank_before)
        first, *rest = a.text.split("\n")
        out.append((first, a.trailing.text if a.trailing is not None else None, _kind_key(a, parent)))
        out.extend((line, None, None) for line in rest)
        opened = a.depth == 0 and bool(_block_of(a.node))
        for c in a.after:
            comment_line(c, INDENT)
    for c in tail:
        blank(c.blank_before)
        comment_line(c, 0)
    return out


def _join(out: list) -> str:
    """The text; the trailing comments of consecutive lines of one kind lined up."""
    lines: list[str] = []
    i = 0
    while i < len(out):
        if out[i] is _BLANK or out[i][1] is None:
            lines.append("" if out[i] is _BLANK else out[i][0])
            i += 1
            continue
        j = i + 1
        while j < len(out) and out[j] is not _BLANK and out[j][1] is not None and out[j][2] == out[i][2]:
            j += 1
        run = out[i:j]
        column = _column([text_width(code) for code, _, _ in run], COMMENT_GAP)
        for code, comment, _ in run:
            lines.append(_pad(code, column, COMMENT_GAP) + comment)
        i = j
    return "".join(line.rstrip() + "\n" for line in lines)


def _crlf(text: str) -> bool:
    """Whether the text's first line ends with CRLF (its line ends are then kept as CRLF)."""
    i = text.find("\n")
    return i > 0 and text[i - 1] == "\r"


def format_source(text: str, filename: str = "<string>") -> str:
    """The canonical layout of policy text.

    Raises `PolicyError` (with the parse diagnostics) when the text does not
    parse; the text is then not formattable. A byte-order mark and CRLF line
    ends are kept as the input has them.
    """
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    crlf = _crlf(text)
    source = text.replace("\r\n", "\n")
    policy = parse(source, filename)
    lines = source.split("\n")
    printer = _Printer(source)
    seq = _anchors(policy, source)
    tail = _attach(seq, scan_comments(source), lines)
    _align_inputs(seq, printer)
    _render_anchors(seq, printer)
    result = _join(_layout(seq, tail))
    if crlf:
        result = result.replace("\n", "\r\n")
    return ("\ufeff" if bom else "") + result


# ───────────────────────── command line ─────────────────────────

EXIT_OK, EXIT_CHANGED, EXIT_INPUT = 0, 1, 2


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="policy files or folders (searched for *.policy); - reads stdin and writes stdout")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if any file would be reformatted, listing them")
    p.add_argument("--diff", action="store_true",
                   help="write nothing; print a unified diff of the changes on stdout")


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _unified_diff(old: str, new: str, name: str) -> str:
    def lines(s: str) -> list[str]:
        parts = s.split("\n")
        out = [x + "\n" for x in parts[:-1]]
        if parts[-1]:
            out.append(parts[-1] + "\n\\ No newline at end of file\n")
        return out

    return "".join(difflib.unified_diff(lines(old), lines(new), fromfile=f"{name} (original)",
                                        tofile=f"{name} (formatted)"))


def _write_stdout(text: str) -> None:
    """Write text to stdout as UTF-8, whatever the console's code page, with its line ends untouched."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def _print_diagnostics(e: PolicyError, text: str) -> None:
    """The diagnostics exactly as `policyc check` prints them (plain text, on stderr)."""
    from .diagnostics import render_one

    for d in e.diagnostics:
        sys.stderr.write(render_one(d, e.sources.get(d.span.file, text)))


def _files(paths: list[str]) -> list[str] | None:
    from .compiler import policy_files

    return policy_files(paths, stdin=True)


def run(args) -> int:
    files = _files(args.paths)
    if files is None:
        return EXIT_INPUT
    status = EXIT_OK
    changed: list[str] = []
    for name in files:
        try:
            if name == "-":
                data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
                text = data.decode("utf-8")
                shown = "<stdin>"
            else:
                with open(name, encoding="utf-8", newline="") as f:
                    text = f.read()
                shown = name
        except (OSError, UnicodeDecodeError) as e:
            _err(f"policyc: cannot read {'<stdin>' if name == '-' else name}: {e}")
            status = EXIT_INPUT
            continue
        # read as `policyc check` reads: BOM dropped, universal line ends; both are put back after
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        source = text[len(bom):].replace("\r\n", "\n").replace("\r", "\n")
        try:
            parse(source, shown)
            new = format_source(source, shown)
        except PolicyError as e:
            _print_diagnostics(e, source)
            _err(f"policyc: {shown} does not parse; it was left unchanged")
            status = max(status, EXIT_CHANGED)
            continue
        if _crlf(text):
            new = new.replace("\n", "\r\n")
        new = bom + new
        if name == "-" and not args.check and not args.diff:
            _write_stdout(new)
            continue
        if new == text:
            continue
        changed.append(shown)
        if args.diff:
            _write_stdout(_unified_diff(text, new, shown))
        if args.check:
            _err(f"would reformat {shown}")
        elif not args.diff:
            from .output import write_atomic

            try:
                write_atomic(name, new)
            except OSError as e:
                _err(f"policyc: cannot write {name}: {e}")
                status = EXIT_INPUT
                continue
            _err(f"reformatted {shown}")
    if args.check and changed:
        _err(f"policyc: {len(changed)} of {len(files)} file(s) would be reformatted; "
             "run `policyc fmt` on them to fix the layout")
        status = max(status, EXIT_CHANGED)
    return status
