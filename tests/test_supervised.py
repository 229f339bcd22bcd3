from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.contract import CATEGORIES, POLARITIES
from tests.fakes import HashingEmbedder
from voc.classify import from_config
from voc.config import LabelConfig
from voc.errors import ModelError
from voc.finetune import FineTunedClassifier
from voc.labels import PrototypeClassifier
from voc.supervised import SupervisedClassifier
from voc.train import exemplar_units, train

UNITS = [
    ("用了两天就坏了", "product_quality", "negative"),
    ("屏幕有坏点", "product_quality", "negative"),
    ("物流太慢了", "logistics", "negative"),
    ("快递很快，第二天就到了", "logistics", "positive"),
    ("什么时候发货", "logistics", "neutral"),
    ("优惠券用不了", "campaign_issue", "negative"),
    ("有赠品吗", "campaign_issue", "neutral"),
    ("这款有大码吗", "product_need", "neutral"),
    ("客服态度很差", "service", "negative"),
    ("可以开发票吗", "service", "neutral"),
    ("音质很好", "selling_point", "positive"),
    ("好的谢谢", "other", "neutral"),
    ("好评", "other", "positive"),
]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    path = tmp_path_factory.mktemp("units") / "labelled.csv"
    pd.DataFrame(UNITS, columns=["text", "category", "polarity"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model(labelled, taxonomy):
    """Two fine-tuned USE encoders, trained once for the module; tests must not change it."""
    return train([labelled], taxonomy, HashingEmbedder(), finetune_base="use")


@pytest.fixture(scope="module")
def m3e_model(labelled, taxonomy):
    """The default recipe, as `make model` trains it (one fine-tuned m3e-small), one epoch."""
    return train([labelled], taxonomy, HashingEmbedder(), finetune_epochs=1)


def test_train_uses_files_and_exemplars_and_records_hashes(model, labelled, taxonomy):
    assert model.n_train_ == len(UNITS) + len(exemplar_units(taxonomy))
    assert list(model.data_hashes_) == ["labelled.csv"]
    assert len(model.data_hashes_["labelled.csv"]) == 64
    assert set(model.category_model_.classes_) == CATEGORIES
    assert set(model.polarity_model_.classes_) == POLARITIES


def test_predictions_use_labels_md_and_fixed_polarities(model):
    texts = ["用了两天就坏了", "音质很好", "这款有大码吗", "", "😀"]
    labels = model.predict(texts, model.embedder.embed(texts))
    assert set(labels.category) <= CATEGORIES and set(labels.polarity) <= POLARITIES
    assert labels.category[0] == "product_quality" and labels.polarity[0] == "negative"
    assert labels.category[3] == "other" and labels.category[4] == "other"
    assert ((labels.confidence > 0) & (labels.confidence <= 1)).all()


def test_save_and_load_give_the_same_predictions(model, taxonomy, tmp_path):
    model.save(tmp_path / "m")
    assert (
        json.loads((tmp_path / "m" / "model.json").read_text())["data_sha256"] == model.data_hashes_
    )
    loaded = SupervisedClassifier.load(tmp_path / "m", taxonomy, model.embedder)
    assert loaded.word_vectorizer_.vocabulary_ == model.word_vectorizer_.vocabulary_
    texts = [t for t, _, _ in UNITS] + ["质量很差，物流也慢"]
    vectors = model.embedder.embed(texts)
    a, b = model.predict(texts, vectors), loaded.predict(texts, vectors)
    assert list(a.category) == list(b.category) and list(a.polarity) == list(b.polarity)
    # the fine-tuned encoders are saved with int8 matrices
    np.testing.assert_allclose(a.confidence, b.confidence, atol=0.02)


def test_the_fine_tuned_encoders_are_saved_with_the_regression(model, taxonomy, tmp_path):
    assert len(model.finetuned_) == 2
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["format_version"] == 6
    assert meta["finetune"] == {
        "base": "use",
        "epochs": model.finetune_epochs,
        "seeds": [42, 7],
        "weight": 0.5,
    }
    with np.load(tmp_path / "m" / "model.npz") as arrays:
        for i in (0, 1):
            encoder = [k for k in arrays.files if k.startswith(f"finetune{i}.encoder.")]
            assert f"finetune{i}.encoder.cnn_W" in encoder
            assert f"finetune{i}.category_head.weight" in arrays
            # matrices as int8 with their column scales, vectors as float16
            assert arrays[f"finetune{i}.encoder.cnn_W"].dtype == np.int8
            assert arrays[f"finetune{i}.encoder.cnn_W@scale"].dtype == np.float16
            assert arrays[f"finetune{i}.encoder.cnn_b"].dtype == np.float16
        first, second = arrays["finetune0.encoder.cnn_W"], arrays["finetune1.encoder.cnn_W"]
        assert not np.array_equal(first, second)  # two seeds, two encoders


def test_the_default_recipe_saves_one_m3e_encoder_without_its_word_table(
    m3e_model, taxonomy, tmp_path
):
    assert len(m3e_model.finetuned_) == 1 and m3e_model.finetuned_[0].base == "m3e-small"
    m3e_model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["finetune"] == {"base": "m3e-small", "epochs": 1, "seeds": [42], "weight": 0.5}
    with np.load(tmp_path / "m" / "model.npz") as arrays:
        assert (
            arrays["finetune0.encoder.bert.encoder.layer.0.attention.self.query.weight"].dtype
            == np.int8
        )
        assert not any("word_embeddings" in k for k in arrays.files)
    loaded = SupervisedClassifier.load(tmp_path / "m", taxonomy, m3e_model.embedder)
    assert loaded.finetuned_[0].base == "m3e-small" and loaded.name == m3e_model.name
    texts = [t for t, _, _ in UNITS] + ["质量很差，物流也慢"]
    vectors = m3e_model.embedder.embed(texts)
    a, b = m3e_model.predict(texts, vectors), loaded.predict(texts, vectors)
    assert list(a.category) == list(b.category) and list(a.polarity) == list(b.polarity)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=0.02)


def test_the_encoders_probabilities_are_averaged_then_weighted(model):
    texts = [t for t, _, _ in UNITS]
    vectors = model.embedder.embed(texts)
    parts = [encoder.predict_proba(texts)[0] for encoder in model.finetuned_]
    regression = model.category_model_.predict_proba(model._features(texts, vectors))
    expected = (regression + np.mean(parts, axis=0)) / 2  # weight 0.5
    assert not np.allclose(parts[0], parts[1])
    confidence = model.predict(texts, vectors).confidence
    said = confidence < 1.0  # units where nothing is said get confidence 1
    np.testing.assert_allclose(confidence[said], expected.max(axis=1)[said], rtol=1e-5)


def test_self_training_trains_the_first_encoder_again_on_confident_labels(taxonomy):
    texts, categories, polarities = (list(column) for column in zip(*UNITS, strict=True))
    pool = ["屏幕碎了", "快递三天才到", "有没有优惠券", "好评", "", "屏幕碎了"]

    def fitted(unlabelled=None):
        model = SupervisedClassifier(
            taxonomy,
            HashingEmbedder(),
            finetune_base="use",
            finetune_epochs=1,
            self_training_confidence=0.2,
        )
        return model.fit(texts, categories, polarities, unlabelled=unlabelled)

    teacher, student = fitted(), fitted(pool)
    new = ["屏幕碎了", "快递三天才到", "有没有优惠券"]  # repeats, labelled texts and "" left out
    labels = teacher.predict(new, teacher.embedder.embed(new))
    keep = labels.confidence >= 0.2
    assert student.finetune_recipe_["self_training"] == {
        "unlabelled": 3, "kept": int(keep.sum()), "min_confidence": 0.2, "student_seed": 42,
    }  # fmt: skip
    assert keep.any()
    # the student is the first seed's encoder trained on the labelled and the kept units
    expected = FineTunedClassifier(
        teacher.category_model_.classes_, teacher.polarity_model_.classes_, epochs=1, seed=42
    ).fit(
        texts + [t for t, k in zip(new, keep, strict=True) if k],
        categories + list(labels.category[keep]),
        polarities + list(labels.polarity[keep]),
    )
    np.testing.assert_allclose(
        student.finetuned_[0].predict_proba(texts)[0], expected.predict_proba(texts)[0], atol=1e-6
    )
    weights = student.finetuned_[0].arrays(np.float32)["category_head.weight"]
    assert not np.array_equal(
        weights, teacher.finetuned_[0].arrays(np.float32)["category_head.weight"]
    )
    # the second encoder and the regression are the teacher's
    np.testing.assert_array_equal(
        student.finetuned_[1].predict_proba(texts)[0], teacher.finetuned_[1].predict_proba(texts)[0]
    )
    np.testing.assert_array_equal(student.category_model_.coef_, teacher.category_model_.coef_)


def test_a_model_of_format_3_with_one_encoder_still_loads(labelled, taxonomy, tmp_path):
    one = train([labelled], taxonomy, HashingEmbedder(), finetune_epochs=1, finetune_base="use")
    one.finetune_seeds = (42,)
    one.finetuned_ = one.finetuned_[:1]
    one.save(tmp_path / "m")
    # rewrite it as format 3 wrote it: one encoder under "finetune.", no seeds, no base
    with np.load(tmp_path / "m" / "model.npz") as saved:
        arrays = {k.replace("finetune0.", "finetune.", 1): saved[k] for k in saved.files}
    np.savez_compressed(tmp_path / "m" / "model.npz", **arrays)
    path = tmp_path / "m" / "model.json"
    meta = json.loads(path.read_text())
    del meta["finetune"]["seeds"], meta["finetune"]["base"]
    path.write_text(json.dumps({**meta, "format_version": 3}))
    loaded = SupervisedClassifier.load(tmp_path / "m", taxonomy, one.embedder)
    assert len(loaded.finetuned_) == 1
    texts = [t for t, _, _ in UNITS]
    vectors = one.embedder.embed(texts)
    np.testing.assert_allclose(
        loaded.predict(texts, vectors).confidence, one.predict(texts, vectors).confidence, atol=0.02
    )


def test_a_model_of_format_4_with_float16_encoders_still_loads(model, taxonomy, tmp_path):
    model.save(tmp_path / "m")
    # rewrite it as format 4 wrote it: every encoder weight float16, no scales, no base
    with np.load(tmp_path / "m" / "model.npz") as saved:
        arrays = {k: saved[k] for k in saved.files if not k.endswith("@scale")}
        for k in arrays:
            if arrays[k].dtype == np.int8:
                arrays[k] = (arrays[k] * saved[k + "@scale"].astype(np.float32)).astype(np.float16)
    np.savez_compressed(tmp_path / "m" / "model.npz", **arrays)
    path = tmp_path / "m" / "model.json"
    meta = json.loads(path.read_text())
    del meta["finetune"]["base"]
    path.write_text(json.dumps({**meta, "format_version": 4}))
    loaded = SupervisedClassifier.load(tmp_path / "m", taxonomy, model.embedder)
    assert len(loaded.finetuned_) == len(model.finetuned_)
    texts = [t for t, _, _ in UNITS]
    vectors = model.embedder.embed(texts)
    a, b = model.predict(texts, vectors), loaded.predict(texts, vectors)
    assert list(a.category) == list(b.category)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=0.02)


