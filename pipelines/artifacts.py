"""Prefect artifacts of a run: a markdown summary, the top issues, a link to the report.

Only published, PII-masked text reaches an artifact (topic labels are built from
masked units), and no verbatim customer text at all: the report holds those.
"""

from __future__ import annotations

import datetime as dt

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from voc.pipeline import RunSummary

ACCOUNTING = ("read", "published", "duplicates", "quarantined")


def summary_markdown(summary: RunSummary, flow_name: str) -> str:
    """The run's row accounting, counts and alerts as markdown."""
    lines = [
        f"# voc {flow_name} run `{summary.run_id}`",
        "",
        f"Scope: {describe_scope(summary)}",
        "",
        "| source | " + " | ".join(ACCOUNTING) + " | outside the scope |",
        "| :--- | " + " | ".join("---:" for _ in ACCOUNTING) + " | ---: |",
    ]
    for source, row in summary.accounting.items():
        cells = " | ".join(f"{row[k]:,}" for k in ACCOUNTING)
        lines.append(f"| {source} | {cells} | {summary.rows_left_out.get(source, 0):,} |")
    lines += [
        "",
        f"- {summary.documents_new:,} new documents, {summary.units_new:,} new units"
        f" ({summary.units_total:,} in the store)",
        f"- {summary.embedded_new:,} texts sent to the embedding model (the rest were cached)",
        f"- alerts (差评预警 negative-review spikes and emerging topics): {len(summary.new_alerts):,}"
        f" raised by this run, {len(summary.alerts):,} in the store",
        f"- outputs: `{summary.out_dir}` (snapshot `{summary.snapshot.name}`)",
    ]
    seconds = sum(step["seconds"] for step in summary.timings.values())
    lines.append(f"- {seconds:.1f} s in the pipeline steps")
    return "\n".join(lines) + "\n"


def describe_scope(summary: RunSummary) -> str:
    """One line: what the run covered."""
    scope = summary.scope
    parts = []
    if scope.since_watermark:
        parts.append("rows newer than the store's watermark")
    if scope.products:
        parts.append("products " + ", ".join(scope.products))
    if scope.start or scope.end:
        parts.append(f"days {scope.start or '…'} to {scope.end or '…'}")
    if scope.sources:
        parts.append("sources " + ", ".join(scope.sources))
    return "; ".join(parts) or "everything in the configured sources"


def top_issues(summary: RunSummary) -> list[dict[str, object]]:
    """The largest topics per category (those in the scope's categories, if any)."""
    topics = summary.top_topics
    if summary.scope.categories and not topics.empty:
        topics = topics[topics["category"].isin(summary.scope.categories)]
    return [
        {
            "category": row.category,
            "topic_id": int(row.topic_id),
            "topic": str(row.label),
            "units": int(row.units),
            "negative": int(row.negative),
        }
        for row in topics.itertuples()
    ]


def publish_artifacts(summary: RunSummary, flow_name: str) -> None:
    """Create the summary, top-issues and report-link artifacts of one run."""
    create_markdown_artifact(
        summary_markdown(summary, flow_name),
        key=f"voc-{flow_name}-summary",
        description=f"voc {flow_name}: row accounting and counts",
    )
    create_table_artifact(
        top_issues(summary),
        key=f"voc-{flow_name}-top-issues",
        description="Largest topics per category (negative: units with negative polarity)",
    )
    report = summary.out_dir / "report.html"
    if report.exists():
        create_link_artifact(
            report.resolve().as_uri(),
            link_text="HTML report",
            key=f"voc-{flow_name}-report",
            description=f"The report of run {summary.run_id}",
        )


def publish_backfill_artifact(
    start: dt.date, end: dt.date, run_ids: list[str], skipped: list[dt.date]
) -> None:
    """A markdown note of which days a backfill ran and which it found done already."""
    lines = [
        f"# voc backfill {start} to {end}",
        "",
        f"- {len(run_ids)} days processed: " + (", ".join(f"`{r}`" for r in run_ids) or "none"),
        f"- {len(skipped)} days already done, skipped: "
        + (", ".join(str(d) for d in skipped) or "none"),
    ]
    create_markdown_artifact("\n".join(lines) + "\n", key="voc-backfill-summary")
