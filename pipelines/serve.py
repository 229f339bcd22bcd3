"""Register the voc deployments with a running Prefect server and serve them.

``python -m pipelines.serve --config voc.yaml`` (or ``voc serve``) starts one
long-running process that registers three deployments and runs their flow runs:

- ``voc-nightly/nightly`` on a cron schedule (default 02:00 Asia/Shanghai);
- ``voc-adhoc/adhoc`` and ``voc-backfill/backfill``, run on demand
  (``prefect deployment run 'voc-adhoc/adhoc' --param products='["…"]'``).

Each deployment runs at most one flow run at a time (``concurrency_limit=1``); two
different deployments writing the same store are kept apart by the store's lock
(the second fails at once with ``[E402] … is being written by another run``).

The schedule and the config file are checked before anything is registered: a
mistake is a :class:`voc.errors.ConfigError`, one line, not a traceback from Prefect.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from zoneinfo import available_timezones

from prefect import serve
from prefect.schedules import Cron

from pipelines.flows import adhoc, backfill, nightly
from voc.config import load_config
from voc.errors import ConfigError, VocError

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def build_deployments(
    config_path: str | None,
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    dask_address: str | None = None,
):
    """The three deployments, with the config path (made absolute) as a default parameter."""
    parameters: dict[str, str] = {}
    if config_path:
        parameters["config_path"] = str(Path(config_path).resolve())
    if dask_address:
        parameters["dask_address"] = dask_address
    return [
        nightly.to_deployment(
            "nightly",
            schedule=Cron(cron, timezone=timezone),
            parameters=parameters,
            concurrency_limit=1,
            description="Only what is new since the last run (the store's watermark).",
        ),
        adhoc.to_deployment(
            "adhoc",
            parameters=parameters,
            concurrency_limit=1,
            description="Products, days, sources, categories, topics rebuilt or not.",
        ),
        backfill.to_deployment(
            "backfill",
            parameters=parameters,
            concurrency_limit=1,
            description="A date range, one day at a time, resumable.",
        ),
    ]


def check_options(config_path: str | None, cron: str, timezone: str) -> None:
    """Refuse a schedule Prefect would not run, or a config file the flows could not load.

    Raises:
        ConfigError: every problem with ``--cron`` and ``--timezone`` at once; else the
            config file's own problems, as :func:`voc.config.load_config` reports them.
    """
    problems = []
    try:
        Cron(cron, timezone=timezone)
    except ValueError as exc:
        problems.append(f"--cron: {exc}; expected minute hour day month weekday, e.g. '0 2 * * *'")
    if timezone not in available_timezones():  # Prefect only refuses it when registering
        problems.append(f"--timezone {timezone!r}: not an IANA timezone, e.g. 'Asia/Shanghai'")
    if problems:
        raise ConfigError("the command line", problems)
    if config_path:
        load_config(config_path)


def serve_deployments(
    config_path: str | None,
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    dask_address: str | None = None,
) -> None:
    """Check the options, then register the deployments with ``$PREFECT_API_URL`` and serve them.

    Raises:
        ConfigError: a bad schedule or config file (see :func:`check_options`).
    """
    check_options(config_path, cron, timezone)
    serve(*build_deployments(config_path, cron, timezone, dask_address))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="YAML run config (else $VOC_CONFIG at run time)")
    parser.add_argument("--cron", default=DEFAULT_CRON, help="nightly schedule (cron)")
    parser.add_argument("--timezone", default=DEFAULT_TIMEZONE, help="timezone of the schedule")
    parser.add_argument("--dask-address", help="Dask scheduler for embed/label/assign_topics")
    args = parser.parse_args(argv)
    try:
        serve_deployments(args.config, args.cron, args.timezone, args.dask_address)
    except VocError as exc:
        parser.exit(2, f"error {exc}\n")


if __name__ == "__main__":
    main()
