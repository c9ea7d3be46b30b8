"""Golden tests for `policyc check` diagnostics, Catala/mypy style.

Layout (tests/cases/check/):

* ``good/*.policy`` — policies that must check with no diagnostic at all (not
  even a warning);
* ``bad/<code>-<slug>[-n].policy`` — policies with a mistake; each has its
  expected diagnostics beside it in ``bad/<same name>.expected``: the exact
  text of rendering every diagnostic with ``render_one``, the file named by
  its path relative to tests/cases/check (``bad/E201-undefined-name.policy``).
  The code in the file name must be among the diagnostics.

docs/diagnostics.md is checked too: every code has an entry under a heading
whose GitHub anchor is the renderer's link (``#e201-undefined-name``), each
entry has an example whose printed output is exactly what ``policyc check``
prints today, and each "Fixed:" example checks clean.

When messages change on purpose, regenerate the expectation files and the
printed output in docs/diagnostics.md, then review the diff:

    POLICYC_UPDATE=1 pytest tests/test_check_cases.py
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pytest

from policyc.cli import main as cli_main
from policyc.compiler import check_source
from policyc.diagnostics import CODES, render_one

ROOT = Path(__file__).resolve().parent / "cases" / "check"
GOOD = ROOT / "good"
BAD = ROOT / "bad"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "diagnostics.md"
UPDATE = os.environ.get("POLICYC_UPDATE", "") not in ("", "0")

# Codes that the current implementation cannot produce from any policy text, so
# they cannot have a bad case. Each entry must say why. Remove a code from here
# as soon as it can be triggered (the test below fails while it stays listed
# and has a case).
UNTRIGGERABLE: dict[str, str] = {}

GOOD_FILES = sorted(GOOD.glob("*.policy"))
BAD_FILES = sorted(BAD.glob("*.policy"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def _render(text: str, file: str) -> tuple[str, list]:
    _, diags = check_source(text, file)
    return "".join(render_one(d, text) for d in diags), diags


def _code_of(path: Path) -> str:
    return path.name[:4]


# ───────────────────────── good and bad cases ─────────────────────────


@pytest.mark.parametrize("path", GOOD_FILES, ids=[p.name for p in GOOD_FILES])
def test_good_policy_has_no_diagnostics(path: Path):
    rendered, diags = _render(_read(path), _rel(path))
    assert not diags, f"{_rel(path)} should check clean, but policyc reports:\n{rendered}"


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.name for p in BAD_FILES])
def test_bad_policy_diagnostics(path: Path):
    code = _code_of(path)
    assert code in CODES, f"{path.name}: the file name must start with a code from CODES"
    slug = CODES[code][0]
    assert re.fullmatch(rf"{code}-{re.escape(slug)}(-\d+)?\.policy", path.name), (
        f"{path.name}: name it {code}-{slug}.policy or {code}-{slug}-N.policy"
    )
    rendered, diags = _render(_read(path), _rel(path))
    expected_path = path.with_suffix(".expected")
    if UPDATE:
        _write(expected_path, rendered)
    assert code in {d.code for d in diags}, (
        f"{_rel(path)} is a case for {code}, but policyc reports:\n{rendered or '(nothing)'}"
    )
    assert expected_path.exists(), (
        f"{_rel(expected_path)} is missing; create it with POLICYC_UPDATE=1 pytest {Path(__file__).name}"
    )
    assert rendered == _read(expected_path), (
        f"diagnostics for {_rel(path)} changed; if on purpose, run POLICYC_UPDATE=1 pytest "
        f"tests/{Path(__file__).name} and review the diff"
    )


def test_cases_exist():
    assert GOOD_FILES and BAD_FILES


def test_no_stale_expectation_files():
    stale = [p.name for p in BAD.glob("*.expected") if not p.with_suffix(".policy").exists()]
    assert not stale, f"expectation files without a policy: {stale}"


def test_every_code_has_a_bad_case():
    covered = {_code_of(p) for p in BAD_FILES}
    missing = sorted(set(CODES) - covered - set(UNTRIGGERABLE))
    assert not missing, f"codes with no case in {_rel(BAD)}/: {missing}"
    unknown = sorted(set(UNTRIGGERABLE) - set(CODES))
    assert not unknown, f"UNTRIGGERABLE lists codes that are not in CODES: {unknown}"
    now_covered = sorted(set(UNTRIGGERABLE) & covered)
    assert not now_covered, (
        f"these codes have a case now; remove them from UNTRIGGERABLE: {now_covered}"
    )


# ───────────────────────── docs/diagnostics.md ─────────────────────────

# An example in the docs: a policy, the command, and what it prints.
EXAMPLE_RE = re.compile(
    r"```policy\n(?P<src>(?:(?!```).)*)```\n\n`policyc check (?P<file>[^`\s]+)` prints:\n\n"
    r"```text\n(?P<out>(?:(?!```).)*)```",
    re.S,
)
FIXED_RE = re.compile(r"^Fixed:\n\n```policy\n(?P<src>(?:(?!```).)*)```", re.S | re.M)
HEADING_RE = re.compile(r"^(#{1,6}) +(.+?) *#*$", re.M)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces → '-'."""
    text = heading.strip().lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in (" ", "-", "_") or cat[0] in ("L", "N") or cat == "Mn":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def _docs() -> str:
    assert DOCS.exists(), "docs/diagnostics.md is missing"
    return _read(DOCS)


