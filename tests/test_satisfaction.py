"""Satisfaction indicators: rating split, NPS-style score, repeat complaints, trends."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from voc.satisfaction import satisfaction_daily
from voc.schemas import conform

D1 = dt.date(2026, 10, 1)


def day(n: int) -> dt.date:
    return D1 + dt.timedelta(days=n)


def _documents(rows: list[tuple]) -> pd.DataFrame:
    """rows: (doc_id, day offset, product, source_kind, user_id, rating)."""
    frame = pd.DataFrame(
        rows, columns=["doc_id", "offset", "product", "source_kind", "user_id", "rating"]
    )
    frame["date"] = frame.pop("offset").map(day)
    frame["created_at"] = pd.to_datetime(frame["date"]) + pd.Timedelta(hours=9)
    frame["rating"] = frame["rating"].astype(float)
    return frame


def _units(rows: list[tuple]) -> pd.DataFrame:
    """rows: (doc_id, category, polarity)."""
    frame = pd.DataFrame(rows, columns=["doc_id", "category", "polarity"])
    frame["unit_id"] = [f"u{i}" for i in range(len(frame))]
    return frame


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    documents = _documents(
        [
            # day 0, reviews of A: ratings 5, 5, 4, 2, 1 and one unrated
            ("r1", 0, "A", "review", None, 5),
            ("r2", 0, "A", "review", None, 5),
            ("r3", 0, "A", "review", None, 4),
            ("r4", 0, "A", "review", None, 2),
            ("r5", 0, "A", "review", None, 1),
            ("r6", 0, "A", "review", None, None),
            # day 3, one review of A
            ("r7", 3, "A", "review", None, 1),
            # chats of A by customer u1 and u2: no ratings
            ("c1", 0, "A", "chat", "u1", None),  # logistics complaint
            ("c2", 5, "A", "chat", "u1", None),  # logistics again: repeat
            ("c3", 5, "A", "chat", "u2", None),  # service complaint, first one
            ("c4", 40, "A", "chat", "u1", None),  # logistics again, 35 days later: not a repeat
            ("c5", 40, "A", "chat", "u2", None),  # only questions
        ]
    )
    units = _units(
        [
            ("r1", "selling_point", "positive"),
            ("r2", "selling_point", "positive"),
            ("r3", "logistics", "positive"),
            ("r4", "product_quality", "negative"),
            ("r5", "product_quality", "negative"),
            ("r5", "other", "negative"),
            ("r7", "product_quality", "negative"),
            ("c1", "logistics", "negative"),
            ("c1", "logistics", "negative"),  # same document twice: one complaint
            ("c2", "logistics", "negative"),
            ("c2", "other", "negative"),  # nothing to act on: not a complaint
            ("c3", "service", "negative"),
            ("c4", "logistics", "negative"),
            ("c5", "product_need", "neutral"),
        ]
    )
    return satisfaction_daily(documents, units, repeat_window_days=30)


def _row(table: pd.DataFrame, offset: int, source_kind: str) -> pd.Series:
    on_day = pd.to_datetime(table["date"]) == pd.Timestamp(day(offset))
    rows = table[on_day & (table["source_kind"] == source_kind)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_table_matches_the_contract(table):
    assert conform(table, "satisfaction_daily").num_rows == len(table) == 5


def test_rating_distribution_and_nps(table):
    row = _row(table, 0, "review")
    assert row["documents"] == 6
    assert row["rated"] == 5
    assert [row[f"rating_{i}"] for i in range(1, 6)] == [1, 1, 0, 1, 2]
    assert (row["promoters"], row["passives"], row["detractors"]) == (2, 1, 2)
    assert row["nps"] == pytest.approx(0.0)  # 2 promoters, 2 detractors out of 5
    assert row["avg_rating"] == pytest.approx(17 / 5)
    assert row["units"] == 6 and row["negative_units"] == 3
    assert row["negative_share"] == pytest.approx(0.5)


def test_no_rating_gives_null_score_not_zero(table):
    row = _row(table, 0, "chat")
    assert row["rated"] == 0
    assert math.isnan(row["nps"])
    assert math.isnan(row["avg_rating"])


def test_repeat_complaints_same_customer_same_category_within_the_window(table):
    first = _row(table, 0, "chat")
    assert (first["complaints"], first["repeat_complaints"]) == (1, 0)
    assert first["repeat_complaint_rate"] == 0
    again = _row(table, 5, "chat")
    assert (again["complaints"], again["repeat_complaints"]) == (2, 1)  # u1 repeats; u2 is new
    assert again["repeat_complaint_rate"] == pytest.approx(0.5)
    late = _row(table, 40, "chat")
    assert (late["complaints"], late["repeat_complaints"]) == (1, 0)  # 35 days after the last


def test_repeat_rate_is_null_without_customer_ids(table):
    row = _row(table, 0, "review")
    assert row["complaints"] == 0
    assert math.isnan(row["repeat_complaint_rate"])


def test_trailing_seven_days(table):
    later = _row(table, 3, "review")
    # day 0 and day 3 together: 4 negatives of 7 units; ratings 5,5,4,2,1,1
    assert later["negative_share_7d"] == pytest.approx(4 / 7)
    assert later["nps_7d"] == pytest.approx((2 - 3) / 6 * 100)
    assert later["negative_share"] == pytest.approx(1.0)


def test_window_is_configurable():
    documents = _documents([("a", 0, "A", "chat", "u1", None), ("b", 10, "A", "chat", "u1", None)])
    units = _units([("a", "service", "negative"), ("b", "service", "negative")])
    short = satisfaction_daily(documents, units, repeat_window_days=7)
    long = satisfaction_daily(documents, units, repeat_window_days=10)
    assert short["repeat_complaints"].tolist() == [0, 0]
    assert long["repeat_complaints"].tolist() == [0, 1]


def test_empty_tables_give_an_empty_table():
    documents = _documents([])
    units = _units([])
    assert satisfaction_daily(documents, units).empty
