"""The whole run: ingest -> clean -> segment -> embed -> label -> topics -> aggregate -> publish.

:func:`run_pipeline` is the one place the steps are chained. It calls each step
through a *step runner*: :func:`run_directly` by default (``voc run``), or the Prefect
runner in ``pipelines/`` that turns each step into a Prefect task — so the flows
stay thin wrappers and both paths run exactly the same code.

A run is incremental: documents already in the output store are counted as
duplicates and not processed again; only their units' topic ids are refreshed. New
turns of a chat session already published become a continuation document.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import resource
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import duckdb
import numpy as np
import pandas as pd

from voc.aggregate import all_alerts, daily_aggregates, product_scorecard
from voc.classify import from_config
from voc.clean import CleanResult, clean_records
from voc.config import VocConfig
from voc.embed import CachedEmbedder, Embedder, EmbeddingCache, build_embedder, embed_units
from voc.errors import AccountingError
from voc.incremental import UnitVectors, affected_days, refresh_daily_aggregates
from voc.labels import label_units
from voc.postgres import known_watermarks, watermark_table
from voc.publish import Snapshot, Store
from voc.remote import ingest_anywhere
from voc.satisfaction import satisfaction_daily
from voc.schemas import NO_TOPIC
from voc.scope import RunScope, check_scope, narrow, select_sources
from voc.segment import build_nlp, make_tokenizer, segment_records
from voc.service_qa import chat_tables, load_service_qa
from voc.sources import IngestResult
from voc.sources.ingest import stable_id
from voc.taxonomy import Taxonomy, load_taxonomy
from voc.topics import (
    JiebaTokens,
    TopicState,
    assign_topics,
    finish_topics,
    kept_assignments,
    outlier_share,
    plan_topics,
    refit_reasons,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class StepRunner(Protocol):
    def __call__(self, name: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...


def run_directly(name: str, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call the step in this process: the runner of ``voc run``."""
    return fn(*args, **kwargs)


class ProgressHook(Protocol):
    def step(self, name: str) -> None: ...
    def advance(self, done: int, total: int) -> None: ...


class _NoProgress:
    def step(self, name: str) -> None:
        pass

    def advance(self, done: int, total: int) -> None:
        pass


