"""Topic quality and stability: plain BERTopic vs voc's topic step, side by side.

One invocation, on a seeded slice of ``../shared/data/online_shopping_10_cats.csv``
(``--rows 10000``) or on all 62,774 reviews (no ``--rows``):

1. ``prepare`` (a subprocess, cached in ``<work>/<slice>/``): ``voc`` ingests, cleans,
   segments, embeds and labels the reviews with topics switched off; the units, their
   embeddings, the raw reviews and *their* embeddings (the same multilingual USE)
   are written to files, so no later run embeds anything again.
2. Eight measured runs, each a subprocess (``worker``), so each side's peak RSS is
   its own (read from the worker's ``VmHWM``, the kernel's high-water mark of that
   process's memory):

   - plain BERTopic, default settings over whole reviews (as ``plain_bertopic.py``),
     with only UMAP's ``random_state`` set: seed 1 and seed 2 on 100%, seed 1 on the
     90% of reviews that are not "new";
   - voc's topic step (``discover_topics``: per-category guided BERTopic on a bounded
     sample, centroid assignment) on the units of the same reviews: seed 1 and seed 2
     on 100%, seed 1 on 90%, then 100% with the 90% run's registry twice — as a
     nightly run (assign, refit only on drift) and with a forced refit.
3. Metrics, for both sides: wall time and peak RSS of the seed-1 run on 100%; topics;
   outlier share; NPMI coherence and topic diversity of each topic's top 10 words;
   adjusted Rand index between seeds 1 and 2 on the units both runs give a topic;
   and the share of earlier units (those of the 90% run that had a topic) that keep
   their topic id after the 10% new reviews are added. Plain BERTopic has no
   registry, so its 100% fit is matched to its 90% fit with voc's own Hungarian
   centroid matching (``voc.topics.match_topics``, same threshold): matched topics
   keep the earlier id, others get new ids.

NPMI is computed here over the *whole reviews*, tokenised with jieba (voc's
tokenizer with the taxonomy's user words, every token kept), as one reference
corpus for both sides; a review is the co-occurrence window. Pairs never seen
together score -1. Top words that never occur in the reference are left out of
the pairs and counted.

Usage::

    cd /work/main && .venv/bin/python benchmarks/topic_stability.py --rows 10000
    .venv/bin/python benchmarks/topic_stability.py          # all 62,774 reviews (slow)

The results go to ``<work>/<slice>/results.json`` and ``results.md`` (a markdown
section to paste into ``RESULTS.md``); ``--record`` appends it there directly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
import time
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from full_corpus import (
    DATA_FILE,
    check_child,
    child_env,
    machine_info,
    markdown_table,
    prepare_input,
    repo_root,
    run_measured,
)

NEW_SHARE = 0.10  # the "10% new data"
TOP_WORDS = 10
REVIEW_TEXT = "review"


# ------------------------------------------------------------------ metrics


def npmi_coherence(topics: list[list[str]], documents: list[set[str]]) -> tuple[float, int, int]:
    """Mean NPMI of each topic's word pairs, averaged over topics.

    NPMI(a, b) = log(p(a, b) / (p(a) p(b))) / -log p(a, b), with probabilities the
    share of documents holding the word(s); a pair never seen together scores -1.

    Args:
        topics: Top words per topic.
        documents: Each reference document as its set of tokens.

    Returns:
        ``(coherence, words used, words missing from the reference)``.
    """
    vocabulary = sorted({w for words in topics for w in words})
    index = {w: i for i, w in enumerate(vocabulary)}
    present = np.zeros((len(documents), len(vocabulary)), dtype=bool)
    for row, tokens in enumerate(documents):
        for word in tokens & index.keys():
            present[row, index[word]] = True
    counts = present.sum(axis=0)
    n = len(documents)
    scores, missing = [], 0
    for words in topics:
        found = [w for w in words if counts[index[w]] > 0]
        missing += len(words) - len(found)
        pairs = []
        for a, b in combinations(found, 2):
            joint = int((present[:, index[a]] & present[:, index[b]]).sum())
            if joint == 0:
                pairs.append(-1.0)
                continue
            p_ab, p_a, p_b = joint / n, counts[index[a]] / n, counts[index[b]] / n
            pairs.append(1.0 if p_ab == 1 else float(np.log(p_ab / (p_a * p_b)) / -np.log(p_ab)))
        if pairs:
            scores.append(float(np.mean(pairs)))
    used = sum(len(words) for words in topics) - missing
    return (float(np.mean(scores)) if scores else float("nan")), used, missing


def topic_diversity(topics: list[list[str]]) -> float:
    """Share of unique words among all topics' top words (1.0: no word repeats)."""
    words = [w for topic in topics for w in topic]
    return len(set(words)) / len(words) if words else float("nan")


