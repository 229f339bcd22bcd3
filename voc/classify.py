"""Label units given one per row in a file (``voc classify``), without segmenting them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from voc.config import EmbedConfig, LabelConfig
from voc.embed import Embedder, build_embedder
from voc.errors import ColumnError, InputFileError, ModelError
from voc.labels import PrototypeClassifier
from voc.sources.readers import read_file
from voc.supervised import SupervisedClassifier
from voc.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)
Classifier = PrototypeClassifier | SupervisedClassifier

LABEL_COLUMNS = ("category", "polarity", "confidence")


def build_classifier(
    taxonomy_path: Path, embed: EmbedConfig | None = None, labels: LabelConfig | None = None
) -> Classifier:
    """The configured classifier, fitted or loaded and ready (see :data:`CLASSIFIERS`)."""
    labels = labels or LabelConfig()
    taxonomy = load_taxonomy(taxonomy_path)
    embedder = build_embedder(embed or EmbedConfig())
    return CLASSIFIERS[labels.classifier](taxonomy, embedder, labels)


def from_config(taxonomy: Taxonomy, embedder: Embedder, labels: LabelConfig) -> Classifier:
    """Build the classifier named by ``labels.classifier`` around an existing embedder."""
    return CLASSIFIERS[labels.classifier](taxonomy, embedder, labels)


def _prototype(taxonomy: Taxonomy, embedder: Embedder, labels: LabelConfig) -> Classifier:
    return PrototypeClassifier(
        taxonomy,
        embedder,
        top_k=labels.top_k_exemplars,
        keyword_weight=labels.keyword_weight,
        temperature=labels.temperature,
    ).fit()


def _supervised(taxonomy: Taxonomy, embedder: Embedder, labels: LabelConfig) -> Classifier:
    return SupervisedClassifier.load(
        Path(labels.model_dir), taxonomy, embedder, finetuned=labels.finetuned
    )


def _auto(taxonomy: Taxonomy, embedder: Embedder, labels: LabelConfig) -> Classifier:
    if (Path(labels.model_dir) / "model.json").is_file():
        try:
            return _supervised(taxonomy, embedder, labels)
        except ModelError as exc:
            log.warning("%s; using the taxonomy prototypes instead", exc)
    return _prototype(taxonomy, embedder, labels)


CLASSIFIERS: dict[str, Callable[[Taxonomy, Embedder, LabelConfig], Classifier]] = {
    "auto": _auto,
    "prototype": _prototype,
    "supervised": _supervised,
}


def classify_texts(texts: list[str], classifier: Classifier) -> pd.DataFrame:
    """Category, polarity and confidence for each text, cleaned but not segmented."""
    from voc.clean import TextCleaner
    from voc.config import CleanConfig

    cleaner = TextCleaner(CleanConfig(mask_pii=False), classifier.taxonomy.boilerplate)
    cleaned = [cleaner.normalise(t or "") for t in texts]
    embeddings = classifier.embedder.embed(cleaned)
    labels = classifier.predict(cleaned, embeddings)
    return pd.DataFrame(
        {
            "category": labels.category,
            "polarity": labels.polarity,
            "confidence": labels.confidence.round(4),
        }
    )


def classify_file(input_path: Path, text_column: str, output: Path, taxonomy_path: Path) -> int:
    """Read ``input_path``, label ``text_column`` and write the rows plus labels.

    Returns:
        The number of rows written.

    Raises:
        InputFileError: unreadable input or unwritable output.
        ColumnError: ``text_column`` is not a column.
    """
    frame, bad, _, _ = read_file(Path(input_path))
    if bad:
        row, _, reason, _ = bad[0]
        raise InputFileError(f"{input_path}: row {row}: {reason} ({len(bad)} bad rows in all)")
    if text_column not in frame.columns:
        columns = [c for c in frame.columns if c != "_row"]
        raise ColumnError(
            f"{input_path}: --text-column {text_column!r} is not a column; columns are {columns}"
        )
    classifier = build_classifier(taxonomy_path)
    texts = frame[text_column].fillna("").astype(str).tolist()
    labels = classify_texts(texts, classifier)
    out = frame.drop(columns="_row").reset_index(drop=True)
    for column in LABEL_COLUMNS:
        if column in out.columns:
            out = out.rename(columns={column: f"{column}_input"})
    out = pd.concat([out, labels], axis=1)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(output, index=False, encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"{output}: cannot write: {exc.strerror}") from exc
    return len(out)
