"""The plain BERTopic way: one BERTopic over whole reviews, default UMAP/HDBSCAN.

This is the baseline ``full_corpus.py`` compares ``voc run`` with. It is what a
practitioner would write first: no clause splitting, no categories, no sampling,
no stop words, no embedding cache. Only what Chinese text and an offline machine
need is added:

- precomputed embeddings from voc's default embedder (multilingual USE, 2 threads),
  timed, since the plain way has no cache;
- ``embedding_model`` set to a :class:`bertopic.backend.BaseEmbedder` wrapping the
  same embedder, so BERTopic never tries to download a model;
- a jieba ``CountVectorizer`` (a private ``jieba.Tokenizer``), since the default
  vectorizer would treat a whole Chinese sentence as one word.

Run it on its own (``full_corpus.py`` runs it as a subprocess to measure its peak
RSS)::

    .venv/bin/python benchmarks/plain_bertopic.py --input benchmarks/work/input.csv

It prints one JSON line: documents, wall / import / embedding / fit seconds, number
of topics (outlier topic -1 not counted), outlier share and largest-topic share.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voc.topics import make_backend  # the same no-hub backend voc uses


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, required=True, help="CSV with a text column.")
    parser.add_argument("--text-column", default="review", help="Column with the text.")
    parser.add_argument("--threads", type=int, default=2, help="Threads of the USE embedder.")
    return parser.parse_args(argv)


def read_documents(path: Path, text_column: str) -> list[str]:
    """The non-empty texts of ``text_column``, as they are (no cleaning: plain)."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    texts = frame[text_column].astype(str)
    return texts[texts.str.strip() != ""].tolist()


def fit_plain(documents: list[str], threads: int) -> dict[str, float | int]:
    """Embed ``documents`` and fit a default BERTopic on them.

    Args:
        documents: Whole reviews.
        threads: BLAS threads of the USE embedder.

    Returns:
        Timings (seconds) for the imports, the embedding and the fit; the number
        of topics (without -1), the share of documents left in topic -1 and the
        share of documents in the largest topic.
    """
    t0 = time.perf_counter()
    import jieba
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    from voc.embed import UseEmbedder

    t1 = time.perf_counter()
    embedder = UseEmbedder(threads=threads)
    embeddings = embedder.embed(documents)
    t2 = time.perf_counter()

    tokenizer = jieba.Tokenizer()
    model = BERTopic(
        language="multilingual",
        embedding_model=make_backend(embedder),
        vectorizer_model=CountVectorizer(tokenizer=tokenizer.lcut, token_pattern=None),
    )
    topics, _ = model.fit_transform(documents, embeddings)
    t3 = time.perf_counter()

    labels = np.asarray(topics)
    sizes = np.unique(labels[labels != -1], return_counts=True)[1]
    return {
        "import_seconds": round(t1 - t0, 3),
        "embed_seconds": round(t2 - t1, 3),
        "fit_seconds": round(t3 - t2, 3),
        "topics": len(set(labels.tolist()) - {-1}),
        "outlier_share": round(float((labels == -1).mean()) if len(labels) else 0.0, 4),
        "largest_topic_share": round(float(sizes.max() / len(labels)) if len(sizes) else 0.0, 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the plain BERTopic way and print its JSON line."""
    started = time.perf_counter()
    args = parse_args(argv)
    documents = read_documents(args.input, args.text_column)
    result = fit_plain(documents, args.threads)
    line = {
        "documents": len(documents),
        "wall_seconds": round(time.perf_counter() - started, 3),
        **result,
    }
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
