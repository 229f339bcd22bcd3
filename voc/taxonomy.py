"""The taxonomy: categories -> subtopics, seed words, exemplars, attribute lexicon.

A taxonomy is a YAML file owned by the people who own the categories
(``taxonomies/default.yaml``). :func:`load_taxonomy` validates it and reports every
problem at once with the file and key; a category or subtopic added there is used by
the classifier and the topic model without code changes.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from voc.config import (
    IDENTIFIER,
    Frozen,
    check_regexes,
    format_validation_error,
    read_yaml,
    repeated,
)
from voc.errors import ConfigError

Polarity = Literal["positive", "negative", "neutral"]
POLARITIES: tuple[str, ...] = ("negative", "neutral", "positive")


class Subtopic(Frozen):
    id: str = Field(pattern=IDENTIFIER)
    name_zh: str = Field(min_length=1)
    seeds: tuple[str, ...] = Field(min_length=1)
    exemplars: tuple[str, ...] = ()


class Category(Frozen):
    id: str = Field(pattern=IDENTIFIER)
    name_zh: str = Field(min_length=1)
    description: str = ""
    priority: int = Field(ge=1)
    default_polarity: Polarity
    seeds: tuple[str, ...] = Field(min_length=1)
    exemplars: tuple[str, ...] = Field(min_length=1)
    subtopics: tuple[Subtopic, ...] = ()

    @field_validator("subtopics")
    @classmethod
    def _unique_subtopics(cls, subtopics: tuple[Subtopic, ...]) -> tuple[Subtopic, ...]:
        doubles = repeated([s.id for s in subtopics])
        if doubles:
            raise ValueError(f"subtopic ids must be unique within a category, repeated: {doubles}")
        return subtopics

    @property
    def all_seeds(self) -> tuple[str, ...]:
        """The category's seeds and those of its subtopics."""
        seeds = list(self.seeds)
        for sub in self.subtopics:
            seeds.extend(sub.seeds)
        return tuple(dict.fromkeys(seeds))

    @property
    def all_exemplars(self) -> tuple[str, ...]:
        examples = list(self.exemplars)
        for sub in self.subtopics:
            examples.extend(sub.exemplars)
        return tuple(dict.fromkeys(examples))


class Attribute(Frozen):
    id: str = Field(pattern=IDENTIFIER)
    name_zh: str = Field(min_length=1)
    triggers: tuple[str, ...] = Field(min_length=1)
    value_patterns: tuple[str, ...] = ()

    @field_validator("value_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        return check_regexes(patterns)

    @cached_property
    def compiled(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.value_patterns)


class PolarityLexicon(Frozen):
    positive: tuple[str, ...] = Field(min_length=1)
    negative: tuple[str, ...] = Field(min_length=1)
    negators: tuple[str, ...] = Field(min_length=1)
    question_markers: tuple[str, ...] = Field(min_length=1)
    intensifiers: tuple[str, ...] = ()


class Taxonomy(Frozen):
    version: int = Field(ge=1)
    name: str
    language: str = "zh"
    categories: tuple[Category, ...] = Field(min_length=2)
    attributes: tuple[Attribute, ...] = ()
    polarity: PolarityLexicon
    stopwords: tuple[str, ...] = ()
    boilerplate: tuple[str, ...] = ()

    # Field validators (not a model validator) so these problems are reported together
    # with every other problem in the file, under their own key.
    @field_validator("categories")
    @classmethod
    def _check_categories(cls, categories: tuple[Category, ...]) -> tuple[Category, ...]:
        doubles = repeated([c.id for c in categories])
        if doubles:
            raise ValueError(f"category ids must be unique, repeated: {doubles}")
        if "other" not in {c.id for c in categories}:
            raise ValueError("a category with id 'other' is required (text with nothing to act on)")
        return categories

    @field_validator("attributes")
    @classmethod
    def _check_attributes(cls, attributes: tuple[Attribute, ...]) -> tuple[Attribute, ...]:
        doubles = repeated([a.id for a in attributes])
        if doubles:
            raise ValueError(f"attribute ids must be unique, repeated: {doubles}")
        return attributes

    @property
    def category_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.categories)

    def category(self, category_id: str) -> Category:
        for category in self.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)

    @property
    def user_words(self) -> tuple[str, ...]:
        """Words for the jieba user dictionary: seeds, subtopic seeds, attribute triggers."""
        words: list[str] = []
        for category in self.categories:
            words.extend(category.all_seeds)
        for attribute in self.attributes:
            words.extend(attribute.triggers)
        return tuple(w for w in dict.fromkeys(words) if 1 < len(w) <= 8 and " " not in w)


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Load and validate a taxonomy YAML file.

    Raises:
        ConfigError: listing every problem at once, e.g.
            ``taxonomies/x.yaml: categories[2].seeds: Input should be a valid tuple``.
    """
    path = Path(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["<top>: expected a mapping with `categories`"])
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        problems = format_validation_error(exc)
        # pydantic skips the whole-list checks when an item is invalid; run them on the
        # raw data too, so every mistake is reported at once
        for problem in _raw_id_problems(data):
            if not any(problem.split(": ", 1)[1] in p for p in problems):
                problems.append(problem)
        raise ConfigError(str(path), problems) from exc


def _raw_id_problems(data: dict) -> list[str]:
    categories = data.get("categories")
    if not isinstance(categories, list):
        return []
    doubles = repeated([str(c.get("id")) for c in categories if isinstance(c, dict)])
    if doubles:
        return [f"categories: Value error, category ids must be unique, repeated: {doubles}"]
    return []
