# hotpatch.windows: `make demo` and `make test` each bootstrap what they need from the pinned requirements,
# build the collection tarball, install it under build/collections and run against that installed copy.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD ?= build
COLLECTIONS := $(CURDIR)/$(BUILD)/collections
INSTALLED := $(COLLECTIONS)/ansible_collections/hotpatch/windows
TARBALL = $(firstword $(wildcard $(BUILD)/dist/hotpatch-windows-*.tar.gz))

# The ansible-core releases meta/runtime.yml claims, tested at both ends (sanity and smoke test), each in its
# own venv under build/. ansible-core 2.20 and later need Python 3.12 or later: the first one found.
CORE_OLDEST := 2.16.19
CORE_NEWEST := 2.21.5
CORE_OLDEST_VENV := $(BUILD)/core-$(CORE_OLDEST)
CORE_NEWEST_VENV := $(BUILD)/core-$(CORE_NEWEST)
PYTHON_NEWEST ?= $(firstword $(foreach p,python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3),\
  $(shell $(p) -c 'import sys; sys.version_info >= (3, 12) and print(sys.executable)' 2>/dev/null)))

# `make demo`: only what the demo needs (ansible-core, pywinrm and the ansible.windows collection).
DEMO_VENV := $(BUILD)/demo-venv
# ansible.windows alone, out of the wheel of the `ansible` package the development venv pins, for the demo
# and the venvs of other ansible-core releases (tests/collection_deps.py)
DEPS := $(CURDIR)/$(BUILD)/collection-deps
ANSIBLE_PACKAGE := $(shell sed -n 's/^ansible==//p' requirements-dev.txt)

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export ANSIBLE_HOST_KEY_CHECKING := false
export ANSIBLE_NOCOLOR := true
export PATH := $(CURDIR)/$(BIN):$(PATH)

# Each step prints how long it took.
define timed
	@start=$$(date +%s); $(1); rc=$$?; echo "[time] $(2): $$(( $$(date +%s) - start )) s"; exit $$rc
endef

.PHONY: help venv collection chromium lint sanity sanity-run core-venvs test test-fast demo bench lab-start \
	lab-stop lab-wheel shell changelog clean

help:
	@echo "make demo      - set up (small venv), start the simulated fleet and run the main job on it"
	@echo "make test      - set up and run every test (lint, sanity, Galaxy import, docs, unit, lab, roles,"
	@echo "                 molecule, AWX, faults, smoke test on ansible-core $(CORE_OLDEST) and $(CORE_NEWEST))"
	@echo "make test-fast - the inner loop: ruff and the unit tests, no lab (under a minute)"
	@echo "make sanity    - ansible-test sanity of the tarball on ansible-core $(CORE_OLDEST) and $(CORE_NEWEST)"
	@echo "make bench     - performance benchmarks (tests/perf)"
	@echo "make lab-start / lab-stop - the simulated demo fleet on its own; make shell - a shell to use it"
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

# Debian's chromium for the report screenshot test (tests/integration/test_report_screenshot.py), installed when
# missing; where it cannot be installed (not root, no package) the test skips and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { echo "installing Debian's chromium for the report screenshot test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	    || echo "chromium could not be installed: the report screenshot test will be skipped"; }

# ansible-lint with its own HOME: a copy of the collection that molecule left in ~/.ansible/collections (any
# branch's) comes first in ansible-lint's search path and would hide this checkout's plugins.
lint: venv
	$(call timed,$(BIN)/ruff check . && $(BIN)/ruff format --check . && \
	  HOME=$(CURDIR)/$(BUILD)/lint-home $(BIN)/ansible-lint,lint (ruff + ansible-lint))

# A venv with one ansible-core and the control node's other requirements: $(call core_venv,python,version,dir)
define core_venv
	@test -n "$(1)" || { echo "ansible-core $(2) needs Python 3.12 or later, none found: set PYTHON_NEWEST"; exit 1; }
	rm -rf $(3)
	$(1) -m venv $(3)
	sed '/^ansible-core==/d' requirements.txt | $(3)/bin/python -m pip install --quiet ansible-core==$(2) -r /dev/stdin
	$(3)/bin/python tests/collection_deps.py $(ANSIBLE_PACKAGE) $(DEPS)
	touch $(3)/.installed
endef

$(CORE_OLDEST_VENV)/.installed: requirements.txt requirements-dev.txt
	$(call core_venv,$(PYTHON),$(CORE_OLDEST),$(CORE_OLDEST_VENV))

$(CORE_NEWEST_VENV)/.installed: requirements.txt requirements-dev.txt
	$(call core_venv,$(PYTHON_NEWEST),$(CORE_NEWEST),$(CORE_NEWEST_VENV))

core-venvs: $(CORE_OLDEST_VENV)/.installed $(CORE_NEWEST_VENV)/.installed

