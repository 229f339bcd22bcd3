from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.contract import CATEGORIES, POLARITIES
from voc.clean import CleanResult
from voc.config import EmbedConfig, PublishConfig, SourceConfig, TopicConfig, VocConfig
from voc.errors import AccountingError, InputFileError
from voc.pipeline import (
    RunSummary,
    account,
    keep_first_runs,
    run_pipeline,
    stamp_assignments,
    with_topic_labels,
)
from voc.sources import IngestResult

DEMO_FILES = ("reviews_shop_a.csv", "reviews_shop_b_gbk.csv", "chats.tsv")
TODAY = dt.date(2026, 11, 6)


def _config(sources, out) -> VocConfig:
    return VocConfig(
        sources=tuple(SourceConfig(path=str(p)) for p in sources),
        embed=EmbedConfig(model="fake"),
        topics=TopicConfig(enabled=False),
        publish=PublishConfig(out_dir=str(out)),
    )


def test_alerts_in_the_summary_carry_their_topic_label():
    alerts = pd.DataFrame({"topic_id": [-1, 3, 9]})
    topics = pd.DataFrame({"topic_id": [3, 4], "label": ["电池/续航/发热：充电·没电", "x"]})
    labelled = with_topic_labels(alerts, topics)
    assert labelled["topic_label"].tolist() == ["", "电池/续航/发热：充电·没电", ""]


def test_an_alert_keeps_the_run_that_first_raised_it():
    before = pd.DataFrame({"alert_id": ["a", "b"], "observed": [5.0, 7.0], "run_id": "r1"})
    # run r2 tests the whole history again: a again, b with a late review more, c new
    now = pd.DataFrame({"alert_id": ["a", "b", "c"], "observed": [5.0, 8.0, 9.0], "run_id": "r2"})
    alerts = keep_first_runs(now, before)
    assert alerts["run_id"].tolist() == ["r1", "r1", "r2"]
    assert alerts["observed"].tolist() == [5.0, 8.0, 9.0]  # the numbers are today's
    summary = RunSummary("r2", Path("out"), Path("out/s"), {}, 0, 0, 0, 0, alerts=alerts)
    assert summary.new_alerts["alert_id"].tolist() == ["c"]


def test_an_assignment_keeps_the_run_that_gave_it_its_topic():
    stored = pd.DataFrame(
        {"unit_id": ["a", "b", "c"], "topic_id": [1, 2, 3], "category": ["x", "x", "y"]}
    ).assign(similarity=0.5, run_id="r1")
    now = pd.DataFrame(
        {
            "unit_id": ["a", "b", "c", "d"],
            "topic_id": [1, 5, 3, 1],
            "category": ["x", "x", "z", "x"],
        }
    ).assign(similarity=0.5)
    stamped = stamp_assignments(now, stored, "r2")
    assert stamped["run_id"].tolist() == ["r1", "r2", "r2", "r2"]  # b moved, c changed category
    assert stamp_assignments(now, stored.iloc[:0], "r1")["run_id"].tolist() == ["r1"] * 4


