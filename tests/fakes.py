"""Test doubles that are real implementations, only smaller: no model files needed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class HashingEmbedder:
    """A tiny deterministic embedder: character uni- and bi-grams hashed into 64 dims.

    Texts sharing characters get similar vectors, which is enough for the classifier,
    topic and cache logic to behave meaningfully in unit tests that run in seconds.
    """

    model_id = "hashing-64"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
            for gram in grams:
                digest = hashlib.md5(gram.encode("utf-8")).digest()
                out[row, digest[0] % self.dimension] += 1.0 if digest[1] % 2 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
