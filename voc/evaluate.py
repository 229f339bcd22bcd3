"""Evaluate a classifier on hand-labelled units (``voc eval``).

Input: a CSV with ``text``, ``category`` and ``polarity`` columns (like
``../shared/data/labelled/voc_dev.csv``). Output: per-category precision, recall and F1,
macro-F1 over the categories, the confusion matrix and polarity accuracy. Where the file
marks a second valid category (``alt_category``, as voc_dev does for its ambiguous units),
:func:`alternatives_summary` scores with that category counted as right too; it is
reported beside the strict scores, never instead of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from voc.errors import ColumnError
from voc.sources.readers import read_file

REQUIRED = ("text", "category", "polarity")


@dataclass
class Evaluation:
    """Scores of predicted against gold labels."""

    per_category: pd.DataFrame  # index category; precision, recall, f1, support
    macro_f1: float
    category_accuracy: float
    polarity_accuracy: float
    confusion: pd.DataFrame  # rows gold, columns predicted

    def to_dict(self) -> dict[str, object]:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "category_accuracy": round(self.category_accuracy, 4),
            "polarity_accuracy": round(self.polarity_accuracy, 4),
            "per_category": self.per_category.round(4).reset_index().to_dict(orient="records"),
            "confusion": {
                "labels": list(self.confusion.index),
                "matrix": self.confusion.to_numpy().tolist(),
            },
        }


def score(
    gold_category: list[str],
    predicted_category: list[str],
    gold_polarity: list[str],
    predicted_polarity: list[str],
    categories: list[str],
) -> Evaluation:
    """Compare predictions with gold labels over ``categories`` (all count in macro-F1)."""
    precision, recall, f1, support = precision_recall_fscore_support(
        gold_category, predicted_category, labels=categories, zero_division=0
    )
    per_category = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(categories, name="category"),
    )
    matrix = confusion_matrix(gold_category, predicted_category, labels=categories)
    return Evaluation(
        per_category=per_category,
        macro_f1=float(np.mean(f1)),
        category_accuracy=float(np.mean(np.array(gold_category) == np.array(predicted_category))),
        polarity_accuracy=float(np.mean(np.array(gold_polarity) == np.array(predicted_polarity))),
        confusion=pd.DataFrame(matrix, index=categories, columns=categories),
    )


def with_alternatives(
    gold_category: list[str], predicted_category: list[str], alternative: list[str]
) -> list[str]:
    """Gold categories where a prediction equal to the unit's alternative counts as right.

    ``alternative`` is the second category labellers accepted for an ambiguous unit
    (empty where there is none).
    """
    return [
        predicted if alt and predicted == alt else gold
        for gold, predicted, alt in zip(gold_category, predicted_category, alternative, strict=True)
    ]


def alternatives_summary(
    gold: pd.DataFrame, predicted: pd.DataFrame, categories: list[str]
) -> dict[str, float | int] | None:
    """Macro-F1 and accuracy with the labellers' second category counted as right.

    Args:
        gold: Labelled units (``category``, ``polarity`` and, if marked, ``alt_category``).
        predicted: The classifier's ``category`` and ``polarity`` for the same units.
        categories: The categories macro-F1 averages over.

    Returns:
        ``units_with_alternative``, ``macro_f1``, ``category_accuracy``; ``None`` when
        the file marks no alternatives (no ``alt_category`` column).
    """
    if "alt_category" not in gold.columns:
        return None
    predicted_category = predicted["category"].tolist()
    lenient = score(
        with_alternatives(
            gold["category"].tolist(), predicted_category, gold["alt_category"].tolist()
        ),
        predicted_category, gold["polarity"].tolist(), predicted["polarity"].tolist(),
        categories,
    )  # fmt: skip
    return {
        "units_with_alternative": int((gold["alt_category"] != "").sum()),
        "macro_f1": lenient.macro_f1,
        "category_accuracy": lenient.category_accuracy,
    }


def read_labelled(path: Path) -> pd.DataFrame:
    """Read a labelled file; it needs text, category and polarity columns.

    Raises:
        InputFileError: unreadable file.
        ColumnError: a required column is missing.
    """
    frame, _, _, _ = read_file(Path(path))
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        columns = [c for c in frame.columns if c != "_row"]
        raise ColumnError(
            f"{path}: labelled data needs columns {list(REQUIRED)}; missing {missing} in {columns}"
        )
    return frame.fillna("")
