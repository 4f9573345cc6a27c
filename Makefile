# onprem.llm developer entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.stamp-$(shell cat requirements/tools.txt requirements/constraints.txt | sha256sum | cut -c1-16)

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements/tools.txt requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements/tools.txt -c requirements/constraints.txt
	rm -f $(VENV)/.stamp-*; touch $@

venv: $(VENV_STAMP)  ## create ./.venv with the pinned tools

unit: venv  ## pytest unit tests (quick loop)
	$(BIN)/python -m pytest -q tests/unit

.PHONY: help venv unit
