"""Line layout: raw newline tokens → _NL / _INDENT / _DEDENT for the grammar.

Rules (docs/language.md, "Lexical structure"):
* a line ending with ":" opens a block when the next line is indented deeper;
* any other deeper-indented line continues the line before it;
* a line at the same depth starts a new statement or row (_NL);
* a shallower line closes blocks (_DEDENT …) and then starts a new one (_NL);
* newlines inside ( ) and [ ] are ignored; tabs in indentation are an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Token
from lark.lark import PostLex

OPENERS = {"LPAR", "LSQB"}
CLOSERS = {"RPAR", "RSQB"}


class LayoutError(Exception):
    """An indentation problem at a token's position; `note` = (message, line, column) points at another line."""

    def __init__(self, message: str, token: Token, label: str = "", suggestion: str | None = None,
                 note: tuple[str, int, int] | None = None):
        super().__init__(message)
        self.message = message
        self.token = token
        self.label = label
        self.suggestion = suggestion
        self.note = note


def _make(kind: str, after: Token | None) -> Token:
    """A zero-width layout token placed right after the last real token."""
    if after is None:
        return Token(kind, "", start_pos=0, line=1, column=1, end_line=1, end_column=1, end_pos=0)
    return Token(kind, "", start_pos=after.end_pos, line=after.end_line, column=after.end_column,
                 end_line=after.end_line, end_column=after.end_column, end_pos=after.end_pos)


class Layout(PostLex):
    """Lark post-lexer implementing the rules above."""

    always_accept = ("_NEWLINE",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        indents = [0]
        # for each open block: [line of its first row, rows seen so far] (for the messages only)
        blocks: list[list[int]] = []
        depth = 0
        last_type = None
        last_tok = None
        for tok in stream:
            if tok.type == "_NEWLINE":
                if depth > 0:
                    continue
                text = tok.value
                tail = text.rsplit("\n", 1)[-1]
                if "#" in tail:  # a comment on the very last line: end of input
                    continue
                if "\t" in tail:
                    raise LayoutError(
                        "a tab is used for indentation; indent with spaces",
                        _tab_token(tok),
                        "tab here",
                        "replace the tab with spaces (rows under a line ending with `:` are usually "
                        "indented by 4)",
                    )
                width = len(tail)
                line_tok = _line_start(tok, width)
                if last_type == "COLON":
                    if width > indents[-1]:
                        indents.append(width)
                        blocks.append([line_tok.line, 1])
                        yield _make("_INDENT", last_tok)
                    else:
                        # nothing indented after ':' — let the parser say what it expected
                        yield _make("_NL", last_tok)
                elif width > indents[-1]:
                    pass  # continuation line
                elif width == indents[-1]:
                    if blocks and len(blocks) == len(indents) - 1:
                        blocks[-1][1] += 1
                    yield _make("_NL", last_tok)
                else:
                    popped = indents[-1]
                    first_row = blocks[-1] if blocks else None
                    while width < indents[-1]:
                        popped = indents.pop()
                        first_row = blocks.pop() if blocks else None
                        yield _make("_DEDENT", last_tok)
                    if width != indents[-1]:
                        raise _misaligned(line_tok, width, popped, indents[-1], first_row, _peek(stream))
                    yield _make("_NL", last_tok)
                last_type = "_NL"
                continue
            if tok.type in OPENERS:
                depth += 1
            elif tok.type in CLOSERS and depth > 0:
                depth -= 1
            last_type = tok.type
            last_tok = tok
            yield tok
        while len(indents) > 1:
            indents.pop()
            yield _make("_DEDENT", last_tok)


def _spaces(n: int) -> str:
    return "1 space" if n == 1 else f"{n} spaces"


_ROW_STARTS = {"else", "critical", "<", "<=", ">", ">=", "≤", "≥", "=", "==", "!=", "≠"}


def _peek(stream: Iterator[Token]) -> Token | None:
    """The next token, when an error is about to be raised anyway (to word the message)."""
    try:
        return next(stream, None)
    except Exception as e:  # noqa: BLE001 - a lexing error after a layout error: the layout error wins
        # the contextual lexer refuses the token in the parser's current state, but still read it
        token = getattr(e, "token", None)
        return token if isinstance(token, Token) else None


def _misaligned(line_tok: Token, width: int, rows: int, outer: int, first_row: list[int] | None,
                following: Token | None) -> LayoutError:
    """A line indented between a block's rows (`rows`) and the line that opened it (`outer`)."""
    row_like = following is not None and (str(following) in _ROW_STARTS or following.type == "NUMBER")
    if first_row is not None and first_row[1] == 1 and row_like:
        # only the first row was indented that deep: it may well be the odd one
        return LayoutError(
            f"this row is indented by {_spaces(width)}, but the first row, on line {first_row[0]}, by {rows}; "
            "the rows of a block must line up",
            line_tok,
            f"does not line up with line {first_row[0]}",
            f"indent every row of the block by the same number of spaces ({width} or {rows})",
            note=(f"the first row, on line {first_row[0]}, is indented by {_spaces(rows)}", first_row[0], rows + 1),
        )
    return LayoutError(
        f"this line is indented by {_spaces(width)}, which lines up with no line above it: the rows above "
        f"are indented by {rows}, the line that opened them by {outer}",
        line_tok,
        "lines up with nothing above",
        f"indent it by {_spaces(rows)} to make it one more row, or by {outer} to start a new statement",
    )


def _line_start(tok: Token, width: int) -> Token:
    """A zero-width token at the first character of the new line."""
    lines = tok.value.count("\n")
    line = (tok.line or 1) + lines
    start = (tok.end_pos or 0) - 0
    t = Token("_NL", "", start_pos=start, line=line, column=width + 1, end_line=line,
              end_column=width + 2, end_pos=start + 1)
    return t


def _tab_token(tok: Token) -> Token:
    lines = tok.value.count("\n")
    line = (tok.line or 1) + lines
    tail = tok.value.rsplit("\n", 1)[-1]
    col = tail.index("\t") + 1
    start = (tok.end_pos or 0) - len(tail) + col - 1
    return Token("_NL", "\t", start_pos=start, line=line, column=col, end_line=line,
                 end_column=col + 1, end_pos=start + 1)
