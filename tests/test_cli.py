"""The command line, run as a subprocess: ``python -m policyc ...``.

Every run captures stdout and stderr separately, so these tests also check
that results go to stdout, messages go to stderr, and that no command ever
shows a Python traceback (checked in ``run`` for every single call).

Exit statuses (docs/architecture.md): 0 success; 1 a policy has errors (or
warnings with --deny-warnings); 2 bad records, unreadable input or a usage
error.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import textwrap
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
POLICIES = REPO / "policies"
SAMPLES = POLICIES / "samples"

TAOBAO = POLICIES / "taobao_aftersales.policy"
TAOBAO_CSV = SAMPLES / "taobao_aftersales.csv"
PDD = POLICIES / "pdd_deduction.policy"
PDD_CSV = SAMPLES / "pdd_deduction.csv"
TEAM = POLICIES / "team_kpi_2024.policy"
TEAM_CSV = SAMPLES / "team_kpi_2024.csv"
TEAM_JSONL = SAMPLES / "team_kpi_2024.jsonl"

#: The eight sample policies, each with policies/samples/<name>.csv.
SAMPLE_POLICIES = (
    "aftersales_veto",
    "douyin_service",
    "pdd_deduction",
    "presales_tiers",
    "service_standard",
    "shop_pay",
    "taobao_aftersales",
    "team_kpi_2024",
)

# The README's example of a mistake: `refund_rat` at line 6, column 28.
BAD_POLICY = textwrap.dedent("""\
    policy taobao_mini "淘宝售后"
    period month

    input level : choice normal | senior | lead              "岗位级别"
    input refund_rate : percent                              "退款率"
    item refund 30 pts = first refund_rat:
        <= 5%  -> 30
        <= 8%  -> 20
        <= 10% -> 10
        else   -> 0
    pay base = by level: normal -> 2000, senior -> 2500, lead -> 3000
    """)

# Checks cleanly except for one warning: an input nothing uses.
WARN_ONLY_POLICY = textwrap.dedent("""\
    policy warn_only
    period month

    input late : count        "迟到"
    input unused_thing : count "没用到"

    score = 10 - 1 per late
    """)


# ───────────────────────── running the CLI ─────────────────────────


def _env() -> dict[str, str]:
    env = dict(os.environ)
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + old if old else "")
    env["PYTHONIOENCODING"] = "utf-8"
    env.pop("FORCE_COLOR", None)
    return env


def describe(proc: subprocess.CompletedProcess) -> str:
    return (f"command: {' '.join(map(str, proc.args))}\nexit status: {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")


def run(*args, cwd=None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m policyc ARGS``; never a traceback, whatever happens."""
    proc = subprocess.run(
        [sys.executable, "-m", "policyc", *map(str, args)],
        cwd=cwd,
        env=_env(),
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=120,
    )
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, \
        "policyc printed a Python traceback\n" + describe(proc)
    return proc


def expect(proc, status: int) -> subprocess.CompletedProcess:
    assert proc.returncode == status, f"expected exit status {status}\n" + describe(proc)
    return proc


def exact_rows(text: str) -> list[dict]:
    """JSON Lines, numbers read as Decimal / int (never float)."""
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        try:
            rows.append(json.loads(line, parse_float=Decimal))
        except ValueError as e:  # pragma: no cover - reported as a failure
            pytest.fail(f"line {n} of stdout is not JSON ({e}): {line!r}")
    return rows


def number_texts(text: str) -> list[dict]:
    """JSON Lines with every number kept as ("num", its exact text)."""
    return [json.loads(line, parse_float=lambda s: ("num", s), parse_int=lambda s: ("num", s))
            for line in text.splitlines() if line.strip()]


