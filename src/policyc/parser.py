"""Parse: policy text → `ast.Policy`, or diagnostics. No Lark object leaves this module."""

from __future__ import annotations

import functools
import re
import unicodedata
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
from lark.parsers.lalr_interactive_parser import InteractiveParser

from . import ast
from .diagnostics import Diagnostic, Note, PolicyError, Span
from .layout import Layout, LayoutError

UNIT_SCALE = {None: Fraction(1), "%": Fraction(1, 100), "s": Fraction(1), "min": Fraction(60), "h": Fraction(3600)}


def _grammar_path() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "grammar" / "policy.lark"
    if packaged.exists():
        return packaged
    return here.parent.parent / "grammar" / "policy.lark"


_OPTIONS = dict(parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True,
                start="start")


def build_parser(strict: bool) -> Lark:
    """Build the parser from the grammar (strict: fail on any conflict or collision; tests use this)."""
    return Lark(_grammar_path().read_text(encoding="utf-8"), postlex=Layout(), strict=strict, **_OPTIONS)


TABLES = Path(__file__).resolve().parent / "parser_tables.bin"


def _grammar_key() -> bytes:
    import hashlib

    import lark

    return hashlib.sha256(_grammar_path().read_bytes() + f"/lark {lark.__version__}".encode()).hexdigest().encode()


def write_tables(path: Path = TABLES) -> None:
    """Prebuild the parser tables shipped in the package (`make parser-tables`)."""
    import io

    buf = io.BytesIO()
    build_parser(strict=True).save(buf)
    path.write_bytes(_grammar_key() + b"\n" + buf.getvalue())


def _packaged() -> Lark | None:
    """The tables shipped with policyc, if they were built from this very grammar and Lark."""
    import io

    try:
        data = TABLES.read_bytes()
    except OSError:
        return None
    key, _, body = data.partition(b"\n")
    if key != _grammar_key():
        return None  # stale tables are never used
    try:
        return Lark.load(io.BytesIO(body))  # part of the installed package: as trusted as its code
    except Exception:  # noqa: BLE001
        return None


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
    """The parser: the tables shipped in the package, else a private per-user cache, else a build.

    The grammar is proven conflict-free by building it with strict=True in the
    test suite; at run time the same tables are loaded from the cache (a pickle,
    so only from a directory that belongs to this user and nobody else can write).
    """
    packaged = _packaged()
    if packaged is not None:
        return packaged
    cache = _cache_file()
    if cache is not None:
        try:
            return Lark(_grammar_path().read_text(encoding="utf-8"), postlex=Layout(), cache=str(cache),
                        **_OPTIONS)
        except Exception:  # noqa: BLE001 - a broken cache must never stop a check
            try:
                cache.unlink()
            except OSError:
                pass
    return build_parser(strict=False)


def _cache_file():
    import hashlib
    import os
    import stat

    import lark

    from . import __version__

    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "policyc"
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = base.stat()
        if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o022:
            return None  # not ours, or others can write into it: do not load pickles from it
        key = hashlib.sha256(_grammar_path().read_bytes() + f"{lark.__version__}/{__version__}".encode()).hexdigest()
        return base / f"grammar-{key[:24]}.lark-cache"
    except (OSError, AttributeError, RuntimeError):
        return None


