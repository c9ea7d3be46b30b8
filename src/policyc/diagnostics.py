"""Diagnostics: spans, the code registry, and renderers (findings → text / JSON).

Checkers collect `Diagnostic`s and never print; renderers never compose
messages. Every code is documented in docs/diagnostics.md.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence

import attrs

DOCS_URL = "docs/diagnostics.md"


@attrs.frozen(kw_only=True)
class Span:
    """A region of a source file: 1-based line and column, 0-based offsets."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int

    def join(self, other: Span) -> Span:
        """Return the smallest span covering both."""
        first, last = (self, other) if self.start <= other.start else (other, self)
        end = last if last.end >= first.end else first
        return Span(
            file=self.file,
            line=first.line,
            column=first.column,
            end_line=end.end_line,
            end_column=end.end_column,
            start=first.start,
            end=end.end,
        )


NOWHERE = Span(file="<none>", line=1, column=1, end_line=1, end_column=1, start=0, end=0)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


# The registry: code → (slug, severity, one-line summary). One entry per code in
# docs/diagnostics.md. Codes are stable; never reuse a retired one.
CODES: dict[str, tuple[str, Severity, str]] = {
    "E001": ("syntax", Severity.ERROR, "the text is not valid policy syntax"),
    "E002": ("layout", Severity.ERROR, "indentation or line layout is wrong"),
    "E003": ("unclosed-string", Severity.ERROR, "a string is not closed on its line"),
    "E004": ("bad-character", Severity.ERROR, "a character that has no meaning here"),
    "E101": ("missing-policy", Severity.ERROR, "the file has no `policy` line"),
    "E102": ("duplicate-header", Severity.ERROR, "a header line is given twice"),
    "E103": ("unknown-period", Severity.ERROR, "unknown period kind"),
    "E104": ("unknown-type", Severity.ERROR, "unknown input type"),
    "E105": ("bad-domain", Severity.ERROR, "an input's domain does not fit its type"),
    "E106": ("duplicate-label", Severity.ERROR, "a label is listed twice"),
    "E107": ("unknown-cohort", Severity.ERROR, "no cohort of that name"),
    "E108": ("reserved-name", Severity.ERROR, "a name policyc reserves for records"),
    "E201": ("undefined-name", Severity.ERROR, "a name that is not defined"),
    "E202": ("duplicate-name", Severity.ERROR, "a name defined twice"),
    "E203": ("cycle", Severity.ERROR, "definitions that depend on themselves"),
    "E204": ("unknown-function", Severity.ERROR, "a function policyc does not have"),
    "E205": ("bad-arguments", Severity.ERROR, "wrong arguments for a function"),
    "E206": ("unknown-label", Severity.ERROR, "a label its value can never have"),
    "E301": ("type-mismatch", Severity.ERROR, "a value of the wrong kind"),
    "E302": ("unit-mismatch", Severity.ERROR, "quantities with different units combined"),
    "E303": ("may-be-na", Severity.ERROR, "a value that may be N/A used without `when na`"),
    "E304": ("division-by-zero", Severity.ERROR, "a division whose denominator can be zero"),
    "E305": ("bad-table", Severity.ERROR, "a table whose rows do not fit its kind"),
    "E306": ("missing-label-row", Severity.ERROR, "a label map that misses a label"),
    "E307": ("bad-split", Severity.ERROR, "a split that cannot add up"),
    "E308": ("bad-rounding", Severity.ERROR, "a rounding step that is not a positive number"),
    "E309": ("not-constant", Severity.ERROR, "a value that must be a fixed number"),
    "E310": ("table-gap", Severity.ERROR, "values no row of a table covers"),
    "E311": ("table-overlap", Severity.ERROR, "two rows of a `table` that both hold for some values"),
    "E312": ("unreachable-row", Severity.ERROR, "a table row that can never match"),
    "E313": ("does-not-add-up", Severity.ERROR, "item maxima, weights or parts that do not add up"),
    "E314": ("expectation-not-met", Severity.ERROR, "a counter-example that is not rejected as it says"),
    "E601": ("example-unknown-input", Severity.ERROR, "an example gives a field that is not an input"),
    "E602": ("example-unknown-value", Severity.ERROR, "an example expects a value the policy does not compute"),
    "E603": ("example-bad-value", Severity.ERROR, "an example value of the wrong kind, label or range"),
    "E604": ("example-incomplete", Severity.ERROR, "an example record that misses inputs"),
    "E605": ("example-structure", Severity.ERROR, "an example whose records or `from` cannot be resolved"),
    "W401": ("unused-input", Severity.WARNING, "an input no definition uses"),
    "W402": ("unused-let", Severity.WARNING, "a `let` value nothing uses"),
    "W403": ("constant-condition", Severity.WARNING, "a condition that holds for every record, or for none"),
    "W404": ("unjustified-ignore", Severity.WARNING, "a `policyc: ignore` comment without a reason"),
    "W405": ("not-monotone", Severity.WARNING, "a better value of a measure gets fewer points"),
    "W406": ("example-tests-nothing", Severity.WARNING, "an example with no `expect` line"),
    "W407": ("item-never-full", Severity.WARNING, "an item that can never reach its maximum"),
    "W408": ("weights-do-not-add-up", Severity.WARNING, "weights written in a formula that do not add up to 100%"),
    "I501": ("clamp-decides", Severity.INFO, "a clamp that some records reach"),
    "I502": ("mergeable-rows", Severity.INFO, "neighbouring rows that could be one"),
}


