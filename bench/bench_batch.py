"""Batch scoring: policyc's engines vs hand-written Polars / NumPy / DuckDB and OpenFisca.

    python bench/bench_batch.py                      # both policies, 10^3 .. 10^7 records
    python bench/bench_batch.py --quick              # smoke run: 10^3, 10^4, small checks
    python bench/bench_batch.py --policy taobao --max-n 1000000
    python bench/bench_batch.py --policy team_kpi --sweep   # cost vs agents per team, months

One run does, in order:

1. **check** - every implementation that will be timed must reproduce the
   acceptance cases (results and refusals) and give exactly policyc's Python
   results (`policyc.load(path).score_batch`) on `--check-n` generated records
   (batch_check.py). policyc's own engines (`policy.score_frame(frame,
   engine=E)` for E in polars, duckdb, spark) are plug-in slots: timed when
   `policyc.Policy.score_frame` exists and accepts the engine, else skipped
   with a note. If anything disagrees, the disagreements are printed, nothing
   is timed and the exit status is 2.
2. **time** - for each N in 10^3 .. `--max-n`: the records are generated once
   (gen_records.py, seeded) and written to Parquet; each implementation then
   runs in its own subprocess, which reads the frame, prepares what that tool
   takes (NumPy arrays, OpenFisca inputs: not timed), and times the scoring
   call (validation included) `--repeat` times, keeping the best. Peak memory:
   the subprocess resets its peak-RSS mark (Linux `/proc/self/clear_refs`)
   after loading, so the figure is the peak resident set while scoring, the
   loaded input frame included; where that is impossible it falls back to
   `getrusage(RUSAGE_SELF).ru_maxrss` (whole process) and says so.
3. **end to end** - `policyc score POLICY records.parquet --engine E --format
   parquet -o out.parquet` as a process, when the CLI reads Parquet (else a note).
4. **report** - rows/s, ratio to the hand-written Polars baseline measured in
   the same run (a ratio is printed only for implementations that passed the
   check), peak RSS, and how the time per record grows from 10^5 to the
   largest N (1.0 = linear). `--sweep` (team_kpi) adds the time per record as
   agents per team and months of history grow.

Exit status: 0 measured; 2 an implementation disagrees, or the baseline could
not be measured; usage errors 2.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

POLICY_NAMES = {"taobao": "taobao_aftersales", "team_kpi": "team_kpi_2024"}
BASELINE = "polars (hand-written)"
DUCKDB = "duckdb (hand-written)"
ENGINES = ("polars", "duckdb", "spark")


# ---------------------------------------------------------------- worker (subprocess)


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def make_scorer(impl: str, policy: str, frame):
    """(prepared input, scoring callable) for one implementation."""
    if impl == BASELINE:
        if policy == "taobao_aftersales":
            import baseline_polars_taobao as b
        else:
            import baseline_polars_team_kpi as b
        return frame, b.score_frame
    if impl == DUCKDB:
        if policy == "taobao_aftersales":
            import baseline_duckdb_taobao as b
        else:
            import baseline_duckdb_team_kpi as b
        return frame, b.score_frame
    if impl == "numpy (hand-written)":
        import baseline_numpy_taobao as b

        arrays, nulls = b.arrays_from_frame(frame)
        return (arrays, nulls), lambda a: b.score_arrays(*a)
    if impl == "openfisca":
        import peers_taobao as pt

        tbs = pt.openfisca_system()
        return pt.openfisca_inputs(frame), lambda cols: pt.openfisca_score(tbs, cols)
    if impl.startswith("policyc "):
        import policyc

        engine = impl.split()[1]
        p = policyc.load(REPO / "policies" / f"{policy}.policy")
        return frame, lambda f: p.score_frame(f, engine=engine)
    raise ValueError(impl)


def worker(spec: dict) -> dict:
    import polars as pl

    frame = pl.read_parquet(spec["parquet"])
    data, score = make_scorer(spec["impl"], spec["policy"], frame)
    score(data)  # warm-up (thread pools, imports, caches); not timed
    gc.collect()
    reset = _reset_peak()
    base_kb = _status_kb("VmRSS")
    best = None
    for _ in range(spec["repeat"]):
        t0 = time.perf_counter_ns()
        result = score(data)
        ns = time.perf_counter_ns() - t0
        del result
        best = ns if best is None else min(best, ns)
    if reset and _status_kb("VmHWM") is not None:
        peak_kb, how = _status_kb("VmHWM"), "VmHWM after reset (scoring, input included)"
    else:
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        how = "ru_maxrss (whole process)"
    return {"best_ns": best, "peak_kb": peak_kb, "base_kb": base_kb, "rows": frame.height,
            "how": how}


def run_worker(impl: str, policy: str, parquet: Path, repeat: int, timeout: int) -> dict:
    spec = json.dumps({"impl": impl, "policy": policy, "parquet": str(parquet), "repeat": repeat})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH", ""))
                                        if p)
    try:
        proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", spec],
                              capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- checks


def engine_available(policy: str, engine: str) -> tuple[bool, str]:
    """Is `policy.score_frame(frame, engine=engine)` there and working on a tiny frame?"""
    import batch_check as bc

    import policyc

    if not hasattr(policyc.Policy, "score_frame"):
        return False, "policyc.Policy has no score_frame yet"
    frame = bc.generated(policy, 20)
    try:
        bc.load_policy(policy).score_frame(frame, engine=engine)
    except Exception as e:  # noqa: BLE001 - reported as the reason it is skipped
        return False, f"score_frame(engine={engine!r}) not available: {type(e).__name__}: {e}"
    return True, ""


def run_checks(policy: str, impls: dict, n: int) -> tuple[list[str], dict]:
    import batch_check as bc

    frame = bc.generated(policy, n)
    t0 = time.perf_counter()
    reference = bc.reference_rows(policy, frame)
    print(f"  policyc Python path on {n} generated records: {time.perf_counter() - t0:.1f} s")
    problems, notes = [], {}
    for name, impl in impls.items():
        more, note = bc.check(policy, impl, name, n=n, reference=reference)
        problems += more
        notes[name] = "agrees" if not more else "DISAGREES"
        print(f"  {name:<24} {'acceptance cases + ' + note if not more else 'DISAGREES'}")
    return problems, notes


# ---------------------------------------------------------------- report


def fmt_rate(rows: int, ns: int) -> str:
    r = rows / (ns / 1e9)
    return f"{r / 1e6:.2f} M/s" if r >= 1e6 else f"{r / 1e3:.0f} k/s"


def repeats_for(n: int, override: int | None) -> int:
    if override:
        return override
    return 7 if n <= 10_000 else 5 if n <= 100_000 else 3 if n <= 1_000_000 else 2


def timeout_for(n: int) -> int:
    return 120 if n <= 100_000 else 900 if n <= 1_000_000 else 3600


def bench_policy(policy: str, args, tmp: Path) -> int:
    import batch_check as bc
    import gen_records

    print(f"\n=== {policy} ===")
    impls = dict(bc.BASELINES[policy])
    skipped = {}
    for engine in ENGINES:
        if engine == "spark" and args.no_spark:
            skipped["policyc spark"] = "--no-spark"
            continue
        ok, why = engine_available(policy, engine)
        if ok:
            impls[f"policyc {engine}"] = bc.policyc_engine(policy, engine)
        else:
            skipped[f"policyc {engine}"] = why
    if policy == "taobao_aftersales" and not args.no_openfisca:
        impls_timed_only = ["openfisca"]
    else:
        impls_timed_only = []
    for name, why in skipped.items():
        print(f"  skipped {name}: {why}")
    print(f"check (acceptance cases, rejects, {args.check_n} generated records vs policyc):")
    problems, _ = run_checks(policy, impls, args.check_n)
    if problems:
        print("\nDISAGREEMENT - no timing, no ratio:", file=sys.stderr)
        for p in problems[:40]:
            print("  " + p, file=sys.stderr)
        return 2
    if impls_timed_only:
        print("  openfisca                (floats; checked separately: bench_peers.py "
              "counts its differences)")

    sizes = [n for n in (10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6, 10 ** 7) if n <= args.max_n]
    results = {}  # (n, impl) -> dict
    timed = list(impls) + impls_timed_only
    e2e = {}
    for n in sizes:
        if policy == "taobao_aftersales":
            frame = gen_records.taobao_frame(n, seed=1)
        else:
            frame = gen_records.team_kpi_frame(n, args.agents_per_team, args.periods, seed=1)
        path = tmp / f"{policy}_{n}.parquet"
        frame.write_parquet(path)
        size_mb = frame.estimated_size() / 2 ** 20
        del frame
        gc.collect()
        for impl in timed:
            if impl == "openfisca" and n > args.openfisca_max_n:
                results[(n, impl)] = {"error": f"not run above {args.openfisca_max_n:,} "
                                               "(--openfisca-max-n)"}
                continue
            if impl == "policyc spark" and n > args.spark_max_n:
                results[(n, impl)] = {"error": f"not run above {args.spark_max_n:,} "
                                               "(--spark-max-n)"}
                continue
            if impl == "numpy (hand-written)" and n > args.numpy_max_n:
                results[(n, impl)] = {"error": f"not run above {args.numpy_max_n:,} "
                                               "(--numpy-max-n)"}
                continue
            r = run_worker(impl, policy, path, repeats_for(n, args.repeat), timeout_for(n))
            results[(n, impl)] = r
            show = (f"{r['best_ns'] / 1e6:10.1f} ms  {fmt_rate(n, r['best_ns'])}"
                    if "best_ns" in r else r["error"])
            print(f"  N={n:>10,}  {impl:<24} {show}", flush=True)
        results[(n, "input")] = {"mb": size_mb}
        if not args.no_e2e:
            for engine in ENGINES:
                if engine == "spark" and (n > args.spark_max_n or "policyc spark" in skipped):
                    continue
                e2e[(n, engine)] = end_to_end(policy, path, engine, tmp)
        path.unlink()

    report(policy, sizes, timed, results, e2e, skipped)
    if args.sweep and policy == "team_kpi_2024":
        sweep(args, [i for i in impls if i not in ("numpy (hand-written)", "policyc spark")])
    base_ok = all("best_ns" in results[(n, BASELINE)] for n in sizes)
    return 0 if base_ok else 2


def end_to_end(policy: str, parquet: Path, engine: str, tmp: Path) -> dict:
    out = tmp / "scores.parquet"
    cmd = [sys.executable, "-m", "policyc", "score", str(REPO / "policies" / f"{policy}.policy"),
           str(parquet), "--engine", engine, "--format", "parquet", "-o", str(out)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH", ""))
                                        if p)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, env=env)
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    secs = time.perf_counter() - t0
    if proc.returncode != 0 or not out.exists():
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
    out.unlink()
    return {"secs": secs}


def report(policy, sizes, timed, results, e2e, skipped) -> None:
    print(f"\n{policy}: best time per batch (validation included), rows/s, × the hand-written "
          "Polars baseline of the same N, peak RSS while scoring")
    head = f"{'N':>11}  {'implementation':<24} {'best':>11} {'rows/s':>11} {'× baseline':>10} " \
           f"{'peak RSS':>10}"
    print(head)
    print("-" * len(head))
    how = set()
    for n in sizes:
        base = results[(n, BASELINE)].get("best_ns")
        for impl in timed:
            r = results[(n, impl)]
            if "best_ns" not in r:
                print(f"{n:>11,}  {impl:<24} {r['error']}")
                continue
            ratio = f"{r['best_ns'] / base:.2f}" if base else "-"
            how.add(r["how"])
            print(f"{n:>11,}  {impl:<24} {r['best_ns'] / 1e6:>9.1f}ms {fmt_rate(n, r['best_ns']):>11}"
                  f" {ratio:>10} {r['peak_kb'] / 1024:>8.0f}MB")
        print(f"{'':>11}  {'(input frame in memory)':<24} {'':>11} {'':>11} {'':>10} "
              f"{results[(n, 'input')]['mb']:>8.0f}MB")
        for engine in ENGINES:
            r = e2e.get((n, engine))
            if r is None:
                continue
            label = f"`policyc score` {engine}"
            if "secs" in r:
                print(f"{n:>11,}  {label:<24} {r['secs'] * 1e3:>9.1f}ms "
                      f"{fmt_rate(n, int(r['secs'] * 1e9)):>11}  (process, Parquet in and out)")
            else:
                print(f"{n:>11,}  {label:<24} {r['error']}")
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    print("peak RSS: " + "; ".join(sorted(how)))
    if len(sizes) >= 2 and sizes[-1] > 100_000:
        lo = 100_000 if 100_000 in sizes else sizes[0]
        print(f"growth: time per record at N={sizes[-1]:,} ÷ at N={lo:,} (1.0 = linear)")
        for impl in timed:
            a, b = results[(lo, impl)], results[(sizes[-1], impl)]
            if "best_ns" in a and "best_ns" in b:
                g = (b["best_ns"] / sizes[-1]) / (a["best_ns"] / lo)
                print(f"  {impl:<24} {g:.2f}")


def sweep(args, impls) -> None:
    """team_kpi: time per record as agents per team and months of history grow
    (in-process, best of 3; N fixed)."""
    import baseline_polars_team_kpi as b
    import batch_check as bc
    import gen_records

    n = 10_000 if args.quick else 200_000
    print(f"\nteam_kpi_2024: cost vs agents per team and months of history (N = {n:,}, "
          "best of 3, in-process; µs per record)")
    scorers = {BASELINE: b.score_frame}
    for impl in impls:
        if impl == DUCKDB:
            import baseline_duckdb_team_kpi

            scorers[impl] = baseline_duckdb_team_kpi.score_frame
        if impl.startswith("policyc "):
            engine = impl.split()[1]
            p = bc.load_policy("team_kpi_2024")
            scorers[impl] = lambda f, _e=engine, _p=p: _p.score_frame(f, engine=_e)
    configs = [(k, 6) for k in (4, 8, 16, 32, 64)] + [(8, m) for m in (3, 12, 24)]
    print(f"{'agents/team':>11} {'months':>6}  " + "  ".join(f"{s:>22}" for s in scorers))
    for k, months in configs:
        frame = gen_records.team_kpi_frame(n, k, months, seed=3)
        cells = []
        for score in scorers.values():
            score(frame)
            best = min(_timed(score, frame) for _ in range(3))
            cells.append(f"{best / 1e3 / frame.height:>20.3f}µs")
        print(f"{k:>11} {months:>6}  " + "  ".join(cells), flush=True)


def _timed(fn, arg) -> int:
    t0 = time.perf_counter_ns()
    fn(arg)
    return time.perf_counter_ns() - t0


# ---------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(description="Batch scoring benchmarks (see the module doc).")
    p.add_argument("--policy", choices=("taobao", "team_kpi", "both"), default="both")
    p.add_argument("--max-n", type=int, default=10 ** 7)
    p.add_argument("--quick", action="store_true",
                   help="N up to 10^4, --check-n 2000, 3 repetitions")
    p.add_argument("--repeat", type=int, default=None, help="timed runs per configuration")
    p.add_argument("--check-n", type=int, default=None,
                   help="generated records compared with policyc before timing (default 10000)")
    p.add_argument("--agents-per-team", type=int, default=8)
    p.add_argument("--periods", type=int, default=6)
    p.add_argument("--sweep", action="store_true", help="team_kpi: agents per team and months")
    p.add_argument("--openfisca-max-n", type=int, default=10 ** 6)
    p.add_argument("--numpy-max-n", type=int, default=10 ** 7)
    p.add_argument("--spark-max-n", type=int, default=10 ** 6,
                   help="largest N for the spark engine (a local session, default driver memory)")
    p.add_argument("--no-spark", action="store_true", help="skip the spark engine")
    p.add_argument("--no-openfisca", action="store_true")
    p.add_argument("--no-e2e", action="store_true", help="skip the `policyc score` processes")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.max_n = min(args.max_n, 10 ** 4)
        args.repeat = args.repeat or 3
        args.check_n = args.check_n or 2000
    args.check_n = args.check_n or 10_000
    if args.max_n < 10 ** 3:
        p.error("--max-n must be at least 1000")
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    try:
        import polars  # noqa: F401
    except ImportError:
        print("bench_batch: needs polars (pip install -e '.[bench]')", file=sys.stderr)
        return 2
    import polars as pl

    print("batch scoring benchmark")
    print(f"python    {platform.python_implementation()} {sys.version.split()[0]} "
          f"({platform.platform()}), polars {pl.__version__}, {os.cpu_count()} cores")
    print(f"command   {' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}")
    print(f"date      {time.strftime('%Y-%m-%d')}")
    policies = list(POLICY_NAMES.values()) if args.policy == "both" else [POLICY_NAMES[args.policy]]
    status = 0
    with tempfile.TemporaryDirectory(prefix="policyc-bench-batch-") as tmp:
        for policy in policies:
            status = max(status, bench_policy(policy, args, Path(tmp)))
            if status == 2:
                break
    return status


if __name__ == "__main__":
    sys.exit(main())
