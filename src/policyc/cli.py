"""The command line: a thin layer; each verb is one library call.

Exit status: 0 success; 1 a policy has errors (or warnings with --deny-warnings);
2 bad records, unreadable input, or a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
AUTO_COLUMNAR = 50_000  # records from which `--engine auto` picks the columnar engine


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with a plain message
        self.print_usage(sys.stderr)
        print(f"policyc: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="policyc", description="Check, score, explain and compile assessment policies.")
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="prove policies sound; report every finding")
    c.add_argument("paths", nargs="+", help="policy files or folders (searched for *.policy)")
    c.add_argument("--format", choices=["text", "json", "sarif", "github", "junit"], default="text",
                   help="text (default), json, sarif (SARIF 2.1.0), github (GitHub Actions annotations) "
                        "or junit (JUnit XML); machine formats print only the report on stdout")
    c.add_argument("--deny-warnings", action="store_true", help="exit 1 on warnings too")
    c.add_argument("--lang", choices=["en", "zh"], default="en",
                   help="language of the messages: en (default) or zh (Chinese, with the English kept)")
    c.add_argument("--docs-url", metavar="URL", default=None,
                   help="absolute URL of docs/diagnostics.md, for the rule links in --format sarif")

    s = sub.add_parser("score", help="score a file of agent-period records")
    _records_args(s)
    s.add_argument("--format", choices=["table", "csv", "jsonl", "json", "parquet"], default=None,
                   help="output format (default: table on a terminal, jsonl otherwise; parquet needs -o)")
    s.add_argument("--engine", choices=["auto", "python", "polars", "duckdb", "spark"], default="auto",
                   help="python (per record), polars (columnar), duckdb (SQL in process), spark (SQL on Spark: "
                        "$POLICYC_SPARK_MASTER, default local[*]), or auto (default: python for "
                        f"fewer than {AUTO_COLUMNAR:,} records, polars for more when it is installed); "
                        "all give the same results")
    s.add_argument("-o", "--output", help="write the results to this file (whole or not at all)")
    s.add_argument("--rejects", metavar="FILE",
                   help="score the valid records and write the bad ones, with reasons, to FILE (JSON Lines)")

    e = sub.add_parser("explain", help="explain one agent's result")
    _records_args(e)
    e.add_argument("--agent", required=True)
    e.add_argument("--period", help="the period (needed when the agent has several)")

    i = sub.add_parser("inspect", help="show the range every value of a policy can take")
    i.add_argument("policy")
    i.add_argument("--format", choices=["table", "json"], default="table")

    k = sub.add_parser("compile", help="write a standalone Python module (or one SQL query) for a policy")
    k.add_argument("policy")
    k.add_argument("-o", "--output", required=True, help="the file to write (.py, or .sql with --target sql)")
    k.add_argument("--target", choices=["python", "sql"], default="python",
                   help="python (a stdlib-only module, the default) or sql (one query, for a data team)")
    k.add_argument("--dialect", choices=["duckdb", "spark"], default="duckdb",
                   help="SQL dialect for --target sql (default duckdb)")
    k.add_argument("--table", default="records", help="the table of records the query reads (--target sql)")
    k.add_argument("--scale", action="append", default=[], metavar="INPUT=PLACES",
                   help="decimal places an input is read with (--target sql; repeatable); a value with more "
                        "non-zero decimals makes the query fail, never rounds (defaults: docs/sql.md)")

    # verbs that live in their own modules: each has HELP, add_arguments(parser) and run(args) -> int
    for verb, module in _MODULE_VERBS.items():
        mod = importlib.import_module(module)
        mod.add_arguments(sub.add_parser(verb, help=mod.HELP, description=mod.HELP))
    return p


_MODULE_VERBS = {"test": "policyc.testing", "fmt": "policyc.fmt", "doc": "policyc.doc"}


def _records_args(p):
    p.add_argument("policy")
    p.add_argument("records", help="CSV, JSON (array of objects) or JSON Lines file; - for stdin")
    p.add_argument("--input-format", choices=["csv", "json", "jsonl", "parquet"], default=None)
    p.add_argument("--encoding", default="utf-8", help="text encoding of the records file (e.g. gbk)")
    p.add_argument("--allow-extra", action="store_true", help="ignore fields the policy does not use")


def _version() -> str:
    from . import __version__

    return f"policyc {__version__}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    from .runtime import PolicyRuntimeError

    try:
        if args.verb in _MODULE_VERBS:
            return importlib.import_module(_MODULE_VERBS[args.verb]).run(args)
        return {"check": cmd_check, "score": cmd_score, "explain": cmd_explain, "compile": cmd_compile,
                "inspect": cmd_inspect}[args.verb](args)
    except PolicyRuntimeError as e:
        _err(f"policyc: the policy could not score a record: {e}. The policy needs a row (or an `else`) "
             "for that value; nothing was scored.")
        return EXIT_FINDINGS
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


# ───────────────────────── helpers ─────────────────────────


def _err(text: str) -> None:
    print(text, file=sys.stderr)


def _print_diagnostics(diags, sources: dict[str, str], stream) -> None:
    from .diagnostics import render_one

    color = stream.isatty() and not os.environ.get("NO_COLOR")
    for d in diags:
        text = render_one(d, sources.get(d.span.file, ""))
        if color:
            from rich.console import Console
            from rich.text import Text

            style = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}[d.severity.value]
            out = Text()
            first, _, rest = text.partition("\n")
            out.append(first, style=style)
            out.append("\n" + rest)
            Console(file=stream, highlight=False, soft_wrap=True).print(out, end="")
        else:
            stream.write(text)


def _load_policy(path: str, doing: str = "nothing was scored"):
    """Load a policy for scoring; on errors print them and return None."""
    from .compiler import check_source
    from .diagnostics import has_errors
    from .policy import Policy

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        _err(f"policyc: cannot read {path}: {e.strerror or e}")
        return None, EXIT_INPUT
    except UnicodeDecodeError:
        _err(f"policyc: {path} is not UTF-8 text")
        return None, EXIT_INPUT
    policy, diags = check_source(text, path)
    if policy is None or has_errors(diags) or any(d.expected for d in diags):
        _print_diagnostics(diags, {path: text}, sys.stderr)
        _err(f"policyc: {path} does not check; {doing}")
        return None, EXIT_FINDINGS
    return Policy(policy, text, diags), EXIT_OK


def _load_records(args):
    from .records import InputError, read_records

    try:
        return read_records(args.records, fmt=args.input_format, encoding=args.encoding)
    except InputError as e:
        _err(f"policyc: {e}")
        return None


# ───────────────────────── verbs ─────────────────────────


def cmd_check(args) -> int:
    from . import i18n, report
    from .compiler import check_source, policy_files
    from .diagnostics import Severity

    found = policy_files(args.paths)
    if found is None:
        return EXIT_INPUT
    files = [Path(f) for f in found]
    checked = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            _err(f"policyc: cannot read {f}: {e}")
            return EXIT_INPUT
        _, diags = check_source(text, str(f))
        checked.append((str(f), text, diags))
    rep = report.make_report(checked, args.lang)
    # errors a counter-example declares with `# policyc: expect[...]` are shown but do not fail the run
    errors = sum(1 for _, _, ds in checked for d in ds if d.severity is Severity.ERROR and not d.expected)
    warnings = rep.count(Severity.WARNING)
    if args.format == "text":
        report.write_text(rep, sys.stdout, color=sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
        print(i18n.summary_line(len(files), errors, warnings, args.lang))
        if args.lang != "en":
            print(i18n.summary_line(len(files), errors, warnings, "en"))
        expected = sum(1 for _, _, ds in checked for d in ds if d.expected)
        if expected:
            print(i18n.expected_line(expected, args.lang))
    else:
        docs_url = args.docs_url or report.local_docs_url()
        _utf8_stdout()
        sys.stdout.write(report.render(args.format, rep, deny_warnings=args.deny_warnings, docs_url=docs_url))
    if errors or (args.deny_warnings and warnings):
        return EXIT_FINDINGS
    return EXIT_OK


def _utf8_stdout() -> None:
    """Machine formats are UTF-8 whatever the console's code page (GitHub's Windows runners)."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    if encoding != "utf8" and hasattr(sys.stdout, "reconfigure"):
        try:
            sys.stdout.reconfigure(encoding="utf-8")
        except (OSError, ValueError):
            pass