def adjusted_rand(first: pd.Series, second: pd.Series) -> tuple[float, int]:
    """ARI of two assignments (index: unit id) on the units both give a topic."""
    from sklearn.metrics import adjusted_rand_score

    both = pd.concat([first, second], axis=1, join="inner").dropna()
    both = both[(both.iloc[:, 0] >= 0) & (both.iloc[:, 1] >= 0)]
    return float(adjusted_rand_score(both.iloc[:, 0], both.iloc[:, 1])), len(both)


def kept_share(before: pd.Series, after: pd.Series) -> tuple[float, int]:
    """Share of units with a topic ``before`` that have the same topic id ``after``."""
    earlier = before[before >= 0]
    same = after.reindex(earlier.index) == earlier
    return float(same.mean()) if len(earlier) else float("nan"), len(earlier)


def match_plain_ids(
    later: pd.Series,
    later_centroids: dict[int, np.ndarray],
    earlier_centroids: dict[int, np.ndarray],
) -> pd.Series:
    """Rename a later plain fit's topics to the earlier fit's ids where they match.

    The matching is voc's own (Hungarian on centroid cosine, ``match_threshold``);
    unmatched later topics get ids no earlier topic has.
    """
    from voc.config import TopicConfig
    from voc.topics import match_topics

    new_ids, old_ids = sorted(later_centroids), sorted(earlier_centroids)
    matches = match_topics(
        np.stack([later_centroids[t] for t in new_ids]),
        np.stack([earlier_centroids[t] for t in old_ids]),
        TopicConfig().match_threshold,
    )
    fresh = max(old_ids, default=-1) + 1
    rename = {}
    for i, topic in enumerate(new_ids):
        rename[topic] = old_ids[matches[i]] if i in matches else fresh + i
    return later.map(lambda t: rename.get(t, -1))


# ------------------------------------------------------------------ prepare


def prepare(folder: Path) -> None:
    """Units (labelled, topics off), unit and review embeddings, written to ``folder``."""
    from voc.config import (
        ColumnMap,
        EmbedConfig,
        PublishConfig,
        SourceConfig,
        TopicConfig,
        VocConfig,
    )
    from voc.embed import CachedEmbedder, EmbeddingCache, UseEmbedder, embed_units
    from voc.pipeline import run_pipeline
    from voc.publish import Store

    source = SourceConfig(
        path=str(folder / "input.csv"),
        kind="review",
        columns=ColumnMap(text=REVIEW_TEXT, id="review_id", product="cat", time="created_at"),
    )
    config = VocConfig(
        sources=(source,),
        topics=TopicConfig(enabled=False),
        publish=PublishConfig(out_dir=str(folder / "voc_out"), report=False),
    )
    run_pipeline(config)
    store = Store(folder / "voc_out")
    tables = store.load()
    units = tables["units"][["unit_id", "doc_id", "text", "category", "subtopic"]]
    review_ids = tables["documents"].set_index("doc_id")["native_id"]
    units = units.assign(review_id=units["doc_id"].map(review_ids).to_numpy())
    cache = EmbeddingCache(store.cache_dir / "embeddings.duckdb")
    embedder = CachedEmbedder(UseEmbedder(threads=EmbedConfig().threads), cache)
    np.save(folder / "unit_embeddings.npy", embed_units(units, embedder))
    units.to_parquet(folder / "units.parquet", index=False)

    reviews = pd.read_csv(folder / "input.csv", dtype=str, keep_default_na=False)
    reviews = reviews[reviews[REVIEW_TEXT].str.strip() != ""][["review_id", REVIEW_TEXT]]
    np.save(folder / "review_embeddings.npy", embedder.embed(reviews[REVIEW_TEXT].tolist()))
    reviews.to_parquet(folder / "reviews.parquet", index=False)


