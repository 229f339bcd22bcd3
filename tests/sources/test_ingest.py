"""Ingest: files -> records + quarantine, every row read accounted for."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from voc.config import ColumnMap, SourceConfig
from voc.errors import ColumnError, InputFileError
from voc.sources import ingest_source, ingest_sources
from voc.sources.ingest import (
    QUARANTINE_COLUMNS,
    RECORD_COLUMNS,
    future_times,
    parse_ratings,
    parse_speaker,
    parse_times,
    stable_id,
)
from voc.sources.readers import read_file

TODAY = dt.date(2026, 11, 6)
REVIEW_HEADER = "review_id,product,created_at,rating,content"
CHAT_HEADER = "session_id\tuser_id\tis_agent\tproduct\tsent_at\ttext"
GOOD_ROW = "A1,纯棉短袖T恤,2026-10-01 10:00:00,5,质量很好，穿着舒服"
FUTURE = "is more than 24 hours in the future"
PRODUCTS = {"纯棉短袖T恤", "蓝牙降噪耳机", "每日坚果礼盒"}


def write(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def ingest(path: Path, **options: object):
    return ingest_source(SourceConfig(path=str(path), **options), TODAY)


def quarantine_rows(result) -> list[tuple[int, str, str]]:
    q = result.quarantine.sort_values("row")
    return list(zip(q["row"], q["field"], q["reason"], strict=True))


# ---------------------------------------------------------------- records


def test_records_have_the_contracted_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", [REVIEW_HEADER, GOOD_ROW])

    result = ingest(path)

    assert list(result.records.columns) == RECORD_COLUMNS
    assert list(result.quarantine.columns) == QUARANTINE_COLUMNS


def test_review_record_values(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", [REVIEW_HEADER, GOOD_ROW])

    record = ingest(path).records.iloc[0]

    assert record["source"] == "shop.csv"
    assert record["source_kind"] == "review"
    assert record["native_id"] == "A1"
    assert record["doc_id"] == stable_id("shop.csv", "A1")
    assert record["product"] == "纯棉短袖T恤"
    assert record["created_at"] == pd.Timestamp("2026-10-01 10:00:00")
    assert record["rating"] == 5.0
    assert record["turn_index"] == 0
    assert not record["is_agent"]
    assert record["text"] == "质量很好，穿着舒服"
    assert record["file"] == str(path)
    assert record["row"] == 2


def test_no_usable_row_gives_empty_records_typed_like_real_ones(tmp_path: Path) -> None:
    real = ingest(write(tmp_path, "shop.csv", [REVIEW_HEADER, GOOD_ROW])).records
    header_only = write(tmp_path, "header.csv", [REVIEW_HEADER])
    empty_text = write(tmp_path, "blank.csv", [REVIEW_HEADER, "A2,纯棉短袖T恤,,5,  "])
    typed = ["created_at", "rating", "turn_index", "is_agent", "row"]

    for path in (header_only, empty_text):
        result = ingest_sources((SourceConfig(path=str(path)),), TODAY)
        assert result.records.empty
        assert list(result.records.columns) == RECORD_COLUMNS
        assert result.records[typed].dtypes.to_dict() == real[typed].dtypes.to_dict()
        assert result.records["created_at"].dt.date.empty  # later steps use .dt
    assert len(ingest(empty_text).quarantine) == 1


def test_doc_id_is_stable_across_calls(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", [REVIEW_HEADER, GOOD_ROW, "A2,耳机,,4,音质不错"])

    first = ingest(path).records["doc_id"].tolist()
    second = ingest(path).records["doc_id"].tolist()

    assert first == second
    assert len(set(first)) == 2
    assert all(re.fullmatch(r"[0-9a-f]{16}", d) for d in first)


def test_doc_id_differs_by_source_name(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", [REVIEW_HEADER, GOOD_ROW])

    a = ingest(path, name="shop_a").records.loc[0, "doc_id"]
    b = ingest(path, name="shop_b").records.loc[0, "doc_id"]

    assert a != b
    assert ingest(path, name="shop_a").records.loc[0, "source"] == "shop_a"


def test_doc_id_does_not_depend_on_file_location(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write(tmp_path / "a", "shop.csv", [REVIEW_HEADER, GOOD_ROW])
    second = write(tmp_path / "b", "shop.csv", [REVIEW_HEADER, GOOD_ROW])

    assert ingest(first).records["doc_id"].tolist() == ingest(second).records["doc_id"].tolist()


def test_missing_id_gives_a_stable_derived_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "shop.csv",
        ["product,created_at,content", "T恤,2026-10-01 10:00:00,质量很好", "T恤,,物流太慢"],
    )

    first = ingest(path).records
    second = ingest(path).records

    assert first["native_id"].str.startswith("h").all()
    assert first["native_id"].is_unique
    assert first["doc_id"].tolist() == second["doc_id"].tolist()


def test_missing_product_uses_default_product(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", ["id,product,content", "1,,质量很好", "2,耳机,音质好"])

    records = ingest(path, default_product="店铺通用").records

    assert records["product"].tolist() == ["店铺通用", "耳机"]


def test_missing_time_and_rating_are_not_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", [REVIEW_HEADER, "A1,T恤,,,质量很好"])

    result = ingest(path)

    assert len(result.quarantine) == 0
    assert pd.isna(result.records.loc[0, "created_at"])
    assert pd.isna(result.records.loc[0, "rating"])


def test_named_columns_are_used(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", ["编号,备注,星", "1,质量很好,5"])

    records = ingest(path, columns=ColumnMap(id="编号", text="备注", rating="星")).records

    assert records.loc[0, "native_id"] == "1"
    assert records.loc[0, "text"] == "质量很好"
    assert records.loc[0, "rating"] == 5.0


def test_missing_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"

    with pytest.raises(InputFileError, match=re.escape(str(path))):
        ingest(path)


# ---------------------------------------------------------------- quarantine


@pytest.mark.parametrize(
    ("bad_line", "field", "reason"),
    [
        ("A2,T恤,2026-10-01 10:00:00,5,", "content", "empty text"),
        ('A2,T恤,2026-10-01 10:00:00,5,"   "', "content", "empty text"),
        ("A2,T恤,昨天下午,5,还行", "created_at", "unparseable time '昨天下午'"),
        ("A2,T恤,2026-13-45,5,还行", "created_at", "unparseable time '2026-13-45'"),
        ("A2,T恤,9999-12-31,5,还行", "created_at", f"time '9999-12-31' {FUTURE}"),
        ("A2,T恤,2031-05-01 10:00:00,5,还行", "created_at", f"time '2031-05-01 10:00:00' {FUTURE}"),
        ("A2,T恤,2031年5月1日,5,还行", "created_at", f"time '2031年5月1日' {FUTURE}"),
        (
            "A2,T恤,2031-05-01T10:00:00Z,5,还行",
            "created_at",
            f"time '2031-05-01T10:00:00Z' {FUTURE}",
        ),
        ("A2,T恤,2026-10-01 10:00:00,五星,还行", "rating", "unparseable rating '五星'"),
        ("A2,T恤,2026-10-01 10:00:00,9,还行", "rating", "rating '9' outside 1-5"),
        ("A2,T恤,2026-10-01 10:00:00,0,还行", "rating", "rating '0' outside 1-5"),
        ("A2,T恤,2026-10-01 10:00:00,4,味道不错,就是核桃有点少", "", "expected 5 fields, found 6"),
    ],
    ids=[
        "empty-text",
        "blank-text",
        "words-time",
        "bad-date",
        "placeholder-date",
        "future-time",
        "future-chinese-date",
        "future-zoned-time",
        "words-rating",
        "rating-high",
        "rating-low",
        "ragged",
    ],
)
def test_bad_row_is_quarantined_with_file_row_field_reason(
    tmp_path: Path, bad_line: str, field: str, reason: str
) -> None:
    path = write(tmp_path, "shop.csv", [REVIEW_HEADER, GOOD_ROW, bad_line, "A3,耳机,,4,音质不错"])

    result = ingest(path)

    assert len(result.quarantine) == 1
    row = result.quarantine.iloc[0]
    assert row["source"] == "shop.csv"
    assert row["file"] == str(path)
    assert row["row"] == 3
    assert row["field"] == field
    assert row["reason"] == reason
    assert "A2" in row["raw"]
    assert result.records["native_id"].tolist() == ["A1", "A3"]
    assert result.records["row"].tolist() == [2, 4]


def test_unknown_speaker_is_quarantined(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "chats.tsv",
        [
            CHAT_HEADER,
            "S1\tU1\t0\t耳机\t2026-10-01 10:00:00\t在吗",
            "S1\tU1\tx\t耳机\t2026-10-01 10:01:00\t亲，在的",
        ],
    )

    result = ingest(path)

    assert quarantine_rows(result) == [(3, "is_agent", "unknown speaker value 'x'")]
    assert result.quarantine.loc[0, "file"] == str(path)


def test_row_with_two_problems_is_quarantined_once(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", [REVIEW_HEADER, "A1,T恤,昨天下午,五星,"])

    result = ingest(path)

    assert quarantine_rows(result) == [(2, "content", "empty text")]
    assert len(result.records) == 0


def test_rating_scale_from_config(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", ["id,rating,content", "1,9,好评好评", "2,11,好评好评"])

    result = ingest(path, rating_scale=(0, 10))

    assert result.records["rating"].tolist() == [pytest.approx(4.6)]  # 9 of 0-10 in stars
    assert quarantine_rows(result) == [(3, "rating", "rating '11' outside 0-10")]


def test_ten_point_ratings_are_stored_as_1_to_5_stars(tmp_path: Path) -> None:
    lines = ["id,rating,content", "1,1,差评差评", "2,10,好评好评", "3,6,一般一般", "4,5.5,还行还行"]
    path = write(tmp_path, "shop.csv", lines)

    result = ingest(path, rating_scale=(1, 10))

    stars = result.records["rating"].tolist()
    assert stars == pytest.approx([1.0, 5.0, 1 + 5 * 4 / 9, 3.0])  # 5.5 is halfway: 3 stars
    assert result.quarantine.empty


def test_rows_read_equals_records_plus_quarantine(tmp_path: Path) -> None:
    lines = [
        REVIEW_HEADER,
        GOOD_ROW,
        "A2,T恤,2026-10-01 10:00:00,5,",
        "A3,T恤,昨天,5,还行",
        "A4,T恤,2026-10-01 10:00:00,6,还行",
        "A5,T恤,2026-10-01 10:00:00,4,a,b",
        "A6,耳机,2026-10-02 10:00:00,3,一般般",
    ]
    path = write(tmp_path, "shop.csv", lines)

    result = ingest(path)

    assert result.rows_read == {"shop.csv": 6}
    assert len(result.records) + len(result.quarantine) == 6
    assert sorted(result.quarantine["row"]) == [3, 4, 5, 6]


# ---------------------------------------------------------------- chats


def chat_file(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        "chats.tsv",
        [
            CHAT_HEADER,
            "S1\tU1\t0\t耳机\t2026-10-01 10:00:00\t在吗",
            "S1\tU1\t1\t耳机\t2026-10-01 10:01:00\t亲，在的",
            "S2\tU2\t0\tT恤\t2026-10-01 11:00:00\t有大码吗",
            "S1\tU1\t0\t耳机\t2026-10-01 10:02:00\t右耳不响了",
            "S2\tU2\t1\tT恤\t2026-10-01 11:01:00\t有的亲",
            "S1\tU1\t1\t耳机\t2026-10-01 10:03:00\t帮您换一个",
        ],
    )


def test_chat_file_is_detected_as_chat(tmp_path: Path) -> None:
    records = ingest(chat_file(tmp_path)).records

    assert set(records["source_kind"]) == {"chat"}
    assert records["native_id"].tolist() == ["S1", "S1", "S2", "S1", "S2", "S1"]
    assert records["user_id"].tolist() == ["U1", "U1", "U2", "U1", "U2", "U1"]


def test_chat_turn_index_counts_within_each_session(tmp_path: Path) -> None:
    records = ingest(chat_file(tmp_path)).records

    assert records["turn_index"].tolist() == [0, 1, 0, 2, 1, 3]


def test_chat_is_agent_is_boolean(tmp_path: Path) -> None:
    records = ingest(chat_file(tmp_path)).records

    assert records["is_agent"].dtype == bool
    assert records["is_agent"].tolist() == [False, True, False, False, True, True]


def test_chat_doc_id_is_one_per_session(tmp_path: Path) -> None:
    records = ingest(chat_file(tmp_path)).records

    assert records.groupby("native_id")["doc_id"].nunique().tolist() == [1, 1]
    assert records["doc_id"].nunique() == 2
    assert records.loc[0, "doc_id"] == stable_id("chats.tsv", "S1")


def test_chat_kind_without_session_column_raises(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", ["id,is_agent,content", "1,0,在吗"])

    with pytest.raises(ColumnError, match="session column"):
        ingest(path, kind="chat")


def test_speaker_column_alone_does_not_make_a_chat(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", ["id,is_agent,content", "1,0,在吗"])

    records = ingest(path).records

    assert records.loc[0, "source_kind"] == "review"
    assert not records.loc[0, "is_agent"]


# ---------------------------------------------------------------- times


def test_offset_and_epoch_times_become_shanghai_local_time(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "shop.csv",
        [
            "id,created_at,content",
            "1,2026-10-01T00:30:00Z,好评",
            "2,2026-10-01 10:00:00+09:00,好评",
            "3,1790000000,好评",
            "4,1790000000000,好评",
            "5,2026-10-01 23:59:00,好评",
        ],
    )

    times = ingest(path).records["created_at"].tolist()

    assert times == [
        pd.Timestamp("2026-10-01 08:30:00"),
        pd.Timestamp("2026-10-01 09:00:00"),
        pd.Timestamp("2026-09-21 22:13:20"),
        pd.Timestamp("2026-09-21 22:13:20"),
        pd.Timestamp("2026-10-01 23:59:00"),  # naive: kept as written
    ]


@pytest.mark.parametrize(
    ("value", "timezone", "expected"),
    [
        ("2026-10-01T00:30:00Z", "Asia/Shanghai", "2026-10-01 08:30:00"),
        ("2026-10-01T16:30:00Z", "Asia/Shanghai", "2026-10-02 00:30:00"),
        ("2026-10-01 10:00:00+09:00", "Asia/Shanghai", "2026-10-01 09:00:00"),
        ("2026-10-01T10:00:00+0800", "Asia/Shanghai", "2026-10-01 10:00:00"),
        ("2026-10-01T10:00:00-0500", "Asia/Shanghai", "2026-10-01 23:00:00"),
        ("1790000000", "Asia/Shanghai", "2026-09-21 22:13:20"),
        ("1790000000000", "Asia/Shanghai", "2026-09-21 22:13:20"),
        ("1790000000", "UTC", "2026-09-21 14:13:20"),
        ("2026-10-01 12:00:00", "UTC", "2026-10-01 12:00:00"),
        ("2026/10/02 08:05", "Asia/Shanghai", "2026-10-02 08:05:00"),
        ("2026-10-01", "Asia/Shanghai", "2026-10-01 00:00:00"),
        ("2026年10月1日", "Asia/Shanghai", "2026-10-01 00:00:00"),
        ("2026年10月01日 10:05", "Asia/Shanghai", "2026-10-01 10:05:00"),
        ("2026 年 10 月 1 日 下午3点20分", "Asia/Shanghai", "2026-10-01 15:20:00"),
        ("2026年10月1号22时5分30秒", "Asia/Shanghai", "2026-10-01 22:05:30"),
        ("2026-10-01 10:00:00 UTC", "Asia/Shanghai", "2026-10-01 18:00:00"),
        ("Thu, 01 Oct 2026 10:00:00 GMT", "Asia/Shanghai", "2026-10-01 18:00:00"),
        # UTC+8 is Beijing time, not the POSIX reading (eight hours west)
        ("2026-10-01 10:00:00 UTC+08:00", "Asia/Shanghai", "2026-10-01 10:00:00"),
        ("2026-10-01 10:00:00 GMT+8", "Asia/Shanghai", "2026-10-01 10:00:00"),
        ("Thu Oct 01 2026 10:00:00 GMT+0800 (China Standard Time)", "UTC", "2026-10-01 02:00:00"),
    ],
)
def test_parse_times(value: str, timezone: str, expected: str) -> None:
    parsed, bad = parse_times(pd.Series([value], dtype=object), timezone)

    assert parsed.iloc[0] == pd.Timestamp(expected)
    assert not bad.iloc[0]


@pytest.mark.parametrize("value", ["昨天下午", "2026-13-45", "soon", "2026年13月1日"])
def test_parse_times_flags_unparseable(value: str) -> None:
    parsed, bad = parse_times(pd.Series([value], dtype=object), "Asia/Shanghai")

    assert pd.isna(parsed.iloc[0])
    assert bad.iloc[0]


def test_zoned_times_next_to_naive_ones_are_converted_or_quarantined(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "shop.csv",
        [
            "id,created_at,content",
            "1,2026-10-01 10:00:00,好评",
            "2,2026-10-01 10:00:00 UTC,好评",
            "3,2026-10-01 10:00:00 +0900 (JST),好评",
            "4,2026-10-01 10:00:00 CST,好评",  # China or US Central: not guessed
        ],
    )

    result = ingest(path)

    assert result.records["created_at"].tolist() == [
        pd.Timestamp("2026-10-01 10:00:00"),
        pd.Timestamp("2026-10-01 18:00:00"),
        pd.Timestamp("2026-10-01 09:00:00"),
    ]
    assert quarantine_rows(result) == [
        (5, "created_at", "unparseable time '2026-10-01 10:00:00 CST'")
    ]


def test_times_that_all_carry_a_short_offset_do_not_fail(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", ["id,created_at,content", "1,2026-10-01 10:00:00 +08,好评"])

    assert ingest(path).records["created_at"].tolist() == [pd.Timestamp("2026-10-01 10:00:00")]


def test_future_times_allow_one_day_past_now() -> None:
    now = pd.Timestamp("2026-10-01 12:00:00")
    times = pd.Series(
        [
            "2026-09-30 12:00:00",
            "2026-10-02 12:00:00",  # a day ahead: another zone or a fast clock
            "2026-10-02 12:00:01",
            "9999-12-31 00:00:00",
            None,
        ],
        dtype="datetime64[s]",
    )

    ahead = future_times(times, "Asia/Shanghai", now=now)

    assert ahead.tolist() == [False, False, True, True, False]


def test_time_hours_ahead_of_the_clock_is_kept(tmp_path: Path) -> None:
    # an export stamped in a zone east of the source's runs a few hours ahead of it
    soon = (pd.Timestamp.now(tz="Asia/Shanghai") + pd.Timedelta(hours=10)).floor("s")
    written = soon.strftime("%Y-%m-%d %H:%M:%S")
    path = write(tmp_path, "shop.csv", ["id,created_at,content", f"1,{written},好评"])

    result = ingest(path)

    assert result.records["created_at"].tolist() == [pd.Timestamp(written)]
    assert result.quarantine.empty


def test_far_future_row_is_counted_as_quarantined(tmp_path: Path) -> None:
    path = write(tmp_path, "shop.csv", [REVIEW_HEADER, GOOD_ROW, "A2,T恤,9999-12-31,5,还行"])

    result = ingest(path)

    assert result.rows_read == {"shop.csv": 2}
    assert result.records["native_id"].tolist() == ["A1"]
    assert quarantine_rows(result) == [(3, "created_at", f"time '9999-12-31' {FUTURE}")]


@pytest.mark.parametrize("value", [None, "", "  ", "nan"])
def test_parse_times_missing_is_not_bad(value: str | None) -> None:
    parsed, bad = parse_times(pd.Series([value], dtype=object), "Asia/Shanghai")

    assert pd.isna(parsed.iloc[0])
    assert not bad.iloc[0]


# ---------------------------------------------------------------- ratings, speakers


@pytest.mark.parametrize(
    ("value", "number", "is_bad"),
    [
        ("5", 5.0, False),
        ("1", 1.0, False),
        ("4.5", 4.5, False),
        (" 3 ", 3.0, False),
        ("0", None, True),
        ("9", None, True),
        ("-1", None, True),
        ("五星", None, True),
        ("５", 5.0, False),  # full-width, as Chinese input methods type it
        ("４．５", 4.5, False),
        (None, None, False),
        ("", None, False),
    ],
)
def test_parse_ratings(value: str | None, number: float | None, is_bad: bool) -> None:
    numbers, bad = parse_ratings(pd.Series([value], dtype=object), (1, 5))

    if number is None:
        assert pd.isna(numbers.iloc[0])
    else:
        assert numbers.iloc[0] == number
    assert bool(bad.iloc[0]) is is_bad


@pytest.mark.parametrize(
    ("value", "agent", "unknown"),
    [
        ("0", False, False),
        ("1", True, False),
        ("true", True, False),
        ("False", False, False),
        ("AGENT", True, False),
        (" customer ", False, False),
        ("客服", True, False),
        ("商家", True, False),
        ("买家", False, False),
        ("顾客", False, False),
        ("x", False, True),
        ("2", False, True),
        (None, False, True),
    ],
)
def test_parse_speaker(value: str | None, agent: bool, unknown: bool) -> None:
    is_agent, bad = parse_speaker(pd.Series([value], dtype=object))

    assert bool(is_agent.iloc[0]) is agent
    assert bool(bad.iloc[0]) is unknown


# ---------------------------------------------------------------- several sources


def test_ingest_sources_concatenates_and_counts_per_source(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", [REVIEW_HEADER, GOOD_ROW, "A2,T恤,,5,"])
    b = write(tmp_path, "b.csv", [REVIEW_HEADER, GOOD_ROW])

    result = ingest_sources((SourceConfig(path=str(a)), SourceConfig(path=str(b))), TODAY)

    assert result.rows_read == {"a.csv": 2, "b.csv": 1}
    assert result.records["source"].tolist() == ["a.csv", "b.csv"]
    assert result.records.index.tolist() == [0, 1]
    assert result.quarantine["source"].tolist() == ["a.csv"]
    # The same native id in two sources gives two documents.
    assert result.records["doc_id"].nunique() == 2


# ---------------------------------------------------------------- missing values in typed formats


def test_jsonl_null_text_is_quarantined_as_empty(tmp_path: Path) -> None:
    path = write(
        tmp_path, "r.jsonl", ['{"id": "1", "content": "质量很好"}', '{"id": "2", "content": null}']
    )

    result = ingest(path)

    assert result.records["text"].tolist() == ["质量很好"]
    assert quarantine_rows(result) == [(2, "content", "empty text")]


def test_jsonl_missing_text_key_is_quarantined_as_empty(tmp_path: Path) -> None:
    path = write(tmp_path, "r.jsonl", ['{"id": "1", "content": "质量很好"}', '{"id": "2"}'])

    result = ingest(path)

    assert "nan" not in result.records["text"].tolist()
    assert quarantine_rows(result) == [(2, "content", "empty text")]


def test_parquet_nulls_are_missing_values(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    table = pa.table(
        {
            "id": ["1", "2", "3"],
            "content": ["质量很好", None, "物流太慢"],
            "rating": [5.0, 4.0, None],
        }
    )
    pq.write_table(table, path)

    result = ingest(path)

    assert result.records["native_id"].tolist() == ["1", "3"]
    assert pd.isna(result.records.loc[1, "rating"])
    assert quarantine_rows(result) == [(2, "content", "empty text")]


def test_parquet_integer_ids_with_a_null_keep_their_text_form(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(
        pa.table({"id": [1, 2, None], "content": ["质量很好", "物流太慢", "好评"]}), path
    )

    native = ingest(path).records["native_id"].tolist()

    assert native[:2] == ["1", "2"]
    assert native[2].startswith("h")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_repeated_header_name_is_refused_alike_in_csv_and_xlsx(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"r{suffix}"
    rows = [["id", "content", "content"], ["1", "质量很好", "做工差"]]
    if suffix == ".csv":
        write(tmp_path, path.name, [",".join(r) for r in rows])
    else:
        pd.DataFrame(rows[1:], columns=rows[0]).to_excel(path, index=False)

    with pytest.raises(ColumnError) as info:
        ingest(path)

    assert str(info.value) == (
        f"[E102] {path}: column 'content' appears more than once in the header;"
        " rename or remove the copies"
    )


def test_xlsx_empty_text_cell_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    pd.DataFrame({"id": ["1", "2"], "content": ["质量很好", None], "rating": [5, None]}).to_excel(
        path, index=False
    )

    result = ingest(path)

    assert result.records["native_id"].tolist() == ["1"]
    assert quarantine_rows(result) == [(3, "content", "empty text")]


# ---------------------------------------------------------------- the bundled demo data


def demo(demo_dir: Path, name: str):
    return ingest_source(SourceConfig(path=str(demo_dir / name)), TODAY)


def test_demo_shop_a_quarantines_exactly_the_planted_rows(demo_dir: Path) -> None:
    result = demo(demo_dir, "reviews_shop_a.csv")

    assert quarantine_rows(result) == [
        (102, "content", "empty text"),
        (114, "content", "empty text"),
        (126, "rating", "unparseable rating '五星'"),
        (138, "rating", "rating '9' outside 1-5"),
        (153, "created_at", "unparseable time '昨天下午'"),
        (162, "", "expected 5 fields, found 6"),
    ]
    assert "A000161" in result.quarantine.set_index("row").loc[162, "raw"]


def test_demo_shop_a_accounts_for_every_row(demo_dir: Path) -> None:
    result = demo(demo_dir, "reviews_shop_a.csv")

    assert result.rows_read == {"reviews_shop_a.csv": 261}
    assert len(result.records) == 255
    assert len(result.records) + len(result.quarantine) == 261
    assert set(result.records["product"]) == PRODUCTS
    assert result.records["rating"].between(1, 5).all()
    assert result.records["native_id"].nunique() == 252  # 3 exact duplicate rows remain


def test_demo_shop_a_keeps_quoted_fields_whole(demo_dir: Path) -> None:
    records = demo(demo_dir, "reviews_shop_a.csv").records.set_index("row")

    assert records.loc[168, "text"] == '说是"纯棉"，摸着跟化纤似的，洗完还缩水'
    for row in (15, 104, 108, 211, 213):
        assert "," in records.loc[row, "text"]


def test_demo_shop_b_gbk_is_decoded(demo_dir: Path) -> None:
    path = demo_dir / "reviews_shop_b_gbk.csv"
    _, _, _, codec = read_file(path)

    records = demo(demo_dir, "reviews_shop_b_gbk.csv").records

    assert codec == "gb18030"
    assert set(records["product"]) == PRODUCTS
    assert records["native_id"].str.fullmatch(r"B\d{6}").all()
    assert records.loc[0, "text"] == "先用一段时间再来追评"
    assert records.loc[0, "created_at"] == pd.Timestamp("2026-10-01 08:20")


def test_demo_shop_b_quarantines_exactly_the_planted_rows(demo_dir: Path) -> None:
    result = demo(demo_dir, "reviews_shop_b_gbk.csv")

    assert quarantine_rows(result) == [
        (72, "评价内容", "empty text"),
        (98, "评价时间", "unparseable time '2026-13-45'"),
    ]
    assert result.rows_read == {"reviews_shop_b_gbk.csv": 160}
    assert len(result.records) == 158


def test_demo_chats_quarantine_exactly_the_planted_rows(demo_dir: Path) -> None:
    result = demo(demo_dir, "chats.tsv")

    assert quarantine_rows(result) == [
        (231, "is_agent", "unknown speaker value 'x'"),
        (320, "text", "empty text"),
    ]
    assert result.rows_read == {"chats.tsv": 539}


def test_demo_chats_records(demo_dir: Path) -> None:
    records = demo(demo_dir, "chats.tsv").records

    assert set(records["source_kind"]) == {"chat"}
    assert records["doc_id"].nunique() == 80
    assert records["user_id"].nunique() == 41
    assert int(records["is_agent"].sum()) == 257
    assert int((~records["is_agent"]).sum()) == 280  # 281 customer turns less the empty one
    assert set(records["product"]) == PRODUCTS
    first_turns = records[records["turn_index"] == 0]
    assert len(first_turns) == 80
    assert not first_turns["is_agent"].any()  # every session starts with the customer


# ---------------------------------------------------------------- the real JDDC sample


def test_jddc_sample(shared_data: Path) -> None:
    result = ingest_source(SourceConfig(path=str(shared_data / "jddc_chat_sample.tsv")), TODAY)
    records, quarantine = result.records, result.quarantine

    assert result.rows_read == {"jddc_chat_sample.tsv": 12_136}
    assert len(records) + len(quarantine) == 12_136
    assert set(records["source_kind"]) == {"chat"}
    assert records["doc_id"].nunique() == 994
    # Speaker of a quarantined JDDC row: the third tab-separated field of its raw excerpt.
    quarantined_agents = sum(raw.split("\t")[2] == "1" for raw in quarantine["raw"])
    agents = int(records["is_agent"].sum()) + quarantined_agents
    customers = int((~records["is_agent"]).sum()) + len(quarantine) - quarantined_agents
    assert (agents, customers) == (6_029, 6_107)


def test_reason_quoting_a_phone_number_is_masked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.csv",
        ["id,content,created_at,rating", "1,好评,13800138000,", "2,好评,,13800138000"],
    )

    reasons = ingest(path).quarantine["reason"].tolist()

    assert reasons == ["unparseable time '[电话]'", "rating '[电话]' outside 1-5"]


def test_quarantined_rows_are_stored_masked(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("id,content,rating\n1,电话13812345678,五星\n", encoding="utf-8")
    result = ingest_source(SourceConfig(path=str(path)), dt.date(2026, 11, 1))
    assert len(result.quarantine) == 1
    raw = result.quarantine["raw"].iloc[0]
    assert "13812345678" not in raw and "[电话]" in raw


def test_chat_turn_without_session_is_quarantined(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text(
        "session_id\tis_agent\ttext\nS1\t0\t在吗\n\t0\t有大码吗\nS1\t1\t在的\n", encoding="utf-8"
    )
    result = ingest_source(SourceConfig(path=str(path)), dt.date(2026, 11, 1))
    assert result.quarantine["reason"].tolist() == ["empty session id"]
    assert result.records["turn_index"].tolist() == [0, 1]
