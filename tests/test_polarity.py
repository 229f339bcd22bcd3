from __future__ import annotations

import pytest

from voc.polarity import PolarityScorer


@pytest.fixture(scope="module")
def scorer(taxonomy):
    return PolarityScorer(taxonomy.polarity)


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("质量很好", 1),
        ("物流太慢了", -1),
        ("不好用", -1),
        ("一点也不差", 1),
        ("没有异味", 1),
        ("还行", 0),
    ],
)
def test_score_sign(scorer, text, sign):
    score = scorer.score(text)
    assert (score > 0) - (score < 0) == sign, (text, score)


@pytest.mark.parametrize(
    ("text", "question"), [("这款有大码吗", True), ("请问什么时候发货", True), ("很好", False)]
)
def test_questions(scorer, text, question):
    assert scorer.is_question(text) is question
