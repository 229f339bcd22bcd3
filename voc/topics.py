"""Topics: discover recurring themes inside each category with BERTopic.

Per category, BERTopic is fitted on a bounded sample of units chosen by a hash of
their ids (precomputed
embeddings, a jieba ``CountVectorizer``, guided by the taxonomy subtopics). Each
topic is then represented by its centroid, and *every* unit — the sample, the rest,
and tomorrow's new units — is assigned to the nearest centroid when the cosine
similarity reaches ``outlier_threshold`` (BERTopic's "embeddings" outlier
reduction, applied uniformly). Memory is bounded by the sample, assignment is a
matrix product, and a nightly run needs no refit.

Topic ids are global integers kept in a registry (the ``topics`` table). When a
category is refitted, new topics are matched to the previous ones by centroid
similarity with an optimal assignment: matches keep their id, new themes get new
ids, and vanished ones are marked ``retired`` (with the run that retired them).

A category is refitted only on its first run, when asked (``refit`` /
``topics.rebuild``), or when its new units drift away from the topics: more of them
fall below the outlier threshold, or they sit further from their centroids, than
the units the last fit left out did (``holdout_share`` of a category is always left
out of its fit, so the baseline is not flattered by units the topics were fit on).
A category whose last fit found no topics waits for ``drift_min_units`` new units; one
whose embedding model changed is fitted again, saying so.
Each run adds one row per category to the ``topic_runs`` table saying what was done
and why.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import jieba
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from voc.config import TopicConfig
from voc.embed import Embedder, normalise_rows
from voc.schemas import NO_TOPIC, TABLES, empty
from voc.taxonomy import Category, Taxonomy

log = logging.getLogger(__name__)

# A label shows a topic's best keywords, and only those may name its subtopic.
_LABEL_KEYWORDS = 3


# Masking placeholders ([电话], and JDDC's [数字x] / [订单x]) are not words of the customer.
_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,8}\]")

# Counts and dates (两次, 一包, 三四次, 十几天, 第二天) say how much, not what about. Chinese
# numerals pass ``str.isalpha``, so they are matched here: numerals, then measure words
# only — 三星 or 万能 (numeral + another word) are kept.
_NUMERALS = "零〇一二三四五六七八九十百千万亿两几半"
_MEASURES = (
    "个件条次回遍趟块元角毛包袋盒瓶罐箱桶斤克吨天日号周月年岁分秒点"
    "台部本张只双对套支根片粒颗米寸层页份位种款声口"
)
_QUANTITY = re.compile(rf"第?[{_NUMERALS}]+(?:小时|分钟|公斤|千克|毫升|毫安|[{_MEASURES}])*")


# Digit-led words that name a feature, not an amount: 5G, 4K, 3D, 1080P. Written in
# capitals, as customers write them; 128g or 500ml stay amounts.
_FEATURE = re.compile(r"\d{1,4}[GKD]|\d{3,4}[Pp]")


def is_quantity(word: str) -> bool:
    """Whether ``word`` is a count or date: digit-led (128g, 48小时) or numeral + measures.

    Feature names such as 5G, 4K, 3D and 1080P are not quantities.
    """
    if _FEATURE.fullmatch(word):
        return False
    return word[:1].isdigit() or _QUANTITY.fullmatch(word) is not None


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
            if is_quantity(word):
                continue
            # "ef", "vy": fragments of model numbers (but 5G, 4K are features)
            if word.isascii() and len(word) < 3 and not _FEATURE.fullmatch(word):
                continue
            if word.lower() in ENGLISH_STOP_WORDS:  # English reviews: "the", "was", "this"
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


@dataclass(frozen=True)
class FitStats:
    """How well units fit a category's topics: the no-topic share and mean similarity."""

    outlier_share: float
    mean_similarity: float

    @classmethod
    def of(cls, index: np.ndarray, score: np.ndarray) -> FitStats:
        """Stats of one assignment (``assign_to_centroids`` output); NaN when empty."""
        if len(index) == 0:
            return cls(float("nan"), float("nan"))
        return cls(float((index == NO_TOPIC).mean()), float(score.mean()))


