"""Helpers for the acceptance harness (tests/test_acceptance.py).

- where things are (repository, ``src``, policies, acceptance cases);
- loading case files with exact decimals (``parse_float=Decimal``);
- writing records as JSON / JSON Lines with the numbers' exact text;
- running the CLI as ``python -m policyc`` with ``src`` on ``PYTHONPATH``;
- comparing results with expectations (``compare_outputs``), as the
  acceptance README says: numbers as numbers, ``_approx`` outputs rounded
  half-up to 6 decimals, booleans only as booleans, lists as lists, labels
  as strings.
"""

from __future__ import annotations

import copy
import decimal
import json
import os
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
POLICIES_DIR = REPO / "policies"
CASES_DIR = REPO / "tests" / "acceptance"

#: The eight acceptance policies; each has ``policies/<name>.policy`` and
#: ``tests/acceptance/<name>.json``.
POLICY_NAMES = (
    "douyin_service",
    "pdd_deduction",
    "taobao_aftersales",
    "presales_tiers",
    "team_kpi_2024",
    "service_standard",
    "shop_pay",
    "aftersales_veto",
)

APPROX_KEY = "_approx"
APPROX_QUANTUM = Decimal("0.000001")

# An expected number is a string of an exact decimal: "91", "-3", "0.85".
NUMBER_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def ensure_src_on_path() -> None:
    """Make ``import policyc`` find the repository's package."""
    src = str(SRC)
    if src not in sys.path:
        sys.path.insert(0, src)


# --------------------------------------------------------------------------
# case files


def policy_path(name: str) -> Path:
    return POLICIES_DIR / f"{name}.policy"


def load_case(name: str) -> dict:
    """A case file, numbers with a fraction part read as ``Decimal``."""
    with open(CASES_DIR / f"{name}.json", encoding="utf-8") as f:
        return json.load(f, parse_float=Decimal)


def load_all_cases() -> dict[str, dict]:
    return {name: load_case(name) for name in POLICY_NAMES}


def fresh(obj: Any) -> Any:
    """A deep copy, so the code under test never shares case data."""
    return copy.deepcopy(obj)


def slug(text: str, limit: int = 40) -> str:
    """An ASCII-only fragment of ``text`` for a test id."""
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s[:limit].rstrip("-") or "case"


def allowed_fields(case: Mapping) -> set[str]:
    """The field names a reject's error may name: ``field`` and ``fields``."""
    names = set(case.get("fields") or ())
    if case.get("field"):
        names.add(case["field"])
    return names


def expected_errors(case: Mapping) -> list[tuple[int, str]]:
    """A batch reject's ``errors`` as ``(index, field)`` pairs (0-based).

    Accepts ``{"index": i, "field": f}`` objects and ``[i, f]`` pairs.
    """
    out = []
    for e in case.get("errors") or ():
        if isinstance(e, Mapping):
            out.append((int(e["index"]), str(e["field"])))
        else:
            i, f = e
            out.append((int(i), str(f)))
    return out


# --------------------------------------------------------------------------
# exact JSON


def exact_number_text(d: Decimal) -> str:
    """The plain decimal text of ``d``: never an exponent, trailing zeros kept."""
    if not d.is_finite():
        raise ValueError(f"not a finite number: {d!r}")
    return format(d, "f")


def dumps_exact(obj: Any) -> str:
    """JSON text of ``obj`` on one line, ``Decimal`` written with its exact text.

    Floats are refused: they have no exact text to give.
    """
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, Decimal):
        return exact_number_text(obj)
    if isinstance(obj, float):
        raise TypeError(f"refusing to write a float exactly: {obj!r}")
    if isinstance(obj, str):
        return json.dumps(obj, ensure_ascii=False)
    if isinstance(obj, Mapping):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}: {dumps_exact(v)}" for k, v in obj.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(dumps_exact(v) for v in obj) + "]"
    raise TypeError(f"cannot write {type(obj).__name__} as JSON: {obj!r}")


def write_json(path: Path, obj: Any) -> Path:
    Path(path).write_text(dumps_exact(obj) + "\n", encoding="utf-8")
    return Path(path)


def write_jsonl(path: Path, records: Iterable[Mapping]) -> Path:
    Path(path).write_text("".join(dumps_exact(r) + "\n" for r in records), encoding="utf-8")
    return Path(path)


