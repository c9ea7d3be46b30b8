"""`policyc test` — under construction in this session."""

from __future__ import annotations

import sys

HELP = "run the examples written in policies; report failures and coverage"


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="*")


def run(args) -> int:
    print("policyc: this verb is not built yet", file=sys.stderr)
    return 2
