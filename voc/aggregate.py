"""Aggregate: daily volumes per product x category x topic x polarity, and alerts.

The aggregates are DuckDB SQL over the published tables. The negative-review early
warning (差评预警) tests each day's negative share of a product x category against
its trailing baseline with a one-sided binomial test; emerging topics are days on
which a topic's volume rises above its own baseline (Poisson).
"""

from __future__ import annotations

import hashlib
import logging

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import binom, poisson

from voc.config import AlertConfig
from voc.schemas import NO_TOPIC

log = logging.getLogger(__name__)

DAILY_SQL = """
WITH unit_docs AS (
    SELECT u.date, u.product, u.source_kind, u.category, u.topic_id, u.polarity,
           u.unit_id, u.doc_id, d.rating
    FROM units u JOIN documents d USING (doc_id)
),
cells AS (
    SELECT date, product, source_kind, category, topic_id, polarity,
           count(*) AS units,
           count(DISTINCT doc_id) AS documents,
           avg(rating) AS avg_rating
    FROM unit_docs
    GROUP BY ALL
)
SELECT c.date, c.product, c.source_kind, c.category, c.topic_id, c.polarity,
       c.units, c.documents,
       sum(CASE WHEN c.polarity = 'negative' THEN c.units ELSE 0 END)
           OVER (PARTITION BY c.date, c.product, c.source_kind, c.category, c.topic_id)::DOUBLE
         / sum(c.units) OVER (PARTITION BY c.date, c.product, c.source_kind, c.category, c.topic_id)
           AS negative_share,
       c.units::DOUBLE / sum(c.units) OVER (PARTITION BY c.date, c.product) AS share_of_voice,
       c.avg_rating
FROM cells c
ORDER BY ALL
"""

NEGATIVE_DAILY_SQL = """
SELECT date, product, category, topic_id,
       count(*) AS units,
       count(*) FILTER (WHERE polarity = 'negative') AS negatives
FROM units
WHERE category <> 'other'
GROUP BY ALL
ORDER BY product, category, topic_id, date
"""


SCORECARD_SQL = """
WITH product_rating AS (
    SELECT product, avg(rating) AS product_avg_rating
    FROM documents
    GROUP BY product
),
mentions AS (
    SELECT u.product, u.category, u.topic_id, u.unit_id, u.doc_id, u.date, u.polarity,
           u.confidence, d.rating
    FROM units u JOIN documents d USING (doc_id)
    WHERE u.category <> 'other' AND u.topic_id <> -1
),
as_of AS (SELECT max(date) AS day FROM units),
per_topic AS (
    SELECT m.product, m.category, m.topic_id,
           count(*) AS units,
           count(DISTINCT m.doc_id) AS documents,
           avg(CASE WHEN m.polarity = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share,
           count(*) FILTER (WHERE m.date > a.day - 7) AS units_last_7d,
           count(*) FILTER (WHERE m.date <= a.day - 7 AND m.date > a.day - 14) AS units_prev_7d,
           any_value(a.day) AS as_of
    FROM mentions m, as_of a
    GROUP BY m.product, m.category, m.topic_id
),
doc_rating AS (  -- a document mentioning the topic twice counts once
    SELECT product, category, topic_id, avg(rating) AS avg_rating
    FROM (SELECT DISTINCT product, category, topic_id, doc_id, rating FROM mentions)
    GROUP BY ALL
),
examples AS (
    SELECT product, category, topic_id,
           string_agg(unit_id, ',' ORDER BY confidence DESC, unit_id) AS example_unit_ids
    FROM (
        SELECT *, row_number() OVER (
            PARTITION BY product, category, topic_id ORDER BY confidence DESC, unit_id
        ) AS n
        FROM mentions
    )
    WHERE n <= 3
    GROUP BY ALL
)
SELECT p.as_of, p.product, p.category, p.topic_id,
       coalesce(t.label, '') AS topic_label,
       row_number() OVER (
           PARTITION BY p.product, p.category ORDER BY p.units DESC, p.topic_id
       ) AS rank,
       p.units, p.documents, p.negative_share,
       p.units_last_7d, p.units_prev_7d,
       (p.units_last_7d - p.units_prev_7d)::DOUBLE / greatest(p.units_prev_7d, 1) AS trend,
       r.avg_rating, pr.product_avg_rating,
       r.avg_rating - pr.product_avg_rating AS rating_impact,
       e.example_unit_ids
FROM per_topic p
JOIN doc_rating r USING (product, category, topic_id)
JOIN product_rating pr USING (product)
JOIN examples e USING (product, category, topic_id)
LEFT JOIN topics t USING (topic_id)
QUALIFY rank <= ?
ORDER BY p.product, p.category, rank
"""


