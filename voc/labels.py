"""Label: give every unit a category, a polarity, a confidence and product attributes.

:class:`PrototypeClassifier` is driven by the taxonomy alone: each category is
represented by the embeddings of its exemplar sentences (prototypes) and by its seed
words. A unit's category score is the mean cosine similarity to its ``top_k``
nearest exemplars of that category plus a bonus per seed word found; a softmax over
the scores gives the confidence. When two categories are close, the one product
teams act on first wins (the taxonomy ``priority``, as LABELS.md says).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from voc.embed import Embedder
from voc.polarity import PolarityScorer, alternation
from voc.taxonomy import Taxonomy

log = logging.getLogger(__name__)

_NOTHING_SAID = re.compile(r"^[\W_\d]*$")  # no letters or CJK: emoji, punctuation, numbers
# Categories whose definition fixes the polarity (LABELS.md): a quality problem is a
# complaint and a selling point is praise, whatever words the clause uses.
FIXED_POLARITY = {"product_quality": "negative", "selling_point": "positive"}
_PRIORITY_MARGIN = 0.15  # confidence gap within which the higher-priority category wins


def nothing_said(texts: Sequence[str]) -> np.ndarray:
    """Mask of texts with no letters or CJK at all (empty, emoji, punctuation, digits)."""
    return np.array([bool(_NOTHING_SAID.match(t)) for t in texts], dtype=bool)


def lexicon_polarity(scorer: PolarityScorer, texts: list[str]) -> np.ndarray:
    """Polarity from the lexicon score; a question is neutral unless it complains."""
    scores, questions = scorer.scores(texts)
    polarity = np.where(scores > 0, "positive", np.where(scores < 0, "negative", "neutral"))
    polarity = polarity.astype(object)
    polarity[questions & (scores >= 0)] = "neutral"
    return polarity


def fix_polarity(category: np.ndarray, polarity: np.ndarray) -> np.ndarray:
    """Apply :data:`FIXED_POLARITY` (in place) and return ``polarity``."""
    for cat, fixed in FIXED_POLARITY.items():
        polarity[category == cat] = fixed
    return polarity


@dataclass
class Labels:
    category: np.ndarray
    polarity: np.ndarray
    confidence: np.ndarray
    subtopic: np.ndarray


class PrototypeClassifier:
    """Zero-shot category classifier from taxonomy exemplars and seeds.

    Args:
        taxonomy: Categories with their seeds and exemplars.
        embedder: Embeds exemplars at ``fit`` (units come pre-embedded).
        top_k: Exemplars per category averaged for the similarity score.
        keyword_weight: Score added per seed word found (at most 3 counted).
        temperature: Softmax temperature turning scores into confidences.
    """

    name = "prototype-v1"

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Embedder,
        top_k: int = 3,
        keyword_weight: float = 0.08,
        temperature: float = 0.05,
    ) -> None:
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.top_k = top_k
        self.keyword_weight = keyword_weight
        self.temperature = temperature

    def fit(self) -> PrototypeClassifier:
        """Embed the exemplars; learned state ends in ``_``."""
        texts, owners, sub_owners = [], [], []
        for ci, category in enumerate(self.taxonomy.categories):
            for text in category.exemplars:
                texts.append(text)
                owners.append(ci)
                sub_owners.append(None)
            for sub in category.subtopics:
                for text in sub.exemplars:
                    texts.append(text)
                    owners.append(ci)
                    sub_owners.append(sub.id)
        self.categories_ = np.array(self.taxonomy.category_ids, dtype=object)
        self.priorities_ = np.array([c.priority for c in self.taxonomy.categories])
        self.prototypes_ = self.embedder.embed(texts)
        self.prototype_category_ = np.array(owners)
        self.prototype_subtopic_ = np.array(sub_owners, dtype=object)
        self.seed_patterns_ = [alternation(c.all_seeds) for c in self.taxonomy.categories]
        self.subtopic_patterns_ = {
            c.id: [(s.id, alternation(s.seeds)) for s in c.subtopics]
            for c in self.taxonomy.categories
        }
        self.polarity_ = PolarityScorer(self.taxonomy.polarity)
        self.other_index_ = int(np.flatnonzero(self.categories_ == "other")[0])
        return self

    def category_scores(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        """(n, categories): similarity to exemplars plus seed-word evidence."""
        similarity = embeddings @ self.prototypes_.T
        n_categories = len(self.categories_)
        scores = np.zeros((len(texts), n_categories), dtype=np.float32)
        for ci in range(n_categories):
            columns = similarity[:, self.prototype_category_ == ci]
            k = min(self.top_k, columns.shape[1])
            top = -np.partition(-columns, k - 1, axis=1)[:, :k]
            scores[:, ci] = top.mean(axis=1)
        hits = np.array(
            [[min(len(p.findall(t)), 3) for p in self.seed_patterns_] for t in texts],
            dtype=np.float32,
        ).reshape(len(texts), n_categories)
        return scores + self.keyword_weight * hits

    def predict_proba(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        scores = self.category_scores(texts, embeddings) / self.temperature
        scores -= scores.max(axis=1, keepdims=True)
        weights = np.exp(scores)
        return weights / weights.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> Labels:
        """Category, polarity, confidence and subtopic for each text."""
        texts = list(texts)
        proba = self.predict_proba(texts, embeddings)
        chosen = proba.argmax(axis=1)
        # Prefer the higher-priority category when it is nearly as likely.
        for i in range(len(texts)):
            close = np.flatnonzero(proba[i] >= proba[i, chosen[i]] - _PRIORITY_MARGIN)
            chosen[i] = close[np.argmin(self.priorities_[close])]
        confidence = proba[np.arange(len(texts)), chosen]
        category = self.categories_[chosen].astype(object)
        nothing = nothing_said(texts)
        category[nothing] = "other"
        confidence[nothing] = 1.0
        polarity = fix_polarity(category, lexicon_polarity(self.polarity_, texts))
        subtopic = np.array(
            [self.subtopic(t, c) for t, c in zip(texts, category, strict=True)], dtype=object
        )
        return Labels(category, polarity, confidence.astype(np.float32), subtopic)

    def subtopic(self, text: str, category: str) -> str | None:
        """The category's subtopic with the most seed words in ``text``, if any."""
        best, best_hits = None, 0
        for sub_id, pattern in self.subtopic_patterns_.get(category, []):
            hits = len(pattern.findall(text))
            if hits > best_hits:
                best, best_hits = sub_id, hits
        return best


