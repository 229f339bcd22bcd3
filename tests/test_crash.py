"""A run killed with SIGKILL at any step leaves the last good outputs as they were.

The test runs the real ``voc run`` command in a subprocess (this module's ``__main__``,
which adds a tiny fake embedding model and a *pause point*), waits until the run has
reached the named step, kills it with SIGKILL and checks that the previous ``current``
snapshot is byte-identical and still readable. After the last kill a plain rerun must
finish the work: every document once, no unit twice, the row accounting intact, and a
further rerun must change nothing.

Pause points are the pipeline's own step names (the step runner is wrapped) and three
moments inside publishing: the staging DuckDB file written but not the Parquet files,
the snapshot moved into ``snapshots/`` but ``current`` not flipped, and ``current``
flipped but old snapshots not yet pruned.
"""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pytest

REPO = Path(__file__).resolve().parents[1]
# In pipeline order; killing at "prune" comes last because the run is already published.
# Left out to keep the test short: "ingest" (nothing has been written yet) and "publish"
# (the report is rendered in memory, so it is the same moment as "report").
PAUSE_POINTS = ("segment", "embed", "label", "report", "write_parquet", "flip", "prune")
PAUSED_TIMEOUT_S = 120
CONFIG = """\
embed: {model: fake}
labels: {classifier: prototype}
topics: {enabled: false}
"""


# --- the subprocess side -----------------------------------------------------------------


def _pause(point: str, wanted: str, marker: Path) -> None:
    """At the wanted point, tell the test we are there and wait to be killed."""
    if point == wanted:
        marker.write_text(point, encoding="utf-8")
        time.sleep(PAUSED_TIMEOUT_S)
        raise SystemExit(f"not killed at {point} within {PAUSED_TIMEOUT_S} s")


def run_voc_with_pause(wanted: str, marker: Path, argv: list[str]) -> None:
    """``voc <argv>`` with the fake embedder registered and a pause at ``wanted``."""
    import voc.cli
    import voc.embed
    import voc.pipeline
    from tests.fakes import HashingEmbedder
    from voc.publish import Store

    voc.embed.EMBEDDERS["fake"] = lambda config, argument: HashingEmbedder()
    pause = functools.partial(_pause, wanted=wanted, marker=marker)

    def pausing_step(name, fn, /, *args, **kwargs):
        pause(name)
        return fn(*args, **kwargs)

    # voc.cli imports run_pipeline when the command runs, so this is the one it calls.
    voc.pipeline.run_pipeline = functools.partial(voc.pipeline.run_pipeline, step=pausing_step)

    write_parquet, flip, prune = Store._write_parquet, Store._flip, Store._prune

    def paused_write_parquet(folder, arrow):
        pause("write_parquet")
        write_parquet(folder, arrow)

    def paused_flip(self, snapshot):
        pause("flip")
        flip(self, snapshot)

    def paused_prune(self, keep):
        pause("prune")
        prune(self, keep)

    Store._write_parquet = staticmethod(paused_write_parquet)
    Store._flip = paused_flip
    Store._prune = paused_prune
    sys.argv = ["voc", *argv]
    voc.cli.main()


if __name__ == "__main__":
    run_voc_with_pause(sys.argv[1], Path(sys.argv[2]), sys.argv[3:])


# --- the test side -----------------------------------------------------------------------


