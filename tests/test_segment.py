"""Segmentation: records -> clauses, with a private jieba tokenizer holding taxonomy words."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import jieba
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.language import Language

from voc.config import SegmentConfig
from voc.embed import text_sha1
from voc.segment import build_nlp, make_tokenizer, segment_records, split_clauses


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> jieba.Tokenizer:
    return make_tokenizer(["充电盒"], cache_dir=tmp_path_factory.mktemp("jieba"))


@pytest.fixture(scope="module")
def nlp(tokenizer: jieba.Tokenizer) -> Language:
    return build_nlp(SegmentConfig(), tokenizer)


@pytest.fixture(scope="module")
def short_nlp(tokenizer: jieba.Tokenizer) -> Language:
    return build_nlp(SegmentConfig(max_clause_chars=10), tokenizer)


def clauses(nlp: Language, text: str, min_chars: int = 2) -> list[str]:
    return split_clauses(nlp, [text], min_chars)[0]


def without_space(text: str) -> str:
    return re.sub(r"\s", "", text)


# ---------------------------------------------------------------- clauses


def test_contrast_word_splits(nlp: Language) -> None:
    assert clauses(nlp, "质量很好但是物流太慢") == ["质量很好", "但是物流太慢"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("很好。很满意！还会再来", ["很好。", "很满意！", "还会再来"]),
        ("真的是纯棉吗?穿着很舒服", ["真的是纯棉吗?", "穿着很舒服"]),
        ("音质很好;降噪一般", ["音质很好;", "降噪一般"]),
        ("第一行很好\n第二行也不错", ["第一行很好", "第二行也不错"]),
        ("质量不错，就是有点贵，但是物流很快。", ["质量不错，", "就是有点贵，", "但是物流很快。"]),
        ("面料舒服，不过洗了会缩水", ["面料舒服，", "不过洗了会缩水"]),
    ],
)
def test_sentence_punctuation_and_contrast_words_split(
    nlp: Language, text: str, expected: list[str]
) -> None:
    assert clauses(nlp, text) == expected


@pytest.mark.parametrize("text", ["颜色很好看，尺码也合适", "面料柔软,做工精细,物流也快"])
def test_commas_alone_do_not_split_short_text(nlp: Language, text: str) -> None:
    assert clauses(nlp, text) == [text]


def test_long_comma_clauses_are_cut_at_max_clause_chars(short_nlp: Language) -> None:
    part = "这个衣服的面料摸起来很舒服"  # 13 characters, more than max_clause_chars=10
    text = "，".join([part] * 4)

    result = clauses(short_nlp, text)

    assert result == [part + "，"] * 3 + [part]


def test_long_comma_clauses_stay_whole_below_max_clause_chars(nlp: Language) -> None:
    text = "，".join(["这个衣服的面料摸起来很舒服"] * 4)

    assert clauses(nlp, text) == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("质量很好。好", ["质量很好。好"]),
        ("好！质量不错", ["好！质量不错"]),
        ("质量很好。！物流也快", ["质量很好。！", "物流也快"]),
        ("！", ["！"]),
    ],
)
def test_tiny_fragments_are_merged(nlp: Language, text: str, expected: list[str]) -> None:
    result = clauses(nlp, text)

    assert result == expected
    assert "".join(result) == text


def test_min_clause_chars_controls_merging(nlp: Language) -> None:
    assert clauses(nlp, "很好。不错", min_chars=3) == ["很好。不错"]
    assert clauses(nlp, "很好。不错", min_chars=2) == ["很好。", "不错"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_blank_text_has_no_clauses(nlp: Language, text: str) -> None:
    assert clauses(nlp, text) == []


def test_split_clauses_keeps_one_list_per_text(nlp: Language) -> None:
    result = split_clauses(nlp, ["质量很好但是物流太慢", "", "好"], 2)

    assert result == [["质量很好", "但是物流太慢"], [], ["好"]]


# ---------------------------------------------------------------- tokenizer


def test_user_words_stay_whole(tokenizer: jieba.Tokenizer) -> None:
    words = tokenizer.lcut("充电盒充不进电")

    assert words[0] == "充电盒"
    assert "".join(words) == "充电盒充不进电"


def test_tokenizer_is_private(tokenizer: jieba.Tokenizer, nlp: Language) -> None:
    assert isinstance(tokenizer, jieba.Tokenizer)
    assert tokenizer is not jieba.dt
    assert nlp.tokenizer.jieba_seg is tokenizer
    # The word went into our tokenizer only, not into jieba's global one.
    assert "充电盒" not in jieba.dt.FREQ


def test_user_words_do_not_leak_into_a_fresh_tokenizer(tokenizer: jieba.Tokenizer) -> None:
    assert "充电盒" not in jieba.Tokenizer().lcut("充电盒充不进电")


def test_user_word_keeps_a_clause_whole(nlp: Language) -> None:
    doc = nlp("充电盒充不进电")

    assert doc[0].text == "充电盒"


@pytest.fixture
def fresh_jieba(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process whose default jieba dictionary is not loaded yet."""
    monkeypatch.setattr(jieba, "dt", jieba.Tokenizer())


