from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.contract import CATEGORIES, POLARITIES
from voc.cli import _print_summary, app, main
from voc.embed import EMBEDDERS
from voc.pipeline import RunSummary

VOC = [sys.executable, "-m", "voc.cli"]


def _voc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DO_NOT_TRACK": "1", "COLUMNS": "200"}
    return subprocess.run(
        [*VOC, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )


def test_help_lists_the_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = re.findall(r"^│ (\w+)", result.stdout, flags=re.MULTILINE)
    assert {"demo", "run", "classify", "eval", "report", "taxonomy", "serve"} <= set(listed)


@pytest.mark.slow  # fits BERTopic: `voc demo` has topics on
def test_voc_demo_publishes_the_bundled_data(tmp_path, monkeypatch, fake_embedder):
    # `voc demo` always uses the default model: make that the hashing embedder
    monkeypatch.setitem(EMBEDDERS, "use-multilingual", lambda config, argument: fake_embedder)
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--no-prefect"])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        runs = con.execute(
            "SELECT rows_read, rows_published, rows_duplicate, rows_quarantined FROM runs"
        ).fetchall()
        documents = con.execute(
            "SELECT source, count(*) FROM documents GROUP BY source ORDER BY source"
        ).fetchall()
        (units,) = con.execute("SELECT count(*) FROM units").fetchone()
    assert runs == [(960, 946, 3, 11)]
    assert documents == [
        ("chats.tsv", 80),
        ("reviews_shop_a.csv", 252),
        ("reviews_shop_b_gbk.csv", 158),
    ]
    assert units == 830


def test_taxonomy_check_reports_the_default_taxonomy():
    result = CliRunner().invoke(app, ["taxonomy", "check"])
    assert result.exit_code == 0, result.stdout
    assert "product_quality" in result.stdout and "OK" in result.stdout


def test_broken_taxonomy_is_one_line_with_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nname: x\ncategories:\n  - id: Bad-Id\n    name_zh: 坏\n    priority: 0\n"
        "    default_polarity: happy\n    seeds: []\n    exemplars: [a]\npolarity: {}\n",
        encoding="utf-8",
    )
    result = _voc("taxonomy", "check", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    for key in (
        "categories[0].id",
        "categories[0].priority",
        "categories[0].default_polarity",
        "polarity.positive",
    ):
        assert key in message, key
    assert str(bad) in message


def test_missing_input_file_is_one_clear_line(tmp_path):
    result = _voc("run", "--input", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "missing.csv" in result.stderr and "file not found" in result.stderr


def test_two_inputs_with_one_file_name_are_one_clear_line(tmp_path):
    paths = [tmp_path / folder / "reviews.csv" for folder in ("a", "b")]
    for path in paths:
        path.parent.mkdir()
        path.write_text("id,review\n1,音质很好\n", encoding="utf-8")
    result = _voc("run", "--input", str(paths[0]), "--input", str(paths[1]), "--out", "o")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "[E201]" in result.stderr and "repeated: ['reviews.csv']" in result.stderr


def test_out_that_is_a_file_is_one_clear_line(tmp_path):
    data, taken = tmp_path / "in.csv", tmp_path / "taken"
    data.write_text("id,review\n1,音质很好\n", encoding="utf-8")
    taken.write_text("", encoding="utf-8")
    result = _voc("run", "--input", str(data), "--out", str(taken))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{taken} is a file, not a folder" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--cron", "61 2 * * *", "--timezone", "Mars/Base"],
            ['--cron: Invalid cron string: "61 2 * * *"', "--timezone 'Mars/Base'"],
        ),
        (["--config", "/nonexistent.yaml"], ["/nonexistent.yaml: file not found"]),
        (["--config", "{bad}"], ["bad.yaml: embed.threds"]),
    ],
)
def test_serve_checks_its_options_before_registering(
    options, expected, tmp_path, monkeypatch, capsys
):
    bad = tmp_path / "bad.yaml"
    bad.write_text("embed: {threds: 2}\n", encoding="utf-8")
    registered = []
    monkeypatch.setattr("pipelines.serve.serve", lambda *deployments: registered.append(1))
    monkeypatch.setattr(sys, "argv", ["voc", "serve", *(o.format(bad=bad) for o in options)])

    with pytest.raises(SystemExit) as exited:
        main()

    assert exited.value.code == 2 and registered == []
    message = capsys.readouterr().err
    assert message.startswith("error [E201]") and len(message.strip().splitlines()) == 1
    for part in expected:
        assert part in message, part


