"""docs/ci.md is tried as a new user would: the `policyc` steps of its workflow run
in an empty folder holding only the doc's policy — they fail on the file as first
written and pass on the fixed one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "ci.md"
HOOKS = REPO / ".pre-commit-hooks.yaml"


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _steps() -> list[str]:
    """The `run:` lines of the workflow that call policyc."""
    workflow = re.search(r"```yaml\nname: policies\n(.*?)```", _doc(), re.S).group(1)
    return [m.group(1).strip() for m in re.finditer(r"^\s+run: (policyc .*)$", workflow, re.M)]


def _policies() -> tuple[str, str]:
    blocks = re.findall(r"```policy\n(.*?)```", _doc().split("## Tried from an empty repository")[1], re.S)
    assert len(blocks) == 2, "docs/ci.md should show the policy as first written and as fixed"
    return blocks[0], blocks[1]


def _run(step: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("NO_COLOR", None)
    return subprocess.run(["bash", "-c", step], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _repo(tmp_path: Path, policy: str) -> Path:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "attendance.policy").write_text(policy, encoding="utf-8")
    return tmp_path


def test_the_workflow_has_the_three_guards():
    steps = _steps()
    assert any(s.startswith("policyc check") and "--format github" in s for s in steps), steps
    assert any(s.startswith("policyc test") and "--format junit" in s for s in steps), steps
    assert any(s.startswith("policyc fmt") and "--check" in s for s in steps), steps


def test_the_workflow_fails_on_the_broken_policy(tmp_path):
    broken, _ = _policies()
    repo = _repo(tmp_path, broken)
    results = {s: _run(s, repo) for s in _steps()}
    check = next(r for s, r in results.items() if s.startswith("policyc check"))
    assert check.returncode == 1
    shown = re.search(r"```\n((?:::(?:error|warning) .*\n)+)```", _doc()).group(1)
    assert shown.splitlines() == [x for x in check.stdout.splitlines() if x.startswith("::")], check.stdout
    # (the doc shows every annotation the step prints, in order)
    test = next(r for s, r in results.items() if s.startswith("policyc test"))
    assert test.returncode == 1
    assert "Traceback" not in "".join(r.stderr for r in results.values())


def test_the_coverage_shortfall_the_doc_shows(tmp_path):
    broken, _ = _policies()
    repo = _repo(tmp_path, broken.replace("per lates", "per late"))
    assert _run("policyc check --deny-warnings policies/", repo).returncode == 0
    r = _run("policyc test --min-coverage 100 policies/", repo)
    assert r.returncode == 1
    shown = re.search(r"```\n(policies/attendance.policy \(attendance\).*?)```", _doc(), re.S).group(1)
    for line in shown.splitlines():
        assert line in r.stdout, (line, r.stdout)


def test_the_workflow_passes_on_the_fixed_policy(tmp_path):
    _, fixed = _policies()
    repo = _repo(tmp_path, fixed)
    for step in _steps():
        r = _run(step, repo)
        assert r.returncode == 0, (step, r.stdout, r.stderr)
    assert (repo / "policyc-tests.xml").read_text(encoding="utf-8").startswith("<?xml")


@pytest.mark.parametrize("hook", ["policyc-check", "policyc-fmt", "policyc-fmt-check", "policyc-test"])
def test_every_documented_hook_is_shipped(hook):
    text = HOOKS.read_text(encoding="utf-8")
    assert f"- id: {hook}\n" in text
    entry = re.search(rf"- id: {hook}\n(?:  .*\n)*?  entry: (.*)\n", text).group(1)
    assert entry.split()[0] == "policyc"
    assert f"id: {hook}" in _doc() or hook == "policyc-fmt-check"