def test_demo_run_publishes_contract_tables(tmp_path, demo_dir, fake_model):
    summary = run_pipeline(
        _config([demo_dir / f for f in DEMO_FILES], tmp_path / "out"), today=TODAY
    )
    with duckdb.connect(str(tmp_path / "out" / "voc.duckdb"), read_only=True) as con:
        units = con.execute("SELECT * FROM units").df()
        assert {
            "unit_id",
            "doc_id",
            "text",
            "category",
            "polarity",
            "confidence",
            "topic_id",
        } <= set(units)
        assert set(units["category"]) <= CATEGORIES
        assert set(units["polarity"]) <= POLARITIES
        assert units["unit_id"].is_unique
        topics = con.execute("SELECT * FROM topics").df()
        assert {"topic_id", "category", "label", "keywords", "size"} <= set(topics)
        for table in (
            "documents",
            "daily_aggregates",
            "alerts",
            "runs",
            "quarantine",
            "agent_turns",
        ):
            con.execute(f"SELECT * FROM {table} LIMIT 1")
        run = con.execute("SELECT * FROM runs").df().iloc[0]
        assert (
            run["rows_read"]
            == run["rows_published"] + run["rows_duplicate"] + run["rows_quarantined"]
        )
        assert set(json.loads(run["timings"])) >= {
            "ingest",
            "clean",
            "segment",
            "embed",
            "label",
            "report",
        }
        quarantine = con.execute("SELECT * FROM quarantine").df()
        assert set(quarantine["source"]) == set(DEMO_FILES)
        assert quarantine["reason"].str.len().gt(0).all()
        # no phone number survives into anything stored
        stored = " ".join(units["text"]) + " ".join(
            con.execute("SELECT text FROM agent_turns").df()["text"]
        )
        assert "13812345678" not in stored
        # agent turns are kept apart from customer units
        agent = con.execute("SELECT count(*) FROM agent_turns").fetchone()[0]
        assert agent > 200
    for source, row in summary.accounting.items():
        assert row["read"] == row["published"] + row["duplicates"] + row["quarantined"], source
    assert summary.accounting["reviews_shop_a.csv"]["duplicates"] >= 3


def test_second_run_is_incremental(tmp_path, demo_dir, fake_model):
    data = tmp_path / "in"
    data.mkdir()
    first_file = data / "reviews.csv"
    frame = pd.read_csv(
        demo_dir / "reviews_shop_a.csv", dtype=str, keep_default_na=False, on_bad_lines="skip"
    )
    frame.iloc[:100].to_csv(first_file, index=False)
    out = tmp_path / "out"
    first = run_pipeline(_config([first_file], out), today=TODAY)
    embedded_before = fake_model.texts_embedded

    frame.iloc[:150].to_csv(first_file, index=False)  # the next export has 50 more reviews
    second = run_pipeline(_config([first_file], out), today=TODAY)
    assert second.accounting["reviews.csv"]["duplicates"] >= 100
    assert (
        second.documents_new
        == 150
        - second.accounting["reviews.csv"]["duplicates"]
        - second.accounting["reviews.csv"]["quarantined"]
    )
    assert second.units_total == first.units_total + second.units_new
    new_texts = fake_model.texts_embedded - embedded_before
    # only the new units' texts were embedded: old units and the exemplars came from the cache
    assert new_texts == second.embedded_new and 0 < second.embedded_new <= second.units_new

    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        stamps = con.execute("SELECT run_id, count(*) FROM topic_assignments GROUP BY 1").fetchall()
    assert dict(stamps) == {first.run_id: first.units_total, second.run_id: second.units_new}

    third = run_pipeline(_config([first_file], out), today=TODAY)  # nothing new
    assert third.documents_new == 0 and third.units_new == 0
    assert third.units_total == second.units_total
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 3
        assert con.execute("SELECT count(DISTINCT unit_id) = count(*) FROM units").fetchone()[0]


CHAT_HEADER = "session_id\tuser_id\tspeaker\tsent_at\tproduct\ttext"
FIRST_TURNS = [
    "s1\tu1\tcustomer\t2024-05-01 10:00:00\t耳机A\t你好，这个耳机防水吗",
    "s1\tu1\tagent\t2024-05-01 10:01:00\t耳机A\t亲，支持IPX4防水哦",
    "s1\tu1\tcustomer\t2024-05-01 10:02:00\t耳机A\t好的那我下单了",
]
LATER_TURNS = [
    "s1\tu1\tcustomer\t2024-05-03 09:00:00\t耳机A\t收到了但是右耳没声音，质量太差了",
    "s1\tu1\tagent\t2024-05-03 09:05:00\t耳机A\t亲，可以申请换货",
]


