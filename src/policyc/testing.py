"""`policyc test`: run the examples written in policies; report failures and coverage.

An example is scored through the same compiled code `policyc score` uses; its
expected values are compared exactly (or, with `≈`, after rounding to the
places written). Coverage replays the examples through the reference
evaluator (`interp.py`), which records every branch taken; the branches a
policy *can* take are enumerated from its IR (clamp bounds its formula can
never cross are left out, as the compiler leaves them out).
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import attrs

from . import ir
from . import runtime as rt
from .diagnostics import Span

HELP = "run the examples written in policies; report failures and coverage"

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


# ───────────────────────── results ─────────────────────────


@attrs.frozen
class Mismatch:
    """One expected value that the policy did not give."""

    check: ir.Check
    actual: str
    explanation: str


@attrs.frozen
class ExampleResult:
    example: ir.Example
    mismatches: tuple[Mismatch, ...] = ()
    problem: str | None = None  # a record rejected (or accepted) against the example's word

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.problem is None


@attrs.frozen
class Point:
    """One branch a policy can take: a table row, an if/else side, a clamp bound, …"""

    key: tuple
    definition: str
    kind: str  # row | branch | clamp | zero | na | gate | critical | segment | slice
    text: str
    span: Span


@attrs.frozen
class PolicyReport:
    file: str
    name: str | None
    results: tuple[ExampleResult, ...] = ()
    points: tuple[Point, ...] = ()
    covered: frozenset = frozenset()
    diagnostics: tuple = ()  # the policy does not check: these say why
    source: str = ""
    skipped: str | None = None  # why the policy was not tested (a counter-example)

    @property
    def failed(self) -> list[ExampleResult]:
        return [r for r in self.results if not r.passed]

    @property
    def missed(self) -> list[Point]:
        return [p for p in self.points if p.key not in self.covered]

    @property
    def percent(self) -> Fraction:
        if not self.points:
            return Fraction(100)
        return Fraction(100 * (len(self.points) - len(self.missed)), len(self.points))

    @property
    def broken(self) -> bool:
        return self.skipped is None and (bool(self.diagnostics) or self.name is None)


# ───────────────────────── running ─────────────────────────


def run_source(text: str, filename: str = "<string>") -> PolicyReport:
    """Check a policy's text and run its examples."""
    from .compiler import check_source
    from .diagnostics import Severity, has_errors
    from .policy import Policy

    checked, diags = check_source(text, filename)
    if any(d.expected for d in diags) and not any(d.code == "E314" for d in diags):
        return PolicyReport(file=filename, name=None, source=text,
                            skipped="a counter-example: the checker rejects it as it declares")
    if checked is None or has_errors(diags):
        errors = tuple(d for d in diags if d.severity is Severity.ERROR)
        return PolicyReport(file=filename, name=None, diagnostics=errors, source=text)
    policy = Policy(checked, text, diags)
    return run_examples(policy, filename)


def run_examples(policy, filename: str | None = None) -> PolicyReport:
    """Run every example of a loaded `Policy`; return the results and the coverage."""
    from .interp import Evaluator

    p: ir.Policy = policy.ir
    results = []
    hits: set = set()
    for ex in p.examples:
        result, batch = _run_one(policy, ex)
        results.append(result)
        if batch is not None:
            Evaluator(p).run(batch.rows(), hits=hits)
    points = tuple(coverage_points(p, policy.source))
    return PolicyReport(file=filename or p.file, name=p.name, results=tuple(results), points=points,
                        covered=frozenset(k for k in (pt.key for pt in points) if k in hits), source=policy.source)


def _run_one(policy, ex: ir.Example):
    try:
        results = policy.score_batch(ex.record_dicts())
    except rt.RecordError as e:
        if not ex.rejected:
            return ExampleResult(ex, problem="the example's records were rejected:\n" +
                                 "\n".join(f"  {issue}" for issue in e.errors)), None
        if ex.reject_field is not None and not any(ex.reject_field in issue.fields for issue in e.errors):
            return ExampleResult(ex, problem=f"the records were rejected, but not for `{ex.reject_field}`:\n" +
                                 "\n".join(f"  {issue}" for issue in e.errors)), None
        return ExampleResult(ex), None
    except rt.PolicyRuntimeError as e:
        return ExampleResult(ex, problem=f"the policy could not score the example: {e}"), None
    if ex.rejected:
        what = f" for `{ex.reject_field}`" if ex.reject_field else ""
        return ExampleResult(ex, problem=f"the records were scored, but the example expects them rejected{what}"), \
            results[0]._batch
    by_key = {(r.agent, r.period): r for r in results}
    mismatches = []
    for c in ex.checks:
        r = by_key[(c.agent, c.period)]
        actual = r.exact(c.name)
        if not _matches(c, actual):
            mismatches.append(Mismatch(check=c, actual=show_value(actual, c),
                                       explanation=r.explain([c.name]).rstrip("\n")))
    return ExampleResult(ex, mismatches=tuple(mismatches)), results[0]._batch


