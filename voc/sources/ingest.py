"""Turn raw rows into records, validating each field and quarantining bad rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from voc.config import PostgresSourceConfig, SourceConfig
from voc.errors import ColumnError
from voc.pii import mask_pii
from voc.sources.columns import detect_columns
from voc.sources.readers import read_file

log = logging.getLogger(__name__)

RECORD_COLUMNS = [
    "doc_id",
    "source",
    "source_kind",
    "native_id",
    "product",
    "user_id",
    "created_at",
    "rating",
    "turn_index",
    "is_agent",
    "text",
    "file",
    "row",
    "text_field",  # the source's text column: a row cleaning sets aside names it
]
QUARANTINE_COLUMNS = ["source", "file", "row", "field", "reason", "raw"]
# The non-text record columns; an empty records table keeps them, so later steps can
# use ``.dt`` on ``created_at`` even when no row of any source was usable.
_RECORD_DTYPES = {
    "created_at": "datetime64[s]",
    "rating": "float64",
    "turn_index": "int32",
    "is_agent": "bool",
    "row": "int64",
}

_AGENT_VALUES = {"1", "true", "agent", "客服", "seller", "staff", "bot", "店家", "商家", "卖家"}
_CUSTOMER_VALUES = {"0", "false", "customer", "user", "buyer", "用户", "买家", "顾客", "客户"}
_RAW_EXCERPT = 300


@dataclass
class IngestResult:
    """What one or more sources gave: records, quarantined rows and per-source counts.

    ``watermarks`` holds, per incremental (PostgreSQL) source, the watermark column and
    the largest value read from it; the run publishes it so the next run starts there.
    """

    records: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: dict[str, int] = field(default_factory=dict)
    watermarks: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def concat(cls, parts: list[IngestResult]) -> IngestResult:
        records = [p.records for p in parts if len(p.records)]
        quarantine = [p.quarantine for p in parts if len(p.quarantine)]
        rows_read: dict[str, int] = {}
        watermarks: dict[str, tuple[str, str]] = {}
        for part in parts:
            rows_read.update(part.rows_read)
            watermarks.update(part.watermarks)
        return cls(
            records=pd.concat(records, ignore_index=True) if records else _empty_records(),
            quarantine=(
                pd.concat(quarantine, ignore_index=True) if quarantine else _empty_quarantine()
            ),
            rows_read=rows_read,
            watermarks=watermarks,
        )


def _empty_records() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=_RECORD_DTYPES.get(c, "str")) for c in RECORD_COLUMNS})


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})


def stable_id(*parts: str) -> str:
    """A 16-hex-digit id from its parts: the same parts give the same id on every run."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def ingest_sources(
    sources: tuple[SourceConfig | PostgresSourceConfig, ...],
    today: dt.date,
    watermarks: Mapping[str, tuple[str, str]] | None = None,
) -> IngestResult:
    """Read every source. See :func:`ingest_source`.

    ``watermarks`` maps a source name to where the last published run stopped reading
    it, as ``(column, value)`` (incremental sources only).
    """
    watermarks = watermarks or {}
    return IngestResult.concat(
        [ingest_source(s, today, watermarks.get(s.source_name)) for s in sources]
    )


def ingest_source(
    source: SourceConfig | PostgresSourceConfig,
    today: dt.date,
    watermark: tuple[str, str] | None = None,
) -> IngestResult:
    """Read one source into records.

    Args:
        source: Where the file (or database table) is and how to read it.
        today: The run date, used as the date of records that carry no time.
        watermark: For a PostgreSQL source, ``(column, value)`` to read from.

    Returns:
        Records (one per review or chat turn) and quarantined rows.

    Raises:
        InputFileError: the file is missing, empty, undecodable or of an unknown type.
        ColumnError: a named column is missing or no text column exists.
        PostgresError: the database cannot be reached or the table cannot be read.
    """
    if isinstance(source, PostgresSourceConfig):
        from voc.postgres import read_table_source  # psycopg only when a database is read

        return read_table_source(source, today, watermark)
    path = Path(source.path)
    frame, bad_rows, fmt, codec = read_file(path, source.format, source.encoding)
    log.info(
        "read %s: %d rows (%s, %s), %d unreadable", path, len(frame), fmt, codec, len(bad_rows)
    )
    return records_from_frame(frame, bad_rows, source, path, today)


