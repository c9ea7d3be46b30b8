"""Report formats for `policyc check`: text, JSON, SARIF 2.1.0, GitHub Actions commands, JUnit XML.

Renderers only render: every message, label, note and suggestion comes from
the checkers (in English) or from `i18n.translate` (in Chinese); a renderer
lays them out and adds only fixed words ("error", "note", "help", "see").

A `Report` holds every checked file with its findings. Each `Finding` keeps
the diagnostic as policyc reported it (`original`, English) and as shown
(`shown`, in the chosen language); with `--lang en` they are the same.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path, PurePath
from urllib.parse import quote

import attrs

from . import i18n
from .diagnostics import CODES, DOCS_URL, Diagnostic, Severity, Span, render_one, to_json

FORMATS = ("text", "json", "sarif", "github", "junit")

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
SARIF_LANGUAGE = {"en": "en-US", "zh": "zh-CN"}


@attrs.frozen(kw_only=True)
class Finding:
    original: Diagnostic
    shown: Diagnostic

    @property
    def translated(self) -> bool:
        return self.shown is not self.original


@attrs.frozen(kw_only=True)
class CheckedFile:
    path: str
    source: str
    findings: tuple[Finding, ...] = ()


@attrs.frozen(kw_only=True)
class Report:
    files: tuple[CheckedFile, ...]
    lang: str = "en"

    def findings(self) -> Iterator[Finding]:
        for f in self.files:
            yield from f.findings

    def count(self, severity: Severity) -> int:
        return sum(1 for x in self.findings() if x.original.severity is severity)


def make_report(checked: list[tuple[str, str, list[Diagnostic]]], lang: str = "en") -> Report:
    """Build a report from (path, source, diagnostics) per file, translating when lang is not English."""
    files = []
    for path, source, diags in checked:
        findings = tuple(Finding(original=d, shown=i18n.translate(d, lang)) for d in diags)
        files.append(CheckedFile(path=path, source=source, findings=findings))
    return Report(files=tuple(files), lang=lang)


def docs_anchor(code: str) -> str:
    return f"{code.lower()}-{CODES[code][0]}"


# ───────────────────────── text ─────────────────────────


def render_text(finding: Finding, source: str, lang: str = "en") -> tuple[str, str]:
    """One finding as text: (header lines, the rest). English is exactly `render_one`."""
    if lang == "en" or not finding.translated:
        text = render_one(finding.original, source)
        head, _, rest = text.partition("\n")
        return head, rest
    return _render_bilingual(finding, source, lang)


def _width(text: str) -> int:
    from .diagnostics import _display_width

    return _display_width(text)


def _render_bilingual(finding: Finding, source: str, lang: str) -> tuple[str, str]:
    """Like `render_one`, in `lang`, with the English text under each translated line."""
    from .diagnostics import excerpt

    d, en = finding.shown, finding.original
    sp = d.span
    head = [f"{i18n.severity_word(d.severity, lang)}[{d.code}]: {d.message}"]
    if d.message != en.message:
        head.append(f"{en.severity.value}[{en.code}]: {en.message}")
    label = d.label + (f" ({en.label})" if d.label and en.label != d.label else "")
    out = excerpt(sp, source, label)

    def two(key: str, shown: str, english: str) -> None:
        prefix = f"  = {i18n.word(key, lang)}: "
        out.append(prefix + shown)
        if english != shown:
            out.append(" " * _width(prefix) + english)

    for note, en_note in zip(d.notes, en.notes):
        where = f" ({note.span.file}:{note.span.line}:{note.span.column})" if note.span is not None else ""
        two("note", note.message + where, en_note.message + where)
    if d.suggestion:
        two("help", d.suggestion, en.suggestion or "")
    out.append(f"  = {i18n.word('see', lang)}: {DOCS_URL}#{docs_anchor(d.code)}")
    return "\n".join(head), "\n".join(out) + "\n"


def plain_text(finding: Finding, source: str, lang: str = "en") -> str:
    head, rest = render_text(finding, source, lang)
    return head + "\n" + rest


def write_text(report: Report, stream, color: bool = False) -> None:
    """Print every finding, rustc-style; colour the header when `color`."""
    for checked in report.files:
        for finding in checked.findings:
            head, rest = render_text(finding, checked.source, report.lang)
            if color:
                from rich.console import Console
                from rich.text import Text

                style = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}
                out = Text()
                out.append(head, style=style[finding.original.severity.value])
                out.append("\n" + rest)
                Console(file=stream, highlight=False, soft_wrap=True).print(out, end="")
            else:
                stream.write(head + "\n" + rest)


# ───────────────────────── JSON ─────────────────────────


def render_json(report: Report) -> str:
    """The JSON array of `diagnostics.to_json`; with a translation, the English under "english"."""
    findings = list(report.findings())
    if report.lang == "en":
        return to_json([f.original for f in findings])
    items = json.loads(to_json([f.shown for f in findings]))
    for item, f in zip(items, findings):
        item["english"] = _english(f.original)
    return json.dumps(items, ensure_ascii=False, indent=2)


def _english(d: Diagnostic) -> dict:
    return {
        "message": d.message,
        "label": d.label,
        "notes": [n.message for n in d.notes],
        "suggestion": d.suggestion,
    }


# ───────────────────────── SARIF ─────────────────────────


def _posix(path: str) -> str:
    """The path with `/` separators (Windows paths use `\\`)."""
    return PurePath(path).as_posix() if os.sep == "\\" else path


def artifact_uri(path: str) -> str:
    """A file path as given on the command line, as a relative URI reference (percent-encoded where needed)."""
    return quote(_posix(path), safe="/-._~!$&'()*+,;=@")


def _region(sp: Span) -> dict:
    end_line = max(sp.end_line, sp.line)
    end_col = sp.end_column if end_line > sp.line else max(sp.end_column, sp.column)
    return {"startLine": max(1, sp.line), "startColumn": max(1, sp.column),
            "endLine": max(1, end_line), "endColumn": max(1, end_col)}


def _physical(sp: Span) -> dict:
    return {"artifactLocation": {"uri": artifact_uri(sp.file)}, "region": _region(sp)}


def _message_lines(d: Diagnostic, lang: str) -> list[str]:
    """The message, then each note and the suggestion, as plain lines."""
    lines = [d.message]
    for n in d.notes:
        where = f" ({n.span.file}:{n.span.line}:{n.span.column})" if n.span is not None else ""
        lines.append(f"{i18n.word('note', lang)}: {n.message}{where}")
    if d.suggestion:
        lines.append(f"{i18n.word('help', lang)}: {d.suggestion}")
    return lines


def render_sarif(report: Report, docs_url: str | None = None) -> str:
    """One SARIF 2.1.0 log with one run; a rule per code in CODES, a result per finding.

    `docs_url` is the absolute URL of docs/diagnostics.md; rules link to its
    anchors. Without one, rules carry no helpUri (SARIF wants absolute URIs).
    """
    from . import __version__

    lang = report.lang
    codes = list(CODES)
    rules = []
    for code in codes:
        slug, severity, _ = CODES[code]
        rule = {
            "id": code,
            "name": slug,
            "shortDescription": {"text": i18n.summary(code, lang)},
            "defaultConfiguration": {"level": SARIF_LEVEL[severity]},
        }
        if docs_url:
            rule["helpUri"] = f"{docs_url}#{docs_anchor(code)}"
        if lang != "en":
            rule["properties"] = {"english": {"shortDescription": i18n.summary(code, "en")}}
        rules.append(rule)
    driver = {"name": "policyc", "version": __version__, "semanticVersion": __version__, "rules": rules}
    if docs_url:
        driver["informationUri"] = docs_url
    results = []
    for f in report.findings():
        d, en = f.shown, f.original
        location = {"physicalLocation": _physical(d.span)}
        if d.label:
            location["message"] = {"text": d.label}
        related = [
            {"id": i, "physicalLocation": _physical(n.span), "message": {"text": n.message}}
            for i, n in enumerate(d.notes, start=1) if n.span is not None
        ]
        props: dict = {"name": d.slug}
        if d.label:
            props["label"] = d.label
        if d.suggestion:
            props["suggestion"] = d.suggestion
        if f.translated:
            props["english"] = _english(en) | {"text": "\n".join(_message_lines(en, "en"))}
        result = {
            "ruleId": d.code,
            "ruleIndex": codes.index(d.code),
            "level": SARIF_LEVEL[d.severity],
            "message": {"text": "\n".join(_message_lines(d, lang))},
            "locations": [location],
        }
        if related:
            result["relatedLocations"] = related
        if d.expected:  # declared by the file (a counter-example): reported, not a failure
            result["suppressions"] = [{"kind": "inSource",
                                       "justification": f"the file declares it: # policyc: expect[{d.code}]"}]
        result["properties"] = props
        results.append(result)
    run = {
        "tool": {"driver": driver},
        "language": SARIF_LANGUAGE.get(lang, "en-US"),
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, ensure_ascii=False, indent=2)


def local_docs_url() -> str | None:
    """The file: URL of docs/diagnostics.md in this checkout of policyc, if it is there."""
    path = Path(__file__).resolve().parents[2] / DOCS_URL
    return path.as_uri() if path.is_file() else None


# ───────────────────────── GitHub Actions ─────────────────────────


def github_escape_data(text: str) -> str:
    """Escape a workflow command's message (after `::`): %, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_escape_property(text: str) -> str:
    """Escape a workflow command property value: as data, plus `:` and `,`."""
    return github_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """One `::error` / `::warning` / `::notice` workflow command per finding."""
    lines = []
    for f in report.findings():
        d, en = f.shown, f.original
        sp = d.span
        region = _region(sp)
        props = [
            ("file", _posix(sp.file)),
            ("line", str(region["startLine"])),
            ("col", str(region["startColumn"])),
            ("endLine", str(region["endLine"])),
            ("endColumn", str(region["endColumn"])),
            ("title", f"policyc {d.code}" + (" (expected)" if d.expected else "")),
        ]
        body = _message_lines(d, report.lang)
        if f.translated:
            body += [""] + _message_lines(en, "en")
        body.append(f"{i18n.word('see', report.lang)}: {DOCS_URL}#{docs_anchor(d.code)}")
        head = ",".join(f"{k}={github_escape_property(v)}" for k, v in props)
        data = github_escape_data("\n".join(body))
        # (an error a counter-example declares is no failure: a notice, as the text report counts it apart)
        command = "notice" if d.expected else GITHUB_COMMAND[d.severity]
        lines.append(f"::{command} {head}::{data}")
    return "".join(line + "\n" for line in lines)