def sample_records(name: str) -> list[dict]:
    with open(SAMPLES / f"{name}.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def write_csv(path: Path, records, encoding="utf-8") -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(records[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(records)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@pytest.fixture(scope="module")
def taobao_jsonl() -> str:
    """`policyc score` of the taobao sample, JSON Lines (the reference output)."""
    proc = expect(run("score", TAOBAO, TAOBAO_CSV, "--format", "jsonl"), 0)
    assert proc.stderr == ""
    return proc.stdout


# ═════════════════════════════ check ═════════════════════════════


def test_check_good_file():
    proc = expect(run("check", TAOBAO), 0)
    assert proc.stderr == ""
    assert "checked 1 policy: 0 error(s), 0 warning(s)" in proc.stdout


def test_check_folder_of_policies():
    proc = expect(run("check", POLICIES), 0)
    assert proc.stderr == ""
    n = len(list(POLICIES.rglob("*.policy")))
    assert n >= len(SAMPLE_POLICIES)
    assert f"checked {n} policies: 0 error(s)" in proc.stdout


def test_check_folder_searches_subfolders_and_finds_the_bad_one(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "good.policy").write_text(TAOBAO.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "sub" / "bad.policy").write_text(BAD_POLICY, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a policy", encoding="utf-8")
    proc = expect(run("check", tmp_path), 1)
    assert "checked 2 policies: 1 error(s)" in proc.stdout
    assert "E201" in proc.stdout and "bad.policy:6:28" in proc.stdout


def test_check_bad_file_reports_code_place_line_and_underline(tmp_path):
    (tmp_path / "bad.policy").write_text(BAD_POLICY, encoding="utf-8")
    proc = expect(run("check", "bad.policy", cwd=tmp_path), 1)
    out = proc.stdout
    assert "error[E201]" in out
    assert "`refund_rat` is not defined" in out
    assert "bad.policy:6:28" in out
    lines = out.splitlines()
    src = next(i for i, line in enumerate(lines) if line.startswith("6 | item refund 30 pts = first refund_rat:"))
    caret = lines[src + 1]
    assert "^" * len("refund_rat") in caret, out
    # the underline sits exactly under `refund_rat`, and is exactly that long
    assert caret.index("^") == lines[src].index("refund_rat"), out
    assert re.search(r"\^{10}(?!\^)", caret), out
    assert "did you mean `refund_rate`?" in out
    assert "1 error(s)" in out
    assert proc.stderr == ""


def test_check_underline_accounts_for_wide_characters(tmp_path):
    (tmp_path / "cjk.policy").write_text(
        'policy cjk\nperiod month\n\ninput late : count "迟到"\n\nscore "得分" = 10 - 1 per lat\n',
        encoding="utf-8")
    proc = expect(run("check", "cjk.policy", cwd=tmp_path), 1)
    lines = proc.stdout.splitlines()
    src = next(i for i, line in enumerate(lines) if line.startswith("6 | "))
    caret = lines[src + 1]
    # on a terminal 得分 takes four columns: the carets must still sit under `lat`
    assert caret.index("^") == display_width(lines[src][: lines[src].index("per lat") + 4]), proc.stdout


def test_check_warning_only_is_ok_unless_denied(tmp_path):
    (tmp_path / "warn.policy").write_text(WARN_ONLY_POLICY, encoding="utf-8")
    plain = expect(run("check", "warn.policy", cwd=tmp_path), 0)
    assert "W401" in plain.stdout and "unused_thing" in plain.stdout
    assert "0 error(s), 1 warning(s)" in plain.stdout
    assert plain.stderr == ""
    denied = expect(run("check", "--deny-warnings", "warn.policy", cwd=tmp_path), 1)
    assert "W401" in denied.stdout


def test_check_deny_warnings_on_a_clean_policy_is_ok():
    expect(run("check", "--deny-warnings", TAOBAO), 0)


def test_check_json_format(tmp_path):
    (tmp_path / "bad.policy").write_text(BAD_POLICY, encoding="utf-8")
    proc = expect(run("check", "--format", "json", "bad.policy", cwd=tmp_path), 1)
    assert proc.stderr == ""
    data = json.loads(proc.stdout)  # stdout is JSON and nothing else
    assert isinstance(data, list) and data
    for d in data:
        assert {"code", "severity", "span", "message"} <= set(d)
        assert {"file", "line", "column"} <= set(d["span"])
    e201 = [d for d in data if d["code"] == "E201"]
    assert len(e201) == 1
    assert e201[0]["severity"] == "error"
    assert (e201[0]["span"]["file"], e201[0]["span"]["line"], e201[0]["span"]["column"]) == ("bad.policy", 6, 28)
    assert any(d["code"] == "W401" and d["severity"] == "warning" for d in data)


def test_check_json_format_clean_policy_has_no_errors_or_warnings():
    proc = expect(run("check", "--format", "json", TAOBAO), 0)
    found = json.loads(proc.stdout)
    # a clean policy may still carry information (I501: its total's clamp decides at the extremes)
    assert all(d["severity"] == "info" for d in found), found
    assert proc.stderr == ""


def test_check_missing_path(tmp_path):
    proc = expect(run("check", "no_such.policy", cwd=tmp_path), 2)
    assert proc.stdout == ""
    assert "no_such.policy" in proc.stderr


def test_check_unreadable_policy_not_utf8(tmp_path):
    (tmp_path / "gbk.policy").write_bytes(WARN_ONLY_POLICY.encode("gbk"))
    proc = expect(run("check", "gbk.policy", cwd=tmp_path), 2)
    assert "gbk.policy" in proc.stderr


@pytest.mark.parametrize("argv", [
    ["frobnicate"],
    [],
    ["check"],
    ["check", "--format", "xml", str(TAOBAO)],
    ["score", str(TAOBAO)],
    ["score", str(TAOBAO), str(TAOBAO_CSV), "--format", "yaml"],
    ["explain", str(TAOBAO), str(TAOBAO_CSV)],  # --agent is required
    ["compile", str(TAOBAO)],  # -o is required
], ids=["unknown-verb", "no-verb", "check-no-path", "check-bad-format", "score-no-records",
        "score-bad-format", "explain-no-agent", "compile-no-output"])
def test_usage_errors_exit_2(argv):
    proc = expect(run(*argv), 2)
    assert proc.stdout == ""
    assert "usage" in proc.stderr.lower()


def test_version():
    proc = expect(run("--version"), 0)
    assert re.match(r"policyc \d+\.\d+", proc.stdout)


# ═════════════════════════════ score ═════════════════════════════


def test_score_jsonl_numbers_are_exact(taobao_jsonl):
    rows = exact_rows(taobao_jsonl)
    assert len(rows) == len(sample_records("taobao_aftersales"))
    by_agent = {r["agent"]: r for r in rows}
    zw = by_agent["张伟"]
    assert list(zw)[:2] == ["agent", "period"]
    assert zw["period"] == "2026-11"
    assert zw["kpi_bonus"] == Decimal("930.77") and str(zw["kpi_bonus"]) == "930.77"
    assert str(zw["salary"]) == "2930.77"
    assert zw["total"] == 121 and zw["qualified"] is True
    assert by_agent["杨磊"]["total"] == Decimal("90.5") and by_agent["杨磊"]["qualified"] is False
    # trailing zeros of a rounded amount are kept: the text is exact
    assert str(by_agent["李娜"]["kpi_bonus"]) == "1000.00"
    assert '"kpi_bonus": 1000.00' in taobao_jsonl
    # never a float's text, never an exponent, never a quoted number
    assert not re.search(r"\d[eE][+-]?\d", taobao_jsonl)
    assert '"930.77"' not in taobao_jsonl
    for row in rows:
        for v in row.values():
            assert not isinstance(v, float)


def test_score_default_format_off_a_terminal_is_jsonl(taobao_jsonl):
    proc = expect(run("score", TAOBAO, TAOBAO_CSV), 0)
    assert proc.stdout == taobao_jsonl


def test_score_csv(taobao_jsonl):
    proc = expect(run("score", TAOBAO, TAOBAO_CSV, "--format", "csv"), 0)
    assert proc.stderr == ""
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    ref = exact_rows(taobao_jsonl)
    assert len(rows) == len(ref)
    assert list(rows[0]) == list(ref[0])
    zw = next(r for r in rows if r["agent"] == "张伟")
    assert (zw["kpi_bonus"], zw["salary"], zw["total"], zw["qualified"]) == ("930.77", "2930.77", "121", "true")
    assert next(r for r in rows if r["agent"] == "李娜")["kpi_bonus"] == "1000.00"


def test_score_json(taobao_jsonl):
    proc = expect(run("score", TAOBAO, TAOBAO_CSV, "--format", "json"), 0)
    assert proc.stderr == ""
    data = json.loads(proc.stdout, parse_float=Decimal)
    assert isinstance(data, list)
    assert data == exact_rows(taobao_jsonl)
    assert [str(r["kpi_bonus"]) for r in data] == [str(r["kpi_bonus"]) for r in exact_rows(taobao_jsonl)]


def test_score_table():
    proc = expect(run("score", TAOBAO, TAOBAO_CSV, "--format", "table"), 0)
    assert proc.stderr == ""
    for text in ("agent", "salary", "张伟", "孙浩", "2930.77", "1000.00", "90.5"):
        assert text in proc.stdout


def test_score_table_to_a_file_is_a_usage_error(tmp_path):
    proc = expect(run("score", TAOBAO, TAOBAO_CSV, "--format", "table", "-o", "t.txt", cwd=tmp_path), 2)
    assert proc.stdout == ""
    assert not (tmp_path / "t.txt").exists()


def test_score_json_records_give_the_same_results_as_csv():
    a = expect(run("score", TEAM, TEAM_CSV, "--format", "jsonl"), 0)
    b = expect(run("score", TEAM, TEAM_JSONL, "--format", "jsonl"), 0)
    assert a.stdout == b.stdout


def test_score_records_from_stdin(taobao_jsonl):
    proc = expect(run("score", TAOBAO, "-", "--format", "jsonl",
                      stdin=TAOBAO_CSV.read_text(encoding="utf-8")), 0)
    assert proc.stdout == taobao_jsonl


def test_score_output_file(tmp_path, taobao_jsonl):
    proc = expect(run("score", TAOBAO, TAOBAO_CSV, "-o", "out.jsonl", cwd=tmp_path), 0)
    assert proc.stdout == ""
    assert proc.stderr == ""
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == taobao_jsonl
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temporary file left


def test_score_output_file_replaces_an_existing_one(tmp_path, taobao_jsonl):
    (tmp_path / "out.jsonl").write_text("old\n", encoding="utf-8")
    expect(run("score", TAOBAO, TAOBAO_CSV, "-o", "out.jsonl", "--format", "jsonl", cwd=tmp_path), 0)
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == taobao_jsonl


def _three_bad_records(tmp_path: Path) -> Path:
    """Five taobao records; 2, 3 and 5 (1-based) are bad in three different ways."""
    recs = sample_records("taobao_aftersales")[:5]
    del recs[1]["late"]                  # record 2 (王芳): a missing field
    recs[2]["quality_grade"] = "好"      # record 3 (李娜): an unknown label
    recs[4]["refund_rate"] = "5"         # record 5 (陈静): a percent written as 5
    return write_jsonl(tmp_path / "records.jsonl", recs)


BAD = {  # record number -> (agent, field, words the reason must contain)
    2: ("王芳", "late", ("missing",)),
    3: ("李娜", "quality_grade", ("好",)),
    5: ("陈静", "refund_rate", ("5",)),
}


def test_score_bad_records_lists_every_one_and_scores_nothing(tmp_path):
    records = _three_bad_records(tmp_path)
    proc = expect(run("score", TAOBAO, records, "--format", "jsonl"), 2)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    for n, (agent, field, words) in BAD.items():
        hits = [line for line in lines if re.match(rf"record {n}\b", line)]
        assert hits, f"no line for record {n}\n" + describe(proc)
        line = hits[0]
        assert agent in line and "2026-11" in line and field in line, line
        for w in words:
            assert w in line, line
    for n in (1, 4):
        assert not any(re.match(rf"record {n}\b", line) for line in lines), describe(proc)
    assert "label" in next(line for line in lines if line.startswith("record 3"))
    assert "percent" in next(line for line in lines if line.startswith("record 5"))
    assert "nothing was scored" in proc.stderr
    assert "3 bad record" in proc.stderr


def test_score_rejects_file(tmp_path, taobao_jsonl):
    records = _three_bad_records(tmp_path)
    proc = expect(run("score", TAOBAO, records, "--rejects", "rejects.jsonl", "--format", "jsonl",
                      cwd=tmp_path), 0)
    rows = exact_rows(proc.stdout)
    assert [r["agent"] for r in rows] == ["张伟", "刘洋"]
    ref = {r["agent"]: r for r in exact_rows(taobao_jsonl)}
    assert rows == [ref["张伟"], ref["刘洋"]]
    rejects = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["record"] for r in rejects] == [2, 3, 5]
    for r in rejects:
        assert {"record", "agent", "period", "field", "reason"} <= set(r)
        agent, field, words = BAD[r["record"]]
        assert (r["agent"], r["period"], r["field"]) == (agent, "2026-11", field)
        assert isinstance(r["reason"], str) and r["reason"]
        for w in words:
            assert w in r["reason"]
    assert "rejects.jsonl" in proc.stderr  # says where the rejects went


def test_score_rejects_file_is_written_even_when_all_are_good(tmp_path, taobao_jsonl):
    proc = expect(run("score", TAOBAO, TAOBAO_CSV, "--rejects", "rejects.jsonl", "--format", "jsonl",
                      cwd=tmp_path), 0)
    assert proc.stdout == taobao_jsonl
    assert (tmp_path / "rejects.jsonl").read_text(encoding="utf-8") == ""


def test_score_bad_records_leave_an_existing_output_file_untouched(tmp_path):
    records = _three_bad_records(tmp_path)
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    before = out.stat()
    proc = expect(run("score", TAOBAO, records, "-o", "out.jsonl", "--format", "jsonl", cwd=tmp_path), 2)
    assert proc.stdout == ""
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert out.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "records.jsonl"]


