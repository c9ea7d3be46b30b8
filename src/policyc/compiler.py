"""The pipeline in one place: text → AST → checked IR, with every finding."""

from __future__ import annotations

from pathlib import Path

from . import ir
from .checker import check
from .diagnostics import Diagnostic, PolicyError, has_errors
from .parser import parse


def check_source(text: str, file: str = "<string>") -> tuple[ir.Policy | None, list[Diagnostic]]:
    """Parse and check policy text; return the IR (None on errors) and all diagnostics."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        tree = parse(text, file)
    except PolicyError as e:
        return None, list(e.diagnostics)
    return check(tree, text)


def compile_source(text: str, file: str = "<string>") -> tuple[ir.Policy, list[Diagnostic]]:
    """Parse and check; raise PolicyError if the policy has errors."""
    policy, diags = check_source(text, file)
    if policy is None or has_errors(diags):
        raise PolicyError(diags, {file: text.lstrip("\ufeff")})
    return policy, diags


def read_policy(path: str | Path) -> tuple[str, str]:
    """Read a policy file as UTF-8 (BOM allowed); return (text, display name)."""
    p = Path(path)
    return p.read_text(encoding="utf-8-sig"), str(path)