def _sections(text: str) -> dict[str, str]:
    """Map each level-2 heading's anchor to the text of its section."""
    out = {}
    parts = re.split(r"^## ", text, flags=re.M)
    for part in parts[1:]:
        heading, _, body = part.partition("\n")
        out[github_anchor(heading)] = body
    return out


def _run_check(src: str, file: str, tmp_path: Path, capsys, monkeypatch) -> tuple[int, str]:
    folder = tmp_path / f"example{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    _write(folder / file, src)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("NO_COLOR", "1")
    capsys.readouterr()
    status = cli_main(["check", file])
    return status, capsys.readouterr().out


def test_github_anchor():
    assert github_anchor("E201 undefined-name") == "e201-undefined-name"
    assert github_anchor("Exit codes of `policyc check`") == "exit-codes-of-policyc-check"


def test_every_code_is_documented():
    anchors = {github_anchor(m.group(2)) for m in HEADING_RE.finditer(_docs())}
    missing = sorted(
        code for code, (slug, _, _) in CODES.items() if f"{code.lower()}-{slug}" not in anchors
    )
    assert not missing, (
        f"docs/diagnostics.md has no heading for {missing}; the renderer links to "
        "docs/diagnostics.md#<code>-<slug>, so add e.g. `## E201 undefined-name`"
    )


def test_every_code_is_in_the_table_of_codes():
    """The table at the top of docs/diagnostics.md lists every code, with its link, severity and
    summary as CODES has them (it had fallen behind by six codes)."""
    text = _docs()
    for code, (slug, severity, summary) in CODES.items():
        row = f"| [{code}](#{code.lower()}-{slug}) | {severity.value} | {summary} |"
        assert row in text, f"docs/diagnostics.md's table of codes lacks: {row}"


def test_docs_examples_print_what_policyc_prints(tmp_path, capsys, monkeypatch):
    text = _docs()
    examples = list(EXAMPLE_RE.finditer(text))
    assert examples
    pieces, last, wrong = [], 0, []
    for m in examples:
        _, out = _run_check(m.group("src"), m.group("file"), tmp_path, capsys, monkeypatch)
        pieces += [text[last : m.start("out")], out]
        last = m.end("out")
        if out != m.group("out"):
            wrong.append(m.group("file"))
    pieces.append(text[last:])
    if UPDATE and wrong:
        _write(DOCS, "".join(pieces))
        return
    assert not wrong, (
        f"docs/diagnostics.md shows output that policyc no longer prints for {wrong}; "
        f"run POLICYC_UPDATE=1 pytest tests/{Path(__file__).name} and review the diff"
    )


@pytest.mark.parametrize("code", sorted(CODES))
def test_docs_entry(code: str):
    slug, severity, _ = CODES[code]
    section = _sections(_docs()).get(f"{code.lower()}-{slug}")
    assert section is not None, f"no `## {code} {slug}` section in docs/diagnostics.md"
    assert f"**Severity:** {severity.value}" in section, (
        f"{code}: say `**Severity:** {severity.value}`"
    )
    examples = list(EXAMPLE_RE.finditer(section))
    assert any(f"[{code}]" in m.group("out") for m in examples), (
        f"{code}: the entry needs an example whose printed output shows {code}"
    )
    assert FIXED_RE.search(section), f"{code}: the entry needs a `Fixed:` example"


def test_docs_fixed_examples_check_clean():
    fixed = list(FIXED_RE.finditer(_docs()))
    assert fixed
    for m in fixed:
        rendered, diags = _render(m.group("src"), "fixed.policy")
        assert not diags, (
            f"a `Fixed:` example in docs/diagnostics.md does not check clean:\n{rendered}"
        )


def test_docs_exit_codes(tmp_path, capsys, monkeypatch):
    """The page's promise: 0 clean (warnings allowed), 1 errors, 2 unreadable input or usage."""
    text = _docs()
    assert "## Exit codes" in text
    clean = _read(GOOD_FILES[0])
    assert _run_check(clean, "clean.policy", tmp_path, capsys, monkeypatch)[0] == 0
    warn = _read(BAD / "W401-unused-input.policy")
    assert _run_check(warn, "warn.policy", tmp_path, capsys, monkeypatch)[0] == 0
    assert cli_main(["check", "--deny-warnings", "warn.policy"]) == 1
    bad = _read(BAD / "E201-undefined-name.policy")
    assert _run_check(bad, "bad.policy", tmp_path, capsys, monkeypatch)[0] == 1
    assert cli_main(["check", "no-such-file.policy"]) == 2
    (Path.cwd() / "gbk.policy").write_bytes('policy p "考勤"\n'.encode("gbk"))
    assert cli_main(["check", "gbk.policy"]) == 2
    with pytest.raises(SystemExit) as e:
        cli_main(["check"])
    assert e.value.code == 2


# ───────────────────────── known problems ─────────────────────────
# Mistakes that `policyc check` does not report today although the policy cannot
# be scored as written (scoring fails with a Python traceback or an output goes
# missing). When one is fixed, its test passes (XPASS): turn it into a
# bad/<code>-<slug>-N.policy case with its .expected file and delete it here.

KNOWN_UNREPORTED = {
}


@pytest.mark.xfail(
    reason="not reported by `policyc check` yet; see the comment above", strict=False
)
@pytest.mark.parametrize("name", sorted(KNOWN_UNREPORTED))
def test_known_unreported_mistake(name: str):
    _, diags = check_source(KNOWN_UNREPORTED[name], f"{name}.policy")
    assert diags, f"{name}: checks clean but cannot be scored"
