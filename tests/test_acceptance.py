"""Acceptance cases (tests/acceptance/<policy>.json) through three paths.

1. the Python API: ``policyc.load(...).score_batch(records)``;
2. the CLI: ``python -m policyc score POLICY RECORDS.jsonl --format jsonl``;
3. the compiled module: ``python -m policyc compile POLICY -o X_policy.py``,
   imported in a subprocess that cannot import policyc (``python -I`` with
   site-packages stripped from ``sys.path``).

Nothing here skips: if policyc cannot be imported, or a policy does not
load or compile, the tests for it fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import namedtuple
from decimal import Decimal
from fractions import Fraction

import pytest

from helpers import (
    CASES_DIR,
    POLICIES_DIR,
    POLICY_NAMES,
    allowed_fields,
    assert_outputs,
    check_reject_issues,
    compare_outputs,
    describe_run,
    dumps_exact,
    ensure_src_on_path,
    expected_errors,
    fresh,
    issue_summary,
    load_all_cases,
    loads_exact,
    policy_path,
    run_cli,
    slug,
    subprocess_env,
    write_json,
    write_jsonl,
)

CASES = load_all_cases()


def _params(kind: str) -> list:
    """(policy, index) for every case of one kind, with readable ASCII ids."""
    tag = {"batches": "b", "rejects": "r", "batch_rejects": "br"}[kind]
    out = []
    for name in POLICY_NAMES:
        for i, case in enumerate(CASES[name].get(kind) or ()):
            out.append(pytest.param(name, i, id=f"{name}-{tag}{i}-{slug(case['name'])}"))
    return out


BATCHES = _params("batches")
REJECTS = _params("rejects")
BATCH_REJECTS = _params("batch_rejects")
# An empty parameter list would make pytest skip; the case files guarantee these.
assert BATCHES and REJECTS and BATCH_REJECTS, "acceptance case files hold no cases"


def _fail(msg: str) -> None:
    pytest.fail(msg, pytrace=False)


# ==========================================================================
# the case files themselves


def test_case_files_are_the_eight_policies():
    on_disk = sorted(p.stem for p in CASES_DIR.glob("*.json"))
    assert on_disk == sorted(POLICY_NAMES)
    for name, case in CASES.items():
        assert case["policy"] == name
        for batch in case["batches"]:
            assert len(batch["records"]) == len(batch["expect"]), batch["name"]


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_policy_file_exists(name):
    assert policy_path(name).is_file(), f"missing {policy_path(name)}"


# ==========================================================================
# 1. Python API


@pytest.fixture(scope="session")
def policyc():
    ensure_src_on_path()
    import policyc as module  # an ImportError here fails the tests (no skip)

    return module


@pytest.fixture(scope="session")
def load_policy(policyc):
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            try:
                cache[name] = (True, policyc.load(policy_path(name)))
            except Exception as exc:  # noqa: BLE001 - reported in every test of the policy
                diags = getattr(exc, "diagnostics", None) or ()
                text = "\n".join(str(d) for d in diags)
                cache[name] = (False, f"policyc.load({policy_path(name)}) raised {exc!r}\n{text}")
        ok, value = cache[name]
        if not ok:
            _fail(value)
        return value

    return get


@pytest.mark.parametrize("name, index", BATCHES)
def test_api_batch(load_policy, name, index):
    batch = CASES[name]["batches"][index]
    policy = load_policy(name)
    results = policy.score_batch(fresh(batch["records"]))
    assert len(results) == len(batch["records"]), "one result per record, in input order"
    problems = []
    for i, (record, expect, result) in enumerate(zip(batch["records"], batch["expect"], results)):
        if result.agent != record["agent"] or str(result.period) != record["period"]:
            problems.append(f"record {i}: result is for ({result.agent!r}, {str(result.period)!r}), "
                            f"expected ({record['agent']!r}, {record['period']!r})")
        problems += [f"record {i}: {p}" for p in compare_outputs(expect, result.outputs)]
    if problems:
        _fail(f"{name} / {batch['name']}:\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("name, index", REJECTS)
def test_api_reject(policyc, load_policy, name, index):
    case = CASES[name]["rejects"][index]
    policy = load_policy(name)
    with pytest.raises(policyc.RecordError) as info:
        policy.score_batch([fresh(case["record"])])
    problems = check_reject_issues(list(info.value.errors), case, batch=False)
    if problems:
        _fail(f"{name} / {case['name']}:\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("name, index", BATCH_REJECTS)
def test_api_batch_reject(policyc, load_policy, name, index):
    case = CASES[name]["batch_rejects"][index]
    policy = load_policy(name)
    with pytest.raises(policyc.RecordError) as info:
        policy.score_batch(fresh(case["records"]))
    problems = check_reject_issues(list(info.value.errors), case, batch=True)
    if problems:
        _fail(f"{name} / {case['name']}:\n  " + "\n  ".join(problems))


# ==========================================================================
# 2. CLI


def _parse_jsonl_stdout(proc) -> list[dict]:
    rows = []
    for n, line in enumerate(proc.stdout.splitlines(), 1):
        try:
            row = loads_exact(line)
        except ValueError:
            row = None
        if row is None:
            _fail(f"stdout line {n} is not JSON (diagnostics must go to stderr): {line!r}\n"
                  + describe_run(proc))
        if not isinstance(row, dict):
            _fail(f"stdout line {n} is not a JSON object: {line!r}")
        rows.append(row)
    return rows


@pytest.mark.parametrize("name, index", BATCHES)
def test_cli_batch(tmp_path, name, index):
    batch = CASES[name]["batches"][index]
    records = write_jsonl(tmp_path / "records.jsonl", batch["records"])
    proc = run_cli("score", policy_path(name), records, "--format", "jsonl", cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    rows = _parse_jsonl_stdout(proc)
    assert len(rows) == len(batch["records"]), "one line per record\n" + describe_run(proc)
    problems = []
    for i, (record, expect, row) in enumerate(zip(batch["records"], batch["expect"], rows)):
        if row.get("agent") != record["agent"] or row.get("period") != record["period"]:
            problems.append(f"line {i + 1}: agent/period ({row.get('agent')!r}, {row.get('period')!r}), "
                            f"expected ({record['agent']!r}, {record['period']!r})")
        problems += [f"line {i + 1}: {p}" for p in compare_outputs(expect, row)]
    if problems:
        _fail(f"{name} / {batch['name']}:\n  " + "\n  ".join(problems) + "\n" + describe_run(proc))


def _check_cli_reject(proc, names_all: list[str], names_any: set[str]) -> None:
    assert proc.returncode == 2, "bad records exit with status 2\n" + describe_run(proc)
    assert proc.stdout == "", "nothing may be written to stdout\n" + describe_run(proc)
    for field in names_all:
        assert field in proc.stderr, f"stderr does not mention {field!r}\n" + describe_run(proc)
    if names_any:
        assert any(f in proc.stderr for f in names_any), (
            f"stderr mentions none of {sorted(names_any)}\n" + describe_run(proc))


@pytest.mark.parametrize("name, index", REJECTS)
def test_cli_reject(tmp_path, name, index):
    case = CASES[name]["rejects"][index]
    records = write_jsonl(tmp_path / "records.jsonl", [case["record"]])
    proc = run_cli("score", policy_path(name), records, "--format", "jsonl", cwd=tmp_path)
    _check_cli_reject(proc, [], allowed_fields(case))


@pytest.mark.parametrize("name, index", BATCH_REJECTS)
def test_cli_batch_reject(tmp_path, name, index):
    case = CASES[name]["batch_rejects"][index]
    records = write_jsonl(tmp_path / "records.jsonl", case["records"])
    proc = run_cli("score", policy_path(name), records, "--format", "jsonl", cwd=tmp_path)
    errors = [field for _, field in expected_errors(case)]
    _check_cli_reject(proc, errors, set() if errors else allowed_fields(case))


# ==========================================================================
# 3. compiled module, imported where policyc cannot be

# Run as `python -I -c MODULE_SCRIPT MODDIR MODNAME CASES_JSON`: keeps only the
# standard library on sys.path, imports the module, checks that policyc was
# not (and cannot be) imported, scores every case and prints one JSON object.
MODULE_SCRIPT = r'''
import importlib, importlib.util, json, os, sys, traceback
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

moddir, modname, cases_path = sys.argv[1:4]
base = os.path.realpath(sys.base_prefix)

def stdlib_path(p):
    if not p:
        return False
    rp = os.path.realpath(p)
    return ((rp == base or rp.startswith(base + os.sep))
            and "site-packages" not in rp and "dist-packages" not in rp)

sys.path[:] = [p for p in sys.path if stdlib_path(p)]
sys.meta_path[:] = [f for f in sys.meta_path
                    if getattr(f, "__module__", "") in ("_frozen_importlib", "_frozen_importlib_external")]
sys.path_importer_cache.clear()
importlib.invalidate_caches()
assert importlib.util.find_spec("policyc") is None, "policyc importable before the module path is added"

before = set(sys.modules)
sys.path.insert(0, moddir)
mod = importlib.import_module(modname)
assert "policyc" not in sys.modules, "the compiled module imported policyc"
assert importlib.util.find_spec("policyc") is None, "policyc is importable next to the compiled module"
moddir_real = os.path.realpath(moddir)
for n in sorted(set(sys.modules) - before):
    f = getattr(sys.modules[n], "__file__", None)
    if f:
        rf = os.path.realpath(f)
        assert rf.startswith(base + os.sep) or rf.startswith(moddir_real + os.sep), (
            "compiled module imported a non-stdlib module: %s (%s)" % (n, f))
for attr in ("score", "score_batch", "RecordError", "INPUTS", "OUTPUTS", "POLICY"):
    assert hasattr(mod, attr), "compiled module has no %s" % attr

def enc(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, Decimal):
        return {"$decimal": str(v)}
    if isinstance(v, Fraction):
        return {"$fraction": str(v)}
    if isinstance(v, float):
        return {"$float": repr(v)}
    if isinstance(v, list):
        return [enc(x) for x in v]
    if isinstance(v, tuple):
        return {"$tuple": [enc(x) for x in v]}
    return {"$other": "%s: %r" % (type(v).__name__, v)}

def issue(i):
    get = (lambda k: i.get(k)) if isinstance(i, Mapping) else (lambda k: getattr(i, k, None))
    return {k: enc(get(k)) for k in ("index", "agent", "period", "field", "fields", "reason")}

def score(records, expect_error):
    try:
        results = mod.score_batch(records)
    except mod.RecordError as e:
        errors = list(getattr(e, "errors", None) or ())
        return {"raised": True, "message": str(e), "issues": [issue(i) for i in errors]}
    except Exception:
        return {"raised": "other", "error": traceback.format_exc()}
    if expect_error:
        return {"raised": False, "results": repr(results)[:2000]}
    out = []
    for r in results:
        if not isinstance(r, Mapping):
            return {"raised": "other", "error": "result is not a dict: %r" % (r,)}
        out.append({str(k): enc(v) for k, v in r.items()})
    return {"raised": False, "results": out}

with open(cases_path, encoding="utf-8") as f:
    cases = json.load(f, parse_float=Decimal)
print(json.dumps({
    "batches": [score(b, False) for b in cases["batches"]],
    "rejects": [score([r], True) for r in cases["rejects"]],
    "batch_rejects": [score(b, True) for b in cases["batch_rejects"]],
}))
'''


def _decode(v):
    """Undo the module script's tagging of non-JSON values."""
    if isinstance(v, list):
        return [_decode(x) for x in v]
    if isinstance(v, dict) and len(v) == 1:
        (tag, x), = v.items()
        if tag == "$decimal":
            return Decimal(x)
        if tag == "$fraction":
            return Fraction(x)
        if tag == "$float":
            return float(x)
        if tag == "$tuple":
            return tuple(_decode(y) for y in x)
        if tag == "$other":
            return f"<{x}>"
    if isinstance(v, dict):
        return {k: _decode(x) for k, x in v.items()}
    return v


