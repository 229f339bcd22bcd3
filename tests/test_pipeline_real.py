"""The real pipeline (USE embeddings, BERTopic) on the demo data and on public data."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.contract import CATEGORIES, POLARITIES
from voc import incremental, pipeline
from voc.config import PublishConfig, SourceConfig, VocConfig
from voc.incremental import load_vectors
from voc.pipeline import run_pipeline

pytestmark = pytest.mark.slow

CONTRACT = {
    "documents": set(),
    "units": {"unit_id", "doc_id", "text", "category", "polarity", "confidence", "topic_id"},
    "topics": {"topic_id", "category", "label", "keywords", "size"},
    "daily_aggregates": set(),
    "alerts": set(),
    "runs": set(),
}


def _check_contract(database) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {name: con.execute(f"SELECT * FROM {name}").df() for name in CONTRACT}
    for name, columns in CONTRACT.items():
        assert columns <= set(tables[name].columns), name
    units = tables["units"]
    assert set(units["category"]) <= CATEGORIES
    assert set(units["polarity"]) <= POLARITIES
    run = tables["runs"].iloc[-1]
    assert (
        run["rows_read"] == run["rows_published"] + run["rows_duplicate"] + run["rows_quarantined"]
    )
    topic_ids = set(tables["topics"]["topic_id"])
    assert set(units.loc[units["topic_id"] >= 0, "topic_id"]) <= topic_ids
    return tables


def test_demo_data_end_to_end(tmp_path, demo_dir):
    config = VocConfig(
        sources=tuple(
            SourceConfig(path=str(demo_dir / f))
            for f in ("reviews_shop_a.csv", "reviews_shop_b_gbk.csv", "chats.tsv")
        ),
        publish=PublishConfig(out_dir=str(tmp_path / "out")),
    )
    summary = run_pipeline(config, today=dt.date(2026, 11, 6))
    tables = _check_contract(tmp_path / "out" / "voc.duckdb")
    units = tables["units"]
    # every category of LABELS.md shows up in the demo
    assert set(units["category"]) == CATEGORIES
    # topics were found inside the actionable categories, with readable labels
    topics = tables["topics"]
    assert len(topics) >= 5
    assert topics["label"].str.len().gt(0).all()
    assert topics["keywords"].str.contains(r"[\u4e00-\u9fff]").all()
    # the planted spike of charging-case complaints raises the early warning
    alerts = tables["alerts"]
    earphones = alerts[alerts["product"] == "蓝牙降噪耳机"]
    assert not earphones.empty
    assert earphones["date"].astype(str).min() >= "2026-11-03"
    assert summary.accounting["chats.tsv"]["quarantined"] >= 2
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "差评预警" in report and "蓝牙降噪耳机" in report
    assert "cdn" not in report.lower().split("<body>")[1]


def test_public_reviews_and_jddc_chats(tmp_path, shared_data):
    reviews = pd.read_csv(shared_data / "online_shopping_10_cats.csv").sample(2000, random_state=7)
    path = tmp_path / "reviews.csv"
    reviews.to_csv(path, index=False)
    config = VocConfig(
        sources=(
            SourceConfig(path=str(path)),
            SourceConfig(path=str(shared_data / "jddc_chat_sample.tsv")),
        ),
        publish=PublishConfig(out_dir=str(tmp_path / "out")),
    )
    summary = run_pipeline(config, today=dt.date(2026, 11, 6))
    tables = _check_contract(tmp_path / "out" / "voc.duckdb")
    assert summary.accounting["reviews.csv"]["read"] == 2000
    assert summary.accounting["jddc_chat_sample.tsv"]["read"] == 12136
    for source, row in summary.accounting.items():
        assert row["read"] == row["published"] + row["duplicates"] + row["quarantined"], source
    documents = tables["documents"]
    assert (documents["source_kind"] == "chat").sum() == 994
    units = tables["units"]
    actionable = units[units["category"] != "other"]
    outliers = (actionable["topic_id"] == -1).mean()
    assert outliers < 0.25, f"{outliers:.0%} of actionable units have no topic"


def test_same_input_gives_the_same_output(tmp_path, demo_dir):
    def run(out):
        config = VocConfig(
            sources=(SourceConfig(path=str(demo_dir / "reviews_shop_a.csv")),),
            publish=PublishConfig(out_dir=str(out)),
        )
        run_pipeline(config, today=dt.date(2026, 11, 6))
        with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
            units = con.execute(
                "SELECT unit_id, category, polarity, topic_id FROM units ORDER BY unit_id"
            ).df()
            topics = con.execute(
                "SELECT topic_id, label, keywords, size FROM topics ORDER BY topic_id"
            ).df()
        return units, topics

    units_a, topics_a = run(tmp_path / "a")
    units_b, topics_b = run(tmp_path / "b")
    pd.testing.assert_frame_equal(units_a, units_b)
    pd.testing.assert_frame_equal(topics_a, topics_b)
    assert (units_a["topic_id"] >= 0).any()


def test_nightly_keeps_stored_topics_and_reads_only_refitted_categories_vectors(
    tmp_path, demo_dir, monkeypatch
):
    """Old units keep their stored topic unless their category refits: the same tables as
    assigning every unit again, reading only the refitted categories' stored vectors."""
    frame = pd.read_csv(
        demo_dir / "reviews_shop_a.csv", dtype=str, keep_default_na=False, on_bad_lines="skip"
    )
    path = tmp_path / "in" / "reviews.csv"
    path.parent.mkdir()
    frame.iloc[:-15].to_csv(path, index=False)
    read = []

    def counting(units, embedder):
        read.append(len(units))
        return load_vectors(units, embedder)

    monkeypatch.setattr(incremental, "load_vectors", counting)

    def run(out):
        config = VocConfig(
            sources=(SourceConfig(path=str(path)),), publish=PublishConfig(out_dir=str(out))
        )
        run_pipeline(config, today=dt.date(2026, 11, 6))
        with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
            last = con.execute("SELECT max(run_id) FROM runs").fetchone()[0]
            refitted = con.execute(
                "SELECT list(category) FROM topic_runs WHERE run_id = ? AND refit", [last]
            ).fetchone()[0]
            old_units = con.execute(
                "SELECT category, count(*) AS n FROM units WHERE run_id <> ? GROUP BY category",
                [last],
            ).df()
            assignments = con.execute(
                "SELECT unit_id, topic_id, category, similarity FROM topic_assignments"
                " ORDER BY unit_id"
            ).df()
            topics = con.execute(
                "SELECT topic_id, category, status, size, label, representative_unit_ids"
                " FROM topics ORDER BY topic_id"
            ).df()
        old = old_units.set_index("category")["n"]
        return set(refitted or []), old, assignments, topics

    run(tmp_path / "kept")
    shutil.copytree(tmp_path / "kept", tmp_path / "every", symlinks=True)
    frame.to_csv(path, index=False)  # the next export has 15 more reviews
    read.clear()
    refitted, old, kept_assignments, kept_topics = run(tmp_path / "kept")
    # only the old units of refitted categories had their vectors read
    assert sum(read) == sum(old.get(c, 0) for c in refitted)
    assert len(refitted) < len(old.drop("other", errors="ignore"))  # some category kept

    def assign_every_unit(plan, units, *args):
        todo = np.isin(units["category"].to_numpy(), list(plan.centroids))
        return todo, np.full(len(units), -1), np.zeros(len(units), np.float32)

    monkeypatch.setattr(pipeline, "kept_assignments", assign_every_unit)
    read.clear()
    _, _, every_assignments, every_topics = run(tmp_path / "every")
    assert sum(read) > sum(old.get(c, 0) for c in refitted)
    pd.testing.assert_frame_equal(kept_assignments, every_assignments, rtol=1e-6)
    pd.testing.assert_frame_equal(kept_topics, every_topics)