def parse(text: str, file: str = "<string>") -> ast.Policy:
    """Parse policy text; raise PolicyError with diagnostics if it is not valid."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        tree = _lark().parse(text + ("\n" if not text.endswith("\n") else ""))
    except LayoutError as e:
        raise PolicyError([_layout_diagnostic(e, text, file)], {file: text}) from None
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
#
# A syntax error is reported as what the writer most likely meant, in policy
# words, with a concrete fix where one can be given. The explanation looks at
#
# * the unexpected token (or character, for E003/E004),
# * the tokens the parser had read before it, layout tokens included (the
#   parse is replayed to get them exactly as the parser saw them),
# * the tokens the parser could have taken instead (`accepts`).
#
# Token kinds are spelled the way policy text spells them (`per`, `->`, `<=`)
# or NAME / NUMBER / STRING / _NL / $END / _INDENT / _DEDENT, so the rules
# below read like the language and do not depend on Lark's names for
# anonymous terminals. The rules are tried in order; the first that
# recognises the mistake explains it. When none does, the fallback lists at
# most five things that could have come next, in words.

_VALUE_STARTS = frozenset({"NAME", "NUMBER", "STRING", "(", "-", "true", "false", "na", "items", "all", "any",
                           "not"})
_VALUE_ENDS = frozenset({"NAME", "NUMBER", "STRING", ")", "items", "true", "false", "na"})
_ARITH = ("+", "-", "*", "/", "per", "of", "×", "÷")
_CMP = frozenset({"<", "<=", "≤", ">", ">=", "≥", "=", "==", "!=", "≠", "is"})
_ENDS = frozenset({"_NL", "$END", "_DEDENT"})
_LAYOUT_KINDS = frozenset({"_NL", "$END", "_DEDENT", "_INDENT"})
_FORMULA_WORDS = ("if", "else", "and", "or", "not", "round", "clamp", "at", "when", "beyond")
_STATEMENT_WORDS = ("policy", "period", "source", "cohort", "allow", "total", "input", "require", "let", "item",
                    "pay", "label")
_TYPE_NAMES = frozenset({"count", "percent", "duration", "money", "points", "number", "text", "bool", "grade",
                         "choice"})

# header words that cannot name a definition: what they start, and an example
_HEADER_WORDS = {
    "policy": ("the policy line", 'policy attendance "考勤扣分"'),
    "period": ("the period line", "period month"),
    "source": ("the source line", 'source "售后客服奖惩制度, 2023"'),
    "cohort": ("a cohort line", "cohort team by team"),
    "allow": ("the line that allows extra fields", "allow extra fields"),
    "input": ("an input line", "input late : count"),
    "require": ("a constraint", "require first_reply <= transferred"),
}

# words that start a table (or split) right after `=`
_TABLE_WORDS = {
    "first": ("a `first` table", "first refund_rate:"),
    "table": ("a range table", "table avg_response:"),
    "by": ("a label map", "by level:"),
    "linear": ("a piecewise-linear table", "linear avg_response:"),
    "marginal": ("a table of marginal tiers", "marginal sales:"),
    "weighted": ("a weighted score", "weighted:"),
    "split": ("a split", "split pool 50% : 50%"),
    "all": ("a gate", "all:"),
    "any": ("a gate", "any:"),
}

# what one row of each kind of table looks like
_ROW_SHAPES = {
    "first": "`<= 5% -> 30`: a comparison with the subject, `->`, the value",
    "first:": "`refund_rate <= 5% -> 30`: a whole condition, `->`, the value",
    "table": "`<= 10s -> 100`, `> 10s, < 20s -> 90` or `0 .. 10 -> 5`",
    "by": "`senior -> 2500`: a label (or `a | b`), `->`, the value",
    "linear": "`10s -> 20`: a point, x `->` y",
    "marginal": "`0 .. 50000 -> 3%`: a slice `from .. to`, `->`, the rate",
    "weighted": "`30% greeting`: a weight and a value, or `critical` and a condition",
    "all": "`dsr: dsr >= 4.8`: a name, `:`, a condition",
    "any": "`dsr: dsr >= 4.8`: a name, `:`, a condition",
}

# what is missing after a word, and an example of it written in full
_MISSING_AFTER = {
    "=": ("the formula is missing after `=`", "`item attendance 20 pts = 20 - 5 per late`"),
    "round": ("`round` needs the step to round to", "`round 0.01` (to the cent) or `round 1`"),
    "clamp": ("`clamp` needs a lowest and a highest value", "`clamp 0 .. 100`"),
    "..": ("a value is missing after `..`", "`clamp 0 .. 100`"),
    "if": ("a condition is missing after `if`", "`500 if qualified else 0`"),
    "else": ("a value is missing after `else`", "`500 if qualified else 0`"),
    "per": ("a value is missing after `per`", "`5 per late`"),
    "of": ("a value is missing after `of`", "`70% of 130`"),
    "beyond": ("a value is missing after `beyond`", "`2 per late beyond 4`"),
    "most": ("a value is missing after `at most`", "`at most 100`"),
    "least": ("a value is missing after `at least`", "`at least 0`"),
    "zero": ("a value is missing after `when zero`", "`orders / inquiries when zero 0%`"),
    "na": ("a value is missing after `when na`", "`upsell when na 0`"),
    "and": ("a condition is missing after `and`", "`refund_rate <= 5% and late = 0`"),
    "or": ("a condition is missing after `or`", "`late = 0 or leave = 0`"),
    "not": ("a condition is missing after `not`", "`not privacy_breach`"),
    "->": ("the row's value is missing after `->`", "`<= 5% -> 30`"),
    "(": ("a value is missing after `(`", "`(late + leave) beyond 4`"),
    ",": ("a value is missing after `,`", "`max(a, b)`"),
    "split": ("the amount to split is missing after `split`", "`split pool 50% : 50%`"),
}

# a word written where a name was needed (after a header keyword): an example
_NAME_AFTER = {
    "policy": 'policy attendance "考勤扣分"',
    "period": "period month",
    "cohort": "cohort team by team",
    "input": "input late : count",
    "let": "let base = 2000",
    "item": "item attendance 20 pts = …",
    "pay": "pay bonus = …",
    "label": "label standing = first score: …",
    "by": "cohort team by team",
    "over": "max(sales over team)",
}

# words written after a number as if they were units
_UNIT_WORDS = {
    "元": "money is a plain number: `2000`, not `2000元`",
    "块": "money is a plain number: `2000`, not `2000块`",
    "yuan": "money is a plain number: `2000`, not `2000 yuan`",
    "rmb": "money is a plain number: `2000`, not `2000 rmb`",
    "秒": "seconds are written `s`: `30s`",
    "sec": "seconds are written `s`: `30s`",
    "分钟": "minutes are written `min`: `2min`",
    "小时": "hours are written `h`: `24h`",
    "天": "a day is written `24h`",
    "分": "points are plain numbers: `20`, not `20分`",
    "次": "counts are plain numbers: `3`, not `3次`",
    "个": "counts are plain numbers: `3`, not `3个`",
}


def _syntax_diagnostic(e: UnexpectedInput, text: str, file: str) -> Diagnostic:
    """Explain a syntax error in words; never fails (a plain message if the explanation does)."""
    try:
        diag = _explain_syntax_error(e, text, file)
    except Exception:  # noqa: BLE001 - an explanation must never hide the error itself
        line = getattr(e, "line", 1)
        column = getattr(e, "column", 1)
        pos = getattr(e, "pos_in_stream", None)
        diag = _diag("E001", "policyc cannot read this line", _pos_span(text, file, pos if isinstance(
            pos, int) and pos >= 0 else _line_col_offset(text, line, column)), "here")
    return _clamped(diag, text)


def _explain_syntax_error(e: UnexpectedInput, text: str, file: str) -> Diagnostic:
    """The explanation itself: the first rule that recognises the mistake, else the fallback."""
    if isinstance(e, UnexpectedCharacters):
        return _character_diagnostic(text, file, e.pos_in_stream)
    if isinstance(e, UnexpectedEOF):
        n = len(text)
        return _diag("E001", "the file ends in the middle of a statement", _pos_span(text, file, n), "here")
    assert isinstance(e, UnexpectedToken)
    ctx = _Ctx(e, text, file)
    for rule in _RULES:
        diag = rule(ctx)
        if diag is not None:
            return diag
    return _fallback(ctx)


def _layout_diagnostic(e: LayoutError, text: str, file: str) -> Diagnostic:
    notes: tuple[Note, ...] = ()
    if e.note is not None:  # another line to look at
        message, line, column = e.note
        notes = (Note(message=message, span=_pos_span(text, file, _line_col_offset(text, line, column))),)
    diag = Diagnostic(code="E002", message=e.message, span=_tok_span(e.token, file), label=e.label, notes=notes,
                      suggestion=e.suggestion)
    return _clamped(diag, text)


# ── spans ──


def _line_col_offset(text: str, line: int, column: int) -> int:
    """The offset of a 1-based line and column."""
    pos = 0
    for _ in range(max(0, line - 1)):
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        pos = nl + 1
    return min(len(text), pos + max(0, column - 1))


def _pos_span(text: str, file: str, start: int, end: int | None = None) -> Span:
    """A span from offsets (one character wide when `end` is not given)."""
    start = max(0, min(start, len(text)))
    end = max(start, min(start + 1 if end is None else end, len(text)))
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    end_line = text.count("\n", 0, end) + 1
    end_col = end - (text.rfind("\n", 0, end) + 1) + 1
    if end == start:
        end_col = col + 1
    return Span(file=file, line=line, column=col, end_line=end_line, end_column=end_col, start=start, end=end)


def _clamped(d: Diagnostic, text: str) -> Diagnostic:
    """Keep a diagnostic's span inside the text (a parse may read one more newline than the file has)."""
    sp = d.span
    if 0 <= sp.start <= sp.end <= len(text):
        return d
    start = max(0, min(sp.start, len(text)))
    fixed = _pos_span(text, sp.file, start, max(start, min(sp.end, len(text))))
    return Diagnostic(code=d.code, message=d.message, span=fixed, label=d.label, notes=d.notes,
                      suggestion=d.suggestion)


# ── token kinds ──


@functools.lru_cache(maxsize=1)
def _literals() -> dict[str, str]:
    return {t.name: t.pattern.value for t in _lark().terminals if t.pattern.type == "str"}


def _kind(term: str) -> str:
    return _literals().get(term, term)


def _tkind(tok: Token | None) -> str:
    return _kind(tok.type) if tok is not None else ""


def _terminal_of(kind: str) -> str | None:
    for name, value in _literals().items():
        if value == kind:
            return name
    return None


def _replay(text: str) -> tuple[list[Token], InteractiveParser | None]:
    """Parse again, keeping what the error leaves out.

    Returns the tokens the parser consumed before failing, layout tokens
    included, exactly as it saw them; and the parser as it was just before
    the failing token. (The parser attached to the error may already have
    reduced with that token as lookahead, which narrows what it accepts:
    after `x = 20` it no longer takes `+` once it has seen a number.)
    """
    consumed: list[Token] = []
    ip = None
    try:
        ip = _lark().parse_interactive(text)
        state = ip.parser_state
        for tok in ip.lexer_thread.lex(state):
            saved = (list(state.state_stack), list(state.value_stack))
            try:
                state.feed_token(tok, tok.type == "$END")
            except UnexpectedToken:
                state.state_stack[:], state.value_stack[:] = saved
                return consumed, ip
            consumed.append(tok)
        saved = (list(state.state_stack), list(state.value_stack))
        try:
            state.feed_token(Token.new_borrow_pos("$END", "", consumed[-1]) if consumed else Token("$END", ""),
                             True)
        except UnexpectedToken:
            state.state_stack[:], state.value_stack[:] = saved
    except Exception:  # noqa: BLE001 - a LayoutError or a lexing error: the tokens so far still help
        pass
    return consumed, ip


