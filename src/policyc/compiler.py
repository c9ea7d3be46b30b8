"""The pipeline in one place: text → AST → checked IR, with every finding."""

from __future__ import annotations

import gc
import re
from pathlib import Path

from . import ir
from .checker import check
from .diagnostics import Diagnostic, PolicyError, Severity, Span, has_errors
from .parser import parse


def check_source(text: str, file: str = "<string>") -> tuple[ir.Policy | None, list[Diagnostic]]:
    """Parse and check policy text; return the IR (None on errors) and all diagnostics."""
    if text.startswith("\ufeff"):
        text = text[1:]
    # parsing and checking allocate many long-lived objects; the cyclic collector would walk them
    # again and again (quadratic on large policies), and they hold no cycles worth collecting early
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            tree = parse(text, file)
        except PolicyError as e:
            return None, list(e.diagnostics)
        policy, diags = check(tree, text)
    finally:
        if collecting:
            gc.enable()
    return policy, apply_expectation(apply_ignores(diags, text, file), text, file)


_EXPECT = re.compile(r"^\s*#\s*policyc:\s*expect\[([A-Z0-9, ]+)\]\s*(.*)$")


def apply_expectation(diags: list[Diagnostic], text: str, file: str) -> list[Diagnostic]:
    """Honour `# policyc: expect[CODES] reason`: a counter-example must fail with exactly those errors."""
    found = next(((n, line, m) for n, line in enumerate(text.splitlines(), start=1)
                  if (m := _EXPECT.match(line))), None)
    if found is None:
        return diags
    number, line, m = found
    expected = {c.strip() for c in m.group(1).split(",") if c.strip()}
    got = {d.code for d in diags if d.severity is Severity.ERROR}
    span = Span(file=file, line=number, column=1, end_line=number, end_column=len(line) + 1, start=0, end=0)
    if got == expected and m.group(2).strip():
        import attrs

        return [attrs.evolve(d, expected=True) if d.code in expected else d for d in diags]
    if not m.group(2).strip():
        problem = "it gives no reason"
    elif not got:
        problem = "the policy checks clean"
    else:
        problem = "it has " + ", ".join(sorted(got))
    return sorted(diags + [Diagnostic(
        code="E314",
        message=f"this file says it is rejected with {', '.join(sorted(expected))}, but {problem}",
        span=span, label="expectation not met",
        suggestion="update the expected codes (and give the reason), or remove the line if the policy is fixed",
    )], key=Diagnostic.sort_key)


_IGNORE = re.compile(r"#\s*policyc:\s*ignore\[([A-Z0-9, ]+)\]\s*(.*)$")


def apply_ignores(diags: list[Diagnostic], text: str, file: str) -> list[Diagnostic]:
    """Drop warnings and notes silenced by a `# policyc: ignore[CODE] reason` comment on their line."""
    ignores: dict[int, set[str]] = {}
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        m = _IGNORE.search(line)
        if not m:
            continue
        codes = {c.strip() for c in m.group(1).split(",") if c.strip()}
        ignores[number] = codes
        if not m.group(2).strip():
            col = m.start() + 1
            out.append(Diagnostic(
                code="W404", message="an ignore comment must say why the finding is intended",
                span=Span(file=file, line=number, column=col, end_line=number, end_column=len(line) + 1,
                          start=0, end=0),
                label="no reason given", suggestion=f"write the reason after it: `{m.group(0).strip()} because …`",
            ))
    for d in diags:
        codes = ignores.get(d.span.line, ())
        if d.code in codes and d.severity is not Severity.ERROR:
            continue
        out.append(d)
    return sorted(out, key=Diagnostic.sort_key)


def compile_source(text: str, file: str = "<string>") -> tuple[ir.Policy, list[Diagnostic]]:
    """Parse and check; raise PolicyError if the policy has errors."""
    policy, diags = check_source(text, file)
    if policy is None or has_errors(diags) or any(d.expected for d in diags):
        raise PolicyError(diags, {file: text.lstrip("\ufeff")})
    return policy, diags


def policy_files(paths, *, stdin: bool = False) -> list[str] | None:
    """The policy files named by `paths` (a folder: every *.policy under it, sorted; `-` is kept
    when `stdin`); None, after saying so on stderr, when a path does not exist."""
    import sys

    files: list[str] = []
    for raw in paths:
        if stdin and raw == "-":
            files.append(raw)
            continue
        p = Path(raw)
        if p.is_dir():
            files.extend(str(f) for f in sorted(p.rglob("*.policy")))
        elif p.exists():
            files.append(str(raw))
        else:
            print(f"policyc: {raw}: no such file or folder", file=sys.stderr)
            return None
    return files


def read_policy(path: str | Path) -> tuple[str, str]:
    """Read a policy file as UTF-8 (BOM allowed); return (text, display name)."""
    p = Path(path)
    return p.read_text(encoding="utf-8-sig"), str(path)