def new_reviews(review_ids: pd.Series, seed: int) -> set[str]:
    """The seeded 10% of reviews that count as "new data"."""
    rng = np.random.default_rng(seed)
    ids = np.sort(review_ids.to_numpy())
    return set(rng.choice(ids, round(NEW_SHARE * len(ids)), replace=False).tolist())


# ------------------------------------------------------------------ workers


def peak_rss_mb() -> float:
    """This process's own high-water RSS (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_plain(folder: Path, rows: np.ndarray, seed: int, out: Path) -> dict[str, Any]:
    """BERTopic with default settings over whole reviews (UMAP seeded, nothing else)."""
    import jieba
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    from voc.embed import UseEmbedder
    from voc.topics import make_backend

    reviews = pd.read_parquet(folder / "reviews.parquet")[rows]
    embeddings = np.load(folder / "review_embeddings.npy")[rows]
    started = time.perf_counter()
    model = BERTopic(
        language="multilingual",
        embedding_model=make_backend(UseEmbedder(threads=2)),
        vectorizer_model=CountVectorizer(tokenizer=jieba.Tokenizer().lcut, token_pattern=None),
        # BERTopic's own default UMAP, with only the seed added
        umap_model=UMAP(
            n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed
        ),
    )
    labels = np.asarray(model.fit_transform(reviews[REVIEW_TEXT].tolist(), embeddings)[0])
    fit_seconds = time.perf_counter() - started
    ids = sorted(set(labels.tolist()) - {-1})
    centroids = {t: embeddings[labels == t].mean(axis=0) for t in ids}
    centroids = {t: c / max(np.linalg.norm(c), 1e-12) for t, c in centroids.items()}
    np.savez(
        out.with_suffix(".npz"), ids=np.array(ids), centroids=np.stack(list(centroids.values()))
    )
    pd.DataFrame({"unit_id": reviews["review_id"].to_numpy(), "topic_id": labels}).to_parquet(
        out.with_suffix(".parquet"), index=False
    )
    words = [[w for w, _ in model.get_topic(t)[:TOP_WORDS] if w] for t in ids]
    return {
        "fit_seconds": fit_seconds,
        "topics": len(ids),
        "outlier_share": float((labels == -1).mean()),
        "units": len(labels),
        "top_words": words,
    }


def run_voc(
    folder: Path,
    rows: np.ndarray,
    seed: int,
    out: Path,
    state_in: Path | None,
    refit: bool,
    is_new: np.ndarray,
) -> dict[str, Any]:
    """voc's topic step (``discover_topics``) with its default settings."""
    from voc.config import DEFAULT_TAXONOMY, EmbedConfig, TopicConfig
    from voc.embed import CachedEmbedder, EmbeddingCache, UseEmbedder
    from voc.schemas import empty
    from voc.segment import make_tokenizer
    from voc.taxonomy import load_taxonomy
    from voc.topics import JiebaTokens, TopicState, discover_topics, outlier_share

    units = pd.read_parquet(folder / "units.parquet")[rows].reset_index(drop=True)
    embeddings = np.load(folder / "unit_embeddings.npy")[rows]
    taxonomy = load_taxonomy(DEFAULT_TAXONOMY)
    cache = EmbeddingCache(folder / "voc_out" / "cache" / "embeddings.duckdb")
    embedder = CachedEmbedder(UseEmbedder(threads=EmbedConfig().threads), cache)
    tokens = JiebaTokens(make_tokenizer(taxonomy.user_words), taxonomy.stopwords)
    state = TopicState(empty("topics"), empty("topic_centroids"))
    if state_in is not None:
        state = TopicState(*(pd.read_parquet(state_in / f"{n}.parquet") for n in STATE_TABLES))
    # keywords_per_topic only sets how many keywords are listed (10 for NPMI), not the fit
    config = TopicConfig(keywords_per_topic=TOP_WORDS)
    started = time.perf_counter()
    assignments, state = discover_topics(
        units, embeddings, state, taxonomy, config, embedder, tokens, run_id=out.stem,
        seed=seed, refit=refit, is_new=is_new[rows],
    )  # fmt: skip
    fit_seconds = time.perf_counter() - started
    state_out = out.with_suffix("")
    state_out.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(STATE_TABLES, (state.topics, state.centroids, state.runs), strict=True):
        frame.to_parquet(state_out / f"{name}.parquet", index=False)
    assignments[["unit_id", "topic_id"]].to_parquet(out.with_suffix(".parquet"), index=False)
    active = state.topics[state.topics["status"] == "active"]
    this_run = state.runs[state.runs["run_id"] == out.stem]
    return {
        "fit_seconds": fit_seconds,
        "topics": len(active),
        "outlier_share": outlier_share(assignments),
        "units": int((assignments["category"] != "other").sum()),
        "top_words": [k.split(", ")[:TOP_WORDS] for k in active["keywords"] if k],
        "refits": this_run.loc[this_run["refit"], "category"].tolist(),
        "reasons": dict(zip(this_run["category"], this_run["reason"], strict=True)),
    }


