"""PII recall and false masking, measured on a synthetic set of review and chat sentences.

``tests/data/pii_cases.csv`` (written by ``tests/data/make_pii_cases.py``) holds one PII
span per row — mobiles, landlines, e-mails, ID numbers, bank cards, order numbers and
addresses in the formats customers type — and rows of ordinary numbers (sizes, prices,
model numbers, dates, quantities) that must survive. Text goes through the same
:class:`~voc.clean.TextCleaner` the pipeline uses, so full-width digits are normalised first.

A PII span counts as masked when neither the span nor any run of two or more of its
digits is left: an address cut after the road but before the room number is a miss.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from voc.clean import TextCleaner
from voc.config import CleanConfig
from voc.pii import PATTERNS

CASES = Path(__file__).with_name("data") / "pii_cases.csv"
PLACEHOLDERS = {p.placeholder for p in PATTERNS}
MIN_RECALL = 0.99
MAX_FALSE_MASK = 0.02


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    cases = pd.read_csv(CASES, dtype=str, keep_default_na=False)
    cleaner = TextCleaner(CleanConfig())
    cases["span"] = [cleaner.normalise(s) for s in cases["span"]]
    cases["masked"] = [cleaner.clean(t)[0] for t in cases["text"]]
    cases["ok"] = [
        _masked(row.span, row.masked) if row.kind != "none" else _kept(row.span, row.masked)
        for row in cases.itertuples()
    ]
    return cases


def _masked(span: str, masked: str) -> bool:
    leftovers = [run for run in re.findall(r"\d{2,}", span) if run in masked]
    return span not in masked and not leftovers


def _kept(span: str, masked: str) -> bool:
    return span in masked and not any(p in masked for p in PLACEHOLDERS)


def test_the_set_is_large_and_varied(results: pd.DataFrame) -> None:
    kinds = results["kind"].value_counts()
    assert kinds.drop("none").sum() >= 300
    assert kinds["none"] >= 200
    assert set(kinds.index) == {
        "mobile", "landline", "email", "id_number", "bank_card", "order_number", "address", "none",
    }  # fmt: skip
    assert results["case_id"].is_unique


def test_pii_recall(results: pd.DataFrame) -> None:
    pii = results[results["kind"] != "none"]
    recall = pii["ok"].mean()
    per_kind = pii.groupby("kind")["ok"].mean().round(3).to_dict()
    misses = pii.loc[~pii["ok"], ["case_id", "masked"]].to_string(index=False)
    print(f"\nPII recall {recall:.4f} over {len(pii)} spans; per kind {per_kind}")
    assert recall >= MIN_RECALL, f"recall {recall:.4f}; missed:\n{misses}"


def test_ordinary_numbers_are_rarely_masked(results: pd.DataFrame) -> None:
    ordinary = results[results["kind"] == "none"]
    false_rate = 1 - ordinary["ok"].mean()
    wrong = ordinary.loc[~ordinary["ok"], ["case_id", "masked"]].to_string(index=False)
    print(f"\nfalse masking {false_rate:.4f} over {len(ordinary)} ordinary sentences")
    assert false_rate <= MAX_FALSE_MASK, f"false masking {false_rate:.4f}:\n{wrong}"
