"""How fast saved classifier models label real units, side by side.

Run from the repo root::

    .venv/bin/python benchmarks/label_speed.py --model voc/resources/classifier [--model DIR ...]
        [--units 3000] [--no-record]

Each model labels the same random real units of ``taxonomies/training/labelled_refs.csv``
(the text read from ``../shared/data``) in a process of its own: the USE vectors are computed
first, then the model is loaded and ``SupervisedClassifier.predict`` is timed alone (the
pipeline's ``label`` step), after a warm-up on 50 units. "Memory" is how much the process's
resident memory grew from before loading the model to after labelling.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import psutil
from classifier_eval import DATA, REAL
from full_corpus import markdown_table, print_and_record

from voc.config import DEFAULT_TAXONOMY
from voc.embed import UseEmbedder
from voc.supervised import SupervisedClassifier
from voc.taxonomy import load_taxonomy
from voc.train import training_frame


def measure(model_dir: Path, units: int) -> dict:
    """Load one model and time its labelling of ``units`` real units (this process)."""
    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    real = training_frame([REAL], taxonomy, exemplars=False, data_dir=DATA)
    texts = real["text"].sample(units, random_state=1).tolist()
    embedder = UseEmbedder(threads=2)
    vectors = embedder.embed(texts)
    before = psutil.Process().memory_info().rss
    start = time.perf_counter()
    model = SupervisedClassifier.load(model_dir, taxonomy, embedder)
    loaded = time.perf_counter() - start
    model.predict(texts[:50], vectors[:50])
    start = time.perf_counter()
    model.predict(texts, vectors)
    seconds = time.perf_counter() - start
    return {
        "model": str(model_dir),
        "name": model.name,
        "load_s": loaded,
        "label_s": seconds,
        "units_per_s": units / seconds,
        "mean_chars": sum(map(len, texts)) / units,
        "memory_mb": (psutil.Process().memory_info().rss - before) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, action="append", required=True)
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    if args.one:  # the child: one model, a JSON line back
        print(json.dumps(measure(args.model[0], args.units)))
        return
    rows = []
    for model_dir in args.model:
        child = subprocess.run(
            [sys.executable, __file__, "--one", "--model", str(model_dir), "--units", str(args.units)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        result = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append([
            result["model"], result["name"], f"{result['load_s']:.1f}", f"{result['label_s']:.1f}",
            f"{result['units_per_s']:.0f}", f"{result['memory_mb']:,.0f}",
        ])  # fmt: skip
    header = ["model", "name", "load s", "label s", "units/s", "memory MB"]
    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — labelling speed of saved models",
        "",
        "- Command: `.venv/bin/python benchmarks/label_speed.py "
        + " ".join(f"--model {m}" for m in args.model)
        + f" --units {args.units}`",
        f"- Machine: {platform.machine()}, nproc 2, Python {platform.python_version()}; the same"
        f" {args.units:,} random real units for each model ({result['mean_chars']:.1f} characters"
        " on average), USE vectors computed before the clock starts; each model in its own process",
        "",
        markdown_table(header, rows, "llrrrr"),
        "",
    ]
    print_and_record(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
