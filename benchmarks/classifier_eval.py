"""Compare classifiers side by side on the hand-labelled dev units and SemEval-2016 (zh).

Run from the repo root::

    .venv/bin/python benchmarks/classifier_eval.py [--model voc/resources/classifier] [--no-cv]
        [--unlabelled FILE] [--no-record]

Classifiers:
- keyword: seed words of the taxonomy only (most hits, ties to the higher priority),
  polarity from the lexicon — no embeddings.
- prototype: zero-shot, taxonomy exemplars and seeds (``voc.labels.PrototypeClassifier``).
- supervised, held out: trained as ``make model`` trains it (the hand-labelled real units
  of ``taxonomies/training/labelled_refs.csv``, the authored units of both files and the
  taxonomy exemplars), never on voc_dev or the rows it draws from; scored on voc_dev.
  ``--model`` scores a saved model instead, such as the one ``make model`` wrote, which is
  trained on the same data.
- supervised, 5-fold CV on the real training units: the same training data with the real
  units split in five by corpus row; each fifth is scored by a model trained on the rest
  (plus all authored units and exemplars). This is the figure models are chosen by. The
  same fold models are also scored by their regression alone, their fine-tuned encoders
  alone, and with the first encoder only (the shipped model has one, m3e-small, so that row
  repeats the first; with ``voc train --finetune-base use`` there are two). It takes about
  80 minutes on 2 cores; ``--no-cv`` leaves it out.
- ``--unlabelled FILE`` self-trains every supervised model on the file's units, as
  ``voc train --unlabelled`` does (``taxonomies/training/draw_units.py`` draws such a file);
  ``make model`` no longer does (RESULTS.md, 2026-12-05).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
from full_corpus import markdown_table, print_and_record
from sklearn.model_selection import GroupKFold

from voc.clean import TextCleaner
from voc.config import DEFAULT_TAXONOMY, CleanConfig
from voc.embed import UseEmbedder
from voc.evaluate import Evaluation, score
from voc.labels import Labels, PrototypeClassifier, fix_polarity, lexicon_polarity
from voc.polarity import PolarityScorer, alternation
from voc.supervised import SupervisedClassifier
from voc.taxonomy import Taxonomy, load_taxonomy
from voc.train import SHARED_DATA, training_frame, unlabelled_texts

ROOT = Path(__file__).resolve().parents[1]
DATA = SHARED_DATA
DEV = DATA / "labelled" / "voc_dev.csv"
REAL = ROOT / "taxonomies" / "training" / "labelled_refs.csv"
AUTHORED = [  # written for the project (taxonomies/training/README.md)
    ROOT / "taxonomies" / "training" / "authored_units.csv",
    ROOT / "taxonomies" / "training" / "authored_taobao_units.csv",
]
SEMEVAL = [
    DATA / "semeval2016_zh" / "mobilephones_train_chinese.xml",
    DATA / "semeval2016_zh" / "digitalcameras_train_chinese.xml",
]


class KeywordClassifier:
    """The baseline: taxonomy seed words only."""

    name = "keyword"

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.patterns = [alternation(c.all_seeds) for c in taxonomy.categories]
        self.priority = np.array([c.priority for c in taxonomy.categories])
        self.polarity = PolarityScorer(taxonomy.polarity)

    def predict(self, texts: list[str], embeddings: np.ndarray) -> Labels:
        hits = np.array([[len(p.findall(t)) for p in self.patterns] for t in texts])
        ids = np.array(self.taxonomy.category_ids, dtype=object)
        best = []
        for row in hits:
            if row.max() == 0:
                best.append("other")
            else:
                top = np.flatnonzero(row == row.max())
                best.append(ids[top[np.argmin(self.priority[top])]])
        category = np.array(best, dtype=object)
        polarity = fix_polarity(category, lexicon_polarity(self.polarity, texts))
        none = np.array([None] * len(texts), dtype=object)
        return Labels(category, polarity, np.ones(len(texts), np.float32), none)


def semeval_sentences() -> pd.DataFrame:
    """Opinionated sentences with one polarity (sentences mixing + and - are left out)."""
    rows = []
    for path in SEMEVAL:
        for sentence in ET.parse(path).getroot().iter("sentence"):
            polarities = {o.get("polarity") for o in sentence.iter("Opinion")}
            text = (sentence.findtext("text") or "").strip()
            if len(polarities) == 1 and text:
                rows.append({"text": text, "polarity": polarities.pop(), "file": path.name})
    return pd.DataFrame(rows)


def evaluate(model, texts, vectors, gold: pd.DataFrame, categories) -> Evaluation:
    labels = model.predict(texts, vectors)
    return score(
        gold["category"].tolist(), list(labels.category),
        gold["polarity"].tolist(), list(labels.polarity), categories,
    )  # fmt: skip


def cross_validated(
    taxonomy, embedder, real: pd.DataFrame, rest: pd.DataFrame, unlabelled: list[str] | None
) -> dict[str, Evaluation]:
    """5-fold CV over the real units, folds grouped by corpus row; ``rest`` always trains.

    Each fold's model is also scored with its two parts alone (the regression, the
    fine-tuned encoders), so the table shows what the average of the two adds, and with
    its first encoder only, which shows what the second seed adds.
    """
    rows = real["source"].str.split(":").str[:2].str.join(":")
    # name suffix: (weight of the encoders, how many encoders)
    variants = {
        "": (0.5, None),
        ", regression alone": (0.0, None),
        ", fine-tuned encoders alone": (1.0, None),
        ", one fine-tuned encoder": (0.5, 1),
    }
    category = {name: np.empty(len(real), dtype=object) for name in variants}
    polarity = {name: np.empty(len(real), dtype=object) for name in variants}
    for train_idx, test_idx in GroupKFold(5).split(real, groups=rows):
        fold = pd.concat([real.iloc[train_idx], rest], ignore_index=True)
        model = SupervisedClassifier(taxonomy, embedder).fit(
            fold["text"].tolist(),
            fold["category"].tolist(),
            fold["polarity"].tolist(),
            unlabelled=unlabelled,
        )
        texts = real["text"].iloc[test_idx].tolist()
        vectors = embedder.embed(texts)
        encoders = model.finetuned_
        for name, (weight, first) in variants.items():
            model.finetune_weight, model.finetuned_ = weight, encoders[:first]
            labels = model.predict(texts, vectors)
            category[name][test_idx] = labels.category
            polarity[name][test_idx] = labels.polarity
    gold_category, gold_polarity = real["category"].tolist(), real["polarity"].tolist()
    categories = list(taxonomy.category_ids)
    return {
        name: score(
            gold_category, list(category[name]), gold_polarity, list(polarity[name]), categories
        )
        for name in variants
    }


def confusion_table(confusion: pd.DataFrame, corner: str) -> str:
    """A confusion matrix as a markdown table, the columns named by category initials."""
    initials = ["".join(part[0] for part in c.split("_")) for c in confusion.columns]
    rows = [[str(category), *map(str, row)] for category, row in confusion.iterrows()]
    return markdown_table([corner, *initials], rows, "l" + "r" * len(initials))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to RESULTS.md"
    )
    parser.add_argument("--model", type=Path, help="score this saved model instead of fitting one")
    parser.add_argument("--no-cv", action="store_true", help="leave the 5-fold CV out")
    parser.add_argument(
        "--unlabelled", type=Path, help="self-train every model on this file's `text` column"
    )
    args = parser.parse_args()

    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    unlabelled = unlabelled_texts(args.unlabelled, taxonomy) if args.unlabelled else None
    embedder = UseEmbedder(threads=2)
    cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
    dev = pd.read_csv(DEV, keep_default_na=False)
    dev_texts = [cleaner.normalise(t) for t in dev["text"]]
    dev_vectors = embedder.embed(dev_texts)
    semeval = semeval_sentences()
    semeval_texts = [cleaner.normalise(t) for t in semeval["text"]]
    semeval_vectors = embedder.embed(semeval_texts)
    categories = list(taxonomy.category_ids)

    real = training_frame([REAL], taxonomy, exemplars=False, data_dir=DATA)
    rest = training_frame(AUTHORED, taxonomy)  # authored units + the taxonomy exemplars
    base = pd.concat([real, rest], ignore_index=True)
    if args.model:
        held_out = SupervisedClassifier.load(args.model, taxonomy, embedder)
    else:
        held_out = SupervisedClassifier(taxonomy, embedder).fit(
            base["text"].tolist(),
            base["category"].tolist(),
            base["polarity"].tolist(),
            unlabelled=unlabelled,
        )
    models = {
        "keyword baseline": KeywordClassifier(taxonomy),
        "zero-shot prototypes": PrototypeClassifier(taxonomy, embedder).fit(),
        "supervised (real + authored + exemplars; dev held out)": held_out,
    }
    results = {
        name: evaluate(m, dev_texts, dev_vectors, dev, categories) for name, m in models.items()
    }
    cv_name = f"supervised, 5-fold CV on the {len(real)} real training units (not dev)"
    if not args.no_cv:
        for suffix, result in cross_validated(taxonomy, embedder, real, rest, unlabelled).items():
            results[cv_name + suffix] = result
    semeval_accuracy = {}
    for name, model in models.items():
        predicted = model.predict(semeval_texts, semeval_vectors).polarity
        semeval_accuracy[name] = float(
            np.mean(np.array(predicted) == semeval["polarity"].to_numpy())
        )

    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — classifiers on voc_dev ({len(dev)} units) and SemEval-2016 zh",
        "",
        "- Command: `.venv/bin/python benchmarks/classifier_eval.py"
        + (f" --model {args.model}" if args.model else "")
        + (" --no-cv" if args.no_cv else "")
        + (f" --unlabelled {args.unlabelled}" if args.unlabelled else "")
        + "`",
        f"- Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()};"
        f" embedder {embedder.model_id}; training units: {len(real)} real (hand-labelled) +"
        f" {len(rest)} authored and exemplars, none from voc_dev or its rows",
        "",
        "| classifier | macro-F1 (7 categories) | category accuracy | polarity accuracy | SemEval sentence polarity |",
        "| :--- | ---: | ---: | ---: | ---: |",
    ]
    for name, result in results.items():
        semeval_cell = f"{semeval_accuracy[name]:.3f}" if name in semeval_accuracy else "—"
        lines.append(
            f"| {name} | {result.macro_f1:.3f} | {result.category_accuracy:.3f} |"
            f" {result.polarity_accuracy:.3f} | {semeval_cell} |"
        )
    lines += ["", "Per-category F1:", "", "| classifier | " + " | ".join(categories) + " |",
              "| :--- |" + " ---: |" * len(categories)]  # fmt: skip
    for name, result in results.items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{result.per_category.loc[c, 'f1']:.2f}" for c in categories)
            + " |"
        )
    confusion = results["supervised (real + authored + exemplars; dev held out)"].confusion
    lines += ["", "Confusion of the held-out supervised model on voc_dev (rows gold, columns predicted):",
              "", confusion_table(confusion, "gold \\ predicted")]  # fmt: skip
    lines += [
        "",
        f"SemEval-2016 Task 5 Chinese train (phones + cameras): {len(semeval)} opinionated sentences with a"
        " single polarity; there is no neutral class there, so a `neutral` prediction counts as wrong.",
        "",
    ]
    print_and_record(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
