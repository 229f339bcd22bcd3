from __future__ import annotations

import pandas as pd
import pytest

from voc.errors import ColumnError
from voc.evaluate import alternatives_summary, read_labelled, score, with_alternatives

CATS = ["product_quality", "logistics", "other"]


def test_score_per_category_and_macro():
    gold = ["product_quality", "product_quality", "logistics", "other"]
    pred = ["product_quality", "logistics", "logistics", "other"]
    result = score(
        gold, pred, ["negative"] * 4, ["negative", "negative", "neutral", "negative"], CATS
    )
    quality = result.per_category.loc["product_quality"]
    assert quality["precision"] == 1.0 and quality["recall"] == 0.5
    assert result.per_category.loc["logistics", "precision"] == 0.5
    assert result.macro_f1 == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert result.category_accuracy == 0.75
    assert result.polarity_accuracy == 0.75
    assert result.confusion.loc["product_quality", "logistics"] == 1
    assert set(result.to_dict()) >= {"macro_f1", "per_category", "confusion", "polarity_accuracy"}


def test_a_category_never_seen_counts_as_zero_in_macro_f1():
    result = score(["other"], ["other"], ["neutral"], ["neutral"], CATS)
    assert result.macro_f1 == pytest.approx(1 / 3)


def test_an_alternative_category_counts_only_where_it_was_predicted():
    gold = ["product_quality", "logistics", "other", "other"]
    predicted = ["selling_point", "service", "service", "other"]
    alternative = ["selling_point", "", "logistics", "service"]
    assert with_alternatives(gold, predicted, alternative) == [
        "selling_point",  # the alternative was predicted: right
        "logistics",  # no alternative
        "other",  # a different alternative
        "other",  # already right
    ]


def test_alternatives_summary_counts_marked_units_and_needs_the_column():
    gold = pd.DataFrame(
        {
            "category": ["product_quality", "logistics", "other", "other"],
            "polarity": ["negative"] * 4,
            "alt_category": ["other", "", "", "logistics"],
        }
    )
    predicted = pd.DataFrame(
        {"category": ["other", "logistics", "logistics", "other"], "polarity": ["negative"] * 4}
    )
    summary = alternatives_summary(gold, predicted, CATS)
    assert summary["units_with_alternative"] == 2
    assert summary["category_accuracy"] == 0.75  # unit 0 now right, unit 2 still wrong
    assert alternatives_summary(gold.drop(columns="alt_category"), predicted, CATS) is None


def test_labelled_file_needs_its_columns(tmp_path):
    path = tmp_path / "l.csv"
    pd.DataFrame({"text": ["好"], "label": ["other"]}).to_csv(path, index=False)
    with pytest.raises(ColumnError, match="category"):
        read_labelled(path)


def test_read_labelled_refuses_a_repeated_column(tmp_path):
    path = tmp_path / "labelled.csv"
    path.write_text("text,category,polarity,text\n好,other,neutral,差\n", encoding="utf-8")

    with pytest.raises(ColumnError, match="column 'text' appears more than once"):
        read_labelled(path)
