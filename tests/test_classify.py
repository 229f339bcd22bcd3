from __future__ import annotations

import pandas as pd
import pytest

from voc.classify import CLASSIFIERS, build_classifier, classify_file, classify_texts
from voc.config import DEFAULT_TAXONOMY
from voc.embed import EMBEDDERS
from voc.errors import InputFileError


@pytest.fixture
def default_model_is_fake(monkeypatch, fake_embedder):
    """``classify_file`` builds the default model: make it the hashing embedder and prototypes."""
    monkeypatch.setitem(EMBEDDERS, "use-multilingual", lambda config, argument: fake_embedder)
    monkeypatch.setitem(CLASSIFIERS, "auto", CLASSIFIERS["prototype"])


def test_bad_rows_are_an_input_error_naming_the_file_and_the_first_row(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("id,text\n1,好\n2,坏,多余\n3,慢\n4\n", encoding="utf-8")
    with pytest.raises(InputFileError) as error:
        classify_file(data, "text", tmp_path / "out.csv", DEFAULT_TAXONOMY)
    assert error.value.message == f"{data}: row 3: expected 2 fields, found 3 (2 bad rows in all)"
    assert not (tmp_path / "out.csv").exists()


def test_label_columns_in_the_input_are_kept_as_input_columns(tmp_path, default_model_is_fake):
    texts = ["用了两天就坏了", "物流太慢了", "这款有大码吗"]
    data = tmp_path / "in.csv"
    pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "text": texts,
            "category": ["service", "service", "other"],
            "polarity": ["positive", "positive", "positive"],
            "confidence": ["0.9", "0.8", "0.7"],
        }
    ).to_csv(data, index=False)
    output = tmp_path / "out" / "labelled.csv"
    assert classify_file(data, "text", output, DEFAULT_TAXONOMY) == 3
    labelled = pd.read_csv(output, dtype=str)
    assert list(labelled.columns) == [
        "id", "text", "category_input", "polarity_input", "confidence_input",
        "category", "polarity", "confidence",
    ]  # fmt: skip
    assert labelled["category_input"].tolist() == ["service", "service", "other"]
    assert labelled["polarity_input"].tolist() == ["positive", "positive", "positive"]
    assert labelled["confidence_input"].tolist() == ["0.9", "0.8", "0.7"]
    expected = classify_texts(texts, build_classifier(DEFAULT_TAXONOMY))
    got = labelled[["category", "polarity", "confidence"]].astype({"confidence": float})
    # the model's own labels, not the input's
    assert got["category"].tolist() == ["product_quality", "logistics", "product_need"]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_an_unwritable_output_is_an_error_naming_the_path(tmp_path, default_model_is_fake):
    data = tmp_path / "in.csv"
    pd.DataFrame({"text": ["物流太慢了"]}).to_csv(data, index=False)
    output = tmp_path / "taken"
    output.mkdir()  # a folder where the CSV should go
    with pytest.raises(InputFileError) as error:
        classify_file(data, "text", output, DEFAULT_TAXONOMY)
    assert error.value.message == f"{output}: cannot write: Is a directory"