def test_config_can_leave_the_fine_tuned_encoder_out(model, taxonomy, tmp_path):
    model.save(tmp_path / "m")
    on = from_config(taxonomy, model.embedder, LabelConfig(model_dir=str(tmp_path / "m")))
    off = from_config(
        taxonomy, model.embedder, LabelConfig(model_dir=str(tmp_path / "m"), finetuned=False)
    )
    assert len(on.finetuned_) == 2 and off.finetuned_ == []
    # runs.classifier tells which model labelled, and with how many encoders
    assert re.fullmatch(r"supervised-v1\+ft2-[0-9a-f]{8}", model.name)
    assert on.name == model.name and off.name == model.name.replace("+ft2-", "+ft0-")
    on.finetune_weight = 0.0  # the regression's probabilities alone
    texts = [t for t, _, _ in UNITS]
    vectors = model.embedder.embed(texts)
    np.testing.assert_allclose(
        off.predict(texts, vectors).confidence, on.predict(texts, vectors).confidence, rtol=1e-6
    )


def test_a_model_trained_on_other_data_has_another_name(model, taxonomy, tmp_path):
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    meta["data_sha256"] = {"labelled.csv": "0" * 64}
    (tmp_path / "m" / "model.json").write_text(json.dumps(meta))
    other = SupervisedClassifier.load(tmp_path / "m", taxonomy, model.embedder)
    assert other.name.startswith("supervised-v1+ft2-") and other.name != model.name


