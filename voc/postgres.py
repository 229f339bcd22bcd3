"""PostgreSQL both ways: publish the current snapshot into a schema, read reviews from a table.

Sink, :func:`publish_to_postgres`: every table of the snapshot (the list comes from
:data:`voc.schemas.TABLES`, so tables added there flow through) is written into one
schema in ONE transaction: a failure half-way leaves the previous contents, and a
rerun gives the same contents again (tables are emptied and refilled, not appended
to). Values travel through ``COPY ... FROM STDIN``, never through SQL text, so a
review such as ``'); DROP TABLE x; --`` is stored verbatim. ``publish_log`` records
which run was published when.

Source, :func:`read_table_source`: reads a reviews (or chat) table incrementally by a
watermark column into the same records a file gives, with the same validation and
quarantine. The watermark of the last row read and not quarantined is published with
the snapshot (``source_watermarks``), so a failed run never moves it.

Secrets: the DSN comes from ``--to`` or ``$VOC_POSTGRES_DSN``; logs, errors and
tables only ever show it through :func:`redact`, without the password.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

from voc.config import PostgresSourceConfig
from voc.errors import ColumnError, PostgresError, StoreError
from voc.publish import VIEWS, Snapshot, Store
from voc.schemas import TABLES, conform, empty
from voc.sources.columns import detect_columns
from voc.sources.ingest import IngestResult, records_from_frame

log = logging.getLogger(__name__)

DSN_ENV = "VOC_POSTGRES_DSN"
DEFAULT_SCHEMA = "voc"
PUBLISH_LOG = "publish_log"
CONNECT_TIMEOUT_S = 10
_COPY_BATCH = 5000  # rows turned into Python values at a time
_WATERMARK_TEXT = "_voc_watermark"  # the watermark as PostgreSQL prints it


# ------------------------------------------------------------------------- connecting


def dsn_from(given: str | None, env: str = DSN_ENV) -> str:
    """The DSN given (``--to``), else the one in the environment variable ``env``.

    Raises:
        PostgresError: neither is set.
    """
    if given and given.strip():
        return given.strip()
    value = os.environ.get(env, "").strip()
    if not value:
        raise PostgresError(f"no PostgreSQL DSN: pass --to postgresql://user@host/db or set ${env}")
    return value


def redact(dsn: str) -> str:
    """The DSN without its password: the only form of a DSN that logs and errors show."""
    params = _params(dsn)
    if params is None:
        return "<unparseable DSN>"
    params.pop("password", None)
    return make_conninfo(**params) or "<default connection>"


def connect(dsn: str) -> psycopg.Connection:
    """Open an autocommit connection (callers open transactions explicitly).

    Raises:
        PostgresError: the DSN does not parse or the server refuses; one line, no password.
    """
    params = _params(dsn)
    if params is None:
        # psycopg's parse error quotes the DSN, password included: do not repeat it.
        raise PostgresError(
            "cannot parse the PostgreSQL DSN (not shown: it may hold a password); expected "
            "postgresql://user@host:port/dbname or key=value pairs"
        )
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    params.setdefault("application_name", "voc")
    try:
        return psycopg.connect(make_conninfo(**params), autocommit=True)
    except psycopg.Error as exc:
        raise PostgresError(
            f"cannot connect to PostgreSQL ({redact(dsn)}): {_one_line(exc, dsn)}"
        ) from None  # the chained libpq error is not scrubbed: leave it out


def _params(dsn: str) -> dict[str, str] | None:
    try:
        return {k: str(v) for k, v in conninfo_to_dict(dsn).items()}
    except psycopg.ProgrammingError:
        return None


def _one_line(exc: BaseException, dsn: str) -> str:
    """psycopg's message on one line, with the password cut out should it appear."""
    text = " ".join(str(exc).split())
    password = (_params(dsn) or {}).get("password")
    return text.replace(password, "***") if password else text


# ------------------------------------------------------------------------------- sink


@dataclass(frozen=True)
class PostgresPublish:
    """What :func:`publish_to_postgres` wrote: the run, where, and rows per table."""

    run_id: str
    schema: str
    target: str  # the redacted DSN
    rows: dict[str, int]