def detect_drift(new: FitStats, new_units: int, baseline: FitStats, config: TopicConfig) -> str:
    """Why the category's topics no longer fit its new units, or ``""`` if they still do.

    New units that land without a topic more often, or sit further from their
    centroids, than the units of the last fit did are themes the topics do not know.

    Args:
        new: Stats of this run's new units against the current centroids.
        new_units: How many new units ``new`` is over (too few prove nothing).
        baseline: Stats of the units at the last fit.
        config: The drift thresholds.
    """
    if new_units < config.drift_min_units:
        return ""
    rise = new.outlier_share - baseline.outlier_share
    if rise >= config.drift_outlier_rise:
        return (
            f"drift: {new.outlier_share:.1%} of {new_units} new units without a topic"
            f" vs {baseline.outlier_share:.1%} at the last fit"
        )
    drop = baseline.mean_similarity - new.mean_similarity
    if drop >= config.drift_similarity_drop:
        return (
            f"drift: mean similarity of {new_units} new units {new.mean_similarity:.3f}"
            f" vs {baseline.mean_similarity:.3f} at the last fit"
        )
    return ""


@dataclass
class TopicState:
    """The topic registry: every topic ever seen, centroids of the active ones, fit history."""

    topics: pd.DataFrame  # schema TOPICS
    centroids: pd.DataFrame  # schema TOPIC_CENTROIDS
    runs: pd.DataFrame = field(default_factory=lambda: empty("topic_runs"))  # TOPIC_RUNS

    def __post_init__(self) -> None:
        # A store published before a column existed lacks it; start it empty.
        self.topics = _with_columns(self.topics, "topics")
        self.runs = _with_columns(self.runs, "topic_runs")

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

    def last_fit(self, category: str, embed_model: str) -> FitStats | None:
        """Stats of the category's units right after its last fit: the drift baseline."""
        fits = self.runs[
            (self.runs["category"] == category)
            & (self.runs["embed_model"] == embed_model)
            & self.runs["refit"].fillna(False).astype(bool)
        ]
        if fits.empty:
            return None
        last = fits.iloc[-1]
        held_out = FitStats(
            float(last["baseline_outlier_share"]), float(last["baseline_mean_similarity"])
        )
        if np.isnan(held_out.outlier_share):  # a fit from before held-out baselines
            return FitStats(float(last["outlier_share"]), float(last["mean_similarity"]))
        return held_out


def _with_columns(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    missing = [name for name in TABLES[table].names if name not in frame.columns]
    return frame.assign(**{name: None for name in missing}) if missing else frame


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
    is_new: np.ndarray | None = None,
    skip_categories: Sequence[str] = ("other",),
) -> tuple[pd.DataFrame, TopicState]:
    """Assign every unit a topic; fit categories with no topics, asked for, or drifted.

    The three phases in one call: :func:`plan_topics` (drift checks and fits, in this
    process), :func:`assign_topics` (every unit to its category's centroids: plain
    arrays in and out, so a flow may run it on a Dask worker) and :func:`finish_topics`
    (fit statistics, labels and representatives).

    Args:
        units: Labelled units (``unit_id``, ``text``, ``category``, ``subtopic``) — all
            units of the store whose topic should be (re)decided.
        embeddings: Their vectors, aligned with ``units``.
        state: The registry from the previous run (empty on the first run).
        taxonomy: For the seed topics and readable subtopic names.
        config: Topic settings (``config.rebuild`` acts like ``refit``).
        embedder: The embedding model (its id keys the centroids).
        tokens: jieba tokenizer for keywords.
        run_id: Written into the registry.
        seed: Random state for sampling and UMAP.
        refit: Refit every category even when it already has topics.
        is_new: Which units are new this run (drift is judged on them); all if None.
        skip_categories: Categories with no topic model (nothing actionable in them).

    Returns:
        ``(assignments, new state)``; assignments hold unit_id, topic_id, category,
        similarity for every unit. The state's ``runs`` gains one row per category
        saying whether it was refitted and why.
    """
    plan = plan_topics(
        units, embeddings, state, taxonomy, config, embedder, tokens, run_id, seed,
        refit=refit, is_new=is_new, skip_categories=skip_categories,
    )  # fmt: skip
    topic_ids, similarity = assign_topics(
        embeddings, units["category"].to_numpy(), plan.centroids, config.outlier_threshold
    )
    return finish_topics(
        units, plan, topic_ids, similarity, taxonomy, config, embedder.model_id, run_id,
        skip_categories,
    )  # fmt: skip


