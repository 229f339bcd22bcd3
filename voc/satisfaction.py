"""Satisfaction indicators per day x product x source kind, from the data at hand.

No survey exists, so the indicators come from what the inputs carry:

- the share of negative units (every source);
- the rating distribution and a promoter / passive / detractor split where documents
  have a 1-5 rating (reviews): promoters rate 5, passives 4, detractors 1-3, and the
  NPS-style score is ``(promoters - detractors) / rated x 100``, null on a day with no
  rating (not zero: "nobody rated" is not "as many fans as critics");
- the repeat-complaint rate where documents carry a customer id (chat exports do,
  review exports mostly do not): of the day's complaints, the share whose customer
  already complained about the same category within ``repeat_window_days``. A
  complaint is a (document, category) pair with at least one negative unit, category
  ``other`` left out (nothing to act on). Null where no complaint has a customer id.
- trailing 7-day values of the negative share and the score, for trends.

All of it is recomputed from ``documents`` and ``units`` on every run.
"""

from __future__ import annotations

import duckdb
import pandas as pd

SATISFACTION_SQL = """
WITH docs AS (
    -- typed here so an empty frame (columns of no type) still binds
    SELECT CAST(doc_id AS VARCHAR) AS doc_id, CAST(date AS DATE) AS date,
           CAST(product AS VARCHAR) AS product, CAST(source_kind AS VARCHAR) AS source_kind,
           CAST(created_at AS TIMESTAMP) AS created_at, CAST(rating AS DOUBLE) AS rating,
           nullif(trim(CAST(user_id AS VARCHAR)), '') AS user_id,
           CASE WHEN rating BETWEEN 1 AND 5 THEN CAST(round(rating) AS INTEGER) END AS stars
    FROM documents
),
unit_counts AS (
    SELECT doc_id, count(*) AS units,
           count(*) FILTER (WHERE polarity = 'negative') AS negative_units
    FROM units
    GROUP BY doc_id
),
daily AS (
    SELECT d.date, d.product, d.source_kind,
           count(*) AS documents,
           coalesce(sum(u.units), 0) AS units,
           coalesce(sum(u.negative_units), 0) AS negative_units,
           count(d.stars) AS rated,
           count(*) FILTER (WHERE d.stars = 1) AS rating_1,
           count(*) FILTER (WHERE d.stars = 2) AS rating_2,
           count(*) FILTER (WHERE d.stars = 3) AS rating_3,
           count(*) FILTER (WHERE d.stars = 4) AS rating_4,
           count(*) FILTER (WHERE d.stars = 5) AS rating_5,
           avg(d.rating) FILTER (WHERE d.stars IS NOT NULL) AS avg_rating,
           count(*) FILTER (WHERE d.stars = 5) AS promoters,
           count(*) FILTER (WHERE d.stars = 4) AS passives,
           count(*) FILTER (WHERE d.stars <= 3) AS detractors
    FROM docs d LEFT JOIN unit_counts u USING (doc_id)
    GROUP BY ALL
),
complaints AS (
    SELECT DISTINCT d.doc_id, d.user_id, d.product, d.source_kind, d.date, d.created_at,
           u.category
    FROM units u JOIN docs d USING (doc_id)
    WHERE u.polarity = 'negative' AND u.category <> 'other' AND d.user_id IS NOT NULL
),
ordered AS (
    SELECT *, lag(date) OVER (
               PARTITION BY user_id, category ORDER BY date, created_at NULLS LAST, doc_id
           ) AS previous_date
    FROM complaints
),
repeats AS (
    SELECT date, product, source_kind,
           count(*) AS complaints,
           count(*) FILTER (
               WHERE previous_date IS NOT NULL AND date - previous_date <= $window
           ) AS repeat_complaints
    FROM ordered
    GROUP BY ALL
),
joined AS (
    SELECT d.*,
           coalesce(r.complaints, 0) AS complaints,
           coalesce(r.repeat_complaints, 0) AS repeat_complaints
    FROM daily d LEFT JOIN repeats r USING (date, product, source_kind)
)
SELECT date, product, source_kind, documents, units, negative_units,
       negative_units::DOUBLE / nullif(units, 0) AS negative_share,
       rated, rating_1, rating_2, rating_3, rating_4, rating_5, avg_rating,
       promoters, passives, detractors,
       (promoters - detractors) * 100.0 / nullif(rated, 0) AS nps,
       complaints, repeat_complaints,
       repeat_complaints::DOUBLE / nullif(complaints, 0) AS repeat_complaint_rate,
       CAST(sum(negative_units) OVER trend AS DOUBLE) / nullif(sum(units) OVER trend, 0)
           AS negative_share_7d,
       (sum(promoters) OVER trend - sum(detractors) OVER trend) * 100.0
           / nullif(sum(rated) OVER trend, 0) AS nps_7d
FROM joined
WINDOW trend AS (
    PARTITION BY product, source_kind ORDER BY date
    RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW  -- 7 days, today included
)
ORDER BY date, product, source_kind
"""


def satisfaction_daily(
    documents: pd.DataFrame, units: pd.DataFrame, repeat_window_days: int = 30
) -> pd.DataFrame:
    """Satisfaction indicators per day x product x source kind.

    Args:
        documents: All published documents (date, product, source_kind, user_id,
            created_at, rating).
        units: All published units (doc_id, category, polarity).
        repeat_window_days: How far back an earlier complaint by the same customer
            about the same category makes today's a repeat.

    Returns:
        The columns of ``schemas.SATISFACTION_DAILY``; ratios are null where their
        denominator is zero.
    """
    with duckdb.connect(config={"threads": 1}) as con:
        con.register("documents", documents)
        con.register("units", units)
        return con.execute(SATISFACTION_SQL, {"window": repeat_window_days}).df()
