"""Read record files (CSV, JSON, JSON Lines) into raw record dicts.

This module only reads: it turns a file into a list of plain dicts in file
order and reports problems with the *file* (unreadable, not decodable, not
valid JSON, wrong shape, ragged CSV rows) as :class:`InputError`.  Whether a
record is a valid input for a policy is decided later by the validator.

Numbers keep their exact decimal text: JSON numbers with a fraction or an
exponent become :class:`decimal.Decimal`, whole JSON numbers stay ``int``,
and the non-standard literals ``NaN``/``Infinity``/``-Infinity`` become the
corresponding ``Decimal`` values so that the validator can reject them with a
clear reason.  CSV cells are strings (surrounding whitespace stripped); an
empty cell is ``None``.

Only the standard library is used.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import sys
from decimal import Decimal
from typing import Any

__all__ = ["InputError", "read_records", "FORMATS", "EXTENSIONS"]

FORMATS = ("csv", "json", "jsonl")

#: File name extensions (lower case) and the format they imply.
EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jl": "jsonl",
}

_CONSTANTS = {
    "NaN": Decimal("NaN"),
    "Infinity": Decimal("Infinity"),
    "-Infinity": Decimal("-Infinity"),
}


class InputError(Exception):
    """A problem with an input file, described in plain language.

    ``str(e)`` names the file and, where known, the line.  ``path`` and
    ``line`` are also available as attributes (``line`` may be ``None``).
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


def read_records(
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    encoding: str = "utf-8",
) -> list[dict[str, Any]]:
    """Read the records in *path* and return them as dicts, in file order.

    *fmt* is ``"csv"``, ``"json"`` or ``"jsonl"``; when ``None`` it is taken
    from the file name extension (``.csv``, ``.json``, ``.jsonl``/``.ndjson``/
    ``.jl``).  *path* ``"-"`` reads standard input; then the format, if not
    given, is guessed from the content (``[`` → JSON, ``{`` → JSON Lines,
    anything else → CSV).  UTF-8 input may start with a byte order mark.

    Raises :class:`InputError` for any problem with the file.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r}; use one of: {', '.join(FORMATS)}")
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None
    decode_as = "utf-8-sig" if codec.name == "utf-8" else encoding

    is_stdin = os.fspath(path) == "-"
    name = "<stdin>" if is_stdin else os.fspath(path)

    if fmt is None and not is_stdin:
        ext = os.path.splitext(name)[1].lower()
        fmt = EXTENSIONS.get(ext)
        if fmt is None:
            shown = f"extension {ext!r}" if ext else "no extension"
            raise InputError(
                f"{name}: cannot tell the record format from the file name ({shown}); "
                "name it .csv, .json or .jsonl, or pass --input-format csv|json|jsonl",
                path=name,
            )

    data = _read_bytes(path, name, is_stdin)
    text = _decode(data, name, decode_as, encoding)

    if fmt is None:  # stdin without an explicit format: look at the content
        head = text.lstrip()[:1]
        fmt = "json" if head == "[" else "jsonl" if head == "{" else "csv"

    if fmt == "csv":
        return _read_csv(text, name)
    if fmt == "json":
        return _read_json(text, name)
    return _read_jsonl(text, name)


# ---------------------------------------------------------------- bytes / text


def _read_bytes(path: str | os.PathLike[str], name: str, is_stdin: bool) -> bytes:
    if is_stdin:
        stream = getattr(sys.stdin, "buffer", None)
        try:
            if stream is not None:
                return stream.read()
            # A text-only stdin (e.g. replaced in tests): re-encode losslessly.
            return sys.stdin.read().encode("utf-8", "surrogateescape")
        except OSError as e:
            raise InputError(f"{name}: cannot read standard input: {e}", path=name) from None
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file", path=name) from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a record file", path=name) from None
    except PermissionError:
        raise InputError(f"{name}: permission denied", path=name) from None
    except OSError as e:
        reason = e.strerror or str(e)
        raise InputError(f"{name}: cannot read the file: {reason}", path=name) from None


def _decode(data: bytes, name: str, decode_as: str, encoding: str) -> str:
    try:
        return data.decode(decode_as)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = data[e.start : min(e.end, e.start + 4)]
        shown = " ".join(f"0x{b:02x}" for b in bad)
        if codecs.lookup(encoding).name == "utf-8":
            hint = (
                "if the file uses another encoding, say which, "
                "e.g. --encoding gbk (or gb18030, utf-16)"
            )
            what = "UTF-8"
        else:
            hint = "check the encoding and pass the right one with --encoding"
            what = encoding
        raise InputError(
            f"{name}, line {line}: the file is not valid {what} text "
            f"(cannot decode byte(s) {shown}); {hint}",
            path=name,
            line=line,
        ) from None


# ------------------------------------------------------------------------ CSV


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _read_csv(text: str, name: str) -> list[dict[str, Any]]:
    # strict: a malformed quote is an error, never a silently merged record.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True)
    header: list[str] | None = None
    header_line = 0
    records: list[dict[str, Any]] = []
    while True:
        start = reader.line_num + 1  # physical line where the next row begins
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            hint = ""
            if "unexpected end of data" in str(e):
                hint = " (a quoted cell that starts here is never closed)"
            raise InputError(
                f"{name}, line {start}: malformed CSV: {e}{hint}", path=name, line=start
            ) from None
        if _is_blank(row):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            header_line = start
            seen: set[str] = set()
            for i, field in enumerate(header, 1):
                if not field:
                    raise InputError(
                        f"{name}, line {start}: column {i} of the header row has no name",
                        path=name,
                        line=start,
                    )
                if field in seen:
                    raise InputError(
                        f"{name}, line {start}: the header row names {field!r} twice",
                        path=name,
                        line=start,
                    )
                seen.add(field)
            continue
        if len(row) != len(header):
            raise InputError(
                f"{name}, line {start}: this row has {len(row)} cell(s) but the header "
                f"(line {header_line}) has {len(header)} column(s)",
                path=name,
                line=start,
            )
        record: dict[str, Any] = {}
        for field, cell in zip(header, row):
            cell = cell.strip()
            record[field] = cell if cell else None
        records.append(record)
    if header is None:
        raise InputError(
            f"{name}: the file is empty; a CSV record file starts with a header row "
            "naming the fields",
            path=name,
        )
    return records


# ----------------------------------------------------------------------- JSON


class _DuplicateKeys(dict):
    """A JSON object that named some key more than once (kept for the error)."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    dups: list[str] = []
    for key, value in pairs:
        if key in obj and key not in dups:
            dups.append(key)
        obj[key] = value
    if dups:
        marked = _DuplicateKeys(obj)
        marked.duplicates = dups
        return marked
    return obj


