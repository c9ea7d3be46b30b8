"""Parse: policy text → `ast.Policy`, or diagnostics. No Lark object leaves this module."""

from __future__ import annotations

import functools
from fractions import Fraction
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from . import ast
from .diagnostics import Diagnostic, PolicyError, Span, did_you_mean
from .layout import Layout, LayoutError

UNIT_SCALE = {None: Fraction(1), "%": Fraction(1, 100), "s": Fraction(1), "min": Fraction(60), "h": Fraction(3600)}


def _grammar_path() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "grammar" / "policy.lark"
    if packaged.exists():
        return packaged
    return here.parent.parent / "grammar" / "policy.lark"


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(
        _grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=Layout(),
        propagate_positions=True,
        maybe_placeholders=True,
        strict=True,
        start="start",
    )


def parse(text: str, file: str = "<string>") -> ast.Policy:
    """Parse policy text; raise PolicyError with diagnostics if it is not valid."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        tree = _lark().parse(text + ("\n" if not text.endswith("\n") else ""))
    except LayoutError as e:
        raise PolicyError([_diag("E002", e.message, _tok_span(e.token, file), e.label)], {file: text}) from None
    except UnexpectedInput as e:
        raise PolicyError([_syntax_diagnostic(e, text, file)], {file: text}) from None
    try:
        policy = _ToAst(file, text).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, _AstError):
            raise PolicyError([e.orig_exc.diagnostic], {file: text}) from None
        raise
    return policy


# ───────────────────────── spans ─────────────────────────


def _meta_span(meta, file: str) -> Span:
    if getattr(meta, "empty", True):
        return Span(file=file, line=1, column=1, end_line=1, end_column=1, start=0, end=0)
    return Span(file=file, line=meta.line, column=meta.column, end_line=meta.end_line,
                end_column=meta.end_column, start=meta.start_pos, end=meta.end_pos)


def _tok_span(tok: Token, file: str) -> Span:
    line = tok.line or 1
    col = tok.column or 1
    start = tok.start_pos or 0
    end = tok.end_pos if tok.end_pos is not None else start + max(1, len(tok.value))
    end_line = tok.end_line or line
    end_col = tok.end_column or (col + max(1, len(tok.value)))
    return Span(file=file, line=line, column=col, end_line=end_line, end_column=end_col, start=start, end=end)


def _diag(code: str, message: str, span: Span, label: str = "", suggestion: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, message=message, span=span, label=label, suggestion=suggestion)


# ───────────────────────── syntax errors in words ─────────────────────────

_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a quoted string ("…")',
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "_INDENT": "an indented block of rows",
    "_DEDENT": "the end of the block",
    "COLON": "`:`",
    "EQUAL": "`=`",
    "COMMA": "`,`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "ELSE": "`else`",
    "NA": "`na`",
    "ALL": "`all`",
    "ANY": "`any`",
}

_STATEMENT_STARTS = "`policy`, `period`, `input`, `require`, `let`, `item`, `pay`, `label` or a name followed by `=`"


def _describe(term: str) -> str:
    if term in _WORDS:
        return _WORDS[term]
    try:
        pattern = _lark().get_terminal(term).pattern
    except KeyError:
        return term.lower()
    if pattern.type == "str":
        return f"`{pattern.value}`"
    return term.lower()


def _syntax_diagnostic(e: UnexpectedInput, text: str, file: str) -> Diagnostic:
    if isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        span = Span(file=file, line=e.line, column=e.column, end_line=e.line, end_column=e.column + 1,
                    start=e.pos_in_stream, end=e.pos_in_stream + 1)
        if ch == '"':
            return _diag("E003", "this string is not closed before the end of the line", span,
                         "string starts here", 'add the closing `"` on the same line')
        if ch == "\t":
            return _diag("E002", "a tab is used; indent and separate with spaces", span, "tab here")
        return _diag("E004", f"the character {ch!r} has no meaning here", span, "unexpected character")
    if isinstance(e, UnexpectedEOF):
        n = len(text)
        span = Span(file=file, line=text.count("\n") + 1, column=1, end_line=text.count("\n") + 1,
                    end_column=2, start=n, end=n)
        return _diag("E001", "the file ends in the middle of a statement", span, "more was expected")
    assert isinstance(e, UnexpectedToken)
    tok = e.token
    expected = sorted({_describe(t) for t in e.expected if not t.startswith("__") and t != "_NEWLINE"})
    span = _tok_span(tok, file)
    if tok.type in ("_NL", "$END", "_DEDENT", "_INDENT"):
        what = "the line ends too early" if tok.type != "_INDENT" else "this line is indented, but nothing opened a block"
        span = _eol_span(text, e, file)
        label = "here"
    else:
        what = f"unexpected {_token_words(tok)}"
        label = "not expected here"
    suggestion = None
    if tok.type == "NUMBER" and "%" in tok.value and "NAME" not in e.expected:
        suggestion = "a percent belongs to a percent value; check the unit"
    if len(expected) > 8:
        expected_text = "a formula or " + _STATEMENT_STARTS if "a name" in expected else ", ".join(expected[:8]) + ", …"
    else:
        expected_text = " or ".join(expected) if len(expected) <= 2 else ", ".join(expected[:-1]) + " or " + expected[-1]
    if tok.type == "NAME" and e.expected and all(t not in ("NAME",) for t in e.expected):
        guess = did_you_mean(tok.value, [_describe(t).strip("`") for t in e.expected])
        if guess:
            suggestion = f"did you mean `{guess}`?"
    message = f"{what}; expected {expected_text}"
    if tok.type in ("_DEDENT",) or (tok.type == "_NL" and "_INDENT" in e.expected):
        message = "a `:` at the end of a line must be followed by indented rows"
    return _diag("E001", message, span, label, suggestion)


def _token_words(tok: Token) -> str:
    if tok.type == "NAME":
        return f"name `{tok.value}`"
    if tok.type == "NUMBER":
        return f"number `{tok.value}`"
    if tok.type == "STRING":
        return "string"
    return f"`{tok.value}`"


def _eol_span(text: str, e: UnexpectedToken, file: str) -> Span:
    # point at the end of the previous meaningful token
    prev = e.token_history[-1] if getattr(e, "token_history", None) else None
    if prev is not None and prev.end_pos is not None:
        return Span(file=file, line=prev.end_line, column=prev.end_column, end_line=prev.end_line,
                    end_column=prev.end_column + 1, start=prev.end_pos, end=prev.end_pos + 1)
    return _tok_span(e.token, file)


# ───────────────────────── tree → AST ─────────────────────────


class _AstError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic


@v_args(meta=True)
class _ToAst(Transformer):
    def __init__(self, file: str, text: str):
        super().__init__()
        self.file = file
        self.text = text

    def sp(self, meta) -> Span:
        return _meta_span(meta, self.file)

    def tsp(self, tok: Token) -> Span:
        return _tok_span(tok, self.file)

    # names, literals
    def name(self, meta, ch):
        return ast.Name(id=str(ch[0]), span=self.tsp(ch[0]))

    def _number(self, tok: Token, negative: bool = False) -> ast.Number:
        text = str(tok)
        unit = None
        for u in ("%", "min", "s", "h"):
            if text.endswith(u):
                unit, text_num = u, text[: -len(u)]
                break
        else:
            text_num = text
        value = Fraction(text_num) * UNIT_SCALE[unit]
        if negative:
            value = -value
        return ast.Number(value=value, text=("-" if negative else "") + str(tok), unit=unit, span=self.tsp(tok))

    def number(self, meta, ch):
        return self._number(ch[0])

    def signed_number(self, meta, ch):
        return self._number(ch[0])

    def neg_number(self, meta, ch):
        n = self._number(ch[0], negative=True)
        return attrs_evolve(n, span=self.sp(meta))

    def string(self, meta, ch):
        return ast.String(text=_unquote(ch[0]), span=self.sp(meta))

    def ref(self, meta, ch):
        return ast.Ref(name=ch[0], span=ch[0].span)

    def items(self, meta, ch):
        return ast.Items(span=self.sp(meta))

    def true(self, meta, ch):
        return ast.BoolLit(value=True, span=self.sp(meta))

    def false(self, meta, ch):
        return ast.BoolLit(value=False, span=self.sp(meta))

    def na(self, meta, ch):
        return ast.NaLit(span=self.sp(meta))

    # operators
    def _bin(op):
        def method(self, meta, ch):
            left, right = [c for c in ch if not isinstance(c, Token)]
            return ast.Binary(op=op, left=left, right=right, span=self.sp(meta))
        return method

    add = _bin(ast.BinOp.ADD)
    sub = _bin(ast.BinOp.SUB)
    mul = _bin(ast.BinOp.MUL)
    div = _bin(ast.BinOp.DIV)
    of = _bin(ast.BinOp.OF)
    per = _bin(ast.BinOp.PER)
    del _bin

    def neg(self, meta, ch):
        return ast.Neg(operand=ch[0], span=self.sp(meta))

    def beyond(self, meta, ch):
        return ast.Beyond(operand=ch[0], allowance=ch[1], span=self.sp(meta))

    def cmp_op(self, meta, ch):
        text = " ".join(str(t) for t in ch)
        return {
            "<": ast.CmpOp.LT, "<=": ast.CmpOp.LE, "≤": ast.CmpOp.LE,
            ">": ast.CmpOp.GT, ">=": ast.CmpOp.GE, "≥": ast.CmpOp.GE,
            "=": ast.CmpOp.EQ, "==": ast.CmpOp.EQ, "is": ast.CmpOp.EQ,
            "!=": ast.CmpOp.NE, "≠": ast.CmpOp.NE, "is not": ast.CmpOp.NE,
        }[text]

    def compare(self, meta, ch):
        operands = tuple(ch[0::2])
        ops = tuple(ch[1::2])
        return ast.Compare(operands=operands, ops=ops, span=self.sp(meta))

    def not_op(self, meta, ch):
        return ast.Not(operand=ch[0], span=self.sp(meta))

    def and_op(self, meta, ch):
        return ast.Logic(op="and", left=ch[0], right=ch[1], span=self.sp(meta))

    def or_op(self, meta, ch):
        return ast.Logic(op="or", left=ch[0], right=ch[1], span=self.sp(meta))

    def if_expr(self, meta, ch):
        then, cond, other = [c for c in ch if not isinstance(c, Token)]
        return ast.If(then=then, cond=cond, otherwise=other, span=self.sp(meta))

    def round_expr(self, meta, ch):
        return ast.Round(operand=ch[0], quantum=ch[1], mode=ch[2] if len(ch) > 2 else None, span=self.sp(meta))

    def clamp_expr(self, meta, ch):
        return ast.Clamp(operand=ch[0], lo=ch[1], hi=ch[2], span=self.sp(meta))

    def at_most(self, meta, ch):
        return ast.Clamp(operand=ch[0], lo=None, hi=ch[1], span=self.sp(meta))

    def at_least(self, meta, ch):
        return ast.Clamp(operand=ch[0], lo=ch[1], hi=None, span=self.sp(meta))

    def when_zero(self, meta, ch):
        return ast.WhenZero(operand=ch[0], default=ch[1], span=self.sp(meta))

    def when_na(self, meta, ch):
        operand, default = [c for c in ch if not isinstance(c, Token)]
        return ast.WhenNa(operand=operand, default=default, span=self.sp(meta))

    def call(self, meta, ch):
        head = ch[0]
        func = head if isinstance(head, ast.Name) else ast.Name(id=str(head), span=self.tsp(head))
        args = tuple(a for a in ch[1:] if a is not None)
        return ast.Call(func=func, args=args, span=self.sp(meta))

    def plain_arg(self, meta, ch):
        return ast.Arg(value=ch[0], span=self.sp(meta))

    def over_arg(self, meta, ch):
        order = str(ch[2].children[0]) if len(ch) > 2 and ch[2] is not None else None
        return ast.Arg(value=ch[0], over=ch[1], order=order, span=self.sp(meta))

    def over_only_arg(self, meta, ch):
        return ast.Arg(value=None, over=ch[0], span=self.sp(meta))

    # tables
    def _table(kind, has_subject=True):
        def method(self, meta, ch):
            ch = [c for c in ch if not (isinstance(c, Token) and c.type in ("ALL", "ANY"))]
            subject = ch[0] if has_subject else None
            rows = tuple(ch[1:] if has_subject else ch)
            lines = {r.span.line for r in rows}
            return ast.Table(kind=kind, subject=subject, rows=rows, block=len(lines) > 1 or
                             (bool(rows) and rows[0].span.line != _meta_span(meta, self.file).line),
                             span=self.sp(meta))
        return method

    first_table = _table(ast.TableKind.FIRST)
    first_cond_table = _table(ast.TableKind.FIRST, has_subject=False)
    range_table = _table(ast.TableKind.RANGE)
    map_table = _table(ast.TableKind.MAP)
    linear_table = _table(ast.TableKind.LINEAR)
    marginal_table = _table(ast.TableKind.MARGINAL)
    weighted_table = _table(ast.TableKind.WEIGHTED, has_subject=False)
    all_table = _table(ast.TableKind.ALL, has_subject=False)
    any_table = _table(ast.TableKind.ANY, has_subject=False)
    del _table

    def key_row(self, meta, ch):
        key, result = ch
        if key[0] == "range":
            return ast.RangeRow(lo=key[1], hi=key[2], result=result, span=self.sp(meta))
        return ast.CmpRow(tests=key[1], result=result, span=self.sp(meta))

    def cmp_key(self, meta, ch):
        tests = tuple((ch[i], ch[i + 1]) for i in range(0, len(ch), 2) if ch[i] is not None)
        return ("cmp", tests)

    def range_key(self, meta, ch):
        return ("range", ch[0], ch[1])

    def else_row(self, meta, ch):
        return ast.ElseRow(result=ch[-1], span=self.sp(meta))

    def cond_row(self, meta, ch):
        return ast.CondRow(cond=ch[0], result=ch[1], span=self.sp(meta))

    def label_row(self, meta, ch):
        return ast.LabelRow(labels=tuple(ch[:-1]), result=ch[-1], span=self.sp(meta))

    def point_row(self, meta, ch):
        return ast.PointRow(x=ch[0], y=ch[1], span=self.sp(meta))

    def slice_row(self, meta, ch):
        return ast.SliceRow(lo=ch[0], hi=ch[1], rate=ch[2], span=self.sp(meta))

    def weight_row(self, meta, ch):
        return ast.WeightRow(weight=self._number(ch[0]), value=ch[1], span=self.sp(meta))

    def critical_row(self, meta, ch):
        return ast.CriticalRow(cond=ch[0], span=self.sp(meta))

    def named_gate_row(self, meta, ch):
        return ast.GateRow(label=ch[0], cond=ch[1], span=self.sp(meta))

    def bare_gate_row(self, meta, ch):
        return ast.GateRow(label=None, cond=ch[0], span=self.sp(meta))

    def label(self, meta, ch):
        c = ch[0]
        if isinstance(c, Token):
            return ast.String(text=_unquote(c), span=self.tsp(c))
        return c

    # bodies and definitions
    def expr_body(self, meta, ch):
        doc = _unquote(ch[1]) if len(ch) > 1 and ch[1] is not None else None
        return _BodyDoc(ch[0], doc)

    def split(self, meta, ch):
        amount = ch[0]
        rest = ch[1:]
        rounding = rest[-1] if rest and isinstance(rest[-1], tuple) else None
        ratios = tuple(r for r in rest if isinstance(r, ast.Number))
        return ast.Split(amount=amount, ratios=ratios, quantum=rounding[0] if rounding else None,
                         mode=rounding[1] if rounding else None, span=self.sp(meta))

    def split_ratio(self, meta, ch):
        return self._number(ch[0])

    def rounding(self, meta, ch):
        return (ch[0], ch[1] if len(ch) > 1 else None)

    def _definition(self, meta, kind, names, doc_tok, body, maximum=None):
        doc = _unquote(doc_tok) if doc_tok is not None else None
        if isinstance(body, _BodyDoc):
            body, trailing = body.body, body.doc
            if trailing is not None:
                doc = trailing if doc is None else doc + " " + trailing
        return ast.Definition(kind=kind, names=tuple(names), body=body, max=maximum, doc=doc, span=self.sp(meta))

    @staticmethod
    def _split_def_children(ch):
        names = [c for c in ch if isinstance(c, ast.Name)]
        docs = [c for c in ch if isinstance(c, Token) and c.type == "STRING"]
        body = ch[-1]
        return names, (docs[0] if docs else None), body

    def let_def(self, meta, ch):
        names, doc, body = self._split_def_children(ch[1:])
        return self._definition(meta, ast.DefKind.LET, names, doc, body)

    def item_def(self, meta, ch):
        maximum = self._number(ch[2])
        names, doc, body = self._split_def_children([ch[1], *ch[3:]])
        return self._definition(meta, ast.DefKind.ITEM, names, doc, body, maximum)

    def pay_def(self, meta, ch):
        names, doc, body = self._split_def_children(ch[1:])
        return self._definition(meta, ast.DefKind.PAY, names, doc, body)

    def label_def(self, meta, ch):
        names, doc, body = self._split_def_children(ch[1:])
        return self._definition(meta, ast.DefKind.LABEL, names, doc, body)

    def out_def(self, meta, ch):
        names, doc, body = self._split_def_children(ch)
        return self._definition(meta, ast.DefKind.OUTPUT, names, doc, body)

    def keyword_def(self, meta, ch):
        kw = ch[0]
        names = [ast.Name(id=str(kw), span=self.tsp(kw))]
        docs = [c for c in ch[1:] if isinstance(c, Token) and c.type == "STRING"]
        return self._definition(meta, ast.DefKind.OUTPUT, names, docs[0] if docs else None, ch[-1])

    # header and inputs
    def policy_decl(self, meta, ch):
        return ast.PolicyDecl(name=ch[0], title=_unquote(ch[1]) if len(ch) > 1 else None, span=self.sp(meta))

    def period_decl(self, meta, ch):
        return ast.PeriodDecl(kind=ch[0], span=self.sp(meta))

    def source_decl(self, meta, ch):
        return ast.SourceDecl(text=_unquote(ch[0]), span=self.sp(meta))

    def cohort_decl(self, meta, ch):
        return ast.CohortDecl(name=ch[0], keys=tuple(ch[1:]), span=self.sp(meta))

    def allow_decl(self, meta, ch):
        return ast.AllowExtra(span=self.sp(meta))

    def total_decl(self, meta, ch):
        return ast.TotalDecl(points=self._number(ch[1]), span=self.sp(meta))

    def simple_type(self, meta, ch):
        return ast.TypeSpec(kind=ch[0], span=self.sp(meta))

    def grade_type(self, meta, ch):
        return ast.TypeSpec(kind=ast.Name(id="grade", span=self.sp(meta)), labels=tuple(ch), span=self.sp(meta))

    def choice_type(self, meta, ch):
        return ast.TypeSpec(kind=ast.Name(id="choice", span=self.sp(meta)), labels=tuple(ch), span=self.sp(meta))

    def domain(self, meta, ch):
        na = any(c == "na" for c in ch)
        alts = tuple(c for c in ch if isinstance(c, ast.DomainRange))
        return ast.Domain(alternatives=alts, na=na, span=self.sp(meta))

    def na_only(self, meta, ch):
        return ast.Domain(alternatives=(), na=True, span=self.sp(meta))

    def domain_point(self, meta, ch):
        return ast.DomainRange(lo=ch[0], hi=ch[0], span=self.sp(meta))

    def domain_range(self, meta, ch):
        return ast.DomainRange(lo=ch[0], hi=ch[1], span=self.sp(meta))

    def domain_upto(self, meta, ch):
        return ast.DomainRange(lo=None, hi=ch[0], span=self.sp(meta))

    def domain_na(self, meta, ch):
        return "na"

    def same_over(self, meta, ch):
        return ch[0]

    def input_decl(self, meta, ch):
        names = []
        i = 0
        while isinstance(ch[i], ast.Name):
            names.append(ch[i])
            i += 1
        type_spec = ch[i]
        domain = same = doc = direction = None
        for c in ch[i + 1:]:
            if isinstance(c, tuple) and c and c[0] == "direction":
                direction = c[1]
            elif isinstance(c, ast.Domain):
                domain = c
            elif isinstance(c, ast.Name):
                same = c
            elif isinstance(c, Token) and c.type == "STRING":
                doc = _unquote(c)
        return ast.InputDecl(names=tuple(names), type=type_spec, domain=domain, same_over=same, doc=doc,
                             direction=direction, span=self.sp(meta))

    def direction(self, meta, ch):
        return ("direction", str(ch[0]))

    def require_decl(self, meta, ch):
        return ast.Require(cond=ch[0], doc=_unquote(ch[1]) if len(ch) > 1 else None, span=self.sp(meta))

    def start(self, meta, ch):
        return ast.Policy(statements=tuple(ch), file=self.file, span=self.sp(meta))


class _BodyDoc:
    __slots__ = ("body", "doc")

    def __init__(self, body, doc):
        self.body = body
        self.doc = doc


def attrs_evolve(node, **changes):
    import attrs

    return attrs.evolve(node, **changes)


def _unquote(tok) -> str:
    s = str(tok)[1:-1]
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)
