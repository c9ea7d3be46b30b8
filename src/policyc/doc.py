"""`policyc doc` — under construction in this session."""

from __future__ import annotations

import sys

HELP = "render a policy as the scheme document published to agents (Markdown or HTML)"


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="*")


def run(args) -> int:
    print("policyc: this verb is not built yet", file=sys.stderr)
    return 2
