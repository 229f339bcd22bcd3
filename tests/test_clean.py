"""Cleaning: normalise, simplify, strip noise and boilerplate, mask PII, de-duplicate."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voc.clean import TextCleaner, clean_records, continuation_id, truncation_note
from voc.config import CleanConfig, SourceConfig
from voc.sources import ingest_source
from voc.taxonomy import Taxonomy

SPAM = "宝贝收到了，质量非常好，做工精细，性价比超高，推荐大家购买"
BOILERPLATE = ("此用户没有填写评价", "系统默认好评")


@pytest.fixture(scope="module")
def cleaner() -> TextCleaner:
    return TextCleaner(CleanConfig(), BOILERPLATE)


def record(doc_id: str, text: str, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "doc_id": doc_id,
        "source": "shop.csv",
        "source_kind": "review",
        "native_id": doc_id,
        "product": "纯棉短袖T恤",
        "user_id": None,
        "created_at": pd.Timestamp("2026-10-01 10:00:00"),
        "rating": 5.0,
        "turn_index": 0,
        "is_agent": False,
        "text": text,
        "file": "shop.csv",
        "row": 0,
    }
    row.update(fields)
    return row


def table(*rows: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    frame["row"] = range(2, len(frame) + 2)
    return frame


def clean(frame: pd.DataFrame, **options: object):
    return clean_records(frame, CleanConfig(), BOILERPLATE, **options)


# ---------------------------------------------------------------- one text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３", "ABC123"),
        ("尺码ＸＬ，很合身", "尺码XL,很合身"),
        ("質量很好", "质量很好"),
        ("這件衣服顏色很漂亮", "这件衣服颜色很漂亮"),
        ("<p>很好</p>", "很好"),
        ('<div class="x">物流<br/>很快</div>', "物流 很快"),
        ("很好&amp;不错", "很好&不错"),
        ("好&nbsp;的", "好 的"),
        ("&lt;b&gt;加粗&lt;/b&gt;", "加粗"),
        ("好\x00\x07的", "好的"),
        ("\ufeff好的", "好的"),
        ("a\u200bb", "ab"),
        ("很好👍", "很好 赞"),
        ("太差了😡", "太差了 生气"),
        ("🤔很好🎉", "很好"),
        ("太棒了！！！！", "太棒了!!"),
        ("  多   空格  ", "多 空格"),
        ("第一行\r\n\r\n第二行", "第一行\n第二行"),
    ],
)
def test_normalise(cleaner: TextCleaner, raw: str, expected: str) -> None:
    assert cleaner.normalise(raw) == expected


def test_traditional_kept_when_simplifying_is_off() -> None:
    cleaner = TextCleaner(CleanConfig(to_simplified=False))

    assert cleaner.clean("質量很好") == ("質量很好", False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("此用户没有填写评价。", ("", True)),
        ("系统默认好评", ("", True)),
        ("好评！此用户没有填写评价", ("好评", True)),
        ("质量很好", ("质量很好", False)),
    ],
)
def test_boilerplate_is_removed_and_flagged(
    cleaner: TextCleaner, raw: str, expected: tuple[str, bool]
) -> None:
    assert cleaner.clean(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["买家未及时做出评价，系统默认好评", "该用户未做出评价，系统默认好评"],
    ids=["buyer", "user"],
)
def test_taxonomy_boilerplate_with_fullwidth_comma_is_removed(taxonomy: Taxonomy, raw: str) -> None:
    # The taxonomy writes a full-width comma; the text has a half-width one after NFKC.
    cleaner = TextCleaner(CleanConfig(), taxonomy.boilerplate)

    assert cleaner.clean(raw) == ("", True)


def test_long_text_is_cut_to_max_text_chars_with_a_note() -> None:
    cleaner = TextCleaner(CleanConfig(max_text_chars=50))

    text, _ = cleaner.clean("好" * 80)

    assert text == "好" * (50 - len(truncation_note(80))) + truncation_note(80)
    assert len(text) == 50 and text.endswith("[已截断，原文80字]")


def test_pii_is_masked(cleaner: TextCleaner) -> None:
    assert cleaner.clean("電話13812345678") == ("电话[电话]", False)


def test_fullwidth_phone_is_masked_after_nfkc(cleaner: TextCleaner) -> None:
    assert cleaner.clean("电话１３８１２３４５６７８") == ("电话[电话]", False)


def test_pii_masking_can_be_turned_off() -> None:
    cleaner = TextCleaner(CleanConfig(mask_pii=False))

    assert cleaner.clean("电话13812345678") == ("电话13812345678", False)


# ---------------------------------------------------------------- records


def test_clean_records_masks_and_flags(cleaner: TextCleaner) -> None:
    frame = table(record("d1", "質量很好，电话13812345678"), record("d2", "系统默认好评"))

    result = clean(frame)

    assert result.records["text"].tolist() == ["质量很好,电话[电话]", ""]
    assert result.records["is_default_review"].tolist() == [False, True]
    assert len(result.duplicates) == 0
    assert len(result.quarantine) == 0


def test_clean_records_does_not_change_its_input() -> None:
    frame = table(record("d1", "質量很好"))

    clean(frame)

    assert frame.loc[0, "text"] == "質量很好"
    assert "is_default_review" not in frame.columns


def test_exact_duplicate_row_is_a_duplicate() -> None:
    frame = table(record("d1", "质量很好"), record("d2", "物流很快"), record("d1", "质量很好"))

    result = clean(frame)

    assert result.records["doc_id"].tolist() == ["d1", "d2"]
    assert result.duplicates.to_dict("records") == [
        {
            "source": "shop.csv",
            "file": "shop.csv",
            "row": 4,
            "doc_id": "d1",
            "reason": "same id and text as an earlier row",
        }
    ]
    assert len(result.quarantine) == 0


def test_duplicate_is_judged_on_cleaned_text() -> None:
    frame = table(record("d1", "質量很好"), record("d1", "质量很好"))

    result = clean(frame)

    assert len(result.records) == 1
    assert result.duplicates["reason"].tolist() == ["same id and text as an earlier row"]


def test_same_id_different_text_is_quarantined() -> None:
    frame = table(record("d1", "质量很好"), record("d1", "物流太慢"))

    result = clean(frame)

    assert result.records["text"].tolist() == ["质量很好"]
    assert len(result.duplicates) == 0
    quarantined = result.quarantine.iloc[0]
    assert quarantined["row"] == 3
    assert quarantined["field"] == "text"
    assert quarantined["reason"] == "id reused with a different text"
    assert quarantined["raw"] == "物流太慢"


def test_chat_turns_of_one_session_are_not_duplicates() -> None:
    frame = table(
        record("s1", "在吗", source_kind="chat", turn_index=0),
        record("s1", "在吗", source_kind="chat", turn_index=1),
    )

    result = clean(frame)

    assert len(result.records) == 2


def test_copy_paste_spam_is_a_duplicate() -> None:
    frame = table(record("d1", SPAM), record("d2", "物流很快"), record("d3", SPAM))

    result = clean(frame)

    assert result.records["doc_id"].tolist() == ["d1", "d2"]
    assert result.duplicates["doc_id"].tolist() == ["d3"]
    assert result.duplicates["reason"].tolist() == ["same product and text as an earlier review"]


def test_same_text_for_another_product_is_kept() -> None:
    frame = table(record("d1", SPAM), record("d2", SPAM, product="每日坚果礼盒"))

    result = clean(frame)

    assert result.records["doc_id"].tolist() == ["d1", "d2"]


@pytest.mark.parametrize("text", ["好评", "质量很好", "还行吧，一般般"])
def test_short_identical_texts_are_kept(text: str) -> None:
    assert len(text) < CleanConfig().dedupe_min_chars
    frame = table(record("d1", text), record("d2", text), record("d3", text))

    result = clean(frame)

    assert len(result.records) == 3
    assert len(result.duplicates) == 0


def test_dedupe_min_chars_is_configurable() -> None:
    frame = table(record("d1", "好评"), record("d2", "好评"))

    result = clean_records(frame, CleanConfig(dedupe_min_chars=2))

    assert result.duplicates["doc_id"].tolist() == ["d2"]


def test_identical_chat_turns_in_different_sessions_are_kept() -> None:
    frame = table(
        record("s1", SPAM, source_kind="chat"),
        record("s2", SPAM, source_kind="chat"),
    )

    result = clean(frame)

    assert len(result.records) == 2


def test_known_doc_ids_are_already_published() -> None:
    frame = table(record("d1", "质量很好"), record("d2", "物流很快"), record("d1", "质量很好"))

    result = clean(frame, known_doc_ids={"d1"})

    assert result.records["doc_id"].tolist() == ["d2"]
    assert result.duplicates["row"].tolist() == [2, 4]
    assert set(result.duplicates["reason"]) == {"already published by an earlier run"}


def test_new_turns_of_a_published_session_are_a_continuation() -> None:
    turns = [
        "你好,这个耳机防水吗",
        "亲,支持IPX4防水哦",
        "好的那我下单了",
        "收到了但是右耳没声音",
        "亲,可以换货",
    ]
    frame = table(
        *(
            record("s1", text, source_kind="chat", turn_index=i, is_agent=i in (1, 4))
            for i, text in enumerate(turns)
        )
    )
    published = pd.DataFrame({"doc_id": ["s1"] * 3, "turn_index": [0, 1, 2]})

    result = clean(frame, known_doc_ids={"s1"}, published_turns=published)

    assert result.duplicates["row"].tolist() == [2, 3, 4]  # exactly the turns published
    assert set(result.duplicates["reason"]) == {"already published by an earlier run"}
    assert result.records["text"].tolist() == turns[3:]
    assert result.records["turn_index"].tolist() == [3, 4]
    assert set(result.records["doc_id"]) == {continuation_id("s1", 3)}
    assert set(result.records["native_id"]) == {"s1"}
    assert len(result.quarantine) == 0


def test_a_continuation_is_published_once_even_without_units() -> None:
    # turn 1 (platform boilerplate) was published in a continuation but left no units
    frame = table(
        record("s1", "你好", source_kind="chat", turn_index=0),
        record("s1", BOILERPLATE[0], source_kind="chat", turn_index=1),
    )
    published = pd.DataFrame({"doc_id": ["s1"], "turn_index": [0]})

    result = clean(frame, known_doc_ids={"s1", continuation_id("s1", 1)}, published_turns=published)

    assert result.records.empty and len(result.duplicates) == 2


def test_a_row_is_compared_only_with_kept_rows_of_its_id() -> None:
    frame = table(record("d1", "😀😀"), record("d1", "音质很好物流也快"))

    result = clean(frame)

    assert result.records["text"].tolist() == ["音质很好物流也快"]
    assert result.quarantine[["row", "reason"]].to_dict("records") == [
        {"row": 2, "reason": "no text left after cleaning (only markup or emoji)"}
    ]


def test_a_review_is_not_spam_of_a_quarantined_row() -> None:
    frame = table(record("d1", "质量很好"), record("d1", SPAM), record("d2", SPAM))

    result = clean(frame)

    assert result.records["doc_id"].tolist() == ["d1", "d2"]
    assert result.quarantine["row"].tolist() == [3]
    assert len(result.duplicates) == 0


def test_quarantine_names_the_source_column_and_keeps_the_masked_text() -> None:
    frame = table(
        record("d1", "😀😀", text_field="review"),
        record("d2", "好评", text_field="review"),
        record("d2", "电话13812345678", text_field="review"),
    )

    result = clean(frame)

    assert result.quarantine[["row", "field", "raw"]].to_dict("records") == [
        {"row": 4, "field": "review", "raw": "电话[电话]"},  # id reused
        {"row": 2, "field": "review", "raw": "😀😀"},  # only emoji
    ]


def test_quarantine_names_text_for_records_without_a_text_field() -> None:
    result = clean(table(record("d1", "😀😀")))

    assert result.quarantine[["field", "raw"]].to_dict("records") == [
        {"field": "text", "raw": "😀😀"}
    ]


@pytest.mark.parametrize("text", ["🤔🤔", "<br/>", "&nbsp;", "<p></p>🎉"])
def test_text_that_is_only_noise_is_quarantined(text: str) -> None:
    frame = table(record("d1", "质量很好"), record("d2", text))

    result = clean(frame)

    assert result.records["doc_id"].tolist() == ["d1"]
    assert result.quarantine["row"].tolist() == [3]
    assert result.quarantine["reason"].tolist() == [
        "no text left after cleaning (only markup or emoji)"
    ]


def test_default_review_with_no_text_left_is_kept() -> None:
    result = clean(table(record("d1", "此用户没有填写评价。")))

    assert result.records["is_default_review"].tolist() == [True]
    assert len(result.quarantine) == 0


def test_accounting_identity() -> None:
    frame = table(
        record("d1", "质量很好"),
        record("d1", "质量很好"),  # exact duplicate
        record("d1", "物流太慢"),  # id reused
        record("d2", SPAM),
        record("d3", SPAM),  # spam
        record("d4", "好评"),
        record("d5", "好评"),  # short: kept
        record("d6", "🤔"),  # noise
        record("d7", "系统默认好评"),  # default review: kept
        record("d8", "物流很快"),  # already published
    )

    result = clean(frame, known_doc_ids={"d8"})

    kept, dups, bad = len(result.records), len(result.duplicates), len(result.quarantine)
    assert (kept, dups, bad) == (5, 3, 2)
    assert kept + dups + bad == len(frame)
    assert result.records.index.tolist() == list(range(kept))


def test_demo_shop_a_duplicates(demo_dir: Path, taxonomy: Taxonomy) -> None:
    records = ingest_source(
        SourceConfig(path=str(demo_dir / "reviews_shop_a.csv")), dt.date(2026, 11, 6)
    ).records

    result = clean_records(records, CleanConfig(), taxonomy.boilerplate)

    # The re-exported lines 197-199 repeat lines 194-196.
    assert sorted(result.duplicates["row"]) == [197, 198, 199]
    assert len(result.quarantine) == 0
    assert len(result.records) == 252
    assert len(result.records) + len(result.duplicates) + len(result.quarantine) == len(records)
    assert int(result.records["is_default_review"].sum()) == 3
    assert not result.records["text"].str.contains("13812345678").any()


# ---------------------------------------------------------------- properties


def control_characters(text: str) -> list[str]:
    # "\n" separates lines on purpose (the segmenter splits on it).
    return [ch for ch in text if unicodedata.category(ch) == "Cc" and ch != "\n"]


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=300))
def test_clean_never_raises_and_leaves_no_control_characters(text: str) -> None:
    cleaner = TextCleaner(CleanConfig(max_text_chars=100), BOILERPLATE)

    out, default = cleaner.clean(text)

    assert isinstance(default, bool)
    assert control_characters(out) == []
    assert "\ufeff" not in out
    assert len(out) <= 100


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.text(alphabet=st.sampled_from("\x00\x01\x1b\x7f\x85\t\r\n\u200b\ufeff 好<>&;"), max_size=50)
)
def test_clean_strips_control_characters_from_noisy_text(text: str) -> None:
    out, _ = TextCleaner(CleanConfig()).clean(text)

    assert control_characters(out) == []
    assert not out.startswith("\n")
    assert not out.endswith("\n")