def test_a_regression_only_model_of_format_2_still_loads(taxonomy, tmp_path):
    texts = [t for t, _, _ in UNITS]
    model = SupervisedClassifier(taxonomy, HashingEmbedder(), finetune_epochs=0).fit(
        texts, [c for _, c, _ in UNITS], [p for _, _, p in UNITS]
    )
    assert model.finetuned_ == []
    model.save(tmp_path / "m")
    path = tmp_path / "m" / "model.json"
    meta = json.loads(path.read_text())
    del meta["finetune"]
    path.write_text(json.dumps({**meta, "format_version": 2}))
    loaded = SupervisedClassifier.load(tmp_path / "m", taxonomy, model.embedder)
    assert loaded.finetuned_ == []
    vectors = model.embedder.embed(texts)
    assert list(loaded.predict(texts, vectors).category) == list(
        model.predict(texts, vectors).category
    )


def test_word_ngrams_are_jieba_words_and_word_pairs(model):
    analyse = model.word_vectorizer_.build_analyzer()
    assert analyse("物流太慢了") == ["物流", "太慢", "了", "物流 太慢", "太慢 了"]
    vocabulary = model.word_vectorizer_.vocabulary_
    assert {"物流", "客服", "优惠券", "物流 太慢"} <= set(vocabulary)
    # a word pair seen in one training unit only is left out (min_df)
    assert "有 坏点" not in vocabulary and "坏点" in vocabulary
    # character block, then word block, then embedding, prototype scores and lexicon (2)
    n_chars = len(model.vectorizer_.vocabulary_)
    n_dense = model.embedder.dimension + len(CATEGORIES) + 2
    features = model._features(["物流太慢了"], model.embedder.embed(["物流太慢了"]))
    assert features.shape[1] == n_chars + len(vocabulary) + n_dense
    assert features[0, n_chars + vocabulary["物流 太慢"]] > 0
    assert features[0, n_chars + vocabulary["优惠券"]] == 0