def test_score_duplicate_agent_and_period(tmp_path):
    recs = sample_records("taobao_aftersales")[:3]
    recs.append(dict(recs[0]))
    proc = expect(run("score", TAOBAO, write_jsonl(tmp_path / "dup.jsonl", recs)), 2)
    assert proc.stdout == ""
    line = next(line for line in proc.stderr.splitlines() if line.startswith("record 4"))
    assert "period" in line and "张伟" in line
    assert "nothing was scored" in proc.stderr


def test_score_unknown_extra_field_and_allow_extra(tmp_path, taobao_jsonl):
    recs = sample_records("taobao_aftersales")
    for r in recs:
        r["备注"] = "note"
    path = write_csv(tmp_path / "extra.csv", recs)
    proc = expect(run("score", TAOBAO, path, "--format", "jsonl"), 2)
    assert proc.stdout == ""
    assert "备注" in proc.stderr
    ok = expect(run("score", TAOBAO, path, "--format", "jsonl", "--allow-extra"), 0)
    assert ok.stdout == taobao_jsonl
    assert ok.stderr == ""


def test_score_csv_with_bom(tmp_path, taobao_jsonl):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + TAOBAO_CSV.read_bytes().lstrip(b"\xef\xbb\xbf"))
    proc = expect(run("score", TAOBAO, path, "--format", "jsonl"), 0)
    assert proc.stdout == taobao_jsonl


