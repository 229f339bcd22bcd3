"""Export the scorecard, aggregates and alerts as CSV or XLSX for people who live in Excel.

Customer text is hostile input as far as a spreadsheet is concerned: a review that
starts with ``=HYPERLINK(...)`` would become a live formula when the file is opened.
Every text cell that starts with a formula trigger (``= + - @``, tab or carriage
return) is therefore prefixed with an apostrophe, the usual defence against CSV
injection; numbers stay numbers. In a CSV file, line breaks inside a cell become
spaces: a reader that ends a row at a bare carriage return (Excel, LibreOffice,
Python's csv module) would otherwise start a new row with the rest of the cell.
Each exported table carries the customers' own words next to the figures
(``example_texts``), so nobody needs the DuckDB file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pandas as pd

from voc.errors import ExportError, StoreError

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
EXPORTABLE = ("product_scorecard", "daily_aggregates", "alerts")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_575  # one row of the sheet's 1,048,576 is the header
EXCEL_MAX_CELL = 32_767  # characters Excel keeps in a cell
_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " "})


def neutralise(value: object) -> object:
    """Make a text cell safe to open in a spreadsheet; leave anything else alone."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply :func:`neutralise` to every text column of ``frame``."""
    return _map_text_columns(frame, neutralise)


def one_line(value: object) -> object:
    """A text cell with its line breaks as spaces, so it cannot start a row of its own."""
    return value.translate(_LINE_BREAKS) if isinstance(value, str) else value


def _map_text_columns(frame: pd.DataFrame, fn) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(fn)
    return out


def read_export_tables(database: Path, tables: tuple[str, ...] = EXPORTABLE) -> dict:
    """The tables to export from a published DuckDB file, with topic labels and verbatims.

    Raises:
        StoreError: the file is missing or unreadable.
        ExportError: a requested table does not exist.
    """
    if not database.exists():
        raise StoreError(f"{database}: no published output here; run `voc run` first")
    unknown = [t for t in tables if t not in EXPORTABLE]
    if unknown:
        raise ExportError(f"cannot export {unknown}; choose from {list(EXPORTABLE)}")
    with duckdb.connect(str(database), read_only=True, config={"threads": 1}) as con:
        texts = dict(con.execute("SELECT unit_id, text FROM units").fetchall())
        labels = dict(con.execute("SELECT topic_id, label FROM topics").fetchall())
        frames = {name: _with_dates(con.table(name)) for name in tables}
    for name, frame in frames.items():
        if "topic_id" in frame.columns and "topic_label" not in frame.columns:
            frame.insert(
                frame.columns.get_loc("topic_id") + 1,
                "topic_label",
                frame["topic_id"].map(labels).fillna(""),
            )
        if "example_unit_ids" in frame.columns:
            frame["example_texts"] = [
                " | ".join(texts.get(u, "") for u in str(ids).split(",") if u)
                for ids in frame["example_unit_ids"].fillna("")
            ]
        frames[name] = frame
    return frames


def _with_dates(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """The relation as pandas, DATE columns as dates (``df()`` makes them midnight timestamps)."""
    frame = relation.df()
    for column, kind in zip(relation.columns, relation.types, strict=True):
        if str(kind) == "DATE":
            frame[column] = frame[column].dt.date
    return frame


def export(
    out_dir: str | Path,
    destination: str | Path,
    fmt: str = "csv",
    tables: tuple[str, ...] = EXPORTABLE,
) -> list[Path]:
    """Write the published tables of ``out_dir`` as CSV files or one XLSX workbook.

    Args:
        out_dir: An output directory of ``voc run`` (its ``voc.duckdb`` is read).
        destination: A folder for CSV files (one per table), or the ``.xlsx`` file
            (one sheet per table).
        fmt: ``csv`` or ``xlsx``.
        tables: Which of :data:`EXPORTABLE` to write.

    Returns:
        The files written.

    Raises:
        ExportError: an unknown format or table, or a table too long for one sheet.
        StoreError: there is no published output in ``out_dir``.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose from {list(FORMATS)}")
    frames = {
        name: neutralise_frame(frame)
        for name, frame in read_export_tables(Path(out_dir) / "voc.duckdb", tables).items()
    }
    destination = Path(destination)
    if fmt == "csv":
        destination.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in frames.items():
            path = destination / f"{name}.csv"
            # utf-8-sig: Excel opens a CSV with a byte-order mark as UTF-8, not as GBK
            _map_text_columns(frame, one_line).to_csv(path, index=False, encoding="utf-8-sig")
            written.append(path)
        return written
    return [_write_xlsx(frames, destination)]


def _write_xlsx(frames: dict[str, pd.DataFrame], path: Path) -> Path:
    for name, frame in frames.items():
        if len(frame) > EXCEL_MAX_ROWS:
            raise ExportError(
                f"{name} has {len(frame):,} rows, more than one Excel sheet holds"
                f" ({EXCEL_MAX_ROWS:,}); export it with --format csv"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(
        path, engine="openpyxl", date_format="YYYY-MM-DD", datetime_format="YYYY-MM-DD HH:MM:SS"
    ) as writer:
        for name, frame in frames.items():
            _cut_long_cells(frame).to_excel(writer, sheet_name=name[:31], index=False)
    log.info("exported %d sheets to %s", len(frames), path)
    return path


def _cut_long_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Excel drops text past 32,767 characters; cut it visibly instead."""
    return _map_text_columns(frame, _cut_for_excel)


def _cut_for_excel(value: object) -> object:
    if isinstance(value, str) and len(value) > EXCEL_MAX_CELL:
        return value[: EXCEL_MAX_CELL - 20] + "…[cut for Excel]"
    return value
