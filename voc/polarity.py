"""Clause polarity from a lexicon: positive/negative words, negation, questions.

Document ratings are not clause labels ("质量很好但是物流太慢" has two polarities), so
polarity is decided per clause from what the clause says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from voc.taxonomy import PolarityLexicon

_NEGATION_WINDOW = 3  # characters between a negator and the word it flips


def alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching any of ``words``, longest first (so 不太好 beats 好)."""
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in ordered)) if ordered else re.compile(r"(?!x)x")


@dataclass(frozen=True)
class PolarityScorer:
    """Scores clauses: > 0 positive, < 0 negative; questions are flagged separately."""

    lexicon: PolarityLexicon

    @cached_property
    def _sentiment(self) -> re.Pattern[str]:
        return alternation(self.lexicon.positive + self.lexicon.negative)

    @cached_property
    def _negative(self) -> frozenset[str]:
        return frozenset(self.lexicon.negative)

    @cached_property
    def _negator(self) -> re.Pattern[str]:
        return alternation(self.lexicon.negators)

    @cached_property
    def _question(self) -> re.Pattern[str]:
        return alternation(self.lexicon.question_markers)

    def score(self, text: str) -> float:
        """Sum of +1/-1 per sentiment word, flipped when a negator stands just before."""
        total = 0.0
        for match in self._sentiment.finditer(text):
            word = match.group(0)
            value = -1.0 if word in self._negative else 1.0
            # a negative word that itself starts with a negator (不好, 没用) is not re-flipped
            window = text[max(0, match.start() - _NEGATION_WINDOW) : match.start()]
            if self._negator.search(window) and not self._negator.match(word):
                value = -value
            total += value
        return total

    def is_question(self, text: str) -> bool:
        return bool(self._question.search(text))

    def scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised over texts: (scores, is_question)."""
        return (
            np.array([self.score(t) for t in texts], dtype=np.float32),
            np.array([self.is_question(t) for t in texts], dtype=bool),
        )
