from __future__ import annotations

import os

import duckdb
import pandas as pd
import pytest

from voc.errors import StoreError, StoreLockedError
from voc.publish import Store
from voc.schemas import TABLES, empty


def _tables(n_docs: int = 2) -> dict[str, pd.DataFrame]:
    tables = {name: empty(name) for name in TABLES}
    tables["documents"] = pd.DataFrame(
        {
            "doc_id": [f"d{i}" for i in range(n_docs)],
            "source": "s.csv",
            "source_kind": "review",
            "native_id": [str(i) for i in range(n_docs)],
            "product": "T恤",
            "user_id": None,
            "created_at": pd.Timestamp("2026-10-01 10:00"),
            "date": pd.Timestamp("2026-10-01").date(),
            "rating": 5.0,
            "text": "<script>alert(1)</script>",
            "is_default_review": False,
            "n_units": 0,
            "run_id": "r",
        }
    )
    return tables


def test_publish_makes_snapshot_current_with_links(tmp_path):
    store = Store(tmp_path / "out")
    snapshot = store.publish("20260101T000000-aaaaaa", _tables(), "<html></html>", {"ok": 1})
    assert (store.root / "current").resolve() == snapshot.resolve()
    for name in ("voc.duckdb", "parquet", "report.html"):
        assert (store.root / name).is_symlink() and (store.root / name).exists()
    with duckdb.connect(str(store.duckdb_path), read_only=True) as con:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        assert set(TABLES) <= tables
        assert (
            con.execute("SELECT text FROM documents LIMIT 1").fetchone()[0]
            == "<script>alert(1)</script>"
        )
    assert (store.root / "parquet" / "documents").is_dir()


def test_load_reads_back_what_was_published(tmp_path):
    store = Store(tmp_path / "out")
    assert store.load()["documents"].empty
    store.publish("20260101T000000-aaaaaa", _tables(3), None, {})
    assert sorted(store.load()["documents"]["doc_id"]) == ["d0", "d1", "d2"]


def test_failed_publish_leaves_last_good_outputs(tmp_path):
    store = Store(tmp_path / "out")
    store.publish("20260101T000000-aaaaaa", _tables(2), None, {})
    broken = _tables(5)
    broken["units"] = broken["units"].drop(columns=["text"])  # a step lost a column
    with pytest.raises(KeyError):
        store.publish("20260102T000000-bbbbbb", broken, None, {})
    assert len(store.load()["documents"]) == 2
    assert os.readlink(store.root / "current").endswith("20260101T000000-aaaaaa")


def test_old_snapshots_are_pruned(tmp_path):
    store = Store(tmp_path / "out")
    for i in range(4):
        store.publish(f"2026010{i + 1}T000000-aaaaaa", _tables(), None, {}, keep=2)
    names = sorted(p.name for p in store.snapshots.iterdir())
    assert names == ["20260103T000000-aaaaaa", "20260104T000000-aaaaaa"]


def test_second_writer_is_refused(tmp_path):
    store = Store(tmp_path / "out")
    with (
        store.lock(),
        pytest.raises(StoreLockedError, match="another run"),
        Store(tmp_path / "out").lock(),
    ):
        pass
    with store.lock():  # released again
        pass


def test_foreign_file_in_place_of_a_link_is_an_error(tmp_path):
    store = Store(tmp_path / "out")
    store.root.mkdir(parents=True)
    (store.root / "voc.duckdb").write_text("mine")
    with pytest.raises(StoreError, match="not a link"):
        store.publish("20260101T000000-aaaaaa", _tables(), None, {})