@pytest.fixture(scope="session")
def compiled(tmp_path_factory):
    """name -> results of every case of that policy from its compiled module.

    Compiles once per policy and runs all its cases in one isolated subprocess.
    """
    cache: dict = {}

    def run(name: str) -> dict:
        if name in cache:
            ok, value = cache[name]
            if not ok:
                _fail(value)
            return value
        moddir = tmp_path_factory.mktemp(f"compiled-{name}")
        target = moddir / f"{name}_policy.py"
        proc = run_cli("compile", policy_path(name), "-o", target, cwd=moddir)
        if proc.returncode != 0 or not target.is_file():
            cache[name] = (False, "compile failed\n" + describe_run(proc))
            return run(name)
        extra = sorted(set(os.listdir(moddir)) - {target.name, "__pycache__"})
        if extra:
            cache[name] = (False, f"compile left other files next to {target.name}: {extra}")
            return run(name)
        case = CASES[name]
        payload = {
            "batches": [b["records"] for b in case["batches"]],
            "rejects": [r["record"] for r in case.get("rejects") or ()],
            "batch_rejects": [b["records"] for b in case.get("batch_rejects") or ()],
        }
        cases_file = write_json(tmp_path_factory.mktemp(f"cases-{name}") / "cases.json", payload)
        proc = subprocess.run(
            [sys.executable, "-I", "-c", MODULE_SCRIPT, str(moddir), target.stem, str(cases_file)],
            cwd=moddir, env=subprocess_env(), capture_output=True,
            encoding="utf-8", errors="backslashreplace", timeout=300,
        )
        if proc.returncode != 0:
            cache[name] = (False, "running the compiled module failed\n" + describe_run(proc))
            return run(name)
        try:
            cache[name] = (True, _decode(json.loads(proc.stdout)))
        except ValueError:
            cache[name] = (False, "the compiled-module script printed no JSON\n" + describe_run(proc))
        return run(name)

    return run


