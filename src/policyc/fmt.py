"""`policyc fmt` — under construction in this session."""

from __future__ import annotations

import sys

HELP = "rewrite policies in the canonical layout (--check for CI, --diff to preview)"


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="*")


def run(args) -> int:
    print("policyc: this verb is not built yet", file=sys.stderr)
    return 2
