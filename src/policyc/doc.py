"""`policyc doc`: render a policy as the scheme document HR publishes to agents.

    policyc doc POLICY [--format md|html] [--lang en|zh] [-o FILE]

The document is built once (`doc_model`: purpose, period, inputs, requirements,
items, values, gates, ratings, pay, worked cases) from the checked policy, and
rendered as Markdown or as one self-contained HTML page (`doc_render`). Every
word that is not fixed comes from the policy: its title, comments, doc
strings, names, tables and formulas as written. See docs/doc.md.

Exit status: 0 written; 1 the policy does not check, or is a counter-example
(`# policyc: expect[...]`); 2 unreadable policy, unwritable output, usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

HELP = "render a policy as the scheme document published to agents (Markdown or HTML)"

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
FORMATS = ("md", "html")


def add_arguments(p) -> None:
    p.add_argument("policy", help="the .policy file")
    p.add_argument("--format", choices=FORMATS, default="md",
                   help="md (Markdown, default) or html (one self-contained page: inline CSS, no script)")
    p.add_argument("--lang", choices=["en", "zh"], default="en",
                   help="language of the document's fixed words: en (default) or zh (Chinese)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the document to FILE (whole or not at all)")


class DocError(Exception):
    """The policy cannot be documented. `diagnostics` is set when it does not check."""

    def __init__(self, message: str, diagnostics=(), source: str = ""):
        super().__init__(message)
        self.diagnostics = list(diagnostics)
        self.source = source


def build(text: str, filename: str = "<string>", lang: str = "en"):
    """Check a policy's text and build its document model; raise DocError when it cannot be documented."""
    from .compiler import check_source
    from .diagnostics import Severity, has_errors
    from .doc_model import Builder
    from .doc_words import Words
    from .parser import parse
    from .policy import Policy

    words = Words(lang)
    if text.startswith("\ufeff"):
        text = text[1:]
    checked, diags = check_source(text, filename)
    expected = sorted({d.code for d in diags if d.expected})
    if expected and not any(d.code == "E314" for d in diags):
        raise DocError(words.t("{path} is a counter-example: it declares {codes} and is kept to show what the "
                               "checker rejects, so it cannot be published as a scheme",
                               path=filename, codes="expect[" + ", ".join(expected) + "]"))
    if checked is None or has_errors(diags):
        errors = [d for d in diags if d.severity is Severity.ERROR or d.expected]
        raise DocError(words.t("{path} does not check; no document was written", path=filename), errors or diags,
                       text)
    tree = parse(text, filename)
    scorer = Policy(checked, text, diags) if checked.examples else None
    return Builder(checked, tree, text, lang, scorer).build()


def render(text: str, filename: str = "<string>", fmt: str = "md", lang: str = "en") -> tuple[str, list[str]]:
    """The document as Markdown or HTML text, and the warnings about its worked cases."""
    from .doc_render import to_html, to_markdown

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    doc = build(text, filename, lang)
    return (to_html(doc) if fmt == "html" else to_markdown(doc)), list(doc.warnings)


def run(args) -> int:
    path = args.policy
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        print(f"policyc: {path} is not UTF-8 text", file=sys.stderr)
        return EXIT_INPUT
    except OSError as e:
        print(f"policyc: cannot read {path}: {e.strerror or e}", file=sys.stderr)
        return EXIT_INPUT
    try:
        out, warnings = render(text, path, args.format, args.lang)
    except DocError as e:
        if e.diagnostics:
            _print_diagnostics(path, e.source, e.diagnostics, args.lang)
        print(f"policyc: {e}", file=sys.stderr)
        return EXIT_FINDINGS
    for w in warnings:
        print(f"policyc: warning: {w}", file=sys.stderr)
    if args.output:
        from .output import write_atomic

        try:
            write_atomic(args.output, out)
        except OSError as e:
            print(f"policyc: cannot write {args.output}: {e.strerror or e}", file=sys.stderr)
            return EXIT_INPUT
        return EXIT_OK
    _write_stdout(out)
    return EXIT_OK


def _print_diagnostics(path: str, source: str, diags, lang: str) -> None:
    """The findings, as `policyc check` prints them (in Chinese with `--lang zh`), on stderr."""
    from . import report

    rep = report.make_report([(path, source, diags)], lang)
    report.write_text(rep, sys.stderr, color=False)


def _write_stdout(text: str) -> None:
    """The document is UTF-8 whatever the console's encoding."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        sys.stdout.flush()
        buffer.write(text.encode("utf-8"))
        buffer.flush()
    else:
        sys.stdout.write(text)
