# binoval: `make run` runs the default workflow, `make test` the test suite.
# Both create .venv with a Python >= 3.12 (found by envs/find_python.sh: $PYTHON if set, else python3,
# python3.12/3.13 on PATH, else pyenv's) and install the locked dependencies first.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.binoval-installed
CORES ?= 2
PYTEST_ARGS ?= -m "not slow"

.PHONY: install run test test-all check clean

install: $(STAMP)

# A .venv left from an older Python is replaced, not reused.
$(STAMP): envs/requirements.txt pyproject.toml envs/find_python.sh
	@python=$$(sh envs/find_python.sh) || exit 1; \
	if ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		rm -rf $(VENV) && echo "creating $(VENV) with $$python" && "$$python" -m venv $(VENV); \
	fi
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
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check .
	$(BIN)/snakemake --lint
	$(BIN)/snakemake -n --quiet rules
	@for f in config/examples/*.yaml; do echo "dry-run with $$f"; $(BIN)/snakemake -n --quiet rules --configfile $$f || exit 1; done

clean:
	rm -rf results logs .snakemake
