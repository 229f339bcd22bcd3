"""Load benchmark: stream a generated review file through ingest, clean, segment, embed, label.

1. Writes ``<work>/reviews.csv`` with ``--rows`` synthetic reviews (default 1,000,000):
   1-4 clauses each, drawn from a space of about a million distinct clauses, with one
   row in 1,000 carrying an unparseable rating and one in 997 exported twice, so the
   quarantine and duplicate paths run too.
2. For each ``--batch-sizes`` value, runs :func:`voc.stream.stream_csv` on that file in a
   fresh output folder (cold embedding cache) as a child process, and takes the child's
   own peak RSS from ``os.wait4``.
3. Prints a markdown section (appended to ``benchmarks/RESULTS.md`` with ``--record``).

Peak memory should follow the batch size, not the row count: compare two batch sizes
at one ``--rows``, and one batch size at two ``--rows``.

Usage (from the repo root)::

    .venv/bin/python benchmarks/million.py --rows 20000 --batch-sizes 1000 5000
    .venv/bin/python benchmarks/million.py --record          # 1,000,000 rows: hours
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

PRODUCTS = ["蓝牙耳机", "纯棉T恤", "坚果礼盒", "电饭煲", "运动鞋", "洗面奶", "充电宝", "保温杯",
            "机械键盘", "儿童书包", "空气炸锅", "床上四件套"]  # fmt: skip
SUBJECTS = ["音质", "做工", "质量", "面料", "味道", "包装", "物流", "快递", "客服", "售后", "价格",
            "颜色", "尺码", "续航", "手感", "外观", "气味", "厚度", "重量", "容量", "说明书", "赠品",
            "发货速度", "性价比", "做工细节", "收货速度", "按键", "拉链", "充电速度", "清洗",
            "保温效果", "噪音", "口感", "新鲜度", "版型", "弹性", "透气性", "材质", "logo", "线头",
            "接口", "屏幕", "电池", "温度", "火力", "内胆", "鞋底", "鞋带", "泡沫", "保质期",
            "生产日期", "分量", "配件", "安装", "退货流程", "优惠券", "活动价", "满减", "开箱",
            "第一印象"]  # fmt: skip
ADVERBS = ["非常", "特别", "还算", "有点", "太", "真的", "比较", "超级", "一点也不", "不太", "很",
           "挺"]  # fmt: skip
OPINIONS = ["好", "差", "满意", "失望", "惊喜", "一般", "给力", "垃圾", "划算", "贵", "便宜", "快",
            "慢", "舒服", "难受", "结实", "容易坏", "清楚", "模糊", "正", "偏大", "偏小", "合身",
            "好吃", "难吃", "香", "刺鼻", "耐用", "掉色", "起球", "变形", "漂亮", "丑", "精致",
            "粗糙", "安静", "吵", "稳定", "卡顿", "方便", "麻烦", "专业", "敷衍", "热情", "冷淡",
            "到位", "离谱", "靠谱", "新鲜", "过期"]  # fmt: skip
TAILS = ["", "", "，下次还来", "，推荐购买", "，不会再买了", "，和描述一致", "，跟图片不一样",
         "，用了一周", "，送人的", "，家里人都说好", "，客服也没解决", "，给个好评", "，差评",
         "，第二次买了", "，性价比高", "，有点后悔", "，还会回购", "，物超所值", "，不推荐",
         "，总体还行", "，希望改进", "，退了", "，换了一个", "，等了三天", "，当天就到了",
         "，比实体店便宜", "，活动买的", "，618买的", "，双十一买的", "，老顾客了"]  # fmt: skip
CONNECTORS = ["。", "，但是", "，不过", "！", "；", "，就是"]


def clause(rng: random.Random) -> str:
    return rng.choice(SUBJECTS) + rng.choice(ADVERBS) + rng.choice(OPINIONS) + rng.choice(TAILS)


def review_text(rng: random.Random) -> str:
    parts = [clause(rng)]
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        parts.append(rng.choice(CONNECTORS) + clause(rng))
    return "".join(parts)


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write ``rows`` reviews to ``path`` (streamed: the file is never held in memory)."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["review_id", "product", "created_at", "rating", "content"])
        previous = None
        for i in range(rows):
            if previous is not None and i % 997 == 996:
                writer.writerow(previous)  # exported twice: a duplicate
                continue
            when = start + dt.timedelta(seconds=rng.randrange(86400 * 180))
            rating = "五星" if i % 1000 == 999 else str(rng.randint(1, 5))
            row = [f"R{i:07d}", rng.choice(PRODUCTS), f"{when:%Y-%m-%d %H:%M:%S}", rating,
                   review_text(rng)]  # fmt: skip
            writer.writerow(row)
            previous = row


def child(input_path: Path, out: Path, batch: int, model: str) -> None:
    """Stream one file (in this process) and print the summary as one JSON line."""
    from voc.config import EmbedConfig, LabelConfig, VocConfig
    from voc.stream import stream_csv

    config = VocConfig(embed=EmbedConfig(model=model))
    if model == "fake":
        # The tests' hashing embedder: measures everything but the model itself.
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.fakes import HashingEmbedder
        from voc.embed import EMBEDDERS

        EMBEDDERS["fake"] = lambda config, argument: HashingEmbedder()
        config = config.model_copy(update={"labels": LabelConfig(classifier="prototype")})
    started = time.perf_counter()
    summary = stream_csv(input_path, config, out, rows_per_chunk=batch)
    result = {
        "wall_s": round(time.perf_counter() - started, 1),
        "chunks": summary.chunks,
        "accounting": summary.accounting,
        "units": summary.units,
        "seconds": {k: round(v, 1) for k, v in summary.seconds.items()},
        "peak_rss_mb": round(summary.peak_rss_mb),
        "rss_first_mb": round(summary.rss_mb_after_chunk[0]),
        "rss_last_mb": round(summary.rss_mb_after_chunk[-1]),
    }
    print(json.dumps(result))


def measure(input_path: Path, out: Path, batch: int, model: str) -> dict:
    """Run :func:`child` in a subprocess; add its wall time and its own peak RSS (wait4)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [sys.executable, __file__, "--child", "--input", str(input_path), "--out", str(out),
               "--batch-sizes", str(batch), "--model", model]  # fmt: skip
    env = {**os.environ, "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    with (out / "stdout.txt").open("w") as stdout, (out / "stderr.txt").open("w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"child failed:\n{(out / 'stderr.txt').read_text()[-3000:]}")
    result = json.loads((out / "stdout.txt").read_text().strip().splitlines()[-1])
    result["process_wall_s"] = round(time.perf_counter() - started, 1)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024)  # KiB on Linux
    result["batch"] = batch
    return result


