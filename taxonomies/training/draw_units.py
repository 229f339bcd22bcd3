"""Draw unlabelled units from the public corpora for hand labelling (labelled_refs.csv).

Run from the repo root:

    .venv/bin/python taxonomies/training/draw_units.py --out /tmp/units_to_label.csv

Writes ``n, source, text_sha1, text`` to a file OUTSIDE the repository (the corpora are
not copied into it). The mix follows voc_dev's: review clauses from every product
category of ``online_shopping_10_cats.csv`` and from ``waimai_10k.csv``, customer turns of
``jddc_chat_sample.tsv`` and ``ecd_sample.txt``. Every row voc_dev draws from is left
out, and so is any ECD line whose context equals one of them (each ECD context is
stored twice) and any unit whose text equals a voc_dev unit. ``--exclude`` also leaves
out the rows and texts of units labelled before (a second draw adds new units only).

It also draws unlabelled units for self-training (``voc train --unlabelled``); the pool
measured in benchmarks/RESULTS.md is ``--seed 99 --exclude taxonomies/training/labelled_refs.csv
--per-category 600 --waimai 1500 --jddc 1200``. ``make model`` no longer self-trains.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

import numpy as np
import pandas as pd

from voc.clean import TextCleaner
from voc.config import DEFAULT_TAXONOMY, CleanConfig
from voc.embed import text_sha1
from voc.taxonomy import load_taxonomy
from voc.train import SHARED_DATA, CorpusUnits
from voc.weak import FIRST_ROW, SOURCES, read_reviews, used_rows

HOLDOUT = SHARED_DATA / "labelled" / "voc_dev.csv"
PER_SHOPPING_CATEGORY = 75
WAIMAI, JDDC = 160, 700


def review_units(corpora, name, rows, rng):
    """One randomly chosen clause of each review row."""
    out = []
    for row in rows:
        units = corpora.units(name, row)
        if units:
            index = rng.randrange(len(units))
            out.append((f"{name}:{row}:{index}", units[index]))
    return out


# Words of product needs (LABELS.md: size, material, origin, shelf life, specs,
# compatibility, usage, "is there a bigger one", "wish it had"), for --need-cues.
NEED_CUES = re.compile(
    r"尺码|码数|尺寸|大码|小码|偏大|偏小|多大|多长|多高|多重|材质|面料|纯棉|成分|材料|产地|哪里产|"
    r"生产日期|保质期|有效期|规格|型号|兼容|适用|适合|能用|怎么用|使用方法|说明书|有没有|有没|"
    r"希望|建议|要是|如果有|能不能|可不可以|颜色|款式"
)


def need_units(corpora, held, taken_rows, count, rng):
    """``count`` units that mention a product-need cue: one matching clause per row.

    Review rows are picked by their raw text, then cut into clauses; JDDC customer
    turns are whole units. Rows already held, excluded or drawn are left out.
    """
    candidates = []
    for name in ("shopping", "waimai"):
        texts = read_reviews(SHARED_DATA / SOURCES[name])
        candidates += [
            (name, row)
            for row in np.flatnonzero(texts.str.contains(NEED_CUES).to_numpy())
            if row not in held[name] and (name, row) not in taken_rows
        ]
    first = FIRST_ROW["jddc"]
    for line in range(first, corpora.n_rows("jddc") + first):
        turn = corpora.units("jddc", line)
        held_line = line - first in held["jddc"] or ("jddc", line) in taken_rows
        if turn and NEED_CUES.search(turn[0]) and not held_line:
            candidates.append(("jddc", line))
    out = []
    for name, row in rng.sample(candidates, len(candidates)):
        units = corpora.units(name, int(row))
        matching = [i for i, unit in enumerate(units) if NEED_CUES.search(unit)]
        if not matching:
            continue
        if name == "jddc":
            out.append((f"jddc:{row}", units[0]))
        else:
            index = rng.choice(matching)
            out.append((f"{name}:{row}:{index}", units[index]))
        if len(out) == count:
            break
    return out


def draw(
    seed: int,
    exclude: Path | None = None,
    per_category: int = PER_SHOPPING_CATEGORY,
    need_cues: int = 0,
    waimai: int = WAIMAI,
    jddc: int = JDDC,
):
    rng = random.Random(seed)
    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    cleaner = TextCleaner(CleanConfig(mask_pii=False), taxonomy.boilerplate)
    corpora = CorpusUnits(SHARED_DATA, cleaner)
    dev = pd.read_csv(HOLDOUT, keep_default_na=False)
    held = used_rows(dev)
    taken_sha1 = set()
    if exclude is not None:
        earlier = pd.read_csv(exclude, keep_default_na=False)
        for name, rows in used_rows(earlier).items():
            held.setdefault(name, set()).update(rows)
        taken_sha1 = set(earlier["text_sha1"])
    dev_texts = {cleaner.normalise(t) for t in dev["text"]}
    units = []

    shopping = pd.read_csv(SHARED_DATA / SOURCES["shopping"])
    for _, group in shopping.groupby("cat"):
        rows = [r for r in group.index if r not in held["shopping"]]
        # a small category (热水器: 575 rows) runs out after a few draws
        units += review_units(
            corpora, "shopping", rng.sample(rows, min(per_category, len(rows))), rng
        )
    rows = [r for r in range(corpora.n_rows("waimai")) if r not in held["waimai"]]
    units += review_units(corpora, "waimai", rng.sample(rows, waimai), rng)

    lines = [
        line
        for line in range(FIRST_ROW["jddc"], corpora.n_rows("jddc") + FIRST_ROW["jddc"])
        if line - FIRST_ROW["jddc"] not in held["jddc"] and corpora.units("jddc", line)
    ]
    units += [(f"jddc:{line}", corpora.units("jddc", line)[0]) for line in rng.sample(lines, jddc)]

    ecd = [corpora.units("ecd", line) for line in range(corpora.n_rows("ecd"))]
    held_contexts = {tuple(ecd[line][1:-1]) for line in held["ecd"]}
    seen_contexts = set()
    for line, fields in enumerate(ecd):
        context = tuple(fields[1:-1])
        if context in held_contexts or context in seen_contexts:
            continue
        seen_contexts.add(context)
        # customer turns are the odd fields; the last field is a candidate response
        units += [(f"ecd:{line}:{i}", fields[i]) for i in range(1, len(fields) - 1, 2)]

    if need_cues:
        taken_rows = {tuple(source.split(":")[:2]) for source, _ in units}
        taken_rows = {(name, int(row)) for name, row in taken_rows}
        units += need_units(corpora, held, taken_rows, need_cues, rng)

    frame = pd.DataFrame(units, columns=["source", "text"])
    frame = frame[(frame["text"].str.len() > 0) & ~frame["text"].isin(dev_texts)]
    frame = frame.drop_duplicates("text")
    frame["text_sha1"] = [text_sha1(t) for t in frame["text"]]
    frame = frame[~frame["text_sha1"].isin(taken_sha1)]
    frame.insert(0, "n", range(len(frame)))
    return frame[["n", "source", "text_sha1", "text"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="CSV outside the repository")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--exclude", type=Path, help="labelled refs whose rows to leave out")
    parser.add_argument("--per-category", type=int, default=PER_SHOPPING_CATEGORY)
    parser.add_argument(
        "--need-cues", type=int, default=0,
        help="also draw this many units that mention a product-need cue (NEED_CUES)",
    )  # fmt: skip
    parser.add_argument("--waimai", type=int, default=WAIMAI, help="reviews of waimai_10k.csv")
    parser.add_argument(
        "--jddc", type=int, default=JDDC,
        help="customer turns of jddc_chat_sample.tsv, before repeated texts are dropped",
    )  # fmt: skip
    args = parser.parse_args()
    frame = draw(args.seed, args.exclude, args.per_category, args.need_cues, args.waimai, args.jddc)
    frame.to_csv(args.out, index=False)
    print(f"{len(frame)} units -> {args.out}")
    print(frame["source"].str.split(":").str[0].value_counts().to_string())


if __name__ == "__main__":
    main()