def test_wrong_text_column_names_the_columns(tmp_path):
    data = tmp_path / "in.csv"
    pd.DataFrame({"id": [1], "comment": ["好"]}).to_csv(data, index=False)
    result = _voc(
        "classify",
        "--input",
        str(data),
        "--text-column",
        "review",
        "--output",
        str(tmp_path / "o.csv"),
    )
    assert result.returncode == 2
    assert "'review' is not a column" in result.stderr and "comment" in result.stderr


@pytest.mark.slow
def test_classify_writes_input_rows_plus_labels(tmp_path):
    data = tmp_path / "in.csv"
    texts = ["用了两天就坏了", "这款有大码吗", "", "😀", "The battery died", "物流太慢了" * 300]
    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(data, index=False)
    output = tmp_path / "out" / "labelled.csv"
    result = _voc(
        "classify", "--input", str(data), "--text-column", "text", "--output", str(output)
    )
    assert result.returncode == 0, result.stderr
    labelled = pd.read_csv(output, keep_default_na=False)
    assert list(labelled.columns) == ["id", "text", "category", "polarity", "confidence"]
    assert len(labelled) == len(texts)
    assert set(labelled["category"]) <= CATEGORIES
    assert set(labelled["polarity"]) <= POLARITIES
    assert labelled.loc[labelled["text"] == "", "category"].item() == "other"
    assert labelled.loc[0, ["category", "polarity"]].tolist() == ["product_quality", "negative"]
    assert labelled.loc[1, ["category", "polarity"]].tolist() == ["product_need", "neutral"]
    assert labelled.loc[5, "category"] == "logistics"


@pytest.mark.slow
def test_run_with_named_columns_then_incremental(tmp_path, demo_dir):
    data = tmp_path / "reviews.csv"
    frame = pd.read_csv(
        demo_dir / "reviews_shop_a.csv", dtype=str, keep_default_na=False, on_bad_lines="skip"
    )
    frame.rename(columns={"content": "评价", "review_id": "编号"}).iloc[:120].to_csv(
        data, index=False
    )
    out = tmp_path / "out"
    args = (
        "run",
        "--input",
        str(data),
        "--out",
        str(out),
        "--text-column",
        "评价",
        "--id-column",
        "编号",
    )
    first = _voc(*args)
    assert first.returncode == 0, first.stderr
    assert "reviews.csv" in first.stdout and (out / "voc.duckdb").exists()
    second = _voc(*args)
    assert second.returncode == 0, second.stderr
    assert "0 new documents" in second.stdout


@pytest.mark.slow
def test_eval_prints_scores_as_json(shared_data):
    import json

    result = _voc("eval", "--labelled", str(shared_data / "labelled" / "voc_dev.csv"), "--json")
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["units"] == 257
    # the shipped model's held-out figures in the README (0.767 / 0.918; 0.854 lenient)
    assert scores["macro_f1"] >= 0.76 and scores["polarity_accuracy"] >= 0.91
    assert {row["category"] for row in scores["per_category"]} == CATEGORIES
    assert len(scores["confusion"]["matrix"]) == 7
    lenient = scores["with_alternatives"]  # voc_dev marks a second category on ambiguous units
    assert lenient["units_with_alternative"] == 63
    assert lenient["category_accuracy"] >= scores["category_accuracy"]
    assert lenient["macro_f1"] >= 0.85