@dataclass
class TopicPlan:
    """What :func:`plan_topics` decided, for :func:`assign_topics` and :func:`finish_topics`.

    Attributes:
        state: The registry with this run's refits (``runs`` not yet extended).
        centroids: Per category with topics: (topic ids, centroid matrix) to assign to.
        records: Per category: its ``topic_runs`` row so far (reason, counts, drift stats).
        fit_samples: Per refitted category: positions in ``units`` of its fit sample.
    """

    state: TopicState
    centroids: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    records: dict[str, dict] = field(default_factory=dict)
    fit_samples: dict[str, np.ndarray] = field(default_factory=dict)


def plan_topics(
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
    is_new: np.ndarray | None = None,
    skip_categories: Sequence[str] = ("other",),
) -> TopicPlan:
    """Per category: check the new units for drift, and refit where needed.

    Only the new units are assigned here (to measure drift against the stored
    baseline), so a run without refits costs a matrix product over the new units.
    Arguments as for :func:`discover_topics`; ``embeddings`` is only ever indexed with
    arrays of positions, so it may be a :class:`voc.incremental.UnitVectors` that reads
    the stored units' vectors only for a category that is refitted.
    """
    refit = refit or config.rebuild
    is_new = np.ones(len(units), dtype=bool) if is_new is None else np.asarray(is_new, bool)
    plan = TopicPlan(state=TopicState(state.topics.copy(), state.centroids.copy(), state.runs))
    next_id = state.next_id()
    categories = units["category"].to_numpy()

    for category in taxonomy.categories:
        positions = np.flatnonzero(categories == category.id)
        if category.id in skip_categories or len(positions) == 0:
            continue
        new = is_new[positions]
        ids, centroids = state.active(category.id, embedder.model_id)
        record = {"new_units": int(new.sum()), "sample_size": 0, "refit": False}
        reason = ""
        if len(ids) == 0:
            reason = _why_fit_without_topics(
                state.runs, category.id, embedder.model_id, int(new.sum()), refit, config
            )
        else:
            threshold = config.outlier_threshold
            now = FitStats.of(
                *assign_to_centroids(embeddings[positions[new]], centroids, threshold)
            )
            # a store from before fit stats were kept: the earlier units stand in
            baseline = state.last_fit(category.id, embedder.model_id) or FitStats.of(
                *assign_to_centroids(embeddings[positions[~new]], centroids, threshold)
            )
            record.update(_stats_columns("new_", now) | _stats_columns("baseline_", baseline))
            reason = "asked" if refit else detect_drift(now, int(new.sum()), baseline, config)
        fitted = None
        if reason and len(positions) < config.min_units:
            log.info("topics: %s has %d units, too few to fit", category.id, len(positions))
            if len(ids) == 0:
                continue
            reason = f"{reason}; only {len(positions)} units, not refitted"
        elif reason:
            fitted = _fit_category(
                units.iloc[positions], embeddings[positions], category, config, embedder,
                tokens, seed,
            )  # fmt: skip
            if fitted is None:
                outcome = "not refitted" if len(ids) else "no topics"
                reason = f"{reason}; no words left after the stop words, {outcome}"
                log.warning("topics: %s: %s", category.id, reason)
        if fitted is not None:
            model, in_sample = fitted
            ids, plan.state.topics, next_id = _register(
                plan.state.topics, category.id, ids, centroids, model.centroids_, next_id,
                config.match_threshold, run_id,
            )  # fmt: skip
            centroids = model.centroids_
            plan.state.centroids = _replace_centroids(
                plan.state.centroids, category.id, embedder.model_id, ids, centroids
            )
            plan.state.topics = _set_keywords(plan.state.topics, ids, model.keywords_)
            plan.fit_samples[category.id] = positions[in_sample]
            record.update(refit=True, sample_size=int(in_sample.sum()))
            log.info("topics: %s refitted (%s)", category.id, reason)
        plan.centroids[category.id] = (ids, centroids)
        plan.records[category.id] = {"reason": reason or "no drift", **record}
    return plan


