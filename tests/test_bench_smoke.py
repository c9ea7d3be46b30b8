"""The benchmark still runs and its two implementations still agree (no timing is asserted here)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_per_record_benchmark_runs_and_both_sides_agree():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_per_record.py"), "--quick"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ratio compiled ÷ hand-written:" in proc.stdout
    assert "agree" in proc.stdout