class _Ctx:
    """What the rules know about an UnexpectedToken."""

    def __init__(self, e: UnexpectedToken, text: str, file: str):
        self.e = e
        self.text = text
        self.file = file
        self.tok: Token = e.token
        self.kind = _tkind(self.tok)
        self.is_end = self.kind in _ENDS
        parsed = text + ("\n" if not text.endswith("\n") else "")
        self.stream, before = _replay(parsed)
        self.parser = before if before is not None else e.interactive_parser
        accepts = None
        for ip in (before, e.interactive_parser):
            if ip is not None and not accepts:
                try:
                    accepts = ip.accepts()
                except Exception:  # noqa: BLE001
                    accepts = None
        if not accepts:
            accepts = set(e.expected or ())
        self.accepts = frozenset(_kind(t) for t in accepts if t != "_NEWLINE")
        self.real = [t for t in self.stream if t.type not in _LAYOUT_KINDS]
        self.prev: Token | None = self.real[-1] if self.real else None
        self.prev_kind = _tkind(self.prev)
        # the current statement or row (`line`), and the statement that opened its block (`header`)
        header: list[Token] | None = None
        line: list[Token] = []
        for t in self.stream:
            if t.type == "_INDENT":
                header, line = line, []
            elif t.type == "_DEDENT":
                header, line = None, []
            elif t.type == "_NL":
                line = []
            else:
                line.append(t)
        self.header = header
        self.line = line
        self.table = _table_of(header if header is not None else line)
        self.row = self._row()

    def _row(self) -> list[Token] | None:
        """The tokens of the current table row before the error, or None outside a table's rows."""
        t = self.table
        if t is None:
            return None
        if self.header is not None:
            return self.line
        if t.colon is None:
            return None
        rest = self.line[_index(self.line, t.colon) + 1:]
        depth = 0
        start = 0
        for i, tok in enumerate(rest):
            k = _tkind(tok)
            if k == "(":
                depth += 1
            elif k == ")":
                depth = max(0, depth - 1)
            elif k == "," and depth == 0 and (t.word in ("weighted", "all", "any")
                                              or "->" in [_tkind(x) for x in rest[start:i]]):
                start = i + 1  # a comma ends a row once the row has its `->`
        return rest[start:]

    # helpers for the rules
    def src(self, a: Token, b: Token) -> str:
        return self.text[a.start_pos:b.end_pos]

    def span(self, a: Token, b: Token | None = None) -> Span:
        b = b or a
        if a.type in _LAYOUT_KINDS:
            return self.eol()
        return _pos_span(self.text, self.file, a.start_pos, max(a.start_pos + 1, b.end_pos or 0))

    def eol(self, after: Token | None = None) -> Span:
        """A one-character span right after a token (where a line ended too early)."""
        after = after or self.prev
        if after is None:
            return _pos_span(self.text, self.file, 0)
        return _pos_span(self.text, self.file, after.end_pos)

    def here(self) -> Span:
        """The unexpected token, or the end of the previous one if the line ended."""
        return self.eol() if self.kind in _LAYOUT_KINDS else self.span(self.tok)

    def what(self) -> str:
        """The unexpected token in words."""
        if self.kind == "$END":
            return "the file ends"
        if self.kind in _ENDS:
            return "the line ends"
        if self.kind == "_INDENT":
            return "an indented line"
        if self.kind == "STRING":
            return "quoted text"
        if self.kind == "NUMBER":
            return f"the number `{self.tok.value}`"
        return f"`{self.tok.value}`"

    def line_text(self, line: int) -> str:
        lines = self.text.split("\n")
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def rest_of_line(self) -> str:
        """The text after the unexpected token, to the end of its line, without a comment."""
        end = self.tok.end_pos if self.kind not in _LAYOUT_KINDS else self.tok.start_pos
        return re.sub(r"[ \t]+", " ", self.text[end:].split("\n", 1)[0].split("#", 1)[0].strip())

    def defined_at(self, name: str) -> int | None:
        """The line where `name` is defined or declared as an input, if it is."""
        word = re.escape(name)
        pattern = re.compile(
            rf"^[ ]*(?:(?:let|pay|label)\s+|item\s+)?{word}\b\s*(?:\d[\w.%]*\s*(?:pts|points)\s*)?"
            rf"(?:\"[^\"\n]*\"\s*)?(?:,[^=\n]*)?=(?![=>])|^[ ]*input\b[^:\n]*\b{word}\b[^:\n]*:", re.M)
        m = pattern.search(self.text)
        return self.text.count("\n", 0, m.start()) + 1 if m else None


class _Table:
    __slots__ = ("word", "keyword", "subject", "colon")

    def __init__(self, word: str, keyword: Token, subject: list[Token], colon: Token | None):
        self.word = word
        self.keyword = keyword
        self.subject = subject
        self.colon = colon

    @property
    def shape(self) -> str:
        if self.word == "first" and not self.subject:
            return "first:"
        return self.word


def _table_of(tokens: list[Token] | None) -> _Table | None:
    """The table a statement's body starts, if it does: its keyword, subject and `:`."""
    if not tokens:
        return None
    kinds = [_tkind(t) for t in tokens]
    if "=" not in kinds:
        return None
    i = kinds.index("=") + 1
    if i >= len(tokens) or tokens[i].value not in _TABLE_WORDS or tokens[i].value == "split":
        return None
    depth = 0
    for j in range(i + 1, len(tokens)):
        k = kinds[j]
        if k == "(":
            depth += 1
        elif k == ")":
            depth = max(0, depth - 1)
        elif k == ":" and depth == 0:
            return _Table(tokens[i].value, tokens[i], tokens[i + 1:j], tokens[j])
    return _Table(tokens[i].value, tokens[i], tokens[i + 1:], None)


def _index(tokens: list[Token], tok: Token) -> int:
    """The position of this very token (Lark tokens compare equal by text, so `list.index` will not do)."""
    for i, t in enumerate(tokens):
        if t is tok:
            return i
    return len(tokens)


def _adjacent(a: Token | None, b: Token | None) -> bool:
    return a is not None and b is not None and a.end_pos == b.start_pos


def _words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of two neighbours counts as one edit)."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def _keyword_guess(word: str, accepts: frozenset[str]) -> str | None:
    """The accepted keyword a misspelt or upper-case word most likely meant."""
    keywords = sorted(k for k in accepts if k.isalpha() and k.islower() and k.isascii())
    for k in keywords:
        if word.lower() == k:
            return k
    if len(word) < 3 or not word.isascii():
        return None
    short = [k for k in keywords if len(k) == 2 and len(word) == 3 and word.lower().startswith(k)]
    if len(short) == 1:  # `bye` for `by`, `iff` for `if`
        return short[0]
    best = sorted((_edit_distance(word.lower(), k), k) for k in keywords if len(k) >= 3)
    if best and best[0][0] <= (1 if len(word) <= 4 else 2) and (len(best) == 1 or best[1][0] > best[0][0]):
        return best[0][1]
    return None


def _depth_open(tokens: list[Token]) -> list[Token]:
    """The `(` among these tokens that are not closed, innermost last."""
    stack: list[Token] = []
    for t in tokens:
        k = _tkind(t)
        if k == "(":
            stack.append(t)
        elif k == ")" and stack:
            stack.pop()
    return stack


# ── the rules, most specific first ──


def _rule_unclosed_paren(c: _Ctx) -> Diagnostic | None:
    opened = _depth_open(c.line)
    if not opened or c.kind == ")":
        return None
    paren = opened[-1]
    if not (c.is_end or (paren.line < c.tok.line and _OWN_LINE.match(c.line_text(c.tok.line)))):
        return None
    where = f" on line {paren.line}" if paren.line < c.tok.line else ""
    return _diag("E001", f"the `(`{where} is never closed" + (", so the lines after it are read as part of it"
                 if where else ""), c.span(paren), "not closed",
                 "add the matching `)` where the bracketed part ends")


_OWN_LINE = re.compile(
    r"^\s*(?:(?:policy|period|source|cohort|allow|total|input|require|let|item|pay|label)\s+\S"
    r"|[^\W\d]\w*(?:\s*,\s*[^\W\d]\w*)*\s*(?:\d\S*\s+(?:pts|points)\s*)?(?:\"[^\"]*\"\s*)?=(?![=>])"
    r"|else\b|.*->)")


def _continued_line(c: _Ctx) -> tuple[Token, Token] | None:
    """If the error is on a line that continues the line above: (its first token, the token before it)."""
    tokens = c.stream
    first = None if c.kind in _LAYOUT_KINDS else c.tok
    i = len(tokens)
    line = c.tok.line if first is not None else (c.prev.line if c.prev is not None else 0)
    while i > 0 and tokens[i - 1].type not in _LAYOUT_KINDS and tokens[i - 1].line == line:
        i -= 1
        first = tokens[i]
    if first is None or i == 0:
        return None
    before = tokens[i - 1]
    if before.type in _LAYOUT_KINDS or before.end_line >= first.line:
        return None
    if _depth_open(c.line[:_index(c.line, first)]):
        return None  # inside ( ): lines are joined on purpose
    return first, before


