# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HELPDESK_INSTANCE_DIR ?= $(CURDIR)/instance

.PHONY: run test lint unit bench translations clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(BIN)/helpdesk db upgrade
	$(BIN)/helpdesk demo
	$(BIN)/helpdesk serve --host 127.0.0.1 --port 5000

lint: $(VENV)/.test-installed
	$(BIN)/ruff check helpdesk tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: $(VENV)/.test-installed
	$(BIN)/python -m bench

translations: $(VENV)/.test-installed
	scripts/translations.sh extract
	scripts/translations.sh compile

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
