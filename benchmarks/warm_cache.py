"""Memory of a streaming run whose embedding cache is already large.

Streams the first ``--rows`` reviews of a file into a fresh output folder that starts
with a copy of an existing cache (by default the one the 1,000,000-row run of
``benchmarks/million.py`` left), and prints wall time, peak RSS and RSS after each batch
as JSON. Run it before and after a change to ``voc/embed.py`` to see what the cache
costs at that size.

Usage (from the repo root)::

    .venv/bin/python benchmarks/warm_cache.py --out /tmp/warm
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import shutil
import time
from pathlib import Path

from voc.config import VocConfig
from voc.stream import stream_csv

MILLION = Path("benchmarks/work/million")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=MILLION / "reviews_1000000.csv")
    parser.add_argument("--cache", type=Path, default=MILLION / "out_5000/cache/embeddings.duckdb")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    (args.out / "cache").mkdir(parents=True)
    shutil.copy(args.cache, args.out / "cache" / "embeddings.duckdb")
    head = args.out / "input.csv"
    with args.input.open(encoding="utf-8") as source, head.open("w", encoding="utf-8") as target:
        target.writelines(itertools.islice(source, args.rows + 1))  # + the header
    started = time.perf_counter()
    summary = stream_csv(head, VocConfig(), args.out, rows_per_chunk=args.batch)
    result = {
        "wall_s": round(time.perf_counter() - started, 1),
        "units": summary.units,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_after_batches_mb": [round(x) for x in summary.rss_mb_after_chunk],
        "seconds": {k: round(v, 1) for k, v in summary.seconds.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