def _rule_continuation(c: _Ctx) -> Diagnostic | None:
    found = _continued_line(c)
    if found is None:
        return None
    first, before = found
    text = c.line_text(first.line)
    if not (first is c.tok or _OWN_LINE.match(text)):
        return None
    if first is c.tok and not _OWN_LINE.match(text) and c.kind in _VALUE_STARTS and c.prev_kind in _VALUE_ENDS:
        return None  # a continuation that misses an operator: the two-values rule says it better
    start_line = c.line[0].line if c.line else before.line
    indent = len(c.line_text(start_line)) - len(c.line_text(start_line).lstrip(" "))
    in_rows = c.header is not None
    what = "the row above" if in_rows else f"line {before.line}"
    fix = (f"line it up with the row above ({indent} spaces)" if in_rows else
           f"remove the indentation so that it starts at column {indent + 1}, like line {start_line}")
    return _diag("E001", f"this line is indented deeper than {what}, so it continues {what} instead of starting "
                 "a new " + ("row" if in_rows else "statement"), c.span(first),
                 f"continues line {before.line}", f"to start a new {'row' if in_rows else 'statement'}, {fix}")


def _rule_keyword_as_name(c: _Ctx) -> Diagnostic | None:
    p = c.prev
    if p is None:
        return None
    # a header word at the start of a statement, used as the name of a definition: `period = 3`
    if len(c.line) == 1 and p.value in _HEADER_WORDS and (
            c.kind in ("=", ",") or (c.kind == "STRING" and re.match(r"\s*=", c.text[c.tok.end_pos:]))):
        what, example = _HEADER_WORDS[p.value]
        return _diag("E001", f"`{p.value}` is a keyword here: at the start of a line it starts {what} "
                     f"(`{example}`), so it cannot be the name of a value", c.span(p), "a keyword",
                     f"choose another name, for example `{p.value}_score`")
    # a table word right after `=`, used as a name in a formula: `y = first + 1`
    if (p.value in _TABLE_WORDS and len(c.line) >= 2 and _tkind(c.line[-2]) == "=" and c.line[-1] is p
            and c.kind not in c.accepts):
        what, example = _TABLE_WORDS[p.value]
        where = c.defined_at(p.value)
        if c.is_end and not where:
            return _diag("E001", f"the line ends too early: {what} is written `{example} …`", c.eol(), "here",
                         f"for example `{example}`" + (" and its rows" if example.endswith(":") else ""))
        defined = f" (defined on line {where})" if where else ""
        if not where and p.value in ("all", "any"):  # (`all of [a, b]`: the function was meant)
            return _diag("E001", f"`{p.value}` is a keyword here: right after `=` it starts {what} (`{example} …`)",
                         c.span(p), "a keyword",
                         f"for “{'every one' if p.value == 'all' else 'at least one'} of these holds” in a formula, "
                         f"write `{p.value}(a, b)`; for a gate, `{p.value}:` with one condition per row")
        return _diag("E001", f"`{p.value}` is a keyword here: right after `=` it starts {what} (`{example} …`), "
                     "so it cannot be used as a name", c.span(p), "a keyword",
                     f"rename the value `{p.value}`{defined}, for example to `{p.value}_value`, where it is "
                     f"defined and where it is used")
    return None


def _rule_item_points(c: _Ctx) -> Diagnostic | None:
    kinds = [_tkind(t) for t in c.line]
    if c.accepts and c.accepts <= {"pts", "points"}:
        number = c.prev.value if c.prev_kind == "NUMBER" else "20"
        if kinds[:1] == ["total"]:
            return _diag("E001", f"the total needs `pts`: `total {number} pts`", c.here(), "`pts` is missing",
                         f"write `total {number} pts`")
        name = c.line[1].value if len(c.line) > 1 else "q"
        label = "`pts` is missing before this" if not c.is_end else "`pts` is missing here"
        return _diag("E001", f"an item's maximum needs `pts`: `item {name} {number} pts = …`", c.here(), label,
                     f"write `item {name} {number} pts`")
    if kinds == ["item"] and c.kind == "NUMBER":
        return _diag("E001", "a name is missing after `item`: `item attendance 20 pts = …`", c.here(),
                     "the item's name goes before its maximum", f"write `item attendance {c.tok.value} pts = …`")
    if kinds[:1] == ["item"] and len(kinds) == 2 and c.accepts == {"NUMBER"} and (
            c.kind in ("=", "STRING", "pts", "points") or c.tok.value in ("pts", "points")):
        name = c.line[1].value
        return _diag("E001", f"an item needs its maximum in points: `item {name} 20 pts = …`",
                     c.here(), "the maximum is missing before this", f"write `item {name} N pts` with its maximum N")
    return None


def _rule_digit_name(c: _Ctx) -> Diagnostic | None:
    """`0score`, `2分钟回复率`: a name that starts with a digit is read as a number and a name."""
    if c.kind != "NUMBER" or "NAME" not in c.accepts or "NUMBER" in c.accepts:
        return None
    m = re.compile(r"\w+").match(c.text, c.tok.start_pos)
    if m is None or m.end() <= c.tok.end_pos:
        return None
    word = m.group()
    rest = word.lstrip("0123456789")
    moved = f"{rest}{word[:len(word) - len(rest)]}" if rest else f"n{word}"
    return _diag("E001", f"a name cannot start with a digit: `{word}`", _pos_span(c.text, c.file, m.start(), m.end()),
                 "starts with a digit", f"start it with a letter, for example `{moved}`")


def _rule_unit_word(c: _Ctx) -> Diagnostic | None:
    """`2000元`, `30秒`: a word after a number, written as if it were a unit."""
    word = c.tok.value.lower() if c.kind == "NAME" else ""
    if c.prev_kind != "NUMBER" or word not in _UNIT_WORDS or c.kind in c.accepts or not _adjacent_words(c):
        return None
    return _diag("E001", f"`{c.tok.value}` is not a unit policyc knows: {_UNIT_WORDS[word]}", c.here(), "not a unit",
                 "units are written straight after the number: `5%`, `30s`, `2min`, `24h`; money, points and "
                 "counts are plain numbers")


def _rule_odd_space(c: _Ctx) -> Diagnostic | None:
    """A full-width or non-breaking space in the indentation reads as no indentation at all."""
    if c.kind not in _LAYOUT_KINDS or c.tok.start_pos is None:
        return None
    nl = c.text.find("\n", c.tok.start_pos)
    if nl < 0:
        return None
    m = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*").match(c.text, nl + 1)
    pos = m.end() if m else nl + 1
    if pos < len(c.text) and c.text[pos] in "\u3000\u00a0\u2000\u2001\u2002\u2003\u2007\u200b\ufeff":
        return _character_diagnostic(c.text, c.file, pos)
    return None


def _rule_comparison_typo(c: _Ctx) -> Diagnostic | None:
    p = c.prev
    pair = (c.prev_kind, c.kind)
    fixes = {("=", ">"): ">=", ("=", "<"): "<=", ("<", ">"): "!=", ("=", "≥"): ">=", ("=", "≤"): "<="}
    if pair in fixes and _adjacent(p, c.tok):
        fix = fixes[pair]
        meaning = {">=": "at least", "<=": "at most", "!=": "not equal"}[fix]
        return _diag("E001", f"`{p.value}{c.tok.value}` is not a comparison; write `{fix}` ({meaning})",
                     c.span(p, c.tok), f"write `{fix}`", f"write `{fix}`")
    if c.kind == "=" and c.prev_kind in ("<", ">", "!") and not _adjacent(p, c.tok):
        fix = p.value + "="
        return _diag("E001", f"write `{fix}` with no space between `{p.value}` and `=`", c.span(p, c.tok),
                     f"write `{fix}`", f"write `{fix}`")
    return None


def _rule_row_arrow(c: _Ctx) -> Diagnostic | None:
    if "->" not in c.accepts or c.kind in c.accepts:
        return None
    nxt = c.text[c.tok.end_pos:c.tok.end_pos + 1] if c.tok.end_pos is not None else ""
    if c.kind == "=" and nxt == ">":
        span = _pos_span(c.text, c.file, c.tok.start_pos, c.tok.end_pos + 1)
        return _diag("E001", "a row's value comes after `->`; `=>` is not an arrow", span, "write `->`",
                     "write `->` between the row's condition and its value")
    if c.kind in ("=", ":", ">", "-", "=="):
        return _diag("E001", f"a row's value comes after `->`, not after `{c.tok.value}`", c.here(),
                     "write `->`", "write `->` between the row's condition and its value")
    if c.kind in _VALUE_STARTS and c.prev_kind in _VALUE_ENDS:
        return _diag("E001", "`->` is missing between the row's condition and its value", c.here(),
                     "`->` is missing before this", f"write `{c.prev.value} -> {c.tok.value}`")
    if c.is_end and c.row is not None:
        return _diag("E001", "the line ends too early: a row needs `->` and its value", c.eol(), "here",
                     _row_example(c))
    return None


