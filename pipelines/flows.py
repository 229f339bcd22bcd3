"""Prefect flows for voc: ``voc-nightly``, ``voc-adhoc``, ``voc-backfill`` and ``voc-run``.

Each pipeline step runs as its own Prefect task, named after the step, so the
Prefect UI shows where time goes and where a run failed. The chaining of steps is
not repeated here: :func:`voc.pipeline.run_pipeline` calls every step through
:func:`prefect_step`, which wraps it in a task. Which rows a run covers is decided
by :mod:`voc.scope` (shared with ``voc run``); the flows only build the scope from
their parameters.

- Only I/O steps retry, and only on errors that may pass (not on a ``VocError``: a
  missing file stays missing).
- ``embed``, ``label`` and ``assign_topics`` take data and return data, so they are
  *submitted* to the flow's task runner: with a Dask scheduler address (the
  ``dask_address`` parameter or ``$VOC_DASK_ADDRESS``) they run on that cluster through
  ``prefect-dask``. Topic fitting (BERTopic on a bounded sample, with a jieba
  tokenizer that does not pickle) stays in the flow's process.
- Every run publishes Prefect artifacts (see :mod:`pipelines.artifacts`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipelines.artifacts import publish_artifacts, publish_backfill_artifact
from voc.backfill import BackfillLedger, daily_chunks
from voc.config import VocConfig, load_config
from voc.errors import ConfigError, VocError
from voc.pipeline import RunSummary, run_pipeline
from voc.remote import mirror_snapshot
from voc.scope import RunScope, parse_scope

T = TypeVar("T")
log = logging.getLogger(__name__)

# Steps that read or write files; a transient I/O error is worth one more try.
IO_STEPS = {"ingest": 2, "load_previous": 2, "publish": 1}
# Steps that take and return plain data: they may run on another machine.
REMOTE_STEPS = {"embed", "label", "assign_topics"}
DASK_ADDRESS_ENV = "VOC_DASK_ADDRESS"
CONFIG_ENV = "VOC_CONFIG"


def _retry_io_only(task, task_run, state) -> bool:
    """Retry unless the step failed with a ``VocError`` (bad input does not heal)."""
    try:
        state.result()
    except VocError:
        return False
    except Exception:  # an OSError from a busy disk or a network share may pass
        return True
    return True


def prefect_step(name: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run one pipeline step as a Prefect task (no caching: inputs are large frames)."""
    wrapped = task(
        fn,
        name=name,
        retries=IO_STEPS.get(name, 0),
        retry_delay_seconds=5,
        retry_condition_fn=_retry_io_only,
        cache_policy=NO_CACHE,
        persist_result=False,
    )
    if name in REMOTE_STEPS:
        return wrapped.submit(*args, **kwargs).result()
    return wrapped(*args, **kwargs)


@flow(name="voc-run", log_prints=False, persist_result=False)
def voc_flow(
    config: VocConfig, refit_topics: bool = False, scope: RunScope | None = None
) -> RunSummary:
    """Run the whole pipeline on ``config.sources`` as Prefect tasks."""
    return run_pipeline(config, refit_topics=refit_topics, scope=scope, step=prefect_step)


def run_voc(
    config: VocConfig,
    scope: RunScope | None = None,
    refit_topics: bool = False,
    dask_address: str | None = None,
) -> RunSummary:
    """Run :func:`voc_flow` as a subflow, on a Dask cluster when an address is given."""
    address = dask_address or os.environ.get(DASK_ADDRESS_ENV)
    runner = voc_flow
    if address:
        from prefect_dask import DaskTaskRunner  # imported only when a cluster is used

        runner = voc_flow.with_options(task_runner=DaskTaskRunner(address=address))
    return runner(config, refit_topics=refit_topics, scope=scope)


def flow_config(config_path: str | None, out_dir: str | None) -> VocConfig:
    """The run config: the YAML file (or ``$VOC_CONFIG``), with ``out_dir`` overriding.

    Raises:
        ConfigError: no file given, or one without sources.
    """
    path = config_path or os.environ.get(CONFIG_ENV)
    if not path:
        raise ConfigError(
            "flow parameters", [f"config_path: give a YAML config or set ${CONFIG_ENV}"]
        )
    config = load_config(path)
    if not config.sources:
        raise ConfigError(path, ["sources: the config lists no sources to read"])
    if out_dir:
        config = config.model_copy(
            update={"publish": config.publish.model_copy(update={"out_dir": out_dir})}
        )
    return config


