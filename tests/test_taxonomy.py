"""Taxonomy: the default file loads; broken files report every problem with file and key."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from voc.config import DEFAULT_TAXONOMY
from voc.errors import ConfigError
from voc.taxonomy import POLARITIES, Taxonomy, load_taxonomy


@pytest.fixture(scope="module")
def labels_md(shared_data: Path) -> str:
    return (shared_data.parent / "LABELS.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def default_data() -> dict:
    return yaml.safe_load(DEFAULT_TAXONOMY.read_text(encoding="utf-8"))


def write_yaml(tmp_path: Path, data: object, name: str = "taxonomy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)
    assert info.value.path == str(path)
    return info.value.problems


# ---------------------------------------------------------------- the default taxonomy


def test_default_taxonomy_has_exactly_the_labels_md_categories(
    taxonomy: Taxonomy, labels_md: str
) -> None:
    documented = re.findall(r"^\| `([a-z_]+)` \|", labels_md, flags=re.MULTILINE)

    assert len(documented) == 7
    assert len(taxonomy.categories) == 7
    assert set(taxonomy.category_ids) == set(documented)


def test_default_priorities_follow_labels_md(taxonomy: Taxonomy, labels_md: str) -> None:
    rule = re.search(r"in this order:(.*?`other`)", labels_md, flags=re.DOTALL)
    assert rule is not None
    documented_order = re.findall(r"`([a-z_]+)`", rule.group(1))

    by_priority = sorted(taxonomy.categories, key=lambda c: c.priority)

    assert [c.id for c in by_priority] == documented_order
    assert sorted(c.priority for c in taxonomy.categories) == list(range(1, 8))


def test_default_categories_are_usable(taxonomy: Taxonomy) -> None:
    for category in taxonomy.categories:
        assert category.name_zh
        assert category.seeds
        assert category.exemplars
        assert category.default_polarity in POLARITIES
        assert set(category.seeds) <= set(category.all_seeds)
        assert set(category.exemplars) <= set(category.all_exemplars)


def test_category_lookup(taxonomy: Taxonomy) -> None:
    assert taxonomy.category("logistics").name_zh == "物流"
    with pytest.raises(KeyError):
        taxonomy.category("shipping")


def test_user_words_are_jieba_friendly(taxonomy: Taxonomy) -> None:
    words = taxonomy.user_words

    assert "充不进电" in words
    assert "尺码" in words  # an attribute trigger
    assert len(words) == len(set(words))
    assert all(1 < len(w) <= 8 and " " not in w for w in words)


def test_default_boilerplate_and_attributes(taxonomy: Taxonomy) -> None:
    assert "此用户没有填写评价" in taxonomy.boilerplate
    size = next(a for a in taxonomy.attributes if a.id == "size")
    assert any(p.search("平时穿XL") for p in size.compiled)


def test_taxonomy_is_frozen(taxonomy: Taxonomy) -> None:
    with pytest.raises(ValueError, match="frozen"):
        taxonomy.name = "changed"


# ---------------------------------------------------------------- broken files


def break_everything(data: dict) -> dict:
    broken = copy.deepcopy(data)
    broken["categories"][2]["seeds"] = "物流, 快递"  # a string, not a list
    broken["attributes"][0]["value_patterns"] = ["(unclosed"]
    broken["categories"][3]["id"] = broken["categories"][0]["id"]
    broken["colour"] = "blue"  # unknown key
    return broken


def test_broken_taxonomy_reports_field_problems_at_once(tmp_path: Path, default_data: dict) -> None:
    path = write_yaml(tmp_path, break_everything(default_data))

    problems = problems_of(path)

    keys = [p.split(": ", 1)[0] for p in problems]
    assert "categories[2].seeds" in keys
    assert "attributes[0].value_patterns" in keys
    assert "colour" in keys
    assert any("does not compile" in p for p in problems)
    assert any("Extra inputs are not permitted" in p for p in problems)


def test_broken_taxonomy_message_prefixes_each_problem_with_file_and_key(
    tmp_path: Path, default_data: dict
) -> None:
    path = write_yaml(tmp_path, break_everything(default_data))

    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)

    message = str(info.value)
    assert message.startswith(f"[E201] {len(info.value.problems)} problem(s): ")
    assert f"{path}: categories[2].seeds: " in message
    assert f"{path}: attributes[0].value_patterns: " in message
    assert f"{path}: colour: " in message


def test_broken_taxonomy_also_reports_duplicate_category_id(
    tmp_path: Path, default_data: dict
) -> None:
    path = write_yaml(tmp_path, break_everything(default_data))

    problems = problems_of(path)

    assert any("category ids must be unique" in p for p in problems)
    assert len(problems) == 4


def test_duplicate_category_id_alone_is_reported(tmp_path: Path, default_data: dict) -> None:
    data = copy.deepcopy(default_data)
    data["categories"][3]["id"] = data["categories"][0]["id"]

    problems = problems_of(write_yaml(tmp_path, data))

    assert len(problems) == 1
    assert "category ids must be unique, repeated: ['product_quality']" in problems[0]


@pytest.mark.parametrize(
    ("mutate", "key", "text"),
    [
        (lambda d: d["categories"][0].update(priority=0), "categories[0].priority", "greater"),
        (lambda d: d["categories"][1].update(id="Bad-Id"), "categories[1].id", "pattern"),
        (lambda d: d["categories"][1].update(default_polarity="angry"), "categories[1].default_polarity", "positive"),
        (lambda d: d["categories"][0].update(seeds=[]), "categories[0].seeds", "at least 1"),
        (lambda d: d["categories"][0].pop("exemplars"), "categories[0].exemplars", "required"),
        (lambda d: d["categories"][0]["subtopics"][0].update(extra=1), "categories[0].subtopics[0].extra", "Extra"),
        (lambda d: d["polarity"].pop("negators"), "polarity.negators", "required"),
        (lambda d: d.update(version=0), "version", "greater"),
    ],
    ids=["priority", "id", "polarity", "no-seeds", "no-exemplars", "subtopic-extra", "lexicon", "version"],
)  # fmt: skip
def test_single_mistake_names_its_key(
    tmp_path: Path, default_data: dict, mutate, key: str, text: str
) -> None:
    data = copy.deepcopy(default_data)
    mutate(data)

    problems = problems_of(write_yaml(tmp_path, data))

    assert len(problems) == 1
    assert problems[0].startswith(f"{key}: ")
    assert text in problems[0]


def test_missing_other_category_is_reported(tmp_path: Path, default_data: dict) -> None:
    data = copy.deepcopy(default_data)
    data["categories"] = [c for c in data["categories"] if c["id"] != "other"]

    problems = problems_of(write_yaml(tmp_path, data))

    assert any("'other' is required" in p for p in problems)


def test_duplicate_subtopic_ids_are_reported(tmp_path: Path, default_data: dict) -> None:
    data = copy.deepcopy(default_data)
    subtopics = data["categories"][0]["subtopics"]
    subtopics[1]["id"] = subtopics[0]["id"]

    problems = problems_of(write_yaml(tmp_path, data))

    assert len(problems) == 1
    assert problems[0].startswith("categories[0].subtopics: ")
    assert "subtopic ids must be unique" in problems[0]


def test_invalid_yaml_syntax_gives_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text("categories: [a, b\nname: : :\n", encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)

    assert len(info.value.problems) == 1
    assert "not valid UTF-8 YAML" in info.value.problems[0]
    assert "line" in info.value.problems[0]
    assert str(info.value).startswith(f"[E201] 1 problem(s): {path}: ")


def test_non_utf8_yaml_gives_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_bytes("name: 默认\n".encode("gbk"))

    with pytest.raises(ConfigError, match="not valid UTF-8 YAML"):
        load_taxonomy(path)


def test_missing_taxonomy_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"

    with pytest.raises(ConfigError) as info:
        load_taxonomy(path)

    assert info.value.problems == ["file not found"]


@pytest.mark.parametrize("content", ["- a\n- b\n", "just a string\n", ""])
def test_taxonomy_that_is_not_a_mapping(tmp_path: Path, content: str) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(content, encoding="utf-8")

    problems = problems_of(path)

    assert problems == ["<top>: expected a mapping with `categories`"]


# ---------------------------------------------------------------- extending


def test_new_category_in_yaml_is_accepted(tmp_path: Path, default_data: dict) -> None:
    data = copy.deepcopy(default_data)
    data["categories"].append(
        {
            "id": "packaging",
            "name_zh": "包装",
            "priority": 8,
            "default_polarity": "neutral",
            "seeds": ["包装", "礼盒"],
            "exemplars": ["包装很精美", "礼盒压坏了"],
            "subtopics": [{"id": "gift_box", "name_zh": "礼盒", "seeds": ["礼盒"]}],
        }
    )

    taxonomy = load_taxonomy(write_yaml(tmp_path, data))

    assert taxonomy.category_ids[-1] == "packaging"
    assert len(taxonomy.categories) == 8
    assert taxonomy.category("packaging").all_seeds == ("包装", "礼盒")
    assert "礼盒" in taxonomy.user_words


def test_minimal_taxonomy_loads(tmp_path: Path) -> None:
    data = {
        "version": 1,
        "name": "tiny",
        "categories": [
            {"id": "quality", "name_zh": "质量", "priority": 1, "default_polarity": "negative",
             "seeds": ["坏了"], "exemplars": ["用了两天就坏了"]},
            {"id": "other", "name_zh": "其他", "priority": 2, "default_polarity": "neutral",
             "seeds": ["谢谢"], "exemplars": ["好的谢谢"]},
        ],
        "polarity": {"positive": ["好"], "negative": ["差"], "negators": ["不"],
                     "question_markers": ["吗"]},
    }  # fmt: skip

    taxonomy = load_taxonomy(write_yaml(tmp_path, data))

    assert taxonomy.category_ids == ("quality", "other")
    assert taxonomy.attributes == ()
    assert taxonomy.language == "zh"