def test_new_turns_of_a_published_chat_session_are_published(tmp_path, fake_model):
    chats, out = tmp_path / "chat.tsv", tmp_path / "out"
    chats.write_text("\n".join([CHAT_HEADER, *FIRST_TURNS]) + "\n", encoding="utf-8")
    run_pipeline(_config([chats], out), today=TODAY)
    chats.write_text("\n".join([CHAT_HEADER, *FIRST_TURNS, *LATER_TURNS]) + "\n", encoding="utf-8")

    second = run_pipeline(_config([chats], out), today=TODAY)
    third = run_pipeline(_config([chats], out), today=TODAY)

    counts = {"read": 5, "published": 2, "duplicates": 3, "quarantined": 0}
    assert second.accounting["chat.tsv"] == counts
    assert third.accounting["chat.tsv"] == {**counts, "published": 0, "duplicates": 5}
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        documents = con.execute(
            "SELECT doc_id, native_id, date, text, run_id FROM documents ORDER BY date"
        ).df()
        complaint = con.execute(
            "SELECT DISTINCT doc_id, turn_index FROM units WHERE text LIKE '%右耳没声音%'"
        ).fetchall()
        agent_turns = con.execute("SELECT turn_index FROM agent_turns ORDER BY 1").fetchall()
    assert documents["native_id"].tolist() == ["s1", "s1"]  # the session and its continuation
    assert documents["date"].astype(str).tolist() == ["2024-05-01", "2024-05-03"]
    assert documents["text"].iloc[1] == "收到了但是右耳没声音,质量太差了"
    assert documents["run_id"].iloc[1] == second.run_id
    assert complaint == [(documents["doc_id"].iloc[1], 3)]
    assert agent_turns == [(1,), (4,)]


def test_every_run_s_quarantined_rows_are_in_the_quarantine_table(tmp_path, fake_model):
    feed, out = tmp_path / "feed.csv", tmp_path / "out"
    feed.write_text("id,product,rating,review\n101,A,5,第一天的好评\n102,A,5,\n103,A,5,a,b,c\n")
    first = run_pipeline(_config([feed], out), today=TODAY)
    feed.write_text(  # overwritten: other rows at the same places, with the same reasons
        "id,product,rating,review\n201,A,4,第二天的评价\n202,B,1,\n"
        "203,B,1,客服电话13812345678,打了没人接,差评\n"
    )
    second = run_pipeline(_config([feed], out), today=TODAY)
    third = run_pipeline(_config([feed], out), today=TODAY)  # the same file again

    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        runs = dict(con.execute("SELECT run_id, rows_quarantined FROM runs").fetchall())
        stored = dict(con.execute("SELECT run_id, count(*) FROM quarantine GROUP BY 1").fetchall())
        raw = [r for (r,) in con.execute("SELECT raw FROM quarantine").fetchall()]
    assert runs == {first.run_id: 2, second.run_id: 2, third.run_id: 2}
    assert stored == {first.run_id: 2, second.run_id: 2}  # the third run's rows: no new copy
    assert len(raw) == 4 and not any("13812345678" in r for r in raw)


def test_missing_input_fails_before_anything_is_written(tmp_path, fake_model):
    with pytest.raises(InputFileError, match=r"nope\.csv"):
        run_pipeline(_config([tmp_path / "nope.csv"], tmp_path / "out"), today=TODAY)
    assert not (tmp_path / "out" / "current").exists()


def test_failed_run_keeps_previous_outputs(tmp_path, demo_dir, fake_model, monkeypatch):
    source = tmp_path / "a.csv"
    shutil.copy(demo_dir / "reviews_shop_a.csv", source)
    out = tmp_path / "out"
    run_pipeline(_config([source], out), today=TODAY)
    before = (out / "current").resolve()

    import voc.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(voc.pipeline, "build_aggregates", broken)
    shutil.copy(demo_dir / "reviews_shop_b_gbk.csv", tmp_path / "b.csv")
    with pytest.raises(RuntimeError):
        run_pipeline(_config([source, tmp_path / "b.csv"], out), today=TODAY)
    assert (out / "current").resolve() == before


def test_accounting_mismatch_is_an_error():
    records = pd.DataFrame({"source": ["s"] * 3})
    empty = pd.DataFrame({"source": pd.Series(dtype=object)})
    ingested = IngestResult(records=records, quarantine=empty, rows_read={"s": 4})
    cleaned = CleanResult(records=records, duplicates=empty, quarantine=empty)
    with pytest.raises(AccountingError, match="read 4 rows"):
        account(ingested, cleaned)
