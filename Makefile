# The two commands: `docker compose up` runs the phone line; `make test` sets up and tests it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: eval eval-fake setup deps test compose-test lint dev seed bench bench-quick bench-board board screenshots console clean lock mutation mutation-sample

# Exactly the versions CI tested: pinned and hashed, generated from pyproject.toml (`make lock`).
$(STAMP): requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

## lock: re-pin every dependency after changing pyproject.toml (then commit both locks)
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --no-header --quiet
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(LOCK) -o requirements.txt
	$(LOCK) --extra dev -o requirements-dev.lock

## deps: apt packages, the Go-built LiveKit server and SIP binaries and FreeSWITCH (all cached)
deps:
	bash scripts/install_deps.sh

## setup: everything the tests and `make dev` need
setup: deps $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .

## test: set up, lint, and run every test (the real emulator, LiveKit, LiveKit SIP and SIPp; in two
## halves side by side, scripts/test_shards.py),
## then `docker compose up` for real (compose-test), then a small random sample of mutants (so
## a new unguarded change cannot slip in unseen)
test: setup lint
	$(PY) scripts/test_shards.py
	$(MAKE) compose-test
	$(MAKE) mutation-sample

## compose-test: `docker compose up` with docker-compose.yml, for real (scripts/compose_ci.py):
## local stand-ins for the public images, every health check, SIP and board (HTTPS) probes from
## 127.0.0.1, a softphone's order call through the stack (timeline printed), the database kept
## across a stop; then down -v (layers cached in ~/.cache/phoneline)
compose-test: setup
	$(PY) scripts/compose_ci.py

## mutation: every mutant of the modules that guard money, seats, identity and privacy;
## writes docs/mutation.md (about an hour on 2 cores; `--only pricing ids` for a part)
mutation: setup
	$(PY) scripts/mutation.py

## mutation-sample: what CI runs, ~4 minutes: random mutants of the targets, in an order drawn
## from the commit, until the budget is spent
# The seed comes from the commit: CI draws the same sample for the same code (a red sample is
# reproducible on any machine: `make mutation-sample MUTATION_SEED=<the seed it printed>`), and
# the next commit draws another, so no target is left out for good by the budget.
MUTATION_SEED ?= commit
mutation-sample: $(STAMP)
	$(PY) scripts/mutation.py --sample 10 --budget 240 --seed $(MUTATION_SEED)

## eval: the caller scenarios (tests/evals/scenarios.yaml) against the real model: OPENAI_API_KEY,
## OPENAI_MODEL (the agents), EVAL_CALLER_MODEL and EVAL_JUDGE_MODEL (default OPENAI_MODEL);
## writes tests/evals/results.md. ONLY=<id prefixes> runs some.
eval: $(STAMP)
	$(PY) -m tests.evals $(if $(ONLY),--only $(ONLY))

## eval-fake: the same harness on the fake model with the scripted caller turns (what CI runs)
eval-fake: $(STAMP)
	$(PY) -m tests.evals --fake $(if $(ONLY),--only $(ONLY))

## dev: the whole phone system natively (redis, LiveKit, LiveKit SIP, Firestore emulator, worker)
# `make dev DEVSTACK_ARGS="--fakes tests/telephony/softphone_order_call.yaml"` passes flags on
dev: setup
	$(PY) scripts/devstack.py $(DEVSTACK_ARGS)

## seed: load the sample menu into the configured Firestore
seed: $(STAMP)
	$(PY) scripts/seed_menu.py data/menu.yaml

console: $(STAMP)
	$(PY) main.py console --text

bench: setup
	$(PY) -m bench

bench-quick: setup
	$(PY) -m bench --quick

## bench-board: confirm -> visible on an open staff board, and page load times (chromium)
bench-board: setup
	$(PY) -m bench.board

## board: the staff board alone, on the configured Firestore (http://127.0.0.1:8090)
board: $(STAMP)
	$(PY) -m services.board

## screenshots: run the board's browser tests and refresh docs/board/*.png for the README
screenshots: setup
	BOARD_SCREENSHOTS_TO_DOCS=1 $(PY) -m pytest -q -p no:cacheprovider tests/board

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
