"""Train the supervised classifier (``voc train``) from labelled units and the taxonomy.

Training data: every labelled file given (``text``, ``category``, ``polarity``), plus the
taxonomy's exemplar sentences labelled with their category. Exemplars carry no
polarity of their own, so they train the category model only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from voc.clean import TextCleaner
from voc.config import CleanConfig
from voc.embed import Embedder
from voc.evaluate import read_labelled
from voc.supervised import SupervisedClassifier, file_sha256
from voc.taxonomy import Taxonomy
from voc.weak import SOURCES, used_rows, weak_polarity_units

log = logging.getLogger(__name__)


def exemplar_units(taxonomy: Taxonomy) -> pd.DataFrame:
    """The taxonomy's exemplars as labelled units (polarity unknown: empty)."""
    rows = [
        {"text": text, "category": category.id, "polarity": ""}
        for category in taxonomy.categories
        for text in category.all_exemplars
    ]
    return pd.DataFrame(rows, columns=["text", "category", "polarity"])


def training_frame(
    paths: Sequence[Path], taxonomy: Taxonomy, exemplars: bool = True
) -> pd.DataFrame:
    """All labelled files (normalised like pipeline text) plus, optionally, the exemplars."""
    frames = [read_labelled(p)[["text", "category", "polarity"]] for p in paths]
    if exemplars:
        frames.append(exemplar_units(taxonomy))
    data = pd.concat(frames, ignore_index=True)
    cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
    data["text"] = [cleaner.normalise(t) for t in data["text"].astype(str)]
    return data[data["text"].str.len() > 0].reset_index(drop=True)


def train(
    paths: Sequence[Path],
    taxonomy: Taxonomy,
    embedder: Embedder,
    exemplars: bool = True,
    weak_data: Path | None = None,
    holdout: Sequence[Path] = (),
    seed: int = 42,
) -> SupervisedClassifier:
    """Fit a :class:`SupervisedClassifier`; the sha256 of every file is recorded with it.

    Args:
        paths: Labelled files (text, category, polarity).
        taxonomy: Categories and exemplars.
        embedder: The sentence embedder.
        exemplars: Also train the category model on the taxonomy's exemplars.
        weak_data: Folder of the public corpora for weakly labelled polarity units
            (see :mod:`voc.weak`); rows the labelled files draw from are left out.
        holdout: Labelled files kept for evaluation: never trained on, and the public
            rows they draw from are left out of the weak data too.
        seed: Random state of the sampling and the solver.
    """
    data = training_frame(paths, taxonomy, exemplars)
    hashes = {Path(p).name: file_sha256(Path(p)) for p in [*paths, *holdout]}
    if weak_data is not None:
        sources = [*paths, *holdout]
        labelled = (
            pd.concat([read_labelled(p) for p in sources], ignore_index=True) if sources else None
        )
        weak = weak_polarity_units(Path(weak_data), used_rows(labelled), seed=seed)
        cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
        weak["text"] = [cleaner.normalise(t) for t in weak["text"]]
        data = pd.concat([data, weak[weak["text"].str.len() > 0]], ignore_index=True)
        for name in SOURCES.values():
            if (Path(weak_data) / name).exists():
                hashes[name] = file_sha256(Path(weak_data) / name)
    log.info("training on %d units (%s)", len(data), data["category"].value_counts().to_dict())
    return SupervisedClassifier(taxonomy, embedder, seed=seed).fit(
        data["text"].tolist(),
        data["category"].tolist(),
        data["polarity"].tolist(),
        data_hashes=hashes,
    )
