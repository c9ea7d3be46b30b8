"""Checking speed: `check_source` per definition, and `policyc check` end to end.

In one run:

1. **in process**: for each size (default 10, 100, 1,000, 10,000 definitions)
   generate a policy with `bench/gen_policy.py` (seeded), require it to check
   with no diagnostic at all, then time `check_source(text)` k times (k
   decreasing with size) and keep the best. The parser is built once before
   any timing (its cost is reported separately, in 2), so each figure is the
   steady-state cost of parsing and checking that text. Prints time per
   definition and the ratio of the per-definition cost at the largest size to
   that at 100 (or the smallest size): about 1 is linear; above 2 is flagged
   as superlinear. Also times `check_source` over every file of `policies/`;
2. **processes** (best of 5 each, run interleaved, after one untimed run of
   each that writes the bytecode caches, PYTHONDONTWRITEBYTECODE or not, as
   on any machine after the first run): `python -c "pass"` (the
   baseline: bare interpreter start), `python -c "import policyc"`, and
   `policyc check policies/` (the console script next to this interpreter, as
   CI runs it, process start included), and the same with an empty
   XDG_CACHE_HOME (no per-user cache, as on a fresh CI machine); each also
   as its cost over the baseline;
   the first and the second `check_source` of a tiny policy in a fresh process
   (the first includes building the parser); and `python -X importtime -c
   "import policyc"`: the cumulative import time of `policyc`, of its direct
   submodules and of the third-party packages it imports.

`--quick`: sizes 10 and 100, k = 1, processes best of 1 (a smoke test).
`--sizes 10,1000`: choose the sizes (multiples of 10).
`--no-processes`: only the generated sizes of part 1 (for profiling:
`python -m cProfile -s cumtime bench/bench_check.py --sizes 1000 --no-processes`).

Exit status: 0 measured; 2 nothing could be measured (a generated policy does
not check clean, `policyc check policies/` fails, bad arguments).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
POLICIES = REPO / "policies"

sys.path.insert(0, str(BENCH))
import gen_policy  # noqa: E402

#: best of k, by size: fewer repetitions for the large policies
REPEATS = {10: 21, 100: 11, 1_000: 5, 10_000: 3}
PROCESS_REPEATS = 5
SUPERLINEAR = 2.0
TINY = 'policy tiny\nperiod month\ninput late : count\nitem attendance 10 pts = 10 - 2 per late\n'


class BenchError(Exception):
    """Something that stops the benchmark; reported as one clear message."""


def repeats_for(n: int) -> int:
    for size in sorted(REPEATS, reverse=True):
        if n >= size:
            return REPEATS[size]
    return REPEATS[10]


def fmt_s(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


# ---------------------------------------------------------------- in process


def time_check(sizes: list[int], quick: bool) -> list[dict]:
    from policyc.compiler import check_source

    check_source(TINY, "tiny.policy")  # build the parser outside the timings
    rows = []
    for n in sizes:
        text = gen_policy.generate(n)
        policy, diags = check_source(text, f"bench_{n}.policy")
        if policy is None or diags:
            shown = "\n".join(f"    {d.code} line {d.span.line}: {d.message}" for d in diags[:10])
            raise BenchError(f"the generated policy of {n} definitions does not check clean "
                             f"({len(diags)} diagnostic(s)):\n{shown}")
        k = 1 if quick else repeats_for(n)
        best = float("inf")
        for _ in range(k):
            gc.collect()
            t0 = time.perf_counter()
            check_source(text, f"bench_{n}.policy")
            best = min(best, time.perf_counter() - t0)
        rows.append({"n": n, "lines": text.count("\n") + 1, "k": k, "best": best, "per_def": best / n})
        print(f"  checked {n} definitions: best of {k} {fmt_s(best)}", file=sys.stderr, flush=True)
    return rows


def time_policies(quick: bool) -> tuple[int, int, float]:
    """check_source over every file of policies/ in this process (parser built): files, lines, best."""
    from policyc.compiler import check_source

    texts = [(str(f), f.read_text(encoding="utf-8-sig")) for f in sorted(POLICIES.rglob("*.policy"))]
    best = float("inf")
    for _ in range(1 if quick else REPEATS[10]):
        gc.collect()
        t0 = time.perf_counter()
        for name, text in texts:
            check_source(text, name)
        best = min(best, time.perf_counter() - t0)
    return len(texts), sum(t.count("\n") + 1 for _, t in texts), best


# ---------------------------------------------------------------- processes


def policyc_command() -> list[str]:
    """`policyc` as CI runs it: the console script next to this interpreter, else `-m policyc`."""
    script = Path(sys.executable).parent / "policyc"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("policyc")
    if found:
        return [found]
    return [sys.executable, "-m", "policyc"]


#: subprocesses may write bytecode caches (`__pycache__`), as on any machine after the first
#: run, even when this environment sets PYTHONDONTWRITEBYTECODE; one untimed run warms them
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], env: dict | None = None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env or ENV, capture_output=True, text=True, timeout=600)
    return time.perf_counter() - t0, proc


def run_cold(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """Run with an empty per-user cache directory (XDG_CACHE_HOME), as on a fresh CI machine."""
    with tempfile.TemporaryDirectory(prefix="bench-check-cache-") as tmp:
        return run(cmd, dict(ENV, XDG_CACHE_HOME=tmp))


def time_processes(repeat: int) -> dict:
    py = sys.executable
    commands = {
        "baseline": [py, "-c", "pass"],
        "import": [py, "-c", "import policyc"],
        "check": policyc_command() + ["check", "policies/"],
    }
    commands["check_cold"] = commands["check"]
    best = {name: float("inf") for name in commands}
    for cmd in commands.values():  # untimed: write the bytecode caches (and any per-user cache)
        run(cmd)
    summary = ""
    for _ in range(repeat):
        for name, cmd in commands.items():
            took, proc = (run_cold if name == "check_cold" else run)(cmd)
            if proc.returncode != 0:
                raise BenchError(f"`{shlex.join(cmd)}` exited with {proc.returncode}:\n"
                                 f"{(proc.stderr or proc.stdout).strip()[-2000:]}")
            best[name] = min(best[name], took)
            if name == "check":
                summary = next((line for line in proc.stdout.splitlines() if line.startswith("checked ")),
                               proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "")
    first = [py, "-c",
             "import time, sys\n"
             "t0 = time.perf_counter()\n"
             "from policyc.compiler import check_source\n"
             "t1 = time.perf_counter()\n"
             f"check_source({TINY!r})\n"
             "t2 = time.perf_counter()\n"
             f"check_source({TINY!r})\n"
             "t3 = time.perf_counter()\n"
             "print(t1 - t0, t2 - t1, t3 - t2)"]
    firsts = []
    for _ in range(repeat):
        _, proc = run(first)
        if proc.returncode != 0:
            raise BenchError(f"timing the first check_source failed:\n{proc.stderr.strip()[-2000:]}")
        firsts.append(tuple(float(x) for x in proc.stdout.split()))
    imp, first_check, second_check = min(firsts, key=lambda t: t[1])
    return {"commands": commands, "best": best, "summary": summary, "repeat": repeat,
            "import_compiler": imp, "first_check": first_check, "second_check": second_check}


_IMPORTTIME = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


THIRD_PARTY = ("lark", "attrs", "rich", "interegular")


def importtime() -> tuple[int, list[tuple[int, str]], list[tuple[int, str]]]:
    """`python -X importtime -c "import policyc"`: policyc's cumulative µs, its direct
    submodules and the third-party packages it pulls in, each (cumulative µs, name), biggest first."""
    _, proc = run([sys.executable, "-X", "importtime", "-c", "import policyc"])
    rows = []
    for line in proc.stderr.splitlines():
        m = _IMPORTTIME.match(line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    top = next((cum for cum, depth, name in rows if name == "policyc"), None)
    if top is None:
        raise BenchError("`python -X importtime -c 'import policyc'` printed no line for policyc")
    top_depth = next(depth for cum, depth, name in rows if name == "policyc")
    subs = sorted(((cum, name) for cum, depth, name in rows
                   if name.startswith("policyc.") and depth == top_depth + 2), reverse=True)
    third = sorted(((cum, name) for cum, depth, name in rows if name in THIRD_PARTY), reverse=True)
    return top, subs[:6], third


# ---------------------------------------------------------------- report


def report(rows: list[dict], pols, procs: dict | None, imports) -> None:
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}")
    print("command: " + shlex.join([Path(sys.executable).name] + [os.path.relpath(sys.argv[0], REPO)]
                                   + sys.argv[1:]))
    print()
    print("in-process check_source (parser already built; best of k)")
    print(f"| {'definitions':>11} | {'lines':>6} | {'k':>2} | {'best':>10} | {'µs/definition':>13} |")
    print(f"|{'-' * 13}|{'-' * 8}|{'-' * 4}|{'-' * 12}|{'-' * 15}|")
    for r in rows:
        print(f"| {r['n']:>11,} | {r['lines']:>6,} | {r['k']:>2} | {fmt_s(r['best']):>10} "
              f"| {r['per_def'] * 1e6:>13.1f} |")
    if len(rows) >= 2:
        by_n = {r["n"]: r for r in rows}
        big = max(rows, key=lambda r: r["n"])
        ref = by_n[100] if 100 in by_n and big["n"] > 100 else rows[0]
        if big is not ref:
            ratio = big["per_def"] / ref["per_def"]
            verdict = ("SUPERLINEAR (> 2)" if ratio > SUPERLINEAR else "linear (≤ 2)")
            print(f"per-definition cost at {big['n']:,} ÷ at {ref['n']:,}: {ratio:.2f}  {verdict}")
    if pols is None:
        return
    files, lines, took = pols
    print(f"policies/ in process: {files} files, {lines:,} lines, check_source of all of them "
          f"{fmt_s(took)} (best of {1 if len(rows) and rows[0]['k'] == 1 else REPEATS[10]})")
    if procs is None:
        return
    best = procs["best"]
    base = best["baseline"]
    print()
    print(f"processes (best of {procs['repeat']}, interleaved, after one untimed run that writes "
          f"bytecode caches)")
    print(f"| {'command':<44} | {'best':>9} | {'over bare python':>16} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 18}|")
    for name, label in (("baseline", 'python -c "pass"'), ("import", 'python -c "import policyc"'),
                        ("check", "policyc check policies/"),
                        ("check_cold", "  same, empty XDG_CACHE_HOME (cold cache)")):
        over = "—" if name == "baseline" else fmt_s(best[name] - base)
        print(f"| {label:<44} | {fmt_s(best[name]):>9} | {over:>16} |")
    print(f"policyc check policies/ printed: {procs['summary']}")
    print(f"in a fresh process: import policyc.compiler {fmt_s(procs['import_compiler'])}, "
          f"first check_source (tiny policy; builds or loads the parser) {fmt_s(procs['first_check'])}, "
          f"second {fmt_s(procs['second_check'])}")
    top, subs, third = imports
    print(f"python -X importtime -c \"import policyc\": policyc {top / 1000:.1f} ms cumulative")
    print("  its modules: " + ", ".join(f"{name} {cum / 1000:.1f} ms" for cum, name in subs))
    print("  third-party (first import, cumulative): "
          + (", ".join(f"{name} {cum / 1000:.1f} ms" for cum, name in third) or "none"))


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are whole numbers separated by commas, not {text!r}") from None
    if not sizes or any(n <= 0 or n % gen_policy.BLOCK for n in sizes):
        raise argparse.ArgumentTypeError(f"sizes are positive multiples of {gen_policy.BLOCK}: {text!r}")
    return sorted(set(sizes))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="sizes 10 and 100, k = 1 (smoke test)")
    ap.add_argument("--sizes", type=parse_sizes, default=None,
                    help="comma-separated numbers of definitions, e.g. 10,100,1000,10000")
    ap.add_argument("--no-processes", action="store_true",
                    help="only the in-process timings of the generated sizes (e.g. under cProfile)")
    args = ap.parse_args(argv)
    sizes = args.sizes or ([10, 100] if args.quick else list(gen_policy.SIZES))
    try:
        rows = time_check(sizes, args.quick)
        pols = None if args.no_processes else time_policies(args.quick)
        procs = imports = None
        if not args.no_processes:
            procs = time_processes(1 if args.quick else PROCESS_REPEATS)
            imports = importtime()
    except BenchError as e:
        print(f"bench_check: {e}", file=sys.stderr)
        return 2
    report(rows, pols, procs, imports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