def daily_aggregates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """date x product x source_kind x category x topic x polarity volumes.

    Args:
        con: A connection where ``units`` and ``documents`` are visible.

    Returns:
        A frame with the columns of ``schemas.DAILY_AGGREGATES``.
    """
    return con.execute(DAILY_SQL).df()


def product_scorecard(con: duckdb.DuckDBPyConnection, top: int = 5) -> pd.DataFrame:
    """Per product and category, the largest topics with trend and rating impact.

    This is the page a product manager reads: for each product its top problems
    (``product_quality``), needs, selling points, campaign issues, logistics and
    service topics. Units without a topic are left out (they are in
    ``daily_aggregates``).

    - ``trend``: units in the last 7 days against the 7 days before, as a relative
      change, counted back from the newest date in the data (``as_of``).
    - ``rating_impact``: the average rating of the documents mentioning the topic
      (each document once) minus the product's average rating. Negative means the
      topic comes with lower ratings; null where the source has no ratings.

    Args:
        con: A connection where ``units``, ``documents`` and ``topics`` are visible.
        top: Topics kept per product x category.

    Returns:
        A frame with the columns of ``schemas.PRODUCT_SCORECARD``.
    """
    return con.execute(SCORECARD_SQL, [top]).df()


def negative_alerts(
    con: duckdb.DuckDBPyConnection, config: AlertConfig, run_id: str
) -> pd.DataFrame:
    """Days on which negative feedback on a product spikes above its baseline.

    Two one-sided tests per product x category, per product over all categories
    (category ``all``) and per product x category x topic, each day against the
    previous ``baseline_days`` days:

    - ``negative_volume``: today's negative units against the baseline daily mean
      (Poisson). Catches a burst of complaints even where every unit is negative,
      as in ``product_quality``.
    - ``negative_share``: today's negative share against the baseline share
      (binomial, one pseudo-count each way so a clean history still allows a spike).

    A day is flagged when p < ``alpha``, the observed value is at least ``min_lift``
    times the expected one, today has at least ``min_units`` units (negatives, for the
    volume test), and the baseline covers at least ``min_baseline_days`` days.

    Returns:
        Alerts with the columns of ``schemas.ALERTS`` (topic_id -1: whole category).
    """
    daily = con.execute(NEGATIVE_DAILY_SQL).df()
    if daily.empty:
        return _no_alerts()
    daily["date"] = pd.to_datetime(daily["date"])
    counts = ["units", "negatives"]
    categories = daily.groupby(["date", "product", "category"], as_index=False)[counts].sum()
    overall = categories.groupby(["date", "product"], as_index=False)[counts].sum()
    cells = pd.concat(
        [
            categories.assign(topic_id=NO_TOPIC),
            overall.assign(category="all", topic_id=NO_TOPIC),
            daily[daily["topic_id"] != NO_TOPIC],
        ],
        ignore_index=True,
    )
    alerts = []
    keys = ["product", "category", "topic_id"]
    for (product, category, topic_id), series in cells.groupby(keys, sort=True):
        series = series.set_index("date")[counts].asfreq("D", fill_value=0)
        for day, test in _spike_tests(series, config):
            cell = {"product": product, "category": category, "topic_id": topic_id}
            alerts.append({"date": day.date(), **cell, **test})
    if not alerts:
        return _no_alerts()
    frame = pd.DataFrame(alerts)
    frame["run_id"] = run_id
    frame["alert_id"] = [_alert_id(r) for r in frame.itertuples()]
    frame["example_unit_ids"] = _examples(con, frame, NEGATIVE_EXAMPLES_SQL)
    log.info("alerts: %d negative spikes", len(frame))
    return frame