def _start(pause_at: str, marker: Path, inputs: Path, out: Path, config: Path) -> subprocess.Popen:
    argv = ["run", "--input", str(inputs), "--out", str(out), "--config", str(config)]
    env = {**os.environ, "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.test_crash", pause_at, str(marker), *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_to_end(inputs: Path, out: Path, config: Path, tmp: Path) -> None:
    process = _start("never", tmp / "never", inputs, out, config)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr


def _kill_at(point: str, inputs: Path, out: Path, config: Path, tmp: Path) -> None:
    marker = tmp / f"paused-{point}"
    process = _start(point, marker, inputs, out, config)
    deadline = time.monotonic() + PAUSED_TIMEOUT_S
    while not marker.exists():
        if process.poll() is not None:
            pytest.fail(f"run ended before reaching {point}: {process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"run did not reach {point} within {PAUSED_TIMEOUT_S} s")
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _fingerprint(out: Path) -> tuple[str, dict[str, str]]:
    """Where ``current`` points and the sha256 of every file in it."""
    current = (out / "current").resolve()
    digests = {
        str(path.relative_to(current)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(current.rglob("*"))
        if path.is_file()
    }
    return current.name, digests


def _read_back(out: Path) -> dict[str, pd.DataFrame]:
    """The published tables through the public links, as a BI tool would open them."""
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        tables = {name: con.table(name).df() for name in ("documents", "units", "runs")}
    parquet_docs = ds.dataset(out / "parquet" / "documents", partitioning="hive").count_rows()
    assert parquet_docs == len(tables["documents"])
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    return tables


def _write_inputs(demo_dir: Path, folder: Path) -> tuple[Path, Path]:
    """A first export and a later, longer one with a few bad and repeated rows."""
    reviews = pd.read_csv(
        demo_dir / "reviews_shop_a.csv", dtype=str, keep_default_na=False, on_bad_lines="skip"
    ).iloc[:120]
    first = folder / "first" / "reviews.csv"
    later = folder / "later" / "reviews.csv"
    first.parent.mkdir()
    later.parent.mkdir()
    reviews.iloc[:60].to_csv(first, index=False)
    planted = pd.DataFrame(
        [
            {**reviews.iloc[0].to_dict(), "review_id": "X1", "rating": "五星"},
            {**reviews.iloc[1].to_dict(), "review_id": "X2", "content": "   "},
            reviews.iloc[70].to_dict(),  # exported twice
        ]
    )
    pd.concat([reviews, planted], ignore_index=True).to_csv(later, index=False)
    return first, later


@pytest.mark.slow
def test_sigkill_at_any_step_keeps_outputs_and_the_rerun_finishes(tmp_path, demo_dir):
    first, later = _write_inputs(demo_dir, tmp_path)
    config = tmp_path / "voc.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "out"
    _run_to_end(first, out, config, tmp_path)
    baseline = _fingerprint(out)
    baseline_docs = len(_read_back(out)["documents"])
    assert baseline_docs == 60

    for point in PAUSE_POINTS[:-1]:
        _kill_at(point, later, out, config, tmp_path)
        assert _fingerprint(out) == baseline, f"killed at {point}: current changed"
        assert len(_read_back(out)["documents"]) == baseline_docs, point

    # What one uninterrupted run publishes from the later export: the rerun must match it.
    reference = tmp_path / "reference"
    _run_to_end(later, reference, config, tmp_path)
    expected = _read_back(reference)

    # Killed after the flip: the new snapshot is complete and current; nothing is half-done.
    _kill_at("prune", later, out, config, tmp_path)
    assert _fingerprint(out)[0] != baseline[0]
    assert len(_read_back(out)["documents"]) == len(expected["documents"])

    _run_to_end(later, out, config, tmp_path)
    tables = _read_back(out)
    documents, units, runs = tables["documents"], tables["units"], tables["runs"]
    assert documents["doc_id"].is_unique and units["unit_id"].is_unique
    assert set(documents["doc_id"]) == set(expected["documents"]["doc_id"])
    assert set(zip(units["unit_id"], units["text"], strict=True)) == set(
        zip(expected["units"]["unit_id"], expected["units"]["text"], strict=True)
    )
    # baseline, the run killed after its flip, and the rerun; killed runs left no row
    assert len(runs) == 3
    assert (
        runs["rows_read"]
        == runs["rows_published"] + runs["rows_duplicate"] + runs["rows_quarantined"]
    ).all()
    assert runs["documents_new"].sum() == len(documents)
    last, clean_run = runs.iloc[-1], expected["runs"].iloc[0]
    assert last["documents_new"] == 0
    assert last["rows_read"] == clean_run["rows_read"] == 123
    assert last["rows_quarantined"] == clean_run["rows_quarantined"]

    before = _fingerprint(out)[1]
    _run_to_end(later, out, config, tmp_path)  # idempotent: nothing new, same tables
    again = _read_back(out)
    assert len(again["runs"]) == 4
    pd.testing.assert_frame_equal(
        again["units"].sort_values("unit_id").reset_index(drop=True),
        units.sort_values("unit_id").reset_index(drop=True),
    )
    assert before.keys() == _fingerprint(out)[1].keys()
