"""Topics: discover recurring themes inside each category with BERTopic.

Per category, BERTopic is fitted on a bounded, seeded sample of units (precomputed
embeddings, a jieba ``CountVectorizer``, guided by the taxonomy subtopics). Each
topic is then represented by its centroid, and *every* unit — the sample, the rest,
and tomorrow's new units — is assigned to the nearest centroid when the cosine
similarity reaches ``outlier_threshold`` (BERTopic's "embeddings" outlier
reduction, applied uniformly). Memory is bounded by the sample, assignment is a
matrix product, and a nightly run needs no refit.

Topic ids are global integers kept in a registry (the ``topics`` table). When a
category is refitted, new topics are matched to the previous ones by centroid
similarity with an optimal assignment: matches keep their id, new themes get new
ids, and vanished ones are marked ``retired``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import jieba
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from voc.config import TopicConfig
from voc.embed import Embedder, normalise_rows
from voc.schemas import NO_TOPIC
from voc.taxonomy import Category, Taxonomy

log = logging.getLogger(__name__)


# Masking placeholders ([电话], and JDDC's [数字x] / [订单x]) are not words of the customer.
_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,8}\]")


class JiebaTokens:
    """Callable tokenizer for ``CountVectorizer``: jieba words, minus stop words and noise."""

    def __init__(self, tokenizer: jieba.Tokenizer, stopwords: Sequence[str]) -> None:
        self.tokenizer = tokenizer
        self.stopwords = frozenset(stopwords)

    def __call__(self, text: str) -> list[str]:
        words = []
        for word in self.tokenizer.lcut(_PLACEHOLDER.sub(" ", text)):
            word = word.strip()
            if len(word) < 2 or word in self.stopwords or not any(ch.isalpha() for ch in word):
                continue
            if word.isascii() and len(word) < 3:  # "ef", "vy": fragments of model numbers
                continue
            words.append(word.lower())
        return words


def make_backend(embedder: Embedder):
    """Wrap a voc embedder as a BERTopic backend, so BERTopic never loads a hub model."""
    from bertopic.backend import BaseEmbedder  # bertopic takes ~10 s to import

    class VocBackend(BaseEmbedder):
        def __init__(self) -> None:
            super().__init__(embedding_model=embedder)

        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return embedder.embed(list(documents))

    return VocBackend()


@dataclass
class FittedTopics:
    """What fitting one category gives: per topic a centroid, keywords and a size."""

    centroids: np.ndarray  # (k, d), L2-normalised
    keywords: list[list[str]]


class CategoryTopicModel:
    """BERTopic on one category's sample; topics as centroids for assignment.

    Args:
        config: Topic settings (sample size, UMAP/HDBSCAN sizes, thresholds).
        embedder: For BERTopic's guided mode (embeds the seed word lists).
        tokens: The jieba tokenizer for the ``CountVectorizer``.
        seed_topics: Seed word lists (one per taxonomy subtopic) to guide the fit.
        seed: Random state for UMAP and the sample.
    """

    def __init__(
        self,
        config: TopicConfig,
        embedder: Embedder,
        tokens: JiebaTokens,
        seed_topics: list[list[str]],
        seed: int,
    ) -> None:
        self.config = config
        self.embedder = embedder
        self.tokens = tokens
        self.seed_topics = seed_topics
        self.seed = seed

    def _vectorizer(self):
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(tokenizer=self.tokens, token_pattern=None, lowercase=False)

    def _bertopic(self, n: int):
        from bertopic import BERTopic
        from hdbscan import HDBSCAN
        from umap import UMAP

        min_cluster = max(self.config.min_topic_size, n // 80)
        return BERTopic(
            language="multilingual",
            embedding_model=make_backend(self.embedder),
            vectorizer_model=self._vectorizer(),
            umap_model=UMAP(
                n_neighbors=min(self.config.umap_neighbors, n - 1),
                n_components=min(self.config.umap_components, n - 2),
                min_dist=0.0,
                metric="cosine",
                random_state=self.seed,
                n_jobs=1,  # a seeded UMAP runs on one thread anyway; say so
            ),
            hdbscan_model=HDBSCAN(
                min_cluster_size=min_cluster,
                metric="euclidean",
                cluster_selection_method="eom",
                prediction_data=False,
            ),
            seed_topic_list=self.seed_topics or None,
            top_n_words=self.config.keywords_per_topic,
            calculate_probabilities=False,
        )

    def fit(self, texts: Sequence[str], embeddings: np.ndarray) -> CategoryTopicModel:
        """Fit on ``texts`` (already a bounded sample). Sets ``centroids_``, ``keywords_``."""
        texts = list(texts)
        model = self._bertopic(len(texts))
        # guided modelling overwrites the embeddings it is given: pass a copy
        labels = np.asarray(model.fit_transform(texts, embeddings.copy())[0])
        topic_ids = sorted(t for t in set(labels.tolist()) if t != NO_TOPIC)
        if not topic_ids:
            self.centroids_ = np.zeros((0, embeddings.shape[1]), dtype=np.float32)
            self.keywords_: list[list[str]] = []
            return self
        centroids = np.stack([embeddings[labels == t].mean(axis=0) for t in topic_ids])
        self.centroids_ = normalise_rows(centroids)
        # keywords from c-TF-IDF over the final (outlier-reduced) assignment
        assigned, _ = self.transform(embeddings)
        if (assigned >= 0).any():
            # without an explicit vectorizer, update_topics falls back to a default
            # whitespace CountVectorizer, which turns whole Chinese clauses into "words"
            model.update_topics(
                texts, topics=assigned.tolist(), vectorizer_model=self._vectorizer()
            )
        self.keywords_ = [
            [word for word, _ in (model.get_topic(i) or []) if word] for i in range(len(topic_ids))
        ]
        return self

    def transform(self, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest centroid per unit: (topic index or -1, cosine similarity)."""
        return assign_to_centroids(embeddings, self.centroids_, self.config.outlier_threshold)


