"""Train the supervised classifier (``voc train``) from labelled units and the taxonomy.

Training data: every labelled file given, plus the taxonomy's exemplar sentences
labelled with their category. Exemplars carry no polarity of their own, so they train
the category model only.

A labelled file either holds the text (``text``, ``category``, ``polarity``) or only
points at it (``source``, ``text_sha1``, ``category``, ``polarity``): units of the public
corpora in ``../shared/data`` are labelled by reference so the data never enters the
repository. :class:`CorpusUnits` finds the text again at train time, and ``text_sha1``
proves it is the text that was labelled.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from voc.clean import TextCleaner
from voc.config import PROJECT_ROOT, CleanConfig, SegmentConfig
from voc.embed import Embedder, text_sha1
from voc.errors import InputFileError, ModelError
from voc.evaluate import read_labelled
from voc.segment import build_nlp, make_tokenizer, split_clauses
from voc.sources.readers import read_file
from voc.supervised import SupervisedClassifier, file_sha256
from voc.taxonomy import Taxonomy
from voc.weak import (
    FIRST_ROW,
    SOURCES,
    read_ecd,
    read_jddc,
    read_reviews,
    used_rows,
    weak_polarity_units,
)

log = logging.getLogger(__name__)

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
REFERENCE_COLUMNS = ("source", "text_sha1", "category", "polarity")


class CorpusUnits:
    """The units of the public corpora, numbered the way ``source`` references count them.

    A review is cleaned (:meth:`TextCleaner.normalise`) and cut into clauses by the
    pipeline's own segmenter (:func:`voc.segment.split_clauses`, default settings, jieba
    without taxonomy words so editing the taxonomy does not renumber the clauses). A
    chat turn is one unit, as the pipeline sees a customer turn.

    Args:
        data_dir: The folder holding the corpora (``../shared/data``).
        cleaner: Normalises text like the pipeline does.
    """

    def __init__(self, data_dir: Path, cleaner: TextCleaner) -> None:
        self.data_dir = Path(data_dir)
        self.cleaner = cleaner
        self._corpora: dict[str, object] = {}
        self._nlp = None

    def _corpus(self, name: str):
        if name not in self._corpora:
            path = self.data_dir / SOURCES[name]
            if not path.is_file():
                raise InputFileError(
                    f"{path}: corpus not found; labelled references need the public data"
                    f" in {self.data_dir} (../shared/data beside the repository)"
                )
            reader = {"jddc": read_jddc, "ecd": read_ecd}.get(name, read_reviews)
            self._corpora[name] = reader(path)
        return self._corpora[name]

    def _clauses(self, text: str) -> list[str]:
        if self._nlp is None:
            self._nlp = build_nlp(SegmentConfig(), make_tokenizer())
        return split_clauses(self._nlp, [text], SegmentConfig().min_clause_chars)[0]

    def n_rows(self, name: str) -> int:
        """How many rows (lines, reviews) the corpus holds."""
        return len(self._corpus(name))

    def units(self, name: str, row: int) -> list[str]:
        """The units of one row, by the corpus's own row number (see :mod:`voc.weak`).

        Reviews give their clauses; a JDDC line gives its turn (agent turns give none);
        an ECD line gives all its fields (index = field), spaces between words removed.
        """
        corpus = self._corpus(name)
        position = row - FIRST_ROW[name]
        if not 0 <= position < len(corpus):
            return []
        if name == "jddc":
            turn = corpus.iloc[position]
            return [] if turn["is_agent"] else [self.cleaner.normalise(turn["text"])]
        if name == "ecd":
            return [self.cleaner.normalise(f.replace(" ", "")) for f in corpus[position]]
        return self._clauses(self.cleaner.normalise(corpus.iloc[position]))

    def text(self, source: str) -> str:
        """The unit a ``source`` names.

        Raises:
            ValueError: the reference is malformed or points at nothing (the message
                says which part).
        """
        parts = source.split(":")
        if parts[0] not in SOURCES or not all(p.isdigit() for p in parts[1:]):
            raise ValueError(f"{source!r} is not name:row[:index] with name in {list(SOURCES)}")
        if len(parts) not in (2, 3):
            raise ValueError(f"{source!r} is not name:row[:index]")
        row, index = int(parts[1]), int(parts[2]) if len(parts) == 3 else 0
        units = self.units(parts[0], row)
        if index >= len(units):
            raise ValueError(f"{source!r}: row {row} has {len(units)} unit(s), no unit {index}")
        return units[index]


def read_references(path: Path, corpora: CorpusUnits) -> pd.DataFrame:
    """A labelled-by-reference file with its text filled in from the corpora.

    Raises:
        ColumnError: a required column is missing.
        InputFileError: a reference points at nothing, or the text there has changed
            (its sha1 differs); every such row is counted, the first one named.
    """
    frame = read_labelled_columns(path, REFERENCE_COLUMNS)
    texts, problems = [], []
    for row, (source, sha1) in enumerate(zip(frame["source"], frame["text_sha1"], strict=True)):
        try:
            text = corpora.text(source)
        except ValueError as exc:
            problems.append(f"row {row + 1}: source: {exc}")
            text = ""
        else:
            if text_sha1(text) != sha1:
                problems.append(
                    f"row {row + 1}: text_sha1: {source} now reads {text!r}, whose sha1 is not"
                    f" {sha1} (the data in {corpora.data_dir} or the segmenter changed)"
                )
        texts.append(text)
    if problems:
        raise InputFileError(f"{path}: {problems[0]} ({len(problems)} bad rows in all)")
    return frame.assign(text=texts)


def read_labelled_columns(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read a labelled file that must have ``columns`` (``source`` etc. kept as text)."""
    from voc.errors import ColumnError

    frame, _, _, _ = read_file(Path(path))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        present = [c for c in frame.columns if c != "_row"]
        raise ColumnError(f"{path}: needs columns {list(columns)}; missing {missing} in {present}")
    return frame.fillna("").astype({c: str for c in columns})


