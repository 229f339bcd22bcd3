"""The ``voc`` command line: demo, run, classify, taxonomy check.

User mistakes (a missing file, a bad column, a broken taxonomy) print one line,
``[code] message``, and exit with status 2 — never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from voc.config import (
    DEFAULT_MODEL_DIR,
    DEFAULT_TAXONOMY,
    DEMO_DIR,
    ColumnMap,
    PublishConfig,
    SourceConfig,
    VocConfig,
    format_validation_error,
    load_config,
)
from voc.errors import ConfigError, InputFileError, StoreError, VocError

app = typer.Typer(
    help="voc: voice-of-the-customer mining for Chinese e-commerce text.",
    pretty_exceptions_enable=False,
    no_args_is_help=True,
)
taxonomy_app = typer.Typer(help="Work with taxonomies.", no_args_is_help=True)
app.add_typer(taxonomy_app, name="taxonomy")

console = Console()
errors = Console(stderr=True)

DEMO_FILES = ("reviews_shop_a.csv", "reviews_shop_b_gbk.csv", "chats.tsv")


class RichProgress:
    """Shows the current step and an embedding progress bar."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("starting", total=None)

    def step(self, name: str) -> None:
        self.progress.update(self.task, description=name, total=None, completed=0)

    def advance(self, done: int, total: int) -> None:
        self.progress.update(self.task, total=total, completed=done)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold blue]{task.description:<16}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def demo_config(out_dir: str) -> VocConfig:
    """The config of ``voc demo``: the bundled files, written to ``out_dir``."""
    return VocConfig(
        sources=tuple(SourceConfig(path=str(DEMO_DIR / name)) for name in DEMO_FILES),
        publish=PublishConfig(out_dir=out_dir),
    )


