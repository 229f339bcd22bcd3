from __future__ import annotations

import asyncio
import datetime as dt

import duckdb
import pytest
import yaml

from voc.backfill import BackfillLedger
from voc.config import EmbedConfig, PublishConfig, SourceConfig, TopicConfig, VocConfig
from voc.errors import ConfigError, InputFileError


@pytest.fixture(scope="module")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _write_config(tmp_path, sources, out, topics=False):
    """A YAML run config, as a deployment would be given one."""
    path = tmp_path / "voc.yaml"
    data = {
        "sources": [{"path": str(s)} for s in sources],
        "embed": {"model": "fake"},
        "topics": {"enabled": topics},
        "publish": {"out_dir": str(out)},
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def _export(demo_dir, folder, lines=None):
    """The demo review export as it stood after its first ``lines`` lines."""
    text = (demo_dir / "reviews_shop_a.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "reviews_shop_a.csv"
    path.write_text("".join(text if lines is None else text[:lines]), encoding="utf-8")
    return path


def _read(out, sql):
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


async def _artifacts(flow_run_id):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in found}


@pytest.mark.slow
def test_flow_runs_every_step_as_a_task(prefect_harness, tmp_path, demo_dir, fake_model):
    from prefect import get_client

    from pipelines.flows import voc_flow

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

    names = asyncio.run(task_names())
    assert {
        "ingest",
        "clean",
        "segment",
        "embed",
        "label",
        "aggregate",
        "publish",
    } <= names
    # topics are off in this config: no topic step runs (tests/pipelines/test_dask.py has them on)
    assert not names & {"topics", "assign_topics", "describe_topics"}


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


@pytest.mark.slow
def test_nightly_processes_only_new_rows_and_publishes_artifacts(
    prefect_harness, tmp_path, demo_dir, fake_model
):
    from pipelines.flows import nightly

    out = tmp_path / "out"
    first = nightly(
        config_path=_write_config(tmp_path, [_export(demo_dir, tmp_path / "d1", 151)], out)
    )
    state = nightly(
        config_path=_write_config(tmp_path, [_export(demo_dir, tmp_path / "d2")], out),
        return_state=True,
    )
    assert state.is_completed()
    second = state.result()
    row = second.accounting["reviews_shop_a.csv"]
    assert row["read"] == 261
    assert row["duplicates"] >= first.accounting["reviews_shop_a.csv"]["published"]
    assert second.units_new > 0 and second.embedded_new <= second.units_new
    (duplicated,) = _read(out, "SELECT count(*) - count(DISTINCT doc_id) FROM documents")
    assert duplicated == (0,)

    artifacts = asyncio.run(_artifacts(state.state_details.flow_run_id))
    assert set(artifacts) == {"voc-nightly-summary", "voc-nightly-top-issues", "voc-nightly-report"}
    summary = artifacts["voc-nightly-summary"].data
    assert second.run_id in summary and "rows newer than the store's watermark" in summary
    assert "| reviews_shop_a.csv | 261 |" in summary
    # the link points at this run's snapshot, so it stays right after later runs
    link = f"{second.snapshot.resolve().as_uri()}/report.html"
    assert link in artifacts["voc-nightly-report"].data


@pytest.mark.slow
def test_adhoc_rejects_bad_parameters_naming_them(prefect_harness, tmp_path, demo_dir):
    from pipelines.flows import adhoc

    config = _write_config(tmp_path, [demo_dir / "reviews_shop_a.csv"], tmp_path / "out")
    state = adhoc(config_path=config, start="2026-11-05", end="2026-11-01", return_state=True)
    assert state.is_failed()
    assert "adhoc parameters" in state.message and "before start" in state.message
    state = adhoc(config_path=config, categories=["colour"], return_state=True)
    assert state.is_failed()
    assert "categories: unknown ['colour']" in state.message
    assert not (tmp_path / "out" / "current").exists()


@pytest.mark.slow
def test_adhoc_runs_one_product_over_some_days(prefect_harness, tmp_path, demo_dir, fake_model):
    from pipelines.flows import adhoc

    out = tmp_path / "out"
    summary = adhoc(
        config_path=_write_config(tmp_path, [demo_dir / "reviews_shop_a.csv"], out),
        products=["蓝牙降噪耳机"],
        start="2026-10-05",
        end="2026-10-12",
        categories=["product_quality"],
    )
    assert summary.rows_left_out["reviews_shop_a.csv"] > 0
    (row,) = _read(out, "SELECT min(date), max(date), count(DISTINCT product) FROM documents")
    assert row[0] >= dt.date(2026, 10, 5) and row[1] <= dt.date(2026, 10, 12) and row[2] == 1


@pytest.mark.slow
def test_backfill_runs_day_by_day_and_resumes(prefect_harness, tmp_path, demo_dir, fake_model):
    from pipelines.flows import backfill

    out = tmp_path / "out"
    config = _write_config(tmp_path, [demo_dir / "reviews_shop_a.csv"], out)
    # a first backfill covers two days, as if it had been stopped there
    first = backfill(start="2026-10-01", end="2026-10-02", config_path=config)
    assert len(first) == 2
    mirror = tmp_path / "mirror"
    runs = backfill(
        start="2026-10-01", end="2026-10-04", config_path=config, mirror_to=mirror.as_uri()
    )
    assert len(runs) == 2  # the first two days were done already
    assert (mirror / "CURRENT").read_text(encoding="utf-8") == runs[-1]
    assert BackfillLedger(out).done("*") == {dt.date(2026, 10, d) for d in range(1, 5)}
    days = [r[0] for r in _read(out, "SELECT DISTINCT date FROM documents ORDER BY 1")]
    assert days == [dt.date(2026, 10, d) for d in range(1, 5)]
    (duplicated,) = _read(out, "SELECT count(*) - count(DISTINCT doc_id) FROM documents")
    assert duplicated == (0,)


def test_io_steps_retry_on_os_errors_but_not_on_voc_errors():
    from prefect.states import Failed

    from pipelines.flows import _retry_io_only

    # the state Prefect hands a retry condition when a task raises
    missing = Failed(data=InputFileError("a.csv: file not found"))
    busy = Failed(data=OSError(16, "Device or resource busy"))
    assert _retry_io_only(None, None, missing) is False
    assert _retry_io_only(None, None, busy) is True


def test_flow_config_reads_voc_config_and_out_dir_overrides_it(tmp_path, demo_dir, monkeypatch):
    from pipelines.flows import flow_config

    path = _write_config(tmp_path, [demo_dir / "reviews_shop_a.csv"], tmp_path / "configured")
    monkeypatch.setenv("VOC_CONFIG", path)
    config = flow_config(None, str(tmp_path / "override"))
    assert config.publish.out_dir == str(tmp_path / "override")
    assert [s.path for s in config.sources] == [str(demo_dir / "reviews_shop_a.csv")]
    assert config.embed.model == "fake"


def test_flow_config_without_a_file_says_how_to_give_one(monkeypatch):
    from pipelines.flows import flow_config

    monkeypatch.delenv("VOC_CONFIG", raising=False)
    with pytest.raises(ConfigError) as error:
        flow_config(None, None)
    assert error.value.problems == ["config_path: give a YAML config or set $VOC_CONFIG"]


def test_flow_config_without_sources_is_a_config_error_naming_the_file(tmp_path):
    from pipelines.flows import flow_config

    path = _write_config(tmp_path, [], tmp_path / "out")
    with pytest.raises(ConfigError) as error:
        flow_config(path, None)
    assert str(error.value) == (
        f"[E201] 1 problem(s): {path}: sources: the config lists no sources to read"
    )


@pytest.mark.slow
def test_nightly_mirrors_the_published_snapshot_to_a_url(
    prefect_harness, tmp_path, demo_dir, fake_model
):
    from pipelines.flows import nightly

    mirror = tmp_path / "mirror"
    summary = nightly(
        config_path=_write_config(tmp_path, [demo_dir / "reviews_shop_a.csv"], tmp_path / "out"),
        mirror_to=mirror.as_uri(),
    )
    assert (mirror / "CURRENT").read_text(encoding="utf-8") == summary.run_id
    copied = mirror / "snapshots" / summary.run_id

    def files(root):
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    assert files(copied) == files(summary.snapshot)
    assert (copied / "voc.duckdb").read_bytes() == (summary.snapshot / "voc.duckdb").read_bytes()
