# Silta's one task runner. CI calls `make test` through .ci/run.
# Everything installs itself on first use: uv (into .tools/), the Python
# packages from uv.lock (into .venv/), the Kafka jars with Maven (into .cache/).

SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test contract check lint types bench chaos deps kafka-jars clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python python3
	touch $@

deps: $(VENV)/.synced  ## Python packages from the lock file
	@command -v java >/dev/null || { echo "Java is missing: apt-get install default-jdk-headless maven"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is missing: apt-get install maven"; exit 1; }

kafka-jars: deps  ## fetch the Apache Kafka broker jars with Maven (once)
	$(PY) -c "from pathlib import Path; from devinfra.kafka import fetch_kafka_jars; print(fetch_kafka_jars(Path('.cache')))"

run: kafka-jars  ## local Kafka + the service on SQLite, API on 127.0.0.1:8080; Ctrl-C stops all
	$(PY) -m devinfra.run

test: kafka-jars  ## every test: unit, integration (real Kafka + PostgreSQL), e2e
	$(PY) -m pytest

contract: kafka-jars  ## the REST contract only: problem documents, the fuzzed parameters, Schemathesis (all checks)
	$(PY) -m pytest tests/integration/test_rest_contract.py tests/integration/test_rest_fuzz.py tests/e2e/test_schemathesis.py

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: deps
	$(VENV)/bin/mypy

check: lint types test  ## lint, types and tests

bench: kafka-jars  ## end-to-end benchmark; prints figures (options: make bench BENCH_ARGS="--help")
	$(PY) -m bench.e2e $(BENCH_ARGS)

CHAOS_MESSAGES ?= 100000
CHAOS_SEED ?= 1
CHAOS_BROKERS ?= 3
chaos: kafka-jars  ## both-ways workload under seeded faults (CHAOS_MESSAGES, CHAOS_SEED, CHAOS_BROKERS 3 or 1); fails on anything lost, doubled or reordered
	CHAOS_MESSAGES=$(CHAOS_MESSAGES) CHAOS_SEED=$(CHAOS_SEED) CHAOS_BROKERS=$(CHAOS_BROKERS) $(PY) -m chaos

clean:
	rm -rf $(VENV) .tools .cache .silta .pytest_cache .mypy_cache .ruff_cache