def records_from_frame(
    frame: pd.DataFrame,
    bad_rows: list[tuple[int, str, str, str]],
    source: SourceConfig | PostgresSourceConfig,
    path: Path | str,
    today: dt.date,
) -> IngestResult:
    """Detect the columns of a table of strings and turn its rows into records.

    Shared by every reader, so a file and a database table are validated alike.

    Args:
        frame: All fields as strings (or None), plus the ``_row`` column.
        bad_rows: Rows the reader could not read at all: ``(row, field, reason, raw)``.
        source: The source's settings (name, columns, kind, time zone, rating scale).
        path: Where the rows came from, as shown in ``quarantine.file``.
        today: The run date.

    Returns:
        Records and quarantined rows; ``rows_read`` counts both.
    """
    name = source.source_name
    columns = detect_columns(frame, source.columns, str(path))
    kind = source.kind
    if kind == "auto":
        kind = "chat" if {"speaker", "session"} <= columns.keys() else "review"
    if kind == "chat" and "session" not in columns:
        raise ColumnError(f"{path}: a chat source needs a session column; name it in the config")
    log.info("%s: %s source, columns %s", name, kind, columns)

    quarantine: list[dict[str, object]] = [
        quarantine_row(name, path, row, fld, reason, raw) for row, fld, reason, raw in bad_rows
    ]
    records = _build_records(frame, columns, kind, source, path, today, quarantine)
    result = IngestResult(
        records=records,
        quarantine=pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS),
        rows_read={name: len(frame) + len(bad_rows)},
    )
    return result


def quarantine_row(
    source: str, path: Path | str, row: int, fld: str, reason: str, raw: str
) -> dict[str, object]:
    """One row of the ``quarantine`` table: reason and an excerpt of the row, masked."""
    return {
        "source": source,
        "file": str(path),
        "row": int(row),
        "field": fld,
        # quarantined rows are stored too, and a reason quotes the bad value: mask both
        "reason": mask_pii(reason),
        "raw": mask_pii(raw[:_RAW_EXCERPT]),
    }


def _column(frame: pd.DataFrame, columns: dict[str, str], role: str) -> pd.Series:
    if role in columns:
        return frame[columns[role]].map(lambda v: None if v is None else str(v).strip())
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _build_records(
    frame: pd.DataFrame,
    columns: dict[str, str],
    kind: str,
    source: SourceConfig | PostgresSourceConfig,
    path: Path | str,
    today: dt.date,
    quarantine: list[dict[str, object]],
) -> pd.DataFrame:
    name = source.source_name
    text = frame[columns["text"]].map(lambda v: "" if v is None else str(v))
    times, time_bad = parse_times(_column(frame, columns, "time"), source.timezone)
    time_ahead = future_times(times, source.timezone)
    ratings, rating_bad = parse_ratings(_column(frame, columns, "rating"), source.rating_scale)
    speaker = _column(frame, columns, "speaker")
    is_agent, speaker_bad = (
        parse_speaker(speaker)
        if kind == "chat"
        else (pd.Series(False, index=frame.index), pd.Series(False, index=frame.index))
    )
    empty_text = text.str.strip() == ""
    session = _column(frame, columns, "session")
    no_session = (session.isna() | (session == "")) if kind == "chat" else empty_text & False

    def value(i: int, role: str) -> object:
        return frame.at[i, columns[role]]

    problems = [
        (empty_text, columns["text"], lambda i: "empty text"),
        (time_bad, columns.get("time", ""), lambda i: f"unparseable time {value(i, 'time')!r}"),
        (time_ahead, columns.get("time", ""), lambda i: _future_reason(value(i, "time"))),
        (rating_bad, columns.get("rating", ""), lambda i: _rating_reason(value(i, "rating"), source.rating_scale)),
        (speaker_bad, columns.get("speaker", ""), lambda i: f"unknown speaker value {speaker.at[i]!r}"),
        (no_session, columns.get("session", ""), lambda i: "empty session id"),
    ]  # fmt: skip
    bad = pd.Series(False, index=frame.index)
    for mask, column, reason in problems:
        for i in frame.index[mask & ~bad]:
            raw = "\t".join("" if v is None else str(v) for v in frame.loc[i].drop("_row"))
            quarantine.append(
                quarantine_row(name, path, int(frame.at[i, "_row"]), column, reason(i), raw)
            )
        bad |= mask

    good = frame.index[~bad]
    if good.empty:
        return _empty_records()
    product = _column(frame, columns, "product").fillna(source.default_product)
    product = product.where(product.str.len() > 0, source.default_product)
    user = _column(frame, columns, "user")
    if kind == "chat":
        native = session.fillna("")
        # counted over every row of the session, so fixing a quarantined turn later
        # does not renumber the turns (and unit ids) after it
        turn_index = frame.groupby(native, sort=False).cumcount()
    else:
        native = _column(frame, columns, "id")
        missing = native.isna() | (native == "")
        derived = pd.Series(
            [
                "h" + stable_id(str(times.at[i]), str(product.at[i]), text.at[i])
                for i in frame.index[missing]
            ],
            index=frame.index[missing],
            dtype=object,
        )
        native = native.where(~missing, derived)
        turn_index = pd.Series(0, index=frame.index)

    records = pd.DataFrame(
        {
            "doc_id": [stable_id(name, n) for n in native.loc[good]],
            "source": name,
            "source_kind": kind,
            "native_id": native.loc[good].to_numpy(),
            "product": product.loc[good].to_numpy(),
            "user_id": user.loc[good].to_numpy(),
            "created_at": times.loc[good].to_numpy(),
            "rating": ratings.loc[good].to_numpy(),
            "turn_index": turn_index.loc[good].astype("int32").to_numpy(),
            "is_agent": is_agent.loc[good].astype(bool).to_numpy(),
            "text": text.loc[good].to_numpy(),
            "file": str(path),
            "row": frame.loc[good, "_row"].astype("int64").to_numpy(),
            "text_field": columns["text"],
        }
    )
    records["created_at"] = pd.to_datetime(records["created_at"])
    no_time = records["created_at"].isna()
    if no_time.any():
        log.info("%s: %d records carry no time; they count for %s", name, int(no_time.sum()), today)
    return records