def publish_to_postgres(
    source: Store | Snapshot | str | Path, dsn: str, schema: str = DEFAULT_SCHEMA
) -> PostgresPublish:
    """Write every table of the current snapshot into ``schema``, in one transaction.

    Tables are created from the pyarrow schemas of :mod:`voc.schemas` (recreated when
    their columns changed), then emptied and refilled, so publishing the same run
    twice gives the same contents. The BI views are replaced in place, keeping their
    grants and the views that read them. Concurrent publishes to one schema wait in
    turn, the first two into a new schema included.

    Args:
        source: An output directory (or its Store), or a loaded Snapshot.
        dsn: libpq DSN, key=value or ``postgresql://`` URI; may hold a password.
        schema: The PostgreSQL schema to write to; created when missing.

    Returns:
        The published run id and the rows written per table.

    Raises:
        StoreError: the output directory holds no published run.
        PostgresError: connecting or writing failed, or the schema name is not one
            PostgreSQL accepts (or too long to keep whole); nothing was changed.
    """
    snapshot = source if isinstance(source, Snapshot) else _store(source).load()
    run_id = published_run_id(snapshot)
    tables = {name: to_arrow(name, frame) for name, frame in snapshot.tables.items()}
    target = redact(dsn)
    log.info("publishing run %s to PostgreSQL (%s), schema %s", run_id, target, schema)
    rows = {name: table.num_rows for name, table in tables.items()}
    step = "connect"
    with connect(dsn) as con:
        try:
            with con.transaction():
                step = "lock"
                lock_publishes(con, schema)
                step = "create schema"
                _create_schema(con, schema)
                for name, table in tables.items():
                    step = f"table {name}"
                    _replace_table(con, schema, name, table)
                for name, body in VIEWS.items():
                    step = f"view {name}"
                    _replace_view(con, schema, name, body)
                step = PUBLISH_LOG
                _log_publish(con, schema, run_id, rows)
        except psycopg.Error as exc:
            raise PostgresError(
                f"publishing run {run_id} to PostgreSQL ({target}) schema {schema!r} failed at "
                f"{step}; the previous contents are unchanged: {_one_line(exc, dsn)}"
            ) from None
    log.info("published run %s to schema %s: %d tables", run_id, schema, len(tables))
    return PostgresPublish(run_id=run_id, schema=schema, target=target, rows=rows)


def lock_publishes(con: psycopg.Connection, schema: str) -> None:
    """Wait until no other publish to ``schema`` runs; held until the transaction ends.

    The key is the schema's name, not an object in it, so it is taken before the schema
    exists: two first publishes into a new schema wait in turn instead of racing to
    create it (the second would fail on the first's uncommitted schema).
    """
    con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"voc:{schema}"])


def _create_schema(con: psycopg.Connection, schema: str) -> None:
    """Create ``schema`` when missing, also when someone else creates it at the same time.

    Raises:
        psycopg.Error: the server refuses the name (or it is too long to keep whole).
    """
    _check_name_length(con, schema)
    try:
        with con.transaction():  # a savepoint: the publish goes on after the refusal below
            con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    except psycopg.errors.UniqueViolation:
        # Created meanwhile by something other than a publish (a publish holds the lock).
        log.info("schema %s was created by another session meanwhile", schema)


def _check_name_length(con: psycopg.Connection, schema: str) -> None:
    """PostgreSQL cuts a longer name short, so every publish would miss its own tables.

    Raises:
        psycopg.errors.NameTooLong: reported like the server's own refusals of a name.
    """
    row = con.execute("SHOW max_identifier_length").fetchone()
    limit = int(row[0]) if row else 63  # 63 unless the server was built otherwise
    size = len(schema.encode("utf-8"))
    if size > limit:
        raise psycopg.errors.NameTooLong(
            f"schema name is {size} bytes long; PostgreSQL keeps names of at most {limit}"
            " bytes: choose a shorter --schema"
        )


