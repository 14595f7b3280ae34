# The README's commands. `make run` and `make test` create .venv and install on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS ?= constraints-ci.txt
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: run test test-all test-fast setup lint demo bench package package-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install -c $(CONSTRAINTS) -e '.[gui,dev,cluster]'
	# OCR models and code; --no-deps because it requires opencv-python, whose cv2 would replace the
	# headless one (its other requirements are in pyproject.toml)
	$(BIN)/python -m pip install -c $(CONSTRAINTS) --no-deps 'rapidocr-onnxruntime==1.4.4'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(BIN)/vsearch-gui

# tests/cluster runs in a pytest process of its own: an in-process Ray driver leaves native
# threads and reset signal handlers behind after ray.shutdown() (tests/cluster/conftest.py)
PYTEST := QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test: setup
	$(PYTEST) -m "not slow" -q --ignore=tests/cluster
	$(PYTEST) -m "not slow" -q tests/cluster

test-all: setup
	$(PYTEST) -q --ignore=tests/cluster
	$(PYTEST) -q tests/cluster

# ruff (with docstring rules on the core) and strict mypy on vsearch/ (ui/ relaxed by name):
# both configured in pyproject.toml; CI runs this before the tests
lint: setup
	$(BIN)/ruff check vsearch tests benchmarks
	$(BIN)/mypy

demo: setup
	$(BIN)/vsearch index ../shared/data/devset/videos
	$(BIN)/vsearch search "a dog runs on the grass"

bench: setup
	$(BIN)/python benchmarks/bench_index.py
	$(BIN)/python benchmarks/bench_search.py

clean:
	rm -rf $(VENV) build dist *.egg-info

# The double-clickable app (docs/PACKAGING.md): dist/vsearch/ with `vsearch` and `vsearch-gui`.
PKG_VENV ?= build/pkg-venv

$(PKG_VENV)/.installed: $(VENV)/.installed packaging/pkg-venv.sh
	sh packaging/pkg-venv.sh $(VENV) $(PKG_VENV)
	touch $@

package: $(PKG_VENV)/.installed
	$(PKG_VENV)/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
		--distpath dist --workpath build/pyinstaller packaging/vsearch.spec
	@du -sh dist/vsearch

package-test: setup
	$(BIN)/python packaging/smoke_test.py dist/vsearch