def test_score_gbk_csv(tmp_path, taobao_jsonl):
    path = tmp_path / "gbk.csv"
    path.write_bytes(TAOBAO_CSV.read_text(encoding="utf-8-sig").encode("gbk"))
    ok = expect(run("score", TAOBAO, path, "--encoding", "gbk", "--format", "jsonl"), 0)
    assert ok.stdout == taobao_jsonl
    bad = expect(run("score", TAOBAO, path, "--format", "jsonl"), 2)
    assert bad.stdout == ""
    assert "gbk.csv" in bad.stderr and "UTF-8" in bad.stderr
    assert "--encoding" in bad.stderr  # says how to fix it


def test_score_unknown_encoding(tmp_path):
    proc = expect(run("score", TAOBAO, TAOBAO_CSV, "--encoding", "no-such-codec"), 2)
    assert proc.stdout == "" and "no-such-codec" in proc.stderr


def test_score_nonexistent_records_file(tmp_path):
    proc = expect(run("score", TAOBAO, "missing.csv", cwd=tmp_path), 2)
    assert proc.stdout == ""
    assert "missing.csv" in proc.stderr


def test_score_unreadable_records_file(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    proc = expect(run("score", TAOBAO, "folder.csv", cwd=tmp_path), 2)
    assert proc.stdout == ""
    assert "folder.csv" in proc.stderr


def test_score_malformed_json_records(tmp_path):
    (tmp_path / "r.jsonl").write_text('{"agent": "张伟", \n', encoding="utf-8")
    proc = expect(run("score", TAOBAO, "r.jsonl", cwd=tmp_path), 2)
    assert proc.stdout == "" and "r.jsonl" in proc.stderr


def test_score_nonexistent_policy(tmp_path):
    proc = expect(run("score", "nope.policy", TAOBAO_CSV, cwd=tmp_path), 2)
    assert proc.stdout == "" and "nope.policy" in proc.stderr


def test_score_policy_that_does_not_check(tmp_path):
    (tmp_path / "bad.policy").write_text(BAD_POLICY, encoding="utf-8")
    proc = expect(run("score", "bad.policy", TAOBAO_CSV, "--format", "jsonl", cwd=tmp_path), 1)
    assert proc.stdout == ""
    assert "E201" in proc.stderr and "bad.policy:6:28" in proc.stderr


def test_score_nan_and_negative_count_are_bad_records(tmp_path):
    recs = sample_records("taobao_aftersales")[:3]
    recs[0]["refund_rate"] = "NaN"
    recs[2]["late"] = "-1"
    proc = expect(run("score", TAOBAO, write_jsonl(tmp_path / "r.jsonl", recs)), 2)
    lines = proc.stderr.splitlines()
    assert any(line.startswith("record 1") and "refund_rate" in line and "NaN" in line for line in lines)
    assert any(line.startswith("record 3") and "late" in line for line in lines)


def _team_records(pool_of_first: str) -> list[dict]:
    recs = [r for r in sample_records("team_kpi_2024") if r["period"] == "2026-09"]
    assert len(recs) == 4 and {r["team"] for r in recs} == {"A组"}
    recs[0]["bonus_pool"] = pool_of_first
    return recs


def test_score_team_level_input_that_differs_uses_one_based_record_numbers(tmp_path):
    # The team's bonus pool must be the same on every record of the team.
    recs = _team_records("10000")
    recs[1]["bonus_pool"] = "999"
    proc = expect(run("score", TEAM, write_jsonl(tmp_path / "r.jsonl", recs)), 2)
    line = next(line for line in proc.stderr.splitlines() if line.startswith("record 2"))
    assert "bonus_pool" in line
    # The CLI numbers records from 1: the other record must not be called "record #0".
    assert not re.search(r"record #?0\b", proc.stderr), describe(proc)


def test_score_rejects_never_scores_the_odd_record_of_a_team_alone(tmp_path):
    # Record 1 has a bonus pool of 999 where its three teammates have 10000.
    # Whichever way policyc resolves the conflict, the odd record must not be
    # scored on its own with its own pool while its teammates are rejected.
    recs = _team_records("999")
    proc = expect(run("score", TEAM, write_jsonl(tmp_path / "r.jsonl", recs),
                      "--rejects", "rejects.jsonl", "--format", "jsonl", cwd=tmp_path), 0)
    rejected = {json.loads(line)["record"]
                for line in (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()}
    assert 1 in rejected, describe(proc) + f"\nrejected records: {sorted(rejected)}"


# ═════════════════════════════ explain ═════════════════════════════


def test_explain_one_agent():
    proc = expect(run("explain", TAOBAO, TAOBAO_CSV, "--agent", "张伟"), 0)
    out = proc.stdout
    assert proc.stderr == ""
    assert "张伟" in out and "2026-11" in out
    for item in ("quality", "disputes", "cooperation", "execution", "refund", "attendance"):
        assert f"item {item} = " in out
    assert "item refund = 30 of 30 pts" in out
    assert "refund_rate = 0.045" in out
    assert "row `<= 5% -> 30` matched" in out
    assert "row `优 -> 20` matched" in out
    assert "pay kpi_bonus = 930.77" in out
    assert "rounded 930.76923076923076923077 to 930.77 (step 0.01, half_up)" in out
    assert "pay salary = 2930.77" in out


def test_explain_agent_with_several_periods_needs_period():
    proc = expect(run("explain", PDD, PDD_CSV, "--agent", "陈静"), 2)
    assert proc.stdout == ""
    assert "--period" in proc.stderr
    for period in ("2026-09", "2026-10", "2026-11"):
        assert period in proc.stderr
    ok = expect(run("explain", PDD, PDD_CSV, "--agent", "陈静", "--period", "2026-10"), 0)
    assert "陈静" in ok.stdout and "2026-10" in ok.stdout
    assert "let slow = " in ok.stdout  # `let` values are explained too
    assert ok.stderr == ""


def test_explain_unknown_agent():
    proc = expect(run("explain", TAOBAO, TAOBAO_CSV, "--agent", "无此人"), 2)
    assert proc.stdout == ""
    assert "无此人" in proc.stderr


def test_explain_unknown_period():
    proc = expect(run("explain", TAOBAO, TAOBAO_CSV, "--agent", "张伟", "--period", "2030-01"), 2)
    assert proc.stdout == ""
    assert "2030-01" in proc.stderr


def test_explain_with_bad_records(tmp_path):
    proc = expect(run("explain", TAOBAO, _three_bad_records(tmp_path), "--agent", "张伟"), 2)
    assert proc.stdout == ""
    assert "record 2" in proc.stderr and "record 3" in proc.stderr and "record 5" in proc.stderr


def test_explain_policy_that_does_not_check(tmp_path):
    (tmp_path / "bad.policy").write_text(BAD_POLICY, encoding="utf-8")
    proc = expect(run("explain", "bad.policy", TAOBAO_CSV, "--agent", "张伟", cwd=tmp_path), 1)
    assert proc.stdout == "" and "E201" in proc.stderr


# ═════════════════════════════ compile ═════════════════════════════

# Runs in `python -I` with cwd = the folder of the compiled module. Only the
# standard library may be importable: site-packages and anything a .pth file
# added (an editable install of policyc) are taken off sys.path.
_ISOLATED = r'''
import sys, os, json, csv, importlib
from decimal import Decimal
sys.path[:] = [p for p in sys.path
               if p.startswith(sys.base_prefix) and "site-packages" not in p and "dist-packages" not in p]
for name in ("policyc", "lark", "attrs", "rich"):
    try:
        importlib.import_module(name)
    except ImportError:
        pass
    else:
        raise SystemExit("ISOLATION BROKEN: %s is importable" % name)
sys.path.insert(0, os.getcwd())

def dump(v):
    if v is None: return "null"
    if v is True: return "true"
    if v is False: return "false"
    if type(v) is float: raise SystemExit("FLOAT in the results: %r" % v)
    if isinstance(v, Decimal): return format(v, "f")
    if isinstance(v, int): return str(v)
    return json.dumps(v, ensure_ascii=False)

def line(d):
    return "{" + ", ".join(json.dumps(k, ensure_ascii=False) + ": " + dump(v) for k, v in d.items()) + "}"

module_name, records_path, mode = sys.argv[1:4]
mod = importlib.import_module(module_name)
assert not any(m == "policyc" or m.startswith("policyc.") for m in sys.modules), "policyc was imported"
with open(records_path, encoding="utf-8-sig", newline="") as f:
    records = list(csv.DictReader(f))
if mode == "batch":
    out = mod.score_batch(records)
else:
    out = [mod.score(r) for r in records]
for rec, d in zip(records, out):
    sys.stdout.write(line({"agent": rec["agent"], "period": rec["period"], **d}) + "\n")
'''


def run_isolated(tmp_path: Path, script: str, *args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-I", "-c", script, *map(str, args)], cwd=tmp_path,
                          capture_output=True, encoding="utf-8", errors="backslashreplace", timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
                          | {"PYTHONIOENCODING": "utf-8"})
    return proc


def _is_per_record(name: str) -> bool:
    """True if the policy has no cohort or history rule (a record scores alone)."""
    text = (POLICIES / f"{name}.policy").read_text(encoding="utf-8")
    return not re.search(r"\bover\b|\bstreak\(|\bprevious\(|^cohort\b", text, re.M)


def test_sample_policies_include_per_record_and_batch_ones():
    kinds = {_is_per_record(n) for n in SAMPLE_POLICIES}
    assert kinds == {True, False}


@pytest.mark.parametrize("name", SAMPLE_POLICIES)
def test_compiled_module_agrees_with_score(tmp_path, name):
    module = f"{name}_policy"
    proc = expect(run("compile", POLICIES / f"{name}.policy", "-o", f"{module}.py", cwd=tmp_path), 0)
    assert proc.stdout == ""
    assert (tmp_path / f"{module}.py").is_file()
    cli = expect(run("score", POLICIES / f"{name}.policy", SAMPLES / f"{name}.csv", "--format", "jsonl"), 0)
    want = number_texts(cli.stdout)
    assert len(want) == len(sample_records(name))
    modes = ["batch", "one"] if _is_per_record(name) else ["batch"]
    for mode in modes:
        got = run_isolated(tmp_path, _ISOLATED, module, SAMPLES / f"{name}.csv", mode)
        assert got.returncode == 0, f"mode {mode}\n" + describe(got)
        rows = number_texts(got.stdout)
        assert len(rows) == len(want)
        for i, (g, w) in enumerate(zip(rows, want)):
            assert {k: g.get(k) for k in w} == w, f"{name} record {i + 1} ({mode}): compiled module != policyc score"


def test_compiled_module_record_errors(tmp_path):
    expect(run("compile", TAOBAO, "-o", "tb.py", cwd=tmp_path), 0)
    script = _ISOLATED.split("module_name, records_path")[0] + r'''
import tb
good = {"agent": "张伟", "period": "2026-11", "level": "normal", "quality_grade": "优",
        "disputes_grade": "良", "cooperation_grade": "优", "execution_grade": "良",
        "refund_rate": "0.045", "late": 1, "leave": 0, "absent": 0, "low_reviews": 0,
        "complaints": 0, "praises": 3, "complaint_points": 0, "standout": 0}
assert str(tb.score(good)["salary"]) == "2930.77", tb.score(good)
bad = dict(good, quality_grade="好")
try:
    tb.score(bad)
except tb.RecordError as e:
    assert [(x.index, x.field) for x in e.errors] == [(0, "quality_grade")], e.errors
else:
    raise SystemExit("score accepted a bad record")
batch = [good, dict(good, agent="a", refund_rate=5), dict(good, agent="b"), dict(good, agent="c", late=-1)]
try:
    tb.score_batch(batch)
except tb.RecordError as e:
    assert sorted((x.index, x.field) for x in e.errors) == [(1, "refund_rate"), (3, "late")], e.errors
else:
    raise SystemExit("score_batch accepted bad records")
print("ok")
'''
    proc = run_isolated(tmp_path, script)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", describe(proc)


def test_compiled_score_raises_for_a_record_that_is_not_a_dict(tmp_path):
    # README: `python -c "import taobao_policy; print(taobao_policy.score({...}))"`
    expect(run("compile", TAOBAO, "-o", "taobao_policy.py", cwd=tmp_path), 0)
    script = _ISOLATED.split("module_name, records_path")[0] + r'''
import taobao_policy
for bad in ({...}, "text", None, ["张伟"]):
    try:
        r = taobao_policy.score(bad)
    except taobao_policy.RecordError:
        continue
    raise SystemExit("score(%r) returned %r instead of raising RecordError" % (bad, r))
print("ok")
'''
    proc = run_isolated(tmp_path, script)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", describe(proc)


def test_compile_policy_that_does_not_check(tmp_path):
    (tmp_path / "bad.policy").write_text(BAD_POLICY, encoding="utf-8")
    proc = expect(run("compile", "bad.policy", "-o", "bad_policy.py", cwd=tmp_path), 1)
    assert proc.stdout == ""
    assert "E201" in proc.stderr
    assert not (tmp_path / "bad_policy.py").exists()


def test_compile_to_a_folder_that_does_not_exist(tmp_path):
    proc = expect(run("compile", TAOBAO, "-o", tmp_path / "no" / "such" / "x.py"), 2)
    assert proc.stdout == ""
    assert "x.py" in proc.stderr


def test_compile_missing_policy(tmp_path):
    proc = expect(run("compile", "nope.policy", "-o", "x.py", cwd=tmp_path), 2)
    assert proc.stdout == "" and "nope.policy" in proc.stderr
    assert not (tmp_path / "x.py").exists()


@pytest.mark.parametrize("doc", ["README.md", "docs/language.md"])
def test_the_first_policy_a_reader_sees_checks_clean(doc, tmp_path, capsys):
    """The opening example of the README and of the language reference is a whole policy: it
    checks with no finding at all (warnings denied), so that a reader who copies it starts clean."""
    text = (REPO / doc).read_text(encoding="utf-8")
    block = re.search(r"```\n((?:#[^\n]*\n)?policy .*?)```", text, re.S).group(1)
    path = tmp_path / "first.policy"
    path.write_text(block, encoding="utf-8")
    from policyc.cli import main as cli_main

    code = cli_main(["check", str(path), "--deny-warnings"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "0 error(s), 0 warning(s)" in out + err