def _matches(c: ir.Check, actual) -> bool:
    if isinstance(c.value, Fraction) and not isinstance(actual, bool):
        if not isinstance(actual, Fraction):
            return False
        if c.approx:
            return Fraction(rt.round_to(actual, Fraction(1, 10 ** c.places), "half_up")) == c.value
        return actual == c.value
    if isinstance(c.value, tuple):
        return isinstance(actual, (list, tuple)) and tuple(actual) == c.value
    if isinstance(c.value, bool) or isinstance(actual, bool):
        return actual is c.value
    return actual == c.value


def show_value(v, c: ir.Check | None = None) -> str:
    """A value as an example would write it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "na"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(str(x) for x in v) + "]"
    if isinstance(v, Fraction):
        if c is not None and c.text.endswith("%"):
            return rt._fmt(rt.public_number(v * 100, False)) + "%"
        return rt._fmt(rt.public_number(v, False))
    return str(v)


# ───────────────────────── coverage ─────────────────────────


def coverage_points(p: ir.Policy, source: str):
    """Every branch the policy can take, in source order."""
    from .ranges import Ranges, within

    ranges = Ranges(p)
    seen: set[int] = set()

    def text(span: Span) -> str:
        t = source[span.start:span.end] if span.end > span.start else ""
        t = " ".join(t.split())
        return t if len(t) <= 60 else t[:57] + "…"

    def owner(d: ir.Definition) -> str:
        return d.name.split("·")[0]

    out: list[Point] = []
    for d in p.definitions:
        for e in ir.walk(d.expr):
            if id(e) in seen:
                continue
            seen.add(id(e))
            name = owner(d)
            if isinstance(e, ir.Cases):
                for k, row in enumerate(e.rows):
                    out.append(Point((id(e), k), name, "row", row.text, row.span))
                if e.otherwise is not None:
                    out.append(Point((id(e), "else"), name, "row", e.otherwise.text, e.otherwise.span))
            elif isinstance(e, ir.If):
                out.append(Point((id(e), "then"), name, "branch", f"`{text(e.span)}`: the `if` side",
                                 e.then.span if e.then.span.end else e.span))
                out.append(Point((id(e), "else"), name, "branch", f"`{text(e.span)}`: the `else` side",
                                 e.otherwise.span if e.otherwise.span.end else e.span))
            elif isinstance(e, ir.Clamp):
                lo_v = e.lo.value if isinstance(e.lo, ir.Const) else None
                hi_v = e.hi.value if isinstance(e.hi, ir.Const) else None
                ok_lo, ok_hi = within(ranges.of(e.operand), lo_v, hi_v)
                implicit = d.kind == "item" and e is d.expr and not _explicit(e, source)
                what = f"item {name} kept within [0, {_num(d.max)}]" if implicit else f"`{text(e.span)}`"
                if e.lo is not None and not (lo_v is not None and ok_lo):
                    out.append(Point((id(e), "lo"), name, "clamp", f"{what}: raised to its lower bound", e.span))
                if e.hi is not None and not (hi_v is not None and ok_hi):
                    out.append(Point((id(e), "hi"), name, "clamp", f"{what}: cut to its upper bound", e.span))
            elif isinstance(e, ir.ZeroGuard):
                out.append(Point((id(e), "zero"), name, "zero", f"`{text(e.span)}`: a zero denominator", e.span))
            elif isinstance(e, ir.NaGuard):
                out.append(Point((id(e), "na"), name, "na", f"`{text(e.span)}`: a value not applicable", e.span))
            elif isinstance(e, ir.Gate):
                for k, (label, cond) in enumerate(e.rows):
                    for ok in (True, False):
                        word = "passes" if ok else "fails"
                        out.append(Point((id(e), (k, ok)), name, "gate", f"condition `{label}` {word}",
                                         cond.span if cond.span.end else e.span))
            elif isinstance(e, ir.Weighted):
                for k, cond in enumerate(e.critical):
                    out.append(Point((id(e), ("critical", k)), name, "critical",
                                     f"critical `{text(cond.span)}` fails", cond.span if cond.span.end else e.span))
            elif isinstance(e, ir.Linear):
                for k, ((x0, _), (x1, _)) in enumerate(zip(e.points, e.points[1:])):
                    out.append(Point((id(e), k), name, "segment", f"between {_num(x0)} and {_num(x1)}", e.span))
            elif isinstance(e, ir.Marginal):
                for k, (lo, hi, _rate) in enumerate(e.slices):
                    top = f"{_num(hi)}" if hi is not None else ""
                    out.append(Point((id(e), k), name, "slice", f"the slice {_num(lo)} .. {top} reached", e.span))
    out.sort(key=lambda pt: (pt.span.start, str(pt.key[1])))
    return out


def _explicit(e: ir.Clamp, source: str) -> bool:
    t = source[e.span.start:e.span.end]
    return any(w in t for w in ("clamp", "at most", "at least"))


def _num(x) -> str:
    if x is None:
        return ""
    return rt._fmt(rt.public_number(Fraction(x), False))


# ───────────────────────── reports ─────────────────────────


def _pct(x: Fraction) -> str:
    return f"{int(x)}%" if x.denominator == 1 else f"{float(x):.1f}%".replace(".0%", "%")


def render_text(reports: list[PolicyReport], min_coverage: Fraction | None, verbose: bool = False) -> str:
    from .diagnostics import render_one

    out: list[str] = []
    for rep in reports:
        if rep.skipped:
            out.append(f"{rep.file}: skipped, {rep.skipped}")
            continue
        if rep.broken:
            out.append(f"{rep.file}: does not check, so its examples cannot run")
            for d in rep.diagnostics:
                out.append(render_one(d, rep.source).rstrip("\n"))
            continue
        n = len(rep.results)
        failed = rep.failed
        head = f"{rep.file} ({rep.name}): {n} example{'s' if n != 1 else ''}"
        head += f", {len(failed)} failed" if failed else (", all passed" if n else "")
        out.append(head)
        for r in rep.results:
            if r.passed:
                if verbose:
                    out.append(f"  ok    {r.example.label}")
                continue
            out.append(f"  FAIL  {r.example.label}  ({rep.file}:{r.example.span.line})")
            if r.problem:
                out.extend("        " + ln for ln in r.problem.splitlines())
            for m in r.mismatches:
                c = m.check
                who = f" for {c.agent} in {c.period}" if len(r.example.records) > 1 else ""
                op = "≈" if c.approx else "="
                out.append(f"        {c.name}{who}: expected {op} {c.text}, got {m.actual}  (line {c.span.line})")
                out.extend("          | " + ln for ln in m.explanation.splitlines())
        total = len(rep.points)
        got = total - len(rep.missed)
        line = f"  coverage {got}/{total} branches ({_pct(rep.percent)})"
        if min_coverage is not None and rep.percent < min_coverage:
            line += f" — below the required {_pct(min_coverage)}"
        out.append(line)
        if rep.missed:
            out.append("  never exercised by an example:")
            for pt in rep.missed:
                out.append(f"    {rep.file}:{pt.span.line}:{pt.span.column}  {pt.definition}: {_kind_word(pt)}")
    return "\n".join(out) + "\n"


def _kind_word(pt: Point) -> str:
    if pt.kind == "row":
        return f"row `{pt.text}`"
    if pt.kind == "segment":
        return f"the linear segment {pt.text}"
    return pt.text


def summary(reports: list[PolicyReport], min_coverage: Fraction | None) -> str:
    tested = [r for r in reports if not r.skipped and not r.broken]
    examples = sum(len(r.results) for r in tested)
    failed = sum(len(r.failed) for r in tested)
    broken = sum(1 for r in reports if r.broken)
    low = sum(1 for r in tested if min_coverage is not None and r.percent < min_coverage)
    parts = [f"tested {len(tested)} polic{'y' if len(tested) == 1 else 'ies'}: {examples} example(s), "
             f"{failed} failed"]
    if broken:
        parts.append(f"{broken} did not check")
    if low:
        parts.append(f"{low} below {_pct(min_coverage)} coverage")
    return "; ".join(parts)


def render_json(reports: list[PolicyReport], min_coverage: Fraction | None) -> str:
    import json

    return json.dumps({"policies": [_json_policy(r, min_coverage) for r in reports],
                       "summary": summary(reports, min_coverage)}, ensure_ascii=False, indent=2) + "\n"


def _json_policy(rep: PolicyReport, min_coverage) -> dict:
    d: dict = {"file": rep.file, "policy": rep.name}
    if rep.skipped:
        d["skipped"] = rep.skipped
        return d
    if rep.broken:
        d["errors"] = [{"code": x.code, "message": x.message, "line": x.span.line, "column": x.span.column}
                       for x in rep.diagnostics]
        return d
    d["examples"] = [{
        "name": r.example.name, "title": r.example.title, "line": r.example.span.line,
        "passed": r.passed, "problem": r.problem,
        "mismatches": [{"agent": m.check.agent, "period": m.check.period, "name": m.check.name,
                        "expected": m.check.text, "approx": m.check.approx, "actual": m.actual,
                        "line": m.check.span.line, "explanation": m.explanation} for m in r.mismatches],
    } for r in rep.results]
    d["coverage"] = {
        "branches": len(rep.points), "covered": len(rep.points) - len(rep.missed),
        "percent": float(rep.percent),
        "below_minimum": bool(min_coverage is not None and rep.percent < min_coverage),
        "missed": [{"line": p.span.line, "column": p.span.column, "definition": p.definition, "kind": p.kind,
                    "text": _kind_word(p)} for p in rep.missed],
    }
    return d


def render_junit(reports: list[PolicyReport], min_coverage: Fraction | None) -> str:
    from xml.sax.saxutils import escape, quoteattr

    suites = []
    for rep in reports:
        cases = []
        if rep.skipped:
            cases.append(f'    <testcase classname={quoteattr(rep.file)} name="examples">'
                         f'<skipped message={quoteattr(rep.skipped)}/></testcase>')
        elif rep.broken:
            msg = "; ".join(f"{d.code} line {d.span.line}: {d.message}" for d in rep.diagnostics)
            cases.append(f'    <testcase classname={quoteattr(rep.file)} name="check">'
                         f'<failure message={quoteattr("the policy does not check")}>{escape(msg)}</failure>'
                         '</testcase>')
        else:
            for r in rep.results:
                name = quoteattr(r.example.label)
                if r.passed:
                    cases.append(f'    <testcase classname={quoteattr(rep.file)} name={name}/>')
                    continue
                lines = [r.problem] if r.problem else []
                for m in r.mismatches:
                    op = "≈" if m.check.approx else "="
                    lines.append(f"{m.check.name}: expected {op} {m.check.text}, got {m.actual}\n{m.explanation}")
                first = lines[0].splitlines()[0]
                cases.append(f'    <testcase classname={quoteattr(rep.file)} name={name}>'
                             f'<failure message={quoteattr(first)}>{escape(chr(10).join(lines))}</failure>'
                             '</testcase>')
            cov = f"coverage {_pct(rep.percent)}"
            if min_coverage is not None and rep.percent < min_coverage:
                missed = "\n".join(f"line {p.span.line}: {p.definition}: {_kind_word(p)}" for p in rep.missed)
                cases.append(f'    <testcase classname={quoteattr(rep.file)} name="coverage">'
                             f'<failure message={quoteattr(cov + " below " + _pct(min_coverage))}>'
                             f'{escape(missed)}</failure></testcase>')
            else:
                cases.append(f'    <testcase classname={quoteattr(rep.file)} name="coverage"/>')
        failures = sum(1 for c in cases if "<failure" in c)
        suites.append(f'  <testsuite name={quoteattr(rep.name or rep.file)} tests="{len(cases)}" '
                      f'failures="{failures}">\n' + "\n".join(cases) + "\n  </testsuite>")
    return '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n' + "\n".join(suites) + "\n</testsuites>\n"


# ───────────────────────── command line ─────────────────────────


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="*", default=["."],
                   help="policy files or folders (searched for *.policy); default: the current folder")
    p.add_argument("--format", choices=["text", "json", "junit"], default="text",
                   help="text (default), json, or junit (JUnit XML for CI)")
    p.add_argument("--min-coverage", type=_percent_arg, default=None, metavar="N",
                   help="fail when a policy's examples exercise fewer than N%% of its branches")
    p.add_argument("--suggest", action="store_true",
                   help="print boundary examples (at, just below and just above every threshold) to review "
                        "and paste into the policy, instead of running the examples")
    p.add_argument("-v", "--verbose", action="store_true", help="list the examples that passed too")


def _percent_arg(text: str) -> Fraction:
    import argparse

    try:
        v = Fraction(text.rstrip("%"))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 <= v <= 100:
        raise argparse.ArgumentTypeError("the minimum coverage is between 0 and 100")
    return v


def _files(paths: list[str]) -> list[Path] | None:
    from .compiler import policy_files

    found = policy_files(paths)
    return None if found is None else [Path(f) for f in found]


def run(args) -> int:
    files = _files(args.paths)
    if files is None:
        return EXIT_INPUT
    texts = []
    for f in files:
        try:
            texts.append((str(f), f.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as e:
            print(f"policyc: cannot read {f}: {e}", file=sys.stderr)
            return EXIT_INPUT
    if args.suggest:
        from .suggest import run_suggest

        return run_suggest(texts)
    reports = [run_source(text, name) for name, text in texts]
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    if args.format == "json":
        sys.stdout.write(render_json(reports, args.min_coverage))
    elif args.format == "junit":
        sys.stdout.write(render_junit(reports, args.min_coverage))
    else:
        sys.stdout.write(render_text(reports, args.min_coverage, args.verbose))
        print(summary(reports, args.min_coverage))
    bad = any(r.broken or r.failed for r in reports)
    low = args.min_coverage is not None and any(
        not r.skipped and not r.broken and r.percent < args.min_coverage for r in reports)
    return EXIT_FAILED if bad or low else EXIT_OK