@pytest.mark.parametrize("name, index", BATCHES)
def test_module_batch(compiled, name, index):
    batch = CASES[name]["batches"][index]
    got = compiled(name)["batches"][index]
    if got["raised"] is not False:
        _fail(f"score_batch raised:\n{got.get('error') or got.get('message')}\n{got.get('issues', '')}")
    results = got["results"]
    assert len(results) == len(batch["records"]), "one result per record, in input order"
    problems = []
    for i, (expect, result) in enumerate(zip(batch["expect"], results)):
        problems += [f"record {i}: {p}" for p in compare_outputs(expect, result)]
    if problems:
        _fail(f"{name} / {batch['name']}:\n  " + "\n  ".join(problems))


def _check_module_reject(got: dict, case: dict, batch: bool) -> None:
    if got["raised"] is False:
        _fail(f"score_batch did not raise RecordError; returned {got['results']}")
    if got["raised"] is not True:
        _fail(f"score_batch raised something other than RecordError:\n{got['error']}")
    problems = check_reject_issues(got["issues"], case, batch=batch)
    if problems:
        _fail(f"{case['name']}:\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("name, index", REJECTS)
def test_module_reject(compiled, name, index):
    _check_module_reject(compiled(name)["rejects"][index], CASES[name]["rejects"][index], batch=False)


@pytest.mark.parametrize("name, index", BATCH_REJECTS)
def test_module_batch_reject(compiled, name, index):
    _check_module_reject(compiled(name)["batch_rejects"][index],
                         CASES[name]["batch_rejects"][index], batch=True)


# ==========================================================================
# sample data (policies/samples) must be valid batches


SAMPLES = [pytest.param(name, f"{name}.csv", id=f"{name}-csv") for name in POLICY_NAMES] + [
    pytest.param("team_kpi_2024", "team_kpi_2024.jsonl", id="team_kpi_2024-jsonl")
]


@pytest.mark.parametrize("name, sample", SAMPLES)
def test_sample_scores(tmp_path, name, sample):
    path = POLICIES_DIR / "samples" / sample
    assert path.is_file(), f"missing {path}"
    if sample.endswith(".csv"):
        n_records = len(path.read_text(encoding="utf-8").splitlines()) - 1
    else:
        n_records = len([ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()])
    proc = run_cli("score", policy_path(name), path, "--format", "jsonl", cwd=tmp_path)
    assert proc.returncode == 0, describe_run(proc)
    assert len(_parse_jsonl_stdout(proc)) == n_records, describe_run(proc)


# ==========================================================================
# the harness's own helpers: they must be able to fail


def test_numbers_compare_as_numbers():
    assert compare_outputs({"pay": "2000"}, {"pay": Decimal("2000.00")}) == []
    assert compare_outputs({"pay": "2000"}, {"pay": 2000}) == []
    assert compare_outputs({"rate": "0.9"}, {"rate": Decimal("0.90")}) == []
    assert compare_outputs({"rate": "-3.5"}, {"rate": Decimal("-3.50")}) == []
    assert compare_outputs({"rate": "0.9"}, {"rate": Decimal("0.91")})
    assert compare_outputs({"pay": "2000"}, {"pay": Decimal("2000.001")})
    assert compare_outputs({"pay": "450.00"}, {"pay": "450.00"}), "a number must not match a string"
    assert compare_outputs({"x": "0.5"}, {"x": 0.5}), "floats are not a documented output type"
    assert compare_outputs({"x": "0.5"}, {"x": Fraction(1, 2)}), "Fractions are not an output type"


def test_booleans_are_not_numbers():
    assert compare_outputs({"ok": True}, {"ok": True}) == []
    assert compare_outputs({"ok": False}, {"ok": False}) == []
    assert compare_outputs({"ok": True}, {"ok": False})
    assert compare_outputs({"ok": True}, {"ok": 1})
    assert compare_outputs({"ok": False}, {"ok": 0})
    assert compare_outputs({"ok": True}, {"ok": "true"})
    assert compare_outputs({"n": "1"}, {"n": True})
    assert compare_outputs({"n": "0"}, {"n": False})


def test_approx_rounds_half_up_to_6_decimals():
    third = Decimal("0.76666666666666666667")
    assert compare_outputs({"s": "0.766667", "_approx": ["s"]}, {"s": third}) == []
    assert compare_outputs({"s": "0.766667"}, {"s": third}), "without _approx the value is exact"
    assert compare_outputs({"s": "0.000001", "_approx": ["s"]}, {"s": Decimal("0.0000005")}) == []
    assert compare_outputs({"s": "0.000001", "_approx": ["s"]}, {"s": Decimal("0.00000049")})
    assert compare_outputs({"s": "0.766667", "_approx": ["s"]}, {"s": Decimal("0.7666")})
    assert compare_outputs({"s": "1666.666667", "_approx": ["s"]}, {"s": Decimal("5000") / 3}) == []
    # _approx is not an output and need not appear in the result
    assert compare_outputs({"a": "1", "_approx": []}, {"a": 1}) == []


def test_lists_and_labels():
    assert compare_outputs({"failed": []}, {"failed": []}) == []
    assert compare_outputs({"failed": ["dsr"]}, {"failed": ["dsr"]}) == []
    assert compare_outputs({"failed": ["dsr"]}, {"failed": ["dsr", "refund_rate"]})
    assert compare_outputs({"failed": ["dsr", "refund_rate"]}, {"failed": ["refund_rate", "dsr"]})
    assert compare_outputs({"failed": ["dsr"]}, {"failed": "dsr"})
    assert compare_outputs({"failed": ["dsr"]}, {"failed": ("dsr",)})
    assert compare_outputs({"failed": []}, {"failed": None})
    assert compare_outputs({"standing": "good"}, {"standing": "good"}) == []
    assert compare_outputs({"standing": "good"}, {"standing": "warning"})
    assert compare_outputs({"standing": "good"}, {"standing": Decimal(1)})
    assert compare_outputs({"x": None}, {"x": None}) == []
    assert compare_outputs({"x": None}, {"x": 0})


def test_every_expected_key_must_be_present():
    assert compare_outputs({"a": "1", "b": "2"}, {"a": 1})
    assert compare_outputs({"a": "1"}, {"a": 1, "other": 5}) == []
    with pytest.raises(AssertionError, match="b: missing"):
        assert_outputs({"a": "1", "b": "2"}, {"a": 1})
    assert_outputs({"a": "1"}, {"a": Decimal("1.0")})


def test_exact_json_writer():
    rec = {"agent": "张伟", "period": "2026-11", "x": Decimal("0.0000001"), "y": Decimal("4.80"),
           "n": 3, "s": "NaN", "b": True, "z": None, "l": [Decimal("1.5")]}
    text = dumps_exact(rec)
    assert "\n" not in text
    assert '"张伟"' in text and "0.0000001" in text and "4.80" in text and "E" not in text
    back = loads_exact(text)
    assert back == rec and str(back["y"]) == "4.80"
    with pytest.raises(TypeError):
        dumps_exact({"x": 0.1})
    with pytest.raises(ValueError):
        dumps_exact({"x": Decimal("NaN")})


Issue = namedtuple("Issue", "index agent period field fields reason")


def test_reject_issue_matching():
    single = {"name": "c", "field": "five_star", "fields": ["five_star", "four_star", "rated"]}
    ok = [Issue(0, "a", "2026-11", "rated", ("five_star", "four_star", "rated"), "constraint")]
    assert check_reject_issues(ok, single, batch=False) == []
    assert check_reject_issues([Issue(0, "a", "p", "transferred", (), "x")], single, batch=False)
    assert check_reject_issues([Issue(1, "a", "p", "five_star", (), "x")], single, batch=False)
    assert check_reject_issues([], single, batch=False)
    plain = {"name": "c", "field": "dsr"}
    assert check_reject_issues([Issue(0, "a", "p", "dsr", None, "x")], plain, batch=False) == []
    # without `fields` in the case, only the issue's own field counts
    assert check_reject_issues([Issue(0, "a", "p", "x", ("dsr",), "x")], plain, batch=False)
    br = {"name": "c", "field": "bonus_pool"}
    assert check_reject_issues([Issue(1, "b", "p", "bonus_pool", None, "x")], br, batch=True) == []
    assert check_reject_issues([Issue(1, "b", "p", "public_sales", None, "x")], br, batch=True)
    several = {"name": "c", "errors": [{"index": 0, "field": "late"}, [2, "dsr"]]}
    both = [Issue(0, "a", "p", "late", None, "x"), Issue(2, "c", "p", "dsr", None, "y")]
    assert check_reject_issues(both, several, batch=True) == []
    assert check_reject_issues(both[:1], several, batch=True)
    assert check_reject_issues([Issue(1, "a", "p", "late", None, "x"), both[1]], several, batch=True)
    assert issue_summary({"index": 0, "field": "f"})["field"] == "f"
