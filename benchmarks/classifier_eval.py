"""Compare classifiers side by side on the hand-labelled dev units and SemEval-2016 (zh).

Run from the repo root: ``.venv/bin/python benchmarks/classifier_eval.py [--no-record]``.

Classifiers:
- keyword: seed words of the taxonomy only (most hits, ties to the higher priority),
  polarity from the lexicon — no embeddings.
- prototype: zero-shot, taxonomy exemplars and seeds (``voc.labels.PrototypeClassifier``).
- supervised, held out: trained on the authored units + exemplars (categories) and weak
  polarity labels from the public corpora (``voc.weak``), never on voc_dev.
- supervised, 5-fold CV: the same plus 4/5 of voc_dev,
  scored on the remaining fifth; every dev unit is scored by a model that never saw it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from voc.clean import TextCleaner
from voc.config import DEFAULT_TAXONOMY, CleanConfig
from voc.embed import UseEmbedder
from voc.evaluate import Evaluation, score
from voc.labels import Labels, PrototypeClassifier, fix_polarity, lexicon_polarity
from voc.polarity import PolarityScorer, alternation
from voc.supervised import SupervisedClassifier
from voc.taxonomy import Taxonomy, load_taxonomy
from voc.train import training_frame
from voc.weak import used_rows, weak_polarity_units

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
DEV = DATA / "labelled" / "voc_dev.csv"
AUTHORED = ROOT / "taxonomies" / "training" / "authored_units.csv"
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


def cross_validated(taxonomy, embedder, dev, dev_texts, dev_vectors, base: pd.DataFrame, seed=42):
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    category = np.empty(len(dev), dtype=object)
    polarity = np.empty(len(dev), dtype=object)
    for train_idx, test_idx in folds.split(dev_texts, dev["category"]):
        fold = pd.concat(
            [base, dev.iloc[train_idx][["text", "category", "polarity"]]], ignore_index=True
        )
        model = SupervisedClassifier(taxonomy, embedder, seed=seed).fit(
            fold["text"].tolist(), fold["category"].tolist(), fold["polarity"].tolist()
        )
        labels = model.predict([dev_texts[i] for i in test_idx], dev_vectors[test_idx])
        category[test_idx] = labels.category
        polarity[test_idx] = labels.polarity
    return score(
        dev["category"].tolist(), list(category), dev["polarity"].tolist(), list(polarity),
        list(taxonomy.category_ids),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--no-record", action="store_true", help="print only; do not append to RESULTS.md"
    )
    args = parser.parse_args()

    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    embedder = UseEmbedder(threads=2)
    cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
    dev = pd.read_csv(DEV, keep_default_na=False)
    dev_texts = [cleaner.normalise(t) for t in dev["text"]]
    dev_vectors = embedder.embed(dev_texts)
    semeval = semeval_sentences()
    semeval_texts = [cleaner.normalise(t) for t in semeval["text"]]
    semeval_vectors = embedder.embed(semeval_texts)
    categories = list(taxonomy.category_ids)

    base = training_frame([AUTHORED] if AUTHORED.exists() else [], taxonomy)
    weak = weak_polarity_units(DATA, used_rows(dev))  # rows voc_dev draws from are left out
    weak["text"] = [cleaner.normalise(t) for t in weak["text"]]
    base = pd.concat([base, weak[weak["text"].str.len() > 0]], ignore_index=True)
    held_out = SupervisedClassifier(taxonomy, embedder).fit(
        base["text"].tolist(), base["category"].tolist(), base["polarity"].tolist()
    )
    models = {
        "keyword baseline": KeywordClassifier(taxonomy),
        "zero-shot prototypes": PrototypeClassifier(taxonomy, embedder).fit(),
        "supervised (authored + exemplars + weak; dev held out)": held_out,
    }
    results = {
        name: evaluate(m, dev_texts, dev_vectors, dev, categories) for name, m in models.items()
    }
    results["supervised (+ voc_dev, 5-fold CV)"] = cross_validated(
        taxonomy, embedder, dev, dev_texts, dev_vectors, base
    )
    semeval_accuracy = {}
    for name, model in models.items():
        predicted = model.predict(semeval_texts, semeval_vectors).polarity
        semeval_accuracy[name] = float(
            np.mean(np.array(predicted) == semeval["polarity"].to_numpy())
        )

    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — classifiers on voc_dev ({len(dev)} units) and SemEval-2016 zh",
        "",
        "- Command: `.venv/bin/python benchmarks/classifier_eval.py`",
        f"- Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()};"
        f" embedder {embedder.model_id}; training units outside dev: {len(base)}",
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
    lines += [
        "",
        f"SemEval-2016 Task 5 Chinese train (phones + cameras): {len(semeval)} opinionated sentences with a"
        " single polarity; there is no neutral class there, so a `neutral` prediction counts as wrong.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_record:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
