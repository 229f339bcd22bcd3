"""How far two labellers agree on the training units: the ceiling a classifier is judged against.

Run from the repo root: ``.venv/bin/python benchmarks/labeller_agreement.py [--no-record]``.

``taxonomies/training/second_labels.csv`` holds a second, blind labelling of 700 units of
``labelled_refs.csv`` (its README says how they were drawn). The first labels are scored as
gold and the second as predictions, with the same scores ``voc eval`` prints, so the figures
sit beside the classifier's in RESULTS.md: if two labellers agree far more often than the
model agrees with either, the gap is the model's, not noise in the labels.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pandas as pd
from classifier_eval import confusion_table
from full_corpus import print_and_record
from sklearn.metrics import cohen_kappa_score

from voc.config import DEFAULT_TAXONOMY
from voc.evaluate import score
from voc.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
FIRST = ROOT / "taxonomies" / "training" / "labelled_refs.csv"
SECOND = ROOT / "taxonomies" / "training" / "second_labels.csv"


def paired_labels() -> pd.DataFrame:
    """The units labelled twice: ``category``/``polarity`` first, ``*_2`` second.

    Raises:
        ValueError: a second-labelled unit is not in the first file, or its text changed.
    """
    first = pd.read_csv(FIRST, keep_default_na=False)
    second = pd.read_csv(SECOND, keep_default_na=False)
    pairs = second.merge(first, on="source", how="left", suffixes=("_2", ""), indicator=True)
    missing = pairs[pairs["_merge"] != "both"]
    if len(missing):
        raise ValueError(f"{SECOND}: source {missing['source'].iloc[0]!r} is not in {FIRST}")
    changed = pairs[pairs["text_sha1"] != pairs["text_sha1_2"]]
    if len(changed):
        raise ValueError(
            f"{SECOND}: text_sha1 of {changed['source'].iloc[0]!r} differs from {FIRST}"
        )
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to RESULTS.md"
    )
    args = parser.parse_args()

    categories = list(load_taxonomy(DEFAULT_TAXONOMY).category_ids)
    pairs = paired_labels()
    agreement = score(
        pairs["category"].tolist(), pairs["category_2"].tolist(),
        pairs["polarity"].tolist(), pairs["polarity_2"].tolist(), categories,
    )  # fmt: skip
    kappa = cohen_kappa_score(pairs["category"], pairs["category_2"])
    per_category = agreement.per_category
    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — agreement of two labellers on {len(pairs)} training units",
        "",
        "- Command: `.venv/bin/python benchmarks/labeller_agreement.py`",
        "- First labels (`labelled_refs.csv`) scored as gold, the blind second labels"
        " (`second_labels.csv`) as predictions.",
        "",
        "| macro-F1 (7 categories) | category agreement | Cohen's kappa | polarity agreement |",
        "| ---: | ---: | ---: | ---: |",
        f"| {agreement.macro_f1:.3f} | {agreement.category_accuracy:.3f} | {kappa:.3f} |"
        f" {agreement.polarity_accuracy:.3f} |",
        "",
        "| category | units (first labels) | F1 |",
        "| :--- | ---: | ---: |",
    ]
    for category in categories:
        lines.append(
            f"| {category} | {per_category.loc[category, 'support']} |"
            f" {per_category.loc[category, 'f1']:.2f} |"
        )
    lines += ["", "Rows first label, columns second:", "",
              confusion_table(agreement.confusion, "first \\ second")]  # fmt: skip
    print_and_record([*lines, ""], record=not args.no_record)


if __name__ == "__main__":
    main()
