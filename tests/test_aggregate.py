from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from voc.aggregate import (
    daily_aggregates,
    negative_alerts,
    product_scorecard,
    severity,
    trailing_sums,
)
from voc.config import AlertConfig


def _units_from_counts(counts: list[tuple[int, int]], product="耳机", category="product_quality"):
    """units rows from (units, negatives) per day, starting 2026-10-01."""
    rows = []
    start = dt.date(2026, 10, 1)
    for day, (n, k) in enumerate(counts):
        for i in range(n):
            rows.append(
                {
                    "unit_id": f"{product}{category}{day}-{i}",
                    "doc_id": f"d{product}{day}-{i}",
                    "date": start + dt.timedelta(days=day),
                    "product": product,
                    "source_kind": "review",
                    "category": category,
                    "topic_id": -1,
                    "polarity": "negative" if i < k else "positive",
                    "confidence": 0.9,
                }
            )
    return pd.DataFrame(rows)


def _connect(units: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    documents = pd.DataFrame({"doc_id": units["doc_id"].unique()}).assign(rating=4.0)
    con = duckdb.connect(config={"threads": 1})
    con.register("units", units)
    con.register("documents", documents)
    return con


def test_planted_volume_spike_is_found_on_its_day_only():
    rng = np.random.default_rng(0)
    counts = [(int(n), int(n)) for n in rng.poisson(1.0, 30)] + [(9, 9)]
    alerts = negative_alerts(_connect(_units_from_counts(counts)), AlertConfig(), "run")
    spike_day = dt.date(2026, 10, 1) + dt.timedelta(days=30)
    category_alerts = alerts[alerts["category"] == "product_quality"]
    assert category_alerts["date"].tolist() == [spike_day]
    alert = category_alerts.iloc[0]
    assert alert["kind"] == "negative_volume"
    assert alert["observed"] == 9
    assert alert["expected"] < 3
    assert alert["p_value"] < 0.01
    assert alert["severity"] in {"high", "medium"}
    assert len(alert["example_unit_ids"].split(",")) == 5


def test_planted_share_spike_is_found():
    # negatives stay at their usual count, but few other units came in that day
    counts = [(40, 4)] * 30 + [(8, 6)]
    alerts = negative_alerts(
        _connect(_units_from_counts(counts, category="logistics")), AlertConfig(), "r"
    )
    found = alerts[(alerts["category"] == "logistics") & (alerts["kind"] == "negative_share")]
    assert found["date"].tolist() == [dt.date(2026, 10, 31)]
    assert found.iloc[0]["baseline_share"] == pytest.approx(0.1, abs=0.02)


def test_spike_in_one_topic_is_found_where_its_category_hides_it():
    rng = np.random.default_rng(1)
    busy = _units_from_counts([(int(n), int(n)) for n in rng.poisson(12, 31)]).assign(topic_id=1)
    quiet = [(int(n), int(n)) for n in rng.poisson(0.3, 30)] + [(6, 6)]
    spike = _units_from_counts(quiet).assign(topic_id=2)
    spike["unit_id"] = "t2-" + spike["unit_id"]
    spike["doc_id"] = "t2-" + spike["doc_id"]
    alerts = negative_alerts(_connect(pd.concat([busy, spike])), AlertConfig(), "r")

    found = alerts[alerts["topic_id"] == 2]
    assert found["date"].tolist() == [dt.date(2026, 10, 31)]
    assert found.iloc[0]["category"] == "product_quality"
    examples = found.iloc[0]["example_unit_ids"].split(",")
    assert examples and all(u.startswith("t2-") for u in examples)
    assert alerts[alerts["topic_id"] == 1].empty
    assert alerts[(alerts["topic_id"] == -1) & (alerts["date"] == dt.date(2026, 10, 31))].empty
    assert alerts["alert_id"].is_unique


def test_volume_alert_holds_the_baseline_negative_share():
    # 10 days of 1 negative in 4 units, then 6 of 6: the baseline's share is 10/40,
    # with the pseudo-counts the tests use (10 + 1) / (40 + 2)
    counts = [(4, 1)] * 10 + [(6, 6)]
    alerts = negative_alerts(
        _connect(_units_from_counts(counts, category="logistics")), AlertConfig(), "r"
    )
    alert = alerts[alerts["category"] == "logistics"].iloc[0]
    assert alert["kind"] == "negative_volume"
    assert alert["expected"] == pytest.approx((10 + 1) / 10)  # negatives per day
    assert alert["baseline_share"] == pytest.approx((10 + 1) / (40 + 2))


def test_share_alert_statistic_is_the_binomial_z():
    counts = [(20, 2)] * 28 + [(8, 5)]
    alerts = negative_alerts(
        _connect(_units_from_counts(counts, category="logistics")), AlertConfig(), "r"
    )
    alert = alerts[alerts["category"] == "logistics"].iloc[0]
    p = (56 + 1) / (560 + 2)
    assert alert["kind"] == "negative_share"
    assert alert["expected"] == pytest.approx(8 * p)
    assert alert["statistic"] == pytest.approx((5 - 8 * p) / np.sqrt(8 * p * (1 - p)))


def test_severity_is_read_against_alpha():
    p_values = np.array([9e-4, 9e-5, 9e-6, 9e-6])
    lifts = np.array([2.0, 4.0, 4.0, 2.0])
    assert severity(p_values, lifts, 1e-3).tolist() == ["low", "medium", "high", "medium"]
    assert severity(p_values, lifts, 1e-2).tolist() == ["medium", "high", "high", "medium"]
    # a spike just past the default alpha (p = 0.00097) is a low alert, not a medium one
    counts = [(4, 1)] * 10 + [(6, 6)]
    alerts = negative_alerts(_connect(_units_from_counts(counts)), AlertConfig(), "r")
    assert set(alerts["severity"]) == {"low"}


def test_pure_noise_gives_few_false_alarms():
    """Stationary series: the false-alarm rate per tested product-day stays under 0.5%.

    Measured with the defaults (alpha 0.001 per test): 8 alarms in 3,320 tests, 0.24%.
    """
    rng = np.random.default_rng(42)
    frames = []
    days = 90
    for p in range(20):
        n = rng.poisson(15, days)
        k = rng.binomial(n, 0.2)
        frames.append(
            _units_from_counts(list(zip(n, k, strict=True)), product=f"p{p}", category="service")
        )
    alerts = negative_alerts(_connect(pd.concat(frames, ignore_index=True)), AlertConfig(), "r")
    tested_days = 20 * (days - AlertConfig().min_baseline_days) * 2  # category + "all"
    rate = len(alerts) / tested_days
    assert rate < 0.005, f"{len(alerts)} false alarms in {tested_days} tests"


def test_no_alert_without_enough_history():
    counts = [(1, 0), (1, 0), (10, 10)]
    assert negative_alerts(_connect(_units_from_counts(counts)), AlertConfig(), "r").empty


def test_daily_aggregates_shares():
    units = _units_from_counts([(4, 1)], category="logistics")
    units = pd.concat([units, _units_from_counts([(4, 0)], category="service")], ignore_index=True)
    daily = daily_aggregates(_connect(units))
    logistics = daily[daily["category"] == "logistics"].set_index("polarity")
    assert logistics.loc["negative", "units"] == 1
    assert logistics.loc["negative", "negative_share"] == pytest.approx(0.25)
    assert daily["share_of_voice"].sum() == pytest.approx(1.0)
    assert (daily["avg_rating"] == 4.0).all()


def _scorecard_tables():
    """Product 耳机: topic 1 (断连, low ratings) and topic 2 (音质好, high ratings)."""
    day0 = dt.date(2026, 10, 1)
    units, documents = [], []

    def add(doc, day, rating, topic, category, polarity, clauses=1):
        documents.append({"doc_id": doc, "product": "耳机", "rating": rating})
        for c in range(clauses):
            units.append(
                {
                    "unit_id": f"{doc}-{c}", "doc_id": doc, "product": "耳机",
                    "date": day0 + dt.timedelta(days=day), "source_kind": "review",
                    "category": category, "topic_id": topic, "polarity": polarity,
                    "confidence": 0.5 + c / 10,
                }
            )  # fmt: skip

    for i in range(4):  # an old problem, days 0-3: 4 documents
        add(f"a{i}", i, 1.0, 1, "product_quality", "negative")
    for i in range(6):  # the same problem in the last 7 days: 6 documents, one with 2 clauses
        add(f"b{i}", 14 + i, 2.0, 1, "product_quality", "negative", clauses=2 if i == 0 else 1)
    for i in range(5):
        add(f"c{i}", 10 + i, 5.0, 2, "selling_point", "positive")
    add("d0", 20, 4.0, -1, "product_quality", "negative")  # no topic: left out
    add("e0", 20, 3.0, 3, "other", "neutral")  # category other: left out
    topics = pd.DataFrame({"topic_id": [1, 2], "label": ["断连 · fault", "音质好"]})
    return pd.DataFrame(units), pd.DataFrame(documents), topics


def test_scorecard_ranks_topics_with_trend_and_rating_impact():
    units, documents, topics = _scorecard_tables()
    con = duckdb.connect(config={"threads": 1})
    for name, frame in [("units", units), ("documents", documents), ("topics", topics)]:
        con.register(name, frame)
    card = product_scorecard(con).set_index("topic_id")

    assert set(card.index) == {1, 2}
    problem = card.loc[1]
    assert problem["category"] == "product_quality" and problem["rank"] == 1
    assert problem["topic_label"] == "断连 · fault"
    assert (problem["units"], problem["documents"]) == (11, 10)
    assert problem["negative_share"] == 1.0
    # as_of is day 20: the last 7 days are days 14-20, the 7 before are days 7-13
    assert pd.Timestamp(problem["as_of"]).date() == dt.date(2026, 10, 21)
    assert (problem["units_last_7d"], problem["units_prev_7d"]) == (7, 0)
    assert problem["trend"] == pytest.approx(7.0)
    product_avg = documents["rating"].mean()
    assert problem["product_avg_rating"] == pytest.approx(product_avg)
    # each document once: 4 x 1.0 and 6 x 2.0, although b0 has two clauses
    assert problem["avg_rating"] == pytest.approx((4 * 1 + 6 * 2) / 10)
    assert problem["rating_impact"] == pytest.approx((4 * 1 + 6 * 2) / 10 - product_avg)
    assert card.loc[2, "rating_impact"] > 0
    assert problem["example_unit_ids"].split(",")[0] == "b0-1"  # highest confidence first
    assert len(problem["example_unit_ids"].split(",")) == 3


def test_scorecard_keeps_the_top_n_per_product_and_category():
    units, documents, topics = _scorecard_tables()
    con = duckdb.connect(config={"threads": 1})
    for name, frame in [("units", units), ("documents", documents), ("topics", topics)]:
        con.register(name, frame)
    card = product_scorecard(con, top=1)
    assert card.groupby(["product", "category"]).size().max() == 1
    no_ratings = documents.assign(rating=np.nan)
    con.register("documents", no_ratings)
    assert product_scorecard(con)["rating_impact"].isna().all()


@pytest.mark.parametrize("unit", ["s", "ns"])
def test_scorecard_takes_pandas_datetimes_as_their_days(unit):
    units, documents, topics = _scorecard_tables()
    # a notebook's datetime64 column, with times of day that must not move a unit's day
    stamps = pd.to_datetime(units["date"]).astype(f"datetime64[{unit}]")
    stamped = units.assign(date=stamps + pd.Timedelta(hours=23, minutes=59))

    def scorecard(frame):
        con = duckdb.connect(config={"threads": 1})
        for name, table in [("units", frame), ("documents", documents), ("topics", topics)]:
            con.register(name, table)
        return product_scorecard(con)

    card = scorecard(stamped)

    pd.testing.assert_frame_equal(card, scorecard(units))
    assert card["as_of"].tolist() == [pd.Timestamp("2026-10-21")] * 2
    assert card[["topic_id", "units_last_7d", "units_prev_7d"]].values.tolist() == [
        [1, 7, 0],
        [2, 1, 4],
    ]


@pytest.mark.parametrize("window", [1, 3, 28])
def test_trailing_sums_equal_a_rolling_window_over_calendar_days(window):
    rng = np.random.default_rng(window)
    rows = []
    for cell in range(5):  # cells with gaps between their days, and different first days
        days = np.sort(rng.choice(60, size=rng.integers(1, 40), replace=False))
        rows += [(cell, int(d), int(rng.integers(0, 9))) for d in days]
    frame = pd.DataFrame(rows, columns=["cell", "day", "value"])
    expected = []
    for _, series in frame.groupby("cell"):
        dated = series.set_index(pd.Timestamp("2025-01-01") + pd.to_timedelta(series["day"], "D"))
        rolled = dated["value"].asfreq("D", fill_value=0).rolling(f"{window}D", closed="left").sum()
        expected += rolled.fillna(0).loc[dated.index].astype(int).tolist()
    got = trailing_sums(
        frame["cell"].to_numpy(), frame["day"].to_numpy(), frame["value"].to_numpy(), window
    )
    assert got.tolist() == expected
