from __future__ import annotations

import pandas as pd

from tests.contract import POLARITIES
from voc.weak import used_rows, weak_polarity_units


def test_used_rows_parses_labelled_sources():
    labelled = pd.DataFrame({"source": ["shopping:1576:4", "jddc:12:0", "shopping:7:1", "odd"]})
    # jddc sources count lines from 1, so line 12 is row position 11
    assert used_rows(labelled) == {"shopping": {1576, 7}, "jddc": {11}}
    assert used_rows(None) == {}
    mixed = pd.concat([labelled, pd.DataFrame({"text": ["好"]})], ignore_index=True)  # NaN source
    assert used_rows(mixed) == {"shopping": {1576, 7}, "jddc": {11}}


def test_weak_units_from_the_public_data(shared_data):
    units = weak_polarity_units(shared_data, per_source=300, seed=1)
    assert set(units["polarity"]) <= POLARITIES
    assert (units["category"] == "").all()  # polarity only
    assert len(units) > 800
    assert units["text"].str.len().max() <= 80
    assert (units["polarity"] == "neutral").sum() > 200  # customer chat turns


def test_excluded_rows_are_left_out(shared_data):
    everything = set(range(100_000))
    units = weak_polarity_units(
        shared_data, exclude={"shopping": everything, "waimai": everything}, per_source=200, seed=1
    )
    assert 150 < len(units) <= 200  # one-character turns are dropped
    assert set(units["polarity"]) == {"neutral"}  # only the chat turns are left