STATE_TABLES = ("topics", "topic_centroids", "topic_runs")


def worker(args: argparse.Namespace) -> int:
    """One measured run; writes ``<out>.json`` (and assignments next to it)."""
    folder, out = args.data, args.out
    new = new_reviews(pd.read_parquet(folder / "reviews.parquet")["review_id"], args.split_seed)
    if args.side == "plain":
        is_new = pd.read_parquet(folder / "reviews.parquet")["review_id"].isin(new).to_numpy()
    else:
        is_new = pd.read_parquet(folder / "units.parquet")["review_id"].isin(new).to_numpy()
    rows = np.ones(len(is_new), dtype=bool) if args.fraction == "all" else ~is_new
    if args.side == "plain":
        result = run_plain(folder, rows, args.seed, out)
    else:
        result = run_voc(folder, rows, args.seed, out, args.state_in, args.refit, is_new)
    result["peak_rss_mb"] = peak_rss_mb()
    out.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False))
    return 0


# ------------------------------------------------------------------ main


RUNS = {
    # name: (side, rows, seed, state from, refit)
    "plain_s1": ("plain", "all", 1, None, False),
    "plain_s2": ("plain", "all", 2, None, False),
    "plain_90": ("plain", "earlier", 1, None, False),
    "voc_s1": ("voc", "all", 1, None, False),
    "voc_s2": ("voc", "all", 2, None, False),
    "voc_90": ("voc", "earlier", 1, None, False),
    "voc_nightly": ("voc", "all", 1, "voc_90", False),
    "voc_refit": ("voc", "all", 1, "voc_90", True),
}


def run_all(folder: Path, split_seed: int) -> dict[str, dict[str, Any]]:
    """Every run in ``RUNS``, each a measured subprocess; their JSON results."""
    root = repo_root()
    results = {}
    for name, (side, rows, seed, state_from, refit) in RUNS.items():
        command = [
            sys.executable, __file__, "worker", "--side", side, "--data", str(folder),
            "--fraction", rows, "--seed", str(seed), "--split-seed", str(split_seed),
            "--out", str(folder / "runs" / name),
        ]  # fmt: skip
        if state_from:
            command += ["--state-in", str(folder / "runs" / state_from)]
        if refit:
            command.append("--refit")
        (folder / "runs").mkdir(exist_ok=True)
        print(f"{name}: {shlex.join(command[2:])}", flush=True)
        child = run_measured(command, root, child_env(root), folder / "runs" / name)
        check_child(child, name)
        results[name] = json.loads((folder / "runs" / f"{name}.json").read_text())
        results[name]["wall_seconds"] = child.wall_seconds
        print(f"  {child.wall_seconds:.1f} s, {results[name]['peak_rss_mb']:.0f} MB", flush=True)
    return results