def _policy_and_records(args):
    """Load the policy and the records a verb works on; (None, None, status) on failure."""
    policy, status = _load_policy(args.policy)
    if policy is None:
        return None, None, status
    records = _load_records(args)
    if records is None:
        return None, None, EXIT_INPUT
    return policy, records, EXIT_OK


def _is_parquet(args) -> bool:
    return args.input_format == "parquet" or (args.input_format is None and
                                               str(args.records).lower().endswith((".parquet", ".pq")))


def _read_frame(args, policy=None):
    """The records as a Polars frame for the columnar engines: CSV cells and JSON values as text
    (their exact decimal text), Parquet columns as stored. A JSON value whose text would read
    otherwise than the value (a number where text or a label is wanted, a list, an object)
    leaves the records to the Python engine, whose reader names it."""
    import polars as pl

    from .records import InputError, read_records

    try:
        if _is_parquet(args):
            return None, pl.read_parquet(args.records)
        records = read_records(args.records, fmt=args.input_format, encoding=args.encoding)
    except (InputError, OSError) as e:
        _err(f"policyc: {e}")
        return None, None
    except pl.exceptions.PolarsError as e:
        _err(f"policyc: cannot read {args.records}: {e}")
        return None, None
    names: dict[str, None] = {}
    for r in records:
        if isinstance(r, dict):
            names.update(dict.fromkeys(r))
    if not records or not all(isinstance(r, dict) for r in records):
        return records, None  # not a table of records: the Python engine reports it precisely

    from decimal import Decimal

    from .backends.polars_engine import _NUMERIC

    numeric = {i.name for i in policy.ir.inputs if i.kind in _NUMERIC} if policy is not None else set(names)

    def text(v, n):
        if v is None or isinstance(v, (str, bool)):
            return v
        if n not in numeric or not isinstance(v, (int, float, Decimal)):
            raise ValueError(n)
        return str(v) if not isinstance(v, float) else repr(v)

    try:
        data = {n: [text(r.get(n), n) if n in r else None for r in records] for n in names}
    except ValueError:
        return records, None
    if any(isinstance(v, bool) for col in data.values() for v in col) or \
            any(n not in r for r in records for n in names):
        return records, None  # mixed types or missing fields: the Python engine reports them precisely
    return records, pl.DataFrame(data, schema={n: pl.String for n in names})


