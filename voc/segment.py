"""Segment: cut cleaned records into units (clauses) with spaCy's Chinese pipeline.

``spacy.blank("zh")`` with the jieba segmenter tokenises; the ``voc_clauses``
component marks clause starts after sentence punctuation and before contrast words
(但是/不过/就是...), so "质量很好但是物流太慢" becomes two units. jieba runs as our
own ``jieba.Tokenizer`` (not the module-level global) with the taxonomy's words
added, so "充电盒" or "起球" stay whole; it starts from a copy of the default
dictionary, which a process loads only once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

import jieba
import pandas as pd

from voc._spacy import Doc, Language, spacy
from voc.config import SegmentConfig, default_cache_dir
from voc.embed import text_sha1

log = logging.getLogger(__name__)

SENTENCE_END = frozenset("。！？!?；;…\n")
SOFT_BREAK = frozenset("，,、：:")
_COMPONENT = "voc_clauses"
# jieba logs its dictionary loading at INFO on its own logger; keep it quiet.
jieba.setLogLevel(logging.WARNING)


def make_tokenizer(
    user_words: Iterable[str] = (), cache_dir: Path | None = None
) -> jieba.Tokenizer:
    """A private jieba tokenizer with ``user_words`` in its dictionary.

    Args:
        user_words: Domain words (taxonomy seeds, attribute triggers).
        cache_dir: Where jieba keeps its dictionary cache (it writes one on first use);
            defaults to :func:`voc.config.default_cache_dir` instead of the system temp dir.
    """
    cache_dir = cache_dir or default_cache_dir() / "jieba"
    cache_dir.mkdir(parents=True, exist_ok=True)
    base = _default_dictionary(cache_dir)
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(cache_dir)
    with base.lock:  # a copy of the loaded dictionary: ~20 ms instead of ~0.6 s to load it
        tokenizer.FREQ, tokenizer.total = dict(base.FREQ), base.total
    tokenizer.initialized = True
    for word in user_words:
        tokenizer.add_word(word, freq=20000)
    return tokenizer


def _default_dictionary(cache_dir: Path) -> jieba.Tokenizer:
    """jieba's module-level tokenizer with its default dictionary, loaded once per process.

    spaCy's jieba segmenter loads this one too when a pipeline is built, so every
    tokenizer of a run (segmenter, topic keywords, the classifier's word features)
    copies it instead of loading its own. Nothing is ever added to it.
    """
    if not jieba.dt.initialized:
        jieba.dt.tmp_dir = str(cache_dir)
        jieba.dt.initialize()
    return jieba.dt


@Language.factory(_COMPONENT, default_config={"contrast_words": [], "max_clause_chars": 120})
def _make_clause_splitter(
    nlp: Language, name: str, contrast_words: list[str], max_clause_chars: int
) -> ClauseSplitter:
    return ClauseSplitter(frozenset(contrast_words), max_clause_chars)


class ClauseSplitter:
    """spaCy component: sets ``is_sent_start`` at clause boundaries."""

    def __init__(self, contrast_words: frozenset[str], max_clause_chars: int) -> None:
        self.contrast_words = contrast_words
        self.max_clause_chars = max_clause_chars

    def __call__(self, doc: Doc) -> Doc:
        chars_in_clause = 0
        for i, token in enumerate(doc):
            if i == 0:
                token.is_sent_start = True
                chars_in_clause = len(token.text)
                continue
            previous = doc[i - 1].text
            start = (
                previous[-1:] in SENTENCE_END
                or (token.text in self.contrast_words and chars_in_clause >= 2)
                or (previous[-1:] in SOFT_BREAK and chars_in_clause >= self.max_clause_chars)
            )
            token.is_sent_start = bool(start)
            chars_in_clause = len(token.text) if start else chars_in_clause + len(token.text)
        return doc


def build_nlp(config: SegmentConfig, tokenizer: jieba.Tokenizer) -> Language:
    """The spaCy pipeline: blank Chinese + jieba segmenter + clause splitter."""
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.tokenizer.jieba_seg = tokenizer  # spaCy calls .cut(); use ours, not the global one
    nlp.add_pipe(
        _COMPONENT,
        config={
            "contrast_words": list(config.contrast_words),
            "max_clause_chars": config.max_clause_chars,
        },
    )
    return nlp


def split_clauses(nlp: Language, texts: Iterable[str], min_chars: int) -> list[list[str]]:
    """Cut each text into clauses.

    Clauses with fewer than ``min_chars`` word characters (a stray "好", a lone "!")
    are merged into the clause before them, so no text is lost.
    """
    result = []
    for doc in nlp.pipe(texts, batch_size=512):
        clauses: list[str] = []
        for sent in doc.sents:
            text = sent.text.strip()
            if not text:
                continue
            if (clauses and _content_chars(text) < min_chars) or (
                clauses and _content_chars(clauses[-1]) < min_chars
            ):
                clauses[-1] += text
            else:
                clauses.append(text)
        result.append(clauses)
    return result


def _content_chars(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


def segment_records(records: pd.DataFrame, nlp: Language, config: SegmentConfig) -> pd.DataFrame:
    """Cut customer records into units.

    Args:
        records: Cleaned records; agent turns (``is_agent``) are skipped.
        nlp: From :func:`build_nlp`.
        config: Segmentation settings.

    Returns:
        One row per clause: unit_id, doc_id, source_kind, product, date, turn_index,
        clause_index, text, text_sha1.
    """
    customer = records[~records["is_agent"] & (records["text"].str.len() > 0)]
    clauses = split_clauses(nlp, customer["text"].tolist(), config.min_clause_chars)
    rows = []
    for (_, record), parts in zip(customer.iterrows(), clauses, strict=True):
        for index, clause in enumerate(parts):
            rows.append(
                {
                    "unit_id": _unit_id(record["doc_id"], record["turn_index"], index),
                    "doc_id": record["doc_id"],
                    "source_kind": record["source_kind"],
                    "product": record["product"],
                    "date": record["date"],
                    "turn_index": int(record["turn_index"]),
                    "clause_index": index,
                    "text": clause,
                    "text_sha1": text_sha1(clause),
                }
            )
    columns = [
        "unit_id", "doc_id", "source_kind", "product", "date", "turn_index", "clause_index",
        "text", "text_sha1",
    ]  # fmt: skip
    units = pd.DataFrame(rows, columns=columns)
    log.info("segment: %d records -> %d units", len(customer), len(units))
    return units


def _unit_id(doc_id: str, turn_index: int, clause_index: int) -> str:
    return hashlib.sha1(f"{doc_id}:{turn_index}:{clause_index}".encode()).hexdigest()[:16]