# ───────────────────────── JUnit XML ─────────────────────────


def _xml_text(text: str) -> str:
    """Replace characters XML 1.0 cannot hold (control characters, lone surrogates) with U+FFFD."""
    def ok(ch: str) -> bool:
        c = ord(ch)
        return (c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD
                or 0x10000 <= c <= 0x10FFFF)

    return text if all(ok(ch) for ch in text) else "".join(ch if ok(ch) else "\ufffd" for ch in text)


def render_junit(report: Report, deny_warnings: bool = False) -> str:
    """A JUnit XML report: one test suite, a test case per checked file, a failure per error.

    Warnings are failures too with `deny_warnings`; otherwise they (and info
    findings) are listed in the test case's system-out.
    """
    suite_failures = 0
    suite = ET.Element("testsuite", name="policyc check")
    for checked in report.files:
        case = ET.SubElement(suite, "testcase", classname="policyc.check", name=_xml_text(checked.path))
        failed = False
        other = []
        for f in checked.findings:
            d = f.shown
            text = plain_text(f, checked.source, report.lang)
            fails = not d.expected and (d.severity is Severity.ERROR or (deny_warnings and d.severity is Severity.WARNING))
            if fails:
                failed = True
                el = ET.SubElement(case, "failure", message=_xml_text(f"{d.code}: {d.message}"),
                                   type=f"{d.code} {d.slug}")
                el.text = _xml_text(text)
            else:
                other.append(text)
        if other:
            ET.SubElement(case, "system-out").text = _xml_text("".join(other))
        suite_failures += failed
    n = str(len(report.files))
    suite.set("tests", n)
    suite.set("failures", str(suite_failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    root = ET.Element("testsuites", name="policyc", tests=n, failures=str(suite_failures), errors="0")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ───────────────────────── dispatch ─────────────────────────


def render(fmt: str, report: Report, *, deny_warnings: bool = False, docs_url: str | None = None) -> str:
    """Render a machine format (json, sarif, github, junit) as one string."""
    if fmt == "json":
        return render_json(report) + "\n"
    if fmt == "sarif":
        return render_sarif(report, docs_url) + "\n"
    if fmt == "github":
        return render_github(report)
    if fmt == "junit":
        return render_junit(report, deny_warnings)
    raise ValueError(f"not a machine format: {fmt!r}")


__all__ = ["FORMATS", "CheckedFile", "Finding", "Report", "make_report", "render", "render_github",
           "render_json", "render_junit", "render_sarif", "write_text"]
