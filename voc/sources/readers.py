"""Read one file into a table of strings, keeping each row's line number.

Every reader returns ``(frame, bad_rows)``: ``frame`` holds all fields as strings plus
a ``_row`` column (1-based row in the file, the header being row 1; for a JSON array,
the object's place in it), and ``bad_rows`` lists rows that could not be read at all,
as ``(row, field, reason, raw)``. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from openpyxl.utils.exceptions import InvalidFileException

from voc.errors import InputFileError
from voc.sources.columns import check_header_names
from voc.sources.encoding import decode_file

log = logging.getLogger(__name__)

BadRow = tuple[int, str, str, str]

_JDDC_COLUMNS = ["session_id", "user_id", "is_agent", "transferred", "repeat", "sku", "text"]
_HEX32 = re.compile(r"^[0-9a-f]{32}$")

FORMAT_BY_SUFFIX = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".xlsx": "xlsx",
    ".xls": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def guess_format(path: Path, text_head: str | None) -> str:
    """The file format from its suffix, or JDDC when a TSV looks like a JDDC chat log.

    A ``.csv`` whose header has tabs and no comma is read as TSV: exports saved from
    Excel as "Unicode text" keep the ``.csv`` name.
    """
    fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(
            f"{path}: unknown file type {path.suffix!r}; use .csv .tsv .jsonl .xlsx or .parquet"
        )
    header = (text_head or "").split("\n", 1)[0]
    if fmt == "csv" and "\t" in header and "," not in header:
        log.info("%s: the header is tab-separated; reading the file as TSV", path)
        fmt = "tsv"
    if fmt == "tsv" and text_head is not None and looks_like_jddc(text_head):
        return "jddc"
    return fmt


def looks_like_jddc(head: str) -> bool:
    """A JDDC chat log has no header and 7 tab-separated fields: hex session id first."""
    first = head.split("\n", 1)[0].split("\t")
    return len(first) == 7 and bool(_HEX32.match(first[0])) and first[2] in {"0", "1"}


def read_delimited(path: Path, text: str, delimiter: str) -> tuple[pd.DataFrame, list[BadRow]]:
    """CSV/TSV with a header row; ragged rows are reported, not guessed at.

    The reader is strict: a quote that is never closed (a file cut off mid-field) or
    text after a closing quote is a bad row, not a field silently holding the rest of
    the file.

    Raises:
        InputFileError: the header row is missing, blank or unparseable.
        ColumnError: the header names a column twice.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError(f"{path}: the file is empty (no header row)") from None
    except csv.Error as exc:
        raise InputFileError(f"{path}: row 1: cannot parse the header: {exc}") from exc
    header = [h.strip() for h in header]
    if not any(header):
        raise InputFileError(f"{path}: row 1: the header row is blank")
    check_header_names(header, str(path))
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    bad: list[BadRow] = []
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason = f"unparseable row: {exc}"
            if "unexpected end of data" in str(exc):
                reason = (
                    f"a quote opened in row {start} is never closed, so lines {start}-"
                    f"{reader.line_num} cannot be split into rows (is the file cut off?)"
                )
            bad.append((start, "", reason, ""))
            continue
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line is not a row
        if len(fields) != len(header):
            raw = delimiter.join(fields)
            reason = f"expected {len(header)} fields, found {len(fields)}"
            bad.append((start, "", reason, raw))
            continue
        rows.append(fields)
        row_numbers.append(start)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame["_row"] = row_numbers
    return frame, bad


def _numbered_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) for every line that is not blank."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line


def read_jddc(path: Path, text: str) -> tuple[pd.DataFrame, list[BadRow]]:
    """JDDC chat log: no header, 7 tab-separated fields, no quoting."""
    rows, numbers, bad = [], [], []
    for number, line in _numbered_lines(text):
        fields = line.split("\t")
        if len(fields) != len(_JDDC_COLUMNS):
            bad.append((number, "", f"expected 7 tab-separated fields, found {len(fields)}", line))
            continue
        rows.append(fields)
        numbers.append(number)
    frame = pd.DataFrame(rows, columns=_JDDC_COLUMNS, dtype=object)
    frame["_row"] = numbers
    return frame, bad


def read_jsonl(path: Path, text: str) -> tuple[pd.DataFrame, list[BadRow]]:
    """One JSON object per line.

    Raises:
        InputFileError: not one line is a JSON object, so this is not JSON Lines at all.
    """
    records, numbers, bad = [], [], []
    for number, line in _numbered_lines(text):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append((number, "", f"invalid JSON: {exc.msg}", line))
            continue
        if not isinstance(obj, dict):
            bad.append((number, "", "expected a JSON object", line))
            continue
        records.append(_fields_as_text(obj))
        numbers.append(number)
    if not records:
        number, _, reason, _ = bad[0]
        raise InputFileError(
            f"{path}: line {number}: {reason}; expected one JSON object per line"
            " (JSON Lines) or a JSON array of objects"
        )
    return _json_frame(records, numbers), bad


def read_json_array(path: Path, text: str) -> tuple[pd.DataFrame, list[BadRow]]:
    """A JSON array of objects; the row of an object is its 1-based place in the array.

    Raises:
        InputFileError: the text is not valid JSON (no row can be told from the next),
            or the array holds no object.
    """
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            f"{path}: line {exc.lineno}: invalid JSON ({exc.msg}); expected a JSON array"
            " of objects or one JSON object per line"
        ) from exc
    records, numbers, bad = [], [], []
    for number, obj in enumerate(items, start=1):
        if not isinstance(obj, dict):
            bad.append((number, "", "expected a JSON object", json.dumps(obj, ensure_ascii=False)))
            continue
        records.append(_fields_as_text(obj))
        numbers.append(number)
    if not records:
        raise InputFileError(f"{path}: the JSON array holds no objects; expected one per row")
    return _json_frame(records, numbers), bad


