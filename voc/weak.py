"""The public corpora in ``../shared/data``: reading them, and weak polarity labels from them.

A labelled unit points into a corpus by its ``source`` (the scheme of
``labelled/voc_dev.csv``):

- ``shopping:ROW:I`` / ``waimai:ROW:I``: data row ``ROW`` (from 0) of
  ``online_shopping_10_cats.csv`` / ``waimai_10k.csv``, unit ``I`` of that review;
- ``jddc:LINE``: line ``LINE`` (from 1) of ``jddc_chat_sample.tsv``, a customer turn;
- ``ecd:LINE:FIELD``: tab field ``FIELD`` of line ``LINE`` (from 0) of ``ecd_sample.txt``
  (field 0 is the response label, so customer turns are the odd fields).

Weak supervision for polarity: document-level labels are not clause labels, so only
clause-sized pieces are taken:

- the first sentence of a product review (``online_shopping_10_cats.csv``) or a food
  delivery review (``waimai_10k.csv``), with the review's positive/negative label;
- customer turns of JD.com service chats (``jddc_chat_sample.tsv``), as ``neutral``:
  most are questions and requests.

Rows that a labelled file draws from are left out, so an evaluation on it stays
honest. Category is unknown (empty) for all of them: they train the polarity model only.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

_SENTENCE_END = re.compile(r"[。！？!?\n]")
SOURCES = {
    "shopping": "online_shopping_10_cats.csv",
    "waimai": "waimai_10k.csv",
    "jddc": "jddc_chat_sample.tsv",
    "ecd": "ecd_sample.txt",
}
# jddc sources count lines from 1 (as voc_dev does); the others count rows from 0.
FIRST_ROW = {"shopping": 0, "waimai": 0, "jddc": 1, "ecd": 0}


def read_reviews(path: Path) -> pd.Series:
    """The ``review`` column of a review corpus, indexed by data row (empty review -> "")."""
    return pd.read_csv(path)["review"].fillna("").astype(str)


def read_jddc(path: Path) -> pd.DataFrame:
    """The JDDC chat log: no header, no quoting (PROVENANCE.md); ``is_agent`` and ``text``."""
    chats = pd.read_csv(
        path, sep="\t", header=None, dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE
    )
    return pd.DataFrame({"is_agent": chats[2] == "1", "text": chats[6]})


def read_ecd(path: Path) -> list[list[str]]:
    """ECD lines split on tabs (the field count varies, so no CSV reader)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return [line.split("\t") for line in lines if line]


def used_rows(labelled: pd.DataFrame | None) -> dict[str, set[int]]:
    """Rows per corpus referenced by a labelled file's ``source`` column (``name:row:...``).

    Rows are returned as the 0-based positions the readers above use, whatever the
    corpus's own numbering (jddc lines count from 1).
    """
    used: dict[str, set[int]] = {}
    if labelled is None or "source" not in labelled.columns:
        return used
    for source in labelled["source"]:
        if not isinstance(source, str):
            continue  # a labelled file without sources, concatenated with one that has them
        parts = source.split(":")
        if len(parts) >= 2 and parts[1].isdigit():
            row = int(parts[1]) - FIRST_ROW.get(parts[0], 0)
            used.setdefault(parts[0], set()).add(row)
    return used


def _first_sentence(text: object, limit: int = 80) -> str:
    return _SENTENCE_END.split(str(text))[0].strip()[:limit]


def weak_polarity_units(
    data_dir: Path,
    exclude: dict[str, set[int]] | None = None,
    per_source: int = 4000,
    seed: int = 42,
) -> pd.DataFrame:
    """Weakly labelled polarity units (text, category "", polarity) from the public data.

    Args:
        data_dir: The folder holding the public corpora.
        exclude: Row positions per corpus to leave out (as :func:`used_rows` gives them).
        per_source: At most this many units from each corpus (a seeded sample).
        seed: Sampling seed.
    """
    exclude = exclude or {}
    frames = []
    for name in ("shopping", "waimai"):
        path = data_dir / SOURCES[name]
        if not path.exists():
            continue
        reviews = pd.read_csv(path).dropna(subset=["review"])
        reviews = reviews[~reviews.index.isin(exclude.get(name, set()))]
        reviews = reviews.sample(min(per_source, len(reviews)), random_state=seed)
        frames.append(
            pd.DataFrame(
                {
                    "text": [_first_sentence(t) for t in reviews["review"]],
                    "polarity": [
                        "positive" if label == 1 else "negative" for label in reviews["label"]
                    ],
                }
            )
        )
    path = data_dir / SOURCES["jddc"]
    if path.exists():
        chats = read_jddc(path)
        customer = chats[~chats["is_agent"] & ~chats.index.isin(exclude.get("jddc", set()))]
        customer = customer.sample(min(per_source, len(customer)), random_state=seed)
        frames.append(
            pd.DataFrame({"text": customer["text"].str.slice(0, 80), "polarity": "neutral"})
        )
    if not frames:
        return pd.DataFrame(columns=["text", "category", "polarity"])
    units = pd.concat(frames, ignore_index=True)
    units = units[units["text"].str.len() > 1].assign(category="")
    return units[["text", "category", "polarity"]].reset_index(drop=True)
