# hotpatch.windows: `make demo` and `make test` each bootstrap .venv from the pinned requirements,
# build the collection tarball, install it under build/collections and run against that installed copy.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD ?= build
COLLECTIONS := $(CURDIR)/$(BUILD)/collections
INSTALLED := $(COLLECTIONS)/ansible_collections/hotpatch/windows

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export ANSIBLE_HOST_KEY_CHECKING := false
export ANSIBLE_NOCOLOR := true
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv collection chromium cores lint test demo bench lab-start lab-stop changelog clean

help:
	@echo "make demo   - set up, start the simulated fleet and run the main job on it"
	@echo "make test   - set up and run every test (lint, unit, lab, roles, molecule, AWX, faults)"
	@echo "make bench  - performance benchmarks (tests/perf)"
	@echo "make lab-start / lab-stop - the simulated demo fleet on its own"

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

# What users get is what is tested: build the tarball and install it.
collection: venv
	rm -rf $(BUILD)/dist $(COLLECTIONS)/ansible_collections/hotpatch
	mkdir -p $(BUILD)/dist $(COLLECTIONS)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist . >/dev/null
	$(BIN)/ansible-galaxy collection install --no-deps --force -p $(COLLECTIONS) $(BUILD)/dist/hotpatch-windows-*.tar.gz >/dev/null
	@echo "installed hotpatch.windows into $(COLLECTIONS)"

# Debian's chromium for the report screenshot test (tests/integration/test_report_screenshot.py), installed when
# missing; where it cannot be installed (not root, no package) the test skips and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium for the report screenshot test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	    || echo "chromium could not be installed: the report screenshot test will be skipped"; }

# The oldest and newest ansible-core the collection claims (meta/runtime.yml), each in its own venv under build/,
# for the tests that run the report role on them (tests/integration/test_report_cores.py; they skip without).
# ansible-core 2.20 and later need Python 3.12.
CORE_OLDEST ?= 2.16.19
CORE_NEWEST ?= 2.21.5
# python3.12 on PATH, else the one pyenv has (its shim answers only for enabled versions)
PYTHON_NEWEST ?= $(shell for p in python3.13 python3.12; do $$p -c '' >/dev/null 2>&1 && { echo $$p; exit; }; done; \
  for v in 3.13 3.12; do d=$$(pyenv prefix $$v 2>/dev/null) && [ -x "$$d/bin/python3" ] && { echo $$d/bin/python3; exit; }; done)

$(BUILD)/core-oldest/.installed:
	$(PYTHON) -m venv $(BUILD)/core-oldest
	$(BUILD)/core-oldest/bin/python -m pip install --quiet ansible-core==$(CORE_OLDEST)
	touch $@

$(BUILD)/core-newest/.installed:
	@if [ -n "$(PYTHON_NEWEST)" ]; then \
	  $(PYTHON_NEWEST) -m venv $(BUILD)/core-newest && \
	  $(BUILD)/core-newest/bin/python -m pip install --quiet ansible-core==$(CORE_NEWEST) && touch $@; \
	else echo "no Python 3.12 or later: ansible-core $(CORE_NEWEST) is not tested"; fi

cores: $(BUILD)/core-oldest/.installed $(BUILD)/core-newest/.installed

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# its own HOME: a copy of the collection that molecule left in ~/.ansible/collections (any branch's) comes
	@# first on ansible-lint's collections path and would hide modules added since
	mkdir -p $(BUILD)/lint-home
	HOME=$(CURDIR)/$(BUILD)/lint-home $(BIN)/ansible-lint --profile production

test: collection lint chromium cores
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --durations=25 tests

demo: collection
	$(BIN)/python -m tests.demo

# Every benchmark runs; the exit status says whether any target failed.
bench: collection
	status=0; $(BIN)/python tests/perf/bench_filters.py || status=1; \
	$(BIN)/python tests/perf/bench_lab.py || status=1; \
	$(BIN)/python tests/perf/bench_report.py || status=1; \
	$(BIN)/python tests/perf/bench_assess.py --profile || status=1; exit $$status

# The simulated fleet on its own: `make lab-start`, then point ansible at build/lab/inventory.yml.
lab-start: collection
	$(BIN)/python -m tests.lab start --fleet tests/lab/fleets/demo.yml --state $(BUILD)/lab
	@echo "inventory: $(BUILD)/lab/inventory.yml  (stop with: make lab-stop)"

lab-stop: venv
	$(BIN)/python -m tests.lab stop --state $(BUILD)/lab

changelog: venv
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(BUILD) $(VENV) .pytest_cache .ruff_cache