def test_character_only_model_saves_and_loads(taxonomy, tmp_path):
    texts = [t for t, _, _ in UNITS]
    model = SupervisedClassifier(
        taxonomy, HashingEmbedder(), word_ngram_range=None, finetune_epochs=0
    ).fit(texts, [c for _, c, _ in UNITS], [p for _, _, p in UNITS])
    assert model.word_vectorizer_ is None
    model.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["word_ngram_range"] is None and meta["word_vocabulary"] is None
    loaded = SupervisedClassifier.load(tmp_path / "m", taxonomy, model.embedder)
    assert loaded.word_vectorizer_ is None
    vectors = model.embedder.embed(texts)
    assert list(loaded.predict(texts, vectors).category) == list(
        model.predict(texts, vectors).category
    )


def test_model_of_an_older_format_is_refused(model, taxonomy, tmp_path):
    model.save(tmp_path / "m")
    path = tmp_path / "m" / "model.json"
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "format_version": 1}))
    with pytest.raises(ModelError, match="retrain"):
        SupervisedClassifier.load(tmp_path / "m", taxonomy, model.embedder)


def test_model_for_another_embedder_is_refused(model, taxonomy, tmp_path):
    model.save(tmp_path / "m")

    class Other(HashingEmbedder):
        model_id = "other"

    with pytest.raises(ModelError, match="Retrain"):
        SupervisedClassifier.load(tmp_path / "m", taxonomy, Other())