_EPOCH = r"^\d{10}(?:\d{3})?$"
_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"
# A trailing UTC or GMT, maybe with an offset and a zone comment: "GMT+0800 (CST)".
_NAMED_UTC = re.compile(
    r"\s*(?:UTC|GMT)(?:\s*([+-])(\d{1,2}):?(\d\d)?)?(?:\s*\([^()]*\))?$", re.IGNORECASE
)


# A date written the Chinese way, maybe with a time: 2024年5月1日 下午3点20分 -> 2024-5-1 15:20.
_CHINESE_TIME = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]"
    r"(?:(上午|中午|下午|晚上|凌晨)?(\d{1,2})[时点:：](?:(\d{1,2})分?)?(?:(\d{1,2})秒)?)?$"
)
_AFTERNOON = ("中午", "下午", "晚上")


def _western_time(value: str) -> str:
    """A Chinese date and time as ``Y-M-D H:M:S``; any other text unchanged."""
    found = _CHINESE_TIME.match(re.sub(r"\s+", "", value)) if "年" in value else None
    if not found:
        return value
    year, month, day, half, hour, minute, second = found.groups()
    if hour is None:
        return f"{year}-{month}-{day}"
    hours = int(hour) + (12 if half in _AFTERNOON and int(hour) < 12 else 0)
    return f"{year}-{month}-{day} {hours}:{minute or 0}:{second or 0}"


