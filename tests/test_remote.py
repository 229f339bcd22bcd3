from __future__ import annotations

import datetime as dt

import fsspec
import pytest

from voc.config import SourceConfig
from voc.errors import InputFileError
from voc.remote import ingest_anywhere, mirror_snapshot
from voc.sources import ingest_sources

TODAY = dt.date(2026, 11, 6)


@pytest.fixture
def memory_fs():
    fs = fsspec.filesystem("memory")
    yield fs
    fs.rm("/voc-test", recursive=True)


def test_memory_and_file_urls_read_like_local_files(tmp_path, demo_dir, memory_fs):
    local = demo_dir / "reviews_shop_b_gbk.csv"  # GBK bytes: the copy must keep them as they are
    memory_fs.pipe("/voc-test/in/reviews_shop_b_gbk.csv", local.read_bytes())
    expected = ingest_sources((SourceConfig(path=str(local)),), TODAY)
    for url in ("memory://voc-test/in/reviews_shop_b_gbk.csv", local.as_uri()):
        got = ingest_anywhere((SourceConfig(path=url),), TODAY, tmp_path / "inputs")
        assert got.rows_read == expected.rows_read
        assert set(got.records["file"]) == {url}
        assert set(got.quarantine["file"]) == {url}
        columns = [c for c in expected.records.columns if c != "file"]
        assert got.records[columns].equals(expected.records[columns])


def test_missing_url_is_one_clear_error(tmp_path):
    with pytest.raises(InputFileError, match=r"memory://voc-test/absent\.csv: file not found"):
        ingest_anywhere((SourceConfig(path="memory://voc-test/absent.csv"),), TODAY, tmp_path)


def test_mirror_copies_the_snapshot_then_points_current_at_it(tmp_path, memory_fs):
    snapshot = tmp_path / "snapshots" / "20261106T020000-abcdef"
    (snapshot / "parquet" / "units").mkdir(parents=True)
    (snapshot / "manifest.json").write_text('{"run_id": "x"}', encoding="utf-8")
    (snapshot / "parquet" / "units" / "part-0.parquet").write_bytes(b"PAR1")
    target = mirror_snapshot(snapshot, "memory://voc-test/out")
    assert target == "memory://voc-test/out/snapshots/20261106T020000-abcdef"
    assert memory_fs.cat("/voc-test/out/CURRENT") == b"20261106T020000-abcdef"
    copied = memory_fs.find("/voc-test/out/snapshots")
    assert sorted(p.rsplit("/", 1)[1] for p in copied) == ["manifest.json", "part-0.parquet"]


def test_mirroring_again_overwrites_the_copy(tmp_path, memory_fs):
    # a flow retries a failed mirror: the second copy must not nest inside the first
    snapshot = tmp_path / "snapshots" / "20261106T020000-abcdef"
    (snapshot / "parquet").mkdir(parents=True)
    (snapshot / "parquet" / "part-0.parquet").write_bytes(b"PAR1")
    for _ in range(2):
        mirror_snapshot(snapshot, "memory://voc-test/out")
    assert memory_fs.find("/voc-test/out/snapshots") == [
        "/voc-test/out/snapshots/20261106T020000-abcdef/parquet/part-0.parquet"
    ]