def _why_fit_without_topics(
    runs: pd.DataFrame,
    category: str,
    embed_model: str,
    new_units: int,
    refit: bool,
    config: TopicConfig,
) -> str:
    """Why a category without topics (for ``embed_model``) is fitted, or ``""`` to wait.

    A category is fitted on its first run, and again when the embedding model changed
    (the old centroids live in another space). One whose last run with this model
    found no topics is fitted again only when asked, or when ``drift_min_units`` new
    units arrived — the drift rules' bar — not on every nightly run.

    Args:
        runs: The ``topic_runs`` table of the earlier runs.
        category: The category.
        embed_model: This run's embedding model.
        new_units: The category's units new this run.
        refit: Whether a refit of every category was asked for.
        config: The drift thresholds.
    """
    earlier = runs.loc[runs["category"] == category, "embed_model"]
    if earlier.empty:
        return "first fit"
    if earlier.iloc[-1] != embed_model:
        return f"embedding model changed ({earlier.iloc[-1]} → {embed_model})"
    if refit:
        return "asked"
    if new_units >= config.drift_min_units:
        return f"{new_units} new units since a fit that found no topics"
    return ""


def assign_topics(
    embeddings: np.ndarray,
    categories: np.ndarray,
    centroids: dict[str, tuple[np.ndarray, np.ndarray]],
    threshold: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Every unit's topic id (or ``NO_TOPIC``) and similarity, within its own category.

    Plain arrays in and out, so the flow can run it on a Dask worker.

    Args:
        embeddings: Unit vectors.
        categories: Each unit's category, aligned with ``embeddings``.
        centroids: Per category: (topic ids, centroid matrix) — :attr:`TopicPlan.centroids`.
        threshold: Minimum cosine similarity to join a topic.
    """
    topic_ids = np.full(len(embeddings), NO_TOPIC, dtype=np.int64)
    similarity = np.zeros(len(embeddings), dtype=np.float32)
    for category, (ids, matrix) in centroids.items():
        positions = np.flatnonzero(categories == category)
        if len(ids) == 0 or len(positions) == 0:
            continue
        index, score = assign_to_centroids(embeddings[positions], matrix, threshold)
        topic_ids[positions] = np.where(index >= 0, ids[np.maximum(index, 0)], NO_TOPIC)
        similarity[positions] = score
    return topic_ids, similarity


def kept_assignments(
    plan: TopicPlan,
    units: pd.DataFrame,
    is_new: np.ndarray,
    stored: pd.DataFrame,
    last_run_id: str | None,
    config: TopicConfig,
    embed_model: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which units :func:`assign_topics` must assign, and the topics of the others.

    A unit of a category without topics has none, and needs no vector. An old unit
    keeps its stored topic and similarity when assigning it again would give the same:
    its category was not refitted in this plan, and the store's last run assigned that
    category (so with today's centroids, since nothing refitted after it) with the same
    embedding model and outlier threshold. A nightly run without refits then needs the
    vectors of its new units only.

    Args:
        plan: This run's plan (its registry holds the earlier runs' ``topic_runs``).
        units: All units, the store's first; ``is_new`` marks this run's.
        stored: The store's ``topic_assignments``.
        last_run_id: The store's newest run, or None for an empty store.
        config: Topic settings (the outlier threshold).
        embed_model: This run's embedding model.

    Returns:
        ``(todo, topic_ids, similarity)``: ``todo`` marks the units to assign; the two
        arrays hold the topic and similarity of the others.
    """
    categories = units["category"].to_numpy()
    topic_ids = np.full(len(units), NO_TOPIC, dtype=np.int64)
    similarity = np.zeros(len(units), dtype=np.float32)
    todo = np.isin(categories, list(plan.centroids))
    runs = plan.state.runs
    last = runs[
        (runs["run_id"] == last_run_id)
        & (runs["embed_model"] == embed_model)
        & np.isclose(runs["outlier_threshold"].astype(float), config.outlier_threshold)
    ]
    settled = set(last["category"]) - set(plan.fit_samples)
    if not settled or stored.empty:
        return todo, topic_ids, similarity
    positions = np.flatnonzero(todo & ~is_new & np.isin(categories, list(settled)))
    found = (
        stored.drop_duplicates("unit_id", keep="last")
        .set_index("unit_id")
        .reindex(units["unit_id"].to_numpy()[positions])
    )
    ok = found["topic_id"].notna().to_numpy() & (
        found["category"].to_numpy() == categories[positions]
    )
    positions = positions[ok]
    topic_ids[positions] = found["topic_id"].to_numpy()[ok].astype(np.int64)
    similarity[positions] = found["similarity"].to_numpy()[ok].astype(np.float32)
    todo[positions] = False
    log.info("topics: %d stored units keep their topic; %d to assign", len(positions), todo.sum())
    return todo, topic_ids, similarity


def finish_topics(
    units: pd.DataFrame,
    plan: TopicPlan,
    topic_ids: np.ndarray,
    similarity: np.ndarray,
    taxonomy: Taxonomy,
    config: TopicConfig,
    embed_model: str,
    run_id: str,
    skip_categories: Sequence[str] = ("other",),
) -> tuple[pd.DataFrame, TopicState]:
    """The assignments table, and the registry with sizes, labels and this run's rows."""
    categories = units["category"].to_numpy()
    run_rows = []
    for category, planned in plan.records.items():
        record = dict(planned)
        positions = np.flatnonzero(categories == category)
        topics, scores = topic_ids[positions], similarity[positions]
        if category in plan.fit_samples:
            # The next runs' drift baseline: units the fit did not see, so that new
            # units are compared with unseen units, not with the ones the topics fit.
            held_out = ~np.isin(positions, plan.fit_samples[category])
            record.update(
                _stats_columns("baseline_", FitStats.of(topics[held_out], scores[held_out]))
            )
        run_rows.append(
            {
                "run_id": run_id,
                "category": category,
                "embed_model": embed_model,
                "units": len(positions),
                "topics": len(plan.centroids[category][0]),
                **_stats_columns("", FitStats.of(topics, scores)),
                **record,
                "outlier_threshold": config.outlier_threshold,
            }
        )
    assignments = pd.DataFrame(
        {
            "unit_id": units["unit_id"].to_numpy(),
            "topic_id": topic_ids,
            "category": categories,
            "similarity": similarity,
        }
    )
    topic_rows = _describe(plan.state.topics, units, assignments, taxonomy, config, run_id)
    runs = _append(plan.state.runs, pd.DataFrame(run_rows, columns=TABLES["topic_runs"].names))
    log.info(
        "topics: %.1f%% of units in topic categories have no topic",
        100 * outlier_share(assignments, skip_categories),
    )
    return assignments, TopicState(topics=topic_rows, centroids=plan.state.centroids, runs=runs)


def outlier_share(assignments: pd.DataFrame, skip_categories: Sequence[str] = ("other",)) -> float:
    """Share of units outside ``skip_categories`` left without a topic (0 with none)."""
    eligible = assignments[~assignments["category"].isin(list(skip_categories))]
    return float((eligible["topic_id"] == NO_TOPIC).mean()) if len(eligible) else 0.0


def refit_reasons(state: TopicState, run_id: str) -> dict[str, str]:
    """category -> why its topics were refitted in ``run_id`` (categories refitted only)."""
    rows = state.runs[(state.runs["run_id"] == run_id) & state.runs["refit"].astype(bool)]
    return dict(zip(rows["category"], rows["reason"], strict=True))


def _stats_columns(prefix: str, stats: FitStats) -> dict[str, float]:
    return {
        f"{prefix}outlier_share": stats.outlier_share,
        f"{prefix}mean_similarity": stats.mean_similarity,
    }


def _append(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``concat`` that skips empty frames (pandas warns about their dtypes otherwise)."""
    parts = [f for f in (frame, rows) if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else frame


def _fit_category(
    units: pd.DataFrame,
    vectors: np.ndarray,
    category: Category,
    config: TopicConfig,
    embedder: Embedder,
    tokens: JiebaTokens,
    seed: int,
) -> tuple[CategoryTopicModel, np.ndarray] | None:
    """Fit the category's model on a bounded sample; returns it and the sample mask.

    None when the sample has no word left after the stop words (only filler or
    numbers): BERTopic's ``CountVectorizer`` then has nothing to count, and the
    category gets no topics this run instead of failing the whole run.

    The sample is chosen by a hash of the unit id (see :func:`fit_sample`), not by
    the seed: the same units are chosen whatever the seed or the order rows arrive
    in, and a store that grows by 10% keeps most of its earlier sample, so a refit
    finds mostly the same topics. Memory is bounded by ``config.sample_size``.
    """
    in_sample = fit_sample(units["unit_id"].to_numpy(), config.sample_size, config.holdout_share)
    seeds = [list(s.seeds) for s in category.subtopics if s.seeds]
    model = CategoryTopicModel(config, embedder, tokens, seeds, seed)
    try:
        model.fit(units["text"].to_numpy()[in_sample].tolist(), vectors[in_sample])
    except ValueError as error:
        if "empty vocabulary" not in str(error):  # sklearn's words for "no words"
            raise
        return None
    log.info(
        "topics: %s fitted on %d units -> %d topics",
        category.id,
        int(in_sample.sum()),
        len(model.centroids_),
    )
    return model, in_sample


def fit_sample(unit_ids: Sequence[str], size: int, holdout_share: float) -> np.ndarray:
    """Which units a topic fit sees: a mask over ``unit_ids``.

    Units are ranked by the sha1 of their id and the first ones taken: at most
    ``size``, and at most ``1 - holdout_share`` of them, so that some units are
    always left out to measure the drift baseline on.
    """
    ranks = np.argsort([hashlib.sha1(str(u).encode()).hexdigest() for u in unit_ids])
    take = min(size, int(len(unit_ids) * (1 - holdout_share)))
    mask = np.zeros(len(unit_ids), dtype=bool)
    mask[ranks[:take]] = True
    return mask


def _register(
    topic_rows: pd.DataFrame,
    category: str,
    old_ids: np.ndarray,
    old_centroids: np.ndarray,
    new_centroids: np.ndarray,
    next_id: int,
    match_threshold: float,
    run_id: str,
) -> tuple[np.ndarray, pd.DataFrame, int]:
    """Give a refit's topics ids: matched ones keep theirs, new themes get new ones.

    Every other active topic of the category is retired in ``run_id``.

    Returns:
        ``(ids of the new topics, updated registry rows, next free id)``.
    """
    matches = match_topics(new_centroids, old_centroids, match_threshold)
    new_ids = []
    for i in range(len(new_centroids)):
        if i in matches:
            new_ids.append(int(old_ids[matches[i]]))
        else:
            new_ids.append(next_id)
            next_id += 1
    topic_rows = topic_rows.copy()
    retiring = (
        (topic_rows["category"] == category)
        & (topic_rows["status"] == "active")
        & ~topic_rows["topic_id"].isin(new_ids)
    )
    topic_rows.loc[retiring, ["status", "retired_run_id", "size"]] = ["retired", run_id, 0]
    fresh = [t for t in new_ids if t not in set(topic_rows["topic_id"])]
    if fresh:
        rows = pd.DataFrame(
            {name: None for name in TABLES["topics"].names}, index=range(len(fresh))
        )
        rows = rows.assign(
            topic_id=fresh, category=category, label="", keywords="", size=0,
            representative_unit_ids="", status="active", first_run_id=run_id,
            last_run_id=run_id,
        )  # fmt: skip
        topic_rows = _append(topic_rows, rows)
    topic_rows.loc[topic_rows["topic_id"].isin(new_ids), "status"] = "active"
    return np.array(new_ids, dtype=np.int64), topic_rows, next_id


def _replace_centroids(
    rows: pd.DataFrame, category: str, embed_model: str, ids: np.ndarray, centroids: np.ndarray
) -> pd.DataFrame:
    """The category's centroids for ``embed_model`` become exactly ``ids``/``centroids``."""
    stale = (rows["category"] == category) & (rows["embed_model"] == embed_model)
    fresh = pd.DataFrame(
        {
            "topic_id": ids,
            "category": category,
            "embed_model": embed_model,
            "centroid": [c.astype(np.float32) for c in centroids],
        }
    )
    return _append(rows[~stale & ~rows["topic_id"].isin(ids)], fresh)


def _set_keywords(topics: pd.DataFrame, ids: np.ndarray, keywords: list[list[str]]) -> pd.DataFrame:
    topics = topics.copy()
    for topic_id, words in zip(ids, keywords, strict=True):
        topics.loc[topics["topic_id"] == topic_id, "keywords"] = ", ".join(words)
    return topics


def match_subtopic(
    member_subtopics: pd.Series, keywords: Sequence[str], category: Category | None
) -> str | None:
    """The taxonomy subtopic a topic belongs to, if one clearly fits.

    First choice: the subtopic most of the topic's units were labelled with (at
    least 40% of them). Otherwise a subtopic whose seed words are among the topic's
    top three keywords — a topic of "续航差, 发烫, 充电" sits under battery even when
    few of its clauses were labelled so. A seed further down the keywords names
    nothing: the tenth keyword of a topic does not say what the topic is about. Each
    seed counts by its rank (3 for the first keyword, 2, 1); ties go to the subtopic
    with the better-ranked seed, then to the taxonomy's order. None when nothing fits:
    the label is then the keywords alone.
    """
    counts = member_subtopics.dropna().value_counts()
    if len(counts) and counts.iloc[0] >= 0.4 * len(member_subtopics):
        return str(counts.index[0])
    if category is None:
        return None
    top = list(keywords[:_LABEL_KEYWORDS])
    best, best_key = None, (0, 0)
    for subtopic in category.subtopics:
        ranks = [rank for rank, word in enumerate(top) if word in subtopic.seeds]
        if not ranks:
            continue
        key = (sum(_LABEL_KEYWORDS - rank for rank in ranks), -min(ranks))
        if key > best_key:  # strictly better: an exact tie keeps the earlier subtopic
            best, best_key = subtopic.id, key
    return best


def topic_label(keywords: Sequence[str], subtopic_name: str | None, topic_id: int) -> str:
    """Readable label: ``<subtopic name>：<three best keywords joined by ·>``."""
    words = "·".join(keywords[:_LABEL_KEYWORDS]) or f"topic {topic_id}"
    return f"{subtopic_name}：{words}" if subtopic_name else words


def representatives(
    unit_ids: np.ndarray, texts: np.ndarray, similarity: np.ndarray, count: int
) -> list[str]:
    """Ids of the ``count`` members nearest the topic's centroid, one per distinct text.

    ``similarity`` is each member's cosine similarity to the centroid, from the
    assignment, so no vector is needed (a nightly run does not read the stored ones).
    """
    chosen, seen = [], set()
    for i in np.argsort(-similarity, kind="stable"):
        if texts[i] not in seen:
            seen.add(texts[i])
            chosen.append(str(unit_ids[i]))
        if len(chosen) == count:
            break
    return chosen


def _describe(
    topics: pd.DataFrame,
    units: pd.DataFrame,
    assignments: pd.DataFrame,
    taxonomy: Taxonomy,
    config: TopicConfig,
    run_id: str,
) -> pd.DataFrame:
    """Sizes, subtopic, readable label and representative verbatims per topic."""
    topics = topics.copy()
    categories = {c.id: c for c in taxonomy.categories}
    names = {(c.id, s.id): s.name_zh for c in taxonomy.categories for s in c.subtopics}
    topic_ids, similarity = assignments["topic_id"].to_numpy(), assignments["similarity"].to_numpy()
    unit_ids, texts = units["unit_id"].to_numpy(), units["text"].to_numpy()
    for row in topics.itertuples():
        members = np.flatnonzero(topic_ids == row.topic_id)
        if len(members) == 0:
            topics.at[row.Index, "size"] = 0
            continue
        keywords = [w for w in str(row.keywords or "").split(", ") if w]
        subtopic = match_subtopic(
            units["subtopic"].iloc[members], keywords, categories.get(row.category)
        )
        name = names.get((row.category, subtopic))
        chosen = representatives(
            unit_ids[members], texts[members], similarity[members], config.representatives
        )
        topics.loc[
            row.Index,
            ["size", "last_run_id", "subtopic", "subtopic_name", "label", "representative_unit_ids"],
        ] = [
            len(members), run_id, subtopic, name, topic_label(keywords, name, row.topic_id),
            ",".join(chosen),
        ]  # fmt: skip
    return topics