@pytest.mark.slow
def test_train_fine_tunes_and_saves_a_model_that_loads(tmp_path):
    import json

    rows = [
        ("用了两天就坏了", "product_quality", "negative"),
        ("屏幕有坏点", "product_quality", "negative"),
        ("物流太慢了", "logistics", "negative"),
        ("快递很快，第二天就到了", "logistics", "positive"),
        ("优惠券用不了", "campaign_issue", "negative"),
        ("有赠品吗", "campaign_issue", "neutral"),
        ("音质很好", "selling_point", "positive"),
        ("好的谢谢", "other", "neutral"),
    ]
    labelled = tmp_path / "mine.csv"
    pd.DataFrame(rows, columns=["text", "category", "polarity"]).to_csv(labelled, index=False)
    unlabelled = tmp_path / "pool.csv"
    pool = [
        "屏幕碎了",
        "快递三天才到",
        "有没有优惠券",
        "好的谢谢",
        "  ",
    ]  # a labelled text, a blank
    pd.DataFrame({"text": pool}).to_csv(unlabelled, index=False)
    for epochs in ("1", "0"):
        out = tmp_path / f"model{epochs}"
        result = _voc(
            "train", "--labelled", str(labelled), "--output", str(out),
            "--finetune-epochs", epochs, "--unlabelled", str(unlabelled),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "mine.csv  sha256" in result.stdout
        meta = json.loads((out / "model.json").read_text())
        assert meta["data_sha256"]["mine.csv"] and meta["n_train"] > len(rows)  # + exemplars
        if epochs == "0":  # nothing to self-train
            assert meta["finetune"] is None and "pool.csv" not in meta["data_sha256"]
            continue
        self_training = meta["finetune"].pop("self_training")
        assert meta["finetune"] == {"base": "m3e-small", "epochs": 1, "seeds": [42], "weight": 0.5}
        assert self_training["unlabelled"] == 3 and self_training["student_seed"] == 42
        assert f"self-training: {self_training['kept']} of 3 unlabelled" in result.stdout
        assert meta["data_sha256"]["pool.csv"]
    from voc.config import DEFAULT_TAXONOMY, EmbedConfig
    from voc.embed import build_embedder
    from voc.supervised import SupervisedClassifier
    from voc.taxonomy import load_taxonomy

    embedder = build_embedder(EmbedConfig(threads=1))
    model = SupervisedClassifier.load(
        tmp_path / "model1", load_taxonomy(DEFAULT_TAXONOMY), embedder
    )
    assert len(model.finetuned_) == 1
    texts = ["物流太慢了，等了一周", "音质很好"]
    labels = model.predict(texts, embedder.embed(texts))
    assert set(labels.category) <= CATEGORIES and set(labels.polarity) <= POLARITIES
    # the Apache-2.0 alternative: two fine-tuned USE encoders
    out = tmp_path / "use"
    result = _voc(
        "train", "--labelled", str(labelled), "--output", str(out),
        "--finetune-base", "use", "--finetune-epochs", "1",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["finetune"] == {"base": "use", "epochs": 1, "seeds": [42, 7], "weight": 0.5}
    result = _voc(
        "train", "--labelled", str(labelled), "--output", str(out), "--finetune-base", "bert"
    )
    assert result.returncode != 0 and "unknown encoder base 'bert'" in result.stderr


def test_summary_prints_the_alerts_this_run_raised(tmp_path, capsys):
    alerts = pd.DataFrame(
        {
            "date": [dt.date(2026, 11, 4), dt.date(2026, 11, 5), dt.date(2026, 11, 5)],
            "kind": ["negative_volume", "negative_volume", "emerging_topic"],
            "product": ["耳机", "耳机", "all"],
            "category": ["all", "product_quality", "product_quality"],
            "topic_id": [-1, -1, 1],
            "topic_label": ["", "", "充电"],
            "units": [18, 10, 9],
            "observed": [11.0, 10.0, 9.0],
            "expected": [1.8, 1.3, 0.8],
            "p_value": [2.9e-6, 1.1e-6, 1.6e-7],
            "severity": "high",
            "run_id": ["r1", "r2", "r2"],
        }
    )
    summary = RunSummary("r2", tmp_path, tmp_path / "s", {}, 0, 0, 0, 0, alerts=alerts)
    _print_summary(summary)
    printed = " ".join(capsys.readouterr().out.split())  # whatever the terminal's width
    assert (
        "差评预警 alerts: 2 new (3 in all) 2026-11-05 negative_volume 耳机 product_quality:"
        in printed
    )
    assert "2026-11-05 emerging_topic all product_quality topic 1 充电: 9/9 units" in printed
    assert "2026-11-04" not in printed  # raised by run r1, printed then
