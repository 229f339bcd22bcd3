"""Streaming a review file chunk by chunk gives what one pass over the whole file gives."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from voc.config import EmbedConfig, LabelConfig, VocConfig
from voc.errors import InputFileError
from voc.stream import chunk_lines, stream_csv

TODAY = dt.date(2026, 11, 6)


@pytest.fixture
def reviews(tmp_path: Path) -> Path:
    rows = [["review_id", "product", "rating", "content"]]
    for i in range(40):
        text = f"第{i}条：音质很好，但是物流太慢" if i % 5 else f"第{i}条\n换行的评价，质量一般"
        rows.append([f"R{i}", "耳机", str(i % 5 + 1), text])
    rows.append(["R3", "耳机", "4", "第3条：音质很好，但是物流太慢"])  # exported twice
    rows.append(["R99", "耳机", "五星", "评分写错了"])  # quarantined
    path = tmp_path / "reviews.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def test_chunks_hold_whole_rows_with_their_file_line_numbers(reviews: Path) -> None:
    pieces = list(chunk_lines(reviews, 7, "utf-8"))
    lines = reviews.read_text(encoding="utf-8").splitlines(keepends=True)

    assert len(pieces) == 6  # 42 rows
    for first_line, text in pieces:
        header, *body = text.splitlines(keepends=True)
        assert header == lines[0]
        assert "".join(body).startswith(lines[first_line - 1])
    assert "".join(t.split("\n", 1)[1] for _, t in pieces) == "".join(lines[1:])


def test_stream_accounts_for_every_row_across_chunks(tmp_path, reviews, fake_model) -> None:
    config = VocConfig(embed=EmbedConfig(model="fake"), labels=LabelConfig(classifier="prototype"))

    summary = stream_csv(reviews, config, tmp_path / "out", rows_per_chunk=7, today=TODAY)

    assert summary.chunks == 6
    assert summary.accounting == {"read": 42, "published": 40, "duplicates": 1, "quarantined": 1}
    units = pq.read_table(tmp_path / "out" / "units.parquet").to_pandas()
    assert len(units) == summary.units and units["unit_id"].is_unique
    assert units["doc_id"].nunique() == 40
    quarantine = pq.read_table(tmp_path / "out" / "quarantine.parquet").to_pandas()
    last_line = len(reviews.read_text(encoding="utf-8").splitlines())
    assert quarantine[["file", "row"]].values.tolist() == [[str(reviews), last_line]]


def test_stream_refuses_a_chat_log(tmp_path, fake_model) -> None:
    chats = tmp_path / "chats.csv"
    chats.write_text("session_id,is_agent,content\ns1,0,耳机坏了\ns1,1,抱歉\n", encoding="utf-8")
    config = VocConfig(embed=EmbedConfig(model="fake"), labels=LabelConfig(classifier="prototype"))

    with pytest.raises(InputFileError, match="chat"):
        stream_csv(chats, config, tmp_path / "out", today=TODAY)
