from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from voc.config import EmbedConfig, PublishConfig, SourceConfig, TopicConfig, VocConfig
from voc.errors import ConfigError
from voc.pipeline import run_pipeline
from voc.scope import RunScope, apply_scope, parse_scope, published_until, skip_published
from voc.sources import IngestResult

TODAY = dt.date(2026, 11, 6)


def _records(rows: list[tuple[str, str, str, str | None]]) -> IngestResult:
    """(doc_id, source, product, created_at) per record."""
    frame = pd.DataFrame(rows, columns=["doc_id", "source", "product", "created_at"])
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    frame["file"] = frame["source"] + ".csv"
    frame["row"] = range(2, len(frame) + 2)
    frame["source_kind"] = "review"
    read = frame.groupby("source").size()
    return IngestResult(
        records=frame,
        quarantine=pd.DataFrame(columns=["source", "file", "row", "field", "reason", "raw"]),
        rows_read={s: int(n) for s, n in read.items()},
    )


def test_parse_scope_names_every_bad_parameter():
    with pytest.raises(ConfigError) as error:
        parse_scope("adhoc parameters", start="2026-11-05", end="2026-11-01", colour="red")
    message = str(error.value)
    assert "adhoc parameters" in message
    assert "colour" in message
    with pytest.raises(ConfigError, match="start: Input should be a valid date"):
        parse_scope("adhoc parameters", start="yesterday")
    with pytest.raises(ConfigError, match="end 2026-11-01 is before start 2026-11-05"):
        parse_scope("adhoc parameters", start="2026-11-05", end="2026-11-01")
    with pytest.raises(ConfigError, match="products: give at least one value"):
        parse_scope("adhoc parameters", products=[])
    scope = parse_scope("adhoc parameters", products=["耳机"], start="2026-11-01")
    assert scope.products == ("耳机",) and scope.start == dt.date(2026, 11, 1)


def test_apply_scope_keeps_whole_documents_and_keeps_the_accounting():
    ingested = _records(
        [
            ("d1", "a", "耳机", "2026-11-01 10:00"),
            ("d2", "a", "T恤", "2026-11-01 11:00"),
            ("d3", "a", "耳机", "2026-10-01 09:00"),
            ("c1", "b", "耳机", "2026-10-31 23:50"),  # a chat crossing midnight
            ("c1", "b", "耳机", "2026-11-01 00:10"),
        ]
    )
    scope = RunScope(products=("耳机",), start=dt.date(2026, 10, 31), end=dt.date(2026, 11, 1))
    narrowed, left_out = apply_scope(ingested, scope, TODAY)
    assert narrowed.records["doc_id"].tolist() == ["d1", "c1", "c1"]
    assert left_out == {"a": 2}
    assert narrowed.rows_read == {"a": 1, "b": 2}


def test_skip_published_sets_aside_old_published_rows_but_never_late_ones():
    documents = pd.DataFrame(
        {
            "doc_id": ["d1", "d2"],
            "source": ["a", "a"],
            "created_at": pd.to_datetime(["2026-11-01 10:00", "2026-11-02 10:00"]),
        }
    )
    marks = published_until(documents)
    assert marks == {"a": pd.Timestamp("2026-11-02 10:00")}
    ingested = _records(
        [
            ("d1", "a", "耳机", "2026-11-01 10:00"),  # published: skipped
            ("d2", "a", "耳机", "2026-11-02 10:00"),  # at the watermark, published: skipped
            ("late", "a", "耳机", "2026-10-20 10:00"),  # old but never published: kept
            ("new", "a", "耳机", "2026-11-03 10:00"),  # newer: kept
            ("notime", "a", "耳机", None),  # no time: kept (clean decides)
        ]
    )
    rest, duplicates = skip_published(ingested, marks, documents["doc_id"])
    assert rest.records["doc_id"].tolist() == ["late", "new", "notime"]
    assert duplicates["doc_id"].tolist() == ["d1", "d2"]
    assert set(duplicates["reason"]) == {"already published by an earlier run"}
    assert rest.rows_read == {"a": 5}


def test_skip_published_leaves_chat_turns_to_cleaning():
    # an old turn of a published session may be new: cleaning compares turns
    ingested = _records([("s1", "a", "耳机", "2026-11-01 10:00")])
    ingested.records["source_kind"] = "chat"
    rest, duplicates = skip_published(ingested, {"a": pd.Timestamp("2026-11-02")}, ["s1"])
    assert rest.records["doc_id"].tolist() == ["s1"] and duplicates.empty


def _config(paths, out, **scope_free) -> VocConfig:
    return VocConfig(
        sources=tuple(SourceConfig(path=str(p)) for p in paths),
        embed=EmbedConfig(model="fake"),
        topics=TopicConfig(enabled=False),
        publish=PublishConfig(out_dir=str(out)),
    )


