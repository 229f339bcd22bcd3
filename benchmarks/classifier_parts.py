"""How the supervised classifier's parts combine, from their out-of-fold probabilities.

Run from the repo root::

    .venv/bin/python benchmarks/classifier_parts.py [--base m3e-small] [--seeds 42 7 2026]
        [--unlabelled FILE] [--no-record]

For each of the five grouped folds of ``classifier_eval.py`` (the real hand-labelled units
split by corpus row; the authored units and the exemplars always train), the supervised
classifier is fitted with one fine-tuned encoder of ``--base`` per seed (and, with ``--unlabelled``,
self-trained on that file's units, so the first encoder is the student), and the
category and polarity probabilities of every part are kept for the fold's units: the
regression's and each encoder's. They are saved to ``--oof`` (default
``.cache/classifier_oof.npz``); when that file exists for the same base, seeds, real units, other
training units and unlabelled units (by count) it is read instead, which skips the fitting
(about 15 minutes a fold with three encoders on 2 cores).

Then the parts are combined as :meth:`voc.supervised.SupervisedClassifier.predict`
combines them (the first *k* encoders averaged, then averaged with the regression at an
encoder weight, then the rules for text that says nothing and for fixed polarities) and
every combination is scored on all real units: as they are, and weighted so that each
corpus has its share of voc_dev (column "voc_dev mix"; the hidden test set is drawn like
voc_dev, and ECD chats, 1% of the units here, are 22% there). Choosing the number of
encoders or the weight from this table is choosing on these folds: small differences are
noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from classifier_eval import AUTHORED, DATA, DEV, REAL
from full_corpus import markdown_table, print_and_record
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

from voc.config import DEFAULT_TAXONOMY
from voc.embed import UseEmbedder
from voc.evaluate import Evaluation, score
from voc.finetune import BASES
from voc.labels import fix_polarity, nothing_said
from voc.supervised import SupervisedClassifier, averaged
from voc.taxonomy import load_taxonomy
from voc.train import training_frame, unlabelled_texts

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = (0.4, 0.5, 0.6, 0.7)


def out_of_fold(
    taxonomy,
    embedder,
    real: pd.DataFrame,
    rest: pd.DataFrame,
    base: str,
    seeds,
    unlabelled: list[str] | None,
) -> dict:
    """Every part's probabilities for each real unit, from the model of the fold leaving it out.

    Given ``unlabelled``, the models self-train on it, so ``encoder0`` is the student
    (``voc.supervised``).
    """
    n = len(real)
    out: dict[str, np.ndarray] = {
        "fold": np.full(n, -1),
        "base": np.array(base),
        "seeds": np.array(seeds),
        "unlabelled": np.array(len(unlabelled or [])),
        "rest": np.array(len(rest)),
    }
    rows = real["source"].str.split(":").str[:2].str.join(":")
    for k, (train_idx, test_idx) in enumerate(GroupKFold(5).split(real, groups=rows)):
        start = time.perf_counter()
        fold = pd.concat([real.iloc[train_idx], rest], ignore_index=True)
        model = SupervisedClassifier(
            taxonomy, embedder, finetune_base=base, finetune_seeds=seeds
        ).fit(
            fold["text"].tolist(),
            fold["category"].tolist(),
            fold["polarity"].tolist(),
            unlabelled=unlabelled,
        )
        texts = real["text"].iloc[test_idx].tolist()
        features = model._features(texts, embedder.embed(texts))
        parts = {
            "regression": (
                model.category_model_.predict_proba(features),
                model.polarity_model_.predict_proba(features),
            )
        }
        ids = model.finetuned_[0].encoder_.tokenize(texts)
        for i, encoder in enumerate(model.finetuned_):
            parts[f"encoder{i}"] = encoder.predict_ids(ids)
        for name, probabilities in parts.items():
            for kind, proba in zip(("category", "polarity"), probabilities, strict=True):
                out.setdefault(f"{name}.{kind}", np.zeros((n, proba.shape[1])))[test_idx] = proba
        out["fold"][test_idx] = k
        out["category_classes"] = np.array(model.category_model_.classes_.tolist())
        out["polarity_classes"] = np.array(model.polarity_model_.classes_.tolist())
        print(f"fold {k}: {time.perf_counter() - start:.0f} s", flush=True)
    return out


def combined(oof: dict, texts: list[str], encoders: int, weight: float) -> tuple:
    """Category and polarity labels of the regression and the first ``encoders`` encoders."""

    def part(name: str) -> tuple[np.ndarray, np.ndarray]:
        return oof[f"{name}.category"], oof[f"{name}.polarity"]

    parts = [part(f"encoder{i}") for i in range(encoders)]
    category, polarity = averaged(part("regression"), parts, weight)
    category = oof["category_classes"][category.argmax(axis=1)].astype(object)
    polarity = oof["polarity_classes"][polarity.argmax(axis=1)].astype(object)
    nothing = nothing_said(texts)
    category[nothing], polarity[nothing] = "other", "neutral"
    return category, fix_polarity(category, polarity)


def corpus_mix_weights(sources: pd.Series, target_sources: pd.Series) -> np.ndarray:
    """Unit weights that give each corpus the share it has in ``target_sources``.

    The training units are mostly shopping reviews (68%) and 1% ECD chats; voc_dev, and the
    hidden test set drawn the same way, is 42% shopping, 31% JDDC, 22% ECD and 4% waimai.
    Only the target's ``source`` column is read, never its labels.
    """
    corpus, target = sources.str.split(":").str[0], target_sources.str.split(":").str[0]
    share = target.value_counts(normalize=True) / corpus.value_counts(normalize=True)
    return corpus.map(share).fillna(0.0).to_numpy()


def load_or_fit(
    path: Path,
    taxonomy,
    real: pd.DataFrame,
    rest: pd.DataFrame,
    base: str,
    seeds,
    unlabelled: list[str] | None,
) -> dict:
    if path.exists():
        oof = dict(np.load(path))
        same = (
            str(oof.get("base", "use")) == base  # files before the base was recorded: USE
            and oof["seeds"].tolist() == list(seeds)
            and len(oof["fold"]) == len(real)
            and int(oof.get("rest", -1)) == len(rest)  # e.g. authored units added
            and int(oof.get("unlabelled", 0)) == len(unlabelled or [])
        )
        if same:
            print(f"reading the out-of-fold probabilities in {path}")
            return oof
    oof = out_of_fold(taxonomy, UseEmbedder(threads=2), real, rest, base, seeds, unlabelled)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **oof)
    return oof


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", choices=sorted(BASES), default="m3e-small")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 2026])
    parser.add_argument("--oof", type=Path, default=ROOT / ".cache" / "classifier_oof.npz")
    parser.add_argument(
        "--unlabelled", type=Path, help="self-train every model on this file's `text` column"
    )
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to RESULTS.md"
    )
    args = parser.parse_args()

    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    categories = list(taxonomy.category_ids)
    real = training_frame([REAL], taxonomy, exemplars=False, data_dir=DATA)
    rest = training_frame(AUTHORED, taxonomy)
    unlabelled = unlabelled_texts(args.unlabelled, taxonomy) if args.unlabelled else None
    oof = load_or_fit(args.oof, taxonomy, real, rest, args.base, args.seeds, unlabelled)
    texts, folds = real["text"].tolist(), oof["fold"]
    gold_category, gold_polarity = real["category"].to_numpy(), real["polarity"].to_numpy()
    mix = corpus_mix_weights(real["source"], pd.read_csv(DEV, usecols=["source"])["source"])

    def evaluate(category, polarity, units=slice(None)) -> Evaluation:
        return score(
            list(gold_category[units]), list(category[units]),
            list(gold_polarity[units]), list(polarity[units]), categories,
        )  # fmt: skip

    rows = []
    settings = [(0, 0.0)] + [(k, w) for k in range(1, len(args.seeds) + 1) for w in WEIGHTS]
    for encoders, weight in settings:
        category, polarity = combined(oof, texts, encoders, weight)
        result = evaluate(category, polarity)
        per_fold = [evaluate(category, polarity, folds == k).macro_f1 for k in range(5)]
        mixed = f1_score(
            gold_category, category, labels=categories, average="macro", sample_weight=mix
        )
        rows.append([
            "regression alone" if encoders == 0 else f"regression + {encoders} encoder(s), weight {weight}",
            f"{result.macro_f1:.3f}", f"{min(per_fold):.3f}–{max(per_fold):.3f}", f"{mixed:.3f}",
            f"{result.polarity_accuracy:.3f}",
            *(f"{result.per_category.loc[c, 'f1']:.2f}" for c in categories),
        ])  # fmt: skip
    initials = ["".join(part[0] for part in c.split("_")) for c in categories]
    header = [
        "combination", "macro-F1", "per fold", "voc_dev mix", "polarity",
        *(f"{i} F1" for i in initials),
    ]  # fmt: skip
    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — how the classifier's parts combine (5-fold CV)",
        "",
        f"- Command: `.venv/bin/python benchmarks/classifier_parts.py --base {args.base}"
        f" --seeds {' '.join(map(str, args.seeds))}"
        + (f" --unlabelled {args.unlabelled}" if args.unlabelled else "")
        + "`",
        f"- Machine: {platform.processor() or platform.machine()}, nproc 2, Python"
        f" {platform.python_version()}; {len(real)} real units scored out of fold, the folds of"
        " `classifier_eval.py`",
        "",
        markdown_table(header, rows, "l" + "r" * (len(header) - 1)),
        "",
    ]
    print_and_record(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