def test_unknown_category_in_training_data_is_refused(taxonomy, tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame([("好", "weather", "neutral")], columns=["text", "category", "polarity"]).to_csv(
        path, index=False
    )
    with pytest.raises(ModelError, match="weather"):
        train([path], taxonomy, HashingEmbedder())


def test_auto_uses_a_saved_model_and_falls_back_to_prototypes(model, taxonomy, tmp_path):
    model.save(tmp_path / "m")
    chosen = from_config(taxonomy, model.embedder, LabelConfig(model_dir=str(tmp_path / "m")))
    assert isinstance(chosen, SupervisedClassifier)
    fallback = from_config(taxonomy, model.embedder, LabelConfig(model_dir=str(tmp_path / "none")))
    assert isinstance(fallback, PrototypeClassifier)
    forced = from_config(
        taxonomy, model.embedder, LabelConfig(classifier="prototype", model_dir=str(tmp_path / "m"))
    )
    assert isinstance(forced, PrototypeClassifier)


def test_weak_data_leaves_out_the_holdout_rows(labelled, taxonomy, shared_data, monkeypatch):
    import voc.train

    seen = {}
    real = voc.train.weak_polarity_units

    def spy(data_dir, exclude, **kwargs):
        seen["exclude"] = exclude
        return real(data_dir, exclude, per_source=100, seed=1)

    monkeypatch.setattr(voc.train, "weak_polarity_units", spy)
    dev = shared_data / "labelled" / "voc_dev.csv"
    model = train(
        [labelled],
        taxonomy,
        HashingEmbedder(),
        weak_data=shared_data,
        holdout=[dev],
        finetune_epochs=0,
    )
    assert {"shopping", "jddc", "ecd", "waimai"} <= set(seen["exclude"])
    assert 1576 in seen["exclude"]["shopping"]  # a row voc_dev draws from
    assert {"labelled.csv", "voc_dev.csv", "online_shopping_10_cats.csv"} <= set(model.data_hashes_)
    assert model.n_train_ > len(UNITS) + 250  # weak units were added


def test_shipped_classifier_with_the_real_embedder_pickles_for_dask_workers(taxonomy):
    """The flow's label step may run on a Dask worker: the classifier travels by pickle.

    The loaded USE model (ctypes) and the jieba tokenizer (a lock) do not pickle;
    both are left out of the copy and rebuilt on first use where it lands.
    """
    import cloudpickle

    from voc.config import EmbedConfig
    from voc.embed import build_embedder

    classifier = from_config(taxonomy, build_embedder(EmbedConfig(threads=1)), LabelConfig())
    assert isinstance(classifier, SupervisedClassifier)
    texts = ["质量很好", "物流太慢了", "有没有XL码", "优惠券用不了"]
    vectors = classifier.embedder.embed(texts)  # the model is loaded before pickling
    copy = cloudpickle.loads(cloudpickle.dumps(classifier))
    here, there = classifier.predict(texts, vectors), copy.predict(texts, vectors)
    assert list(here.category) == list(there.category)
    assert list(here.polarity) == list(there.polarity)
    np.testing.assert_allclose(copy.embedder.embed(texts), vectors, atol=1e-6)
