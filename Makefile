# cxpulse: `make` alone lists the targets. Everything runs from the project's own .venv.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
WAREHOUSE ?= data/warehouse.duckdb
PARAMS ?= params
DATE ?=
# The demo data ends here, so `make demo` renders the same reports on every machine;
# params/annotations.yaml notes the outage the demo places ten days before it.
DEMO_END ?= 2026-11-20T08:00
REPORTS ?= reports
SEND_FLAGS ?=
# `make test` runs the suite on every core (pytest-xdist; measured times in the README's
# Development section). Each worker starts on a long test module (tests/conftest.py) and
# idle workers steal queued tests, so the run does not end on one long test. TEST_WORKERS=1:
# one process.
TEST_WORKERS ?= auto

# Every variable a recipe passes on is checked here, before any shell sees it. Its text is
# taken literally ($(value): make expands nothing in it, so '$$(shell ...)' stays text);
# paths must not hold a single quote, because recipes pass them as one quoted word; DATE
# and DEMO_END must be dates, SEND_FLAGS known flags and TEST_WORKERS a number or auto.
PATH_VARIABLES := PYTHON VENV WAREHOUSE PARAMS REPORTS
$(foreach v,$(PATH_VARIABLES) DATE DEMO_END SEND_FLAGS TEST_WORKERS,$(eval override $v := $$(value $v)))
$(foreach v,$(PATH_VARIABLES),$(if $(findstring ',$($v)),\
  $(error $v must not contain a single quote, got: $($v))))
ifneq ($(words $(VENV)),1)
$(error VENV must be one path without spaces, got: $(VENV))
endif
# The shape of a value: each digit becomes D (2026-11-19 -> DDDD-DD-DD).
shape = $(subst 0,D,$(subst 1,D,$(subst 2,D,$(subst 3,D,$(subst 4,D,$(subst 5,D,$(subst 6,D,$(subst 7,D,$(subst 8,D,$(subst 9,D,$1))))))))))
ifneq ($(DATE),)
ifneq ($(call shape,$(DATE)),DDDD-DD-DD)
$(error DATE must be a day as YYYY-MM-DD, e.g. DATE=2026-11-19; got: $(DATE))
endif
endif
ifneq ($(call shape,$(DEMO_END)),DDDD-DD-DD)
ifneq ($(call shape,$(DEMO_END)),DDDD-DD-DDTDD:DD)
$(error DEMO_END must be YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC), e.g. DEMO_END=2026-11-20T08:00; got: $(DEMO_END))
endif
endif
ifneq ($(TEST_WORKERS),auto)
ifneq ($(words $(TEST_WORKERS)) $(subst D,,$(call shape,$(TEST_WORKERS))),1 )
$(error TEST_WORKERS must be a number of processes or auto, e.g. TEST_WORKERS=1; got: $(TEST_WORKERS))
endif
endif
SEND_FLAG_CHOICES := --dry-run --force --no-render
ifneq ($(filter-out $(SEND_FLAG_CHOICES),$(SEND_FLAGS)),)
$(error SEND_FLAGS may hold $(SEND_FLAG_CHOICES); got: $(SEND_FLAGS))
endif

BIN := $(VENV)/bin
CX := $(BIN)/cxpulse
STAMP := $(VENV)/.installed
AS_OF := $(if $(DATE),--as-of $(DATE),)
# One cxpulse process per scheduled run: ingest the inbox, render, gate, e-mail (one at a time).
SEND = '$(CX)' send --ingest --warehouse '$(WAREHOUSE)' --params '$(PARAMS)' --reports '$(REPORTS)' $(AS_OF) $(SEND_FLAGS)

.PHONY: help install upgrade-lock demo sentiment-model test lab daily weekly monthly quarterly annual watch status clean lint bench bench-smoke browser java spark test-spark bench-large bench-engines

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Every package is installed at the version in constraints.txt (the last versions the suite
# passed with); a new upstream release changes nothing until `make upgrade-lock`.
LOCK := constraints.txt
PIP_QUIET = 2>&1 | { grep -v 'is ignored: it is neither' || true; }

$(STAMP): pyproject.toml $(LOCK)
	'$(PYTHON)' -m venv '$(VENV)'
	'$(BIN)/pip' install --quiet -c $(LOCK) pip $(PIP_QUIET)
	'$(BIN)/pip' install --quiet -c $(LOCK) -e '.[dev]' $(PIP_QUIET)
	@touch $@

install: $(STAMP) ## create .venv and install cxpulse with its test tools (versions from constraints.txt)

upgrade-lock: ## re-resolve every dependency to its newest release and rewrite constraints.txt (then: make test)
	rm -rf '$(VENV)/.upgrade' && '$(PYTHON)' -m venv '$(VENV)/.upgrade'
	'$(VENV)/.upgrade/bin/pip' install --quiet --upgrade pip $(PIP_QUIET)
	'$(VENV)/.upgrade/bin/pip' install --quiet '.[dev,spark]' $(PIP_QUIET)
	{ sed -n '1,/^pip==/{/^pip==/!p}' $(LOCK); \
	  '$(VENV)/.upgrade/bin/pip' --version | awk '{print "pip==" $$2}'; \
	  '$(VENV)/.upgrade/bin/pip' freeze --exclude-editable | grep -v '^cxpulse[= @]'; } > $(LOCK).new
	mv $(LOCK).new $(LOCK) && rm -rf '$(VENV)/.upgrade'
	@echo "constraints.txt rewritten: run 'make test', then commit it with pyproject.toml"

# chromium: the browser test; poppler-utils: PDF checks; fonts-dejavu-core: the reports'
# font; fonts-noto-color-emoji: the emoji customers write (blank boxes in PDFs without it);
# libharfbuzz-subset0: WeasyPrint subsets fonts with it (0.2 s less per PDF than its
# fontTools fallback).
DEBIAN_PACKAGES := chromium poppler-utils fonts-dejavu-core fonts-noto-color-emoji libharfbuzz-subset0

browser: ## install the Debian packages reports and tests use (chromium, poppler, fonts) when missing
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing" $$missing "(apt-get)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    $$missing >/dev/null; \
	fi

# Spark (engine: spark, make test-spark): the `spark` extra (pyspark, Ibis' PySpark backend)
# and a Java runtime; Spark 4.0 runs on Java 17 or 21, Debian's default-jre-headless.
SPARK_STAMP := $(VENV)/.spark-installed
JAVA_PACKAGES := default-jre-headless

$(SPARK_STAMP): $(STAMP) pyproject.toml $(LOCK)
	'$(BIN)/pip' install --quiet -c $(LOCK) -e '.[dev,spark]' $(PIP_QUIET)
	@touch $@

java: ## install Java for Spark (Debian default-jre-headless) when no java is on PATH
	@if ! command -v java >/dev/null 2>&1; then \
	  echo "installing" $(JAVA_PACKAGES) "(apt-get)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    $(JAVA_PACKAGES) >/dev/null; \
	fi

spark: $(SPARK_STAMP) java ## install what the Spark engine needs: the spark extra and Java

demo: $(STAMP) browser ## generate the seeded demo data, ingest it, render the five reports
	'$(CX)' demo --warehouse '$(WAREHOUSE)' --end $(DEMO_END)
	'$(CX)' run daily weekly monthly quarterly annual --warehouse '$(WAREHOUSE)' --params '$(PARAMS)' $(AS_OF)

sentiment-model: $(STAMP) ## train the care-text sentiment model from ../shared/data and print its held-out figures
	'$(BIN)/python' -m cxpulse.sentiment_train

test: $(STAMP) browser spark ## run the whole test suite, Spark's included, on every core (TEST_WORKERS=1: one process)
	'$(BIN)/python' -m pytest -n $(TEST_WORKERS) --dist worksteal

test-spark: spark ## only the tests that run the metrics on Spark beside DuckDB (about 6 min)
	'$(BIN)/python' -m pytest -m spark

lint: $(STAMP) ## ruff check and format check
	'$(BIN)/ruff' check lib tests
	'$(BIN)/ruff' format --check lib tests

# Containers run as root, which JupyterLab refuses without --allow-root.
ALLOW_ROOT = $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP) ## open JupyterLab on the notebooks (with --allow-root as root)
	'$(BIN)/jupyter' lab notebooks/ $(ALLOW_ROOT)

daily: $(STAMP) ## ingest the inbox, render and e-mail the daily brief (DATE=, SEND_FLAGS=--dry-run)
	$(SEND) daily

weekly: $(STAMP) ## ingest the inbox, render and e-mail the weekly review (DATE= a day of the week)
	$(SEND) weekly

monthly: $(STAMP) ## ingest the inbox, render and e-mail the monthly review (DATE= a day of the month)
	$(SEND) monthly

quarterly: $(STAMP) ## ingest the inbox, render and e-mail the quarterly review (DATE= a day of it)
	$(SEND) quarterly

annual: $(STAMP) ## ingest the inbox, render and e-mail the annual review (DATE= a day of the year)
	$(SEND) annual

watch: $(STAMP) ## ingest the inbox and push the alerts of params/alerts.yaml, once per episode (cron: every 5 min)
	'$(CX)' watch --warehouse '$(WAREHOUSE)' --params '$(PARAMS)' --reports '$(REPORTS)'

bench: $(STAMP) browser ## benchmark ingest and reports against the targets (about 5 min; bench/results.json)
	'$(BIN)/python' bench/run.py

bench-large: $(STAMP) spark ## 100M rows: report times and RSS, daily 10M->100M, Spark beside DuckDB (hours; bench/large.json)
	'$(BIN)/python' bench/large.py

bench-engines: $(STAMP) spark ## the real samples' figures on DuckDB and on Spark side by side (about 1 min; bench/engines.md)
	'$(BIN)/python' bench/engines.py --out bench/engines.md

bench-smoke: $(STAMP) ## the benchmark on small sizes, once each (under a minute)
	'$(BIN)/python' bench/run.py --smoke

status: $(STAMP) ## what the warehouse holds
	'$(CX)' status --warehouse '$(WAREHOUSE)'

clean: ## remove generated data and reports (keeps .venv)
	rm -rf data/demo data/warehouse.duckdb data/warehouse.duckdb.lock data/warehouse.duckdb.wal
	find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
