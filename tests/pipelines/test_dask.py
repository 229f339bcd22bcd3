"""The flow on a real ``distributed.LocalCluster`` with worker processes.

The embed, label and assign_topics tasks are pickled and run in other processes; the
published tables must be identical to a run in this process. The tiny hashing embedder
of ``tests/fakes.py`` stands in for the sentence encoder (workers import it from the
repository like any module). Topic fitting runs in the flow process in both cases.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from tests.fakes import HashingEmbedder
from voc.config import EmbedConfig, PublishConfig, SourceConfig, VocConfig
from voc.embed import EMBEDDERS

DEMO_FILES = ("reviews_shop_a.csv", "reviews_shop_b_gbk.csv", "chats.tsv")
TABLES = {
    "documents": "doc_id",
    "units": "unit_id",
    "agent_turns": "doc_id, turn_index",
    "daily_aggregates": "date, product, source_kind, category, topic_id, polarity",
    "quarantine": "source, row, reason",
    "topic_assignments": "unit_id",
    "topics": "topic_id",
}

RUN_IDS = ["run_id", "first_run_id", "last_run_id", "retired_run_id"]


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _tables(out):
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        return {
            name: con.execute(f"SELECT * FROM {name} ORDER BY {order}")
            .df()
            .drop(columns=RUN_IDS, errors="ignore")  # differ by design
            for name, order in TABLES.items()
        }


def local_tables_have_topics(out) -> bool:
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        (assigned,) = con.execute("SELECT count(*) FROM units WHERE topic_id >= 0").fetchone()
    return assigned > 0


@pytest.mark.slow
def test_dask_cluster_run_equals_local_run(prefect_harness, tmp_path, demo_dir, monkeypatch):
    from distributed import LocalCluster, get_task_stream

    from pipelines.flows import run_voc

    monkeypatch.setitem(EMBEDDERS, "fake", lambda config, argument: HashingEmbedder())

    def config(out):
        return VocConfig(
            sources=tuple(SourceConfig(path=str(demo_dir / f)) for f in DEMO_FILES),
            embed=EmbedConfig(model="fake"),
            publish=PublishConfig(out_dir=str(out)),
        )

    local = run_voc(config(tmp_path / "local"))
    with (
        LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        cluster.get_client() as client,
        get_task_stream(client) as stream,
    ):
        on_dask = run_voc(config(tmp_path / "dask"), dask_address=cluster.scheduler_address)
    assert on_dask.accounting == local.accounting
    assert on_dask.embedded_new == local.embedded_new > 0
    ran_there = {str(record["key"]).split("-")[0] for record in stream.data}
    assert {"embed_step", "label_units", "assign_topics"} <= ran_there  # keys name functions
    assert local_tables_have_topics(tmp_path / "local")
    dask_tables, local_tables = _tables(tmp_path / "dask"), _tables(tmp_path / "local")
    for name in TABLES:
        pd.testing.assert_frame_equal(dask_tables[name], local_tables[name], obj=name)