def cmd_score(args) -> int:
    from . import output
    from .runtime import RecordError

    engine = args.engine
    fmt = args.format or ("table" if sys.stdout.isatty() and not args.output else "jsonl")
    if fmt == "parquet" and not args.output:
        _err("policyc: --format parquet writes a file: give it with -o")
        return EXIT_INPUT
    records = None
    if engine != "python":
        status, records = _score_columnar(args, fmt)
        if status is not None:
            return status
    if records is not None:
        policy, status = _load_policy(args.policy)
    else:
        policy, records, status = _policy_and_records(args) if not _is_parquet(args) else _parquet_records(args)
    if policy is None:
        return status
    rejected = []
    keep = list(range(len(records)))
    while True:
        try:
            results = policy.score_batch([records[i] for i in keep], allow_extra=args.allow_extra)
            break
        except RecordError as e:
            issues = [_renumber(x, keep) for x in e.errors]
            if not args.rejects:
                for issue in issues:
                    _err(output.format_issue(issue))
                n = len({x.index for x in issues})
                _err(f"policyc: {n} bad record(s) of {len(records)}; nothing was scored "
                     "(use --rejects FILE to score the valid ones)")
                return EXIT_INPUT
            rejected.extend(issues)
            bad = {x.index for x in issues}
            keep = [i for i in keep if i not in bad]
    rows = [r.as_row() for r in results]
    return _write_results(args, fmt, rows, policy, None) if not rejected and not args.rejects else \
        _write_with_rejects(args, fmt, rows, policy, rejected)


def _write_with_rejects(args, fmt, rows, policy, rejected) -> int:
    from . import ir, output

    try:
        if args.rejects:
            rejected.sort(key=lambda x: x.index)
            output.write_atomic(args.rejects, output.rejects_to_jsonl(rejected))
            if rejected:
                _err(f"policyc: {len({x.index for x in rejected})} bad record(s) written to {args.rejects}; "
                     f"{len(rows)} scored")
                if policy.ir.cohorts or any(isinstance(n, ir.History) for d in policy.ir.definitions
                                            for n in ir.walk(d.expr)):
                    _err("policyc: note: team and history values were computed without the rejected records")
    except OSError as e:
        _err(f"policyc: cannot write: {e}")
        return EXIT_INPUT
    return _write_results(args, fmt, rows, policy, None)


