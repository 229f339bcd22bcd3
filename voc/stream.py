"""Stream one large CSV through ingest, clean, segment, embed and label, chunk by chunk.

``voc run`` holds a whole run's tables in memory, which is right for a nightly export
but not for a corpus of millions of reviews. :func:`stream_csv` reads the file a chunk
of rows at a time, runs each chunk through the pipeline's own step functions and
appends the labelled units and quarantined rows to Parquet files, so memory is bounded
by the chunk size, not by the size of the file.

What streaming gives up, and why it is acceptable for a bulk load:

- The encoding is detected from the first MiB instead of the whole file.
- Duplicates are found by document id across the whole file (a set of 16-character ids,
  about 80 bytes per document), but "same product and text" spam only within a chunk.
- Topics and aggregates are not computed here: they need all units at once and belong
  to ``voc run`` (topics are fitted on a sample anyway; see README "Larger corpora").
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psutil
import pyarrow.parquet as pq

from voc.classify import from_config
from voc.clean import clean_records
from voc.config import SourceConfig, VocConfig
from voc.embed import CachedEmbedder, EmbeddingCache, build_embedder, embed_units
from voc.errors import InputFileError
from voc.labels import label_units
from voc.pipeline import account, new_run_id, with_dates
from voc.schemas import NO_TOPIC, QUARANTINE, UNITS, conform
from voc.segment import build_nlp, make_tokenizer, segment_records
from voc.sources import IngestResult
from voc.sources.encoding import detect_encoding
from voc.sources.ingest import ingest_source
from voc.taxonomy import load_taxonomy

log = logging.getLogger(__name__)

_HEAD_BYTES = 1 << 20
STEPS = ("read", "ingest", "clean", "segment", "embed", "label", "write")


@dataclass
class StreamSummary:
    """Counts, seconds per step and peak memory of one streamed file."""

    run_id: str
    chunks: int = 0
    accounting: dict[str, int] = field(
        default_factory=lambda: {"read": 0, "published": 0, "duplicates": 0, "quarantined": 0}
    )
    units: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STEPS, 0.0))
    peak_rss_mb: float = 0.0
    # resident memory after each chunk: flat when memory is bounded by the chunk size
    rss_mb_after_chunk: list[float] = field(default_factory=list)


def chunk_lines(path: Path, rows_per_chunk: int, encoding: str) -> Iterator[tuple[int, str]]:
    """Cut a CSV into pieces of whole rows, each with the header.

    A row may span several lines (a quoted field with line breaks), so the cut is made
    where the CSV parser says a row ends, never inside one.

    Yields:
        ``(first_line, text)``: the file line number of the piece's first row and the
        header plus the piece's lines, exactly as written in the file.
    """
    with path.open(encoding=encoding, newline="") as handle:
        header = handle.readline()
        lines: list[str] = []
        rows, first_line, line_number = 0, 2, 1

        def remember(source):
            nonlocal line_number
            for line in source:
                line_number += 1
                lines.append(line)
                yield line

        reader = csv.reader(remember(handle))
        while True:
            try:
                next(reader)
            except StopIteration:
                break
            except csv.Error:
                pass  # ingest reads these lines again and quarantines them with the reason
            rows += 1
            if rows >= rows_per_chunk:
                yield first_line, header + "".join(lines)
                lines.clear()
                rows, first_line = 0, line_number + 1
        if lines:
            yield first_line, header + "".join(lines)


def stream_csv(
    path: Path,
    config: VocConfig,
    out_dir: Path,
    *,
    source: SourceConfig | None = None,
    rows_per_chunk: int = 10_000,
    today: dt.date | None = None,
) -> StreamSummary:
    """Ingest, clean, segment, embed and label the reviews in ``path`` chunk by chunk.

    Args:
        path: A CSV file of reviews (one row per review) with a header row. Chat logs,
            whose sessions span many rows, go through ``voc run``.
        config: Settings for every step (its ``sources`` are ignored).
        out_dir: Receives ``units.parquet``, ``quarantine.parquet`` and ``cache/``.
        source: How to read the file (columns, name); defaults to detecting everything.
        rows_per_chunk: Rows held in memory at a time.
        today: The date of records without a time.

    Returns:
        Row accounting over the whole file, units written, seconds per step, peak RSS.

    Raises:
        VocError: a bad file (as in ``voc run``), a chat log, or rows that do not add up.
    """
    source = source or SourceConfig(path=str(path))
    out_dir.mkdir(parents=True, exist_ok=True)
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    # Up to the last full line: a cut inside a character would look like a wrong encoding.
    head = head[: head.rfind(b"\n") + 1] or head
    encoding = source.encoding or detect_encoding(path, head)
    streamer = _Streamer(path, source, config, out_dir, today or dt.date.today())
    try:
        clock = time.perf_counter()
        for first_line, text in chunk_lines(path, rows_per_chunk, encoding):
            streamer.summary.seconds["read"] += time.perf_counter() - clock
            streamer.run_chunk(first_line, text)
            clock = time.perf_counter()
    finally:
        streamer.close()
    streamer.summary.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return streamer.summary


class _Streamer:
    """What stays loaded from chunk to chunk: models, writers, the ids seen so far."""

    def __init__(
        self, path: Path, source: SourceConfig, config: VocConfig, out_dir: Path, today: dt.date
    ) -> None:
        self.path, self.source, self.config, self.today = path, source, config, today
        self.summary = StreamSummary(run_id=new_run_id())
        taxonomy = load_taxonomy(config.labels.taxonomy)
        self.boilerplate = taxonomy.boilerplate
        tokenizer = make_tokenizer(taxonomy.user_words, out_dir / "cache" / "jieba")
        self.nlp = build_nlp(config.segment, tokenizer)
        cache = EmbeddingCache(out_dir / "cache" / "embeddings.duckdb")
        self.embedder = CachedEmbedder(build_embedder(config.embed), cache)
        self.classifier = from_config(taxonomy, self.embedder, config.labels)
        self.seen: set[str] = set()  # doc ids published so far: later copies are duplicates
        self.scratch = Path(tempfile.mkdtemp(prefix="voc-stream-", dir=out_dir))
        self.units_out = pq.ParquetWriter(out_dir / "units.parquet", UNITS)
        self.quarantine_out = pq.ParquetWriter(out_dir / "quarantine.parquet", QUARANTINE)

    def close(self) -> None:
        self.units_out.close()
        self.quarantine_out.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def run_chunk(self, first_line: int, text: str) -> None:
        """Run one chunk through the steps and append its units and quarantined rows."""
        timer, name = _Timer(self.summary.seconds), self.source.source_name
        with timer("ingest"):
            ingested = self._ingest(first_line, text)
        with timer("clean"):
            # Only this batch's ids seen before: clean_records copies what it is given, and
            # copying every id so far for every batch would grow with the file.
            known = [d for d in ingested.records["doc_id"].unique() if d in self.seen]
            cleaned = clean_records(ingested.records, self.config.clean, self.boilerplate, known)
            counts = account(ingested, cleaned)[name]
            self.seen.update(cleaned.records["doc_id"])
            records = with_dates(cleaned.records, self.today)
        with timer("segment"):
            units = segment_records(records, self.nlp, self.config.segment)
        with timer("embed"):
            embeddings = embed_units(units, self.embedder)
        with timer("label"):
            labelled = label_units(units, embeddings, self.classifier)
        with timer("write"):
            run_id = self.summary.run_id
            units = labelled.assign(topic_id=NO_TOPIC, run_id=run_id)
            self.units_out.write_table(conform(units, "units"))
            quarantined = pd.concat([ingested.quarantine, cleaned.quarantine], ignore_index=True)
            if len(quarantined):
                table = conform(quarantined.assign(run_id=run_id), "quarantine")
                self.quarantine_out.write_table(table)
        for key, value in counts.items():
            self.summary.accounting[key] += value
        self.summary.units += len(labelled)
        self.summary.chunks += 1
        self.summary.rss_mb_after_chunk.append(psutil.Process().memory_info().rss / 2**20)
        log.info("chunk %d: %s, %d units", self.summary.chunks, counts, len(labelled))

    def _ingest(self, first_line: int, text: str) -> IngestResult:
        """The pipeline's ingest on one piece, with rows numbered as in the whole file."""
        piece = self.scratch / "piece.csv"
        piece.write_text(text, encoding="utf-8")
        update = {"path": str(piece), "name": self.source.source_name, "encoding": "utf-8"}
        ingested = ingest_source(self.source.model_copy(update=update), self.today)
        if (ingested.records["source_kind"] == "chat").any():
            raise InputFileError(
                f"{self.path}: a chat log; streaming reads reviews only, use voc run for chats"
            )
        offset = first_line - 2  # the piece's first row is its line 2, after the header
        for table in (ingested.records, ingested.quarantine):
            table["file"] = str(self.path)
            table["row"] = table["row"].astype("int64") + offset
        return ingested


class _Timer:
    """``with timer("step"):`` adds the block's seconds to ``seconds["step"]``."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    def __call__(self, step: str) -> _Timer:
        self.step = step
        return self

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds[self.step] += time.perf_counter() - self.start