def test_cache_dir_holds_the_jieba_cache(tmp_path: Path, fresh_jieba) -> None:
    cache = tmp_path / "cache"

    make_tokenizer(["起球"], cache_dir=cache)

    assert (cache / "jieba.cache").is_file()


def test_dictionary_is_loaded_once_and_never_changed(tmp_path: Path, fresh_jieba) -> None:
    first = make_tokenizer(["蓝牙降噪耳机"], cache_dir=tmp_path)
    loaded = jieba.dt.FREQ
    second = make_tokenizer(cache_dir=tmp_path)

    assert jieba.dt.FREQ is loaded  # the default dictionary was loaded once, then copied
    assert "蓝牙降噪耳机" in first.FREQ and "蓝牙降噪耳机" not in jieba.dt.FREQ
    assert "蓝牙降噪耳机" not in second.FREQ  # user words stay with their tokenizer
    assert first.lcut("蓝牙降噪耳机很好")[0] == "蓝牙降噪耳机"
    assert second.lcut("蓝牙降噪耳机很好")[0] != "蓝牙降噪耳机"


def test_default_cache_goes_to_voc_cache_not_system_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_jieba
) -> None:
    system_temp = tmp_path / "system_temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    monkeypatch.setenv("VOC_CACHE_DIR", str(tmp_path / "voc_cache"))

    make_tokenizer(["起球"])

    assert (tmp_path / "voc_cache" / "jieba" / "jieba.cache").is_file()
    assert list(system_temp.iterdir()) == []


# ---------------------------------------------------------------- records -> units


def records() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": ["r1", "s1", "s1", "s1", "r2"],
            "source_kind": ["review", "chat", "chat", "chat", "review"],
            "product": ["耳机", "T恤", "T恤", "T恤", "耳机"],
            "date": [dt.date(2026, 10, 1)] * 5,
            "turn_index": [0, 0, 1, 2, 0],
            "is_agent": [False, False, True, False, False],
            "text": ["音质很好但是充电盒充不进电", "有大码吗", "有的亲", "好的。谢谢", ""],
        }
    )


def test_segment_records_skips_agent_turns_and_empty_text(nlp: Language) -> None:
    units = segment_records(records(), nlp, SegmentConfig())

    assert units["text"].tolist() == [
        "音质很好",
        "但是充电盒充不进电",
        "有大码吗",
        "好的。",
        "谢谢",
    ]
    assert "有的亲" not in units["text"].tolist()
    assert "r2" not in units["doc_id"].tolist()


def test_segment_records_columns_and_indexes(nlp: Language) -> None:
    units = segment_records(records(), nlp, SegmentConfig())

    assert list(units.columns) == [
        "unit_id", "doc_id", "source_kind", "product", "date", "turn_index", "clause_index",
        "text", "text_sha1",
    ]  # fmt: skip
    assert units["doc_id"].tolist() == ["r1", "r1", "s1", "s1", "s1"]
    assert units["turn_index"].tolist() == [0, 0, 0, 2, 2]
    assert units["clause_index"].tolist() == [0, 1, 0, 0, 1]
    assert units["text_sha1"].tolist() == [text_sha1(t) for t in units["text"]]


def test_unit_ids_are_stable_and_unique(nlp: Language) -> None:
    first = segment_records(records(), nlp, SegmentConfig())
    second = segment_records(records(), nlp, SegmentConfig())

    assert first["unit_id"].tolist() == second["unit_id"].tolist()
    assert first["unit_id"].is_unique
    assert all(re.fullmatch(r"[0-9a-f]{16}", u) for u in first["unit_id"])


def test_unit_id_depends_on_position_not_text(nlp: Language) -> None:
    changed = records()
    changed.loc[0, "text"] = "音质一般但是充电盒充不进电"

    before = segment_records(records(), nlp, SegmentConfig())
    after = segment_records(changed, nlp, SegmentConfig())

    assert before["unit_id"].tolist() == after["unit_id"].tolist()
    assert before.loc[0, "text_sha1"] != after.loc[0, "text_sha1"]


def test_segment_records_on_no_customer_text(nlp: Language) -> None:
    only_agents = records().assign(is_agent=True)

    units = segment_records(only_agents, nlp, SegmentConfig())

    assert len(units) == 0
    assert "unit_id" in units.columns


# ---------------------------------------------------------------- properties

REVIEWISH = st.text(
    alphabet=st.sampled_from("质量很好但是物流太慢就是不过，。！？、：,.!? \n好a1"), max_size=80
)


@settings(max_examples=200, deadline=None, database=None)
@given(st.one_of(st.text(max_size=120), REVIEWISH))
def test_segmentation_never_raises_and_loses_no_characters(nlp: Language, text: str) -> None:
    result = clauses(nlp, text)

    assert without_space("".join(result)) == without_space(text)
    assert all(clause == clause.strip() and clause for clause in result)


def test_spacy_loads_without_torch_and_torch_still_imports_afterwards():
    code = (
        "import sys; import voc.segment; assert 'torch' not in sys.modules;"
        " import torch; assert torch.ones(2).sum().item() == 2"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
