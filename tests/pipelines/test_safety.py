"""Two runs on one store at once, and a run killed half-way through publishing."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from voc.config import EmbedConfig, PublishConfig, SourceConfig, TopicConfig, VocConfig
from voc.errors import StoreLockedError
from voc.pipeline import run_pipeline
from voc.publish import Store

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 6)


def _config(path, out) -> VocConfig:
    return VocConfig(
        sources=(SourceConfig(path=str(path)),),
        embed=EmbedConfig(model="fake"),
        topics=TopicConfig(enabled=False),
        publish=PublishConfig(out_dir=str(out)),
    )


def _export(demo_dir, folder, lines=None) -> Path:
    text = (demo_dir / "reviews_shop_a.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reviews_shop_a.csv"
    path.write_text("".join(text if lines is None else text[:lines]), encoding="utf-8")
    return path


def _counts(out: Path) -> tuple[int, int, int]:
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT (SELECT count(*) FROM documents), (SELECT count(DISTINCT doc_id) FROM documents),"
            " (SELECT count(*) FROM runs)"
        ).fetchone()


@pytest.mark.slow
def test_a_second_run_on_a_store_being_written_stops_and_changes_nothing(
    tmp_path, demo_dir, fake_model
):
    out = tmp_path / "out"
    run_pipeline(_config(_export(demo_dir, tmp_path / "d1", 120), out), today=TODAY)
    before = _counts(out)
    another_run = Store(out).lock()  # another run is publishing
    with another_run, pytest.raises(StoreLockedError, match="being written by another run"):
        run_pipeline(_config(_export(demo_dir, tmp_path / "d2"), out), today=TODAY)
    assert _counts(out) == before


KILLED_RUN = textwrap.dedent(
    """
    import datetime as dt, os, signal, sys
    from tests.fakes import HashingEmbedder
    from voc.config import EmbedConfig, PublishConfig, SourceConfig, TopicConfig, VocConfig
    from voc.embed import EMBEDDERS
    from voc.pipeline import run_pipeline
    from voc.publish import Store

    EMBEDDERS["fake"] = lambda config, argument: HashingEmbedder()

    def killed(*args, **kwargs):  # the DuckDB file is staged, the Parquet files are not
        os.kill(os.getpid(), signal.SIGKILL)

    Store._write_parquet = staticmethod(killed)
    config = VocConfig(
        sources=(SourceConfig(path=sys.argv[1]),), embed=EmbedConfig(model="fake"),
        topics=TopicConfig(enabled=False), publish=PublishConfig(out_dir=sys.argv[2]),
    )
    run_pipeline(config, today=dt.date(2026, 11, 6))
    """
)


@pytest.mark.slow
def test_a_run_killed_while_publishing_leaves_the_last_outputs_and_the_next_run_finishes(
    tmp_path, demo_dir, fake_model
):
    out = tmp_path / "out"
    run_pipeline(_config(_export(demo_dir, tmp_path / "d1", 120), out), today=TODAY)
    before = _counts(out)
    current = os.readlink(out / "current")
    full = _export(demo_dir, tmp_path / "d2")
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(full), str(out)],
        cwd=REPO,
        capture_output=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    assert os.readlink(out / "current") == current
    assert _counts(out) == before
    assert any((out / ".staging").iterdir())  # the half-written snapshot is there, unused

    summary = run_pipeline(_config(full, out), today=TODAY)
    fresh = run_pipeline(_config(full, tmp_path / "fresh"), today=TODAY)
    documents, distinct, runs = _counts(out)
    assert documents == distinct == _counts(tmp_path / "fresh")[0]
    assert runs == before[2] + 1
    assert summary.documents_new + before[0] == fresh.documents_new
    assert not list((out / ".staging").iterdir())  # cleaned up by the good run
