"""A self-contained HTML report of one run: alerts first, then the scorecard and topics.

Everything is inline (plotly's JavaScript included, no CDN: the report must open on
an offline machine), and every piece of customer text is HTML-escaped, in the page
and in the charts (plotly draws ``<b>``, ``<a href>`` and the like in trace names).

The product filter at the top is a few lines of plain JavaScript: table rows carry a
``data-product`` attribute, and every chart holds one set of traces for all products
(``meta="*"``) plus one set per product, of which only the chosen set is visible.
"""

from __future__ import annotations

import html
from functools import cache

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from voc.schemas import NO_TOPIC
from voc.taxonomy import Taxonomy

ALL = "*"
MAX_FILTER_PRODUCTS = 30  # products with their own chart traces; the rest count in "all"

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC","WenQuanYi Zen Hei",sans-serif}
body{margin:2rem;color:#222}
h1{font-size:1.6rem} h2{border-bottom:2px solid #ddd;padding-bottom:.3rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{border:1px solid #ddd;padding:.3rem .6rem;font-size:.9rem}
th{background:#f5f5f5} .high{color:#b00020;font-weight:bold} .medium{color:#d35400} .low{color:#666}
.verbatim{color:#444;font-size:.9rem;margin:.1rem 0 .1rem 1rem} .kpi{display:inline-block;margin-right:2rem}
.kpi b{font-size:1.4rem;display:block} .filter{position:sticky;top:0;background:#fff;padding:.5rem 0}
"""

_FILTER_JS = """
function vocFilter(product) {
  document.querySelectorAll('[data-product]').forEach(function (el) {
    el.style.display = (product === '*' || el.dataset.product === product) ? '' : 'none';
  });
  document.querySelectorAll('.js-plotly-plot').forEach(function (chart) {
    var visible = chart.data.map(function (trace) { return trace.meta === product; });
    Plotly.restyle(chart, {visible: visible});
  });
}
"""


@cache
def _plotly_js() -> str:
    return get_plotlyjs()


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _plot_text(value: object) -> str:
    """Text for plotly, which renders the tags in it: ``&``, ``<``, ``>`` escaped.

    Quotes stay as they are: plotly decodes ``&amp; &lt; &gt;`` and numeric
    entities but would show ``&quot;`` literally.
    """
    return html.escape(str(value), quote=False)


def render_report(tables: dict[str, pd.DataFrame], taxonomy: Taxonomy, run_id: str) -> str:
    """Render the report.

    Args:
        tables: The run's tables (documents, units, topics, product_scorecard, alerts, ...).
        taxonomy: For the Chinese category names.
        run_id: Shown in the header.

    Returns:
        One HTML document with no external references.
    """
    units, topics, alerts = tables["units"], tables["topics"], tables["alerts"]
    documents = tables["documents"]
    names = {c.id: c.name_zh for c in taxonomy.categories}
    texts = units.set_index("unit_id")["text"] if len(units) else pd.Series(dtype=object)
    products = _filter_products(units)
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<link rel='icon' href='data:,'>",  # no favicon request to a server that has none
        f"<title>VOC report {_e(run_id)}</title><style>{_CSS}</style>",
        f"<script type='text/javascript'>{_plotly_js()}</script>",
        f"<script type='text/javascript'>{_FILTER_JS}</script></head><body>",
        f"<h1>VOC 客户之声报告</h1><p>run {_e(run_id)}</p>",
        _product_filter(products),
        "<h2>差评预警 Alerts</h2>",
        _alerts(alerts, names, texts),
        "<h2>概览 Overview</h2>",
        _overview(documents, units),
        _category_chart(units, names, products),
        "<h2>产品记分卡 Product scorecard</h2>",
        _scorecard(tables.get("product_scorecard"), names, texts),
        "<h2>客服质检 Service quality</h2>",
        _service_qa(tables.get("service_qa"), tables.get("consultations")),
        "<h2>满意度 Satisfaction</h2>",
        _satisfaction(tables.get("satisfaction_daily"), products),
    ]
    for category in taxonomy.categories:
        if category.id == "other":
            continue
        parts.append(f"<h2>{_e(category.name_zh)} ({_e(category.id)})</h2>")
        parts.append(_category_topics(category.id, topics, units, texts, products))
    parts.append("</body></html>")
    return "\n".join(parts)


def _filter_products(units: pd.DataFrame) -> list[str]:
    """The products offered in the filter: the largest ones, by units."""
    if units.empty:
        return []
    counts = units["product"].fillna("").value_counts()
    return sorted(str(p) for p in counts.index[:MAX_FILTER_PRODUCTS])


def _product_filter(products: list[str]) -> str:
    options = [f"<option value='{ALL}'>全部 All products</option>"]
    options += [f"<option value='{_e(p)}'>{_e(p or '(no product)')}</option>" for p in products]
    return (
        "<div class='filter'><label for='product-filter'>产品 Product: </label>"
        "<select id='product-filter' onchange='vocFilter(this.value)'>"
        + "".join(options)
        + "</select></div>"
    )


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


def _verbatims(unit_ids: object, texts: pd.Series, limit: int = 3) -> str:
    return "".join(
        f"<div class='verbatim'>“{_e(texts.get(u, ''))}”</div>"
        for u in str(unit_ids or "").split(",")[:limit]
        if u
    )


def _alerts(alerts: pd.DataFrame, names: dict[str, str], texts: pd.Series) -> str:
    if alerts.empty:
        return "<p>No negative-review spikes.</p>"
    rows = ["<table id='alerts'><tr><th>date</th><th>kind</th><th>product</th><th>category</th>"
            "<th>observed / units</th><th>expected</th><th>p</th><th>severity</th>"
            "<th>examples</th></tr>"]  # fmt: skip
    for alert in alerts.sort_values(["date", "p_value"], ascending=[False, True]).itertuples():
        rows.append(
            f"<tr data-product='{_e(alert.product)}'><td>{_e(alert.date)}</td>"
            f"<td>{_e(alert.kind)}</td><td>{_e(alert.product)}</td>"
            f"<td>{_e(names.get(alert.category, alert.category))}</td>"
            f"<td>{alert.observed:.0f} / {alert.units}</td><td>{alert.expected:.1f}</td>"
            f"<td>{alert.p_value:.1e}</td><td class='{_e(alert.severity)}'>{_e(alert.severity)}</td>"
            f"<td>{_verbatims(alert.example_unit_ids, texts)}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _scorecard(card: pd.DataFrame | None, names: dict[str, str], texts: pd.Series) -> str:
    if card is None or card.empty:
        return "<p>No topics per product yet.</p>"
    rows = ["<table id='scorecard'><tr><th>product</th><th>category</th><th>#</th><th>topic</th>"
            "<th>units</th><th>negative</th><th>7-day trend</th><th>rating impact</th>"
            "<th>verbatims</th></tr>"]  # fmt: skip
    for row in card.sort_values(["product", "category", "rank"]).itertuples():
        impact = "-" if pd.isna(row.rating_impact) else f"{row.rating_impact:+.2f}"
        rows.append(
            f"<tr data-product='{_e(row.product)}'><td>{_e(row.product)}</td>"
            f"<td>{_e(names.get(row.category, row.category))}</td><td>{row.rank}</td>"
            f"<td>{_e(row.topic_label)}</td><td>{row.units}</td>"
            f"<td>{row.negative_share:.0%}</td>"
            f"<td>{row.units_prev_7d} → {row.units_last_7d}</td><td>{impact}</td>"
            f"<td>{_verbatims(row.example_unit_ids, texts, limit=2)}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _daily_lines(
    units: pd.DataFrame, key: str, labels: dict, products: list[str], title: str
) -> go.Figure:
    """Daily units per ``key`` value: one trace set for all products, one per product."""
    figure = go.Figure()
    dates = pd.to_datetime(units["date"])
    span = pd.date_range(dates.min(), dates.max(), freq="D")
    for product in [ALL, *products]:
        subset = units if product == ALL else units[units["product"] == product]
        daily = (
            subset.groupby([pd.to_datetime(subset["date"]), key])
            .size()
            .unstack(fill_value=0)
            .reindex(span, fill_value=0)
        )
        for value in daily.columns:
            figure.add_trace(
                go.Scatter(
                    x=daily.index, y=daily[value], mode="lines",
                    name=_plot_text(labels.get(value, value)), meta=product,
                    visible=product == ALL,
                    legendgroup=str(value),
                )
            )  # fmt: skip
    figure.update_layout(title=title, height=340, margin={"t": 40})
    return figure


def _category_chart(units: pd.DataFrame, names: dict[str, str], products: list[str]) -> str:
    if units.empty:
        return ""
    figure = _daily_lines(units, "category", names, products, "每日声量 Daily units by category")
    return "<h2>趋势 Trends</h2>" + figure.to_html(full_html=False, include_plotlyjs=False)


def _category_topics(
    category: str,
    topics: pd.DataFrame,
    units: pd.DataFrame,
    texts: pd.Series,
    products: list[str],
    top: int = 5,
) -> str:
    in_category = units[units["category"] == category]
    if in_category.empty:
        return "<p>No units.</p>"
    negative = (in_category["polarity"] == "negative").mean()
    head = f"<p>{len(in_category)} units, {negative:.0%} negative.</p>"
    with_topic = in_category[in_category["topic_id"] != NO_TOPIC]
    counts = with_topic["topic_id"].value_counts()
    if counts.empty:
        return head + "<p>No topics (too few units).</p>"
    chosen = topics.set_index("topic_id").reindex(counts.index[:top])
    body = ["<table><tr><th>topic</th><th>units</th><th>keywords</th><th>verbatims</th></tr>"]
    for topic_id, row in chosen.iterrows():
        body.append(
            f"<tr><td>{_e(row['label'])}</td><td>{counts[topic_id]}</td>"
            f"<td>{_e(row['keywords'])}</td>"
            f"<td>{_verbatims(row['representative_unit_ids'], texts)}</td></tr>"
        )
    body.append("</table>")
    trend = _daily_lines(
        with_topic[with_topic["topic_id"].isin(chosen.index)],
        "topic_id",
        chosen["label"].to_dict(),
        products,
        "每日声量 Daily units of the top topics",
    )
    chart = trend.to_html(full_html=False, include_plotlyjs=False)
    return head + "".join(body) + chart


SHOWN_FINDINGS = 50  # the report lists the most severe; the table holds them all
_CONSULTATION_COLUMNS = {
    "units_product_need": "产品需求 needs",
    "units_campaign_issue": "活动 campaign",
    "units_logistics": "物流 logistics",
    "units_service": "服务 service",
    "units_product_quality": "质量 quality",
}


def _service_qa(findings: pd.DataFrame | None, sessions: pd.DataFrame | None) -> str:
    """Chat sessions per product, finding counts per check, then the most severe findings."""
    if sessions is None or sessions.empty:
        return "<p>No customer-service chats.</p>"
    findings = findings if findings is not None else pd.DataFrame()
    first = sessions["first_response_s"].dropna()
    kpis = [
        ("chat sessions", len(sessions)),
        ("findings", len(findings)),
        ("sessions with findings", int((sessions["qa_findings"] > 0).sum())),
        ("median first response", f"{first.median():.0f} s" if len(first) else "no times"),
    ]
    parts = ["".join(f"<div class='kpi'><b>{_e(v)}</b>{_e(k)}</div>" for k, v in kpis)]
    parts.append(_consultations_by_product(sessions))
    if findings.empty:
        return "".join(parts) + "<p>No findings.</p>"
    counts = findings.groupby(["check_name", "severity"]).size().unstack(fill_value=0)
    levels = [s for s in ("high", "medium", "low") if s in counts.columns]
    rows = ["<table id='service-qa-counts'><tr><th>check</th>"]
    rows += [f"<th class='{s}'>{s}</th>" for s in levels] + ["</tr>"]
    for check, row in counts.iterrows():
        rows.append(f"<tr><td>{_e(check)}</td>" + "".join(f"<td>{row[s]}</td>" for s in levels))
        rows.append("</tr>")
    rows.append("</table>")
    parts.append("".join(rows))
    parts.append(_findings_table(findings))
    return "".join(parts)


def _consultations_by_product(sessions: pd.DataFrame) -> str:
    """What customers ask about per product: customer units per category, in chats."""
    per_product = sessions.groupby("product", dropna=False).agg(
        sessions=("doc_id", "size"),
        **{column: (column, "sum") for column in _CONSULTATION_COLUMNS},
        unanswered=("unanswered_questions", "sum"),
        findings=("qa_findings", "sum"),
        first_response=("first_response_s", "median"),
    )
    head = "".join(f"<th>{_e(label)}</th>" for label in _CONSULTATION_COLUMNS.values())
    rows = [f"<table id='consultations'><tr><th>product</th><th>sessions</th>{head}"
            "<th>unanswered questions</th><th>findings</th><th>median first response</th></tr>"]  # fmt: skip
    for product, row in per_product.iterrows():
        cells = "".join(f"<td>{int(row[c])}</td>" for c in _CONSULTATION_COLUMNS)
        first = "-" if pd.isna(row["first_response"]) else f"{row['first_response']:.0f} s"
        rows.append(
            f"<tr data-product='{_e(product)}'><td>{_e(product)}</td><td>{row['sessions']}</td>"
            f"{cells}<td>{int(row['unanswered'])}</td><td>{int(row['findings'])}</td>"
            f"<td>{first}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _findings_table(findings: pd.DataFrame) -> str:
    rank = findings["severity"].map({"high": 0, "medium": 1, "low": 2})
    shown = findings.assign(_rank=rank).sort_values(["_rank", "date", "session_id", "turn_index"])
    rows = [f"<p>The {min(len(shown), SHOWN_FINDINGS)} most severe of {len(shown)} findings "
            "(all of them are in the <code>service_qa</code> table).</p>"
            "<table id='service-qa'><tr><th>date</th><th>product</th><th>session</th><th>turn</th>"
            "<th>check</th><th>severity</th><th>matched</th><th>evidence</th></tr>"]  # fmt: skip
    for row in shown.head(SHOWN_FINDINGS).itertuples():
        rows.append(
            f"<tr data-product='{_e(row.product)}'><td>{_e(row.date)}</td><td>{_e(row.product)}</td>"
            f"<td>{_e(row.session_id)}</td><td>{_e(row.turn_index)}</td><td>{_e(row.check_name)}</td>"
            f"<td class='{_e(row.severity)}'>{_e(row.severity)}</td><td>{_e(row.matched)}</td>"
            f"<td><div class='verbatim'>“{_e(row.evidence)}”</div></td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _satisfaction(daily: pd.DataFrame | None, products: list[str]) -> str:
    """Per product and source kind over the whole period, then the 7-day negative share."""
    if daily is None or daily.empty:
        return "<p>No satisfaction figures yet.</p>"
    # Counts as integers whatever the input's dtypes: a run's own frame has some of them
    # as floats (DuckDB sums BIGINT to HUGEINT), and iterrows would turn every count
    # of a row into a float.
    totals = daily.groupby(["product", "source_kind"], dropna=False)[
        ["documents", "units", "negative_units", "rated", "promoters", "detractors",
         "complaints", "repeat_complaints"]
    ].sum().astype("int64")  # fmt: skip
    rows = ["<table id='satisfaction'><tr><th>product</th><th>source</th><th>documents</th>"
            "<th>negative units</th><th>rated</th><th>NPS-style score</th>"
            "<th>repeat complaints</th></tr>"]  # fmt: skip
    for (product, kind), row in totals.iterrows():
        negative = row["negative_units"] / row["units"] if row["units"] else None
        score = (
            (row["promoters"] - row["detractors"]) * 100 / row["rated"] if row["rated"] else None
        )
        repeat = row["repeat_complaints"] / row["complaints"] if row["complaints"] else None
        rows.append(
            f"<tr data-product='{_e(product)}'><td>{_e(product)}</td><td>{_e(kind)}</td>"
            f"<td>{row['documents']}</td><td>{_percent(negative)}</td><td>{row['rated']}</td>"
            f"<td>{'-' if score is None else f'{score:+.0f}'}</td>"
            f"<td>{_percent(repeat)} ({row['repeat_complaints']} of {row['complaints']})</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows) + _satisfaction_chart(daily, products)


def _percent(share: float | None) -> str:
    return "-" if share is None or pd.isna(share) else f"{share:.0%}"


def _satisfaction_chart(daily: pd.DataFrame, products: list[str]) -> str:
    """Trailing 7-day negative share per product and source kind (filterable by product)."""
    figure = go.Figure()
    dates = pd.to_datetime(daily["date"])
    for (product, kind), series in daily.assign(date=dates).groupby(["product", "source_kind"]):
        for meta in (ALL, product):
            if meta != ALL and product not in products:
                continue
            figure.add_trace(
                go.Scatter(
                    x=series["date"], y=series["negative_share_7d"], mode="lines",
                    name=_plot_text(f"{product} ({kind})"), meta=meta, visible=meta == ALL,
                )
            )  # fmt: skip
    figure.update_layout(
        title="差评占比 Negative share, trailing 7 days", height=340, margin={"t": 40},
        yaxis={"tickformat": ".0%"},
    )  # fmt: skip
    return figure.to_html(full_html=False, include_plotlyjs=False)
