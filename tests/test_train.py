from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.contract import CATEGORIES as LABELS_CATEGORIES
from tests.contract import POLARITIES as LABELS_POLARITIES
from tests.fakes import HashingEmbedder
from voc.clean import TextCleaner
from voc.config import CleanConfig
from voc.embed import text_sha1
from voc.errors import ColumnError, InputFileError, ModelError
from voc.labels import FIXED_POLARITY, nothing_said
from voc.train import (
    CorpusUnits,
    is_reference_file,
    train,
    training_frame,
    unlabelled_texts,
)

SOURCES = ["shopping:0:0", "waimai:5:0", "jddc:1", "ecd:0:1"]
CATEGORIES = ["other", "other", "logistics", "product_need"]
POLARITIES = ["neutral", "positive", "negative", "neutral"]


@pytest.fixture(scope="module")
def corpora(taxonomy, shared_data):
    return CorpusUnits(shared_data, TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate))


@pytest.fixture
def references(tmp_path, corpora):
    rows = [
        (source, text_sha1(corpora.text(source)), category, polarity)
        for source, category, polarity in zip(SOURCES, CATEGORIES, POLARITIES, strict=True)
    ]
    path = tmp_path / "refs.csv"
    pd.DataFrame(rows, columns=["source", "text_sha1", "category", "polarity"]).to_csv(
        path, index=False
    )
    return path


def test_units_follow_the_voc_dev_numbering(corpora, shared_data):
    dev = pd.read_csv(shared_data / "labelled" / "voc_dev.csv", keep_default_na=False)
    chats = dev[dev["source"].str.match(r"^(jddc|ecd):")]
    for source, text in zip(chats["source"], chats["text"], strict=True):
        assert corpora.text(source) == corpora.cleaner.normalise(text), source
    assert corpora.units("jddc", 2) == []  # line 2 is an agent turn: not a unit
    review = corpora.units("shopping", 0)
    assert len(review) > 1 and all(review)  # a review is cut into clauses


def test_references_resolve_to_their_text(references, taxonomy, shared_data, corpora):
    assert is_reference_file(references)
    data = training_frame([references], taxonomy, exemplars=False, data_dir=shared_data)
    assert data["source"].tolist() == SOURCES
    assert data["text"].tolist() == [corpora.text(s) for s in SOURCES]
    assert data["category"].tolist() == CATEGORIES


def test_a_changed_text_is_named_by_file_row_and_field(references, taxonomy, shared_data):
    frame = pd.read_csv(references)
    frame.loc[2, "text_sha1"] = "0" * 40
    frame.loc[3, "source"] = "ecd:0:999"
    frame.to_csv(references, index=False)
    with pytest.raises(InputFileError, match=r"refs.csv: row 3: text_sha1: jddc:1 .*\(2 bad rows"):
        training_frame([references], taxonomy, exemplars=False, data_dir=shared_data)


@pytest.mark.parametrize("source", ["amazon:1:0", "shopping:x:0", "shopping:1:2:3"])
def test_a_malformed_source_is_refused(source, corpora):
    with pytest.raises(ValueError, match="name:row"):
        corpora.text(source)


def test_missing_public_data_is_a_clear_error(references, taxonomy, tmp_path):
    with pytest.raises(InputFileError, match="corpus not found"):
        training_frame([references], taxonomy, exemplars=False, data_dir=tmp_path / "nowhere")


def test_training_on_a_holdout_row_is_refused(tmp_path, taxonomy, shared_data, corpora):
    dev = pd.read_csv(shared_data / "labelled" / "voc_dev.csv", keep_default_na=False)
    source = dev["source"][dev["source"].str.startswith("jddc:")].iloc[0]
    path = tmp_path / "leaky.csv"
    pd.DataFrame(
        [(source, text_sha1(corpora.text(source)), "other", "neutral")],
        columns=["source", "text_sha1", "category", "polarity"],
    ).to_csv(path, index=False)
    holdout = shared_data / "labelled" / "voc_dev.csv"
    with pytest.raises(ModelError, match="holdout"):
        train([path], taxonomy, HashingEmbedder(), holdout=[holdout], data_dir=shared_data)


def test_training_records_the_corpus_hashes(references, taxonomy, shared_data):
    model = train(
        [references], taxonomy, HashingEmbedder(), data_dir=shared_data, finetune_epochs=0
    )
    assert {"refs.csv", "online_shopping_10_cats.csv", "jddc_chat_sample.tsv"} <= set(
        model.data_hashes_
    )
    assert all(len(digest) == 64 for digest in model.data_hashes_.values())


def test_unlabelled_units_are_read_normalised_and_blank_ones_dropped(taxonomy, tmp_path):
    path = tmp_path / "pool.csv"
    pd.DataFrame({"text": ["  物流太慢了 ", "", "ｎｉｃｅ", "   "], "id": [1, 2, 3, 4]}).to_csv(
        path, index=False
    )
    cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
    assert unlabelled_texts(path, taxonomy) == [cleaner.normalise("物流太慢了"), "nice"]


def test_an_unlabelled_file_without_text_is_named(taxonomy, tmp_path):
    path = tmp_path / "pool.csv"
    pd.DataFrame({"review": ["物流太慢了"]}).to_csv(path, index=False)
    with pytest.raises(ColumnError, match=r"pool\.csv: needs columns \['text'\]"):
        unlabelled_texts(path, taxonomy)


@pytest.mark.parametrize(
    "name", ["authored_units.csv", "authored_taobao_units.csv", "authored_review_units.csv"]
)
def test_the_authored_training_files_are_valid_training_data(name, taxonomy):
    path = Path(__file__).resolve().parents[1] / "taxonomies" / "training" / name
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(raw.columns) == ["text", "category", "polarity", "domain", "kind"]
    assert raw["text"].is_unique and (raw["text"].str.len() > 0).all()
    assert set(raw["kind"]) <= {"review", "chat"}
    units = training_frame([path], taxonomy, exemplars=False)
    # only units with nothing said (emoji-only turns) may normalise to nothing
    assert len(units) >= len(raw) - nothing_said(raw["text"].tolist()).sum()
    assert set(units["category"]) <= LABELS_CATEGORIES
    assert set(units["polarity"]) <= LABELS_POLARITIES
    for category, polarity in FIXED_POLARITY.items():
        assert (units.loc[units["category"] == category, "polarity"] == polarity).all(), category