def _parse_constant(text: str) -> Decimal:
    return _CONSTANTS[text]


def _loads(text: str) -> Any:
    return json.loads(
        text,
        parse_float=Decimal,
        parse_constant=_parse_constant,
        object_pairs_hook=_object_pairs,
    )


def _check_record(obj: Any, where: str, name: str, line: int | None) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise InputError(
            f"{where} is not an object (it is {_describe(obj)}); "
            "each record must be a JSON object of field names and values",
            path=name,
            line=line,
        )
    if isinstance(obj, _DuplicateKeys):
        names = ", ".join(repr(k) for k in obj.duplicates)
        raise InputError(
            f"{where} names the field(s) {names} more than once",
            path=name,
            line=line,
        )
    return obj


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _json_error(e: Exception, name: str, line: int | None = None) -> InputError:
    """Describe a JSON parse failure; *line* is the line of a JSON Lines record."""
    if isinstance(e, json.JSONDecodeError):
        at = e.lineno if line is None else line + e.lineno - 1
        return InputError(
            f"{name}, line {at}, column {e.colno}: not valid JSON: {e.msg}",
            path=name,
            line=at,
        )
    where = name if line is None else f"{name}, line {line}"
    if isinstance(e, RecursionError):
        return InputError(f"{where}: JSON nested too deeply", path=name, line=line)
    return InputError(f"{where}: not valid JSON: {e}", path=name, line=line)


def _read_json(text: str, name: str) -> list[dict[str, Any]]:
    if not text.strip():
        raise InputError(f"{name}: the file is empty; expected a JSON array of records", path=name)
    try:
        data = _loads(text)
    except (ValueError, RecursionError) as e:
        raise _json_error(e, name) from None
    if not isinstance(data, list):
        hint = ""
        if isinstance(data, dict):
            hint = " (for one object per line, use a .jsonl file or --input-format jsonl)"
        raise InputError(
            f"{name}: expected a JSON array of records, found {_describe(data)}{hint}",
            path=name,
        )
    return [_check_record(obj, f"{name}: record #{i}", name, None) for i, obj in enumerate(data, 1)]


def _read_jsonl(text: str, name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    # Split on "\n" only: JSON strings may legally contain U+2028 and friends,
    # which str.splitlines() would treat as line breaks.
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = _loads(line)
        except (ValueError, RecursionError) as e:
            raise _json_error(e, name, lineno) from None
        records.append(_check_record(obj, f"{name}, line {lineno}: the record", name, lineno))
    return records