def _finish(summary: RunSummary, flow_name: str, mirror_to: str | None) -> RunSummary:
    if mirror_to:
        mirror_snapshot(summary.snapshot, mirror_to)
    publish_artifacts(summary, flow_name)
    return summary


@flow(name="voc-nightly", log_prints=False, persist_result=False)
def nightly(
    config_path: str | None = None,
    out_dir: str | None = None,
    dask_address: str | None = None,
    mirror_to: str | None = None,
) -> RunSummary:
    """Process only what is new since the last run: rows newer than the store's watermark.

    Args:
        config_path: YAML run config (default ``$VOC_CONFIG``).
        out_dir: Overrides the config's output directory.
        dask_address: Dask scheduler for embed/label/assign_topics (default ``$VOC_DASK_ADDRESS``).
        mirror_to: An fsspec URL the published snapshot is copied to.
    """
    config = flow_config(config_path, out_dir)
    summary = run_voc(config, RunScope(since_watermark=True), dask_address=dask_address)
    return _finish(summary, "nightly", mirror_to)


@flow(name="voc-adhoc", log_prints=False, persist_result=False)
def adhoc(
    config_path: str | None = None,
    out_dir: str | None = None,
    products: list[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    sources: list[str] | None = None,
    categories: list[str] | None = None,
    rebuild_topics: bool = False,
    dask_address: str | None = None,
    mirror_to: str | None = None,
) -> RunSummary:
    """A run a product manager asks for: some products, days, sources; topics rebuilt or not.

    Args:
        config_path: YAML run config (default ``$VOC_CONFIG``).
        out_dir: Overrides the config's output directory.
        products: Only documents of these products.
        start: First day (``YYYY-MM-DD``) of the documents to process.
        end: Last day, included.
        sources: Only these configured sources, by name.
        categories: The categories the run's artifacts report on.
        rebuild_topics: Refit every category's topics.
        dask_address: Dask scheduler for embed/label/assign_topics (default ``$VOC_DASK_ADDRESS``).
        mirror_to: An fsspec URL the published snapshot is copied to.
    """
    scope = parse_scope(
        "adhoc parameters", products=products, start=start, end=end, sources=sources,
        categories=categories,
    )  # fmt: skip
    config = flow_config(config_path, out_dir)
    summary = run_voc(config, scope, refit_topics=rebuild_topics, dask_address=dask_address)
    return _finish(summary, "adhoc", mirror_to)


@flow(name="voc-backfill", log_prints=False, persist_result=False)
def backfill(
    start: str,
    end: str,
    config_path: str | None = None,
    out_dir: str | None = None,
    sources: list[str] | None = None,
    dask_address: str | None = None,
    mirror_to: str | None = None,
) -> list[str]:
    """Process a date range one day at a time; days already done are skipped (resumable).

    Args:
        start: First day (``YYYY-MM-DD``).
        end: Last day, included.
        config_path: YAML run config (default ``$VOC_CONFIG``).
        out_dir: Overrides the config's output directory.
        sources: Only these configured sources, by name.
        dask_address: Dask scheduler for embed/label/assign_topics (default ``$VOC_DASK_ADDRESS``).
        mirror_to: An fsspec URL the last day's published snapshot is copied to.

    Returns:
        The run ids of the days processed by this invocation.
    """
    scope = parse_scope("backfill parameters", start=start, end=end, sources=sources)
    config = flow_config(config_path, out_dir)
    ledger = BackfillLedger(config.publish.out_dir)
    key = BackfillLedger.key(scope.sources)
    done = ledger.done(key)
    run_ids, skipped, last = [], [], None
    for day in daily_chunks(scope.start, scope.end):
        if day in done:
            skipped.append(day)
            continue
        day_scope = scope.model_copy(update={"start": day, "end": day})
        summary = last = run_voc(config, day_scope, dask_address=dask_address)
        ledger.mark(key, day)
        run_ids.append(summary.run_id)
        log.info(
            "backfill %s: run %s, %d new documents", day, summary.run_id, summary.documents_new
        )
    if mirror_to and last is not None:  # every snapshot holds the whole store: the last suffices
        mirror_snapshot(last.snapshot, mirror_to)
    publish_backfill_artifact(scope.start, scope.end, run_ids, skipped)
    return run_ids
