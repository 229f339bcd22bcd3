"""Notebooks in notebooks/ are executed against a real published DuckDB file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from voc.config import PublishConfig, SourceConfig, VocConfig
from voc.pipeline import run_pipeline

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, demo_dir, monkeypatch):
    config = VocConfig(
        sources=tuple(
            SourceConfig(path=str(demo_dir / f)) for f in ("reviews_shop_a.csv", "chats.tsv")
        ),
        publish=PublishConfig(out_dir=str(tmp_path / "out")),
    )
    run_pipeline(config, today=dt.date(2026, 11, 6))
    monkeypatch.setenv("VOC_DB", str(tmp_path / "out" / "voc.duckdb"))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert len(outputs) >= 4


def test_there_is_a_notebook():
    assert NOTEBOOKS, "notebooks/ should hold at least one exploration notebook"