@app.command()
def demo(
    out: Annotated[str, typer.Option(help="Where to publish the results.")] = "outputs/demo",
    prefect: Annotated[bool, typer.Option(help="Run through the Prefect flow.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the whole pipeline on the bundled demo reviews and chats."""
    _setup_logging(verbose)
    config = demo_config(out)
    if prefect:
        # Prefect's local server migrates a new database on first start, which takes
        # longer than its 20 s default on a small machine.
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
        if os.environ.get("PREFECT_HOME"):  # Prefect only creates it when the parent exists
            Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
        from pipelines.flows import voc_flow  # Prefect lives in pipelines/, not in voc/

        console.print("Running the Prefect flow [bold]voc-run[/] on the bundled demo data…")
        summary = voc_flow(config)
    else:
        from voc.pipeline import run_pipeline

        with _progress() as progress:
            summary = run_pipeline(config, progress=RichProgress(progress))
    _print_summary(summary)


@app.command()
def run(
    out: Annotated[str, typer.Option(help="Output directory (a rerun there is incremental).")],
    input: Annotated[
        list[Path] | None,
        typer.Option("--input", "-i", help="Input file (repeatable); or sources in --config."),
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="Column with the text.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Column with the review id.")] = None,
    product_column: Annotated[str | None, typer.Option(help="Column with the product.")] = None,
    time_column: Annotated[str | None, typer.Option(help="Column with the time.")] = None,
    rating_column: Annotated[str | None, typer.Option(help="Column with the rating.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML config (sources may be given there).")
    ] = None,
    refit_topics: Annotated[bool, typer.Option(help="Refit topic models.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run the pipeline on files; columns are detected unless named."""
    _setup_logging(verbose)
    from voc.pipeline import run_pipeline

    columns = ColumnMap(
        text=text_column, id=id_column, product=product_column, time=time_column,
        rating=rating_column,
    )  # fmt: skip
    base = load_config(config) if config else VocConfig()
    sources = base.sources + tuple(SourceConfig(path=str(p), columns=columns) for p in input or ())
    if not sources:
        raise InputFileError("nothing to read: give --input FILE, or a --config with sources")
    settings = base.model_copy(
        update={"sources": sources, "publish": base.publish.model_copy(update={"out_dir": out})}
    )
    try:
        settings = VocConfig.model_validate(settings.model_dump())
    except ValidationError as exc:
        raise ConfigError("the command line", format_validation_error(exc)) from exc
    with _progress() as progress:
        summary = run_pipeline(settings, refit_topics=refit_topics, progress=RichProgress(progress))
    _print_summary(summary)


@app.command()
def classify(
    input: Annotated[Path, typer.Option("--input", "-i", help="CSV file with one unit per row.")],
    text_column: Annotated[str, typer.Option(help="Column with the text to label.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the CSV.")],
    taxonomy: Annotated[Path, typer.Option(help="Taxonomy YAML.")] = DEFAULT_TAXONOMY,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Label each row's text with category, polarity and confidence."""
    _setup_logging(verbose)
    from voc.classify import classify_file

    rows = classify_file(input, text_column, output, taxonomy)
    console.print(f"Labelled {rows} rows -> [bold]{output}[/]")


@app.command()
def train(
    labelled: Annotated[
        list[Path], typer.Option(help="CSV with text, category, polarity (repeatable).")
    ],
    output: Annotated[
        Path, typer.Option(help="Folder for model.npz and model.json.")
    ] = DEFAULT_MODEL_DIR,
    taxonomy: Annotated[Path, typer.Option(help="Taxonomy YAML.")] = DEFAULT_TAXONOMY,
    exemplars: Annotated[bool, typer.Option(help="Also train on the taxonomy's exemplars.")] = True,
    weak: Annotated[
        Path | None,
        typer.Option(help="Folder of public corpora for weak polarity labels (../shared/data)."),
    ] = None,
    holdout: Annotated[
        list[Path] | None,
        typer.Option(help="Labelled file kept for evaluation: its source rows stay out of --weak."),
    ] = None,
    finetune_base: Annotated[
        str,
        typer.Option(
            help="Encoder to fine-tune: m3e-small (a Chinese BERT, for non-commercial research"
            " use by its authors' terms) or use (multilingual USE, Apache 2.0: two copies,"
            " about 0.01 lower CV macro-F1). See README, 'Licences of the models'.",
        ),
    ] = "m3e-small",
    finetune_epochs: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Epochs of fine-tuning the encoder (default: 3 for m3e-small, 6 for use);"
            " 0 trains the regression alone, in a few minutes.",
        ),
    ] = None,
    unlabelled: Annotated[
        Path | None,
        typer.Option(
            help="CSV with a text column of unlabelled units: the model labels them and its"
            " confident labels train the first encoder again (self-training; 7,157 units add"
            " about 5 minutes on 2 cores). Measure it on your data: it raised the shipped"
            " model's CV macro-F1 by 0.005, then lowered it by 0.003 once the Taobao-style"
            " units trained (benchmarks/RESULTS.md).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train the supervised classifier on your labelled units; later runs use it."""
    _setup_logging(verbose)
    from voc.config import EmbedConfig
    from voc.embed import build_embedder
    from voc.taxonomy import load_taxonomy
    from voc.train import train as train_model

    model = train_model(
        labelled,
        load_taxonomy(taxonomy),
        build_embedder(EmbedConfig()),
        exemplars=exemplars,
        weak_data=weak,
        holdout=holdout or (),
        finetune_epochs=finetune_epochs,
        unlabelled=unlabelled,
        finetune_base=finetune_base,
    )
    model.save(output)
    console.print(f"Trained {model.name} on {model.n_train_} units -> [bold]{output}[/]")
    self_training = (model.finetune_recipe_ or {}).get("self_training")
    if self_training:
        console.print(
            f"  self-training: {self_training['kept']} of {self_training['unlabelled']} unlabelled"
            f" units labelled with confidence >= {self_training['min_confidence']}"
        )
    for name, digest in model.data_hashes_.items():
        console.print(f"  {name}  sha256 {digest}")


@app.command("eval")
def evaluate(
    labelled: Annotated[Path, typer.Option(help="CSV with text, category and polarity columns.")],
    taxonomy: Annotated[Path, typer.Option(help="Taxonomy YAML.")] = DEFAULT_TAXONOMY,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Score the classifier on hand-labelled units: P/R/F1, macro-F1, confusion, polarity."""
    import json

    from voc.classify import build_classifier, classify_texts
    from voc.evaluate import alternatives_summary, read_labelled, score

    _setup_logging(verbose)
    gold = read_labelled(labelled)
    classifier = build_classifier(taxonomy)
    predicted = classify_texts(gold["text"].tolist(), classifier)
    result = score(
        gold["category"].tolist(), predicted["category"].tolist(),
        gold["polarity"].tolist(), predicted["polarity"].tolist(),
        list(classifier.taxonomy.category_ids),
    )  # fmt: skip
    alternatives = alternatives_summary(gold, predicted, list(classifier.taxonomy.category_ids))
    if as_json:
        report = {"classifier": classifier.name, "units": len(gold), **result.to_dict()}
        if alternatives is not None:
            report["with_alternatives"] = {k: round(v, 4) for k, v in alternatives.items()}
        console.print_json(json.dumps(report))
        return
    table = Table(title=f"{classifier.name} on {labelled} ({len(gold)} units)")
    for column in ("category", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for category, row in result.per_category.iterrows():
        table.add_row(
            category,
            f"{row.precision:.2f}",
            f"{row.recall:.2f}",
            f"{row.f1:.2f}",
            str(int(row.support)),
        )
    console.print(table)
    console.print(
        f"macro-F1 {result.macro_f1:.3f}   category accuracy {result.category_accuracy:.3f}   "
        f"polarity accuracy {result.polarity_accuracy:.3f}"
    )
    if alternatives is not None:
        console.print(
            f"counting the second category of the {alternatives['units_with_alternative']}"
            f" ambiguous units (alt_category) as right too: macro-F1 {alternatives['macro_f1']:.3f}"
            f"   category accuracy {alternatives['category_accuracy']:.3f}"
        )
    confusion = Table(title="confusion: rows gold, columns predicted (initials)")
    confusion.add_column("gold")
    for category in result.confusion.columns:
        confusion.add_column(
            "".join(p[0] for p in category.split("_")) or category, justify="right"
        )
    for category, row in result.confusion.iterrows():
        confusion.add_row(category, *(str(v) for v in row))
    console.print(confusion)


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Output directory of `voc run`.")],
    to: Annotated[Path, typer.Option(help="Folder for CSV files, or the .xlsx file.")],
    format: Annotated[str, typer.Option("--format", "-f", help="csv or xlsx.")] = "csv",
    table: Annotated[
        list[str] | None,
        typer.Option(
            help="Table to export (repeatable): product_scorecard, daily_aggregates, alerts."
        ),
    ] = None,
) -> None:
    """Export the scorecard, daily aggregates and alerts as CSV or XLSX (formula-safe)."""
    from voc.export import EXPORTABLE
    from voc.export import export as export_tables

    written = export_tables(out, to, format, tuple(table) if table else EXPORTABLE)
    for path in written:
        console.print(f"Wrote [bold]{path}[/]")


@app.command()
def report(
    out: Annotated[Path, typer.Option(help="Output directory of `voc run`.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the HTML file.")
    ] = None,
    taxonomy: Annotated[Path, typer.Option(help="Taxonomy YAML.")] = DEFAULT_TAXONOMY,
) -> None:
    """Render the HTML report of the last published run again (e.g. to another path)."""
    from voc.publish import Store
    from voc.report import render_report
    from voc.taxonomy import load_taxonomy

    store = Store(out)
    tables = store.load().tables
    if tables["runs"].empty:
        raise StoreError(f"{store.root}: no published run here; run `voc run` first")
    run_id = str(tables["runs"]["run_id"].iloc[-1])
    target = output or store.root / f"report-{run_id}.html"
    target.write_text(render_report(tables, load_taxonomy(taxonomy), run_id), encoding="utf-8")
    console.print(f"Report of run {run_id} -> [bold]{target}[/]")


@app.command()
def publish(
    out: Annotated[Path, typer.Option(help="Output directory of `voc run`.")],
    to: Annotated[
        str | None,
        typer.Option(help="PostgreSQL DSN (postgresql://user:pw@host/db); else $VOC_POSTGRES_DSN."),
    ] = None,
    schema: Annotated[str, typer.Option(help="Schema to write the tables into.")] = "voc",
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Publish the last run's tables to a PostgreSQL schema, in one transaction."""
    _setup_logging(verbose)
    from voc.postgres import dsn_from, publish_to_postgres

    done = publish_to_postgres(out, dsn_from(to), schema)
    console.print(
        f"Published run {done.run_id} to schema [bold]{done.schema}[/] ({done.target}): "
        f"{sum(done.rows.values())} rows in {len(done.rows)} tables"
    )


@app.command()
def serve(
    config: Annotated[
        Path | None, typer.Option(help="YAML run config the flows use (else $VOC_CONFIG).")
    ] = None,
    cron: Annotated[str, typer.Option(help="Schedule of the nightly run (cron).")] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help="Timezone of the schedule.")] = "Asia/Shanghai",
    dask_address: Annotated[
        str | None, typer.Option(help="Dask scheduler for the embed and label tasks.")
    ] = None,
) -> None:
    """Register the nightly, adhoc and backfill deployments with the Prefect server; run them."""
    from pipelines.serve import serve_deployments  # Prefect lives in pipelines/, not in voc/

    serve_deployments(str(config) if config else None, cron, timezone, dask_address)


@taxonomy_app.command("check")
def taxonomy_check(
    path: Annotated[Path, typer.Argument(help="Taxonomy YAML.")] = DEFAULT_TAXONOMY,
) -> None:
    """Validate a taxonomy and report every problem at once."""
    from voc.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(path)
    table = Table(title=f"{path}: OK")
    for column in ("category", "中文", "priority", "seeds", "exemplars", "subtopics"):
        table.add_column(column)
    for c in taxonomy.categories:
        table.add_row(
            c.id, c.name_zh, str(c.priority), str(len(c.all_seeds)), str(len(c.all_exemplars)),
            str(len(c.subtopics)),
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(taxonomy.attributes)} attributes, {len(taxonomy.stopwords)} stop words")


def _print_summary(summary) -> None:
    table = Table(title=f"run {summary.run_id}")
    for column in ("source", "read", "published", "duplicates", "quarantined"):
        table.add_column(column, justify="right" if column != "source" else "left")
    for source, row in summary.accounting.items():
        table.add_row(
            source, *(str(row[k]) for k in ("read", "published", "duplicates", "quarantined"))
        )
    console.print(table)
    console.print(
        f"{summary.documents_new} new documents, {summary.units_new} new units "
        f"({summary.units_total} in total); {summary.embedded_new} texts sent to the embedding model"
        " (the rest came from the cache)."
    )
    if not summary.top_topics.empty:
        top = Table(title="Top topics")
        for column in ("category", "topic", "units", "negative"):
            top.add_column(column)
        for row in summary.top_topics.itertuples():
            top.add_row(row.category, str(row.label), str(row.units), str(row.negative))
        console.print(top)
    if not summary.alerts.empty:
        new = summary.new_alerts.sort_values("date", kind="stable")
        shown = new.tail(10)  # a first run over a long history raises many: the newest matter
        console.print(
            f"[bold red]差评预警 alerts:[/] {len(new)} new ({len(summary.alerts)} in all)"
            + (f", the newest {len(shown)}:" if len(shown) < len(new) else "")
        )
        for alert in shown.itertuples():
            cell = f"{alert.product} {alert.category}"
            if alert.topic_id != -1:
                cell += f" topic {alert.topic_id} {alert.topic_label}".rstrip()
            counted = "units" if alert.kind == "emerging_topic" else "negative"
            console.print(
                f"  {alert.date} {alert.kind} {cell}: {alert.observed:.0f}/{alert.units} {counted}"
                f" (expected {alert.expected:.1f}, p={alert.p_value:.1e}, {alert.severity})"
            )
    out = summary.out_dir
    console.print(f"\nResults in [bold]{out}[/]:")
    console.print(f"  DuckDB  {out / 'voc.duckdb'}")
    console.print(f"  Parquet {out / 'parquet'}")
    console.print(f"  Report  {out / 'report.html'}")


def main() -> None:
    """Console-script entry point: VocErrors become one line on stderr, exit 2."""
    try:
        app()
    except VocError as exc:
        errors.print(f"[red]error[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