def _row_example(c: _Ctx) -> str | None:
    if c.table is None:
        return None
    return f"a row of `{c.text[c.table.keyword.start_pos:c.table.colon.end_pos] if c.table.colon else c.table.word}`" \
        f" looks like {_ROW_SHAPES[c.table.shape]}"


def _rule_labels(c: _Ctx) -> Diagnostic | None:
    values = [t.value for t in c.line]
    if not values or values[0] != "input" or c.kind in c.accepts:
        return None
    for word, sep, how in (("choice", "|", "separated by `|`"), ("grade", ">", "listed best first, separated by `>`")):
        if word not in values:
            continue
        at = values.index(word)
        if sep in c.accepts and not c.is_end and (c.kind in (",", "/", "|", ">", "<", ">=", "<=", "or", "and")
                                                  or c.kind == "NAME"):
            fixed = _labels_fixed(c, at, sep)
            return _diag("E001", f"the labels of a `{word}` are {how}: `{fixed}`", c.here(), f"write `{sep}`",
                         f"write `{fixed}`")
        if sep in c.accepts and c.is_end:
            return _diag("E001", f"a `{word}` needs two or more labels, {how}", c.eol(), "here",
                         f"write `{word} a {sep} b`")
        if word == "choice" and c.prev_kind == "or" and "na" in c.accepts and c.kind == "NAME":
            fixed = _labels_fixed(c, at, sep)
            return _diag("E001", f"the labels of a `choice` are separated by `|`, not `or`: `{fixed}`",
                         c.span(c.prev), "write `|`", f"write `{fixed}`")
    return None


def _labels_fixed(c: _Ctx, at: int, sep: str) -> str:
    """The `choice …`/`grade …` part of the line, with the labels joined by `sep`."""
    word = c.line[at].value
    start = c.line[at].end_pos
    end = c.text.find("\n", start)
    part = c.text[start:end if end >= 0 else len(c.text)]
    items: list[str] = []
    for m in re.finditer(r'(\s*(?:>=|<=|[,，、/|<>]|\bor\b)?\s*)("[^"\n]*"|#|[^\s,，、/|<>="#]+)', part):
        gap, item = m.group(1), m.group(2)
        if item == "#" or item in ("in", "same", "higher", "lower", "na") or (
                item.startswith('"') and len(items) >= 2 and not gap.strip()):
            break
        items.append(item)
    return f"{word} " + f" {sep} ".join(items or ["a", "b"])


def _rule_rows(c: _Ctx) -> Diagnostic | None:
    t = c.table
    row = c.row
    if t is None or row is None or t.colon is None:
        return None
    header = c.text[t.keyword.start_pos:t.colon.end_pos]
    # a whole condition in the rows of a table with a subject: `first refund_rate:` + `refund_rate <= 5% -> 30`
    if t.word in ("first", "table") and t.subject and row and ".." in c.accepts and (
            c.kind in _CMP or c.kind in ("and", "or")):
        subject = c.text[t.subject[0].start_pos:t.subject[-1].end_pos]
        body = c.text[c.tok.start_pos:].split("\n", 1)[0].split("#", 1)[0].strip()
        repeated = c.text[row[0].start_pos:row[-1].end_pos] == subject
        if t.word == "first":
            fix = (f"write the row as `{body}`, or, for rows that are whole conditions, drop the subject: `first:`"
                   if repeated and " and " not in body and " or " not in body else
                   "for rows that are whole conditions, drop the subject and write `first:`")
        else:
            fix = f"write the row as `{body}`" if repeated else None
        return _diag("E001", f"the rows of `{header}` compare `{subject}`, so each row starts with the "
                     "comparison (`<= 5% -> 30`), not with a value", c.span(row[0], row[-1]),
                     f"rows compare `{subject}`" if repeated else "not a comparison", fix)
    # rows written on one line without a comma between them
    if c.header is None and "," in c.accepts and "->" in [_tkind(x) for x in row] and (
            c.kind == "else" or c.kind in _CMP or c.kind in _VALUE_STARTS):
        return _diag("E001", "rows written on one line are separated by `,`", c.here(), "`,` is missing before this",
                     f"write `, {c.tok.value}`")
    # a label map whose rows repeat the subject: `by level:` + `level = senior -> 2500`
    if t.word == "by" and t.subject and len(row) == 1 and c.kind in _CMP and \
            row[0].value == c.text[t.subject[0].start_pos:t.subject[-1].end_pos]:
        rest = c.text[c.tok.end_pos:].split("\n", 1)[0].split("#", 1)[0].strip()
        return _diag("E001", f"the rows of `{header}` start with a label, not with a comparison", c.span(row[0], c.tok),
                     "start the row with the label", f"write `{rest}`" if rest else None)
    # a comparison in the rows of `first:` (no subject)
    if t.shape == "first:" and not row and c.kind in _CMP:
        return _diag("E001", "the rows of `first:` (no subject) are whole conditions, so a row cannot start with "
                     f"`{c.tok.value}`", c.here(), "a condition starts with a value",
                     "name the value the rows compare after `first` (`first refund_rate:`), or write each row "
                     "as a whole condition (`refund_rate <= 5% -> 30`)")
    # a comparison or condition in the rows of a label map, a linear table, marginal tiers
    if t.word in ("by", "linear", "marginal", "weighted", "all", "any") and c.kind in _CMP:
        return _diag("E001", f"`{c.tok.value}` cannot come here: a row of `{header}` looks like "
                     f"{_ROW_SHAPES[t.shape]}", c.here(), "not expected here", None)
    return None


def _rule_table_colon(c: _Ctx) -> Diagnostic | None:
    t = c.table
    if t is None or t.colon is not None or ":" not in c.accepts or c.kind in c.accepts:
        return None
    if not (c.kind == "->" or c.is_end or c.kind == "else"):
        return None
    what, example = _TABLE_WORDS[t.word]
    # the subject ends before its first comparison (`first late >= 1 -> …`), or at the end of its line
    subject_end = [x for x in c.line if x.line == t.keyword.line][-1]
    for i, x in enumerate(t.subject):
        if _tkind(x) in _CMP:
            subject_end = t.subject[i - 1] if i > 0 else t.keyword
            break
    return _diag("E001", f"{what} needs `:` before its rows: `{example} …`", c.eol(subject_end),
                 "`:` is missing here", f"write `{c.text[t.keyword.start_pos:subject_end.end_pos]}:`")


def _rule_if_else(c: _Ctx) -> Diagnostic | None:
    if "else" not in c.accepts or c.kind in c.accepts or "if" not in [_tkind(t) for t in c.line]:
        return None
    kinds = [_tkind(t) for t in c.line]
    if c.is_end or c.kind in (",", ")", "->", "STRING") or (c.kind == "NAME" and not c.accepts & {"NAME"}):
        start = kinds.index("=") + 1 if "=" in kinds else 0
        expr = c.src(c.line[start], c.prev) if start < len(c.line) and c.prev is not None else "A if C"
        if len(expr) > 50:
            expr = "… if …"
        return _diag("E001", "an `if` needs an `else`: what is the value when the condition does not hold?",
                     c.here(), "`else` is missing here", f"add `else` and a value: `{expr} else 0`")
    return None


def _rule_block(c: _Ctx) -> Diagnostic | None:
    if c.prev_kind == ":" and "_INDENT" in c.accepts and c.is_end:
        return _diag("E001", "a `:` at the end of a line must be followed by indented rows", c.eol(), "here",
                     "indent the rows under this line (for example by 4 spaces), or write them after the `:` "
                     "on the same line, separated by commas")
    if c.kind == "_INDENT":
        m = re.compile(r"[ \t]*(?:#[^\n]*)?\n").match
        pos = c.tok.end_pos if c.tok.end_pos is not None else 0
        while pos < len(c.text):
            m2 = m(c.text, pos)
            if m2 is None:
                break
            pos = m2.end()
        while pos < len(c.text) and c.text[pos] == " ":
            pos += 1
        return _diag("E001", "the line above ends with `:`, so this indented line is read as its rows, but "
                     "nothing there takes rows", _pos_span(c.text, c.file, pos), "not rows",
                     "join this line to the line above, or remove the `:` at the end of the line above")
    return None