def assign_to_centroids(
    embeddings: np.ndarray, centroids: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the most similar centroid per row, or -1 below ``threshold``.

    Returns:
        ``(indices, similarities)``, both of length ``len(embeddings)``.
    """
    if len(centroids) == 0 or len(embeddings) == 0:
        return np.full(len(embeddings), NO_TOPIC), np.zeros(len(embeddings), dtype=np.float32)
    similarity = embeddings @ centroids.T
    best = similarity.argmax(axis=1)
    score = similarity[np.arange(len(embeddings)), best].astype(np.float32)
    return np.where(score >= threshold, best, NO_TOPIC), score


def match_topics(
    new_centroids: np.ndarray, old_centroids: np.ndarray, threshold: float
) -> dict[int, int]:
    """Optimal one-to-one matching of new topics to old ones by centroid similarity.

    Returns:
        new index -> old index, for pairs at least ``threshold`` similar.
    """
    if len(new_centroids) == 0 or len(old_centroids) == 0:
        return {}
    similarity = new_centroids @ old_centroids.T
    rows, cols = linear_sum_assignment(-similarity)
    return {
        int(r): int(c) for r, c in zip(rows, cols, strict=True) if similarity[r, c] >= threshold
    }


@dataclass
class TopicState:
    """The topic registry: every topic ever seen, with centroids of the active ones."""

    topics: pd.DataFrame  # schema TOPICS
    centroids: pd.DataFrame  # schema TOPIC_CENTROIDS

    def next_id(self) -> int:
        return int(self.topics["topic_id"].max()) + 1 if len(self.topics) else 0

    def active(self, category: str, embed_model: str) -> tuple[np.ndarray, np.ndarray]:
        """(topic ids, centroid matrix) of the category's active topics."""
        rows = self.centroids[
            (self.centroids["category"] == category)
            & (self.centroids["embed_model"] == embed_model)
        ]
        active_ids = set(
            self.topics.loc[
                (self.topics["category"] == category) & (self.topics["status"] == "active"),
                "topic_id",
            ]
        )
        rows = rows[rows["topic_id"].isin(active_ids)].sort_values("topic_id")
        if rows.empty:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        matrix = np.stack([np.asarray(c, dtype=np.float32) for c in rows["centroid"]])
        return rows["topic_id"].to_numpy(dtype=np.int64), matrix


def discover_topics(
    units: pd.DataFrame,
    embeddings: np.ndarray,
    state: TopicState,
    taxonomy: Taxonomy,
    config: TopicConfig,
    embedder: Embedder,
    tokens: JiebaTokens,
    run_id: str,
    seed: int,
    refit: bool = False,
    skip_categories: Sequence[str] = ("other",),
) -> tuple[pd.DataFrame, TopicState]:
    """Assign every unit a topic, fitting categories that have no topics yet.

    Args:
        units: Labelled units (``unit_id``, ``text``, ``category``, ``subtopic``) — all
            units of the store whose topic should be (re)decided.
        embeddings: Their vectors, aligned with ``units``.
        state: The registry from the previous run (empty on the first run).
        taxonomy: For the seed topics and readable subtopic names.
        config: Topic settings.
        embedder: The embedding model (its id keys the centroids).
        tokens: jieba tokenizer for keywords.
        run_id: Written into the registry.
        seed: Random state for sampling and UMAP.
        refit: Refit every category even when it already has topics.
        skip_categories: Categories with no topic model (nothing actionable in them).

    Returns:
        ``(assignments, new state)``; assignments hold unit_id, topic_id, category,
        similarity for every unit.
    """
    topic_rows = state.topics.copy()
    centroid_rows = state.centroids.copy()
    topic_of_unit = np.full(len(units), NO_TOPIC, dtype=np.int64)
    similarity = np.zeros(len(units), dtype=np.float32)
    next_id = state.next_id()

    for category in taxonomy.categories:
        mask = (units["category"] == category.id).to_numpy()
        if category.id in skip_categories or not mask.any():
            continue
        vectors = embeddings[mask]
        ids, centroids = state.active(category.id, embedder.model_id)
        if refit or len(ids) == 0:
            if mask.sum() < config.min_units:
                log.info("topics: %s has %d units, too few to fit", category.id, mask.sum())
                continue
            ids, centroids, keywords, next_id, topic_rows = _refit_category(
                units[mask], vectors, category, ids, centroids, topic_rows, next_id,
                config, embedder, tokens, run_id, seed,
            )  # fmt: skip
            centroid_rows = pd.concat(
                [
                    centroid_rows[~centroid_rows["topic_id"].isin(ids)],
                    pd.DataFrame(
                        {
                            "topic_id": ids,
                            "category": category.id,
                            "embed_model": embedder.model_id,
                            "centroid": [c.astype(np.float32) for c in centroids],
                        }
                    ),
                ],
                ignore_index=True,
            )
            topic_rows = _set_keywords(topic_rows, ids, keywords)
        if len(ids) == 0:
            continue  # the fit found no structure: every unit stays without a topic
        index, score = assign_to_centroids(vectors, centroids, config.outlier_threshold)
        topic_of_unit[mask] = np.where(index >= 0, ids[np.maximum(index, 0)], NO_TOPIC)
        similarity[mask] = score

    assignments = pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "topic_id": topic_of_unit,
            "category": units["category"].to_numpy(),
            "similarity": similarity,
        }
    )
    topic_rows = _describe(topic_rows, units, embeddings, assignments, taxonomy, config, run_id)
    return assignments, TopicState(topics=topic_rows, centroids=centroid_rows)