@attrs.frozen(kw_only=True)
class Note:
    """A secondary message, optionally pointing at another place."""

    message: str
    span: Span | None = None


@attrs.frozen(kw_only=True)
class Diagnostic:
    """One finding: a code, a place, a plain-language message."""

    code: str
    message: str
    span: Span
    label: str = ""
    notes: tuple[Note, ...] = ()
    suggestion: str | None = None
    expected: bool = False  # declared by the file's `# policyc: expect[CODE]` (a counter-example)

    @property
    def severity(self) -> Severity:
        return CODES[self.code][1]

    @property
    def slug(self) -> str:
        return CODES[self.code][0]

    def sort_key(self) -> tuple:
        return (self.span.file, self.span.start, self.code, self.message)


class PolicyError(Exception):
    """A policy that does not parse or check; `.diagnostics` says why."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        self.sources = dict(sources or {})
        super().__init__(render_plain(self.diagnostics, self.sources))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """Return True if any diagnostic is an error."""
    return any(d.severity is Severity.ERROR for d in diagnostics)


def dedupe(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Drop repeated findings (same code, place and message) and order by position."""
    seen: set[tuple] = set()
    out = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        key = (d.code, d.span.file, d.span.start, d.span.end, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to `word`, if any is close enough."""
    import difflib

    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


# ───────────────────────── rendering ─────────────────────────


def _line_text(source: str, line: int) -> str:
    lines = source.split("\n")  # spans count "\n" only (not "\r" or U+2028)
    return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_plain(diagnostics: Sequence[Diagnostic], sources: dict[str, str]) -> str:
    """Render diagnostics rustc-style: header, location, the line, the text underlined."""
    return "\n".join(render_one(d, sources.get(d.span.file, "")) for d in diagnostics)


def excerpt(sp: Span, source: str, label: str = "") -> list[str]:
    """The location line and the source line with the span underlined (shared by every text renderer)."""
    out = [f"  --> {sp.file}:{sp.line}:{sp.column}"]
    text = _line_text(source, sp.line)
    if text:
        gutter = " " * len(str(sp.line))
        out.append(f"{gutter} |")
        out.append(f"{sp.line} | {text}")
        start_col = sp.column
        end_col = sp.end_column if sp.end_line == sp.line else len(text) + 1
        end_col = max(end_col, start_col + 1)
        pad = _display_width(text[: start_col - 1])
        width = max(1, _display_width(text[start_col - 1 : end_col - 1]))
        marker = " " * pad + "^" * width
        if label:
            marker += " " + label
        out.append(f"{gutter} | {marker}")
    return out


def render_one(d: Diagnostic, source: str) -> str:
    """Render one diagnostic as plain text (the CLI adds colour)."""
    out = [f"{d.severity.value}[{d.code}]: {d.message}" + (" (expected by this file)" if d.expected else "")]
    out.extend(excerpt(d.span, source, d.label))
    for note in d.notes:
        if note.span is not None:
            out.append(f"  = note: {note.message} ({note.span.file}:{note.span.line}:{note.span.column})")
        else:
            out.append(f"  = note: {note.message}")
    if d.suggestion:
        out.append(f"  = help: {d.suggestion}")
    out.append(f"  = see: {DOCS_URL}#{d.code.lower()}-{d.slug}")
    return "\n".join(out) + "\n"


def to_json(diagnostics: Sequence[Diagnostic]) -> str:
    """Render diagnostics as a JSON array (stable keys, for tools)."""

    def span(sp: Span) -> dict:
        return {
            "file": sp.file,
            "line": sp.line,
            "column": sp.column,
            "end_line": sp.end_line,
            "end_column": sp.end_column,
        }

    items = []
    for d in diagnostics:
        items.append(
            {
                "code": d.code,
                "name": d.slug,
                "severity": d.severity.value,
                "message": d.message,
                "span": span(d.span),
                "notes": [
                    {"message": n.message, **({"span": span(n.span)} if n.span else {})}
                    for n in d.notes
                ],
                "suggestion": d.suggestion,
                "expected": d.expected,  # declared by a counter-example file: not a failure
            }
        )
    return json.dumps(items, ensure_ascii=False, indent=2)