def _rule_declaration(c: _Ctx) -> Diagnostic | None:
    values = [t.value for t in c.line]
    kinds = [_tkind(t) for t in c.line]
    if not values or "=" in kinds or c.header is not None:
        return None
    rest = c.rest_of_line()
    # `inpt late : count`, `tem q 20 pts = …`: a misspelt word at the start of a statement
    if len(c.line) == 1 and c.prev_kind == "NAME" and c.kind in ("NAME", "NUMBER"):
        guess = _keyword_guess(values[0], frozenset(_STATEMENT_WORDS))
        if guess is not None and not c.defined_at(values[0]):
            return _diag("E001", f"`{values[0]}` is not a word policyc knows here; did you mean `{guess}`?",
                         c.span(c.prev), f"`{guess}`?", f"write `{guess}`")
        if c.kind == "NAME" and rest.startswith(":"):
            return _diag("E001", f"an input line starts with `input`: `input {c.tok.value} : …`", c.span(c.prev),
                         "not `input`", f"write `input {c.tok.value} {rest}`")
    # `input late count`, `input late = count`: the `:` before the type
    if values[0] == "input" and ":" in c.accepts and ":" not in kinds:
        if c.kind in ("=", "==", "->", "-", "|") and re.match(r"\s*[^\W\d]", c.text[c.tok.end_pos:]):
            names = " ".join(values[1:])
            return _diag("E001", f"an input's name is followed by `:` and its type, not by `{c.tok.value}`",
                         c.here(), "write `:`", f"write `input {names} : {c.rest_of_line()}`")
        if c.kind == "NAME" and c.tok.value in _TYPE_NAMES or c.tok.value in ("grade", "choice") or c.is_end:
            names = " ".join(values[1:]) or "late"
            return _diag("E001", f"an input's name is followed by `:` and its type: `input {names} : count`",
                         c.here(), "`:` is missing before this" if not c.is_end else "here",
                         f"write `input {names} : {c.tok.value if c.kind == 'NAME' else 'count'}`")
    if ":" in kinds:
        return None
    # `refund rate` where one name was meant: the rest of the line must fit the declaration
    fits = (rest == "" and "_NL" in c.accepts) or any(
        rest.startswith(ch) for ch, k in ((":", ":"), ("=", "="), ('"', "STRING"), (",", ",")) if k in c.accepts)
    if c.kind == "NAME" and c.prev_kind == "NAME" and not c.accepts & {"NAME", "NUMBER"} and fits and \
            _adjacent_words(c):
        joined = f"{c.prev.value}_{c.tok.value}"
        return _diag("E001", f"a name cannot contain spaces: write `{joined}`", c.span(c.prev, c.tok),
                     "one name?", f"write `{joined}` (or put a title in quotes: `\"…\"`)")
    # `x 5`, `pay bonus 500`: a definition without `=`
    if "=" in c.accepts and c.kind not in c.accepts and c.kind != ":" and (
            values[0] in ("let", "item", "pay", "label") or kinds[0] == "NAME"):
        head = c.src(c.line[0], c.prev) if c.prev is not None else values[0]
        return _diag("E001", f"`=` is missing: a definition is written `{head} = formula`", c.here(),
                     "`=` is missing before this" if not c.is_end else "here", f"write `{head} = …`")
    if c.kind == ":" and "=" in c.accepts and kinds[0] in ("NAME", "let", "pay", "label", "item"):
        return _diag("E001", "a definition is written with `=`, not `:`", c.here(), "write `=`", "write `=`")
    return None


def _adjacent_words(c: _Ctx) -> bool:
    gap = c.text[c.prev.end_pos:c.tok.start_pos]
    return gap.strip(" ") == ""


def _rule_new_statement(c: _Ctx) -> Diagnostic | None:
    """`… "doc" input next : count`: a statement written on the end of the line before it."""
    if c.tok.value in _STATEMENT_WORDS and "_NL" in c.accepts and c.kind not in c.accepts and \
            not c.defined_at(c.tok.value):
        return _diag("E001", f"`{c.tok.value}` starts a new statement, so it must start a new line", c.here(),
                     "a new statement?", f"move `{c.tok.value} …` to a line of its own")
    return None


def _rule_range_dash(c: _Ctx) -> Diagnostic | None:
    if c.kind in ("-", "~") and ".." in c.accepts and "-" not in c.accepts:
        lo = c.prev.value if c.prev is not None else "0"
        return _diag("E001", f"a range is written with `..`: `{lo}..10`", c.here(), "write `..`",
                     "write `..` between the two ends of the range")
    return None


def _rule_stray_paren(c: _Ctx) -> Diagnostic | None:
    if c.kind == ")" and not _depth_open(c.line):
        return _diag("E001", "this `)` has no matching `(`", c.here(), "nothing to close",
                     "delete it, or add the `(` where the bracketed part starts")
    return None


def _rule_missing_value(c: _Ctx) -> Diagnostic | None:
    if c.kind in c.accepts or c.prev is None:
        return None
    if "NAME" in c.accepts and "NUMBER" not in c.accepts and c.accepts <= {"NAME", "STRING", "all", "any", "(",
                                                                           "grade", "choice"}:
        word = c.prev.value
        if c.prev_kind == ":" and [t.value for t in c.line[:1]] == ["input"]:
            return _diag("E001", ("the line ends too early: " if c.is_end else "") + "the type is missing after "
                         "`:`", c.here(), "a type is missing here",
                         "write one of `count`, `percent`, `duration`, `money`, `points`, `number`, `text`, `bool`,"
                         " `grade A > B` or `choice a | b`")
        if word in _NAME_AFTER or c.prev_kind == ",":
            example = _NAME_AFTER.get(word)
            return _diag("E001", ("the line ends too early: " if c.is_end else "") + f"a name is missing after "
                         f"`{word}`" + (f": `{example}`" if example else ""), c.here(), "a name is missing here",
                         "names are letters (Chinese too), digits and `_`, not starting with a digit" if
                         not c.is_end and c.kind != "NAME" else None)
        return None
    if not c.accepts & {"NAME", "NUMBER"}:
        return None
    if c.kind in _VALUE_STARTS and c.kind not in ("-",):
        return None  # a value is there; something else is wrong
    word = c.prev.value
    what, example = _MISSING_AFTER.get(c.prev_kind, (None, None))
    if what is None and c.prev_kind in _CMP:
        what, example = f"a value to compare with is missing after `{word}`", "`refund_rate <= 5%`"
    elif what is None:
        what, example = f"a value is missing after `{word}`", None
    if c.is_end:
        message = f"the line ends too early: {what}"
        if c.kind == "$END":
            message = f"the file ends too early: {what}"
        return _diag("E001", message, c.eol(), "a value should come here",
                     f"for example {example}" if example else None)
    return _diag("E001", f"{what}, before `{c.tok.value}`" if c.kind != "STRING" else f"{what}, before the "
                 "quoted text", c.here(), "a value should come before this",
                 f"for example {example}" if example else None)


