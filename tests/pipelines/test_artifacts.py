from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import pipelines.artifacts
from pipelines.artifacts import (
    describe_scope,
    publish_backfill_artifact,
    summary_markdown,
    top_issues,
)
from voc.pipeline import RunSummary
from voc.scope import RunScope


def _summary(scope: RunScope | None = None, top_topics: pd.DataFrame | None = None) -> RunSummary:
    out = Path("/srv/voc/out")
    return RunSummary(
        run_id="20261106T020000-abcdef",
        out_dir=out,
        snapshot=out / "snapshots" / "20261106T020000-abcdef",
        accounting={"a.csv": {"read": 3, "published": 3, "duplicates": 0, "quarantined": 0}},
        documents_new=3,
        units_new=4,
        units_total=4,
        embedded_new=4,
        top_topics=pd.DataFrame() if top_topics is None else top_topics,
        scope=scope or RunScope(),
    )


TOPICS = pd.DataFrame(
    {
        "category": ["product_quality", "product_quality", "logistics"],
        "topic_id": [3, 7, 12],
        "label": ["掉色 / 褪色", "起球", "物流慢"],
        "units": [40, 15, 22],
        "negative": [38, 14, 20],
    }
)


def test_top_issues_lists_every_topic_as_plain_values():
    issues = top_issues(_summary(top_topics=TOPICS))
    assert issues == [
        {
            "category": "product_quality",
            "topic_id": 3,
            "topic": "掉色 / 褪色",
            "units": 40,
            "negative": 38,
        },
        {
            "category": "product_quality",
            "topic_id": 7,
            "topic": "起球",
            "units": 15,
            "negative": 14,
        },
        {"category": "logistics", "topic_id": 12, "topic": "物流慢", "units": 22, "negative": 20},
    ]
    assert [type(v) for v in issues[0].values()] == [str, int, str, int, int]


def test_top_issues_keeps_only_the_scopes_categories():
    scope = RunScope(categories=("logistics",))
    assert top_issues(_summary(scope, TOPICS)) == [
        {"category": "logistics", "topic_id": 12, "topic": "物流慢", "units": 22, "negative": 20}
    ]


def test_top_issues_of_a_run_without_topics_is_empty_whatever_the_scope():
    # the summary's default frame has no columns at all: the category filter must not run on it
    assert top_issues(_summary(RunScope(categories=("logistics",)))) == []


@pytest.mark.parametrize(
    ("scope", "line"),
    [
        (RunScope(), "everything in the configured sources"),
        (RunScope(since_watermark=True), "rows newer than the store's watermark"),
        (RunScope(products=("耳机", "T恤")), "products 耳机, T恤"),
        (RunScope(start=dt.date(2026, 11, 1)), "days 2026-11-01 to …"),
        (RunScope(end=dt.date(2026, 11, 5)), "days … to 2026-11-05"),
        (RunScope(sources=("a.csv", "b.csv")), "sources a.csv, b.csv"),
        (
            RunScope(
                since_watermark=True,
                products=("耳机",),
                start=dt.date(2026, 11, 1),
                end=dt.date(2026, 11, 5),
                sources=("a.csv",),
            ),
            "rows newer than the store's watermark; products 耳机; days 2026-11-01 to 2026-11-05;"
            " sources a.csv",
        ),
    ],
)
def test_describe_scope(scope, line):
    assert describe_scope(_summary(scope)) == line


def test_summary_counts_the_alerts_this_run_raised():
    summary = _summary()
    summary.alerts = pd.DataFrame({"run_id": ["20261105T020000-000000", summary.run_id] * 2})
    markdown = summary_markdown(summary, "voc-run")
    assert (
        "- alerts (差评预警 negative-review spikes and emerging topics): 2 raised by this run,"
        " 4 in the store\n"
    ) in markdown
    assert "raised by this run, 0 in the store" in summary_markdown(_summary(), "voc-run")


@pytest.fixture
def markdown_artifacts(monkeypatch) -> list[tuple[str, str]]:
    """(key, markdown) of each markdown artifact created, instead of sending it to Prefect."""
    created = []
    monkeypatch.setattr(
        pipelines.artifacts,
        "create_markdown_artifact",
        lambda markdown, key: created.append((key, markdown)),
    )
    return created


def test_backfill_artifact_lists_the_runs_and_the_skipped_days(markdown_artifacts):
    publish_backfill_artifact(
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 4),
        ["20261106T020000-aaaaaa", "20261106T020100-bbbbbb"],
        [dt.date(2026, 10, 1), dt.date(2026, 10, 2)],
    )
    assert markdown_artifacts == [
        (
            "voc-backfill-summary",
            "# voc backfill 2026-10-01 to 2026-10-04\n"
            "\n"
            "- 2 days processed: `20261106T020000-aaaaaa`, `20261106T020100-bbbbbb`\n"
            "- 2 days already done, skipped: 2026-10-01, 2026-10-02\n",
        )
    ]


def test_backfill_artifact_says_none_for_an_empty_list(markdown_artifacts):
    publish_backfill_artifact(
        dt.date(2026, 10, 1), dt.date(2026, 10, 1), [], [dt.date(2026, 10, 1)]
    )
    ((_, markdown),) = markdown_artifacts
    assert "- 0 days processed: none\n" in markdown
    assert "- 1 days already done, skipped: 2026-10-01\n" in markdown
    publish_backfill_artifact(dt.date(2026, 10, 2), dt.date(2026, 10, 2), ["r"], [])
    assert markdown_artifacts[1][1].endswith("- 0 days already done, skipped: none\n")