def _export(demo_dir, folder, lines: int | None):
    """The demo review export as it stood after its first ``lines`` lines."""
    text = (demo_dir / "reviews_shop_a.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reviews_shop_a.csv"
    path.write_text("".join(text if lines is None else text[:lines]), encoding="utf-8")
    return path


def test_nightly_reads_only_rows_newer_than_the_watermark(tmp_path, demo_dir, fake_model):
    out = tmp_path / "out"
    first = run_pipeline(_config([_export(demo_dir, tmp_path / "day1", 151)], out), today=TODAY)
    nightly = run_pipeline(
        _config([_export(demo_dir, tmp_path / "day2", None)], out),
        today=TODAY,
        scope=RunScope(since_watermark=True),
    )
    full = run_pipeline(
        _config([_export(demo_dir, tmp_path / "full", None)], tmp_path / "full_out"), today=TODAY
    )
    row = nightly.accounting["reviews_shop_a.csv"]
    assert row["read"] == row["published"] + row["duplicates"] + row["quarantined"] == 261
    # the first day's documents were set aside as duplicates; only new text was embedded
    assert row["duplicates"] >= first.accounting["reviews_shop_a.csv"]["published"]
    assert nightly.documents_new + first.documents_new == full.documents_new
    assert nightly.units_new + first.units_new == full.units_new
    assert 0 < nightly.embedded_new <= nightly.units_new < full.embedded_new
    tables = {}
    for name, folder in (("nightly", out), ("full", tmp_path / "full_out")):
        with duckdb.connect(str(folder / "voc.duckdb"), read_only=True) as con:
            tables[name] = {
                t: con.execute(f"SELECT * EXCLUDE (run_id) FROM {t}").df()
                for t in ("documents", "units")
            }
    for table, key in (("documents", "doc_id"), ("units", "unit_id")):
        a = tables["nightly"][table].sort_values(key).reset_index(drop=True)
        b = tables["full"][table].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)


def test_a_nightly_with_nothing_new_publishes_the_same_tables(tmp_path, demo_dir, fake_model):
    out = tmp_path / "out"
    config = _config([_export(demo_dir, tmp_path / "day1", None)], out)
    first = run_pipeline(config, today=TODAY)
    quiet = run_pipeline(config, today=TODAY, scope=RunScope(since_watermark=True))
    row, before = quiet.accounting["reviews_shop_a.csv"], first.accounting["reviews_shop_a.csv"]
    assert row["published"] == 0
    assert row["duplicates"] == before["published"] + before["duplicates"]
    assert row["quarantined"] == before["quarantined"] > 0  # bad rows are bad again
    assert quiet.documents_new == quiet.units_new == quiet.embedded_new == 0
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM units").fetchone() == (first.units_total,)
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (2,)


def test_adhoc_scope_leaves_other_products_for_another_run(tmp_path, demo_dir, fake_model):
    out = tmp_path / "out"
    path = demo_dir / "reviews_shop_a.csv"
    summary = run_pipeline(
        _config([path], out),
        today=TODAY,
        scope=RunScope(products=("蓝牙降噪耳机",), end=dt.date(2026, 10, 20)),
    )
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        products = {r[0] for r in con.execute("SELECT DISTINCT product FROM documents").fetchall()}
        latest = con.execute("SELECT max(date) FROM documents").fetchone()[0]
    assert products == {"蓝牙降噪耳机"}
    assert latest <= dt.date(2026, 10, 20)
    row = summary.accounting["reviews_shop_a.csv"]
    assert row["read"] == row["published"] + row["duplicates"] + row["quarantined"]
    assert row["read"] + summary.rows_left_out["reviews_shop_a.csv"] == 261


def test_unknown_source_or_category_in_a_scope_is_one_clear_error(tmp_path, demo_dir, fake_model):
    config = _config([demo_dir / "reviews_shop_a.csv"], tmp_path / "out")
    scope = RunScope(sources=("nope.csv",), categories=("colour",))
    with pytest.raises(ConfigError) as error:
        run_pipeline(config, today=TODAY, scope=scope)
    message = str(error.value)
    assert "sources: unknown ['nope.csv']" in message
    assert "categories: unknown ['colour']" in message
    assert "reviews_shop_a.csv" in message


def test_a_scope_of_one_source_reads_only_that_source(tmp_path, demo_dir, fake_model):
    out = tmp_path / "out"
    config = _config([demo_dir / "reviews_shop_a.csv", demo_dir / "reviews_shop_b_gbk.csv"], out)
    summary = run_pipeline(config, today=TODAY, scope=RunScope(sources=("reviews_shop_a.csv",)))
    assert summary.accounting == {
        "reviews_shop_a.csv": {"read": 261, "published": 252, "duplicates": 3, "quarantined": 6}
    }
    assert summary.rows_left_out == {}
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        sources = con.execute("SELECT DISTINCT source FROM documents").fetchall()
    assert sources == [("reviews_shop_a.csv",)]
