"""A self-contained HTML report of one run: alerts first, then each category's topics.

Everything is inline (plotly's JavaScript included, no CDN: the report must open on
an offline machine), and every piece of customer text is HTML-escaped.
"""

from __future__ import annotations

import html
from functools import cache

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from voc.schemas import NO_TOPIC
from voc.taxonomy import Taxonomy

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2rem;color:#222}
h1{font-size:1.6rem} h2{border-bottom:2px solid #ddd;padding-bottom:.3rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{border:1px solid #ddd;padding:.3rem .6rem;font-size:.9rem}
th{background:#f5f5f5} .high{color:#b00020;font-weight:bold} .medium{color:#d35400} .low{color:#666}
.verbatim{color:#444;font-size:.9rem;margin:.1rem 0 .1rem 1rem} .kpi{display:inline-block;margin-right:2rem}
.kpi b{font-size:1.4rem;display:block}
"""


@cache
def _plotly_js() -> str:
    return get_plotlyjs()


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def render_report(tables: dict[str, pd.DataFrame], taxonomy: Taxonomy, run_id: str) -> str:
    """Render the report.

    Args:
        tables: The run's tables (documents, units, topics, daily_aggregates, alerts, ...).
        taxonomy: For the Chinese category names.
        run_id: Shown in the header.

    Returns:
        One HTML document with no external references.
    """
    units, topics, alerts = tables["units"], tables["topics"], tables["alerts"]
    documents = tables["documents"]
    names = {c.id: c.name_zh for c in taxonomy.categories}
    texts = units.set_index("unit_id")["text"] if len(units) else pd.Series(dtype=object)
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>VOC report {_e(run_id)}</title><style>{_CSS}</style>",
        f"<script type='text/javascript'>{_plotly_js()}</script></head><body>",
        f"<h1>VOC 客户之声报告</h1><p>run {_e(run_id)}</p>",
        _overview(documents, units),
        "<h2>差评预警 Alerts</h2>",
        _alerts(alerts, names, texts),
        _category_chart(units, names),
    ]
    for category in taxonomy.categories:
        if category.id == "other":
            continue
        parts.append(f"<h2>{_e(category.name_zh)} ({_e(category.id)})</h2>")
        parts.append(_category_topics(category.id, topics, units, texts))
    parts.append("</body></html>")
    return "\n".join(parts)


def _overview(documents: pd.DataFrame, units: pd.DataFrame) -> str:
    if documents.empty:
        return "<p>No documents yet.</p>"
    dates = pd.to_datetime(documents["date"])
    kpis = [
        ("documents", len(documents)),
        ("units", len(units)),
        ("products", documents["product"].nunique()),
        ("days", f"{dates.min():%Y-%m-%d} – {dates.max():%Y-%m-%d}"),
        (
            "negative units",
            f"{(units['polarity'] == 'negative').mean():.0%}" if len(units) else "-",
        ),
    ]
    return "".join(f"<div class='kpi'><b>{_e(v)}</b>{_e(k)}</div>" for k, v in kpis)


def _alerts(alerts: pd.DataFrame, names: dict[str, str], texts: pd.Series) -> str:
    if alerts.empty:
        return "<p>No negative-review spikes.</p>"
    rows = ["<table><tr><th>date</th><th>product</th><th>category</th><th>negative / units</th>"
            "<th>expected</th><th>p</th><th>severity</th><th>examples</th></tr>"]  # fmt: skip
    for alert in alerts.sort_values(["date", "p_value"], ascending=[False, True]).itertuples():
        examples = "".join(
            f"<div class='verbatim'>“{_e(texts.get(u, ''))}”</div>"
            for u in str(alert.example_unit_ids).split(",")[:3]
            if u
        )
        rows.append(
            f"<tr><td>{_e(alert.date)}</td><td>{_e(alert.product)}</td>"
            f"<td>{_e(names.get(alert.category, alert.category))}</td>"
            f"<td>{alert.observed:.0f} / {alert.units}</td><td>{alert.expected:.1f}</td>"
            f"<td>{alert.p_value:.1e}</td><td class='{_e(alert.severity)}'>{_e(alert.severity)}</td>"
            f"<td>{examples}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _category_chart(units: pd.DataFrame, names: dict[str, str]) -> str:
    if units.empty:
        return ""
    daily = units.groupby([pd.to_datetime(units["date"]), "category"]).size().unstack(fill_value=0)
    figure = go.Figure()
    for category in daily.columns:
        figure.add_trace(
            go.Scatter(
                x=daily.index, y=daily[category], mode="lines", name=names.get(category, category)
            )
        )
    figure.update_layout(title="每日声量 Daily units by category", height=360, margin={"t": 40})
    return "<h2>趋势 Trends</h2>" + figure.to_html(full_html=False, include_plotlyjs=False)


def _category_topics(
    category: str, topics: pd.DataFrame, units: pd.DataFrame, texts: pd.Series, top: int = 5
) -> str:
    in_category = units[units["category"] == category]
    if in_category.empty:
        return "<p>No units.</p>"
    negative = (in_category["polarity"] == "negative").mean()
    head = f"<p>{len(in_category)} units, {negative:.0%} negative.</p>"
    counts = in_category[in_category["topic_id"] != NO_TOPIC]["topic_id"].value_counts()
    if counts.empty:
        return head + "<p>No topics (too few units).</p>"
    chosen = topics.set_index("topic_id").reindex(counts.index[:top])
    body = ["<table><tr><th>topic</th><th>units</th><th>keywords</th><th>verbatims</th></tr>"]
    for topic_id, row in chosen.iterrows():
        examples = "".join(
            f"<div class='verbatim'>“{_e(texts.get(u, ''))}”</div>"
            for u in str(row["representative_unit_ids"]).split(",")[:3]
            if u
        )
        body.append(
            f"<tr><td>{_e(row['label'])}</td><td>{counts[topic_id]}</td>"
            f"<td>{_e(row['keywords'])}</td><td>{examples}</td></tr>"
        )
    body.append("</table>")
    return head + "".join(body)
