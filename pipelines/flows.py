"""Prefect flows for voc.

Each pipeline step runs as its own Prefect task, named after the step, so the
Prefect UI shows where time goes and where a run failed. The chaining of steps is
not repeated here: :func:`voc.pipeline.run_pipeline` calls every step through
:func:`prefect_step`, which wraps it in a task. Only I/O steps retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from voc.config import VocConfig
from voc.pipeline import RunSummary, run_pipeline

T = TypeVar("T")

# Steps that read or write files; a transient I/O error is worth one more try.
IO_STEPS = {"ingest": 2, "load_previous": 2, "publish": 1}


def prefect_step(name: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run one pipeline step as a Prefect task (no caching: inputs are large frames)."""
    wrapped = task(
        fn,
        name=name,
        retries=IO_STEPS.get(name, 0),
        retry_delay_seconds=5,
        cache_policy=NO_CACHE,
        persist_result=False,
    )
    return wrapped(*args, **kwargs)


@flow(name="voc-run", log_prints=False, persist_result=False)
def voc_flow(config: VocConfig, refit_topics: bool = False) -> RunSummary:
    """Run the whole pipeline on ``config.sources`` as Prefect tasks."""
    return run_pipeline(config, refit_topics=refit_topics, step=prefect_step)
