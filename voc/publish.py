"""Publish: write all tables as one snapshot and make it current atomically.

Layout of an output directory::

    OUT/voc.duckdb   -> current/voc.duckdb     every table, for BI tools
    OUT/parquet      -> current/parquet        one dataset per table (by date)
    OUT/report.html  -> current/report.html
    OUT/current      -> snapshots/<run_id>     flipped with one atomic rename
    OUT/snapshots/<run_id>/manifest.json       the run's accounting
    OUT/cache/                                 embedding cache, jieba cache

A run writes its snapshot under ``OUT/.staging`` and only then flips ``current``, so a
run that fails or is killed half-way leaves the last good outputs untouched. Readers
that opened the old DuckDB file keep reading it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from voc.errors import StoreError, StoreLockedError
from voc.schemas import TABLES, conform, empty

log = logging.getLogger(__name__)

PUBLIC_LINKS = ("voc.duckdb", "parquet", "report.html")
# Tables partitioned by day in Parquet; the others are small and written whole.
PARTITIONED = {"documents": "date", "units": "date", "daily_aggregates": "date"}

# Views for BI tools, in the DuckDB file and in PostgreSQL: portable SQL only.
VIEWS = {
    "units_labelled": """
        SELECT u.*, t.label AS topic_label, d.rating, d.created_at
        FROM units u
        JOIN documents d USING (doc_id)
        LEFT JOIN topics t ON t.topic_id = u.topic_id
    """,
    "topic_trends": """
        SELECT a.date, a.product, a.source_kind, a.category, a.topic_id, t.label AS topic_label,
               sum(a.units) AS units,
               sum(CASE WHEN a.polarity = 'negative' THEN a.units ELSE 0 END) AS negative_units
        FROM daily_aggregates a LEFT JOIN topics t USING (topic_id)
        GROUP BY a.date, a.product, a.source_kind, a.category, a.topic_id, t.label
    """,
    "consultations_daily": """
        SELECT date, product, source,
               count(*) AS sessions,
               sum(units_product_need) AS units_product_need,
               sum(units_campaign_issue) AS units_campaign_issue,
               sum(units_logistics) AS units_logistics,
               sum(units_service) AS units_service,
               sum(units_product_quality) AS units_product_quality,
               sum(negative_units) AS negative_units,
               sum(unanswered_questions) AS unanswered_questions,
               sum(qa_findings) AS qa_findings,
               avg(first_response_s) AS avg_first_response_s
        FROM consultations
        GROUP BY date, product, source
    """,
}


@dataclass
class Snapshot:
    """The tables of the last good run (empty tables before the first run)."""

    tables: dict[str, pd.DataFrame]

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


class Store:
    """An output directory holding snapshots, the current pointer and caches."""

    def __init__(self, out_dir: str | Path) -> None:
        self.root = Path(out_dir).resolve()
        self.snapshots = self.root / "snapshots"
        self.staging = self.root / ".staging"
        self.cache_dir = self.root / "cache"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def duckdb_path(self) -> Path:
        return self.root / "voc.duckdb"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the directory's write lock for the duration of a run.

        Raises:
            StoreLockedError: another run (this machine, any process) holds it.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StoreError(
                f"{self.root} is a file, not a folder: choose another output folder"
                " (--out, or publish.out_dir in the config)"
            ) from None
        handle = (self.root / ".voc.lock").open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StoreLockedError(
                f"{self.root} is being written by another run; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def load(self) -> Snapshot:
        """The current snapshot's tables, or empty tables if there is none."""
        tables = {name: empty(name) for name in TABLES}
        database = self.current / "voc.duckdb"
        if not database.exists():
            return Snapshot(tables)
        try:
            with duckdb.connect(str(database), read_only=True, config={"threads": 1}) as con:
                present = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
                for name in TABLES:
                    if name in present:
                        tables[name] = con.table(name).arrow().read_all().to_pandas()
        except duckdb.Error as exc:
            raise StoreError(f"{database}: cannot read the last snapshot: {exc}") from exc
        return Snapshot(tables)

    def publish(
        self,
        run_id: str,
        tables: dict[str, pd.DataFrame],
        report_html: str | None,
        manifest: dict[str, object],
        keep: int = 3,
    ) -> Path:
        """Write a snapshot and make it current.

        Args:
            run_id: Names the snapshot folder.
            tables: One DataFrame per name in ``schemas.TABLES``.
            report_html: The HTML report, if any.
            manifest: JSON-serialisable run summary.
            keep: Snapshots to keep (older ones are deleted after the flip).

        Returns:
            The snapshot folder.
        """
        stage = self.staging / run_id
        if stage.exists():
            shutil.rmtree(stage)
        stage.mkdir(parents=True)
        arrow = {name: conform(tables[name], name) for name in TABLES}
        self._write_duckdb(stage / "voc.duckdb", arrow)
        self._write_parquet(stage / "parquet", arrow)
        if report_html is not None:
            (stage / "report.html").write_text(report_html, encoding="utf-8")
        (stage / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
        )
        _fsync_tree(stage)
        self.snapshots.mkdir(parents=True, exist_ok=True)
        final = self.snapshots / run_id
        os.replace(stage, final)
        self._flip(final)
        self._prune(keep)
        log.info("published %s", final)
        return final

    @staticmethod
    def _write_duckdb(path: Path, arrow: dict) -> None:
        with duckdb.connect(str(path), config={"threads": 1}) as con:
            for name, table in arrow.items():
                con.register("incoming", table)
                con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM incoming')
                con.unregister("incoming")
            for name, sql in VIEWS.items():
                con.execute(f'CREATE VIEW "{name}" AS {sql}')
            con.execute("CHECKPOINT")

    @staticmethod
    def _write_parquet(folder: Path, arrow: dict) -> None:
        for name, table in arrow.items():
            if name in PARTITIONED and table.num_rows:
                pq.write_to_dataset(
                    table,
                    root_path=str(folder / name),
                    partition_cols=[PARTITIONED[name]],
                    basename_template="part-{i}.parquet",
                )
            else:
                (folder / name).mkdir(parents=True, exist_ok=True)
                pq.write_table(table, folder / name / "part-0.parquet")

    def _flip(self, snapshot: Path) -> None:
        pointer = self.root / "current.next"
        if pointer.is_symlink() or pointer.exists():
            pointer.unlink()
        pointer.symlink_to(snapshot.relative_to(self.root), target_is_directory=True)
        os.replace(pointer, self.current)  # atomic on POSIX
        for name in PUBLIC_LINKS:
            link = self.root / name
            if not link.is_symlink():
                if link.exists():
                    raise StoreError(f"{link} exists and is not a link voc made; move it away")
                link.symlink_to(Path("current") / name)
        _fsync_dir(self.root)

    def _prune(self, keep: int) -> None:
        current = os.readlink(self.current)
        snapshots = sorted(p for p in self.snapshots.iterdir() if p.is_dir())
        old = [p for p in snapshots if p.name != Path(current).name][
            : max(0, len(snapshots) - keep)
        ]
        for path in old:
            shutil.rmtree(path, ignore_errors=True)
        if self.staging.exists():
            for leftover in self.staging.iterdir():
                shutil.rmtree(leftover, ignore_errors=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
