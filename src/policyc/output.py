"""Render results: text values, JSON Lines, JSON, CSV, a rich table; atomic writes.

A *row* is a dict ``{"agent": str, "period": str, <output name>: value, ...}``
in output order.  Values are ``int``, ``decimal.Decimal``, ``bool``, ``str``,
``list[str]`` or ``None`` (not applicable).

Numbers are written from their exact decimal text (``format(v, "f")``): never
through ``float``, never in exponent notation, trailing zeros kept.  A
``Decimal`` NaN or infinity can never be a valid result and raises
``ValueError``; a value of any other type raises ``TypeError``.

Only the standard library is imported at module level; ``rich`` is imported
inside :func:`render_table`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

__all__ = [
    "format_value",
    "to_jsonl",
    "to_json",
    "to_csv",
    "render_table",
    "write_atomic",
    "rejects_to_jsonl",
    "format_issue",
]

Row = Mapping[str, Any]


# --------------------------------------------------------------------- values


def _number_text(v: int | Decimal) -> str:
    """Exact decimal text of a number, valid as a JSON number."""
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise ValueError(f"{v} is not a valid result value (not a finite number)")
        return format(v, "f")
    return str(int(v))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def _bad_type(v: Any) -> TypeError:
    return TypeError(
        f"cannot output a value of type {type(v).__name__}: {v!r} "
        "(expected int, Decimal, bool, str, list of str or None)"
    )


def format_value(v: Any) -> str:
    """Text of a value for tables and CSV.

    ``Decimal`` → exact decimal text (``Decimal("0.00")`` → ``"0.00"``),
    ``int`` as is, ``bool`` → ``"true"``/``"false"``, list → names joined by
    ``", "``, ``None`` → ``"n/a"``, ``str`` as is.
    """
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_number(v):
        return _number_text(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return ", ".join(_name(x) for x in v)
    raise _bad_type(v)


def _name(x: Any) -> str:
    if not isinstance(x, str):
        raise _bad_type(x)
    return x


# ----------------------------------------------------------------------- JSON


def _json_value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_number(v):
        return _number_text(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(json.dumps(_name(x), ensure_ascii=False) for x in v) + "]"
    raise _bad_type(v)


def _json_key(k: Any) -> str:
    if not isinstance(k, str):
        raise TypeError(f"result keys must be strings, got {k!r}")
    return json.dumps(k, ensure_ascii=False)


def _json_object(row: Row, *, indent: str | None = None) -> str:
    items = [f"{_json_key(k)}: {_json_value(v)}" for k, v in row.items()]
    if indent is None:
        return "{" + ", ".join(items) + "}"
    if not items:
        return "{}"
    inner = indent + "  "
    return "{\n" + ",\n".join(inner + item for item in items) + "\n" + indent + "}"


def to_jsonl(rows: Iterable[Row]) -> str:
    """One JSON object per row, keys in row order, each line ending in ``"\\n"``.

    Numbers are JSON numbers whose text is exactly ``format(v, "f")``.
    """
    return "".join(_json_object(row) + "\n" for row in rows)


def to_json(rows: Iterable[Row]) -> str:
    """A JSON array of the rows (2-space indent), same number rule as :func:`to_jsonl`."""
    objects = [_json_object(row, indent="  ") for row in rows]
    if not objects:
        return "[]\n"
    return "[\n" + ",\n".join("  " + obj for obj in objects) + "\n]\n"


# ------------------------------------------------------------------------ CSV


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return "|".join(_name(x) for x in v)
    return format_value(v)


def to_csv(rows: Sequence[Row]) -> str:
    """CSV with a header row (the keys of the first row) and ``"\\n"`` line endings.

    Lists are joined with ``"|"``; ``None`` is an empty cell.  Every row must
    have the same keys as the first (``ValueError`` otherwise).  No rows give
    an empty string.
    """
    rows = list(rows)
    if not rows:
        return ""
    header = list(rows[0].keys())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(rows, 1):
        if list(row.keys()) != header:
            raise ValueError(f"row {i} has different columns from row 1")
        writer.writerow([_csv_cell(row[k]) for k in header])
    return buf.getvalue()


# ---------------------------------------------------------------------- table


def render_table(rows: Sequence[Row], *, title: str | None = None, console: Any = None) -> None:
    """Print the rows as a rich table: one column per key, numbers right-aligned.

    A ``rich.console.Console`` is created when *console* is ``None``; rich
    only colours when it writes to a terminal.  Cell text is never read as
    rich markup.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    rows = list(rows)
    if not rows:
        (console or Console()).print(Text("(no results)", style="dim"))
        return
    header = list(rows[0].keys())
    texts = [[format_value(row.get(key)) for key in header] for row in rows]
    widths = [
        max([_cell_width(str(key))] + [_cell_width(r[i]) for r in texts]) for i, key in enumerate(header)
    ]
    natural = sum(w + 3 for w in widths) + 1
    if console is None:
        probe = Console()
        # Off a terminal nothing limits the width: print the table whole, never wrapped.
        console = probe if probe.is_terminal else Console(width=max(natural, 40))
    numeric = {}
    for key in header:
        values = [row.get(key) for row in rows]
        numeric[key] = any(_is_number(v) for v in values) and all(v is None or _is_number(v) for v in values)
    if natural <= console.width:
        table = Table(title=Text(title) if title is not None else None)
        for key in header:
            table.add_column(Text(str(key)), justify="right" if numeric[key] else "left", no_wrap=True)
        for row, row_texts in zip(rows, texts):
            table.add_row(
                *(Text(t, style="dim" if row.get(key) is None else "") for key, t in zip(header, row_texts))
            )
        console.print(table)
        return
    # Too wide for the terminal: one small table per record, so no value is ever cut or broken.
    if title is not None:
        console.print(Text(title, style="bold"))
    for row, row_texts in zip(rows, texts):
        card = Table(title=Text(" · ".join(row_texts[:2])), show_header=False)
        card.add_column(overflow="fold")
        card.add_column(justify="right", overflow="fold")
        for key, t in list(zip(header, row_texts))[2:]:
            card.add_row(Text(str(key)), Text(t, style="dim" if row.get(key) is None else ""))
        console.print(card)


