# binoval: `make run` runs the default workflow, `make test` the test suite.
# Both create .venv and install the pinned dependencies first (Python 3.11+ and pip needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.binoval-installed
CORES ?= 2
PYTEST_ARGS ?= -m "not slow"

.PHONY: install run test test-all check clean

install: $(STAMP)

$(STAMP): envs/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r envs/requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: install
	$(BIN)/snakemake --cores $(CORES)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-all: install
	$(BIN)/python -m pytest

check: install
	$(BIN)/snakemake --lint
	$(BIN)/snakemake -n --quiet rules
	@for f in config/examples/*.yaml; do echo "dry-run with $$f"; $(BIN)/snakemake -n --quiet rules --configfile $$f || exit 1; done

clean:
	rm -rf results logs .snakemake
