"""Shared fixtures. Environment set here keeps tests offline and quiet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Telemetry off and no hub downloads, whatever the machine has configured.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.fakes import HashingEmbedder
from voc.config import DEFAULT_TAXONOMY, DEMO_DIR
from voc.embed import EMBEDDERS
from voc.taxonomy import Taxonomy, load_taxonomy

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# A real PostgreSQL server (postgres_server, postgres_db), started only by tests using it.
pytest_plugins = ["tests.pg_server"]


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return load_taxonomy(DEFAULT_TAXONOMY)


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def fake_model(monkeypatch) -> HashingEmbedder:
    """Register the hashing embedder as model ``fake``, so configs can say ``model: fake``."""
    embedder = HashingEmbedder()
    monkeypatch.setitem(EMBEDDERS, "fake", lambda config, argument: embedder)
    return embedder


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return DEMO_DIR


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the tests expect ../shared/data beside the repo")
    return SHARED_DATA