def _fields_as_text(obj: dict[str, object]) -> dict[str, str | None]:
    return {k: None if v is None else str(v) for k, v in obj.items()}


def _json_frame(records: list[dict[str, str | None]], numbers: list[int]) -> pd.DataFrame:
    frame = _missing_as_none(pd.DataFrame.from_records(records))
    frame["_row"] = numbers
    return frame


def read_excel(path: Path) -> tuple[pd.DataFrame, list[BadRow]]:
    """The first sheet of a workbook; row numbers as Excel shows them.

    The header is the first row that is not blank (a sheet often starts with an empty
    row or two). Other sheets are not read: a warning names them.

    Raises:
        InputFileError: the file is not an xlsx workbook or cannot be read.
        ColumnError: the header row names a column twice.
    """
    try:
        with pd.ExcelFile(path, engine="openpyxl") as workbook:
            sheets = workbook.sheet_names
            # pandas renames a repeated name ("text", "text.1"), and a real column may be
            # called "text.1": the header is checked as the sheet holds it
            skipped, header = _first_filled_row(workbook.book.worksheets[0])
            frame = pd.read_excel(workbook, sheet_name=0, header=skipped, dtype=str)
    except (zipfile.BadZipFile, InvalidFileException) as exc:
        raise InputFileError(
            f"{path}: not an xlsx workbook ({exc}); re-save it from Excel as .xlsx or CSV"
            " (old .xls workbooks cannot be read)"
        ) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise InputFileError(f"{path}: cannot read the workbook: {exc}") from exc
    check_header_names(list(header), str(path))
    if len(sheets) > 1:
        log.warning(
            "%s: only the first sheet %r is read; sheets %s are ignored",
            path,
            sheets[0],
            sheets[1:],
        )
    frame = _missing_as_none(frame)
    first_data_row = skipped + 2  # Excel counts from 1, and the header takes a row
    frame["_row"] = range(first_data_row, len(frame) + first_data_row)
    blank = frame.drop(columns="_row").isna().all(axis=1)
    return frame[~blank].reset_index(drop=True), []  # as in a CSV, a blank row is not a row


def _first_filled_row(sheet) -> tuple[int, tuple]:
    """How many blank rows open the sheet, and the first row that is not blank."""
    for skipped, values in enumerate(sheet.iter_rows(values_only=True)):
        if any(v is not None and str(v).strip() for v in values):
            return skipped, values
    return 0, ()


def read_parquet(path: Path) -> tuple[pd.DataFrame, list[BadRow]]:
    """A Parquet file; every column is read as text."""
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path}: cannot read Parquet: {exc}") from exc
    # Cast in Arrow, where a null stays a null: through pandas an integer column with a
    # null would become floats ("1.0") and the null the text "nan".
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            columns.append(pc.cast(column, pa.string()))
        except pa.ArrowException as exc:
            raise InputFileError(
                f"{path}: column {name!r} ({column.type}) cannot be read as text: {exc};"
                " convert it to a text column or drop it"
            ) from exc
    as_text = pa.Table.from_arrays(columns, names=table.column_names)
    frame = _missing_as_none(as_text.to_pandas())
    frame["_row"] = range(1, len(frame) + 1)
    return frame, []


def _missing_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns where a missing value is ``None`` (not NaN, which reads as "nan")."""
    frame = frame.astype(object)
    return frame.where(frame.notna(), None)


def read_file(
    path: Path, fmt: str = "auto", encoding: str | None = None
) -> tuple[pd.DataFrame, list[BadRow], str, str]:
    """Read any supported file.

    Args:
        path: The input file.
        fmt: ``auto`` or one of csv, tsv, jsonl, xlsx, parquet, jddc.
        encoding: Codec for text files; ``None`` detects it.

    Returns:
        ``(frame, bad_rows, format, encoding)``.

    Raises:
        InputFileError: the file is missing, empty, undecodable or of an unknown type.
        ColumnError: a header row (CSV, TSV or workbook) names a column twice.
    """
    if path.is_dir():
        raise InputFileError(f"{path}: is a directory; give the file in it")
    if not path.is_file():
        raise InputFileError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: the file is empty")
    binary = fmt in {"xlsx", "parquet"} or (
        fmt == "auto" and FORMAT_BY_SUFFIX.get(path.suffix.lower()) in {"xlsx", "parquet"}
    )
    if binary:
        fmt = guess_format(path, None) if fmt == "auto" else fmt
        reader = read_excel if fmt == "xlsx" else read_parquet
        frame, bad = reader(path)
        return frame, bad, fmt, "binary"
    text, codec = decode_file(path, encoding)
    if not text.strip():
        raise InputFileError(f"{path}: the file holds no text")
    if fmt == "auto":
        fmt = guess_format(path, text[:4096])
    if fmt == "jddc":
        frame, bad = read_jddc(path, text)
    elif fmt == "jsonl":
        reader = read_json_array if text.lstrip().startswith("[") else read_jsonl
        frame, bad = reader(path, text)
    else:
        frame, bad = read_delimited(path, text, "\t" if fmt == "tsv" else ",")
    return frame, bad, fmt, codec
