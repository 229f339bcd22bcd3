"""Bad, hostile and personal input, end to end: nothing crashes, nothing is lost, nothing leaks.

The unit tests of ``tests/sources`` and ``tests/test_clean.py`` check each reader and
cleaning rule on its own. Here whole runs (in-process with the fake embedder, or the
real ``voc`` command in a subprocess) get files with every kind of bad row at once and
must publish the good rows, quarantine the bad ones with file, row, field and reason,
and keep read = published + duplicates + quarantined. Property-based tests feed
ingest with arbitrary rows and arbitrary bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_pii_recall import CASES as PII_CASES
from voc.clean import TextCleaner, truncation_note
from voc.config import (
    CleanConfig,
    EmbedConfig,
    LabelConfig,
    PublishConfig,
    SourceConfig,
    TopicConfig,
    VocConfig,
    load_config,
)
from voc.errors import ConfigError, InputFileError, VocError
from voc.pipeline import run_pipeline
from voc.sources.ingest import ingest_source

TODAY = dt.date(2026, 11, 6)
HEADER = ["review_id", "product", "created_at", "rating", "content"]
REPO = Path(__file__).resolve().parents[1]


def _config(sources: list[Path], out: Path) -> VocConfig:
    return VocConfig(
        sources=tuple(SourceConfig(path=str(p)) for p in sources),
        embed=EmbedConfig(model="fake"),
        labels=LabelConfig(classifier="prototype"),
        topics=TopicConfig(enabled=False),
        publish=PublishConfig(out_dir=str(out)),
    )


def _write_csv(path: Path, rows: list[list[str]], tail: str = "") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([HEADER, *rows])
        handle.write(tail)
    return path


def _voc(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DO_NOT_TRACK": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "voc.cli", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip


# --- every bad row at once, through a whole run ---------------------------------------------

LONG_TEXT = "耳机音质很好，" * 15_000  # 105,000 characters, about 300 KB of UTF-8
# (row in the file, field, words of the reason) for every row that must be quarantined
EXPECTED_QUARANTINE = [
    (3, "", "expected 5 fields, found 6"),
    (4, "created_at", "unparseable time"),
    (5, "rating", "unparseable rating"),
    (6, "rating", "outside 1-5"),
    (7, "content", "empty text"),
    (8, "content", "empty text"),
    (9, "content", "no text left after cleaning"),
    (10, "content", "no text left after cleaning"),
    (13, "content", "id reused with a different text"),
    (15, "", "never closed"),
]


@pytest.fixture
def bad_rows_file(tmp_path: Path) -> Path:
    good = ["R1", "耳机", "2026-10-01 10:00:00", "5", "音质很好，物流也快"]
    rows = [
        good,  # row 2
        ["R2", "耳机", "2026-10-01", "4", "还行", "多出来的一列"],  # 3: ragged
        ["R3", "耳机", "昨天下午", "4", "降噪不错"],  # 4: unparseable time
        ["R4", "耳机", "2026-10-02", "五星", "很好用"],  # 5: unparseable rating
        ["R5", "耳机", "2026-10-02", "9", "很好用啊"],  # 6: rating off the scale
        ["R6", "耳机", "2026-10-02", "5", ""],  # 7: empty text
        ["R7", "耳机", "2026-10-02", "5", " \t\u3000 "],  # 8: whitespace only
        ["R8", "耳机", "2026-10-02", "5", "😀😀🎉"],  # 9: emoji only
        ["R9", "耳机", "2026-10-02", "5", "<br/><div></div>"],  # 10: markup only
        ["R10", "耳机", "2026-10-03", "2", "<b>质量</b>一般\x07\x1b，左耳\u200b没声音"],  # 11
        ["R11", "耳机", "2026-10-03", "5", LONG_TEXT],  # 12: 100 KB text, cut with a note
        ["R1", "耳机", "2026-10-03", "1", "换了一个说法的同一条评价"],  # 13: id reused
        good,  # 14: exported twice
    ]
    # row 15: the file is cut off inside a quoted field
    return _write_csv(tmp_path / "bad.csv", rows, tail='R12,耳机,2026-10-04,3,"写到一半文件就断')


def test_every_bad_row_is_quarantined_or_published_and_none_is_lost(
    tmp_path, bad_rows_file, fake_model
):
    summary = run_pipeline(_config([bad_rows_file], tmp_path / "out"), today=TODAY)

    assert summary.accounting["bad.csv"] == {
        "read": 14, "published": 3, "duplicates": 1, "quarantined": 10,
    }  # fmt: skip
    with duckdb.connect(str(tmp_path / "out" / "voc.duckdb"), read_only=True) as con:
        quarantine = con.execute("SELECT * FROM quarantine ORDER BY row").df()
        documents = con.execute("SELECT native_id, text FROM documents").df()
        runs = con.execute("SELECT rows_read, rows_quarantined FROM runs").df()
    assert quarantine["file"].eq(str(bad_rows_file)).all()
    found = list(zip(quarantine["row"], quarantine["field"], quarantine["reason"], strict=True))
    assert len(found) == len(EXPECTED_QUARANTINE)
    for (row, field, reason), expected in zip(found, EXPECTED_QUARANTINE, strict=True):
        assert (row, field) == expected[:2] and expected[2] in reason, (row, reason)
    assert (runs["rows_read"].item(), runs["rows_quarantined"].item()) == (14, 10)

    texts = documents.set_index("native_id")["text"]
    assert set(texts.index) == {"R1", "R10", "R11"}
    assert texts["R10"] == "质量 一般,左耳没声音"  # markup and control characters gone
    assert len(texts["R11"]) == CleanConfig().max_text_chars
    assert texts["R11"].endswith(truncation_note(len(LONG_TEXT)))


def test_a_row_cut_short_at_the_end_of_the_file_is_quarantined(tmp_path):
    path = _write_csv(tmp_path / "cut.csv", [["R1", "耳机", "", "", "很好"]], tail="R2,耳")

    result = ingest_source(SourceConfig(path=str(path)), TODAY)

    assert result.rows_read == {"cut.csv": 2}
    assert result.quarantine[["row", "reason"]].values.tolist() == [
        [3, "expected 5 fields, found 2"]
    ]


def test_a_file_cut_inside_a_character_is_one_clear_error(tmp_path):
    path = tmp_path / "cut.csv"
    data = "review_id,content\n" + "".join(f"R{i},音质很好第{i}条\n" for i in range(30))
    path.write_bytes(data.encode("utf-8")[:-3])  # the last character loses a byte

    with pytest.raises(InputFileError, match=r"cut\.csv: .*line 31.*cut off"):
        ingest_source(SourceConfig(path=str(path)), TODAY)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        (
            "mixed.csv",
            ("review_id,content\n" + "".join(f"R{i},音质很好第{i}条\n" for i in range(20))).encode()
            + "R99,质量太差了，用两天就坏了\n".encode("gbk"),
            ["mixed.csv", "not UTF-8", "line 22", "mix encodings"],
        ),
        ("notext.csv", b"review_id,rating\n1,5\n2,4\n", ["notext.csv", "no text column"]),
    ],
    ids=["mixed-encodings", "no-text-column"],  # empty files: tests/sources/test_readers.py
)
def test_voc_run_reports_a_bad_file_in_one_line(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)

    result = _voc("run", "--input", str(path), "--out", str(tmp_path / "out"))

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    for word in words:
        assert word in message, (word, message)
    assert not (tmp_path / "out" / "current").exists()


# --- property-based: ingest never crashes and accounts for every row -----------------------

FIELD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)
ROWS = st.lists(st.tuples(st.text("abc123", min_size=1, max_size=6), FIELD), max_size=15)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(ROWS)
def test_ingest_accounts_for_arbitrary_rows(tmp_path, rows):
    path = tmp_path / "rows.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["review_id", "content"], *rows])

    result = ingest_source(SourceConfig(path=str(path)), TODAY)

    assert result.rows_read == {"rows.csv": len(rows)}
    assert len(result.records) + len(result.quarantine) == len(rows)
    published = {
        int(r): t for r, t in zip(result.records["row"], result.records["text"], strict=True)
    }
    for row, text in published.items():
        assert text in [t for _, t in rows], (row, text)  # text kept exactly as written
    assert result.quarantine["reason"].str.len().gt(0).all()


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.binary(max_size=400))
def test_ingest_of_arbitrary_bytes_is_a_result_or_a_clear_error(tmp_path, data):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"review_id,content\n" + data)

    try:
        result = ingest_source(SourceConfig(path=str(path)), TODAY)
    except VocError as exc:
        assert "junk.csv" in str(exc) and "\n" not in str(exc)
        return
    assert len(result.records) + len(result.quarantine) == result.rows_read["junk.csv"]


# --- personal data never reaches anything stored, logged or reported ------------------------


def _pii_spans() -> list[str]:
    cases = pd.read_csv(PII_CASES, dtype=str, keep_default_na=False)
    pii = cases[cases["kind"] != "none"]
    normalise = TextCleaner(CleanConfig()).normalise  # stored text is NFKC: "１３８" is "138"
    return sorted({normalise(s) for s in pii["span"]} | set(pii["span"]))


def _stored_text(out: Path) -> str:
    """Every string the output folder holds: DuckDB and Parquet values, and all other files."""
    parts = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        if path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                columns = con.execute(
                    "SELECT table_name, column_name FROM information_schema.columns"
                    " WHERE data_type = 'VARCHAR'"
                ).fetchall()
                for table, column in columns:
                    values = con.execute(f'SELECT "{column}" FROM "{table}"').fetchall()
                    parts.extend(str(v[0]) for v in values)
        elif path.suffix == ".parquet":
            table = pq.read_table(path)
            for column in table.column_names:
                parts.extend(str(v) for v in table[column].to_pylist())
        parts.append(path.read_bytes().decode("utf-8", errors="ignore"))
    return "\n".join(parts)


def test_no_raw_pii_anywhere_in_the_output_folder_or_the_logs(tmp_path, fake_model, caplog):
    cases = pd.read_csv(PII_CASES, dtype=str, keep_default_na=False)
    texts = cases.loc[cases["kind"] != "none", "text"].tolist()
    reviews = [[f"P{i}", "耳机", "2026-10-01", "5", text] for i, text in enumerate(texts)]
    reviews.append(["Q1", "耳机", "2026-10-01", "五星", "电话13912345678退款"])  # quarantined
    reviews_csv = _write_csv(tmp_path / "reviews.csv", reviews)
    chats = tmp_path / "chats.tsv"
    chats.write_text(
        "session_id\tis_agent\tcontent\n"
        "s1\t0\t我的手机13812345678，地址上海市浦东新区张江路88弄3号501室\n"
        "s1\t1\t好的，已登记手机13812345678，退款到卡6228480012345678901\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    caplog.set_level(logging.DEBUG)

    run_pipeline(_config([reviews_csv, chats], out), today=TODAY)

    stored = _stored_text(out) + caplog.text
    assert "[电话]" in stored and "[地址]" in stored  # the scan does see the text
    leaked = [span for span in [*_pii_spans(), "13812345678", "13912345678"] if span in stored]
    assert leaked == []


# --- hostile text is data, never markup or code ---------------------------------------------

HOSTILE = [
    "质量很差<script>alert('x')</script>",
    "'); DROP TABLE units; -- 物流太慢",
    '=HYPERLINK("http://evil.example/","点我退款")',
    "@SUM(1+1)*cmd|' /C calc'!A0 包装破损",
    "<img src=x onerror=alert(1)>耳机没声音",
]
HOSTILE_PRODUCT = "</script><script>alert('p')</script>耳机"


def test_hostile_text_is_stored_verbatim_and_shown_as_text(tmp_path, fake_model):
    rows = [[f"H{i}", HOSTILE_PRODUCT, "2026-10-01", "1", t] for i, t in enumerate(HOSTILE)]
    out = tmp_path / "out"

    run_pipeline(_config([_write_csv(tmp_path / "hostile.csv", rows)], out), today=TODAY)

    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        stored = dict(con.execute("SELECT native_id, text FROM documents").fetchall())
        products = {p for (p,) in con.execute("SELECT DISTINCT product FROM documents").fetchall()}
        assert con.execute("SELECT count(*) FROM units").fetchone()[0] > 0  # still there
    # SQL and spreadsheet formulas are plain data in the store (exports neutralise them)
    assert stored["H1"] == HOSTILE[1]
    assert stored["H2"] == HOSTILE[2]
    assert stored["H3"] == HOSTILE[3]
    assert products == {HOSTILE_PRODUCT}
    # markup in review text is dropped by cleaning; the product name is escaped in the report
    report = (out / "report.html").read_text(encoding="utf-8")
    for raw in ("<script>alert(", "<img src=x", "</script><script>alert('p')"):
        assert raw not in report
    assert "&lt;/script&gt;&lt;script&gt;alert(&#x27;p&#x27;)" in report


# --- configuration is data, never code -------------------------------------------------------


def test_yaml_config_cannot_run_code(tmp_path):
    marker = tmp_path / "pwned"
    config = tmp_path / "voc.yaml"
    config.write_text(
        f"seed: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8"
    )

    with pytest.raises(ConfigError, match="not valid UTF-8 YAML"):
        load_config(config)
    assert not marker.exists()


def test_config_output_folder_cannot_lead_outside_the_config_folder(tmp_path):
    config = tmp_path / "configs" / "voc.yaml"
    config.parent.mkdir()
    config.write_text("seed: many\npublish: {out_dir: ../../elsewhere}\n", encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        load_config(config)

    message = str(error.value)
    assert "2 problem(s)" in message  # reported together with the other mistake
    assert "publish.out_dir: '../../elsewhere' leads outside" in message and "seed:" in message


def test_config_output_folder_is_relative_to_the_config_file(tmp_path, monkeypatch):
    config = tmp_path / "configs" / "voc.yaml"
    config.parent.mkdir()
    config.write_text("publish: {out_dir: outputs/shop}\n", encoding="utf-8")
    monkeypatch.chdir("/")

    assert load_config(config).publish.out_dir == str(config.parent.resolve() / "outputs" / "shop")
