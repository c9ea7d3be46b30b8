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
    """An indentation problem at a token's position."""

    def __init__(self, message: str, token: Token, label: str = ""):
        super().__init__(message)
        self.message = message
        self.token = token
        self.label = label


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
                    )
                width = len(tail)
                line_tok = _line_start(tok, width)
                if last_type == "COLON":
                    if width > indents[-1]:
                        indents.append(width)
                        yield _make("_INDENT", last_tok)
                    else:
                        # nothing indented after ':' — let the parser say what it expected
                        yield _make("_NL", last_tok)
                elif width > indents[-1]:
                    pass  # continuation line
                elif width == indents[-1]:
                    yield _make("_NL", last_tok)
                else:
                    while width < indents[-1]:
                        indents.pop()
                        yield _make("_DEDENT", last_tok)
                    if width != indents[-1]:
                        raise LayoutError(
                            "this line's indentation matches no line above it",
                            line_tok,
                            "indent to line up with the block it belongs to",
                        )
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