def _store(source: Store | str | Path) -> Store:
    store = source if isinstance(source, Store) else Store(source)
    if not store.current.exists():
        raise StoreError(f"{store.root}: no published run here; run `voc run --out` first")
    return store


def published_run_id(snapshot: Snapshot) -> str:
    """The run that made the snapshot: the last row of ``runs`` (run ids sort by time)."""
    runs = snapshot.tables.get("runs")
    if runs is None or runs.empty:
        raise StoreError("the snapshot has no runs: nothing was published yet")
    return str(runs["run_id"].max())


def to_arrow(name: str, frame: pd.DataFrame) -> pa.Table:
    """A snapshot table as Arrow: contracted tables get their schema, others are inferred."""
    if name not in TABLES:
        return _without_nul(pa.Table.from_pandas(frame, preserve_index=False), name)
    return _without_nul(conform(frame, name), name)


def _without_nul(table: pa.Table, name: str) -> pa.Table:
    """PostgreSQL text cannot hold NUL characters; they become U+FFFD (and are counted)."""
    for index, field in enumerate(table.schema):
        if not pa.types.is_string(field.type) and not pa.types.is_large_string(field.type):
            continue
        column = table.column(index)
        found = pc.sum(pc.count_substring(column, "\x00")).as_py() or 0
        if found:
            log.warning("%s.%s: %d NUL characters replaced by U+FFFD", name, field.name, found)
            table = table.set_column(index, field, pc.replace_substring(column, "\x00", "\ufffd"))
    return table


def pg_type(arrow_type: pa.DataType, where: str) -> str:
    """The PostgreSQL type of an Arrow type, spelled as PostgreSQL's ``format_type`` prints it.

    Raises:
        StoreError: no mapping for this type (``where`` names the table and column).
    """
    t = arrow_type
    if pa.types.is_dictionary(t):
        return pg_type(t.value_type, where)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return pg_type(t.value_type, where) + "[]"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
        return "text"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "bigint"
    if pa.types.is_uint64(t):
        return "numeric"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "real"
    if pa.types.is_float64(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp with time zone" if t.tz else "timestamp without time zone"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "bytea"
    raise StoreError(f"{where}: no PostgreSQL type for Arrow type {t}")


def _replace_table(con: psycopg.Connection, schema: str, name: str, table: pa.Table) -> None:
    """Make ``schema.name`` hold exactly ``table``: recreate it if its columns differ.

    Our views that read the table are dropped with it (they are created again after
    the tables); a view of anyone else's makes the DROP fail, and with it the publish.
    """
    target = sql.Identifier(schema, name)
    wanted = [(f.name, pg_type(f.type, f"{name}.{f.name}")) for f in table.schema]
    if _existing_columns(con, schema, name) == wanted:
        con.execute(sql.SQL("TRUNCATE {}").format(target))
    else:
        columns = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(kind))  # kind: pg_type's
            for column, kind in wanted
        )
        for view in _our_views_reading(con, schema, name):
            con.execute(sql.SQL("DROP VIEW {}").format(sql.Identifier(schema, view)))
        con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
        con.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
    _copy_rows(con, target, table)


def _our_views_reading(con: psycopg.Connection, schema: str, table: str) -> list[str]:
    """The views of :data:`voc.publish.VIEWS` in ``schema`` that read ``schema.table``."""
    rows = con.execute(
        """
        SELECT DISTINCT v.relname
        FROM pg_depend d
        JOIN pg_rewrite r ON r.oid = d.objid
        JOIN pg_class v ON v.oid = r.ev_class
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
          AND n.nspname = %s AND t.relname = %s
          AND v.relnamespace = n.oid AND v.relname = ANY(%s)
        ORDER BY v.relname
        """,
        [schema, table, list(VIEWS)],
    ).fetchall()
    return [view for (view,) in rows]