def _refit_category(
    units: pd.DataFrame,
    vectors: np.ndarray,
    category: Category,
    old_ids: np.ndarray,
    old_centroids: np.ndarray,
    topic_rows: pd.DataFrame,
    next_id: int,
    config: TopicConfig,
    embedder: Embedder,
    tokens: JiebaTokens,
    run_id: str,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, list[list[str]], int, pd.DataFrame]:
    order = np.argsort(
        units["unit_id"].to_numpy(), kind="stable"
    )  # sample independent of row order
    rng = np.random.default_rng(seed)
    sample = (
        order
        if len(order) <= config.sample_size
        else rng.choice(order, config.sample_size, replace=False)
    )
    sample = np.sort(sample)
    seeds = [list(s.seeds) for s in category.subtopics if s.seeds]
    model = CategoryTopicModel(config, embedder, tokens, seeds, seed)
    model.fit(units["text"].to_numpy()[sample].tolist(), vectors[sample])
    log.info(
        "topics: %s fitted on %d units -> %d topics",
        category.id,
        len(sample),
        len(model.centroids_),
    )

    matches = match_topics(model.centroids_, old_centroids, config.match_threshold)
    new_ids = []
    for i in range(len(model.centroids_)):
        if i in matches:
            new_ids.append(int(old_ids[matches[i]]))
        else:
            new_ids.append(next_id)
            next_id += 1
    new_ids_arr = np.array(new_ids, dtype=np.int64)
    retired = set(old_ids.tolist()) - set(new_ids)
    topic_rows = topic_rows.copy()
    topic_rows.loc[topic_rows["topic_id"].isin(retired), "status"] = "retired"
    fresh = [t for t in new_ids if t not in set(topic_rows["topic_id"])]
    if fresh:
        topic_rows = pd.concat(
            [
                topic_rows,
                pd.DataFrame(
                    {
                        "topic_id": fresh,
                        "category": category.id,
                        "subtopic": None,
                        "label": "",
                        "keywords": "",
                        "size": 0,
                        "representative_unit_ids": "",
                        "status": "active",
                        "first_run_id": run_id,
                        "last_run_id": run_id,
                    }
                ),
            ],
            ignore_index=True,
        )
    topic_rows.loc[topic_rows["topic_id"].isin(new_ids), "status"] = "active"
    return new_ids_arr, model.centroids_, model.keywords_, next_id, topic_rows