def _spike_tests(series: pd.DataFrame, config: AlertConfig):
    """Yield (day, test result) for each day of one daily series that spikes."""
    window = f"{config.baseline_days}D"
    base_units = series["units"].rolling(window, closed="left").sum().fillna(0)
    base_neg = series["negatives"].rolling(window, closed="left").sum().fillna(0)
    history = pd.Series(np.arange(len(series)), index=series.index).clip(upper=config.baseline_days)
    for day, row in series.iterrows():
        n, k = int(row["units"]), int(row["negatives"])
        days = int(history[day])
        if days < config.min_baseline_days or n < config.min_units:
            continue
        rate = (base_neg[day] + 1) / days
        if k >= config.min_units and k >= config.min_lift * rate:
            p_value = float(poisson.sf(k - 1, rate))
            if p_value < config.alpha:
                yield day, _result("negative_volume", n, k, rate, rate / max(n, 1), p_value)
                continue
        share = (base_neg[day] + 1) / (base_units[day] + 2)
        if k / n >= config.min_lift * share:
            p_value = float(binom.sf(k - 1, n, share))
            if p_value < config.alpha:
                yield day, _result("negative_share", n, k, n * share, share, p_value)


TOPIC_DAILY_SQL = """
SELECT date, topic_id, category, count(*) AS units
FROM units
WHERE topic_id <> -1
GROUP BY ALL
ORDER BY topic_id, date
"""


def all_alerts(con: duckdb.DuckDBPyConnection, config: AlertConfig, run_id: str) -> pd.DataFrame:
    """The ``alerts`` table: negative-review spikes and emerging topics together."""
    parts = [negative_alerts(con, config, run_id), emerging_topic_alerts(con, config, run_id)]
    parts = [frame for frame in parts if len(frame)]
    return pd.concat(parts, ignore_index=True) if parts else _no_alerts()


def emerging_topic_alerts(
    con: duckdb.DuckDBPyConnection, config: AlertConfig, run_id: str
) -> pd.DataFrame:
    """Days on which a topic's volume rises significantly above its trailing baseline.

    The same one-sided Poisson test as ``negative_volume``, on each topic's daily
    units over all products: today's count against the mean of the previous
    ``baseline_days`` days, with one pseudo-count so a topic that was silent can
    still emerge. Every topic's series starts on the first day of the data, so a
    theme that appears from nowhere is tested against a baseline of zeros rather
    than skipped for lack of history. The thresholds are those of the negative
    alerts (``alpha``, ``min_lift``, ``min_units``, ``min_baseline_days``).

    Returns:
        Alerts of kind ``emerging_topic`` (product ``all``) with the columns of
        ``schemas.ALERTS``; ``baseline_share`` is the topic's share of all topic
        units over the baseline window.
    """
    daily = con.execute(TOPIC_DAILY_SQL).df()
    if daily.empty:
        return _no_alerts()
    daily["date"] = pd.to_datetime(daily["date"])
    days = pd.date_range(daily["date"].min(), daily["date"].max(), freq="D")
    everything = daily.groupby("date")["units"].sum().reindex(days, fill_value=0)
    alerts = []
    for (topic_id, category), series in daily.groupby(["topic_id", "category"], sort=True):
        counts = series.set_index("date")["units"].reindex(days, fill_value=0)
        for day, test in volume_spikes(counts, everything, config, "emerging_topic"):
            alerts.append({"date": day.date(), "category": category, "topic_id": topic_id, **test})
    if not alerts:
        return _no_alerts()
    frame = pd.DataFrame(alerts)
    frame["product"] = "all"
    frame["run_id"] = run_id
    frame["alert_id"] = [
        hashlib.sha1(f"{r.date}|{r.kind}|{r.topic_id}".encode()).hexdigest()[:12]
        for r in frame.itertuples()
    ]
    frame["example_unit_ids"] = _examples(con, frame, TOPIC_EXAMPLES_SQL)
    log.info("alerts: %d emerging topics", len(frame))
    return frame