def _replace_view(con: psycopg.Connection, schema: str, name: str, body: str) -> None:
    """A BI view of the DuckDB file over ``schema``'s tables, replaced in place.

    Replacing keeps the grants on the view and the views that read it. PostgreSQL
    refuses it when the view's columns change (other than new ones at the end): only
    then is the view dropped and created again.
    """
    view = sql.Identifier(schema, name)
    replace = sql.SQL("CREATE OR REPLACE VIEW {} AS {}").format(view, sql.SQL(body))
    # the bodies name their tables without a schema, as in the DuckDB file
    con.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
    try:
        with con.transaction():  # a savepoint: a refused replace leaves the publish going
            con.execute(replace)
    except psycopg.errors.InvalidTableDefinition:
        con.execute(sql.SQL("DROP VIEW {}").format(view))
        con.execute(replace)


def _existing_columns(con: psycopg.Connection, schema: str, name: str) -> list[tuple[str, str]]:
    rows = con.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relname = %s AND c.relkind = 'r'
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        [schema, name],
    ).fetchall()
    return [(column, kind) for column, kind in rows]


def _copy_rows(con: psycopg.Connection, target: sql.Identifier, table: pa.Table) -> None:
    columns = sql.SQL(", ").join(sql.Identifier(n) for n in table.column_names)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(target, columns)
    with con.cursor() as cursor, cursor.copy(statement) as copy:
        for batch in table.to_batches(max_chunksize=_COPY_BATCH):
            for row in zip(*(column.to_pylist() for column in batch.columns), strict=True):
                copy.write_row(row)


def _log_publish(con: psycopg.Connection, schema: str, run_id: str, rows: dict[str, int]) -> None:
    """One row per run id: first and last time it was published, how often, row counts."""
    log_table = sql.Identifier(schema, PUBLISH_LOG)
    con.execute(
        sql.SQL(
            """
            CREATE TABLE IF NOT EXISTS {} (
                run_id text PRIMARY KEY,
                first_published_at timestamp with time zone NOT NULL,
                last_published_at timestamp with time zone NOT NULL,
                times_published integer NOT NULL,
                row_counts jsonb NOT NULL
            )
            """
        ).format(log_table)
    )
    con.execute(
        sql.SQL(
            """
            INSERT INTO {} AS l VALUES (%s, now(), now(), 1, %s)
            ON CONFLICT (run_id) DO UPDATE SET
                last_published_at = now(),
                times_published = l.times_published + 1,
                row_counts = EXCLUDED.row_counts
            """
        ).format(log_table),
        [run_id, Jsonb(rows)],
    )


# ----------------------------------------------------------------------------- source


def read_table_source(
    source: PostgresSourceConfig, today: dt.date, watermark: tuple[str, str] | None = None
) -> IngestResult:
    """Read the rows of a table at or past the last watermark into records.

    Rows whose watermark equals the last one are read again (and counted as
    duplicates of what the last run published), so a row committed late with the same
    value is not skipped; rows with no watermark at all are read on every run for the
    same reason. Quarantined rows name the table and, as row, the row's integer id
    (its position in this read when the ids are not integers).

    Args:
        source: The table, watermark column, columns and DSN settings.
        today: The run date (records without a time count for it).
        watermark: ``(column, value)`` the last published run read up to; ignored
            when the configured watermark column is another one.

    Returns:
        Records, quarantined rows, rows read, and the new watermark.

    Raises:
        PostgresError: no DSN, the server refuses, or the table does not exist.
        ColumnError: the watermark column (or a named column) is not in the table.
    """
    dsn = dsn_from(source.dsn, source.dsn_env)
    start = watermark[1] if watermark and watermark[0] == source.watermark else None
    table = sql.Identifier(*source.table.split(".", 1))
    params = _params(dsn) or {}
    where = f"{params.get('host', 'localhost')}:{params.get('port', '5432')}/"
    where += f"{params.get('dbname', '')} table {source.table}"
    with connect(dsn) as con:
        columns = _table_columns(con, table.as_string(con), where)
        if source.watermark not in columns:
            raise ColumnError(
                f"{where}: watermark column {source.watermark!r} is not a column; "
                f"columns are {columns}"
            )
        names, rows = _fetch_since(con, table, source.watermark, start, where, dsn)
    log.info("read %s: %d rows with %s >= %s", where, len(rows), source.watermark, start)
    name = source.source_name
    if not rows:  # nothing new: no columns to detect, the watermark stays
        nothing = IngestResult.concat([])
        nothing.rows_read = {name: 0}
        return nothing
    frame = pd.DataFrame(
        [[None if v is None else str(v) for v in row] for row in rows], columns=names
    )
    marks = frame.pop(_WATERMARK_TEXT)
    frame["_row"] = _row_numbers(frame, source, where)
    result = records_from_frame(frame, [], source, where, today)
    # The watermark stops at the last row that was not set aside: a placeholder time such
    # as 9999-12-31 in a time watermark column would otherwise skip every later real row.
    set_aside = frame["_row"].isin(result.quarantine["row"].astype("int64"))
    last = marks[~set_aside].dropna()
    if len(last):
        result.watermarks = {name: (source.watermark, str(last.iloc[-1]))}
    return result


