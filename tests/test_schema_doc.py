"""docs/SCHEMA.md documents every published table and column of voc/schemas.py."""

from __future__ import annotations

import re
from pathlib import Path

from voc.publish import VIEWS
from voc.schemas import TABLES

SCHEMA_DOC = Path(__file__).resolve().parents[1] / "docs" / "SCHEMA.md"


def _documented() -> dict[str, list[str]]:
    """Table name -> the columns listed in its section's table."""
    tables: dict[str, list[str]] = {}
    current = None
    for line in SCHEMA_DOC.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"(#+) (\w+)$", line)
        if line.startswith("#"):
            current = heading.group(2) if heading and heading.group(1) == "###" else None
            if current:
                tables[current] = []
        elif current and line.startswith("| "):
            tables[current].append(line.split("|")[1].strip())
    # drop each section's header row and the "| :--- |" row under it
    return {name: rows[2:] for name, rows in tables.items()}


def test_every_table_and_column_is_documented_in_order():
    documented = _documented()
    assert set(documented) == set(TABLES)
    for name, schema in TABLES.items():
        assert documented[name] == schema.names, name


def test_every_view_is_documented():
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    for view in VIEWS:
        assert f"| {view} |" in text
