"""Weak supervision for polarity from the public corpora in ``../shared/data``.

Document-level labels are not clause labels, so only clause-sized pieces are taken:

- the first sentence of a product review (``online_shopping_10_cats.csv``) or a food
  delivery review (``waimai_10k.csv``), with the review's positive/negative label;
- customer turns of JD.com service chats (``jddc_chat_sample.tsv``), as ``neutral``:
  most are questions and requests.

Rows that a labelled evaluation file draws from (its ``source`` column, e.g.
``shopping:1576:4``) are left out, so the evaluation stays honest. Category is unknown
(empty) for all of them: they train the polarity model only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_SENTENCE_END = re.compile(r"[。！？!?\n]")
SOURCES = {
    "shopping": "online_shopping_10_cats.csv",
    "waimai": "waimai_10k.csv",
    "jddc": "jddc_chat_sample.tsv",
}


def used_rows(labelled: pd.DataFrame | None) -> dict[str, set[int]]:
    """Rows per corpus referenced by a labelled file's ``source`` column (``name:row:...``)."""
    used: dict[str, set[int]] = {}
    if labelled is None or "source" not in labelled.columns:
        return used
    for source in labelled["source"]:
        if not isinstance(source, str):
            continue  # a labelled file without sources, concatenated with one that has them
        parts = source.split(":")
        if len(parts) >= 2 and parts[1].isdigit():
            used.setdefault(parts[0], set()).add(int(parts[1]))
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
        exclude: Row numbers per corpus to leave out (0-based data rows).
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
        chats = pd.read_csv(
            path, sep="\t", header=None, dtype=str, keep_default_na=False, quoting=3
        )  # JDDC: no header, no quoting
        customer = chats[(chats[2] == "0") & ~chats.index.isin(exclude.get("jddc", set()))]
        customer = customer.sample(min(per_source, len(customer)), random_state=seed)
        frames.append(pd.DataFrame({"text": customer[6].str.slice(0, 80), "polarity": "neutral"}))
    if not frames:
        return pd.DataFrame(columns=["text", "category", "polarity"])
    units = pd.concat(frames, ignore_index=True)
    units = units[units["text"].str.len() > 1].assign(category="")
    return units[["text", "category", "polarity"]].reset_index(drop=True)