def reference_documents(folder: Path) -> list[set[str]]:
    """The whole reviews as token sets: voc's jieba tokenizer, every token kept."""
    from voc.config import DEFAULT_TAXONOMY
    from voc.segment import make_tokenizer
    from voc.taxonomy import load_taxonomy

    tokenizer = make_tokenizer(load_taxonomy(DEFAULT_TAXONOMY).user_words)
    texts = pd.read_parquet(folder / "reviews.parquet")[REVIEW_TEXT]
    return [{w.strip().lower() for w in tokenizer.lcut(t) if w.strip()} for t in texts]


def summarise(folder: Path, results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The comparison: one dict of metrics per side."""
    documents = reference_documents(folder)

    def assignments(name: str) -> pd.Series:
        frame = pd.read_parquet(folder / "runs" / f"{name}.parquet")
        return frame.set_index("unit_id")["topic_id"]

    def centroids(name: str) -> dict[int, np.ndarray]:
        saved = np.load(folder / "runs" / f"{name}.npz")
        return dict(zip(saved["ids"].tolist(), saved["centroids"], strict=True))

    summary = {}
    for side in ("plain", "voc"):
        main = results[f"{side}_s1"]
        coherence, used, missing = npmi_coherence(main["top_words"], documents)
        ari, ari_units = adjusted_rand(assignments(f"{side}_s1"), assignments(f"{side}_s2"))
        summary[side] = {
            "wall_seconds": round(main["wall_seconds"], 1),
            "fit_seconds": round(main["fit_seconds"], 1),
            "peak_rss_mb": round(main["peak_rss_mb"]),
            "units": main["units"],
            "topics": main["topics"],
            "outlier_share": round(main["outlier_share"], 4),
            "npmi": round(coherence, 4),
            "npmi_words_used": used,
            "npmi_words_missing": missing,
            "diversity": round(topic_diversity(main["top_words"]), 4),
            "ari_seeds": round(ari, 4),
            "ari_units": ari_units,
        }
    later = match_plain_ids(assignments("plain_s1"), centroids("plain_s1"), centroids("plain_90"))
    share, earlier = kept_share(assignments("plain_90"), later)
    summary["plain"].update(kept_refit=round(share, 4), kept_units=earlier)
    for mode in ("nightly", "refit"):
        share, earlier = kept_share(assignments("voc_90"), assignments(f"voc_{mode}"))
        summary["voc"].update({f"kept_{mode}": round(share, 4), "kept_units": earlier})
    summary["voc"]["nightly_refits"] = results["voc_nightly"]["refits"]
    summary["voc"]["nightly_reasons"] = results["voc_nightly"]["reasons"]
    return summary


def render(summary: dict[str, dict[str, Any]], label: str, command: str, machine: dict) -> str:
    """The markdown section for RESULTS.md."""
    plain, voc = summary["plain"], summary["voc"]

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    rows = [
        ["wall time, seed 1 on 100% (s)", f"{plain['wall_seconds']:.1f}", f"{voc['wall_seconds']:.1f}"],
        ["  of which fitting/assigning (s)", f"{plain['fit_seconds']:.1f}", f"{voc['fit_seconds']:.1f}"],
        ["peak RSS (MB)", f"{plain['peak_rss_mb']:,}", f"{voc['peak_rss_mb']:,}"],
        ["documents clustered", f"{plain['units']:,} reviews", f"{voc['units']:,} units (not `other`)"],
        ["topics", str(plain["topics"]), str(voc["topics"])],
        ["outlier share", pct(plain["outlier_share"]), pct(voc["outlier_share"])],
        ["NPMI coherence (top 10, reviews as reference)", f"{plain['npmi']:.3f}", f"{voc['npmi']:.3f}"],
        ["topic diversity (top 10)", f"{plain['diversity']:.3f}", f"{voc['diversity']:.3f}"],
        [
            "ARI seed 1 vs seed 2 (units both assign)",
            f"{plain['ari_seeds']:.3f} ({plain['ari_units']:,})",
            f"{voc['ari_seeds']:.3f} ({voc['ari_units']:,})",
        ],
        [
            "earlier units keeping their id, +10% new data: nightly",
            "—",
            f"{pct(voc['kept_nightly'])} of {voc['kept_units']:,}",
        ],
        [
            "  … after a refit on 100% (ids matched by Hungarian on centroids)",
            f"{pct(plain['kept_refit'])} of {plain['kept_units']:,}",
            f"{pct(voc['kept_refit'])} of {voc['kept_units']:,}",
        ],
    ]  # fmt: skip
    refits = ", ".join(voc["nightly_refits"]) or "none"
    return "\n".join(
        [
            f"## {dt.datetime.now():%Y-%m-%d %H:%M} — topic quality and stability, {label}",
            "",
            f"- Command: `{command}`",
            f"- Machine: nproc {machine['nproc']}, {machine['memory']} RAM, {machine['cpu']},",
            f"  Python {machine['python']}; {machine['packages']}",
            f"- Load average at start: {machine['load']}; numba cache: {machine['numba_cache']}",
            "",
            markdown_table(["", "plain BERTopic", "voc topics"], rows, "lrr"),
            "",
            "Plain BERTopic: default settings over whole reviews (UMAP seeded, nothing else;",
            "jieba `CountVectorizer`, no stop words). voc: `discover_topics` with default",
            "`TopicConfig` (listing 10 keywords) on the clause units of the same reviews.",
            "Wall time and peak RSS are each side's own subprocess (`VmHWM`), loading the",
            "cached embeddings included; embedding time is not included on either side.",
            "NPMI uses one reference for both sides: the reviews, jieba-tokenised.",
            f"NPMI top words missing from the reference: plain {plain['npmi_words_missing']},"
            f" voc {voc['npmi_words_missing']}.",
            'New data: a seeded 10% of the reviews (and their units); "earlier units" are',
            "those of the 90% run that had a topic. Plain BERTopic has no registry: its",
            "100% fit is matched to its 90% fit with `voc.topics.match_topics` (threshold",
            f"0.8). voc nightly run: categories refitted for drift: {refits}.",
            "",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (``worker`` is the internal per-run entry point)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("worker", help="internal: one measured run")
    one.add_argument("--side", choices=["plain", "voc"], required=True)
    one.add_argument("--data", type=Path, required=True)
    one.add_argument("--fraction", choices=["all", "earlier"], required=True)
    one.add_argument("--seed", type=int, required=True)
    one.add_argument("--split-seed", type=int, required=True)
    one.add_argument("--out", type=Path, required=True)
    one.add_argument("--state-in", type=Path)
    one.add_argument("--refit", action="store_true")
    prep = sub.add_parser("prepare", help="internal: units and embeddings")
    prep.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rows", type=int, help="A seeded slice of N reviews (default: all).")
    parser.add_argument(
        "--work",
        type=Path,
        default=repo_root() / "benchmarks" / "work" / "topic_stability",
        help="Cache and results (default benchmarks/work/topic_stability, git-ignored).",
    )
    parser.add_argument("--seed", type=int, default=42, help="Seed of the slice and the split.")
    parser.add_argument("--record", action="store_true", help="Append the section to RESULTS.md.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Prepare (cached), run every measured run, write results.json and results.md."""
    args = parse_args(argv)
    if args.command == "worker":
        return worker(args)
    if args.command == "prepare":
        prepare(args.data)
        return 0
    root = repo_root()
    label = f"{args.rows:,}-review slice" if args.rows else "all reviews"
    folder = args.work / (
        f"rows{args.rows}_seed{args.seed}" if args.rows else f"all_seed{args.seed}"
    )
    machine = machine_info(root)
    if not (folder / "reviews.parquet").exists():
        folder.mkdir(parents=True, exist_ok=True)
        prepare_input(root / DATA_FILE, folder / "input.csv", args.rows, args.seed, days=60)
        command = [sys.executable, __file__, "prepare", "--data", str(folder)]
        print(f"prepare: units and embeddings into {folder}", flush=True)
        check_child(run_measured(command, root, child_env(root), folder / "prepare"), "prepare")
    results = run_all(folder, args.seed)
    summary = summarise(folder, results)
    shown = " ".join(["benchmarks/topic_stability.py", *(argv or sys.argv[1:])])
    section = render(summary, label, f"cd {root} && .venv/bin/python {shown}", machine)
    (folder / "results.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    (folder / "results.md").write_text(section, encoding="utf-8")
    print(section)
    if args.record:
        with (root / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