def _rule_two_values(c: _Ctx) -> Diagnostic | None:
    if c.kind in c.accepts or c.kind not in ("NAME", "NUMBER", "(") or c.prev_kind not in _VALUE_ENDS:
        return None
    ops = [op for op in _ARITH if op in c.accepts]
    if not ops:
        return None
    a, b = c.prev.value, c.tok.value
    if c.prev_kind == "NAME" and a in ("first", "table", "by") and c.kind == "NAME" and not c.defined_at(a):
        # (`40 + first complaints: …`: a table written inside a formula)
        return _diag("E001", f"a table (`{a} {b}: …`) must be the whole formula of its definition", c.span(c.prev),
                     "a table cannot come here", f"define the table on its own, `let part = {a} {b}: …`, "
                     "and use `part` in this formula")
    if c.prev_kind == "NAME" and a in (*_FORMULA_WORDS, "per", "of") and not c.defined_at(a):
        before = c.real[-2] if len(c.real) > 1 else None
        what, example = _MISSING_AFTER.get(_tkind(before), (None, None))
        return _diag("E001", (what + f", before `{a}`") if what else f"a value is missing before `{a}`",
                     c.span(c.prev), "a value should come before this", f"for example {example}" if example else None)
    if b in _STATEMENT_WORDS and not c.defined_at(b):
        return _diag("E001", f"`{b}` starts a new statement, so it must start a new line", c.here(),
                     "a new statement?", f"move `{b} …` to a line of its own")
    for joined in (f"{a}_{b}", f"{a}{b}"):
        if c.prev_kind == "NAME" and c.kind == "NAME" and c.defined_at(joined):
            return _diag("E001", f"a name cannot contain spaces: did you mean `{joined}`?", c.span(c.prev, c.tok),
                         "one name?", f"write `{joined}`")
    if c.prev_kind == "NUMBER" and c.kind in ("NAME", "(") and "per" in ops and _accepts_after(c, "per"):
        b_text = b if c.kind == "NAME" else "(…)"
        return _diag("E001", f"two values with no operator between them: `{a}` and `{b_text}`", c.here(),
                     "an operator is missing before this", f"did you mean `{a} per {b_text}`? (or `+`, `-`, `*`, `/`)")
    shown = _words([f"`{op}`" for op in ops[:5]])
    return _diag("E001", f"two values with no operator between them: `{a}` and `{b if c.kind != '(' else '(…)'}`",
                 c.here(), "an operator is missing before this", f"join them with an operator: {shown}")


def _rule_keyword_typo(c: _Ctx) -> Diagnostic | None:
    if c.kind != "NAME" or "NAME" in c.accepts:
        return None
    guess = _keyword_guess(c.tok.value, c.accepts)
    if guess is None or (guess != c.tok.value.lower() and c.defined_at(c.tok.value)):
        return None
    if c.tok.value.lower() == guess:
        return _diag("E001", f"keywords are written in lower case: `{guess}`, not `{c.tok.value}`", c.here(),
                     f"write `{guess}`", f"write `{guess}`")
    return _diag("E001", f"`{c.tok.value}` cannot come here; did you mean `{guess}`?", c.here(),
                 f"`{guess}`?", f"write `{guess}`")


def _accepts_after(c: _Ctx, kind: str) -> bool:
    """Would the parser take `kind` and then the unexpected token?"""
    ip = c.parser
    term = _terminal_of(kind)
    if ip is None or term is None:
        return False
    try:
        probe = ip.copy()
        probe.feed_token(Token(term, kind))
        probe.feed_token(Token(c.tok.type if c.kind != "NAME" else "NAME", c.tok.value))
    except Exception:  # noqa: BLE001
        return False
    return True


_RULES = (
    _rule_odd_space,
    _rule_unclosed_paren,
    _rule_table_colon,
    _rule_continuation,
    _rule_keyword_as_name,
    _rule_digit_name,
    _rule_unit_word,
    _rule_item_points,
    _rule_comparison_typo,
    _rule_rows,
    _rule_row_arrow,
    _rule_labels,
    _rule_keyword_typo,
    _rule_if_else,
    _rule_block,
    _rule_declaration,
    _rule_new_statement,
    _rule_range_dash,
    _rule_stray_paren,
    _rule_missing_value,
    _rule_two_values,
)


# ── the fallback: what could have come next, in at most five words ──

_PLAIN_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a description in quotes ("…")',
    "_INDENT": "indented rows",
    "->": "`->` and a value",
}


def _expected_words(accepts: frozenset[str]) -> list[str]:
    acc = set(accepts) - {"$END", "_DEDENT"} | ({"_NL"} if accepts & {"$END", "_DEDENT"} else set())
    statement = [w for w in ("input", "item", "pay", "let", "label", "require", "policy", "period") if w in acc]
    value = bool(acc & {"NAME", "NUMBER", "("})
    ops = [op for op in _ARITH if op in acc]
    cmps = sorted(acc & _CMP - {"is"}, key=lambda k: ("<=", ">=", "=", "<", ">", "!=").index(k)
                  if k in ("<=", ">=", "=", "<", ">", "!=") else 9)
    first: list[str] = []
    later: list[str] = []
    if statement:
        first.append("a new statement (" + ", ".join(f"`{w}`" for w in statement[:4]) + " … or `name = …`)")
        acc -= set(_STATEMENT_WORDS) | {"NAME", "_NL"}
    elif value:
        if acc >= {"NAME", "NUMBER"}:
            later.append("a value (a number, a name or `( … )`)")
        elif "NUMBER" in acc:
            later.append("a number")
        elif "NAME" in acc:
            later.append("a name")
        else:
            later.append("`(`")
        acc -= {"NAME", "NUMBER", "(", "-", "true", "false", "na", "items", "all", "any", "not"}
    if ops:
        later.append("an operator (" + ", ".join(f"`{op}`" for op in ops[:5]) + ")")
        acc -= set(_ARITH) | set(_FORMULA_WORDS)
    if len(cmps) > 2:
        later.append("a comparison (" + ", ".join(f"`{op}`" for op in cmps[:3]) + " …)")
        acc -= _CMP
    if "_NL" in acc:
        later.append("the end of the line")
        acc.discard("_NL")
    if "STRING" in acc:
        later.append(_PLAIN_WORDS["STRING"])
        acc.discard("STRING")
    rest = sorted(acc - set(_FORMULA_WORDS), key=lambda k: (not k.isalpha(), k))
    rest += sorted(acc & set(_FORMULA_WORDS), key=_FORMULA_WORDS.index)
    words = [_PLAIN_WORDS.get(k, f"`{k}`") for k in rest if not k.startswith("_")]
    return (first + words[:3] + later + words[3:])[:5]


def _fallback(c: _Ctx) -> Diagnostic:
    words = _expected_words(c.accepts)
    expected = f"expected {_words(words)}" if words else "this cannot be read here"
    if words and len(words) <= 3 and all(w.startswith("`") for w in words) and c.prev is not None and \
            c.prev.value.isalpha():
        expected = f"after `{c.prev.value}` comes {_words(words)}"
    if c.is_end:
        message = f"{'the file' if c.kind == '$END' else 'the line'} ends too early: {expected}"
        label = "here"
    else:
        message = f"{c.what()} cannot come here: {expected}"
        label = "not expected here"
    suggestion = None
    notes: tuple[Note, ...] = ()
    if c.kind == "NAME":
        guess = _keyword_guess(c.tok.value, c.accepts)
        if guess:
            suggestion = f"did you mean `{guess}`?"
    if suggestion is None and c.row is not None and c.table is not None and c.table.colon is not None:
        suggestion = _row_example(c)
    found = _continued_line(c)
    if found is not None:
        first, before = found
        notes = (Note(message=f"line {first.line} is indented deeper than line {before.line}, so it continues "
                      f"line {before.line}"),)
    return Diagnostic(code="E001", message=message, span=c.here(), label=label, notes=notes,
                      suggestion=suggestion)


# ── characters (E003, E004) ──