# ansible-test sanity of the tarball's content, on the oldest and newest ansible-core at once.
sanity: collection core-venvs
	@$(MAKE) --no-print-directory sanity-run

sanity-run:
	$(call timed,status=0; \
	  tests/sanity/run.sh $(CORE_OLDEST_VENV) $(TARBALL) $(BUILD) & oldest=$$!; \
	  tests/sanity/run.sh $(CORE_NEWEST_VENV) $(TARBALL) $(BUILD) & newest=$$!; \
	  wait $$oldest || status=1; wait $$newest || status=1; test $$status = 0,ansible-test sanity (both cores))

# The full suite CI runs: lint and sanity side by side, then pytest (Galaxy import, docs, the smoke test on
# both ansible-core ends, unit, lab, roles, molecule, AWX, faults).
test: collection core-venvs chromium
	$(call timed,$(MAKE) --no-print-directory -j 2 --output-sync=target lint sanity-run,lint and sanity)
	$(call timed,$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadfile --durations=25 tests,pytest)

# The inner loop, under a minute: ruff, the decision code, filters and action plugins (unit), the probe's
# PowerShell grammar and the declared collections. No lab, no other ansible-core, no ansible-lint, no sanity.
FAST_TESTS := tests/unit/plugins tests/unit/test_powershell_syntax.py tests/publish/test_requirements.py \
	tests/publish/test_packaging.py
test-fast: collection
	$(call timed,$(BIN)/ruff check . && $(BIN)/python -m pytest -p no:cacheprovider -n 2 -q $(FAST_TESTS),test-fast)

$(DEMO_VENV)/.installed: requirements.txt requirements-dev.txt
	@echo "[demo 1/4] a small venv for the demo: $(DEMO_VENV) (ansible-core, pywinrm; from requirements.txt)"
	@rm -rf $(DEMO_VENV) && $(PYTHON) -m venv $(DEMO_VENV)
	@$(DEMO_VENV)/bin/python -m pip install --quiet --progress-bar off -r requirements.txt
	@echo "[demo 2/4] the ansible.windows collection, taken out of the ansible $(ANSIBLE_PACKAGE) wheel"
	@$(DEMO_VENV)/bin/python tests/collection_deps.py $(ANSIBLE_PACKAGE) $(DEPS)
	@touch $@

demo: $(DEMO_VENV)/.installed
	@echo "[demo 3/4] building and installing this collection into $(COLLECTIONS)"
	@rm -rf $(BUILD)/dist $(COLLECTIONS)/ansible_collections/hotpatch && mkdir -p $(BUILD)/dist $(COLLECTIONS)
	@$(DEMO_VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD)/dist . >/dev/null
	@$(DEMO_VENV)/bin/ansible-galaxy collection install --no-deps --force -p $(COLLECTIONS) $(BUILD)/dist/hotpatch-windows-*.tar.gz >/dev/null
	@echo "[demo 4/4] the demo: two patch runs on 18 simulated hosts (a few minutes)"
	@PATH=$(CURDIR)/$(DEMO_VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS):$(DEPS) \
	  $(DEMO_VENV)/bin/python -m tests.demo

# Every benchmark runs; the exit status says whether any target failed.
bench: collection
	status=0; $(BIN)/python tests/perf/bench_filters.py || status=1; \
	$(BIN)/python tests/perf/bench_lab.py || status=1; \
	$(BIN)/python tests/perf/bench_assess.py --profile || status=1; \
	$(BIN)/python tests/perf/bench_rollout.py || status=1; \
	$(BIN)/python tests/perf/bench_year.py || status=1; exit $$status

# The simulated fleet on its own: `make lab-start`, then `source build/lab/env.sh` (or `make shell`) and
# point ansible at build/lab/inventory.yml.
lab-start: collection
	$(BIN)/python -m tests.lab start --fleet tests/lab/fleets/demo.yml --state $(BUILD)/lab
	@printf '%s\n' "# source this file: the ansible of this checkout and its built collection" \
	  "export PATH='$(CURDIR)/$(BIN)':\"\$$PATH\"" \
	  "export ANSIBLE_COLLECTIONS_PATH='$(COLLECTIONS)'" \
	  "export ANSIBLE_HOST_KEY_CHECKING=false" > $(BUILD)/lab/env.sh
	@echo "inventory: $(BUILD)/lab/inventory.yml  (stop with: make lab-stop)"
	@echo "to use it from your shell, run:  source $(BUILD)/lab/env.sh   (or: make shell)"

# A shell with the ansible of this checkout and the built collection (what build/lab/env.sh sets).
shell: collection
	@echo "ansible: $(CURDIR)/$(BIN); collections: $(COLLECTIONS); leave with 'exit'"
	@cd $(CURDIR) && exec $${SHELL:-/bin/bash} -i

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