def _set_keywords(topics: pd.DataFrame, ids: np.ndarray, keywords: list[list[str]]) -> pd.DataFrame:
    topics = topics.copy()
    for topic_id, words in zip(ids, keywords, strict=True):
        topics.loc[topics["topic_id"] == topic_id, "keywords"] = ", ".join(words)
    return topics


def _describe(
    topics: pd.DataFrame,
    units: pd.DataFrame,
    embeddings: np.ndarray,
    assignments: pd.DataFrame,
    taxonomy: Taxonomy,
    config: TopicConfig,
    run_id: str,
) -> pd.DataFrame:
    """Sizes, subtopic, readable label and representative verbatims per topic."""
    topics = topics.copy()
    names = {(c.id, s.id): s.name_zh for c in taxonomy.categories for s in c.subtopics}
    topic_ids = assignments["topic_id"].to_numpy()
    for row in topics.itertuples():
        members = np.flatnonzero(topic_ids == row.topic_id)
        if len(members) == 0:
            continue
        topics.at[row.Index, "size"] = len(members)
        topics.at[row.Index, "last_run_id"] = run_id
        subtopics = units["subtopic"].iloc[members].dropna()
        subtopic = None
        if len(subtopics) and subtopics.value_counts().iloc[0] >= 0.4 * len(members):
            subtopic = subtopics.value_counts().index[0]
        topics.at[row.Index, "subtopic"] = subtopic
        words = [w for w in str(row.keywords).split(", ") if w][:3]
        head = names.get((row.category, subtopic), "")
        label = "·".join(words) or f"topic {row.topic_id}"
        topics.at[row.Index, "label"] = f"{head}：{label}" if head else label
        centroid = normalise_rows(embeddings[members].mean(axis=0, keepdims=True))[0]
        closeness = embeddings[members] @ centroid
        chosen, seen = [], set()
        for i in members[np.argsort(-closeness, kind="stable")]:
            text = units["text"].iloc[i]
            if text not in seen:
                seen.add(text)
                chosen.append(units["unit_id"].iloc[i])
            if len(chosen) == config.representatives:
                break
        topics.at[row.Index, "representative_unit_ids"] = ",".join(chosen)
    return topics