_LOOKALIKES = {
    "，": (",", "a full-width comma"),
    "、": (",", "an enumeration comma (、)"),
    "：": (":", "a full-width colon"),
    "；": (None, "a full-width semicolon"),
    "（": ("(", "a full-width bracket"),
    "）": (")", "a full-width bracket"),
    "【": ("(", "a full-width bracket"),
    "】": (")", "a full-width bracket"),
    "－": ("-", "a full-width minus"),
    "—": ("-", "a dash"),
    "–": ("-", "a dash"),
    "−": ("-", "a typographic minus sign"),
    "％": ("%", "a full-width percent sign"),
    "＝": ("=", "a full-width equals sign"),
    "＞": (">", "a full-width `>`"),
    "＜": ("<", "a full-width `<`"),
    "≧": (">=", "a `≧` sign"),
    "≦": ("<=", "a `≦` sign"),
    "＋": ("+", "a full-width plus"),
    "＊": ("*", "a full-width star"),
    "／": ("/", "a full-width slash"),
    "｜": ("|", "a full-width bar"),
    "。": (".", "a full-width full stop"),
    "．": (".", "a full-width full stop"),
    "“": ('"', "a curly quote"),
    "”": ('"', "a curly quote"),
    "„": ('"', "a curly quote"),
    "「": ('"', "a corner bracket"),
    "」": ('"', "a corner bracket"),
    "《": ('"', "a title bracket"),
    "》": ('"', "a title bracket"),
    "‘": ('"', "a curly single quote"),
    "’": ('"', "a curly single quote"),
    "'": ('"', "a single quote"),
    "＂": ('"', "a full-width quote"),
    "→": ("->", "an arrow character"),
    "⇒": ("->", "an arrow character"),
    "➔": ("->", "an arrow character"),
    "～": ("..", "a wave dash"),
    "〜": ("..", "a wave dash"),
    "~": ("..", "a tilde"),
    "…": ("..", "an ellipsis"),
    "\u3000": (" ", "a full-width space (U+3000)"),
    "\u00a0": (" ", "a non-breaking space (U+00A0), often pasted from Word"),
    "[": ("(", "a square bracket"),
    "]": (")", "a square bracket"),
    "{": ("(", "a curly bracket"),
    "}": (")", "a curly bracket"),
}
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\r"}
_SPECIAL = {
    "&": "write `and`",
    "!": "write `not` (or `!=` for “not equal”)",
    ";": "write one statement per line instead",
    "$": "money is a plain number: `2000`",
    "¥": "money is a plain number: `2000`",
    "￥": "money is a plain number: `2000`",
    "^": "policyc has no power operator; write the product out (`x * x`)",
    "\\": "a backslash is only used inside quoted text",
    "?": "write conditions with `if … else …`",
}


def _line_reads(text: str, start: int, end: int, line: str) -> bool:
    """Whether the text reads through the line at [start, end) once that line is `line` (a later
    mistake does not count)."""
    try:
        _lark().parse(text[:start] + line + text[end:] + "\n")
    except Exception as e:  # (the grammar's and the layout's errors carry the line they stop at)
        stop = getattr(e, "line", None)
        return isinstance(stop, int) and stop > text.count("\n", 0, start) + 1
    return True


def _character_diagnostic(text: str, file: str, pos: int) -> Diagnostic:
    ch = text[pos] if 0 <= pos < len(text) else ""
    span = _pos_span(text, file, pos)
    line_end = text.find("\n", pos)
    rest = text[pos + 1:line_end if line_end >= 0 else len(text)]
    if ch == '"':
        curly = re.search(r"[”“]", rest)
        if curly:
            return _diag("E003", f"this string is closed with a curly quote `{curly.group()}`; close it with a "
                         'straight quote `"`', span, "string starts here",
                         f'replace `{curly.group()}` with `"`')
        return _diag("E003", "this string is not closed before the end of the line", span, "string starts here",
                     'add the closing `"` at the end of the text, on the same line')
    if ch == "\t":
        return _diag("E002", "a tab is used; indent and separate with spaces", span, "tab here",
                     "replace the tab with spaces")
    if ch == "%":
        before = text[:pos].rstrip(" ")
        number = re.search(r"\d+(?:\.\d+)?$", before)
        if number and len(before) < pos:
            fixed = number.group() + "%"
            gap = _pos_span(text, file, len(before), pos + 1)
            return _diag("E004", f"a `%` is written straight after its number, with no space: `{fixed}`", gap,
                         "remove the space", f"write `{fixed}`")
        return _diag("E004", "`%` can only come straight after a number (`5%`)", span, "not after a number",
                     "write the percent as a number with `%`: `5%`, or `70% of 130`")
    if ch == "." and re.match(r"\d", text[pos + 1:pos + 2] or ""):
        return _diag("E004", "a number starts with a digit: write `0.5`, not `.5`", span, "write `0.`",
                     "write a `0` before the point")
    if ch in _LOOKALIKES:
        repl, what = _LOOKALIKES[ch]
        if repl is None:
            return _diag("E004", f"`{ch}` is {what}; policyc has no use for it", span, "delete this",
                         "write one statement per line; separate rows on one line with `,`")
        shown = "an ordinary space" if repl == " " else f"`{repl}`"
        if ch in "“”„‘’'＂「」《》":
            message = f"`{ch}` is {what}; quoted text uses straight double quotes: `\"…\"`"
        elif repl == " ":
            message = f"this is {what}; use {shown}"
        else:
            message = f"`{ch}` is {what}; use {shown}"
        line_start = text.rfind("\n", 0, pos) + 1
        end = line_end if line_end >= 0 else len(text)
        line = text[line_start:end]
        replaced = "".join(_LOOKALIKES.get(x, (x,))[0] or x for x in line)
        label = f"write {shown}" if repl != " " else "not a space"
        if ch in "[]{}" and not _line_reads(text, line_start, end, replaced):
            # (a domain is written without brackets: `in 0 or 2..5`, not `in (0) or 2..5`)
            bare = "".join("" if x in "[]{}" else x for x in line)
            if _line_reads(text, line_start, end, bare):
                replaced, label = bare, "delete this"
                message = f"`{ch}` is {what}; write the values without brackets"
                shown = "nothing"
        fixed = re.sub(r"  +", " ", replaced.strip())
        reads = _line_reads(text, line_start, end, replaced)  # (never suggest a line that does not read)
        suggestion = ("delete it" if shown == "nothing" else f"replace it with {shown}") + \
            (f": `{fixed}`" if len(fixed) <= 70 and fixed and reads else "")
        if repl == " " and not line[:pos - line_start].strip(" \t\u3000\u00a0"):
            suggestion = "indent with ordinary spaces only"
        return _diag("E004", message, span, label, suggestion)
    code = f"U+{ord(ch):04X}" if ch else ""
    if ch in _INVISIBLE or (ch and unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")):
        name = unicodedata.name(ch, "control character").lower() if ch != "\r" else "carriage return"
        return _diag("E004", f"an invisible character ({code}, {name}) is here", span, "invisible character",
                     "delete it")
    if ch and "FULLWIDTH" in unicodedata.name(ch, "") and 0xFF01 <= ord(ch) <= 0xFF5E:
        repl = chr(ord(ch) - 0xFEE0)
        return _diag("E004", f"`{ch}` is a full-width character; use `{repl}`", span, f"write `{repl}`",
                     f"replace it with `{repl}` (switch the keyboard to English input)")
    if ch in _SPECIAL:
        return _diag("E004", f"the character `{ch}` has no meaning in a policy", span, "unexpected character",
                     _SPECIAL[ch])
    shown = f"`{ch}`" if ch.isprintable() else code
    return _diag("E004", f"the character {shown} has no meaning in a policy", span, "unexpected character",
                 "outside quoted text, use letters, digits and the signs of the language (`+ - * / ( ) , : ->`)")


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

    # examples
    def example_decl(self, meta, ch):
        rest = ch[1:]  # ch[0] is the EXAMPLE keyword
        name = rest.pop(0) if rest and isinstance(rest[0], ast.Name) else None
        title = _unquote(rest.pop(0)) if rest and isinstance(rest[0], Token) and rest[0].type == "STRING" else None
        base = rest.pop(0) if rest and isinstance(rest[0], ast.Name) else None
        return ast.Example(name=name, title=title, base=base, lines=tuple(rest), span=self.sp(meta))

    def given_line(self, meta, ch):
        return ast.GivenLine(fields=tuple(ch), span=self.sp(meta))

    def given(self, meta, ch):
        return ast.Given(name=ch[0], value=ch[1], span=self.sp(meta))

    def expect_line(self, meta, ch):
        return ast.ExpectLine(checks=tuple(ch), span=self.sp(meta))

    def expect_for_line(self, meta, ch):
        period = ch[1]
        period = ast.String(text=_unquote(period), span=self.tsp(period)) if period is not None else None
        return ast.ExpectLine(checks=tuple(ch[2:]), agent=ch[0], period=period, span=self.sp(meta))

    def reject_line(self, meta, ch):
        return ast.RejectLine(field=ch[0] if ch else None, span=self.sp(meta))

    def exact_check(self, meta, ch):
        return ast.Expectation(name=ch[0], value=ch[1], span=self.sp(meta))

    def approx_check(self, meta, ch):
        return ast.Expectation(name=ch[0], value=ch[2], approx=True, span=self.sp(meta))

    def label_value(self, meta, ch):
        return ch[0]

    def list_value(self, meta, ch):
        return ast.ListValue(items=tuple(c for c in ch if c is not None), span=self.sp(meta))

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
