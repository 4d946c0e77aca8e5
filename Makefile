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

.PHONY: help venv collection lint test demo bench lab-start lab-stop lab-wheel changelog clean

help:
	@echo "make demo   - set up, start the simulated fleet and run the main job on it"
	@echo "make test   - set up and run every test (lint, unit, lab, roles, molecule, AWX, faults)"
	@echo "make bench  - performance benchmarks (tests/perf)"
	@echo "make lab-start / lab-stop - the simulated demo fleet on its own"
	@echo "make lab-wheel - the lab as a package (hotpatch-lab) for your own tests"

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

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint --profile production

test: collection lint
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --durations=25 tests

demo: collection
	$(BIN)/python -m tests.demo

# Every benchmark runs; the exit status says whether any target failed.
bench: collection
	status=0; $(BIN)/python tests/perf/bench_filters.py || status=1; \
	$(BIN)/python tests/perf/bench_lab.py || status=1; \
	$(BIN)/python tests/perf/bench_assess.py --profile || status=1; \
	$(BIN)/python tests/perf/bench_year.py || status=1; exit $$status

# The simulated fleet on its own: `make lab-start`, then point ansible at build/lab/inventory.yml.
lab-start: collection
	$(BIN)/python -m tests.lab start --fleet tests/lab/fleets/demo.yml --state $(BUILD)/lab
	@echo "inventory: $(BUILD)/lab/inventory.yml  (stop with: make lab-stop)"

lab-stop: venv
	$(BIN)/python -m tests.lab stop --state $(BUILD)/lab

# The lab as a package of its own (hotpatch-lab) for users' tests: $(BUILD)/dist/hotpatch_lab-*.whl
lab-wheel: venv
	rm -rf $(BUILD)/lab-src && mkdir -p $(BUILD)/dist
	cp -r tests/lab $(BUILD)/lab-src && find $(BUILD)/lab-src -name __pycache__ -prune -exec rm -rf {} +
	$(BIN)/python -m pip wheel --quiet --no-deps -w $(BUILD)/dist $(BUILD)/lab-src

changelog: venv
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(BUILD) $(VENV) .pytest_cache .ruff_cache