def volume_spikes(counts: pd.Series, totals: pd.Series, config: AlertConfig, kind: str):
    """Yield (day, test result) for each day whose count spikes above its baseline.

    Args:
        counts: Daily counts, one row per calendar day (zeros included).
        totals: Daily counts of everything ``counts`` is part of (same days), for
            the baseline share.
        config: Alert thresholds.
        kind: The alert kind written into each result.
    """
    window = f"{config.baseline_days}D"
    base = counts.rolling(window, closed="left").sum().fillna(0)
    base_total = totals.rolling(window, closed="left").sum().fillna(0)
    for position, (day, k) in enumerate(counts.items()):
        days = min(position, config.baseline_days)
        if days < config.min_baseline_days or k < config.min_units:
            continue
        rate = (base[day] + 1) / days
        if k < config.min_lift * rate:
            continue
        p_value = float(poisson.sf(k - 1, rate))
        if p_value < config.alpha:
            share = base[day] / base_total[day] if base_total[day] else 0.0
            yield day, _result(kind, int(k), int(k), rate, share, p_value)


def _result(kind: str, n: int, k: int, expected: float, share: float, p_value: float) -> dict:
    z = (k - expected) / np.sqrt(max(expected, 1e-9))
    return {
        "kind": kind,
        "units": n,
        "observed": float(k),
        "expected": float(expected),
        "baseline_share": float(share),
        "statistic": float(z),
        "p_value": p_value,
        "severity": _severity(p_value, k / max(expected, 1e-9)),
    }


def _severity(p_value: float, lift: float) -> str:
    if p_value < 1e-4 and lift >= 3:
        return "high"
    if p_value < 1e-3:
        return "medium"
    return "low"


def _alert_id(alert) -> str:
    """Stable across reruns; whole-category alerts keep the ids they had before topics."""
    cell = f"{alert.date}|{alert.product}|{alert.category}|{alert.kind}"
    if alert.topic_id != NO_TOPIC:
        cell += f"|{alert.topic_id}"
    return hashlib.sha1(cell.encode()).hexdigest()[:12]


# Which units illustrate an alert (``a``): its day's negative units of the product, in
# its category (or any but ``other`` for ``all``) and topic (or any for -1).
NEGATIVE_EXAMPLES_SQL = """
a.date = u.date AND a.product = u.product
AND (a.category = u.category OR a.category = 'all') AND (a.topic_id = u.topic_id OR a.topic_id = -1)
AND u.category <> 'other' AND u.polarity = 'negative'
"""
# ... and an emerging topic: that topic's units on its day.
TOPIC_EXAMPLES_SQL = "a.date = u.date AND a.topic_id = u.topic_id"


def _examples(con: duckdb.DuckDBPyConnection, alerts: pd.DataFrame, match_sql: str) -> list[str]:
    """For each alert, its 5 most confident matching unit ids, comma-separated.

    One query for all alerts (one per alert cost ~40 ms each on a 150k-unit store).
    """
    keys = alerts[["date", "product", "category", "topic_id"]].reset_index(drop=True)
    keys = keys.assign(n=np.arange(len(keys)), date=pd.to_datetime(keys["date"]).dt.date)
    con.register("alert_keys", keys)
    try:
        rows = con.execute(
            f"""
            SELECT n, string_agg(unit_id, ',' ORDER BY confidence DESC, unit_id) AS ids
            FROM (
                SELECT a.n, u.unit_id, u.confidence, row_number() OVER (
                    PARTITION BY a.n ORDER BY u.confidence DESC, u.unit_id) AS r
                FROM alert_keys a JOIN units u ON {match_sql}
            )
            WHERE r <= 5
            GROUP BY n
            """
        ).fetchall()
    finally:
        con.unregister("alert_keys")
    found = dict(rows)
    return [found.get(n, "") for n in range(len(keys))]


def _no_alerts() -> pd.DataFrame:
    from voc.schemas import empty

    return empty("alerts")
