"""The batch benchmark's pieces still work and still agree with policyc (no timing asserted).

Small (1,000 generated records) so that it stays fast; the benchmarks themselves
(bench/bench_batch.py, bench/bench_peers.py) check 10,000 and more.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")
if int(pl.__version__.split(".")[0]) < 2:  # Decimal <-> Int128 reinterpret, over(order_by=)
    pytest.skip("the bench baselines need polars >= 2", allow_module_level=True)

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import batch_check  # noqa: E402
import gen_records  # noqa: E402

N = 1000


@pytest.mark.parametrize("policy", ["taobao_aftersales", "team_kpi_2024"])
def test_generated_records_are_valid_and_reach_the_branches(policy):
    frame = batch_check.generated(policy, N)
    assert frame.height == N
    assert frame.schema == pl.Schema(gen_records.SCHEMAS[policy])
    rows = batch_check.reference_rows(policy, frame)  # policyc refuses any bad record
    if policy == "taobao_aftersales":
        assert {r["refund"] for r in rows} == {0, 10, 20, 30}
        assert {r["qualified"] for r in rows} == {True, False}
    else:
        ranks = [r["rank"] for r in rows]
        assert ranks.count(1) > N // 8  # ties for first place exist
        assert {r["streak_bonus"] for r in rows} == {0, 300}


@pytest.mark.parametrize("policy,name", [(p, n) for p, impls in batch_check.BASELINES.items()
                                         for n in impls])
def test_baselines_agree_exactly_with_policyc(policy, name):
    problems, note = batch_check.check(policy, batch_check.BASELINES[policy][name], name, n=N)
    assert problems == [], "\n".join(problems)


def test_team_kpi_exact_repairs_agree_when_every_float_key_is_wrong(monkeypatch):
    import baseline_polars_team_kpi as b

    monkeypatch.setattr(b, "_FLOAT_SIGN", -1.0)  # every team goes through the exact repairs
    problems, _ = batch_check.check("team_kpi_2024", batch_check.polars_team_kpi, "perturbed",
                                    n=300)
    assert problems == [], "\n".join(problems)


def test_team_kpi_duckdb_exact_ranking_agrees_when_forced_on_every_team(monkeypatch):
    pytest.importorskip("duckdb")
    import baseline_duckdb_team_kpi as b

    monkeypatch.setattr(b, "_FORCE_RANK_FIX", True)  # every team ranked again by exact fractions
    problems, _ = batch_check.check("team_kpi_2024", batch_check.duckdb_team_kpi, "forced", n=300)
    assert problems == [], "\n".join(problems)


def test_a_wrong_baseline_is_caught():
    def wrong(frame):
        rows = batch_check.polars_taobao(frame)
        if rows:
            rows[-1]["kpi_bonus"] += 1
        return rows

    problems, _ = batch_check.check("taobao_aftersales", wrong, "wrong", n=200)
    assert any("kpi_bonus" in p for p in problems)


def test_peers_score_like_policyc_after_rounding():
    pytest.importorskip("zen")
    pytest.importorskip("json_logic")
    pytest.importorskip("openfisca_core")
    import peers_taobao as pt

    frame = gen_records.taobao_frame(300, seed=5)
    want = batch_check.reference_rows("taobao_aftersales", frame)
    floats = [pt.float_record(r) for r in gen_records.to_records(frame)]
    for score in (pt.zen_scorer(), pt.json_logic_scorer()):
        assert pt.differences([score(r) for r in floats], want)["records"] == 0
    result = pt.openfisca_score(pt.openfisca_system(), pt.openfisca_inputs(frame))
    assert pt.differences(pt.openfisca_rows(result), want)["records"] == 0


def test_harness_runs_and_reports_ratios():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_batch.py"), "--policy", "taobao",
         "--max-n", "1000", "--check-n", "300", "--repeat", "1", "--no-e2e", "--no-openfisca",
         "--no-spark"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "× baseline" in proc.stdout
    assert "agree" in proc.stdout
