from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from tests.fakes import HashingEmbedder
from voc import incremental
from voc.aggregate import daily_aggregates
from voc.embed import CachedEmbedder, EmbeddingCache, embed_units, text_sha1
from voc.incremental import (
    DAILY_KEY,
    UnitVectors,
    affected_days,
    load_vectors,
    refresh_daily_aggregates,
)

DAY1, DAY2, DAY3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)


def _units(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": texts, "text_sha1": [text_sha1(t) for t in texts]})


def test_load_vectors_equals_embedding_through_the_cache(tmp_path):
    cache = EmbeddingCache(tmp_path / "embeddings.duckdb")
    model = HashingEmbedder()
    embedder = CachedEmbedder(model, cache)
    units = _units(["质量很好", "物流太慢", "质量很好", "尺码偏小"])
    expected = embed_units(units, embedder)
    calls = model.calls
    np.testing.assert_array_equal(load_vectors(units, embedder), expected)
    assert model.calls == calls  # all from the cache
    more = _units(["物流太慢", "客服不理人"])  # one text never embedded
    vectors = load_vectors(more, embedder)
    np.testing.assert_array_equal(vectors, model.embed(more["text"].tolist()))
    assert embedder.computed == 4  # the 3 distinct texts, then the one new text
    assert load_vectors(_units([]), embedder).shape == (0, model.dimension)


def test_unit_vectors_read_only_the_stored_rows_asked_for(tmp_path, monkeypatch):
    cache = EmbeddingCache(tmp_path / "embeddings.duckdb")
    model = HashingEmbedder()
    embedder = CachedEmbedder(model, cache)
    old = _units(["质量很好", "物流太慢", "尺码偏小", "客服不理人"])
    embed_units(old, embedder)
    new = model.embed(["颜色好看", "电池不耐用"])
    full = np.vstack([model.embed(old["text"].tolist()), new])
    reads = []
    monkeypatch.setattr(
        incremental,
        "load_vectors",
        lambda units, e: reads.append(len(units)) or load_vectors(units, e),
    )
    vectors = UnitVectors(old, new, embedder)
    assert len(vectors) == 6
    np.testing.assert_array_equal(vectors[np.array([4, 5])], full[[4, 5]])
    assert reads == [] and vectors.rows_read == 0  # new rows only: nothing read
    np.testing.assert_array_equal(vectors[np.array([5, 1, 3, 1])], full[[5, 1, 3, 1]])
    assert reads == [2] and vectors.rows_read == 2
    mask = np.array([True, True, False, False, True, False])
    np.testing.assert_array_equal(vectors[mask], full[mask])
    assert reads == [2, 1]  # row 1 was read before; only row 0 is new
    assert vectors[np.array([], dtype=np.int64)].shape == (0, model.dimension)


def _tables(rows):
    units = pd.DataFrame(
        rows, columns=["unit_id", "doc_id", "date", "product", "category", "polarity", "topic_id"]
    ).assign(source_kind="review")
    documents = (
        units.groupby("doc_id", as_index=False)
        .first()[["doc_id"]]
        .assign(rating=lambda d: np.where(d["doc_id"] == "d1", 1.0, 5.0))
    )
    return documents, units


def _daily(documents, units):
    with duckdb.connect() as con:
        con.register("documents", documents)
        con.register("units", units)
        frame = daily_aggregates(con)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame.sort_values(DAILY_KEY).reset_index(drop=True)


def test_refreshing_the_affected_days_equals_recomputing_every_day():
    old = [
        ("u1", "d1", DAY1, "耳机", "product_quality", "negative", 3),
        ("u2", "d1", DAY1, "耳机", "logistics", "negative", 5),
        ("u3", "d2", DAY2, "耳机", "selling_point", "positive", 7),
        ("u4", "d3", DAY3, "T恤", "product_need", "neutral", -1),
    ]
    documents, units = _tables(old)
    previous = _daily(documents, units)
    new = [
        ("u5", "d4", DAY2, "耳机", "product_quality", "negative", 3),
        ("u6", "d4", DAY2, "耳机", "service", "negative", -1),
    ]
    documents, units = _tables(old + new)
    units.loc[units["unit_id"] == "u4", "topic_id"] = 9  # an old unit moved topic on DAY3
    days = affected_days(units, pd.Series([3, 5, 7, -1]))
    assert days == {DAY2, DAY3}
    refreshed = refresh_daily_aggregates(previous, documents, units, days)
    pd.testing.assert_frame_equal(refreshed, _daily(documents, units), check_dtype=False)
    assert affected_days(units, pd.Series([], dtype="int64")) is None