def _cell_width(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


# --------------------------------------------------------------------- files


def _new_file_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write *text* to *path* whole or not at all.

    The text goes to a temporary file in the same directory, which is flushed,
    fsynced and then renamed onto *path* (``os.replace``).  On any exception
    the temporary file is removed, *path* is left as it was, and the exception
    propagates.  Line endings are written as given (no translation).
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    base = os.path.basename(target)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{base}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _fsync_dir(directory: str) -> None:
    """Best effort: make the rename itself durable (POSIX only)."""
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:
        return
    try:
        dfd = os.open(directory, os.O_RDONLY | flags)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# -------------------------------------------------------------------- rejects


def rejects_to_jsonl(issues: Iterable[Any]) -> str:
    """One JSON object per record issue, as JSON Lines.

    Keys: ``record`` (1-based record number), ``agent``, ``period``, ``field``,
    ``fields`` and ``reason``.
    """
    lines = []
    for issue in issues:
        obj = {
            "record": issue.index + 1,
            "agent": issue.agent,
            "period": issue.period,
            "field": issue.field,
            "fields": list(issue.fields or ()),
            "reason": issue.reason,
        }
        lines.append(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    return "".join(lines)


def _quoted(v: Any) -> str:
    return "?" if v is None else repr(v)


def format_issue(issue: Any) -> str:
    """One line describing a record issue, e.g.

    ``record 2 (agent '李四', period '2026-11'): field 'bonus_pool': <reason>``
    """
    head = (
        f"record {issue.index + 1} (agent {_quoted(issue.agent)}, period {_quoted(issue.period)})"
    )
    fields = tuple(issue.fields or ())
    if len(fields) > 1:
        where = "fields " + ", ".join(repr(f) for f in fields)
    elif issue.field is not None:
        where = f"field {issue.field!r}"
    elif fields:
        where = f"field {fields[0]!r}"
    else:
        where = ""
    reason = " ".join(str(issue.reason).splitlines())  # keep it on one line
    return f"{head}: {where}: {reason}" if where else f"{head}: {reason}"
