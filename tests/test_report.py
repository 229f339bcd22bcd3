from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from tests.contract import contract_frame
from voc.report import render_report
from voc.satisfaction import satisfaction_daily
from voc.schemas import TABLES, conform, empty

HOSTILE_TEXT = "<script>alert('xss')</script> 质量差'; DROP TABLE units; --"
HOSTILE_PRODUCT = "耳机'><img src=x onerror=alert(1)>"
HOSTILE_LINK = '<a href="https://evil.example/">点我</a>'


def report_tables() -> dict[str, pd.DataFrame]:
    """Two products over 20 days, two product-quality topics, one alert, one scorecard row."""
    start = dt.date(2026, 10, 1)
    rows = []
    for day in range(20):
        pairs = [("耳机", 1), ("耳机", 2), ("充电宝", 2), (HOSTILE_PRODUCT, 1)]
        for n, (product, topic) in enumerate(pairs):
            unit = f"u{day}-{n}"
            text = HOSTILE_TEXT if (day, topic) == (19, 1) else f"第{day}天 左耳没声音"
            rows.append(
                {
                    "unit_id": unit, "doc_id": f"d{unit}", "source_kind": "review",
                    "product": product, "date": start + dt.timedelta(days=day), "text": text,
                    "category": "product_quality", "polarity": "negative", "confidence": 0.9,
                    "topic_id": topic,
                }
            )  # fmt: skip
    units = contract_frame("units", pd.DataFrame(rows).to_dict("list"))
    assert units["unit_id"].is_unique
    documents = contract_frame(
        "documents",
        {"doc_id": units["doc_id"], "product": units["product"], "date": units["date"],
         "rating": 2.0},
    )  # fmt: skip
    topics = contract_frame(
        "topics",
        {"topic_id": [1, 2], "category": "product_quality", "label": ["没声音 · 故障", "充不进电"],
         "keywords": ["没声音,左耳", "充电,电量"],
         "representative_unit_ids": [units["unit_id"].iloc[-1], units["unit_id"].iloc[1]],
         "status": "active"},
    )  # fmt: skip
    alerts = contract_frame(
        "alerts",
        {"alert_id": ["a1"], "date": [start + dt.timedelta(days=19)], "kind": "negative_volume",
         "product": HOSTILE_PRODUCT, "category": "product_quality", "topic_id": -1, "units": 9,
         "observed": 9.0, "expected": 1.2, "baseline_share": 0.1, "statistic": 7.1,
         "p_value": 1e-6, "severity": "high", "example_unit_ids": units["unit_id"].iloc[-1]},
    )  # fmt: skip
    card = contract_frame(
        "product_scorecard",
        {"as_of": [start + dt.timedelta(days=19)], "product": "耳机",
         "category": "product_quality", "topic_id": 1, "topic_label": "没声音 · 故障", "rank": 1,
         "units": 20, "documents": 20, "negative_share": 1.0, "units_last_7d": 7,
         "units_prev_7d": 7, "trend": 0.0, "avg_rating": 2.0, "product_avg_rating": 3.0,
         "rating_impact": -1.0, "example_unit_ids": units["unit_id"].iloc[0]},
    )  # fmt: skip
    tables = {name: empty(name) for name in TABLES}
    tables.update(
        units=units, documents=documents, topics=topics, alerts=alerts, product_scorecard=card
    )
    return tables


@pytest.fixture(scope="module")
def page(taxonomy) -> str:
    return render_report(report_tables(), taxonomy, "run-1")


def test_customer_text_and_product_names_are_escaped(page):
    assert "<script>alert('xss')" not in page
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "data-product='耳机&#x27;&gt;&lt;img src=x onerror=alert(1)&gt;'" in page


def test_alerts_come_first_then_overview_scorecard_and_categories(page):
    order = ["<h2>差评预警 Alerts", "<h2>概览 Overview", "<h2>产品记分卡", "<h2>产品质量问题"]
    positions = [page.index(heading) for heading in order]
    assert positions == sorted(positions)


def test_product_filter_offers_every_product_and_tags_rows(page):
    options = re.findall(r"<option value='([^']*)'", page)
    assert options[0] == "*"
    assert set(options[1:]) == {
        "耳机",
        "充电宝",
        "耳机&#x27;&gt;&lt;img src=x onerror=alert(1)&gt;",
    }
    assert page.count("<tr data-product=") == 2  # the alert and the scorecard row
    # one trace set for all products plus one per product, in each chart
    assert page.count('"meta":"*"') == 1 + 2  # category chart: 1 category; topic chart: 2 topics
    assert '"meta":"充电宝"' in page


def test_report_is_self_contained(page):
    assert get_plotlyjs() in page  # the library itself is inline
    ours = page.replace(get_plotlyjs(), "")  # (plotly.js mentions its web site in strings)
    assert "<script src" not in ours.replace(" ", "")
    assert not re.search(r"""(src|href)=["']https?://""", ours)
    assert "<meta charset='utf-8'>" in page


def _trace_names(page: str) -> list[str]:
    figures = page.replace(get_plotlyjs(), "")  # (the library has "name": in it too)
    return [json.loads(name) for name in re.findall(r'"name":("(?:[^"\\]|\\.)*")', figures)]


def test_chart_legends_show_product_and_topic_names_as_text(taxonomy):
    tables = report_tables()
    tables["topics"]["label"] = [HOSTILE_LINK, "<b>充不进电</b>"]
    for name in ("units", "documents"):
        tables[name]["product"] = tables[name]["product"].replace("充电宝", HOSTILE_LINK)
    tables["documents"]["source_kind"] = "review"
    tables["satisfaction_daily"] = satisfaction_daily(tables["documents"], tables["units"])
    names = _trace_names(render_report(tables, taxonomy, "run-1"))

    assert names and not [name for name in names if "<" in name or ">" in name]
    link = '&lt;a href="https://evil.example/"&gt;点我&lt;/a&gt;'
    assert link in names  # the topic chart
    assert f"{link} (review)" in names  # the satisfaction chart, one trace per product
    assert "&lt;b&gt;充不进电&lt;/b&gt;" in names
    assert "耳机'&gt;&lt;img src=x onerror=alert(1)&gt; (review)" in names


def test_satisfaction_counts_are_integers_in_both_report_paths(taxonomy):
    tables = report_tables()
    daily = satisfaction_daily(tables["documents"], tables["units"])  # as `voc run` has it
    published = conform(daily, "satisfaction_daily").to_pandas()  # as `voc report` reads it
    pages = {}
    for path, frame in (("run", daily), ("report", published)):
        page = render_report({**tables, "satisfaction_daily": frame}, taxonomy, "run-1")
        pages[path] = re.search(r"<table id='satisfaction'>.*?</table>", page).group()

    assert pages["run"] == pages["report"]
    assert "<td>40</td>" in pages["run"]  # 耳机's documents
    assert "(0 of 0)" in pages["run"]
    assert not re.search(r"\d\.0\b", pages["run"])


def test_empty_run_renders(taxonomy):
    page = render_report({name: empty(name) for name in TABLES}, taxonomy, "empty")
    assert "No documents yet." in page and "No negative-review spikes." in page
