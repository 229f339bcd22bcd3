"""A supervised clause classifier: logistic regression over text and embedding features.

Features per unit: character 1-3-gram TF-IDF (Chinese keywords without a segmenter),
jieba word 1-2-gram TF-IDF (whole words, and word pairs such as 不/好用 that character
trigrams cut across), the sentence embedding, the
:class:`~voc.labels.PrototypeClassifier` scores (how close the unit is to each
category's exemplars and how many seed words it holds) and the polarity lexicon's
score and question flag.
One model predicts the category, another the polarity; the LABELS.md rules that fix a
polarity (a quality problem is negative, a selling point positive) are applied after.

Both models' probabilities are averaged with those of a pretrained encoder fine-tuned on
the same units (:mod:`voc.finetune`): the regression reads words, the fine-tuned encoder
reads the clause, and together they beat either alone (RESULTS.md). The shipped model
fine-tunes m3e-small, a small Chinese BERT (:mod:`voc.m3e`), once. With the multilingual
USE encoder as the base (``finetune_base="use"``) two copies with two seeds did best: their
probabilities are averaged first, as each seed errs on different units.

Self-training (``fit(..., unlabelled=...)``): once fitted, the whole model labels units
nobody labelled, and the first encoder is fine-tuned again from the start on the labelled
units plus the unlabelled ones it labelled with a confidence of at least
``self_training_confidence``. That encoder, the student, learns from the average of all
three parts, which is better than any one part, and on many more units. It gained 0.005
CV macro-F1 on the shipped training data until the Taobao-style authored units joined it,
then lost 0.003, so ``make model`` no longer self-trains (RESULTS.md, 2026-12-05).

Saved as plain arrays (``model.npz``) and JSON (``model.json``: vocabulary, classes,
training-data hashes) — no pickle, so loading a model file runs no code.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from voc.embed import Embedder
from voc.errors import ModelError
from voc.finetune import BASES, FineTunedClassifier
from voc.labels import Labels, PrototypeClassifier, fix_polarity, nothing_said
from voc.taxonomy import Taxonomy

log = logging.getLogger(__name__)

# 2: word n-grams added; 3: the fine-tuned encoder; 4: several of them; 5: their matrices
# int8; 6: the encoders' base recorded (before 6 it is always "use")
FORMAT_VERSION = 6
_READABLE_VERSIONS = (2, 3, 4, 5, 6)  # a version 2 model is the regression alone
# A word n-gram seen in one training unit only is mostly noise (typos, names, numbers).
_WORD_MIN_DF = 2


class SupervisedClassifier:
    """Category and polarity by logistic regression over n-grams, embeddings, prototypes.

    Args:
        taxonomy: Categories (and exemplars for the prototype features).
        embedder: The sentence embedder (its id is stored with the model).
        c: Inverse regularisation strength (scikit-learn's ``C``) of both regressions.
        ngram_range: Character n-gram sizes.
        word_ngram_range: Word n-gram sizes (jieba words); ``None`` leaves words out.
        seed: Random state of the solver.
        finetune_base: The pretrained encoder to fine-tune, a key of
            :data:`voc.finetune.BASES`.
        finetune_epochs: Epochs of fine-tuning; by default the base's; 0 leaves the encoder
            out (the regression alone: a few minutes of training, about 0.03 lower CV
            macro-F1).
        finetune_seeds: One fine-tuned encoder per seed, their probabilities averaged; by
            default the base's.
        finetune_weight: Weight of the fine-tuned encoders' category and polarity
            probabilities in the average with the regressions'.
        char_min_df: Character n-grams in fewer training units are left out.
        threads: torch threads for the fine-tuned encoder; by default the embedder's.
        self_training_confidence: Unlabelled units that the fitted model labels with at
            least this confidence train the student encoder (``fit(unlabelled=...)``).
    """

    kind = "supervised-v1"

    def __init__(
        self,
        taxonomy: Taxonomy,
        embedder: Embedder,
        c: float = 6.0,  # chosen by 5-fold CV on 11,232 real units (RESULTS.md)
        ngram_range: tuple[int, int] = (1, 3),
        word_ngram_range: tuple[int, int] | None = (1, 2),
        seed: int = 42,
        finetune_base: str = "m3e-small",
        finetune_epochs: int | None = None,
        finetune_seeds: Sequence[int] | None = None,
        finetune_weight: float = 0.5,
        char_min_df: int = 2,
        threads: int | None = None,
        self_training_confidence: float = 0.7,
    ) -> None:
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.c = c
        self.ngram_range = ngram_range
        self.word_ngram_range = word_ngram_range
        self.seed = seed
        if finetune_base not in BASES:
            raise ModelError(f"unknown encoder base {finetune_base!r}; known: {sorted(BASES)}")
        self.finetune_base = finetune_base
        self.finetune_epochs = (
            BASES[finetune_base].epochs if finetune_epochs is None else finetune_epochs
        )
        self.finetune_seeds = tuple(
            BASES[finetune_base].seeds if finetune_seeds is None else finetune_seeds
        )
        self.finetune_weight = finetune_weight
        self.char_min_df = char_min_df
        self.threads = threads or getattr(embedder, "threads", 2)
        self.self_training_confidence = self_training_confidence

    @property
    def name(self) -> str:
        """What labels (``runs.classifier``): the kind, the fine-tuned encoders in use, the model.

        For example ``supervised-v1+ft2-1a2b3c4d``: two fine-tuned encoders, and a digest of
        the training data's hashes and the settings, so a retrained model gets a new name.
        """
        if not hasattr(self, "data_hashes_"):
            return self.kind  # not fitted or loaded yet
        recipe = json.dumps(self._recipe(), sort_keys=True).encode()
        return f"{self.kind}+ft{len(self.finetuned_)}-{hashlib.sha256(recipe).hexdigest()[:8]}"

    def _recipe(self) -> dict:
        """The training data and settings a fitted model was made from (saved in model.json)."""
        return {
            "C": self.c,
            "ngram_range": list(self.ngram_range),
            "word_ngram_range": None
            if self.word_ngram_range is None
            else list(self.word_ngram_range),
            "n_train": self.n_train_,
            "data_sha256": self.data_hashes_,
            "finetune": self.finetune_recipe_,
        }

    def _features(self, texts: Sequence[str], embeddings: np.ndarray) -> csr_matrix:
        ngrams = [self.vectorizer_.transform(texts)]
        if self.word_vectorizer_ is not None:
            ngrams.append(self.word_vectorizer_.transform(texts))
        scores = self.prototypes_.category_scores(texts, embeddings)
        sentiment, question = self.prototypes_.polarity_.scores(list(texts))
        lexicon = np.column_stack([np.tanh(sentiment), question.astype(np.float32)])
        return hstack([*ngrams, csr_matrix(np.hstack([embeddings, scores, lexicon]))]).tocsr()

    def fit(
        self,
        texts: Sequence[str],
        categories: Sequence[str],
        polarities: Sequence[str],
        sample_weight: np.ndarray | None = None,
        data_hashes: dict[str, str] | None = None,
        unlabelled: Sequence[str] | None = None,
    ) -> SupervisedClassifier:
        """Fit both models on labelled units; learned state ends in ``_``.

        ``unlabelled`` texts, when given and the encoders are fine-tuned, are labelled by
        the fitted model and its confident labels train the first encoder again (see the
        module docstring); texts equal to a labelled one are left out.

        Raises:
            ModelError: a category is not in the taxonomy, or there is too little data.
        """
        texts = list(texts)
        category = np.asarray(categories, dtype=object)
        polarity = np.asarray(polarities, dtype=object)
        # An empty label means "unknown": taxonomy exemplars have no polarity, weakly
        # labelled public reviews no category. Each model trains on its known labels.
        has_category, has_polarity = category != "", polarity != ""
        unknown = sorted(set(category[has_category]) - set(self.taxonomy.category_ids))
        if unknown:
            raise ModelError(
                f"labelled categories {unknown} are not in the taxonomy {self.taxonomy.name!r}"
            )
        if len(set(category[has_category])) < 2 or len(set(polarity[has_polarity])) < 2:
            raise ModelError("training needs units of at least two categories and two polarities")
        self.prototypes_ = PrototypeClassifier(self.taxonomy, self.embedder).fit()
        self.vectorizer_ = TfidfVectorizer(
            analyzer="char",
            ngram_range=self.ngram_range,
            min_df=self.char_min_df,
            sublinear_tf=True,
        )
        labelled = [t for t, known in zip(texts, has_category, strict=True) if known]
        self.vectorizer_.fit(labelled)
        self.word_vectorizer_ = None
        if self.word_ngram_range is not None:
            self.word_vectorizer_ = word_vectorizer(self.word_ngram_range).fit(labelled)
        features = self._features(texts, self.embedder.embed(texts))
        weights = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, float)
        self.category_model_ = self._regression().fit(
            features[has_category],
            category[has_category].tolist(),
            sample_weight=weights[has_category],
        )
        self.polarity_model_ = self._regression().fit(
            features[has_polarity],
            polarity[has_polarity].tolist(),
            sample_weight=weights[has_polarity],
        )
        self.finetuned_ = []
        if self.finetune_epochs > 0:
            self.finetuned_ = [
                self._fine_tuned(seed, texts, category.tolist(), polarity.tolist())
                for seed in self.finetune_seeds
            ]
        self.finetune_recipe_ = None
        if self.finetuned_:
            self.finetune_recipe_ = {
                "base": self.finetune_base,
                "epochs": self.finetune_epochs,
                "seeds": list(self.finetune_seeds),
                "weight": self.finetune_weight,
            }
            if unlabelled is not None:
                self._self_train(texts, category.tolist(), polarity.tolist(), unlabelled)
        self.data_hashes_ = dict(data_hashes or {})
        self.n_train_ = len(texts)
        return self

    def _self_train(
        self,
        texts: list[str],
        categories: list[str],
        polarities: list[str],
        unlabelled: Sequence[str],
    ) -> None:
        """Replace the first encoder by one also trained on the model's confident labels."""
        known = set(texts)
        pool = [t for t in dict.fromkeys(unlabelled) if t and t not in known]
        labels = self.predict(pool, self.embedder.embed(pool))
        keep = np.flatnonzero(labels.confidence >= self.self_training_confidence)
        log.info(
            "self-training: %d of %d unlabelled units labelled with confidence >= %.2f",
            len(keep), len(pool), self.self_training_confidence,
        )  # fmt: skip
        if len(keep):
            self.finetuned_[0] = self._fine_tuned(
                self.finetuned_[0].seed,
                texts + [pool[i] for i in keep],
                categories + list(labels.category[keep]),
                polarities + list(labels.polarity[keep]),
            )
        self.finetune_recipe_["self_training"] = {
            "unlabelled": len(pool),
            "kept": len(keep),
            "min_confidence": self.self_training_confidence,
            "student_seed": self.finetuned_[0].seed,
        }

    def _fine_tuned(
        self, seed: int, texts: list[str], categories: list[str], polarities: list[str]
    ) -> FineTunedClassifier:
        """An encoder fine-tuned on the units, its heads in the regressions' class order."""
        return FineTunedClassifier(
            self.category_model_.classes_,
            self.polarity_model_.classes_,
            base=self.finetune_base,
            epochs=self.finetune_epochs,
            seed=seed,
            threads=self.threads,
        ).fit(texts, categories, polarities)

    def _regression(self) -> LogisticRegression:
        return LogisticRegression(
            C=self.c, max_iter=5000, class_weight="balanced", random_state=self.seed
        )

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> Labels:
        """Category, polarity, confidence and subtopic for each text."""
        texts = list(texts)
        if not texts:
            empty = np.array([], dtype=object)
            return Labels(empty, empty, np.array([], dtype=np.float32), empty)
        features = self._features(texts, embeddings)
        regression = (
            self.category_model_.predict_proba(features),
            self.polarity_model_.predict_proba(features),
        )
        parts = []
        if self.finetuned_:
            ids = self.finetuned_[0].encoder_.tokenize(texts)  # the encoders share one base
            parts = [encoder.predict_ids(ids) for encoder in self.finetuned_]
        proba, polarity_proba = averaged(regression, parts, self.finetune_weight)
        category = self.category_model_.classes_[proba.argmax(axis=1)].astype(object)
        confidence = proba.max(axis=1).astype(np.float32)
        polarity = self.polarity_model_.classes_[polarity_proba.argmax(axis=1)].astype(object)
        nothing = nothing_said(texts)
        category[nothing] = "other"
        polarity[nothing] = "neutral"
        confidence[nothing] = 1.0
        fix_polarity(category, polarity)
        subtopic = np.array(
            [self.prototypes_.subtopic(t, c) for t, c in zip(texts, category, strict=True)],
            dtype=object,
        )
        return Labels(category, polarity, confidence, subtopic)

    def save(self, folder: Path) -> None:
        """Write ``model.npz`` and ``model.json`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {"idf": self.vectorizer_.idf_.astype(np.float32)}
        words = self.word_vectorizer_
        if words is not None:
            arrays["word_idf"] = words.idf_.astype(np.float32)
        for prefix, model in (
            ("category", self.category_model_),
            ("polarity", self.polarity_model_),
        ):
            arrays[f"{prefix}_coef"] = model.coef_.astype(np.float32)
            arrays[f"{prefix}_intercept"] = model.intercept_.astype(np.float32)
        for i, encoder in enumerate(self.finetuned_):
            arrays.update({f"finetune{i}.{k}": v for k, v in encoder.packed_arrays().items()})
        np.savez_compressed(folder / "model.npz", **arrays)
        meta = {
            "format_version": FORMAT_VERSION,
            "classifier": self.kind,
            "embed_model": self.embedder.model_id,
            "taxonomy": self.taxonomy.name,
            "categories": list(self.taxonomy.category_ids),
            "vocabulary": _vocabulary(self.vectorizer_),
            "word_vocabulary": None if words is None else _vocabulary(words),
            "category_classes": self.category_model_.classes_.tolist(),
            "polarity_classes": self.polarity_model_.classes_.tolist(),
            **self._recipe(),
        }
        (folder / "model.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(
        cls, folder: Path, taxonomy: Taxonomy, embedder: Embedder, finetuned: bool = True
    ) -> SupervisedClassifier:
        """Load a saved model for this taxonomy and embedder.

        ``finetuned=False`` leaves the saved fine-tuned encoders unloaded: the regression alone.

        Raises:
            ModelError: the files are missing, or were trained for another taxonomy or embedder.
        """
        try:
            meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
            arrays = np.load(folder / "model.npz", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{folder}: cannot read the classifier model: {exc}") from exc
        if meta.get("format_version") not in _READABLE_VERSIONS:
            raise ModelError(
                f"{folder}: model format {meta.get('format_version')} is not one of"
                f" {list(_READABLE_VERSIONS)}; retrain"
            )
        if meta["embed_model"] != embedder.model_id or meta["categories"] != list(
            taxonomy.category_ids
        ):
            raise ModelError(
                f"{folder}: trained for embedder {meta['embed_model']} and categories {meta['categories']};"
                f" this run uses {embedder.model_id} and {list(taxonomy.category_ids)}. Retrain with `voc train`."
            )
        word_range = meta["word_ngram_range"]
        model = cls(
            taxonomy,
            embedder,
            c=meta["C"],
            ngram_range=tuple(meta["ngram_range"]),
            word_ngram_range=None if word_range is None else tuple(word_range),
        )
        model.prototypes_ = PrototypeClassifier(taxonomy, embedder).fit()
        vectorizer = TfidfVectorizer(
            analyzer="char", ngram_range=model.ngram_range, sublinear_tf=True
        )
        vectorizer.vocabulary_ = meta["vocabulary"]
        vectorizer.idf_ = arrays["idf"].astype(np.float64)
        model.vectorizer_ = vectorizer
        model.word_vectorizer_ = None
        if word_range is not None:
            words = word_vectorizer(model.word_ngram_range)
            words.vocabulary_ = meta["word_vocabulary"]
            words.idf_ = arrays["word_idf"].astype(np.float64)
            model.word_vectorizer_ = words
        model.category_model_ = _restore(arrays, "category", meta["category_classes"])
        model.polarity_model_ = _restore(arrays, "polarity", meta["polarity_classes"])
        model.finetuned_ = []
        finetune = meta.get("finetune")
        if finetune and finetuned:
            model.finetune_base = finetune.get("base", "use")  # recorded from version 6
            model.finetune_epochs = finetune["epochs"]
            model.finetune_weight = finetune["weight"]
            model.finetune_seeds = tuple(finetune.get("seeds", [model.seed]))
            if meta["format_version"] == 3:  # one encoder, without seeds, under "finetune."
                prefixes = ["finetune."]
            else:
                prefixes = [f"finetune{i}." for i in range(len(model.finetune_seeds))]
            model.finetuned_ = [
                FineTunedClassifier(
                    meta["category_classes"],
                    meta["polarity_classes"],
                    base=model.finetune_base,
                    threads=model.threads,
                ).load_arrays({k[len(p) :]: arrays[k] for k in arrays.files if k.startswith(p)})
                for p in prefixes
            ]
        model.finetune_recipe_ = finetune  # what the file holds, loaded or not
        model.data_hashes_ = meta["data_sha256"]
        model.n_train_ = meta["n_train"]
        return model


def averaged(
    regression: tuple[np.ndarray, np.ndarray],
    encoders: Sequence[tuple[np.ndarray, np.ndarray]],
    weight: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Category and polarity probabilities of the regression and the fine-tuned encoders.

    The encoders' probabilities are averaged first, then averaged with the regression's,
    the encoders' share being ``weight``. Without encoders: the regression's.
    """
    category, polarity = regression
    if not encoders:
        return category, polarity
    finetuned = np.mean([c for c, _ in encoders], axis=0)
    finetuned_polarity = np.mean([p for _, p in encoders], axis=0)
    return (
        (1 - weight) * category + weight * finetuned,
        (1 - weight) * polarity + weight * finetuned_polarity,
    )


def word_vectorizer(ngram_range: tuple[int, int]) -> TfidfVectorizer:
    """An unfitted TF-IDF over jieba word n-grams (whitespace tokens dropped).

    The tokenizer is a private jieba one without taxonomy words, so editing the
    taxonomy does not change how a saved model reads text.
    """
    return TfidfVectorizer(
        tokenizer=JiebaWords(),
        token_pattern=None,
        ngram_range=ngram_range,
        min_df=_WORD_MIN_DF,
        sublinear_tf=True,
    )


class JiebaWords:
    """jieba words of a text; picklable (the label step may run on a Dask worker).

    The tokenizer holds a lock, so it is built on first use and left out of a pickle.
    """

    def __init__(self) -> None:
        self._tokenizer = None

    def __getstate__(self) -> dict:
        return {"_tokenizer": None}

    def __call__(self, text: str) -> list[str]:
        if self._tokenizer is None:
            from voc.segment import make_tokenizer  # imported here: voc.segment loads spaCy

            self._tokenizer = make_tokenizer()
        return [w for w in self._tokenizer.lcut(text) if w.strip()]


def _vocabulary(vectorizer: TfidfVectorizer) -> dict[str, int]:
    return {k: int(v) for k, v in vectorizer.vocabulary_.items()}


def _restore(arrays, prefix: str, classes: list[str]) -> LogisticRegression:
    model = LogisticRegression()
    model.coef_ = arrays[f"{prefix}_coef"].astype(np.float64)
    model.intercept_ = arrays[f"{prefix}_intercept"].astype(np.float64)
    model.classes_ = np.array(classes, dtype=object)
    return model


def file_sha256(path: Path) -> str:
    """The sha256 of a training file, recorded with the model."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
