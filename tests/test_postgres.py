"""PostgreSQL both ways, against the real server of tests/pg_server.py."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from typer.testing import CliRunner

from tests.fakes import HashingEmbedder
from tests.pg_server import PostgresServer
from voc.cli import app
from voc.config import (
    EmbedConfig,
    PostgresSourceConfig,
    PublishConfig,
    SourceConfig,
    TopicConfig,
    VocConfig,
    load_config,
)
from voc.embed import EMBEDDERS
from voc.errors import ColumnError, ConfigError, PostgresError
from voc.pipeline import run_pipeline
from voc.postgres import lock_publishes, publish_to_postgres, read_table_source, redact
from voc.publish import VIEWS, Snapshot, Store
from voc.schemas import TABLES, empty

TODAY = dt.date(2026, 11, 6)
VIEW_KEYS = {
    "units_labelled": "unit_id",
    "topic_trends": "date, product, source_kind, category, topic_id",
    "consultations_daily": "date, product, source",
}
DEMO_FILES = ("reviews_shop_a.csv", "reviews_shop_b_gbk.csv", "chats.tsv")
HOSTILE = [
    "'); DROP TABLE x; --",
    "<script>alert('x')</script>",
    "quote \" and ' and `back`",
    "tab\there, new\nline, cr\r\nend",
    "back\\slash, \\N, \\. and a lone",
    "\\.",
    "",
    "质量很好 😀 ｆｕｌｌ－ｗｉｄｔｈ",
]


def _settings(sources, out: Path) -> VocConfig:
    return VocConfig(
        sources=tuple(sources),
        embed=EmbedConfig(model="fake"),
        topics=TopicConfig(enabled=False),
        publish=PublishConfig(out_dir=str(out), report=False),
    )


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory, demo_dir) -> Store:
    """A store published by a real pipeline run on the demo files (fake embedder)."""
    out = tmp_path_factory.mktemp("pg-demo") / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(EMBEDDERS, "fake", lambda config, argument: HashingEmbedder())
        sources = [SourceConfig(path=str(demo_dir / name)) for name in DEMO_FILES]
        run_pipeline(_settings(sources, out), today=TODAY)
    return Store(out)


def _snapshot(texts: list[str], run_id: str = "20261101T000000-aaaaaa") -> Snapshot:
    """A small hand-made snapshot: documents with these texts, a centroid, one run."""
    tables = {name: empty(name) for name in TABLES}
    tables["documents"] = pd.DataFrame(
        {
            "doc_id": [f"d{i:02d}" for i in range(len(texts))],
            "source": "s.csv",
            "source_kind": "review",
            "native_id": [str(i) for i in range(len(texts))],
            "product": "T恤",
            "user_id": None,
            "created_at": pd.Timestamp("2026-10-01 10:00"),
            "date": dt.date(2026, 10, 1),
            "rating": [5.0] * (len(texts) - 1) + [float("nan")],
            "text": texts,
            "is_default_review": False,
            "n_units": 1,
            "run_id": run_id,
        }
    )
    tables["topic_centroids"] = pd.DataFrame(
        {"topic_id": [3], "category": ["logistics"], "embed_model": ["m"], "centroid": [[0.5, -1]]}
    )
    run = {column: None for column in empty("runs").columns}
    tables["runs"] = pd.DataFrame([{**run, "run_id": run_id, "status": "succeeded"}])
    return Snapshot(tables)


def _table(dsn: str, query: str) -> list[tuple]:
    with psycopg.connect(dsn) as con:
        return con.execute(query).fetchall()


def _dump_schema(dsn: str, schema: str) -> dict[str, list[tuple]]:
    """Every table of the schema (publish_log aside), rows sorted, for comparisons."""
    with psycopg.connect(dsn) as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                [schema],
            ).fetchall()
        ]
        return {
            name: sorted(map(repr, con.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall()))
            for name in names
            if name != "publish_log"
        }


# ------------------------------------------------------------------------------- sink


def test_publishing_twice_gives_the_same_contents(demo_store, postgres_db):
    snapshot = demo_store.load()
    first = publish_to_postgres(demo_store, postgres_db, schema="bi")
    contents = _dump_schema(postgres_db, "bi")
    second = publish_to_postgres(demo_store.root, postgres_db, schema="bi")

    assert first.run_id == second.run_id == snapshot["runs"]["run_id"].iloc[-1]
    assert _dump_schema(postgres_db, "bi") == contents
    assert set(contents) == set(TABLES)  # every contracted table, read from voc.schemas
    for name, frame in snapshot.tables.items():
        assert len(contents[name]) == len(frame), name
    assert len(contents["documents"]) > 400
    (distinct,) = _table(postgres_db, "SELECT count(DISTINCT doc_id) = count(*) FROM bi.documents")
    assert distinct == (True,)
    log = _table(postgres_db, "SELECT run_id, times_published, row_counts FROM bi.publish_log")
    assert log == [(first.run_id, 2, first.rows)]


def test_bi_views_are_published_and_match_the_duckdb_ones(demo_store, postgres_db):
    import duckdb

    publish_to_postgres(demo_store, postgres_db, schema="views")
    publish_to_postgres(demo_store, postgres_db, schema="views")  # views do not block a rerun
    with duckdb.connect(str(demo_store.root / "voc.duckdb"), read_only=True) as con:
        for name in VIEWS:
            query = f"SELECT count(*), count(DISTINCT ROW({VIEW_KEYS[name]})) FROM {{}}.{name}"
            expected = con.execute(query.format("main")).fetchone()
            assert expected[0] > 0, name
            assert _table(postgres_db, query.format("views")) == [expected], name
    (units,) = _table(postgres_db, "SELECT sum(units) FROM views.topic_trends")
    assert units == (len(demo_store.load()["units"]),)


def test_published_types_follow_the_arrow_schemas(demo_store, postgres_db):
    publish_to_postgres(demo_store, postgres_db, schema="voc")
    types = dict(
        _table(
            postgres_db,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'voc' AND table_name = 'documents'",
        )
    )
    assert types["created_at"] == "timestamp without time zone"
    assert types["date"] == "date"
    assert types["rating"] == "double precision"
    assert types["n_units"] == "integer"
    assert types["is_default_review"] == "boolean"
    (centroid,) = _table(postgres_db, "SELECT data_type FROM information_schema.columns "
                         "WHERE table_name = 'topic_centroids' AND column_name = 'centroid'")  # fmt: skip
    assert centroid == ("ARRAY",)


def test_hostile_text_round_trips_verbatim(postgres_db):
    with psycopg.connect(postgres_db) as con:
        con.execute("CREATE TABLE x (id int)")
    publish_to_postgres(_snapshot(HOSTILE), postgres_db)
    rows = _table(postgres_db, "SELECT text, rating FROM voc.documents ORDER BY doc_id")
    assert [r[0] for r in rows] == HOSTILE
    assert rows[-1][1] is None  # NaN rating -> NULL
    assert _table(postgres_db, "SELECT count(*) FROM x") == [(0,)]  # not dropped
    assert _table(postgres_db, "SELECT centroid FROM voc.topic_centroids") == [([0.5, -1.0],)]


def test_failed_publish_leaves_the_previous_contents(postgres_db):
    old = _snapshot(["旧的评价", "还是旧的"], run_id="20261101T000000-aaaaaa")
    old.tables["bi_extra"] = pd.DataFrame({"a": [1, 2]})  # a table other code added
    publish_to_postgres(old, postgres_db)
    # A BI user's view on that table blocks changing its columns: the publish fails
    # after documents were already replaced inside the transaction.
    with psycopg.connect(postgres_db) as con:
        con.execute("CREATE VIEW public.extra_view AS SELECT a FROM voc.bi_extra")
    new = _snapshot(["新的", "新的二", "新的三"], run_id="20261102T000000-bbbbbb")
    new.tables["bi_extra"] = pd.DataFrame({"b": ["changed"]})

    with pytest.raises(PostgresError, match="table bi_extra") as failure:
        publish_to_postgres(new, postgres_db)

    assert "previous contents are unchanged" in str(failure.value)
    assert "\n" not in str(failure.value)
    texts = _table(postgres_db, "SELECT text FROM voc.documents ORDER BY doc_id")
    assert texts == [("旧的评价",), ("还是旧的",)]
    assert _table(postgres_db, "SELECT run_id FROM voc.runs") == [("20261101T000000-aaaaaa",)]
    assert _table(postgres_db, "SELECT run_id, times_published FROM voc.publish_log") == [
        ("20261101T000000-aaaaaa", 1)
    ]


def test_nul_characters_are_replaced_not_fatal(postgres_db, caplog):
    publish_to_postgres(_snapshot(["a\x00b", "ok"]), postgres_db)
    assert _table(postgres_db, "SELECT text FROM voc.documents ORDER BY doc_id")[0] == ("a\ufffdb",)
    assert "NUL" in caplog.text


def test_password_never_shown(postgres_server: PostgresServer, postgres_db, caplog):
    caplog.set_level(logging.DEBUG)
    password = postgres_server.password
    publish_to_postgres(_snapshot(["好"]), postgres_db)
    assert password in postgres_db and password not in redact(postgres_db)

    failures = []
    for dsn in (
        postgres_server.dsn(password="Wrong-Secret-123"),  # refused by the server
        postgres_db.replace(f"port={postgres_server.port}", "port=1"),  # nobody listens
        f"host=127.0.0.1 password={password} port='unterminated",  # does not parse
    ):
        with pytest.raises(PostgresError) as failure:
            publish_to_postgres(_snapshot(["好"]), dsn)
        failures.append(str(failure.value))
    assert "password authentication failed" in failures[0]
    for message in failures:
        assert "\n" not in message
        assert "Wrong-Secret-123" not in message and password not in message
    assert "Wrong-Secret-123" not in caplog.text and password not in caplog.text
    stored = _dump_schema(postgres_db, "voc")
    stored["publish_log"] = list(map(repr, _table(postgres_db, "SELECT * FROM voc.publish_log")))
    assert password not in repr(stored)


def test_publishing_again_keeps_the_views_grants_and_the_views_on_them(postgres_db):
    publish_to_postgres(_snapshot(["好"]), postgres_db)
    reader = f"reader_{_db(postgres_db)}"
    with psycopg.connect(postgres_db) as con:
        con.execute(f"CREATE ROLE {reader}")
        con.execute(f"GRANT USAGE ON SCHEMA voc TO {reader}")
        con.execute(f"GRANT SELECT ON voc.topic_trends, voc.units_labelled TO {reader}")
        con.execute("CREATE VIEW public.my_trends AS SELECT date, units FROM voc.topic_trends")

    publish_to_postgres(_snapshot(["好", "又好"], run_id="20261102T000000-bbbbbb"), postgres_db)

    for view in ("topic_trends", "units_labelled"):
        granted = f"SELECT has_table_privilege('{reader}', 'voc.{view}', 'SELECT')"
        assert _table(postgres_db, granted) == [(True,)], view
    assert _table(postgres_db, "SELECT count(*) FROM public.my_trends") == [(0,)]
    # A change of columns of a table under that view is what the user's view blocks.
    with psycopg.connect(postgres_db) as con:
        con.execute("ALTER TABLE voc.topics ADD COLUMN added_by_hand int")
    with pytest.raises(PostgresError, match="failed at table topics"):
        publish_to_postgres(_snapshot(["新的"], run_id="20261103T000000-cccccc"), postgres_db)
    assert _table(postgres_db, "SELECT count(*) FROM voc.documents") == [(2,)]


def _wait_for_a_waiting_publish(dsn: str) -> None:
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'voc'"
        " AND wait_event_type = 'Lock' AND datname = current_database()"
    )
    deadline = time.monotonic() + 60
    while _table(dsn, query) != [(1,)]:
        assert time.monotonic() < deadline, "the publish never waited for the lock"
        time.sleep(0.1)


@pytest.mark.parametrize("other", ["another publish", "another session"])
def test_first_publishes_into_a_new_schema_wait_for_each_other(postgres_db, other):
    # Another publish half-way through (it holds the lock), or anyone else, created the
    # schema, uncommitted. The publish must wait for it, then publish, not fail on the schema.
    with psycopg.connect(postgres_db) as first, ThreadPoolExecutor(1) as pool:
        if other == "another publish":
            lock_publishes(first, "fresh")
        first.execute("CREATE SCHEMA fresh")
        second = pool.submit(publish_to_postgres, _snapshot(["好"]), postgres_db, "fresh")
        _wait_for_a_waiting_publish(postgres_db)
        first.commit()
        assert second.result(timeout=120).schema == "fresh"
    assert _table(postgres_db, "SELECT count(*) FROM fresh.documents") == [(1,)]


def test_a_schema_name_postgres_would_cut_short_is_refused(postgres_db):
    too_long = "评价" * 11  # 22 characters, 66 bytes in UTF-8; PostgreSQL keeps 63
    with pytest.raises(PostgresError, match="failed at create schema") as failure:
        publish_to_postgres(_snapshot(["好"]), postgres_db, schema=too_long)
    assert "66 bytes" in str(failure.value) and "\n" not in str(failure.value)
    assert _table(postgres_db, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE '评价%'") == [
        (0,)
    ]
    longest = "评价" * 10 + "abc"  # 63 bytes
    assert publish_to_postgres(_snapshot(["好"]), postgres_db, schema=longest).schema == longest
    assert _table(postgres_db, f'SELECT count(*) FROM "{longest}".documents') == [(1,)]


# ----------------------------------------------------------------------------- source


def _reviews_table(dsn: str, rows: list[tuple]) -> None:
    with psycopg.connect(dsn) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS shop.reviews (id bigserial PRIMARY KEY, content text, "
            "sku text, created_at timestamptz, star int)"
        )
        with con.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO shop.reviews (content, sku, created_at, star) VALUES (%s, %s, %s, %s)",
                rows,
            )


@pytest.fixture
def reviews_db(postgres_db) -> str:
    with psycopg.connect(postgres_db) as con:
        con.execute("CREATE SCHEMA shop")
    return postgres_db


FIRST = [
    ("质量很好，穿着舒服", "T恤", "2026-11-01 10:00+08", 5),
    ("", "T恤", "2026-11-01 11:00+08", 3),  # empty text
    ("'); DROP TABLE shop.reviews; --", "耳机", "2026-11-02 09:00+08", 1),
    ("物流太慢了", "耳机", "2026-11-02 12:00+08", 9),  # rating outside 1-5
    ("耳机音质不错", "耳机", "2026-11-03 08:30:15.25+08", 4),
]
SECOND = [
    ("衣服缩水严重", "T恤", "2026-11-04 10:00+08", 1),
    ("客服回复很快", "T恤", "2026-11-05 10:00+08", 5),
]


def test_source_reads_only_new_rows_on_each_run(reviews_db, tmp_path, monkeypatch, fake_model):
    monkeypatch.setenv("SHOP_DSN", reviews_db)
    config = tmp_path / "voc.yaml"
    config.write_text(
        "sources:\n  - type: postgresql\n    table: shop.reviews\n    watermark: id\n"
        "    dsn_env: SHOP_DSN\n    name: shop\n    columns: {rating: star}\n",
        encoding="utf-8",
    )
    loaded = load_config(config)
    settings = _settings(loaded.sources, tmp_path / "out")
    _reviews_table(reviews_db, FIRST)

    first = run_pipeline(settings, today=TODAY)
    assert first.accounting["shop"] == {
        "read": 5,
        "published": 3,
        "duplicates": 0,
        "quarantined": 2,
    }
    tables = Store(tmp_path / "out").load()
    quarantine = tables["quarantine"].set_index("row")
    assert quarantine.loc[2, "field"] == "content" and quarantine.loc[2, "reason"] == "empty text"
    assert quarantine.loc[4, "field"] == "star" and "outside 1-5" in quarantine.loc[4, "reason"]
    assert set(quarantine["file"]) == {f"127.0.0.1:{_port(reviews_db)}/{_db(reviews_db)} "
                                       "table shop.reviews"}  # fmt: skip
    assert "'); DROP TABLE shop.reviews; --" in set(tables["documents"]["text"])
    assert tables["source_watermarks"][["source", "column", "value"]].values.tolist() == [
        ["shop", "id", "5"]
    ]

    _reviews_table(reviews_db, SECOND)
    second = run_pipeline(settings, today=TODAY)
    # rows 6 and 7 are new; row 5 (the last watermark) is read again, a duplicate
    assert second.accounting["shop"] == {
        "read": 3,
        "published": 2,
        "duplicates": 1,
        "quarantined": 0,
    }
    assert second.documents_new == 2
    documents = Store(tmp_path / "out").load()["documents"]
    assert len(documents) == 5 and documents["doc_id"].is_unique
    assert set(documents[documents["run_id"] == second.run_id]["text"]) == {
        "衣服缩水严重",
        "客服回复很快",
    }

    third = run_pipeline(settings, today=TODAY)
    assert third.documents_new == 0
    assert third.accounting["shop"]["read"] == third.accounting["shop"]["duplicates"] == 1


def test_source_starts_over_when_the_watermark_column_changes(reviews_db, monkeypatch):
    monkeypatch.setenv("VOC_POSTGRES_DSN", reviews_db)
    _reviews_table(reviews_db, FIRST)
    by_time = PostgresSourceConfig(type="postgresql", table="shop.reviews", watermark="created_at")
    result = read_table_source(by_time, TODAY, ("id", "5"))  # a watermark of another column
    assert result.rows_read == {"shop.reviews": 5}
    column, value = result.watermarks["shop.reviews"]
    assert column == "created_at" and value.startswith("2026-11-03")
    again = read_table_source(by_time, TODAY, (column, value))
    assert again.rows_read == {"shop.reviews": 1}  # compared as timestamps, not as text


def test_watermark_does_not_move_past_a_row_set_aside(reviews_db, monkeypatch):
    monkeypatch.setenv("VOC_POSTGRES_DSN", reviews_db)
    _reviews_table(reviews_db, [*FIRST, ("屏幕很清楚", "耳机", "9999-12-31 00:00+08", 5)])
    by_time = PostgresSourceConfig(type="postgresql", table="shop.reviews", watermark="created_at")
    result = read_table_source(by_time, TODAY)
    assert result.quarantine.set_index("row").loc[6, "reason"] == (
        "time '9999-12-30 16:00:00+00:00' is more than 24 hours in the future"
    )
    column, value = result.watermarks["shop.reviews"]
    assert column == "created_at" and value == "2026-11-03 00:30:15.25+00"
    # the next run reads the last real row again (a duplicate) and the set-aside row
    assert read_table_source(by_time, TODAY, (column, value)).rows_read == {"shop.reviews": 2}


def test_source_errors_are_one_clear_line(reviews_db, monkeypatch):
    monkeypatch.delenv("VOC_POSTGRES_DSN", raising=False)
    source = PostgresSourceConfig(type="postgresql", table="shop.reviews", watermark="id")
    with pytest.raises(PostgresError, match=r"set \$VOC_POSTGRES_DSN"):
        read_table_source(source, TODAY)
    monkeypatch.setenv("VOC_POSTGRES_DSN", reviews_db)
    with pytest.raises(PostgresError, match=r"table shop\.missing: no such table"):
        read_table_source(source.model_copy(update={"table": "shop.missing"}), TODAY)
    _reviews_table(reviews_db, FIRST)
    with pytest.raises(ColumnError, match="watermark column 'updated_at' is not a column"):
        read_table_source(source.model_copy(update={"watermark": "updated_at"}), TODAY)


def test_config_refuses_a_password_in_the_dsn(tmp_path):
    config = tmp_path / "voc.yaml"
    config.write_text(
        "sources:\n  - type: postgresql\n    table: reviews\n"
        "    dsn: postgresql://voc:Hunter2-Secret@db.example/shop\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as failure:
        load_config(config)
    message = str(failure.value)
    assert "sources[0].dsn" in message and "holds a password" in message
    assert "sources[0].watermark: Field required" in message
    assert "Hunter2-Secret" not in message


# -------------------------------------------------------------------------------- CLI


def test_cli_run_from_config_then_publish(reviews_db, tmp_path, monkeypatch, fake_model):
    monkeypatch.setenv("VOC_POSTGRES_DSN", reviews_db)
    _reviews_table(reviews_db, FIRST)
    config = tmp_path / "voc.yaml"
    config.write_text(
        "sources:\n  - {type: postgresql, table: shop.reviews, watermark: id}\n"
        "embed: {model: fake}\ntopics: {enabled: false}\npublish: {report: false}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    runner = CliRunner()
    ran = runner.invoke(app, ["run", "--config", str(config), "--out", str(out)])
    assert ran.exit_code == 0, ran.output

    published = runner.invoke(app, ["publish", "--out", str(out), "--schema", "from_env"])
    assert published.exit_code == 0, published.output
    monkeypatch.delenv("VOC_POSTGRES_DSN")
    published = runner.invoke(app, ["publish", "--out", str(out), "--to", reviews_db])
    assert published.exit_code == 0, published.output
    for schema in ("from_env", "voc"):
        assert _table(reviews_db, f"SELECT count(*) FROM {schema}.documents") == [(3,)]
        assert _table(reviews_db, f"SELECT count(*) FROM {schema}.quarantine") == [(2,)]


def test_cli_publish_errors_are_one_line_without_password(demo_store, postgres_server):
    env = {k: v for k, v in os.environ.items() if k != "VOC_POSTGRES_DSN"}
    command = [sys.executable, "-m", "voc.cli", "publish", "--out", str(demo_store.root)]
    missing = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert missing.returncode == 2
    assert "VOC_POSTGRES_DSN" in missing.stderr and "Traceback" not in missing.stderr

    wrong = postgres_server.dsn(password="Wrong-Secret-456")
    refused = subprocess.run(
        [*command, "--to", wrong], capture_output=True, text=True, env=env, timeout=300
    )
    assert refused.returncode == 2
    assert "password authentication failed" in refused.stderr
    assert "Wrong-Secret-456" not in refused.stderr + refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1


def _port(dsn: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(dsn)["port"]


def _db(dsn: str) -> str:
    return psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
