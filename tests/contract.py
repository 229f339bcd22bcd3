"""The label contract, read from ../shared/LABELS.md itself rather than copied by hand."""

from __future__ import annotations

import re
from pathlib import Path

LABELS_MD = Path(__file__).resolve().parents[1].parent / "shared" / "LABELS.md"


def _categories() -> frozenset[str]:
    rows = re.findall(
        r"^\| `([a-z_]+)` \|", LABELS_MD.read_text(encoding="utf-8"), flags=re.MULTILINE
    )
    return frozenset(rows)


CATEGORIES = _categories()
POLARITIES = frozenset({"positive", "negative", "neutral"})
assert len(CATEGORIES) == 7, f"expected the 7 categories of {LABELS_MD}, found {sorted(CATEGORIES)}"
