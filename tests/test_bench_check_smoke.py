"""The checking-speed benchmark still runs and prints its tables (no timing is asserted here)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_check_benchmark_quick_runs_and_prints_the_table():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_check.py"), "--quick"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "| definitions |" in out and "µs/definition" in out
    for size in ("|          10 |", "|         100 |"):
        assert size in out, out
    assert "per-definition cost at 100 ÷ at 10:" in out
    assert 'python -c "pass"' in out and 'python -c "import policyc"' in out
    assert "policyc check policies/" in out
    assert "python -X importtime" in out
