"""Emerging-topic alerts: a planted spike is found, pure noise rarely alarms."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from voc.aggregate import all_alerts, emerging_topic_alerts
from voc.config import AlertConfig

FIRST_DAY = dt.date(2025, 1, 1)


def _units(daily_counts: dict[int, list[int]]) -> pd.DataFrame:
    """One unit row per count: topic -> units per day, from FIRST_DAY on."""
    rows = []
    for topic_id, counts in daily_counts.items():
        for day, count in enumerate(counts):
            for i in range(count):
                rows.append(
                    {
                        "unit_id": f"t{topic_id}d{day:03d}u{i:03d}",
                        "date": FIRST_DAY + dt.timedelta(days=day),
                        "product": "耳机",
                        "category": "product_quality",
                        "topic_id": topic_id,
                        "polarity": "neutral",
                        "confidence": 0.5 + (i % 10) / 20,
                    }
                )
    return pd.DataFrame(rows)


def _alerts(units: pd.DataFrame, config: AlertConfig | None = None, fn=emerging_topic_alerts):
    with duckdb.connect() as con:
        con.register("units", units)
        return fn(con, config or AlertConfig(), "r1")


def test_planted_spike_is_flagged_on_its_day_only():
    rng = np.random.default_rng(7)
    counts = rng.poisson(8, 60).tolist()
    counts[50] = 40  # about five times the usual volume
    alerts = _alerts(_units({3: counts}))
    assert alerts["date"].tolist() == [FIRST_DAY + dt.timedelta(days=50)]
    alert = alerts.iloc[0]
    assert (alert["kind"], alert["topic_id"], alert["product"]) == ("emerging_topic", 3, "all")
    assert alert["observed"] == 40 and alert["units"] == 40
    assert 6 < alert["expected"] < 11 and alert["baseline_share"] == 1.0
    assert alert["p_value"] < 1e-6 and alert["severity"] == "high"
    examples = alert["example_unit_ids"].split(",")
    assert len(examples) == 5 and all(e.startswith("t3d050") for e in examples)


def test_a_theme_appearing_from_nothing_emerges():
    steady = [10] * 30
    new_theme = [0] * 25 + [12, 15, 3, 2, 1]
    alerts = _alerts(_units({1: steady, 2: new_theme}))
    assert set(alerts["topic_id"]) == {2}
    assert alerts["date"].min() == FIRST_DAY + dt.timedelta(days=25)
    assert alerts["baseline_share"].iloc[0] == 0.0


@pytest.mark.parametrize("rate", [3, 10, 30])
def test_pure_noise_gives_few_false_alarms(rate):
    # 20 topics x 120 days of Poisson noise, 2,260 topic-days past the 7-day minimum
    # baseline. Measured over 10 seeds x these 3 rates (67,800 topic-days): 48
    # alarms, a false-alarm rate of 0.07% per topic-day at alpha 0.001, lift 1.5.
    rng = np.random.default_rng(0)
    noise = {topic: rng.poisson(rate, 120).tolist() for topic in range(20)}
    alerts = _alerts(_units(noise))
    tested = 20 * (120 - AlertConfig().min_baseline_days)
    assert len(alerts) / tested <= 0.002


def test_quiet_days_and_short_history_are_not_tested():
    config = AlertConfig(min_units=5, min_baseline_days=7)
    assert _alerts(_units({1: [0] * 6 + [30]}), config).empty  # 6 days of history
    assert _alerts(_units({1: [0] * 20 + [4]}), config).empty  # below min_units


def test_all_alerts_holds_both_kinds():
    units = _units({4: [2] * 30 + [30]})
    units.loc[units["date"] == FIRST_DAY + dt.timedelta(days=30), "polarity"] = "negative"
    alerts = _alerts(units, fn=all_alerts)
    assert {"emerging_topic", "negative_volume"} <= set(alerts["kind"])
    assert alerts["alert_id"].is_unique


def test_units_without_topics_give_no_emerging_alerts():
    assert _alerts(_units({-1: [5] * 20 + [60]})).empty
