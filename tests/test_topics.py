from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import voc.topics as topics_module
from voc.config import TopicConfig
from voc.embed import normalise_rows
from voc.schemas import empty
from voc.segment import make_tokenizer
from voc.topics import (
    JiebaTokens,
    TopicState,
    assign_to_centroids,
    discover_topics,
    match_topics,
)


def test_assign_to_centroids_thresholds_outliers():
    centroids = np.eye(3, dtype=np.float32)
    vectors = normalise_rows(np.array([[1, 0.1, 0], [0, 0, 1], [1, 1, 1]], dtype=np.float32))
    index, score = assign_to_centroids(vectors, centroids, threshold=0.9)
    assert index.tolist() == [0, 2, -1]
    assert score[2] == pytest.approx(1 / np.sqrt(3), rel=1e-5)


def test_assign_with_no_topics_marks_all_outliers():
    index, _ = assign_to_centroids(np.ones((2, 3), np.float32), np.zeros((0, 3), np.float32), 0.3)
    assert index.tolist() == [-1, -1]


def test_match_topics_is_optimal_and_thresholded():
    old = np.eye(3, dtype=np.float32)
    new = normalise_rows(np.array([[0, 1, 0.1], [1, 0.05, 0], [0.5, 0.5, 0.5]], dtype=np.float32))
    assert match_topics(new, old, threshold=0.9) == {0: 1, 1: 0}


def test_jieba_tokens_drop_stopwords_placeholders_and_noise():
    tokens = JiebaTokens(make_tokenizer(["充电盒"]), stopwords=["这个"])
    words = tokens("这个充电盒坏了[电话]，[数字x] ef 123")
    assert "充电盒" in words
    assert "这个" not in words
    assert not any("电话" in w or "数字" in w for w in words)
    assert "ef" not in words and "123" not in words


class _KeywordTopicModel:
    """Stands in for BERTopic in fast tests: one topic per keyword found in the sample."""

    keywords_by_topic = (("电池",), ("掉色",), ("尺码",))

    def __init__(self, config, embedder, tokens, seed_topics, seed):
        self.config = config

    def fit(self, texts, embeddings):
        centroids, keywords = [], []
        for words in self.keywords_by_topic:
            rows = [i for i, t in enumerate(texts) if any(w in t for w in words)]
            if rows:
                centroids.append(embeddings[rows].mean(axis=0))
                keywords.append(list(words))
        self.centroids_ = (
            normalise_rows(np.stack(centroids)) if centroids else np.zeros((0, 64), np.float32)
        )
        self.keywords_ = keywords
        return self


def _units(texts: list[str], category: str = "product_quality") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit_id": [f"u{i:04d}" for i in range(len(texts))],
            "text": texts,
            "category": category,
            "subtopic": None,
        }
    )


@pytest.fixture
def keyword_topics(monkeypatch):
    monkeypatch.setattr(topics_module, "CategoryTopicModel", _KeywordTopicModel)


def _discover(units, embedder, taxonomy, state=None, refit=False, run_id="r1"):
    state = state or TopicState(empty("topics"), empty("topic_centroids"))
    config = TopicConfig(min_units=10, outlier_threshold=0.3)
    tokens = JiebaTokens(make_tokenizer(), [])
    return discover_topics(
        units, embedder.embed(units["text"].tolist()), state, taxonomy, config, embedder,
        tokens, run_id, seed=1, refit=refit,
    )  # fmt: skip


CORPUS = ["电池不耐用"] * 6 + ["电池续航太短"] * 6 + ["洗了就掉色"] * 6 + ["掉色很严重"] * 6


def test_first_run_registers_topics_with_ids_and_labels(keyword_topics, fake_embedder, taxonomy):
    assignments, state = _discover(_units(CORPUS), fake_embedder, taxonomy)
    active = state.topics[state.topics["status"] == "active"]
    assert sorted(active["topic_id"]) == [0, 1]
    assert set(assignments["topic_id"]) <= {0, 1, -1}
    battery = assignments.loc[assignments["unit_id"] == "u0000", "topic_id"].item()
    assert (assignments["topic_id"].iloc[:12] == battery).all()
    row = state.topics.set_index("topic_id").loc[battery]
    assert "电池" in row["label"]
    assert row["size"] == 12
    assert len(row["representative_unit_ids"].split(",")) >= 1
    assert len(state.centroids) == 2


def test_second_run_assigns_without_refit_and_keeps_ids(
    keyword_topics, fake_embedder, taxonomy, monkeypatch
):
    _, state = _discover(_units(CORPUS), fake_embedder, taxonomy)
    first = _discover(_units(CORPUS), fake_embedder, taxonomy, state=state, run_id="r2")[0]

    def no_fit(*args, **kwargs):
        raise AssertionError("a category with topics must not be refitted")

    monkeypatch.setattr(_KeywordTopicModel, "fit", no_fit)
    more = _units([*CORPUS, "电池没电了"])
    assignments, state2 = _discover(more, fake_embedder, taxonomy, state=state, run_id="r3")
    assert assignments["topic_id"].iloc[: len(CORPUS)].tolist() == first["topic_id"].tolist()
    assert sorted(state2.topics["topic_id"]) == [0, 1]


def test_refit_keeps_matching_ids_adds_new_and_retires_vanished(
    keyword_topics, fake_embedder, taxonomy
):
    _, state = _discover(_units(CORPUS), fake_embedder, taxonomy)
    sizes = ["尺码偏小"] * 6 + ["尺码不标准"] * 6
    texts = CORPUS[:12] + sizes  # the colour-fading theme vanished, a size theme appeared
    assignments, state2 = _discover(
        _units(texts), fake_embedder, taxonomy, state=state, refit=True, run_id="r2"
    )
    status = state2.topics.set_index("topic_id")["status"].to_dict()
    battery_id = assignments["topic_id"].iloc[0]
    assert battery_id in (0, 1) and status[battery_id] == "active"
    assert sorted(k for k, v in status.items() if v == "retired") == [1 - battery_id]
    assert status[2] == "active"  # the new theme got a new id
    assert (assignments["topic_id"].iloc[12:] == 2).all()


def test_small_and_skipped_categories_get_no_topics(keyword_topics, fake_embedder, taxonomy):
    units = pd.concat([_units(CORPUS[:5]), _units(CORPUS, category="other")], ignore_index=True)
    units["unit_id"] = [f"x{i}" for i in range(len(units))]
    assignments, state = _discover(units, fake_embedder, taxonomy)
    assert (assignments["topic_id"] == -1).all()
    assert state.topics.empty


def test_a_fit_that_finds_no_topics_leaves_units_without_topic(
    keyword_topics, fake_embedder, taxonomy
):
    units = _units(["没有关键词的句子"] * 20)
    assignments, state = _discover(units, fake_embedder, taxonomy)
    assert (assignments["topic_id"] == -1).all()
    assert state.topics.empty
