"""The contracts tests check against: the labels of ../shared/LABELS.md (read from the file
itself rather than copied by hand) and the table schemas of voc/schemas.py."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from voc.schemas import TABLES

LABELS_MD = Path(__file__).resolve().parents[1].parent / "shared" / "LABELS.md"


def _categories() -> frozenset[str]:
    rows = re.findall(
        r"^\| `([a-z_]+)` \|", LABELS_MD.read_text(encoding="utf-8"), flags=re.MULTILINE
    )
    return frozenset(rows)


CATEGORIES = _categories()
POLARITIES = frozenset({"positive", "negative", "neutral"})
assert len(CATEGORIES) == 7, f"expected the 7 categories of {LABELS_MD}, found {sorted(CATEGORIES)}"


def contract_frame(name: str, columns: dict) -> pd.DataFrame:
    """A frame of table ``name``: the given columns, every other contracted column null."""
    frame = pd.DataFrame(columns)
    for column in TABLES[name].names:
        if column not in frame:
            frame[column] = None
    return frame