def loads_exact(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


# --------------------------------------------------------------------------
# running the CLI


def subprocess_env() -> dict[str, str]:
    """The environment for ``python -m policyc``: ``src`` first on PYTHONPATH."""
    env = dict(os.environ)
    old = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + old if old else "")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_cli(*args: str | os.PathLike, cwd: str | os.PathLike | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m policyc ARGS``; stdout and stderr captured separately."""
    return subprocess.run(
        [sys.executable, "-m", "policyc", *map(str, args)],
        cwd=cwd,
        env=subprocess_env(),
        capture_output=True,
        encoding="utf-8",
        errors="backslashreplace",
        timeout=timeout,
    )


def describe_run(proc: subprocess.CompletedProcess) -> str:
    args = [a if len(a) <= 200 else a[:60] + "...<script>" for a in map(str, proc.args)]
    return (f"command: {' '.join(args)}\nexit status: {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")


# --------------------------------------------------------------------------
# comparing results with expectations


def _type_name(v: Any) -> str:
    return type(v).__name__


def _as_number(v: Any) -> Decimal | None:
    """``v`` as a Decimal when it is one of the documented number types.

    Outputs are ``int`` (counts) or ``Decimal``; ``bool`` is not a number
    here, and floats or Fractions are not a documented output type.
    """
    if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
        return None
    return Decimal(str(v))


def compare_value(name: str, expected: Any, actual: Any, approx: bool = False) -> list[str]:
    """Problems with one output value (an empty list when it matches)."""
    if isinstance(expected, bool):
        if type(actual) is not bool:
            return [f"{name}: expected the boolean {expected}, got {_type_name(actual)} {actual!r}"]
        if actual is not expected:
            return [f"{name}: expected {expected}, got {actual}"]
        return []
    if expected is None:
        if actual is not None:
            return [f"{name}: expected None (N/A), got {_type_name(actual)} {actual!r}"]
        return []
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{name}: expected a list {expected!r}, got {_type_name(actual)} {actual!r}"]
        if len(actual) != len(expected):
            return [f"{name}: expected {expected!r} ({len(expected)} items), got {actual!r} ({len(actual)} items)"]
        problems = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            problems += compare_value(f"{name}[{i}]", e, a)
        return problems
    if isinstance(expected, (int, Decimal)) or (isinstance(expected, str) and NUMBER_RE.fullmatch(expected)):
        want = Decimal(str(expected))
        got = _as_number(actual)
        if got is None:
            return [f"{name}: expected the number {expected}, got {_type_name(actual)} {actual!r}"]
        try:
            if approx:
                with decimal.localcontext() as ctx:
                    ctx.prec = 200
                    got = got.quantize(APPROX_QUANTUM, rounding=ROUND_HALF_UP)
            equal = got == want
        except decimal.DecimalException as exc:
            return [f"{name}: cannot compare {actual!r} with {expected}: {exc!r}"]
        if not equal:
            how = " (rounded half-up to 6 decimals)" if approx else ""
            return [f"{name}: expected {expected}, got {actual!r}{how}"]
        return []
    if isinstance(expected, str):
        if approx:
            return [f"{name}: listed in _approx but the expected value {expected!r} is not a number"]
        if not isinstance(actual, str):
            return [f"{name}: expected the label {expected!r}, got {_type_name(actual)} {actual!r}"]
        if actual != expected:
            return [f"{name}: expected {expected!r}, got {actual!r}"]
        return []
    return [f"{name}: unsupported expectation {expected!r}"]


def compare_outputs(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Problems with a result's outputs against one ``expect`` entry.

    Every expected key must be present; ``_approx`` is not an output.
    Outputs the expectation does not mention are not checked.
    """
    approx = set(expected.get(APPROX_KEY) or ())
    problems = []
    for name in approx:
        if name not in expected:
            problems.append(f"_approx names {name!r}, which the expectation does not list")
    for name, want in expected.items():
        if name == APPROX_KEY:
            continue
        if name not in actual:
            problems.append(f"{name}: missing from the result (has: {', '.join(map(str, actual))})")
            continue
        problems += compare_value(name, want, actual[name], approx=name in approx)
    return problems


def assert_outputs(expected: Mapping[str, Any], actual: Mapping[str, Any], where: str = "") -> None:
    problems = compare_outputs(expected, actual)
    if problems:
        head = f"{where}: " if where else ""
        raise AssertionError(head + "outputs differ from the expectation:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------
# record issues (policyc.RecordIssue or the compiled module's equivalent)


def issue_attr(issue: Any, name: str) -> Any:
    if isinstance(issue, Mapping):
        return issue.get(name)
    return getattr(issue, name, None)


def issue_summary(issue: Any) -> dict:
    return {k: issue_attr(issue, k) for k in ("index", "agent", "period", "field", "fields", "reason")}


def issue_names(issue: Any, spanning: bool) -> set[str]:
    """The fields an issue names: its ``field``, and its ``fields`` when the
    case is about a constraint spanning several fields."""
    names = set()
    if issue_attr(issue, "field") is not None:
        names.add(str(issue_attr(issue, "field")))
    if spanning:
        names.update(str(f) for f in issue_attr(issue, "fields") or ())
    return names


def check_reject_issues(issues: list[Any], case: Mapping, batch: bool) -> list[str]:
    """Problems with the issues a rejected record / batch produced.

    - single reject: some issue for record 0 names ``field`` (or one of ``fields``);
    - batch reject: every ``(index, field)`` in ``errors`` appears among the
      issues; with only ``field``, some issue names it.
    """
    summaries = [issue_summary(i) for i in issues]
    if not issues:
        return ["RecordError carries no issues"]
    spanning = bool(case.get("fields"))
    allowed = allowed_fields(case)
    problems = []
    if batch and case.get("errors"):
        present = set()
        for i in issues:
            for n in issue_names(i, spanning=True):
                present.add((issue_attr(i, "index"), n))
        for pair in expected_errors(case):
            if pair not in present:
                problems.append(f"no issue for record index {pair[0]} naming field {pair[1]!r}")
    if not batch or not case.get("errors"):
        ok = any(
            issue_names(i, spanning) & allowed and (batch or issue_attr(i, "index") == 0)
            for i in issues
        )
        if not ok:
            want = " or ".join(sorted(allowed))
            where = "" if batch else " for record index 0"
            problems.append(f"no issue{where} names {want}")
    if problems:
        problems.append(f"issues were: {summaries}")
    return problems
