# One obvious command per job. Each creates .venv and installs pinned dependencies when needed.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# npm packages the tests drive (the AsyncAPI parser, jose): pinned by tools/node/package-lock.json.
NODE_STAMP := tools/node/node_modules/.installed-stamp
PYTEST_ARGS ?=

.PHONY: demo dev-up dev-down test lint bench chaos soak clean

$(STAMP): pyproject.toml constraints.txt setup.py consumer/_sales_event_reader.pyx
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $@

$(NODE_STAMP): tools/node/package.json tools/node/package-lock.json
	npm ci --prefix tools/node --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

## demo: the service end to end on embedded defaults (local PostgreSQL, Kafka mock cluster, BL stand-in)
demo: $(STAMP)
	$(VENV)/bin/dayclose-dev demo

## dev-up / dev-down: the local stack to try things by hand (docs/local.md); prints the environment to paste
dev-up: $(STAMP)
	$(VENV)/bin/dayclose-dev up

dev-down: $(STAMP)
	$(VENV)/bin/dayclose-dev down

## test: the whole suite (unit, integration against real services, e2e)
test: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff's rules, ruff's formatting (checked, not applied) and mypy --strict on every package and on the
## service tests' fakes (each checked against its port)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict --explicit-package-bases tests/unit/service/fakes/

bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

chaos: $(STAMP)
	$(PY) -m pytest tests/chaos -m chaos $(CHAOS_ARGS)

## soak: the long soak (docs/reliability.md): SOAK_KILLS (1000) SIGKILLs and every fault class, an independent
## checker; SOAK_SEED=n replays a seed
soak: $(STAMP)
	$(PY) -m pytest tests/chaos/test_soak.py -m soak -s $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tools/node/node_modules