def is_reference_file(path: Path) -> bool:
    """Whether a labelled file points at its text (``source`` + ``text_sha1``, no ``text``)."""
    header = Path(path).read_text(encoding="utf-8-sig").split("\n", 1)[0]
    names = {name.strip() for name in header.split(",")}
    return {"source", "text_sha1"} <= names and "text" not in names


def load_labelled(path: Path, corpora: CorpusUnits | None) -> pd.DataFrame:
    """A labelled file as ``text, category, polarity[, source]``, references resolved."""
    if not is_reference_file(path):
        return read_labelled(path)
    if corpora is None:
        raise InputFileError(f"{path}: holds references to ../shared/data; give its folder")
    return read_references(path, corpora)


def exemplar_units(taxonomy: Taxonomy) -> pd.DataFrame:
    """The taxonomy's exemplars as labelled units (polarity unknown: empty)."""
    rows = [
        {"text": text, "category": category.id, "polarity": ""}
        for category in taxonomy.categories
        for text in category.all_exemplars
    ]
    return pd.DataFrame(rows, columns=["text", "category", "polarity"])


def training_frame(
    paths: Sequence[Path],
    taxonomy: Taxonomy,
    exemplars: bool = True,
    data_dir: Path | None = None,
) -> pd.DataFrame:
    """All labelled files (normalised like pipeline text) plus, optionally, the exemplars.

    Args:
        paths: Labelled files, with text or with references into ``data_dir``.
        taxonomy: Categories, exemplars and boilerplate phrases.
        exemplars: Add the taxonomy's exemplars (category only).
        data_dir: The public corpora that reference files point into.

    Returns:
        ``text, category, polarity, source`` (``source`` empty where a file has none).
    """
    cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
    corpora = CorpusUnits(data_dir, cleaner) if data_dir is not None else None
    frames = []
    for path in paths:
        frame = load_labelled(Path(path), corpora)
        source = frame["source"] if "source" in frame.columns else ""
        frames.append(frame[["text", "category", "polarity"]].assign(source=source))
    if exemplars:
        frames.append(exemplar_units(taxonomy).assign(source=""))
    data = pd.concat(frames, ignore_index=True)
    data["text"] = [cleaner.normalise(t) for t in data["text"].astype(str)]
    return data[data["text"].str.len() > 0].reset_index(drop=True)