def parse_times(values: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series]:
    """Parse times into naive local timestamps.

    Times without a zone are taken as local shop time and kept as written (to the
    second). Times with an offset (``Z``, ``+08:00``, ``UTC``, ``GMT+8``) and Unix
    epochs are converted to ``timezone``, so a file mixing zoned and naive times gives
    one clock. ``UTC+8`` means eight hours *east*, as Chinese exports mean it (not the
    POSIX reading). A zone given only by an abbreviation (``CST`` is China or US
    Central time) is ambiguous: that value counts as unparseable, so its row is
    quarantined with the field rather than given a guessed time. Dates written the
    Chinese way (``2024年5月1日 下午3点20分``) are read as such.

    Returns:
        ``(timestamps or NaT, mask of values that are present but unparseable)``.
    """
    text = values.map(lambda v: "" if v is None else _western_time(str(v).strip()))
    text = text.str.replace(_NAMED_UTC, _iso_offset, regex=True)
    present = (text != "") & (text.str.lower() != "nan")
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    epoch = present & text.str.match(_EPOCH)
    offset = present & ~epoch & text.str.contains(_OFFSET, regex=True)
    naive = present & ~epoch & ~offset
    if epoch.any():
        seconds = text[epoch].map(lambda v: int(v) // 1000 if len(v) == 13 else int(v))
        stamps = pd.to_datetime(seconds, unit="s", utc=True)
        parsed.loc[epoch] = stamps.dt.tz_convert(timezone).dt.tz_localize(None).dt.floor("s")
    if offset.any():
        stamps = pd.to_datetime(text[offset], errors="coerce", format="mixed", utc=True)
        parsed.loc[offset] = stamps.dt.tz_convert(timezone).dt.tz_localize(None).dt.floor("s")
    if naive.any():
        # floored: documents keep whole seconds, and fractions would not fit the column
        parsed.loc[naive] = _parse_as_written(text[naive], timezone).dt.floor("s")
    return parsed, present & parsed.isna()


# How far past the current time a time may lie. A naive time counts as the source's
# local time; one a shop wrote in a zone up to 14 h ahead of it (or a fast clock) stays
# within a day. Anything later is a typo or a placeholder (9999-12-31) that would count
# for a day that has not happened yet.
FUTURE_TOLERANCE = pd.Timedelta(days=1)


def future_times(times: pd.Series, timezone: str, now: pd.Timestamp | None = None) -> pd.Series:
    """Mask of times more than :data:`FUTURE_TOLERANCE` after ``now``.

    Args:
        times: Naive local timestamps in ``timezone`` (or NaT), as from :func:`parse_times`.
        timezone: The source's time zone, the clock ``now`` is read in.
        now: The current naive local time; ``None`` reads the clock.

    Returns:
        True where a time lies too far in the future; False for NaT.
    """
    if now is None:
        now = pd.Timestamp.now(tz=timezone).tz_localize(None)
    return times.notna() & (times > now + FUTURE_TOLERANCE)


def _future_reason(value: object) -> str:
    hours = int(FUTURE_TOLERANCE / pd.Timedelta(hours=1))
    return f"time {value!r} is more than {hours} hours in the future"


def _iso_offset(match: re.Match[str]) -> str:
    """``UTC`` -> ``+00:00``, ``GMT+8`` -> ``+08:00``."""
    sign, hours, minutes = match.groups()
    if sign is None:
        return "+00:00"
    return f"{sign}{int(hours):02d}:{minutes or '00'}"


def _parse_as_written(text: pd.Series, timezone: str) -> pd.Series:
    """Times with no offset we recognise, as written.

    A few may still carry one pandas reads (``+08``); mixed with naive times they make
    one call fail, so then each value is parsed alone and the zoned ones converted.
    """
    try:
        stamps = pd.to_datetime(text, errors="coerce", format="mixed")
    except (ValueError, TypeError):  # "Mixed timezones detected"
        stamps = None
    if stamps is not None and stamps.dt.tz is None:
        return stamps
    return pd.to_datetime(text.map(lambda v: _local_time(v, timezone)))


def _local_time(value: str, timezone: str) -> pd.Timestamp:
    stamp = pd.to_datetime(value, errors="coerce", format="mixed")
    if pd.notna(stamp) and stamp.tzinfo is not None:
        stamp = stamp.tz_convert(timezone).tz_localize(None)
    return stamp


STARS = (1, 5)  # what ``documents.rating`` holds, whatever the source's scale


def parse_ratings(values: pd.Series, scale: tuple[float, float]) -> tuple[pd.Series, pd.Series]:
    """Parse ratings into 1-5 stars; returns (float or NaN, mask of bad values).

    Values are NFKC-normalised first, so a full-width ``５`` reads as 5. A value that
    is not a number or lies outside ``scale`` (the source's lowest and highest
    rating) is bad. Another scale than 1-5 is mapped linearly onto it, lowest to 1
    and highest to 5 (on 1-10, 10 is 5 stars and 6 is 3.22), so averages and the
    promoter split of every source count the same stars.
    """
    text = _nfkc(values)
    present = text.notna() & (text != "")
    numbers = pd.to_numeric(text.where(present), errors="coerce")
    low, high = scale
    bad = present & (numbers.isna() | (numbers < low) | (numbers > high))
    ratings = numbers.where(~bad).astype("float64")
    if tuple(scale) != STARS:  # not even a rounding error on 1-5 ratings
        ratings = STARS[0] + (ratings - low) * (STARS[1] - STARS[0]) / (high - low)
    return ratings, bad


def _nfkc(values: pd.Series) -> pd.Series:
    return values.map(
        lambda v: unicodedata.normalize("NFKC", str(v)).strip() if pd.notna(v) else None
    )


def _rating_reason(value: object, scale: tuple[float, float]) -> str:
    number = pd.to_numeric(_nfkc(pd.Series([value])), errors="coerce").iloc[0]
    if pd.isna(number):
        return f"unparseable rating {value!r}"
    return f"rating {value!r} outside {scale[0]:g}-{scale[1]:g}"


def parse_speaker(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Map speaker values to is_agent; returns (bool series, mask of unknown values)."""
    lowered = values.map(lambda v: "" if v is None else str(v).strip().lower())
    agent = lowered.isin(_AGENT_VALUES)
    known = agent | lowered.isin(_CUSTOMER_VALUES)
    return agent, ~known