def _table_columns(con: psycopg.Connection, table: str, where: str) -> list[str]:
    found = con.execute("SELECT to_regclass(%s)::oid", [table]).fetchone()
    if found is None or found[0] is None:
        raise PostgresError(f"{where}: no such table (or no permission to see it)")
    rows = con.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        [found[0]],
    ).fetchall()
    return [r[0] for r in rows]


def _fetch_since(
    con: psycopg.Connection,
    table: sql.Identifier,
    column: str,
    start: str | None,
    where: str,
    dsn: str,
) -> tuple[list[str], list[tuple]]:
    """Rows at or past ``start`` (all rows when None), in watermark order.

    ``start`` is sent as an untyped parameter, so PostgreSQL reads it in the column's
    own type (a number, a timestamp, text) and compares values, not strings.
    """
    mark = sql.Identifier(column)
    query = sql.SQL("SELECT t.*, t.{}::text AS {} FROM {} AS t").format(
        mark, sql.Identifier(_WATERMARK_TEXT), table
    )
    arguments: list[str] = []
    if start is not None:
        query += sql.SQL(" WHERE t.{} >= %s OR t.{} IS NULL").format(mark, mark)
        arguments.append(start)
    query += sql.SQL(" ORDER BY t.{} NULLS FIRST").format(mark)
    try:
        with con.transaction(), con.cursor() as cursor:
            cursor.execute(query, arguments)
            names = [d.name for d in cursor.description or []]
            return names, cursor.fetchall()
    except psycopg.Error as exc:
        raise PostgresError(f"{where}: cannot read the table: {_one_line(exc, dsn)}") from None


def _row_numbers(frame: pd.DataFrame, source: PostgresSourceConfig, where: str) -> pd.Series:
    """The row's integer id when the id column holds integers, else its position."""
    position = pd.Series(range(1, len(frame) + 1), index=frame.index, dtype="int64")
    id_column = detect_columns(frame.assign(_row=position), source.columns, where).get("id")
    if id_column is None:
        return position
    ids = pd.to_numeric(frame[id_column], errors="coerce")
    if ids.isna().any() or (ids % 1 != 0).any():
        return position
    return ids.astype("int64")


# ------------------------------------------------------------------ watermark state


def known_watermarks(table: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """``source_watermarks`` as ``{source: (column, value)}`` for :func:`ingest_sources`."""
    return {
        str(row.source): (str(row.column), str(row.value)) for row in table.itertuples(index=False)
    }


def watermark_table(
    previous: pd.DataFrame, new: dict[str, tuple[str, str]], run_id: str
) -> pd.DataFrame:
    """The previous watermarks, with the sources read this run moved forward."""
    kept = previous[~previous["source"].isin(list(new))]
    fresh = pd.DataFrame(
        [
            {"source": source, "column": column, "value": value, "run_id": run_id}
            for source, (column, value) in new.items()
        ],
        columns=empty("source_watermarks").columns,
    )
    parts = [frame for frame in (kept, fresh) if len(frame)]
    return pd.concat(parts, ignore_index=True) if parts else empty("source_watermarks")
