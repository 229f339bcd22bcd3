"""Nightly benchmark: an incremental run with 1,000 new reviews vs a full rerun.

Steps, all in one invocation:

1. Take the 62,774 reviews of ``../shared/data/online_shopping_10_cats.csv`` (or a
   seeded random slice with ``--limit N``), give each a ``review_id`` and a synthetic,
   seeded ``created_at`` spread over ``--days`` days, keep ``cat`` as the product.
   The ``--new`` newest reviews (default 1,000) are held back: ``<work>/base/reviews.csv``
   has the others, ``<work>/full/reviews.csv`` has all of them (same file name, so the
   same source name and document ids).
2. *build*: ``run_pipeline`` on the base file into ``<work>/base_store`` (not timed for
   the ratio; it is the store "already holding" the older reviews).
3. *full rerun*: ``run_pipeline`` on the full file into a fresh ``<work>/full_store``
   (cold embedding cache): what a run without incrementality costs.
4. *nightly*: ``<work>/base_store`` is copied to ``<work>/nightly_store`` (not timed),
   then ``run_pipeline`` runs on the full file with ``RunScope(since_watermark=True)`` —
   exactly what the ``voc-nightly`` flow's tasks run, without the Prefect server.

Each run is a child process (this script with ``--child``); wall time and peak RSS
come from ``os.wait4`` for that child alone. The markdown result is printed, and
appended to ``benchmarks/RESULTS.md`` with ``--record``.

Usage::

    cd /work/main && .venv/bin/python benchmarks/nightly.py --record     # full corpus
    .venv/bin/python benchmarks/nightly.py --limit 3000 --new 300 --work /tmp/nightly_smoke
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA_FILE = REPO.parent / "shared" / "data" / "online_shopping_10_cats.csv"
FIRST_DAY = dt.datetime(2025, 1, 1)
MODES = ("build", "full", "nightly")


@dataclass(frozen=True)
class Measured:
    """One child run: wall seconds, peak RSS and what the pipeline reported."""

    mode: str
    wall_seconds: float
    peak_rss_mb: float
    report: dict


def write_inputs(work: Path, limit: int | None, new: int, days: int, seed: int) -> tuple[int, int]:
    """Write ``base/reviews.csv`` (all but the newest ``new``) and ``full/reviews.csv``.

    Returns:
        ``(rows in full, rows in base)``.
    """
    frame = pd.read_csv(DATA_FILE, dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    if limit is not None and limit < len(frame):
        frame = frame.iloc[np.sort(rng.choice(len(frame), limit, replace=False))]
    # random times across the file (which is grouped by product), so the newest reviews
    # are a spread of products, as a real nightly delivery is
    seconds = rng.integers(0, days * 86400, len(frame))
    frame = frame.assign(
        review_id=[f"R{i:06d}" for i in range(len(frame))],
        created_at=[
            f"{FIRST_DAY + dt.timedelta(seconds=int(s)):%Y-%m-%d %H:%M:%S}" for s in seconds
        ],
    )[["review_id", "cat", "created_at", "review"]]
    # a shuffled file, so the held-back rows are not simply the last lines
    frame = frame.sample(frac=1.0, random_state=seed)
    newest = frame["created_at"].rank(method="first") > len(frame) - new
    for folder, rows in (("full", frame), ("base", frame[~newest])):
        (work / folder).mkdir(parents=True, exist_ok=True)
        rows.to_csv(work / folder / "reviews.csv", index=False)
    return len(frame), int((~newest).sum())


def child(mode: str, work: Path) -> None:
    """Run the pipeline for ``mode`` in this process and print its report as JSON."""
    from voc.config import ColumnMap, PublishConfig, SourceConfig, VocConfig
    from voc.pipeline import run_pipeline
    from voc.scope import RunScope

    folder, store, scope = {
        "build": ("base", "base_store", None),
        "full": ("full", "full_store", None),
        "nightly": ("full", "nightly_store", RunScope(since_watermark=True)),
    }[mode]
    columns = ColumnMap(text="review", id="review_id", product="cat", time="created_at")
    config = VocConfig(
        sources=(SourceConfig(path=str(work / folder / "reviews.csv"), columns=columns),),
        publish=PublishConfig(out_dir=str(work / store)),
    )
    summary = run_pipeline(config, scope=scope)
    with duckdb.connect(str(summary.out_dir / "voc.duckdb"), read_only=True) as con:
        (refits,) = con.execute(
            "SELECT topic_refits FROM runs WHERE run_id = ?", [summary.run_id]
        ).fetchone()
    print(
        json.dumps(
            {
                "accounting": summary.accounting,
                "documents_new": summary.documents_new,
                "units_new": summary.units_new,
                "units_total": summary.units_total,
                "embedded_new": summary.embedded_new,
                "timings": summary.timings,
                "topic_refits": json.loads(refits or "{}"),
            }
        )
    )


def measure(mode: str, work: Path) -> Measured:
    """Run ``mode`` as a child process; its own wall time and peak RSS."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(REPO / ".cache" / "numba"), "DO_NOT_TRACK": "1"}
    env.setdefault("HF_HUB_OFFLINE", "1")
    log = work / f"{mode}.stderr"
    command = [sys.executable, __file__, "--child", mode, "--work", str(work)]
    start = time.perf_counter()
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=stderr
        )
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{mode} run failed; see {log}")
    report = json.loads(stdout.decode().strip().splitlines()[-1])
    return Measured(mode, wall, usage.ru_maxrss / 1024, report)


