"""taobao_aftersales in zen-engine, json-logic and OpenFisca vs compiled policyc.

    python bench/bench_peers.py                 # 20,000 records, best of 5
    python bench/bench_peers.py --quick         # 2,000 records, best of 3

Per record: the module written by `policyc compile` (its `score(record)`, with
full validation) against the same scoring as a GoRules JDM decision graph run by
zen-engine (`ZenDecision.evaluate`) and as JSON-logic rules run by
json-logic-qubit (`jsonLogic`, one rule per output) - peers_taobao.py says how
each is written. The records are gen_records.py's (seeded, every band),
as a JSON loader gives them (int, Decimal, str); the peers get them with decimals as floats (their input type), converted
before timing. Timed interleaved, best of `--repeat`, garbage collector off.

Batch: OpenFisca (a minimal tax-benefit system with the formulas vectorised)
on the same records as one frame, against the hand-written Polars baseline.

The peers use floats and validate nothing, so their outputs are compared with
policyc's after rounding to the cent, and every record that differs is counted.
The table shows the ratios measured in this run; the exit status is 2 if any
peer's output differs from policyc's on any record (or the compiled module
cannot be built), else 0.
"""

from __future__ import annotations

import argparse
import gc
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_per_record as bpr  # noqa: E402
import peers_taobao as pt  # noqa: E402


def best_of(impls, repeat):
    best = {name: None for name, _, _ in impls}
    for _, score, data in impls:  # warm-up, untimed
        for r in data[:200]:
            score(r)
    was = gc.isenabled()
    gc.disable()
    try:
        for rep in range(repeat):
            for name, score, data in (impls if rep % 2 == 0 else impls[::-1]):
                t0 = time.perf_counter_ns()
                for r in data:
                    score(r)
                ns = time.perf_counter_ns() - t0
                best[name] = ns if best[name] is None else min(best[name], ns)
    finally:
        if was:
            gc.enable()
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="zen-engine, json-logic, OpenFisca vs policyc")
    p.add_argument("--records", type=int, default=None)
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    n = args.records or (2000 if args.quick else 20000)
    repeat = args.repeat or (3 if args.quick else 5)

    try:
        with tempfile.TemporaryDirectory(prefix="policyc-peers-") as tmp:
            compiled = bpr.import_module(bpr.compile_policy(Path(tmp)))
    except bpr.BenchError as e:
        print(f"bench_peers: {e}", file=sys.stderr)
        return 2
    import baseline_polars_taobao
    import gen_records

    frame = gen_records.taobao_frame(n, seed=11)
    records = gen_records.to_records(frame)
    want = [compiled.score(r) for r in records]
    floats = [pt.float_record(r) for r in records]

    zen_score = pt.zen_scorer()
    jl_score = pt.json_logic_scorer()
    rows = {
        "zen-engine (JDM graph)": [zen_score(r) for r in floats],
        "json-logic (qubit)": [jl_score(r) for r in floats],
    }
    diffs = {name: pt.differences(r, want) for name, r in rows.items()}

    impls = [
        ("compiled policyc", compiled.score, records),
        ("zen-engine (JDM graph)", zen_score, floats),
        ("json-logic (qubit)", jl_score, floats),
    ]
    best = best_of(impls, repeat)

    # batch: OpenFisca vs the hand-written Polars baseline on the same records
    tbs = pt.openfisca_system()
    cols = pt.openfisca_inputs(frame)
    of_rows = pt.openfisca_rows(pt.openfisca_score(tbs, cols))
    diffs["openfisca (batch)"] = pt.differences(of_rows, want)
    batch = {}
    for name, fn in (("polars (hand-written)", lambda: baseline_polars_taobao.score_frame(frame)),
                     ("openfisca (batch)", lambda: pt.openfisca_score(tbs, cols))):
        fn()
        batch[name] = min(_timed(fn) for _ in range(repeat))

    print("taobao_aftersales: peers doing the same scoring")
    print(f"python    {platform.python_implementation()} {sys.version.split()[0]} "
          f"({platform.platform()})")
    print(f"command   {' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}")
    print(f"date      {time.strftime('%Y-%m-%d')}")
    print(f"records   {n}, best of {repeat} interleaved runs")
    print()
    print(f"{'per record':<26} {'µs/record':>10} {'× compiled':>11} {'records ≠ policyc':>18}")
    base = best["compiled policyc"]
    for name, _, _ in impls:
        d = diffs.get(name, {}).get("records", 0)
        print(f"{name:<26} {best[name] / 1e3 / n:>10.2f} {best[name] / base:>11.1f} {d:>18}")
    print()
    print(f"{'batch of ' + str(n):<26} {'ms':>10} {'× Polars':>11} {'records ≠ policyc':>18}")
    for name, ns in batch.items():
        d = diffs.get(name, {}).get("records", 0)
        print(f"{name:<26} {ns / 1e6:>10.1f} {ns / batch['polars (hand-written)']:>11.1f} {d:>18}")
    print()
    print("zen-engine computes in 28-digit decimals (rust_decimal) but takes and returns floats; "
          "json-logic and OpenFisca compute in binary floats (OpenFisca: float32); none of the "
          "three validates records, so their times include no validation.")
    bad = {k: v for k, v in diffs.items() if v["records"]}
    for name, d in bad.items():
        shown = ", ".join(f"{o} {c}" for o, c in d.items() if c and o != "records")
        print(f"DIFFERS: {name}: {d['records']} records ({shown})", file=sys.stderr)
    return 2 if bad else 0


def _timed(fn) -> int:
    t0 = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - t0


if __name__ == "__main__":
    sys.exit(main())
