from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.contract import CATEGORIES, POLARITIES
from voc.labels import PrototypeClassifier, extract_attributes, fix_polarity, label_units


@pytest.fixture
def classifier(taxonomy, fake_embedder):
    return PrototypeClassifier(taxonomy, fake_embedder).fit()


def _predict(classifier, texts):
    return classifier.predict(texts, classifier.embedder.embed(texts))


def test_fit_sets_learned_state_only(taxonomy, fake_embedder):
    model = PrototypeClassifier(taxonomy, fake_embedder, top_k=2)
    assert not hasattr(model, "prototypes_")
    assert model.fit() is model
    assert model.prototypes_.shape[0] == len(model.prototype_category_)
    assert set(model.categories_) == CATEGORIES


def test_labels_are_from_labels_md(classifier):
    texts = [
        "用了两天就坏了",
        "这款有大码吗",
        "优惠券用不了",
        "物流太慢了",
        "客服态度很差",
        "音质很好",
        "谢谢",
    ]
    labels = _predict(classifier, texts)
    assert set(labels.category) <= CATEGORIES
    assert set(labels.polarity) <= POLARITIES
    assert ((labels.confidence > 0) & (labels.confidence <= 1)).all()


def test_seed_words_decide_clear_cases(classifier):
    # With a meaningless embedder, the seed words alone must carry these.
    labels = _predict(classifier, ["优惠券用不了", "赠品没收到", "退款一直不处理"])
    assert list(labels.category) == ["campaign_issue", "campaign_issue", "service"]


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "!!!", "12345"])
def test_nothing_said_is_other(classifier, text):
    labels = _predict(classifier, [text])
    assert labels.category[0] == "other"
    assert labels.confidence[0] == pytest.approx(1.0)


def test_english_and_long_text_get_a_label(classifier):
    texts = ["The battery died after two days", "质量很好" * 500]
    labels = _predict(classifier, texts)
    assert set(labels.category) <= CATEGORIES


def test_fix_polarity_applies_the_labels_md_rule():
    category = np.array(["product_quality", "selling_point", "logistics"], dtype=object)
    polarity = np.array(["positive", "negative", "negative"], dtype=object)
    assert list(fix_polarity(category, polarity)) == ["negative", "positive", "negative"]


def test_prediction_fixes_the_lexicon_polarity(classifier):
    # The lexicon reads 好 as positive; a product quality problem is negative all the same.
    classifier.predict_proba = lambda t, e: _one_hot(classifier, "product_quality", len(t))
    labels = _predict(classifier, ["好"])
    assert (labels.category[0], labels.polarity[0]) == ("product_quality", "negative")


def _one_hot(model, category, rows, other=0.0):
    proba = np.zeros((rows, len(model.categories_)), dtype=np.float32)
    proba[:, list(model.categories_).index("other")] = other
    proba[:, list(model.categories_).index(category)] = 1.0 - other
    return proba


@pytest.mark.parametrize(("other", "expected"), [(0.55, "product_quality"), (0.6, "other")])
def test_priority_breaks_near_ties(classifier, other, expected):
    # product_quality outranks other: it wins while within 0.15 of other's probability.
    classifier.predict_proba = lambda t, e: _one_hot(classifier, "product_quality", 1, other)
    assert _predict(classifier, ["x"]).category[0] == expected


@pytest.mark.parametrize(
    ("text", "attribute", "value"),
    [
        ("有XL的吗，我身高180", "size", "XL"),
        ("这个是纯棉的吗", "material", None),
        ("生产日期是哪天", "production_date", None),
    ],
)
def test_attributes(taxonomy, text, attribute, value):
    attributes, values = extract_attributes([text], taxonomy)
    assert attributes[0] == attribute
    if value is not None:
        assert values[0] == value


def test_label_units_adds_columns(classifier):
    units = pd.DataFrame({"unit_id": ["a", "b"], "text": ["物流太慢了", "有大码吗"]})
    out = label_units(units, classifier.embedder.embed(units["text"].tolist()), classifier)
    for column in (
        "category",
        "polarity",
        "confidence",
        "subtopic",
        "attribute",
        "attribute_value",
    ):
        assert column in out.columns
    assert len(out) == 2
    assert "category" not in units.columns  # input untouched


def test_label_units_on_no_units(classifier):
    units = pd.DataFrame({"unit_id": pd.Series(dtype=object), "text": pd.Series(dtype=object)})
    out = label_units(units, np.zeros((0, 64), dtype=np.float32), classifier)
    assert out.empty
    assert "category" in out.columns


def test_label_units_in_batches_matches_one_batch(classifier):
    texts = ["物流太慢了", "有大码吗", "质量很好", "优惠券用不了", "谢谢", "屏幕坏了", "发票呢"]
    units = pd.DataFrame({"unit_id": [str(i) for i in range(len(texts))], "text": texts})
    vectors = classifier.embedder.embed(texts)
    whole = label_units(units, vectors, classifier)
    batched = label_units(units, vectors, classifier, batch_size=3)
    pd.testing.assert_frame_equal(whole, batched)
