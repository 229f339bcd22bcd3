"""Column roles: detected from English and Chinese headers, named columns win."""

from __future__ import annotations

import pandas as pd
import pytest

from voc.config import ColumnMap
from voc.errors import ColumnError
from voc.sources.columns import detect_columns


def frame(columns: dict[str, list[object]]) -> pd.DataFrame:
    out = pd.DataFrame(columns, dtype=object)
    out["_row"] = range(2, len(out) + 2)
    return out


def test_english_review_headers() -> None:
    data = frame(
        {
            "review_id": ["A1", "A2"],
            "product": ["纯棉短袖T恤", "蓝牙降噪耳机"],
            "created_at": ["2026-10-01 10:00:00", "2026-10-02 11:00:00"],
            "rating": ["5", "1"],
            "content": ["质量很好", "物流太慢了"],
        }
    )

    found = detect_columns(data, ColumnMap(), "a.csv")

    assert found == {
        "text": "content",
        "id": "review_id",
        "product": "product",
        "time": "created_at",
        "rating": "rating",
    }


def test_chinese_review_headers() -> None:
    data = frame(
        {
            "评价编号": ["B1"],
            "商品名称": ["每日坚果礼盒"],
            "评价时间": ["2026/10/01 10:00"],
            "评分": ["4"],
            "评价内容": ["味道不错，就是核桃有点少"],
        }
    )

    found = detect_columns(data, ColumnMap(), "b.csv")

    assert found == {
        "text": "评价内容",
        "id": "评价编号",
        "product": "商品名称",
        "time": "评价时间",
        "rating": "评分",
    }


def test_chat_headers() -> None:
    data = frame(
        {
            "session_id": ["S1"],
            "user_id": ["U1"],
            "is_agent": ["0"],
            "product": ["蓝牙降噪耳机"],
            "sent_at": ["2026-10-01 10:00:00"],
            "text": ["在吗"],
        }
    )

    found = detect_columns(data, ColumnMap(), "chats.tsv")

    assert found == {
        "text": "text",
        "product": "product",
        "time": "sent_at",
        "speaker": "is_agent",
        "session": "session_id",
        "user": "user_id",
    }


def test_header_match_ignores_case_and_spaces() -> None:
    data = frame({" Content ": ["质量很好"], "RATING": ["5"]})

    found = detect_columns(data, ColumnMap(), "a.csv")

    assert found["text"] == " Content "
    assert found["rating"] == "RATING"


def test_named_column_wins_over_detection() -> None:
    data = frame({"content": ["短"], "备注": ["这才是真正的评价文本"], "id": ["1"]})

    found = detect_columns(data, ColumnMap(text="备注"), "a.csv")

    assert found["text"] == "备注"


def test_named_column_is_not_reused_for_another_role() -> None:
    # "content" is named as the id column, so it must not also be the text column.
    data = frame({"content": ["A1"], "message": ["质量很好"]})

    found = detect_columns(data, ColumnMap(id="content"), "a.csv")

    assert found["id"] == "content"
    assert found["text"] == "message"


def test_named_column_that_does_not_exist_raises_listing_columns() -> None:
    data = frame({"review_id": ["A1"], "content": ["质量很好"]})

    with pytest.raises(ColumnError) as info:
        detect_columns(data, ColumnMap(text="评论"), "a.csv")

    message = info.value.message
    assert message.startswith("a.csv: ")
    assert "'评论'" in message
    assert "--text-column" in message
    assert "['review_id', 'content']" in message
    assert "_row" not in message


def test_fallback_to_longest_text_column() -> None:
    data = frame(
        {
            "col_a": ["A000001", "A000002"],
            "col_b": ["这件衣服质量很好，穿着也舒服", "物流太慢了，等了一个星期"],
            "col_c": ["5", "1"],
        }
    )

    found = detect_columns(data, ColumnMap(), "a.csv")

    assert found["text"] == "col_b"


def test_fallback_skips_columns_with_another_role() -> None:
    # The id values are the longest, but the id column already has a role.
    data = frame({"review_id": ["A-2026-10-01-000001"], "col": ["质量很好"]})

    found = detect_columns(data, ColumnMap(), "a.csv")

    assert found["id"] == "review_id"
    assert found["text"] == "col"


def test_fallback_ignores_missing_values() -> None:
    data = frame({"a": ["质量很好很好", None, None], "b": ["好", "差", "行"]})

    found = detect_columns(data, ColumnMap(), "a.csv")

    assert found["text"] == "a"


def test_duplicated_header_name_raises_naming_it() -> None:
    data = pd.DataFrame([["1", "质量很好", "做工差"]], columns=["id", "review", "review"])
    data["_row"] = [2]

    with pytest.raises(ColumnError, match="column 'review' appears more than once") as info:
        detect_columns(data, ColumnMap(), "a.csv")

    assert info.value.message.startswith("a.csv: ")


def test_several_duplicated_header_names_are_all_named() -> None:
    data = pd.DataFrame([["1", "2", "好", "差"]], columns=["id", "id", "review", "review"])
    data["_row"] = [2]

    with pytest.raises(ColumnError) as info:
        detect_columns(data, ColumnMap(), "a.csv")

    assert info.value.message == (
        "a.csv: columns 'id', 'review' appear more than once in the header;"
        " rename or remove the copies"
    )


def test_fallback_skips_ids_and_numbers() -> None:
    # Longer than the remarks, but order numbers are not what customers wrote.
    data = frame({"order_no": ["A1234567", "B7654321"], "remark": ["很好", "Too small"]})

    assert detect_columns(data, ColumnMap(), "a.csv")["text"] == "remark"


@pytest.mark.parametrize(
    "columns",
    [
        {"order_no": ["A1234567", "B7654321"], "rating": ["5", "4"]},  # ids are no text
        {"review_id": ["A1"], "rating": ["5"]},  # every column has another role
        {"x": ["1"], "y": ["2"]},  # only one-character values
        {"x": [None], "y": [None]},  # nothing at all
    ],
    ids=["only-ids", "all-taken", "too-short", "all-missing"],
)
def test_no_usable_text_column_raises(columns: dict[str, list[object]]) -> None:
    with pytest.raises(ColumnError, match="no text column") as info:
        detect_columns(frame(columns), ColumnMap(), "a.csv")

    assert "--text-column" in info.value.message
    assert info.value.message.startswith("a.csv: ")