def _write_results(args, fmt, rows, policy, frame) -> int:
    """Write scored rows (dicts) or a scored frame in the chosen format."""
    from . import output

    try:
        if fmt == "parquet":
            import polars as pl

            if frame is None:
                frame = pl.DataFrame(rows, infer_schema_length=None)
            _write_parquet(frame, args.output)
            return EXIT_OK
        if rows is None:
            rows = frame.to_dicts()
        if fmt == "table":
            if args.output:
                _err("policyc: --format table prints to the terminal; choose csv, jsonl, json or parquet for -o")
                return EXIT_INPUT
            output.render_table(rows, title=f"{policy.name}" + (f" — {policy.title}" if policy.title else ""))
            return EXIT_OK
        text = {"csv": output.to_csv, "jsonl": output.to_jsonl, "json": output.to_json}[fmt](rows)
        if args.output:
            output.write_atomic(args.output, text)
        else:
            sys.stdout.write(text)
    except OSError as e:
        _err(f"policyc: cannot write: {e}")
        return EXIT_INPUT
    return EXIT_OK


def _write_parquet(frame, path: str) -> None:
    """Write a Parquet file whole or not at all (a temporary file renamed into place)."""
    import tempfile

    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=".policyc-", suffix=".tmp")
    os.close(fd)
    try:
        frame.write_parquet(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parquet_records(args):
    policy, status = _load_policy(args.policy)
    if policy is None:
        return None, None, status
    records, frame = _read_frame(args)
    if frame is None:
        return None, None, EXIT_INPUT
    from .backends.polars_engine import records_of

    return policy, records_of(frame), EXIT_OK


def _score_columnar(args, fmt):
    """Score with a columnar engine: (exit status, None); or (None, records already read, if any)
    to let the Python engine do it (auto on a small batch, `--rejects`, or a file whose records
    the columnar reader cannot take as a table)."""

    try:
        import polars  # noqa: F401
    except ImportError:
        if args.engine == "auto":
            return None, None
        _err(f"policyc: the {args.engine} engine needs Polars: pip install 'policyc[polars]'")
        return EXIT_INPUT, None
    if args.rejects or args.allow_extra:
        if args.engine != "auto":
            _err("policyc: --rejects and --allow-extra use the python engine; drop --engine or use "
                 "--engine python")
            return EXIT_INPUT, None
        return None, None
    policy, status = _load_policy(args.policy)
    if policy is None:
        return status, None
    with _progress() as progress:
        progress.stage(f"reading {args.records}")
        records, frame = _read_frame(args, policy)
        if records is None and frame is None:
            return EXIT_INPUT, None
        if frame is None or (args.engine == "auto" and len(frame) < AUTO_COLUMNAR):
            from .backends.polars_engine import records_of

            return None, records if records is not None else records_of(frame)
        return _score_frame(args, fmt, policy, frame, progress), None


def _score_frame(args, fmt, policy, frame, progress) -> int:
    from . import output
    from .backends.polars_engine import EngineLimit
    from .runtime import RecordError

    engine = "polars" if args.engine == "auto" else args.engine
    try:
        progress.stage(f"scoring {len(frame):,} records with the {engine} engine")
        source = args.records if engine == "spark" and _is_parquet(args) else frame  # Spark reads it itself
        result = policy.score_frame(source, engine=engine if args.engine != "auto" else "auto")
    except RecordError as e:
        for issue in e.errors:
            _err(output.format_issue(issue))
        n = len({x.index for x in e.errors})
        _err(f"policyc: {n} bad record(s) of {len(frame)}; nothing was scored "
             "(use --rejects FILE to score the valid ones)")
        return EXIT_INPUT
    except EngineLimit as e:
        _err(f"policyc: {e}; use --engine python")
        return EXIT_INPUT
    except ImportError as e:
        _err(f"policyc: {e}")
        return EXIT_INPUT
    progress.stage(f"writing {len(result):,} results")
    return _write_results(args, fmt, None, policy, result)


class _progress:
    """A progress bar on stderr for runs on a terminal: the run's stages (reading the records,
    scoring them, writing the results), the one under way with a spinner, and the elapsed time.
    It is gone when the run ends, and never shown when stderr is not a terminal or NO_COLOR is
    set. (An engine scores a batch in one call, so the stages are what can be counted.)"""

    def __init__(self, stages: int = 3):
        self.stages = stages
        self.done = 0
        self.bar = None

    def __enter__(self):
        if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                console=Console(file=sys.stderr), transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("", total=self.stages)
        return self

    def stage(self, what: str):
        """The next stage begins (the ones before it are done)."""
        if self.bar is not None:
            self.bar.update(self.task, description=what, completed=self.done)
        self.done += 1

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.update(self.task, completed=self.stages)
            self.bar.__exit__(*exc)
        return False


def _compile_sql(args, policy) -> int:
    from . import output

    try:
        from .backends.sql import SqlUnsupported, compile_sql
    except ImportError:
        _err("policyc: --target sql needs sqlglot: pip install 'policyc[sql]'")
        return EXIT_INPUT
    from .backends.columnar import Unsupported

    scales = {}
    inputs = {i.name for i in policy.ir.inputs}
    for item in args.scale:
        name, _, places = item.partition("=")
        if name not in inputs or not places.isdigit():
            _err(f"policyc: --scale {item!r}: write INPUT=PLACES with an input of the policy, e.g. refund_rate=4")
            return EXIT_INPUT
        scales[name] = int(places)
    try:
        query = compile_sql(policy.ir, dialect=args.dialect, table=args.table, scales=scales or None)
    except ImportError as e:
        _err(f"policyc: {e}")
        return EXIT_INPUT
    except (SqlUnsupported, Unsupported) as e:
        _err(f"policyc: {args.policy} cannot be compiled to exact SQL: {e}; nothing was written")
        return EXIT_FINDINGS
    except ValueError as e:
        _err(f"policyc: {e}")
        return EXIT_INPUT
    try:
        output.write_atomic(args.output, query.rstrip("\n") + "\n")
    except OSError as e:
        _err(f"policyc: cannot write {args.output}: {e}")
        return EXIT_INPUT
    _err(f"wrote {args.output}: one {args.dialect} query over the table {args.table!r} "
         f"(agent, period and the inputs) giving agent, period and every output of {policy.name}")
    return EXIT_OK


def _renumber(issue, keep):
    from .runtime import RecordIssue

    return RecordIssue(keep[issue.index] if issue.index is not None and issue.index < len(keep) else issue.index,
                       issue.agent, issue.period, issue.field, issue.reason, issue.fields)


def cmd_explain(args) -> int:
    from . import output
    from .runtime import RecordError

    policy, records, status = _policy_and_records(args)
    if policy is None:
        return status
    try:
        results = policy.score_batch(records, allow_extra=args.allow_extra)
    except RecordError as e:
        for issue in e.errors:
            _err(output.format_issue(issue))
        return EXIT_INPUT
    found = [r for r in results if r.agent == args.agent and (args.period is None or r.period == args.period)]
    if not found:
        _err(f"policyc: no record for agent {args.agent!r}" + (f" in period {args.period!r}" if args.period else ""))
        return EXIT_INPUT
    if len(found) > 1:
        periods = ", ".join(r.period for r in found)
        _err(f"policyc: agent {args.agent!r} has records for several periods ({periods}); choose one with --period")
        return EXIT_INPUT
    sys.stdout.write(found[0].explain())
    return EXIT_OK


def cmd_inspect(args) -> int:
    import json

    from .ranges import describe

    policy, status = _load_policy(args.policy, "nothing was inspected")
    if policy is None:
        return status
    rows = describe(policy.ir)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    from .output import render_table

    render_table(rows, title=f"{policy.name}: the range of every value over all valid records")
    return EXIT_OK


def cmd_compile(args) -> int:
    from . import output

    policy, status = _load_policy(args.policy, "nothing was written")
    if policy is None:
        return status
    if args.target == "sql":
        return _compile_sql(args, policy)
    try:
        output.write_atomic(args.output, policy.compile())
    except OSError as e:
        _err(f"policyc: cannot write {args.output}: {e}")
        return EXIT_INPUT
    _err(f"wrote {args.output}: score(record), score_batch(records) for policy {policy.name}")
    return EXIT_OK
