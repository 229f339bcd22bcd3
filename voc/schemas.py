"""The table contracts: one pyarrow schema per table, in one place.

Steps pass pandas DataFrames between them; :func:`conform` turns a DataFrame into a
pyarrow Table with exactly the contracted columns, in order, with the contracted
types. Publishing goes through :func:`conform`, so a step that drops or renames a
column fails loudly instead of shipping a broken table to BI tools.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

CATEGORY_NONE = "other"
NO_TOPIC = -1

DOCUMENTS = pa.schema(
    [
        ("doc_id", pa.string()),  # sha1(source, native id): stable across runs
        ("source", pa.string()),  # source name, by default the input file name
        ("source_kind", pa.string()),  # "review" or "chat"
        ("native_id", pa.string()),  # the id in the source (review id, chat session id)
        ("product", pa.string()),
        ("user_id", pa.string()),
        ("created_at", pa.timestamp("s")),
        ("date", pa.date32()),  # the day the document counts for in aggregates
        ("rating", pa.float64()),
        ("text", pa.string()),  # cleaned and PII-masked
        ("is_default_review", pa.bool_()),  # platform boilerplate such as 系统默认好评
        ("n_units", pa.int32()),
        ("run_id", pa.string()),
    ]
)

UNITS = pa.schema(
    [
        ("unit_id", pa.string()),
        ("doc_id", pa.string()),
        ("source_kind", pa.string()),
        ("product", pa.string()),
        ("date", pa.date32()),
        ("turn_index", pa.int32()),  # chat turn in the session; 0 for reviews
        ("clause_index", pa.int32()),
        ("text", pa.string()),
        ("text_sha1", pa.string()),  # embedding-cache key
        ("category", pa.string()),
        ("polarity", pa.string()),
        ("confidence", pa.float32()),
        ("subtopic", pa.string()),
        ("attribute", pa.string()),  # e.g. "size" for a product need
        ("attribute_value", pa.string()),  # e.g. "XL"
        ("topic_id", pa.int64()),  # -1: no topic
        ("run_id", pa.string()),
    ]
)

TOPICS = pa.schema(
    [
        ("topic_id", pa.int64()),
        ("category", pa.string()),
        ("subtopic", pa.string()),  # taxonomy subtopic id the topic matches, if any
        ("subtopic_name", pa.string()),  # its Chinese name: category -> subtopic -> topic
        ("label", pa.string()),  # readable Chinese label
        ("keywords", pa.string()),  # best c-TF-IDF keywords, comma separated
        ("size", pa.int64()),  # units currently assigned
        ("representative_unit_ids", pa.string()),  # comma separated unit ids
        ("status", pa.string()),  # "active" or "retired"
        ("first_run_id", pa.string()),  # the run whose fit created the topic
        ("last_run_id", pa.string()),  # the last run that assigned units to it
        ("retired_run_id", pa.string()),  # the refit that found it gone (null: active)
    ]
)

TOPIC_CENTROIDS = pa.schema(
    [
        ("topic_id", pa.int64()),
        ("category", pa.string()),
        ("embed_model", pa.string()),
        ("centroid", pa.list_(pa.float32())),
    ]
)

TOPIC_RUNS = pa.schema(
    [
        # One row per run x category with a topic model: did it refit, and why.
        ("run_id", pa.string()),
        ("category", pa.string()),
        ("embed_model", pa.string()),
        ("refit", pa.bool_()),
        ("reason", pa.string()),  # "first fit", "asked", "drift: ...", "no drift", ...
        ("units", pa.int64()),  # the category's units this run
        ("new_units", pa.int64()),  # of them, new this run
        ("sample_size", pa.int64()),  # units the fit saw (0 when assigning only)
        ("topics", pa.int64()),  # active topics after the run
        ("outlier_share", pa.float64()),  # of all the category's units, after the run
        ("mean_similarity", pa.float64()),  # to the assigned centroid, over all units
        ("new_outlier_share", pa.float64()),  # new units against the old centroids
        ("new_mean_similarity", pa.float64()),
        ("baseline_outlier_share", pa.float64()),  # from the last fit: what drift is against
        ("baseline_mean_similarity", pa.float64()),
        # the similarity a unit needed to join a topic this run: a later run keeps
        # the stored assignments only if it has not changed
        ("outlier_threshold", pa.float64()),
    ]
)

TOPIC_ASSIGNMENTS = pa.schema(
    [
        ("unit_id", pa.string()),
        ("topic_id", pa.int64()),
        ("category", pa.string()),
        ("similarity", pa.float32()),  # cosine similarity to the topic centroid
        ("run_id", pa.string()),
    ]
)

DAILY_AGGREGATES = pa.schema(
    [
        ("date", pa.date32()),
        ("product", pa.string()),
        ("source_kind", pa.string()),
        ("category", pa.string()),
        ("topic_id", pa.int64()),
        ("polarity", pa.string()),
        ("units", pa.int64()),
        ("documents", pa.int64()),
        ("negative_share", pa.float64()),  # of the day x product x category x topic
        ("share_of_voice", pa.float64()),  # units / all units of the day x product
        ("avg_rating", pa.float64()),
    ]
)

PRODUCT_SCORECARD = pa.schema(
    [
        ("as_of", pa.date32()),  # newest date in the data; trends count back from it
        ("product", pa.string()),
        ("category", pa.string()),
        ("topic_id", pa.int64()),
        ("topic_label", pa.string()),
        ("rank", pa.int64()),  # 1 = the topic with most units of product x category
        ("units", pa.int64()),
        ("documents", pa.int64()),
        ("negative_share", pa.float64()),
        ("units_last_7d", pa.int64()),
        ("units_prev_7d", pa.int64()),
        ("trend", pa.float64()),  # (last 7 days - previous 7) / max(previous 7, 1)
        ("avg_rating", pa.float64()),  # of documents mentioning the topic, each once
        ("product_avg_rating", pa.float64()),
        ("rating_impact", pa.float64()),  # avg_rating - product_avg_rating
        ("example_unit_ids", pa.string()),
    ]
)

ALERTS = pa.schema(
    [
        ("alert_id", pa.string()),
        ("date", pa.date32()),
        ("kind", pa.string()),  # "negative_volume", "negative_share", "emerging_topic"
        ("product", pa.string()),
        ("category", pa.string()),
        ("topic_id", pa.int64()),
        ("units", pa.int64()),
        ("observed", pa.float64()),  # negative units (emerging_topic: topic units) that day
        ("expected", pa.float64()),  # the same, expected from the trailing baseline
        ("baseline_share", pa.float64()),
        ("statistic", pa.float64()),  # z score: (observed - expected) / sd under the test
        ("p_value", pa.float64()),
        ("severity", pa.string()),  # "high", "medium", "low"
        ("example_unit_ids", pa.string()),
        ("run_id", pa.string()),
    ]
)

QUARANTINE = pa.schema(
    [
        ("source", pa.string()),
        ("file", pa.string()),
        ("row", pa.int64()),  # 1-based line/row number in the file, header = row 1
        ("field", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),  # PII-masked excerpt of the row
        ("run_id", pa.string()),
    ]
)

AGENT_TURNS = pa.schema(
    [
        ("doc_id", pa.string()),
        ("turn_index", pa.int32()),
        ("product", pa.string()),
        ("created_at", pa.timestamp("s")),
        ("text", pa.string()),
        ("run_id", pa.string()),
    ]
)

SERVICE_QA = pa.schema(
    [
        # One finding of a service quality check (voc/service_qa.py, taxonomies/service_qa.yaml).
        ("finding_id", pa.string()),  # sha1(doc_id, turn_index, check)
        ("doc_id", pa.string()),
        ("session_id", pa.string()),  # the chat session id in the source
        ("source", pa.string()),
        ("product", pa.string()),
        ("agent_id", pa.string()),  # null: no source names the agent yet
        ("user_id", pa.string()),
        ("turn_index", pa.int32()),
        ("speaker", pa.string()),  # "agent"; "customer" for unanswered_question
        ("created_at", pa.timestamp("s")),  # null when the export has no times
        ("date", pa.date32()),
        ("check_name", pa.string()),  # e.g. prohibited_absolute_claim, unanswered_question
        ("severity", pa.string()),  # "high", "medium", "low"
        ("matched", pa.string()),  # the phrases that fired, or what was measured
        ("evidence", pa.string()),  # the PII-masked turn text around the match, cut with …
        ("run_id", pa.string()),
    ]
)

CONSULTATIONS = pa.schema(
    [
        # One row per chat session: what the customer asked about and how it was served.
        ("doc_id", pa.string()),
        ("session_id", pa.string()),
        ("source", pa.string()),
        ("product", pa.string()),
        ("user_id", pa.string()),
        ("date", pa.date32()),
        ("started_at", pa.timestamp("s")),
        ("customer_turns", pa.int64()),
        ("agent_turns", pa.int64()),
        ("questions", pa.int64()),  # customer turns that ask something
        ("units", pa.int64()),  # customer units (clauses), all categories
        ("negative_units", pa.int64()),
        ("units_product_quality", pa.int64()),
        ("units_product_need", pa.int64()),  # pre-sale questions: size, material, origin ...
        ("units_selling_point", pa.int64()),
        ("units_campaign_issue", pa.int64()),
        ("units_logistics", pa.int64()),
        ("units_service", pa.int64()),  # after-sales: returns, refunds, invoices ...
        ("units_other", pa.int64()),
        ("first_response_s", pa.float64()),  # null when the export has no times
        ("avg_response_s", pa.float64()),
        ("max_response_s", pa.float64()),
        ("unanswered_questions", pa.int64()),
        ("qa_findings", pa.int64()),  # rows of service_qa for the session
        ("run_id", pa.string()),
    ]
)

SATISFACTION_DAILY = pa.schema(
    [
        # day x product x source_kind (voc/satisfaction.py); ratings are documents' ratings.
        ("date", pa.date32()),
        ("product", pa.string()),
        ("source_kind", pa.string()),
        ("documents", pa.int64()),
        ("units", pa.int64()),
        ("negative_units", pa.int64()),
        ("negative_share", pa.float64()),
        ("rated", pa.int64()),  # documents with a rating of 1-5
        ("rating_1", pa.int64()),
        ("rating_2", pa.int64()),
        ("rating_3", pa.int64()),
        ("rating_4", pa.int64()),
        ("rating_5", pa.int64()),
        ("avg_rating", pa.float64()),
        ("promoters", pa.int64()),  # rating 5
        ("passives", pa.int64()),  # rating 4
        ("detractors", pa.int64()),  # rating 1-3
        ("nps", pa.float64()),  # (promoters - detractors) / rated x 100; null when unrated
        ("complaints", pa.int64()),  # negative (customer, category) pairs of known customers
        ("repeat_complaints", pa.int64()),  # of them, the customer complained before
        ("repeat_complaint_rate", pa.float64()),  # null: no complaint by a known customer
        ("negative_share_7d", pa.float64()),  # trailing 7 days, today included
        ("nps_7d", pa.float64()),
    ]
)

RUNS = pa.schema(
    [
        ("run_id", pa.string()),
        ("started_at", pa.timestamp("s")),
        ("finished_at", pa.timestamp("s")),
        ("status", pa.string()),
        ("config_hash", pa.string()),
        ("embed_model", pa.string()),
        ("classifier", pa.string()),
        ("rows_read", pa.int64()),
        ("rows_published", pa.int64()),
        ("rows_duplicate", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("documents_new", pa.int64()),
        ("units_new", pa.int64()),
        ("units_total", pa.int64()),
        ("per_source", pa.string()),  # JSON: the same accounting per source
        ("timings", pa.string()),  # JSON: seconds per step
        ("topic_outlier_share", pa.float64()),  # units in topic categories with no topic
        ("topic_refits", pa.string()),  # JSON: category -> why its topics were refitted
    ]
)

SOURCE_WATERMARKS = pa.schema(
    [
        # Where each incremental (PostgreSQL) source was read up to; published with the
        # snapshot, so a failed run never moves it and the next run starts here.
        ("source", pa.string()),
        ("column", pa.string()),  # the watermark column in the source table
        ("value", pa.string()),  # its largest value read, as PostgreSQL prints it
        ("run_id", pa.string()),  # the run that read up to it
    ]
)

TABLES: dict[str, pa.Schema] = {
    "documents": DOCUMENTS,
    "units": UNITS,
    "topics": TOPICS,
    "topic_centroids": TOPIC_CENTROIDS,
    "topic_runs": TOPIC_RUNS,
    "topic_assignments": TOPIC_ASSIGNMENTS,
    "daily_aggregates": DAILY_AGGREGATES,
    "product_scorecard": PRODUCT_SCORECARD,
    "alerts": ALERTS,
    "quarantine": QUARANTINE,
    "agent_turns": AGENT_TURNS,
    "service_qa": SERVICE_QA,
    "consultations": CONSULTATIONS,
    "satisfaction_daily": SATISFACTION_DAILY,
    "source_watermarks": SOURCE_WATERMARKS,
    "runs": RUNS,
}


def empty(table: str) -> pd.DataFrame:
    """An empty DataFrame with the columns of ``table``."""
    return TABLES[table].empty_table().to_pandas()


def conform(df: pd.DataFrame, table: str) -> pa.Table:
    """Cast ``df`` to the contracted schema of ``table``.

    Args:
        df: A DataFrame holding at least the contracted columns (extra ones are dropped).
        table: A key of :data:`TABLES`.

    Returns:
        A pyarrow Table with exactly the contracted columns, in order.

    Raises:
        KeyError: if a contracted column is missing (a programming error, not user input).
    """
    schema = TABLES[table]
    missing = [name for name in schema.names if name not in df.columns]
    if missing:
        raise KeyError(f"table {table!r} is missing columns {missing}")
    frame = df.loc[:, schema.names]
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