def render(rows: int, results: list[dict], model: str) -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"## {dt.datetime.now():%Y-%m-%d %H:%M} — streaming load, {rows:,} generated reviews",
        "",
        f"- Command: `.venv/bin/python benchmarks/million.py --rows {rows} --batch-sizes "
        f"{' '.join(str(r['batch']) for r in results)} --model {model}`",
        f"- Steps: ingest, clean, segment, embed ({model}, cold cache), label; topics and "
        f"aggregates are not part of streaming. Machine: nproc {os.cpu_count()}, load {load}.",
        "",
        "| rows per batch | wall s | reviews/s | units | units/s | peak RSS MB "
        "| RSS after 1st / last batch MB | ingest | clean | segment | embed | label | write |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for r in results:
        s = r["seconds"]
        lines.append(
            f"| {r['batch']:,} | {r['wall_s']} | {rows / r['wall_s']:,.0f} | {r['units']:,} "
            f"| {r['units'] / r['wall_s']:,.0f} | {r['peak_rss_mb']:,} "
            f"| {r['rss_first_mb']:,} / {r['rss_last_mb']:,} | {s['ingest']} "
            f"| {s['clean']} | {s['segment']} | {s['embed']} | {s['label']} | {s['write']} |"
        )
    a = results[0]["accounting"]
    lines += [
        "",
        f"Rows read {a['read']:,}: published {a['published']:,}, duplicates {a['duplicates']:,}, "
        f"quarantined {a['quarantined']:,} (the same for every batch size).",
        "",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[2_000, 20_000])
    parser.add_argument("--work", type=Path, default=Path("benchmarks/work/million"))
    parser.add_argument("--input", type=Path, help="stream this file instead of generating one")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--model", default="use-multilingual", help='"fake": the tests\' hashing embedder'
    )
    parser.add_argument("--record", action="store_true", help="append to benchmarks/RESULTS.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args.input, args.out, args.batch_sizes[0], args.model)
        return 0
    input_path = args.input or args.work / f"reviews_{args.rows}.csv"
    if not input_path.exists():
        generate(input_path, args.rows)
    results = [
        measure(input_path, args.work / f"out_{batch}", batch, args.model)
        for batch in args.batch_sizes
    ]
    section = render(args.rows, results, args.model)
    print(section)
    if args.record:
        with Path("benchmarks/RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
