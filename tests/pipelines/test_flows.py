from __future__ import annotations

import pytest

from tests.fakes import HashingEmbedder
from voc.config import EmbedConfig, PublishConfig, SourceConfig, TopicConfig, VocConfig
from voc.embed import EMBEDDERS


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.mark.slow
def test_flow_runs_every_step_as_a_task(prefect_harness, tmp_path, demo_dir, monkeypatch):
    from prefect import get_client

    from pipelines.flows import voc_flow

    monkeypatch.setitem(EMBEDDERS, "fake", lambda config, argument: HashingEmbedder())
    config = VocConfig(
        sources=(SourceConfig(path=str(demo_dir / "reviews_shop_a.csv")),),
        embed=EmbedConfig(model="fake"),
        topics=TopicConfig(enabled=False),
        publish=PublishConfig(out_dir=str(tmp_path / "out")),
    )
    state = voc_flow(config, return_state=True)
    assert state.is_completed()
    summary = state.result()
    assert summary.accounting["reviews_shop_a.csv"]["read"] == 261

    async def task_names():
        async with get_client() as client:
            runs = await client.read_task_runs()
            return {run.name.rsplit("-", 1)[0] for run in runs}

    import asyncio

    names = asyncio.run(task_names())
    assert {
        "ingest",
        "clean",
        "segment",
        "embed",
        "label",
        "topics",
        "aggregate",
        "publish",
    } <= names


@pytest.mark.slow
def test_failing_step_fails_the_flow_with_the_reason(prefect_harness, tmp_path):
    from pipelines.flows import voc_flow

    config = VocConfig(
        sources=(SourceConfig(path=str(tmp_path / "absent.csv")),),
        publish=PublishConfig(out_dir=str(tmp_path / "out")),
    )
    state = voc_flow(config, return_state=True)
    assert state.is_failed()
    assert "absent.csv" in state.message or "absent.csv" in str(
        state.result(raise_on_failure=False)
    )
