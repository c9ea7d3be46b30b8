"""Per-record scoring: compiled policy module vs a hand-written Python baseline.

In one run:

1. compile `policies/taobao_aftersales.policy` with `python -m policyc compile`
   (a subprocess, PYTHONPATH = the repo's `src`) into a temporary directory and
   import the standalone module it writes (or use `--module FILE`);
2. `check()`: run every case of `tests/acceptance/taobao_aftersales.json`
   through both the compiled `score(record)` and `bench/handwritten_taobao.py`
   and require every expected output to match and every reject to be refused;
   then generate the benchmark records and require both implementations to give
   the same outputs for every one of them. If anything disagrees, no ratio is
   printed;
3. time `score(record)` over the whole record list for each implementation,
   `--repeat` times, interleaved, best (minimum) time per implementation;
4. print a table and the ratio compiled ÷ hand-written.

Exit status: 0 ok; 1 the ratio exceeds `--assert-ratio`; 2 nothing could be
measured (compile or import failed, the implementations disagree, usage).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import random
import shlex
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
POLICY = REPO / "policies" / "taobao_aftersales.policy"
CASES = REPO / "tests" / "acceptance" / "taobao_aftersales.json"
MODULE_NAME = "taobao_aftersales_policy"

sys.path.insert(0, str(BENCH))
import handwritten_taobao  # noqa: E402

OUTPUTS = handwritten_taobao.OUTPUTS


class BenchError(Exception):
    """Something that stops the benchmark; reported as one clear message."""


# ---------------------------------------------------------------- compiled module


def compile_policy(outdir: Path) -> Path:
    out = outdir / f"{MODULE_NAME}.py"
    cmd = [sys.executable, "-m", "policyc", "compile", str(POLICY), "-o", str(out)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p
    )
    shown = " ".join(shlex.quote(c) for c in cmd)
    try:
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchError(f"could not run the compiler: {shown}\n  {e}") from None
    if proc.returncode != 0 or not out.is_file():
        detail = (proc.stderr or proc.stdout).strip()
        lines = detail.splitlines()
        if len(lines) > 20:
            lines = ["..."] + lines[-20:]
        what = (
            f"exit status {proc.returncode}"
            if proc.returncode != 0
            else f"exit status 0 but {out.name} was not written"
        )
        raise BenchError(
            f"compile step failed ({what}):\n  {shown}\n"
            + "".join(f"    | {line}\n" for line in lines).rstrip("\n")
        )
    return out


def import_module(path: Path):
    try:
        spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"not a Python module: {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[MODULE_NAME] = module
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as e:  # any failure is reported, not raised
        raise BenchError(
            f"could not import the compiled module {path}: {type(e).__name__}: {e}"
        ) from None
    missing = [name for name in ("score", "RecordError") if not hasattr(module, name)]
    if missing:
        raise BenchError(f"compiled module {path} lacks {', '.join(missing)}")
    if not (isinstance(module.RecordError, type) and issubclass(module.RecordError, Exception)):
        raise BenchError(f"compiled module {path}: RecordError is not an exception class")
    return module


# ---------------------------------------------------------------- comparing outputs


def _as_number(value):
    """A documented output number (int or finite Decimal) as a Fraction, else None.

    Floats are not exact answers; Fractions are not a documented output type.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite()):
        return Fraction(value)
    return None


