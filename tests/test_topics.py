from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import voc.topics as topics_module
from tests.fakes import HashingEmbedder
from voc.config import TopicConfig
from voc.embed import normalise_rows
from voc.schemas import empty
from voc.segment import make_tokenizer
from voc.topics import (
    FitStats,
    JiebaTokens,
    TopicState,
    assign_to_centroids,
    assign_topics,
    detect_drift,
    discover_topics,
    fit_sample,
    kept_assignments,
    match_subtopic,
    match_topics,
    outlier_share,
    plan_topics,
    refit_reasons,
    representatives,
    topic_label,
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


def test_jieba_tokens_drop_quantities_and_filler_but_keep_product_words(taxonomy):
    tokens = JiebaTokens(make_tokenizer(), taxonomy.stopwords)
    text = (
        "第二天就到了，128g一包，用了十几天，三四次，两次，几次，没有，不错，一般，一样，不到，"
        "不是。三星手机，洗发水，万能充，千元机"
    )
    words = tokens(text)
    for noise in ["第二天", "128g", "一包", "十几天", "三四次", "两次", "几次"]:
        assert noise not in words
    for filler in ["没有", "不错", "一般", "一样", "不到", "不是"]:
        assert filler not in words
    assert {"三星", "手机", "洗发水"} <= set(words)


def test_jieba_tokens_keep_feature_names_that_start_with_a_digit(taxonomy):
    tokens = JiebaTokens(make_tokenizer(), taxonomy.stopwords)
    words = tokens("5G信号好，4K屏幕，支持1080P，3D效果，128g一包，500ml，2kg，48小时，128GB")
    assert {"5g", "4k", "1080p", "3d"} <= set(words)
    assert not {"128g", "500ml", "2kg", "48", "128gb"} & set(words)


def test_jieba_tokens_drop_english_stop_words(taxonomy):
    tokens = JiebaTokens(make_tokenizer(), taxonomy.stopwords)
    assert tokens("The delivery was fast and this battery is the best") == [
        "delivery", "fast", "battery", "best"
    ]  # fmt: skip


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


def _discover(units, embedder, taxonomy, state=None, refit=False, run_id="r1", **settings):
    state = state or TopicState(empty("topics"), empty("topic_centroids"))
    config = TopicConfig(**{"min_units": 10, "outlier_threshold": 0.3, **settings})
    tokens = JiebaTokens(make_tokenizer(), [])
    is_new = (units["run_id"] == run_id).to_numpy() if "run_id" in units else None
    return discover_topics(
        units, embedder.embed(units["text"].tolist()), state, taxonomy, config, embedder,
        tokens, run_id, seed=1, refit=refit, is_new=is_new,
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
    chosen = row["representative_unit_ids"].split(",")
    assert len(chosen) == 2 and set(chosen) <= set(assignments["unit_id"].iloc[:12])
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


def _nightly(fake_embedder, taxonomy, refit=False, **settings):
    """A first run r1 on CORPUS (+ 'other' units), then the plan of run r2 with 3 new units.

    Returns what :func:`kept_assignments` needs and what assigning every unit gives.
    """
    old = pd.concat([_units(CORPUS), _units(["你好", "谢谢"], "other")], ignore_index=True)
    old["unit_id"] = [f"o{i}" for i in range(len(old))]
    first, state = _discover(old.assign(run_id="r1"), fake_embedder, taxonomy, run_id="r1")
    new = _units(["电池不耐用了", "掉色很严重啊", "在吗"]).assign(run_id="r2")
    new.loc[2, "category"] = "other"
    units = pd.concat([old.assign(run_id="r1"), new], ignore_index=True)
    is_new = (units["run_id"] == "r2").to_numpy()
    config = TopicConfig(**{"min_units": 10, "outlier_threshold": 0.3, **settings})
    embeddings = fake_embedder.embed(units["text"].tolist())
    plan = plan_topics(
        units, embeddings, state, taxonomy, config, fake_embedder,
        JiebaTokens(make_tokenizer(), []), "r2", seed=1, refit=refit, is_new=is_new,
    )  # fmt: skip
    every = assign_topics(
        embeddings, units["category"].to_numpy(), plan.centroids, config.outlier_threshold
    )
    return plan, units, is_new, first.assign(run_id="r1"), config, every


def test_old_units_keep_their_stored_topic_when_nothing_refits(
    keyword_topics, fake_embedder, taxonomy
):
    plan, units, is_new, stored, config, (every_ids, every_sim) = _nightly(fake_embedder, taxonomy)
    todo, topic_ids, similarity = kept_assignments(
        plan, units, is_new, stored, "r1", config, fake_embedder.model_id
    )
    # only the two new units of the category with topics are left to assign
    assert units.loc[todo, "text"].tolist() == ["电池不耐用了", "掉色很严重啊"]
    topic_ids[todo], similarity[todo] = assign_topics(
        fake_embedder.embed(units.loc[todo, "text"].tolist()),
        units.loc[todo, "category"].to_numpy(),
        plan.centroids,
        config.outlier_threshold,
    )
    # the same as assigning every unit again
    np.testing.assert_array_equal(topic_ids, every_ids)
    np.testing.assert_allclose(similarity, every_sim, rtol=1e-6)
    assert (topic_ids[units["category"] == "other"] == -1).all()


@pytest.mark.parametrize(
    "why", ["threshold changed", "last run without topics", "refitted", "nothing stored"]
)
def test_old_units_are_assigned_again_when_the_stored_topic_may_not_hold(
    why, keyword_topics, fake_embedder, taxonomy
):
    plan, units, is_new, stored, config, _ = _nightly(
        fake_embedder, taxonomy, refit=why == "refitted"
    )
    last_run = "r1"
    if why == "threshold changed":
        config = config.model_copy(update={"outlier_threshold": 0.4})
    elif why == "last run without topics":
        last_run = "r1b"  # a later run with topics off wrote no topic_runs rows
    elif why == "nothing stored":
        stored = stored.iloc[0:0]
    todo, _, _ = kept_assignments(
        plan, units, is_new, stored, last_run, config, fake_embedder.model_id
    )
    # every unit of the category with topics, old or new; never the 'other' units
    assert todo.tolist() == (units["category"] == "product_quality").tolist()


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


def test_a_category_whose_fit_found_no_topics_waits_for_enough_new_units(
    keyword_topics, fake_embedder, taxonomy, monkeypatch
):
    earlier = ["没有关键词的句子"] * 20
    _, state = _discover(_two_runs(earlier, []), fake_embedder, taxonomy, drift_min_units=3)
    fit = _KeywordTopicModel.fit

    def no_fit(*args, **kwargs):
        raise AssertionError("two new units: no refit of a category without topics")

    monkeypatch.setattr(_KeywordTopicModel, "fit", no_fit)
    units = _two_runs(earlier, ["也没有关键词"] * 2)
    _, state2 = _discover(units, fake_embedder, taxonomy, state, run_id="r2", drift_min_units=3)
    assert state2.runs.iloc[-1][["refit", "reason"]].tolist() == [False, "no drift"]
    monkeypatch.setattr(_KeywordTopicModel, "fit", fit)
    units = _two_runs(earlier, ["电池不耐用"] * 3)
    _, state3 = _discover(units, fake_embedder, taxonomy, state2, run_id="r2", drift_min_units=3)
    assert state3.runs.iloc[-1][["refit", "reason", "topics"]].tolist() == [
        True,
        "3 new units since a fit that found no topics",
        1,
    ]


class _OtherEmbedder(HashingEmbedder):
    model_id = "hashing-other"


def test_a_new_embedding_model_refits_saying_so(keyword_topics, fake_embedder, taxonomy):
    _, state = _discover(_units(CORPUS), fake_embedder, taxonomy)
    _, state2 = _discover(_units(CORPUS), _OtherEmbedder(), taxonomy, state, run_id="r2")
    row = state2.runs.iloc[-1]
    assert (row["refit"], row["embed_model"]) == (True, "hashing-other")
    assert row["reason"] == "embedding model changed (hashing-64 → hashing-other)"


def test_registry_keeps_history_of_fits_and_retirements(keyword_topics, fake_embedder, taxonomy):
    _, state = _discover(_units(CORPUS), fake_embedder, taxonomy, run_id="r1")
    texts = CORPUS[:12] + ["尺码偏小"] * 6 + ["尺码不标准"] * 6
    _, state = _discover(_units(texts), fake_embedder, taxonomy, state, refit=True, run_id="r2")
    topics = state.topics.set_index("topic_id")
    assert topics.loc[0, ["first_run_id", "last_run_id", "status"]].tolist() == [
        "r1",
        "r2",
        "active",
    ]
    assert pd.isna(topics.loc[0, "retired_run_id"])
    retired = topics.loc[1]
    assert (retired["status"], retired["retired_run_id"], retired["size"]) == ("retired", "r2", 0)
    assert retired["first_run_id"] == "r1" and retired["last_run_id"] == "r1"
    assert topics.loc[2, "first_run_id"] == "r2"
    runs = state.runs.set_index("run_id")
    assert runs.loc["r1", "reason"] == "first fit" and runs.loc["r2", "reason"] == "asked"
    assert runs["refit"].tolist() == [True, True]
    assert runs.loc["r2", "units"] == 24 and runs.loc["r2", "topics"] == 2
    assert refit_reasons(state, "r2") == {"product_quality": "asked"}


def test_topics_sit_under_their_subtopic_with_label_and_verbatims(
    keyword_topics, fake_embedder, taxonomy
):
    units = _units(CORPUS)
    units["subtopic"] = ["battery"] * 12 + ["colour_fading"] * 12
    assignments, state = _discover(units, fake_embedder, taxonomy)
    topics = state.topics.set_index("topic_id")
    battery = assignments["topic_id"].iloc[0]
    row = topics.loc[battery]
    # category -> subtopic -> topic, readable in the topics table itself
    assert (row["category"], row["subtopic"], row["subtopic_name"]) == (
        "product_quality",
        "battery",
        "电池/续航/发热",
    )
    assert row["label"] == "电池/续航/发热：电池"
    chosen = row["representative_unit_ids"].split(",")
    # only two distinct texts in the topic: one verbatim per text, no repeats
    assert len(chosen) == 2 and set(chosen) <= set(units["unit_id"].iloc[:12])
    assert outlier_share(assignments) == 0.0


def test_match_subtopic_prefers_unit_labels_then_keywords(taxonomy):
    category = taxonomy.category("product_quality")
    labelled = pd.Series(["smell", "smell", None, "battery"])
    assert match_subtopic(labelled, ["续航差"], category) == "smell"
    unlabelled = pd.Series([None, None, "smell"])
    assert match_subtopic(unlabelled, ["续航差", "发烫", "手机"], category) == "battery"
    assert match_subtopic(unlabelled, ["手机"], category) is None


def test_a_keyword_names_the_subtopic_only_from_the_top_three_by_rank(taxonomy):
    category = taxonomy.category("product_quality")
    # the audit's topic: 4 of 108 units about counterfeits, 假货 only the 10th keyword
    few = pd.Series(["counterfeit"] * 4 + [None] * 104)
    keywords = ["苹果", "个头", "洗发水", "一样", "没有", "一般", "垃圾", "裤子", "超市", "假货"]
    assert match_subtopic(few, keywords, category) is None
    # both in the top three: the better-ranked seed wins, not the taxonomy's order
    unlabelled = pd.Series([None] * 10)
    assert match_subtopic(unlabelled, ["手机", "续航差", "假货"], category) == "battery"
    assert match_subtopic(unlabelled, ["假货", "续航差", "手机"], category) == "counterfeit"


def test_topic_label_and_representatives():
    assert (
        topic_label(["续航", "没电", "充电", "手机"], "电池/续航/发热", 3)
        == "电池/续航/发热：续航·没电·充电"
    )
    assert topic_label([], None, 7) == "topic 7"
    similarity = np.array([0.9, 0.7, 0.2, 0.95, 0.8], np.float32)
    ids = np.array(["a", "b", "c", "d", "e"])
    texts = np.array(["x", "y", "z", "x", "w"])
    # nearest first, one unit per distinct text: d (x), then e (w), then b (y); a repeats x
    assert representatives(ids, texts, similarity, count=3) == ["d", "e", "b"]


def test_outlier_share_leaves_out_other():
    assignments = pd.DataFrame(
        {"topic_id": [1, -1, -1, -1], "category": ["logistics", "logistics", "other", "other"]}
    )
    assert outlier_share(assignments) == 0.5


def test_detect_drift_on_outlier_rise_or_similarity_drop():
    config = TopicConfig(drift_min_units=10, drift_outlier_rise=0.1, drift_similarity_drop=0.05)
    baseline = FitStats(outlier_share=0.10, mean_similarity=0.60)
    assert detect_drift(FitStats(0.15, 0.58), 100, baseline, config) == ""
    assert detect_drift(FitStats(0.25, 0.58), 100, baseline, config) == (
        "drift: 25.0% of 100 new units without a topic vs 10.0% at the last fit"
    )
    assert "mean similarity of 100 new units 0.500 vs 0.600" in detect_drift(
        FitStats(0.15, 0.50), 100, baseline, config
    )
    assert detect_drift(FitStats(0.90, 0.10), 9, baseline, config) == ""  # too few to judge


def _two_runs(earlier: list[str], new: list[str]) -> pd.DataFrame:
    units = _units(earlier + new)
    units["run_id"] = ["r1"] * len(earlier) + ["r2"] * len(new)
    return units


def test_new_units_of_known_themes_are_assigned_without_refit(
    keyword_topics, fake_embedder, taxonomy, monkeypatch
):
    first, state = _discover(_two_runs(CORPUS, []), fake_embedder, taxonomy, drift_min_units=3)

    def no_fit(*args, **kwargs):
        raise AssertionError("no drift: the category must not be refitted")

    monkeypatch.setattr(_KeywordTopicModel, "fit", no_fit)
    units = _two_runs(CORPUS, ["电池不耐用", "掉色很严重", "电池续航太短"])  # known themes
    assignments, state2 = _discover(
        units, fake_embedder, taxonomy, state, run_id="r2", drift_min_units=3
    )
    assert assignments["topic_id"].iloc[:24].tolist() == first["topic_id"].tolist()
    assert (assignments["topic_id"].iloc[24:] >= 0).all()
    row = state2.runs.iloc[-1]
    assert (row["run_id"], row["refit"], row["reason"]) == ("r2", False, "no drift")
    assert (row["new_units"], row["sample_size"], row["new_outlier_share"]) == (3, 0, 0.0)
    assert row["baseline_outlier_share"] == state.runs.iloc[0]["outlier_share"]
    assert refit_reasons(state2, "r2") == {}


def test_a_new_theme_among_new_units_is_drift_and_refits_keeping_old_ids(
    keyword_topics, fake_embedder, taxonomy
):
    first, state = _discover(_two_runs(CORPUS, []), fake_embedder, taxonomy, drift_min_units=5)
    units = _two_runs(CORPUS, ["尺码偏小"] * 6 + ["尺码不标准"] * 6)
    assignments, state2 = _discover(
        units, fake_embedder, taxonomy, state, run_id="r2", drift_min_units=5
    )
    row = state2.runs.iloc[-1]
    assert row["refit"] and row["reason"].startswith("drift: 100.0% of 12 new units")
    assert row["new_outlier_share"] == 1.0
    assert row["sample_size"] == int(36 * 0.8)  # a fifth is left out for the drift baseline
    assert assignments["topic_id"].iloc[:24].tolist() == first["topic_id"].tolist()
    assert (assignments["topic_id"].iloc[24:] == 2).all()  # the new theme, a new id
    assert set(state2.topics.loc[state2.topics["status"] == "active", "topic_id"]) == {0, 1, 2}
    assert refit_reasons(state2, "r2") == {"product_quality": row["reason"]}


def test_rebuild_in_config_refits_without_drift(keyword_topics, fake_embedder, taxonomy):
    _, state = _discover(_two_runs(CORPUS, []), fake_embedder, taxonomy)
    _, state2 = _discover(_two_runs(CORPUS, []), fake_embedder, taxonomy, state, run_id="r2",
                          rebuild=True)  # fmt: skip
    row = state2.runs.iloc[-1]
    assert (row["refit"], row["reason"], row["new_units"]) == (True, "asked", 0)


# --- the real BERTopic on a synthetic corpus (fake embedder, so still offline) --------

THEMES = {
    "battery": ["电池", "续航", "没电", "充电", "耗电", "电量", "充不满", "发烫"],
    "fading": ["掉色", "褪色", "洗了", "颜色", "染色", "发白", "变色", "色差"],
    "smell": ["异味", "臭味", "刺鼻", "味道", "甲醛", "塑料味", "难闻", "熏人"],
    "screen": ["屏幕", "黑屏", "花屏", "坏点", "亮点", "漏光", "闪屏", "屏裂"],
    "seams": ["线头", "开线", "做工", "开胶", "起球", "脱线", "毛边", "缝线"],
    "fake": ["假货", "高仿", "正品", "山寨", "翻新", "防伪", "专柜", "验货"],
}


def _themed_units(per_theme: int = 100) -> pd.DataFrame:
    """Clauses of three theme words and a common tail: six themes, seeded."""
    rng = np.random.default_rng(0)
    tails = ["太差了", "很失望", "不行", "真的", "怎么回事", "无语"]
    texts = [
        "".join(rng.choice(words, 3, replace=False)) + str(rng.choice(tails))
        for words in THEMES.values()
        for _ in range(per_theme)
    ]
    return _units(texts)


@pytest.fixture(scope="module")
def real_runs(taxonomy):
    """Fit on 90% twice (same seed), then 100%: nightly (assign) and forced refit."""
    embedder = HashingEmbedder()
    units = _themed_units()
    embeddings = embedder.embed(units["text"].tolist())
    new = np.zeros(len(units), dtype=bool)
    new[np.random.default_rng(1).choice(len(units), len(units) // 10, replace=False)] = True
    config = TopicConfig(min_topic_size=20, outlier_threshold=0.3)
    tokens = JiebaTokens(make_tokenizer(), taxonomy.stopwords)

    def run(rows, state=None, run_id="r1", refit=False):
        state = state or TopicState(empty("topics"), empty("topic_centroids"))
        return discover_topics(
            units[rows].reset_index(drop=True), embeddings[rows], state, taxonomy, config,
            embedder, tokens, run_id, seed=1, refit=refit, is_new=new[rows],
        )  # fmt: skip

    first, state = run(~new)
    return {
        "first": (first, state),
        "again": run(~new),
        "nightly": run(np.ones(len(units), bool), state, "r2"),
        "refit": run(np.ones(len(units), bool), state, "r3", refit=True),
    }


def _kept(before: pd.DataFrame, after: pd.DataFrame) -> float:
    """Share of units with a topic before that have the same topic id after."""
    old = before.set_index("unit_id")["topic_id"]
    old = old[old >= 0]
    return float((after.set_index("unit_id")["topic_id"].loc[old.index] == old).mean())


@pytest.mark.slow
def test_same_input_gives_identical_topics(real_runs):
    (first, state), (again, state_again) = real_runs["first"], real_runs["again"]
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(state.topics, state_again.topics)
    assert (first["topic_id"] >= 0).mean() > 0.85


@pytest.mark.slow
def test_ten_percent_new_data_keeps_earlier_units_on_their_ids(real_runs):
    first, _ = real_runs["first"]
    nightly, state = real_runs["nightly"]
    assert _kept(first, nightly) == 1.0  # no drift: assigned to the same centroids
    assert state.runs.iloc[-1][["refit", "reason", "new_units"]].tolist() == [
        False,
        "no drift",
        60,
    ]
    refitted, state = real_runs["refit"]
    assert _kept(first, refitted) >= 0.9  # a refit matched to the registry
    assert state.runs.iloc[-1]["refit"]


@pytest.mark.slow
def test_real_topics_have_subtopic_label_and_three_to_five_verbatims(real_runs):
    _, state = real_runs["first"]
    topics = state.topics[state.topics["status"] == "active"]
    assert 5 <= len(topics) <= 8  # six planted themes
    for row in topics.itertuples():
        assert 3 <= len(row.representative_unit_ids.split(",")) <= 5
        assert row.keywords and row.label
    # the planted themes are taxonomy subtopics; most topics find theirs
    found = set(topics["subtopic"].dropna())
    assert len(found & {"battery", "colour_fading", "smell", "workmanship", "counterfeit"}) >= 4
    named = topics.dropna(subset=["subtopic"])
    assert all(row.label.startswith(f"{row.subtopic_name}：") for row in named.itertuples())


def test_fit_sample_is_bounded_holds_out_and_survives_growth():
    ids = [f"u{i}" for i in range(1000)]
    small = fit_sample(ids, size=10_000, holdout_share=0.2)
    assert small.sum() == 800  # a small category: a fifth left out for the drift baseline
    bounded = fit_sample(ids, size=300, holdout_share=0.2)
    assert bounded.sum() == 300
    # the same units whatever the order they arrive in
    shuffled = list(reversed(ids))
    assert set(np.array(shuffled)[fit_sample(shuffled, 300, 0.2)]) == set(np.array(ids)[bounded])
    # 10% more units: most of the earlier sample is chosen again
    grown = ids + [f"n{i}" for i in range(100)]
    again = set(np.array(grown)[fit_sample(grown, 300, 0.2)])
    assert len(again & set(np.array(ids)[bounded])) >= 0.85 * 300


def test_a_category_of_only_stop_words_or_numbers_gets_no_topics_and_the_run_goes_on(
    fake_embedder, taxonomy
):
    # the real model: BERTopic's CountVectorizer raises "empty vocabulary" on such text
    units = _units([f"{i}号{i * 7}" for i in range(40)])
    assignments, state = _discover(units, fake_embedder, taxonomy)
    assert (assignments["topic_id"] == -1).all()
    assert state.topics.empty
    row = state.runs.set_index("category").loc["product_quality"]
    assert (row["refit"], row["topics"], row["units"]) == (False, 0, 40)
    assert row["reason"] == "first fit; no words left after the stop words, no topics"