def markdown(rows: tuple[int, int], runs: dict[str, Measured], command: str) -> str:
    """The result section for RESULTS.md."""
    full, nightly = runs["full"], runs["nightly"]
    ratio = full.wall_seconds / nightly.wall_seconds
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — nightly run with {rows[0] - rows[1]:,} new"
        f" reviews on a store of {rows[1]:,}",
        "",
        f"- Command: `{command}`",
        f"- Machine: nproc {os.cpu_count()}, Python {platform.python_version()};"
        f" load average at the end: {load}",
        "- Each run is `run_pipeline` in its own process (wall and peak RSS from `os.wait4`);"
        " the nightly is what the `voc-nightly` flow's tasks run, without Prefect's overhead.",
        "",
        "| run | wall s | peak RSS MB | documents new | units new | texts embedded |",
        "| :--- | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {
        "build": "build the store (older reviews)",
        "full": "full rerun (fresh store, cold cache)",
        "nightly": "nightly (watermark)",
    }
    for mode in MODES:
        run = runs[mode]
        lines.append(
            f"| {names[mode]} | {run.wall_seconds:,.1f} | {run.peak_rss_mb:,.0f} |"
            f" {run.report['documents_new']:,} | {run.report['units_new']:,} |"
            f" {run.report['embedded_new']:,} |"
        )
    steps = sorted(nightly.report["timings"].items(), key=lambda kv: -kv[1]["seconds"])[:6]
    lines += [
        "",
        f"**Nightly / full rerun: {ratio:.1f}x cheaper** (target: at least 20x).",
        "Slowest nightly steps: "
        + ", ".join(f"{name} {t['seconds']:.1f} s" for name, t in steps)
        + ".",
        "",
        "Topic refits in the nightly run (category: reason): "
        + ("; ".join(f"{c}: {r}" for c, r in nightly.report["topic_refits"].items()) or "none")
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="a seeded random slice of this many reviews")
    parser.add_argument("--new", type=int, default=1000, help="newest reviews held back")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "nightly")
    parser.add_argument("--record", action="store_true", help="append the result to RESULTS.md")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.work)
        return
    work = args.work.resolve()
    for store in ("base_store", "full_store", "nightly_store"):
        shutil.rmtree(work / store, ignore_errors=True)
    rows = write_inputs(work, args.limit, args.new, args.days, args.seed)
    runs = {"build": measure("build", work), "full": measure("full", work)}
    shutil.copytree(work / "base_store", work / "nightly_store", symlinks=True)
    runs["nightly"] = measure("nightly", work)
    result = markdown(rows, runs, "python " + " ".join(sys.argv))
    print(result)
    if args.record:
        with (REPO / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + result)


if __name__ == "__main__":
    main()
