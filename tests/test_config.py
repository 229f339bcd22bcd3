"""Run config: frozen models, every mistake reported at once, paths relative to the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from voc.config import (
    DEFAULT_TAXONOMY,
    CleanConfig,
    PublishConfig,
    SourceConfig,
    VocConfig,
    format_validation_error,
    load_config,
)
from voc.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "voc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.path == str(path)
    return info.value.problems


# ---------------------------------------------------------------- defaults and models


def test_defaults_work_out_of_the_box() -> None:
    config = VocConfig()

    assert config.sources == ()
    assert config.seed == 42
    assert config.labels.taxonomy == str(DEFAULT_TAXONOMY)
    assert Path(config.labels.taxonomy).is_file()


def test_source_name_defaults_to_file_name() -> None:
    assert SourceConfig(path="/data/drops/reviews.csv").source_name == "reviews.csv"
    assert SourceConfig(path="/data/reviews.csv", name="shop_a").source_name == "shop_a"


@pytest.mark.parametrize(
    ("target", "attribute", "value"),
    [
        (VocConfig(), "seed", 7),
        (VocConfig().clean, "max_text_chars", 100),
        (VocConfig().publish, "out_dir", "elsewhere"),
        (SourceConfig(path="a.csv"), "path", "b.csv"),
    ],
    ids=["top", "clean", "publish", "source"],
)
def test_configs_are_frozen(target: object, attribute: str, value: object) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        setattr(target, attribute, value)


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        VocConfig.model_validate({"clean": {"max_chars": 10}})


def test_duplicate_source_names_are_rejected() -> None:
    with pytest.raises(ValidationError, match=r"source names must be unique.*reviews\.csv"):
        VocConfig(sources=(SourceConfig(path="a/reviews.csv"), SourceConfig(path="b/reviews.csv")))


def test_same_file_name_with_distinct_names_is_fine() -> None:
    config = VocConfig(
        sources=(
            SourceConfig(path="a/reviews.csv", name="shop_a"),
            SourceConfig(path="b/reviews.csv", name="shop_b"),
        )
    )

    assert [s.source_name for s in config.sources] == ["shop_a", "shop_b"]


def test_format_validation_error_gives_one_line_per_problem_with_its_key() -> None:
    with pytest.raises(ValidationError) as info:
        VocConfig.model_validate(
            {"sources": [{"path": "a.csv", "kind": "blog"}], "clean": {"max_text_chars": 1}}
        )

    problems = format_validation_error(info.value)

    assert problems == [
        "sources[0].kind: Input should be 'auto', 'review' or 'chat'",
        "clean.max_text_chars: Input should be greater than or equal to 50",
    ]


# ---------------------------------------------------------------- load_config


def test_load_config_reports_every_mistake_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sources:\n"
        "  - path: data/reviews.csv\n"
        "    kind: blog\n"
        "seed: abc\n"
        "clean:\n"
        "  max_text_chars: 3\n"
        "  bogus: 1\n"
        "topics:\n"
        "  sample_size: -1\n",
    )

    problems = problems_of(path)

    keys = [p.split(": ", 1)[0] for p in problems]
    assert sorted(keys) == sorted(
        ["sources[0].kind", "seed", "clean.max_text_chars", "clean.bogus", "topics.sample_size"]
    )


def test_load_config_error_prefixes_each_problem_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "seed: abc\nembed:\n  threads: 0\n")

    with pytest.raises(ConfigError) as info:
        load_config(path)

    message = str(info.value)
    assert message.startswith(f"[E201] 2 problem(s): {path}: ")
    assert f"{path}: seed: " in message
    assert f"{path}: embed.threads: " in message


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    path = write(
        folder,
        "sources:\n"
        "  - path: data/reviews.csv\n"
        "  - path: ../shared/chats.tsv\n"
        "  - path: /abs/export.jsonl\n"
        "labels:\n"
        "  taxonomy: taxonomies/mine.yaml\n",
    )

    config = load_config(path)

    assert [s.path for s in config.sources] == [
        str((folder / "data" / "reviews.csv").resolve()),
        str((tmp_path / "shared" / "chats.tsv").resolve()),
        "/abs/export.jsonl",
    ]
    assert config.labels.taxonomy == str((folder / "taxonomies" / "mine.yaml").resolve())


def test_relative_paths_do_not_depend_on_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "sources:\n  - path: reviews.csv\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    config = load_config(path)

    assert config.sources[0].path == str((tmp_path / "reviews.csv").resolve())


def test_empty_config_file_gives_defaults(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == VocConfig()


def test_config_values_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "seed: 7\n"
        "sources:\n"
        "  - path: reviews.csv\n"
        "    name: shop_a\n"
        "    columns: {text: 评价内容}\n"
        "    rating_scale: [0, 10]\n"
        "publish:\n"
        "  out_dir: /tmp/out\n",
    )

    config = load_config(path)

    assert config.seed == 7
    assert config.sources[0].source_name == "shop_a"
    assert config.sources[0].columns.text == "评价内容"
    assert config.sources[0].rating_scale == (0, 10)
    assert config.publish.out_dir == "/tmp/out"


def test_a_rating_scale_must_run_from_low_to_high(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  - path: reviews.csv\n    rating_scale: [10, 1]\n")

    assert problems_of(path) == [
        "sources[0].rating_scale: Value error, expected [lowest, highest] with lowest < highest,"
        " got [10, 1]"
    ]


def test_invalid_yaml_gives_one_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, "seed: [1, 2\nclean: : :\n")

    problems = problems_of(path)

    assert len(problems) == 1
    assert problems[0].startswith("not valid UTF-8 YAML")


@pytest.mark.parametrize("content", ["- a\n- b\n", "42\n"])
def test_config_that_is_not_a_mapping(tmp_path: Path, content: str) -> None:
    assert problems_of(write(tmp_path, content)) == ["<top>: expected a mapping of settings"]


def test_missing_config_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "missing.yaml") == ["file not found"]


# ---------------------------------------------------------------- config_hash


def test_config_hash_is_stable_and_short() -> None:
    first = VocConfig(seed=1).config_hash()

    assert first == VocConfig(seed=1).config_hash()
    assert re.fullmatch(r"[0-9a-f]{12}", first)


def test_config_hash_ignores_out_dir() -> None:
    a = VocConfig(publish=PublishConfig(out_dir="outputs"))
    b = VocConfig(publish=PublishConfig(out_dir="/somewhere/else"))

    assert a.config_hash() == b.config_hash()


@pytest.mark.parametrize(
    "changed",
    [
        VocConfig(seed=43),
        VocConfig(clean=CleanConfig(max_text_chars=100)),
        VocConfig(sources=(SourceConfig(path="reviews.csv"),)),
    ],
    ids=["seed", "clean", "sources"],
)
def test_config_hash_changes_with_settings_that_change_results(changed: VocConfig) -> None:
    assert changed.config_hash() != VocConfig().config_hash()