def extract_attributes(texts: Sequence[str], taxonomy: Taxonomy) -> tuple[list, list]:
    """Product attributes named in each text, from the taxonomy lexicon.

    Returns:
        ``(attribute ids, values)``: the first attribute whose trigger occurs, and the
        first value its patterns capture (``None`` when no pattern matches).
    """
    triggers = [(a, alternation(a.triggers)) for a in taxonomy.attributes]
    attributes: list[str | None] = []
    values: list[str | None] = []
    for text in texts:
        found, value = None, None
        for attribute, pattern in triggers:
            if pattern.search(text):
                found = attribute.id
                for value_pattern in attribute.compiled:
                    match = value_pattern.search(text)
                    if match:
                        value = match.group(0)
                        break
                break
        attributes.append(found)
        values.append(value)
    return attributes, values


def label_units(
    units: pd.DataFrame, embeddings: np.ndarray, classifier, batch_size: int = 4096
) -> pd.DataFrame:
    """Add category, polarity, confidence, subtopic, attribute and attribute_value.

    Args:
        units: Units with ``text``.
        embeddings: Their vectors, aligned with ``units``.
        classifier: A fitted classifier (prototype or supervised).
        batch_size: Units labelled at a time.

    Returns:
        A copy of ``units`` with the label columns.
    """
    out = units.copy()
    if len(out) == 0:
        for column in ("category", "polarity", "subtopic", "attribute", "attribute_value"):
            out[column] = pd.Series(dtype=object)
        out["confidence"] = pd.Series(dtype=np.float32)
        return out
    texts = out["text"].tolist()
    parts = [
        classifier.predict(texts[i : i + batch_size], embeddings[i : i + batch_size])
        for i in range(0, len(texts), batch_size)
    ]  # batches bound the feature matrices a classifier builds
    out["category"] = np.concatenate([p.category for p in parts])
    out["polarity"] = np.concatenate([p.polarity for p in parts])
    out["confidence"] = np.concatenate([p.confidence for p in parts])
    out["subtopic"] = np.concatenate([p.subtopic for p in parts])
    out["attribute"], out["attribute_value"] = extract_attributes(
        out["text"].tolist(), classifier.taxonomy
    )
    log.info("label: %s", out["category"].value_counts().to_dict())
    return out