def _half_up_6(value: Fraction) -> Fraction:
    n = value * 1000000
    return Fraction((2 * n.numerator + n.denominator) // (2 * n.denominator), 1000000)


def matches_expected(got, expected, approx: bool) -> bool:
    if isinstance(expected, bool) or expected is None:
        return type(got) is type(expected) and got == expected
    if isinstance(expected, str):
        try:
            want = Fraction(Decimal(expected))
        except ArithmeticError:
            return got == expected  # a label
        n = _as_number(got)
        if n is None:
            return False
        return (_half_up_6(n) if approx else n) == want
    return got == expected


def same_output(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    na, nb = _as_number(a), _as_number(b)
    if na is not None or nb is not None:
        return na is not None and nb is not None and na == nb
    return a == b


# ---------------------------------------------------------------- check


def load_cases():
    try:
        with open(CASES, encoding="utf-8") as f:
            # parse_float=Decimal: numbers as a JSON loader for money should give them.
            return json.load(f, parse_float=Decimal)
    except (OSError, ValueError) as e:
        raise BenchError(f"could not read {CASES}: {e}") from None


def _call(score, record):
    try:
        return score(record), None
    except Exception as e:  # noqa: BLE001
        return None, e


def check(compiled, records=None) -> list[str]:
    """Every case through both implementations; returns the disagreements."""
    cases = load_cases()
    impls = [
        ("hand-written", handwritten_taobao.score, ValueError),
        ("compiled", compiled.score, compiled.RecordError),
    ]
    problems: list[str] = []

    for batch in cases["batches"]:
        for i, (record, expect) in enumerate(zip(batch["records"], batch["expect"])):
            approx = set(expect.get("_approx", ()))
            label = f"case {batch['name']!r} record {i}"
            for name, score, _ in impls:
                got, err = _call(score, dict(record))
                if err is not None:
                    problems.append(f"{name}: {label}: raised {type(err).__name__}: {err}")
                    continue
                if not isinstance(got, dict):
                    problems.append(f"{name}: {label}: score() returned {type(got).__name__}")
                    continue
                for out, want in expect.items():
                    if out == "_approx":
                        continue
                    if out not in got:
                        problems.append(f"{name}: {label}: output {out!r} missing")
                    elif not matches_expected(got[out], want, out in approx):
                        problems.append(
                            f"{name}: {label}: {out} = {got[out]!r} ({type(got[out]).__name__}),"
                            f" expected {want!r}"
                        )

    for case in cases.get("rejects", ()):
        fields = set(case.get("fields", ())) | {case["field"]}
        label = f"reject {case['name']!r}"
        for name, score, error in impls:
            got, err = _call(score, dict(case["record"]))
            if err is None:
                problems.append(f"{name}: {label}: was scored, expected a refusal")
            elif not isinstance(err, error):
                problems.append(
                    f"{name}: {label}: raised {type(err).__name__}: {err}, "
                    f"expected {error.__name__}"
                )
            elif name == "hand-written":
                if not any(str(err).startswith(f"field {f!r}:") for f in fields):
                    problems.append(f"{name}: {label}: {err} does not name {sorted(fields)}")
            else:
                named = set()
                for issue in getattr(err, "errors", None) or ():
                    named.add(getattr(issue, "field", None))
                    named.update(getattr(issue, "fields", None) or ())
                if not named & fields:
                    problems.append(
                        f"{name}: {label}: RecordError.errors name {sorted(map(str, named))},"
                        f" expected one of {sorted(fields)}"
                    )

    if records is not None and not problems:
        problems += cross_check(compiled, records)
    return problems


def cross_check(compiled, records) -> list[str]:
    """Both implementations give the same 11 outputs for every benchmark record."""
    problems: list[str] = []
    for i, record in enumerate(records):
        hand = handwritten_taobao.score(record)
        try:
            comp = compiled.score(record)
        except Exception as e:  # noqa: BLE001
            problems.append(f"record {i}: compiled raised {type(e).__name__}: {e}  {record}")
        else:
            # the compiled module also echoes the record's agent and period (as its JSONL lines do)
            if not isinstance(comp, dict) or set(comp) != set(OUTPUTS) | {"agent", "period"}:
                keys = sorted(comp) if isinstance(comp, dict) else type(comp).__name__
                problems.append(f"record {i}: compiled returned {keys}, expected {list(OUTPUTS)}")
            else:
                for out in OUTPUTS:
                    if not same_output(comp[out], hand[out]):
                        problems.append(
                            f"record {i}: {out}: compiled {comp[out]!r}, "
                            f"hand-written {hand[out]!r}  {record}"
                        )
        if len(problems) >= 10:
            problems.append("(stopped after 10 disagreements)")
            break
    return problems


# ---------------------------------------------------------------- records


GRADES = ("优", "良", "中", "差")
GRADE_WEIGHTS = (45, 35, 15, 5)


def make_records(n: int, seed: int = 42) -> list[dict]:
    """n varied valid records, deterministic, typed as a JSON loader gives them
    (parse_float=Decimal): ints for counts, Decimal for refund_rate, int or
    Decimal for the two point inputs."""
    rng = random.Random(seed)
    records = []
    for i in range(n):
        r = rng.random()
        if r < 0.05:  # the band edges themselves
            rate = Decimal(rng.choice(("0.05", "0.08", "0.1", "0")))
        elif r < 0.90:  # around the bands, 3 or 4 decimals
            rate = Decimal(rng.randint(0, 120)) / 1000
            if rng.random() < 0.5:
                rate = Decimal(rng.randint(0, 1200)) / 10000
        else:  # far out, up to 100%
            rate = Decimal(rng.randint(121, 1000)) / 1000
        complaints = rng.choices((0, 1, 2, 3), (70, 18, 8, 4))[0]
        if complaints:
            points = rng.randint(5 * complaints, 20 * complaints)
            if rng.random() < 0.3 and points < 20 * complaints:
                points = Decimal(points) + Decimal("0.5")
        else:
            points = 0
        s = rng.random()
        if s < 0.7:
            standout = 0
        elif s < 0.9:
            standout = rng.randint(2, 5)
        else:
            standout = Decimal(rng.choice(("2.5", "3.5", "4.5")))
        bad = rng.random() < 0.06  # a few very bad months: floors and clamps
        records.append(
            {
                "agent": f"agent{i % 500:03d}",
                "period": f"{2024 + i % 3}-{1 + i % 12:02d}",
                "level": rng.choice(("normal", "senior", "lead")),
                "quality_grade": rng.choices(GRADES, GRADE_WEIGHTS)[0],
                "disputes_grade": rng.choices(GRADES, GRADE_WEIGHTS)[0],
                "cooperation_grade": rng.choices(GRADES, GRADE_WEIGHTS)[0],
                "execution_grade": rng.choices(GRADES, GRADE_WEIGHTS)[0],
                "refund_rate": rate,
                "late": rng.choices((0, 1, 2, 3, 6), (60, 20, 10, 6, 4))[0],
                "leave": rng.choices((0, 1, 2), (75, 18, 7))[0],
                "absent": rng.choices((0, 1, 2, 3), (85, 9, 4, 2))[0] + (2 if bad else 0),
                "low_reviews": rng.choices((0, 1, 2, 4), (70, 18, 8, 4))[0] + (6 if bad else 0),
                "complaints": complaints,
                "praises": rng.randint(0, 6),
                "complaint_points": points,
                "standout": standout,
            }
        )
    return records


def coverage(records) -> list[str]:
    """Bands the generated records must reach; returns the ones missed."""
    seen = set()
    for record in records:
        out = handwritten_taobao.score(record)
        seen.add(("refund", out["refund"]))
        seen.add(
            (
                "attendance",
                0 if out["attendance"] == 0 else 20 if out["attendance"] == 20 else "mid",
            )
        )
        seen.add(("total", 0 if out["total"] == 0 else 130 if out["total"] == 130 else "mid"))
        seen.add(("qualified", out["qualified"]))
        seen.add(("total is decimal", type(out["total"]) is Decimal))
        seen.add(("base", out["base"]))
    needed = (
        [("refund", v) for v in (30, 20, 10, 0)]
        + [("attendance", v) for v in (0, "mid", 20)]
        + [("total", v) for v in (0, "mid", 130)]
        + [("qualified", v) for v in (True, False)]
        + [("total is decimal", v) for v in (True, False)]
        + [("base", v) for v in (2000, 2500, 3000)]
    )
    return [f"{k} {v}" for k, v in needed if (k, v) not in seen]


# ---------------------------------------------------------------- timing


def run_once(score, records) -> int:
    t0 = time.perf_counter_ns()
    for record in records:
        score(record)
    return time.perf_counter_ns() - t0


def measure(impls, records, repeat: int) -> dict[str, int]:
    best = {name: None for name, _ in impls}
    for _name, score in impls:  # warm-up, untimed
        run_once(score, records[: min(len(records), 1000)])
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for rep in range(repeat):
            order = impls if rep % 2 == 0 else impls[::-1]  # interleave, alternate order
            for name, score in order:
                ns = run_once(score, records)
                if best[name] is None or ns < best[name]:
                    best[name] = ns
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


# ---------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Per-record scoring of taobao_aftersales: compiled module vs hand-written."
    )
    p.add_argument(
        "--records",
        type=int,
        default=None,
        metavar="N",
        help="number of generated records (default 20000; 2000 with --quick)",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="R",
        help="timed repetitions per implementation, best kept (default 7; 3 with --quick)",
    )
    p.add_argument(
        "--quick", action="store_true", help="small run for smoke tests (N=2000, repeat 3)"
    )
    p.add_argument(
        "--assert-ratio",
        type=float,
        default=None,
        metavar="X",
        help="exit 1 if compiled ÷ hand-written exceeds X",
    )
    p.add_argument(
        "--module",
        type=Path,
        default=None,
        metavar="FILE",
        help="use this already compiled module instead of running policyc compile",
    )
    args = p.parse_args(argv)
    if args.records is None:
        args.records = 2000 if args.quick else 20000
    if args.repeat is None:
        args.repeat = 3 if args.quick else 7
    if args.records < 1 or args.repeat < 1:
        p.error("--records and --repeat must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with tempfile.TemporaryDirectory(prefix="policyc-bench-") as tmp:
            return bench(args, Path(tmp))
    except BenchError as e:
        print(f"bench_per_record: {e}", file=sys.stderr)
        return 2


def bench(args, tmp: Path) -> int:
    if args.module is not None:
        path = args.module.resolve()
        if not path.is_file():
            raise BenchError(f"no such module file: {path}")
    else:
        if not POLICY.is_file():
            raise BenchError(
                f"compile step failed: the policy {POLICY.relative_to(REPO)} does not exist"
            )
        path = compile_policy(tmp)
    compiled = import_module(path)

    records = make_records(args.records)
    missed = coverage(records)
    if missed:  # only with very few --records
        print(f"warning: the generated records miss: {', '.join(missed)}", file=sys.stderr)
    problems = check(compiled, records)
    if problems:
        shown = problems[:30]
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        raise BenchError(
            "the two implementations do not both reproduce the cases / agree, "
            "so no ratio is printed:\n  " + "\n  ".join(shown) + more
        )

    impls = [("compiled (policyc)", compiled.score), ("hand-written", handwritten_taobao.score)]
    best = measure(impls, records, args.repeat)
    ratio = best["compiled (policyc)"] / best["hand-written"]

    n = len(records)
    command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    print("per-record scoring, taobao_aftersales")
    print(
        f"python    {platform.python_implementation()} {sys.version.split()[0]} ({platform.platform()})"
    )
    print(f"command   {command}")
    print(
        f"module    {path if args.module is not None else 'policyc compile ' + str(POLICY.relative_to(REPO))}"
    )
    print(
        f"records   {n}, best of {args.repeat} interleaved runs; "
        f"check: {len(load_cases()['batches'])} case batches + rejects + {n} records agree"
    )
    print()
    print(f"{'implementation':<20} {'best total ms':>14} {'µs/record':>10}")
    for name, _ in impls:
        ns = best[name]
        print(f"{name:<20} {ns / 1e6:>14.1f} {ns / 1e3 / n:>10.2f}")
    print()
    print(f"ratio compiled ÷ hand-written: {ratio:.2f}")
    if args.assert_ratio is not None and ratio > args.assert_ratio:
        print(
            f"FAIL: ratio {ratio:.2f} exceeds --assert-ratio {args.assert_ratio:g}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
