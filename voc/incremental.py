"""What keeps a nightly run cheap once the store is large.

- :func:`load_vectors` reads the vectors of units already in the store straight
  from the embedding cache as one Arrow column. Going through
  :class:`voc.embed.EmbeddingCache.get` (a Python list per vector) takes ~25 s for
  150,000 units; this takes ~2 s.
- :class:`UnitVectors` reads those vectors only for the units a step asks for: a
  nightly run that refits no topic model reads none (old units keep their topic).
- :func:`affected_days` and :func:`refresh_daily_aggregates` recompute the daily
  aggregates only for the days a run changed: the days of its new units, and the
  days of older units whose topic changed. Every figure of ``daily_aggregates`` is
  computed within one day, so the other days' rows stay exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from voc.aggregate import daily_aggregates
from voc.embed import CachedEmbedder

log = logging.getLogger(__name__)

# The key columns of daily_aggregates: one row per combination, sorted by them.
DAILY_KEY = ["date", "product", "source_kind", "category", "topic_id", "polarity"]


def load_vectors(units: pd.DataFrame, embedder: CachedEmbedder) -> np.ndarray:
    """The vectors of ``units`` (by ``text_sha1``), read from the cache as one Arrow column.

    The same result as ``embed_units(units, embedder)``, ~10x faster on a large store:
    a unit whose vector is not cached (say the model changed) is embedded, and cached.

    Args:
        units: Units with ``text`` and ``text_sha1``.
        embedder: The cached embedder whose cache file is read.

    Returns:
        ``(len(units), dimension)`` float32, aligned with ``units``.
    """
    keys = units["text_sha1"].tolist()
    if not keys:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    wanted = pa.table({"text_sha1": pa.array(keys, pa.string()), "pos": np.arange(len(keys))})
    with duckdb.connect(str(embedder.cache.path), read_only=True, config={"threads": 1}) as con:
        con.register("wanted", wanted)
        table = con.sql(
            "SELECT w.pos, e.vector FROM wanted w JOIN embeddings e USING (text_sha1)"
            " WHERE e.model_id = $model ORDER BY w.pos",
            params={"model": embedder.model_id},
        ).to_arrow_table()
    found = table.column("pos").to_numpy()
    if len(found) == len(keys):
        flat = table.column("vector").combine_chunks().flatten().to_numpy()
        return flat.reshape(len(keys), -1).astype(np.float32, copy=False)
    log.info(
        "load_vectors: %d of %d units not cached; embedding them", len(keys) - len(found), len(keys)
    )
    missing = np.setdiff1d(np.arange(len(keys)), found)
    fresh = embedder.embed(units["text"].iloc[missing].tolist())
    out = np.zeros((len(keys), fresh.shape[1]), dtype=np.float32)
    out[missing] = fresh
    if len(found):
        flat = table.column("vector").combine_chunks().flatten().to_numpy()
        out[found] = flat.reshape(len(found), -1)
    return out


class UnitVectors:
    """Every unit's vector, the store's units read from the cache only when asked for.

    Rows ``[0, len(old_units))`` are the store's units, read by :func:`load_vectors`
    the first time a position is asked for; the rows after them are this run's
    ``new`` vectors. Indexing with an array of positions returns an ndarray, as
    indexing the whole matrix would, so :func:`voc.topics.plan_topics` takes either.
    A nightly run that refits no category asks only for new units and reads nothing.
    """

    def __init__(self, old_units: pd.DataFrame, new: np.ndarray, embedder: CachedEmbedder):
        self.old_units = old_units
        self.new = new
        self.embedder = embedder
        self.dimension = embedder.dimension
        self._old = np.zeros((len(old_units), self.dimension), dtype=np.float32)
        self._read = np.zeros(len(old_units), dtype=bool)
        self.read_seconds = 0.0

    def __len__(self) -> int:
        return len(self.old_units) + len(self.new)

    @property
    def rows_read(self) -> int:
        """How many stored units' vectors were read so far."""
        return int(self._read.sum())

    def __getitem__(self, positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions)
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        old = positions < len(self.old_units)
        unread = np.unique(positions[old][~self._read[positions[old]]])
        if len(unread):
            t0 = time.perf_counter()
            self._old[unread] = load_vectors(self.old_units.iloc[unread], self.embedder)
            self._read[unread] = True
            self.read_seconds += time.perf_counter() - t0
        out = np.empty((len(positions), self.dimension), dtype=np.float32)
        out[old] = self._old[positions[old]]
        out[~old] = self.new[positions[~old] - len(self.old_units)]
        return out


def affected_days(units: pd.DataFrame, previous_topics: pd.Series) -> set[dt.date] | None:
    """The days whose aggregates a run changed, or ``None`` when all of them may have.

    Args:
        units: All units after the run (``date``, ``topic_id``): the store's old units
            first, in their previous order, then the run's new ones.
        previous_topics: The old units' topic ids before the run.

    Returns:
        The dates of new units and of old units whose topic changed; ``None`` when
        the store was empty (a first run computes every day anyway).
    """
    old = len(previous_topics)
    if old == 0:
        return None
    dates = as_dates(units["date"]).to_numpy()
    moved = units["topic_id"].to_numpy()[:old] != previous_topics.to_numpy()
    days = set(dates[old:]) | set(dates[:old][moved])
    log.info("aggregates: %d days changed (%d old units changed topic)", len(days), moved.sum())
    return days


def refresh_daily_aggregates(
    previous: pd.DataFrame, documents: pd.DataFrame, units: pd.DataFrame, days: set[dt.date]
) -> pd.DataFrame:
    """``daily_aggregates`` with only ``days`` recomputed; the other days' rows kept.

    Gives the same table as recomputing every day, because each of its figures
    (volumes, negative share, share of voice, average rating) is within one day.
    """
    previous = previous.assign(date=as_dates(previous["date"]))
    day_units = units[as_dates(units["date"]).isin(days)]
    day_docs = documents[documents["doc_id"].isin(set(day_units["doc_id"]))]
    with duckdb.connect(config={"threads": 1}) as con:
        con.register("documents", day_docs)
        con.register("units", day_units)
        fresh = daily_aggregates(con)
    fresh = fresh.assign(date=as_dates(fresh["date"]))
    kept = previous[~previous["date"].isin(days)]
    parts = [p for p in (kept, fresh) if len(p)]
    if not parts:
        return fresh
    merged = pd.concat(parts, ignore_index=True)
    return merged.sort_values(DAILY_KEY, kind="stable").reset_index(drop=True)


def as_dates(values: pd.Series) -> pd.Series:
    """Dates as ``datetime.date`` objects, whether they came as dates or timestamps."""
    return pd.to_datetime(values).dt.date