def refuse_holdout_rows(data: pd.DataFrame, holdout: pd.DataFrame | None) -> None:
    """Raise when a training unit comes from a row a held-out file draws from.

    Raises:
        ModelError: naming the first such unit.
    """
    held = used_rows(holdout)
    trained = used_rows(data)
    overlap = {name: rows & held.get(name, set()) for name, rows in trained.items()}
    overlap = {name: rows for name, rows in overlap.items() if rows}
    if overlap:
        name, rows = next(iter(overlap.items()))
        raise ModelError(
            f"training units come from rows the holdout draws from ({name} row"
            f" {min(rows)} and {sum(map(len, overlap.values())) - 1} more): drop them"
        )


def train(
    paths: Sequence[Path],
    taxonomy: Taxonomy,
    embedder: Embedder,
    exemplars: bool = True,
    weak_data: Path | None = None,
    holdout: Sequence[Path] = (),
    seed: int = 42,
    data_dir: Path | None = None,
    finetune_epochs: int | None = None,
    unlabelled: Path | None = None,
    finetune_base: str = "m3e-small",
) -> SupervisedClassifier:
    """Fit a :class:`SupervisedClassifier`; the sha256 of every file is recorded with it.

    Args:
        paths: Labelled files (text, category, polarity; or references, see
            :func:`read_references`).
        taxonomy: Categories and exemplars.
        embedder: The sentence embedder.
        exemplars: Also train the category model on the taxonomy's exemplars.
        weak_data: Folder of the public corpora for weakly labelled polarity units
            (see :mod:`voc.weak`); rows the labelled files draw from are left out.
        holdout: Labelled files kept for evaluation: never trained on, and the public
            rows they draw from are left out of the weak data too.
        seed: Random state of the sampling and the solver.
        data_dir: Where references resolve; defaults to ``weak_data``, else
            ``../shared/data`` beside the repository.
        finetune_epochs: Epochs of fine-tuning the encoder; by default the base's (0: the
            regression alone).
        unlabelled: A file with a ``text`` column of units nobody labelled, for
            self-training (:meth:`SupervisedClassifier.fit`);
            ``taxonomies/training/draw_units.py`` draws such units from the public corpora.
        finetune_base: The pretrained encoder to fine-tune (:data:`voc.finetune.BASES`).
    """
    data_dir = Path(data_dir or weak_data or SHARED_DATA)
    data = training_frame(paths, taxonomy, exemplars, data_dir)
    hashes = {Path(p).name: file_sha256(Path(p)) for p in [*paths, *holdout]}
    held = pd.concat([read_labelled(p) for p in holdout], ignore_index=True) if holdout else None
    refuse_holdout_rows(data, held)
    if any(is_reference_file(Path(p)) for p in paths):
        for name in used_rows(data):
            hashes[SOURCES[name]] = file_sha256(data_dir / SOURCES[name])
    if weak_data is not None:
        labelled = pd.concat([data, held], ignore_index=True) if held is not None else data
        weak = weak_polarity_units(Path(weak_data), used_rows(labelled), seed=seed)
        cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
        weak["text"] = [cleaner.normalise(t) for t in weak["text"]]
        data = pd.concat([data, weak[weak["text"].str.len() > 0]], ignore_index=True)
        for name in ("shopping", "waimai", "jddc"):
            if (Path(weak_data) / SOURCES[name]).exists():
                hashes[SOURCES[name]] = file_sha256(Path(weak_data) / SOURCES[name])
    pool = None
    if unlabelled is not None and finetune_epochs == 0:
        log.warning("%s: not used; self-training needs the fine-tuned encoders", unlabelled)
    elif unlabelled is not None:
        pool = unlabelled_texts(Path(unlabelled), taxonomy)
        hashes[Path(unlabelled).name] = file_sha256(Path(unlabelled))
    log.info("training on %d units (%s)", len(data), data["category"].value_counts().to_dict())
    model = SupervisedClassifier(
        taxonomy,
        embedder,
        seed=seed,
        finetune_base=finetune_base,
        finetune_epochs=finetune_epochs,
    )
    return model.fit(
        data["text"].tolist(),
        data["category"].tolist(),
        data["polarity"].tolist(),
        data_hashes=hashes,
        unlabelled=pool,
    )


def unlabelled_texts(path: Path, taxonomy: Taxonomy) -> list[str]:
    """The ``text`` column of an unlabelled file, normalised like pipeline text, empty ones dropped.

    Raises:
        ColumnError: the file has no ``text`` column.
    """
    cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
    texts = [cleaner.normalise(t) for t in read_labelled_columns(path, ("text",))["text"]]
    return [t for t in texts if t]