@dataclass
class RunSummary:
    """What a finished run reports back."""

    run_id: str
    out_dir: Path
    snapshot: Path
    accounting: dict[str, dict[str, int]]
    documents_new: int
    units_new: int
    units_total: int
    embedded_new: int
    timings: dict[str, dict[str, float]] = field(default_factory=dict)
    top_topics: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: pd.DataFrame = field(default_factory=pd.DataFrame)  # all of them, with topic_label
    scope: RunScope = field(default_factory=RunScope)
    rows_left_out: dict[str, int] = field(default_factory=dict)  # outside the scope, per source

    @property
    def new_alerts(self) -> pd.DataFrame:
        """The alerts this run raised first (``alerts`` also holds earlier runs' ones)."""
        if self.alerts.empty:
            return self.alerts
        return self.alerts[self.alerts["run_id"] == self.run_id]


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable and unique: ``20261123T021500-3fa2c1``."""
    now = now or dt.datetime.now()
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_pipeline(
    config: VocConfig,
    *,
    today: dt.date | None = None,
    refit_topics: bool = False,
    scope: RunScope | None = None,
    step: StepRunner = run_directly,
    progress: ProgressHook | None = None,
) -> RunSummary:
    """Run every step on ``config.sources`` and publish to ``config.publish.out_dir``.

    Args:
        config: Sources and settings.
        today: The run date (records without a time count for it); defaults to today.
        refit_topics: Refit every category's topic model instead of reusing topics.
        scope: Narrow the run to some sources, products, days, or to rows newer
            than what the store holds (see :mod:`voc.scope`); everything by default.
        step: How each step is executed (directly, or as a Prefect task).
        progress: Told when a step starts and how far the embedding is.

    Returns:
        The run's accounting, counts, timings and top findings.

    Raises:
        VocError: bad input, config or taxonomy (one clear line), a locked store, or
            a row accounting mismatch.
    """
    today = today or dt.date.today()
    scope = scope or RunScope()
    progress = progress or _NoProgress()
    started = dt.datetime.now().replace(microsecond=0)
    run_id = new_run_id(started)
    store = Store(config.publish.out_dir)
    timings: dict[str, dict[str, float]] = {}

    def timed(name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        progress.step(name)
        t0 = time.perf_counter()
        result = step(name, fn, *args, **kwargs)
        timings[name] = _timing(time.perf_counter() - t0)
        return result

    with store.lock():
        taxonomy = timed("load_taxonomy", load_taxonomy, config.labels.taxonomy)
        check_scope(scope, config, taxonomy.category_ids, "run scope")
        qa_rules = timed("load_service_qa", load_service_qa, config.service_qa.rules)
        previous = timed("load_previous", store.load)
        watermarks = known_watermarks(previous["source_watermarks"])
        ingested = timed(
            "ingest", ingest_anywhere, select_sources(config.sources, scope.sources), today,
            store.cache_dir / "inputs", watermarks,
        )  # fmt: skip
        ingested, published, left_out = narrow(ingested, scope, previous["documents"], today)
        cleaned = timed(
            "clean", clean_records, ingested.records, config.clean, taxonomy.boilerplate,
            previous["documents"]["doc_id"].tolist(), published_chat_turns(previous),
        )  # fmt: skip
        cleaned.duplicates = pd.concat([published, cleaned.duplicates], ignore_index=True)
        accounting = account(ingested, cleaned)  # fails fast, before the expensive steps
        records = with_dates(cleaned.records, today)
        tokenizer = make_tokenizer(taxonomy.user_words, store.cache_dir / "jieba")
        nlp = build_nlp(config.segment, tokenizer)
        units = timed("segment", segment_records, records, nlp, config.segment)

        cache = EmbeddingCache(store.cache_dir / "embeddings.duckdb")
        embedder = CachedEmbedder(build_embedder(config.embed), cache)
        embeddings, embedded = timed(
            "embed", embed_step, units, embedder.embedder, cache,
            progress=lambda done: progress.advance(done, len(units)),
        )  # fmt: skip
        classifier = timed("fit_classifier", from_config, taxonomy, embedder, config.labels)
        labelled = timed("label", label_units, units, embeddings, classifier)

        all_units = pd.concat(
            [previous["units"], labelled.assign(run_id=run_id)], ignore_index=True
        )
        # the store's vectors are read only where topics need them (a refit)
        vectors = UnitVectors(previous["units"], embeddings, embedder)
        state = TopicState(previous["topics"], previous["topic_centroids"], previous["topic_runs"])
        assignments, state = _topics(
            timed, all_units, vectors, state, previous, taxonomy, config, embedder, tokenizer,
            run_id, refit_topics,
        )  # fmt: skip
        if vectors.rows_read:  # part of it is inside the "topics" step's time (a refit)
            timings["load_embeddings"] = _timing(vectors.read_seconds)
        all_units["topic_id"] = assignments["topic_id"].to_numpy()

        tables = assemble_tables(previous, records, all_units, assignments, state, run_id)
        tables.update(
            timed(
                "aggregate",
                build_aggregates,
                tables["documents"],
                tables["units"],
                tables["topics"],
                config,
                run_id,
                affected_days(all_units, previous["units"]["topic_id"]),
                previous["daily_aggregates"],
            )
        )
        tables["alerts"] = keep_first_runs(tables["alerts"], previous["alerts"])
        tables["quarantine"] = merge_quarantine(previous["quarantine"], ingested, cleaned, run_id)
        tables["source_watermarks"] = watermark_table(
            previous["source_watermarks"], ingested.watermarks, run_id
        )
        # Each chat turn is published once (later turns of a session as a continuation
        # document), so each is checked once.
        fresh_chats = timed("service_qa", chat_tables, records, labelled, qa_rules, run_id)
        for name, frame in fresh_chats.items():
            tables[name] = pd.concat([previous[name], frame], ignore_index=True)
        tables["satisfaction_daily"] = timed(
            "satisfaction", satisfaction_daily, tables["documents"], tables["units"],
            config.satisfaction.repeat_window_days,
        )  # fmt: skip
        report_html = None
        if config.publish.report:
            from voc.report import render_report

            report_html = timed("report", render_report, tables, taxonomy, run_id)
        run_row = {
            "run_id": run_id,
            "started_at": started,
            "finished_at": dt.datetime.now().replace(microsecond=0),
            "status": "succeeded",
            "config_hash": config.config_hash(),
            "embed_model": embedder.model_id,
            "classifier": classifier.name,
            "rows_read": sum(a["read"] for a in accounting.values()),
            "rows_published": sum(a["published"] for a in accounting.values()),
            "rows_duplicate": sum(a["duplicates"] for a in accounting.values()),
            "rows_quarantined": sum(a["quarantined"] for a in accounting.values()),
            "documents_new": int(records["doc_id"].nunique()),
            "units_new": len(labelled),
            "units_total": len(all_units),
            "per_source": json.dumps(accounting, ensure_ascii=False),
            "timings": json.dumps(timings),
            "topic_outlier_share": outlier_share(assignments),
            "topic_refits": json.dumps(refit_reasons(state, run_id), ensure_ascii=False),
        }
        tables["runs"] = pd.concat([previous["runs"], pd.DataFrame([run_row])], ignore_index=True)

        snapshot = timed(
            "publish", store.publish, run_id, tables, report_html, run_row,
            keep=config.publish.keep_snapshots,
        )  # fmt: skip

    return RunSummary(
        run_id=run_id,
        out_dir=store.root,
        snapshot=snapshot,
        accounting=accounting,
        documents_new=run_row["documents_new"],
        units_new=run_row["units_new"],
        units_total=run_row["units_total"],
        embedded_new=embedded + embedder.computed,
        timings=timings,
        top_topics=top_topics(tables["topics"], tables["units"]),
        alerts=with_topic_labels(tables["alerts"], tables["topics"]),
        scope=scope,
        rows_left_out=left_out,
    )


def _timing(seconds: float) -> dict[str, float]:
    """A step's entry in the run's timings: its seconds and the process's peak RSS so far."""
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def embed_step(
    units: pd.DataFrame,
    model: Embedder,
    cache: EmbeddingCache,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Embed units through the cache; also return how many texts the model computed.

    The count travels with the result because the step may run on a Dask worker,
    where an embedder passed in is a copy whose counter the caller never sees.
    """
    embedder = CachedEmbedder(model, cache)
    return embed_units(units, embedder, progress=progress), embedder.computed


def _topics(
    timed: StepRunner,
    units: pd.DataFrame,
    vectors: UnitVectors,
    state: TopicState,
    previous: Snapshot,
    taxonomy: Taxonomy,
    config: VocConfig,
    embedder,
    tokenizer,
    run_id: str,
    refit: bool,
) -> tuple[pd.DataFrame, TopicState]:
    """Topics in three timed steps (see :func:`voc.topics.discover_topics`).

    ``topics`` checks drift and refits, ``assign_topics`` puts units on their
    category's centroids (plain arrays, so a flow may run it on a Dask worker) and
    ``describe_topics`` adds statistics, labels and representatives. Old units keep
    their stored topic where a new assignment would give the same
    (:func:`voc.topics.kept_assignments`), so only the others' vectors are read.
    """
    if not config.topics.enabled or units.empty:
        assignments = pd.DataFrame(
            {
                "unit_id": units["unit_id"],
                "topic_id": NO_TOPIC,
                "category": units["category"],
                "similarity": np.float32(0),
            }
        )
        return assignments, state
    tokens = JiebaTokens(tokenizer, taxonomy.stopwords)
    is_new = (units["run_id"] == run_id).to_numpy()
    plan = timed(
        "topics", plan_topics, units, vectors, state, taxonomy, config.topics, embedder,
        tokens, run_id, config.seed, refit=refit, is_new=is_new,
    )  # fmt: skip
    last_run_id = previous["runs"]["run_id"].max() if len(previous["runs"]) else None
    todo, topic_ids, similarity = kept_assignments(
        plan, units, is_new, previous["topic_assignments"], last_run_id, config.topics,
        embedder.model_id,
    )  # fmt: skip
    positions = np.flatnonzero(todo)
    topic_ids[positions], similarity[positions] = timed(
        "assign_topics", assign_topics, vectors[positions], units["category"].to_numpy()[positions],
        plan.centroids, config.topics.outlier_threshold,
    )  # fmt: skip
    return timed(
        "describe_topics", finish_topics, units, plan, topic_ids, similarity, taxonomy,
        config.topics, embedder.model_id, run_id,
    )  # fmt: skip


def with_dates(records: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Give every record the date it counts for: its document's first time, else today."""
    out = records.copy()
    first_time = out.groupby("doc_id")["created_at"].transform("min")
    out["date"] = first_time.dt.date.where(first_time.notna(), today)
    return out


def published_chat_turns(previous: Snapshot) -> pd.DataFrame:
    """The chat turns earlier runs published: the ``doc_id`` of their session, ``turn_index``.

    A turn is published as units (customer) or as an agent turn, in the session's
    document or in a continuation of it; both name the session by source and native id.
    """
    documents = previous["documents"]
    chats = documents[documents["source_kind"] == "chat"]
    session = pd.Series(
        [stable_id(s, n) for s, n in zip(chats["source"], chats["native_id"], strict=True)],
        index=chats["doc_id"].to_numpy(),
        dtype=object,
    )
    turns = pd.concat(
        [
            previous["units"][["doc_id", "turn_index"]],
            previous["agent_turns"][["doc_id", "turn_index"]],
        ],
        ignore_index=True,
    )
    turns = turns[turns["doc_id"].isin(session.index)]
    return turns.assign(doc_id=turns["doc_id"].map(session)).drop_duplicates()


def stamp_assignments(assignments: pd.DataFrame, stored: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Each assignment's ``run_id``: the run since which the unit has had this topic.

    A unit whose category and topic are those stored keeps the stored run; any other
    assignment (a new unit, a changed topic) is this run's.
    """
    before = stored.drop_duplicates("unit_id", keep="last").set_index("unit_id")
    unit_ids = assignments["unit_id"]
    old_topic, old_category = unit_ids.map(before["topic_id"]), unit_ids.map(before["category"])
    same = old_topic.eq(assignments["topic_id"]) & old_category.eq(assignments["category"])
    return assignments.assign(run_id=unit_ids.map(before["run_id"]).where(same, run_id))


def assemble_tables(
    previous,
    records: pd.DataFrame,
    units: pd.DataFrame,
    assignments: pd.DataFrame,
    state: TopicState,
    run_id: str,
) -> dict[str, pd.DataFrame]:
    """Build documents, units, agent_turns and topic tables (old rows + this run's)."""
    customer = records[~records["is_agent"]]
    unit_counts = units.groupby("doc_id").size()
    grouped = records.sort_values(["doc_id", "turn_index"]).groupby("doc_id", sort=False)
    docs = grouped.agg(
        source=("source", "first"),
        source_kind=("source_kind", "first"),
        native_id=("native_id", "first"),
        product=("product", "first"),
        user_id=("user_id", "first"),
        created_at=("created_at", "min"),
        date=("date", "first"),
        rating=("rating", "first"),
        is_default_review=("is_default_review", "any"),
    ).reset_index()
    texts = customer.sort_values(["doc_id", "turn_index"]).groupby("doc_id")["text"].agg("\n".join)
    docs["text"] = docs["doc_id"].map(texts).fillna("")
    docs["n_units"] = docs["doc_id"].map(unit_counts).fillna(0).astype("int32")
    docs["run_id"] = run_id

    agents = records[records["is_agent"]]
    agent_turns = agents[["doc_id", "turn_index", "product", "created_at", "text"]].assign(
        run_id=run_id
    )
    assignments = stamp_assignments(assignments, previous["topic_assignments"], run_id)
    return {
        "documents": pd.concat([previous["documents"], docs], ignore_index=True),
        "units": units,
        "agent_turns": pd.concat([previous["agent_turns"], agent_turns], ignore_index=True),
        "topics": state.topics,
        "topic_centroids": state.centroids,
        "topic_runs": state.runs,
        "topic_assignments": assignments,
    }


def build_aggregates(
    documents: pd.DataFrame,
    units: pd.DataFrame,
    topics: pd.DataFrame,
    config: VocConfig,
    run_id: str,
    days: set[dt.date] | None = None,
    previous_daily: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """daily_aggregates, product_scorecard and alerts, in DuckDB over the run's tables.

    With ``days`` (see :func:`voc.incremental.affected_days`), ``daily_aggregates`` is
    ``previous_daily`` with only those days recomputed.
    """
    with duckdb.connect(config={"threads": 1}) as con:
        con.register("documents", documents)
        con.register("units", units)
        con.register("topics", topics)
        return {
            "daily_aggregates": (
                daily_aggregates(con)
                if days is None
                else refresh_daily_aggregates(previous_daily, documents, units, days)
            ),
            "product_scorecard": product_scorecard(con),
            "alerts": all_alerts(con, config.alerts, run_id),
        }


def keep_first_runs(alerts: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """The alerts, each with the run that first raised it.

    Every run tests the whole history again, so ``alerts`` comes stamped with this
    run. An alert already in ``previous`` (the same ``alert_id``: day, cell and kind)
    keeps its run, even where late data changed its numbers: it is the same warning,
    already raised. So ``run_id`` tells a run's new alerts from those seen before.
    """
    raised = dict(zip(previous["alert_id"], previous["run_id"], strict=True))
    seen = alerts["alert_id"].isin(raised.keys())
    return alerts.assign(run_id=alerts["run_id"].mask(seen, alerts["alert_id"].map(raised)))


def merge_quarantine(
    previous: pd.DataFrame, ingested: IngestResult, cleaned: CleanResult, run_id: str
) -> pd.DataFrame:
    """Old quarantine rows plus this run's.

    A row quarantined again with the same content (the same file read again) is kept
    once, with the run that first set it aside; a new row at the same place (the
    file was overwritten) is kept too.
    """
    fresh = pd.concat([ingested.quarantine, cleaned.quarantine], ignore_index=True)
    fresh = fresh.assign(run_id=run_id)
    merged = pd.concat([previous, fresh], ignore_index=True)
    return merged.drop_duplicates(["source", "file", "row", "field", "reason", "raw"], keep="first")


def account(ingested: IngestResult, cleaned: CleanResult) -> dict[str, dict[str, int]]:
    """Per source: read = published + duplicates + quarantined, checked.

    Raises:
        AccountingError: if any source's rows do not add up (a bug: rows were lost).
    """
    published = cleaned.records.groupby("source").size()
    duplicates = cleaned.duplicates.groupby("source").size()
    quarantined = pd.concat([ingested.quarantine, cleaned.quarantine]).groupby("source").size()
    result = {}
    for source, read in ingested.rows_read.items():
        row = {
            "read": int(read),
            "published": int(published.get(source, 0)),
            "duplicates": int(duplicates.get(source, 0)),
            "quarantined": int(quarantined.get(source, 0)),
        }
        if row["read"] != row["published"] + row["duplicates"] + row["quarantined"]:
            raise AccountingError(
                f"source {source!r}: read {row['read']} rows but published {row['published']}"
                f" + duplicates {row['duplicates']} + quarantined {row['quarantined']}"
            )
        result[source] = row
    return result


def with_topic_labels(alerts: pd.DataFrame, topics: pd.DataFrame) -> pd.DataFrame:
    """The alerts with their topic's label (``topic_label``; empty for a whole category)."""
    labels = dict(zip(topics["topic_id"], topics["label"], strict=True))
    return alerts.assign(topic_label=[labels.get(t, "") for t in alerts["topic_id"]])


def top_topics(topics: pd.DataFrame, units: pd.DataFrame, per_category: int = 3) -> pd.DataFrame:
    """The largest active topics of each actionable category, with negative counts."""
    if topics.empty:
        return pd.DataFrame(columns=["category", "topic_id", "label", "units", "negative"])
    counts = (
        units[units["topic_id"] != NO_TOPIC]
        .groupby("topic_id")
        .agg(
            units=("unit_id", "size"), negative=("polarity", lambda p: int((p == "negative").sum()))
        )
    )
    active = topics[topics["status"] == "active"].set_index("topic_id")
    joined = active[["category", "label"]].join(counts, how="inner").reset_index()
    joined = joined.sort_values(["category", "units", "topic_id"], ascending=[True, False, True])
    return joined.groupby("category").head(per_category).reset_index(drop=True)
