# Relais: `make run` sets up and starts everything; `make test` runs every test.
# Each step is a file target, so a second run only redoes what changed.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RASA := $(BIN)/rasa
PIP := $(PY) -m pip
PIN := -c requirements/constraints.txt -c requirements/lock.txt

# The variables every process of the stack runs with, in one file with the launcher.
include bot/child.env
export $(shell sed -n 's/^\([A-Z_]*\)=.*/\1/p' bot/child.env)
export PYTHONPATH := $(CURDIR)

DB := directory/relais.db
# The browser tests drive Debian's Chromium with Playwright (no browser download).
CHROMIUM := /usr/bin/chromium
# The scale-out tests start Debian's Redis themselves (tests/conftest.py RedisServer).
REDIS := /usr/bin/redis-server
DOMAIN_OUT := bot/domain/responses.yml
MODEL := models/relais.tar.gz
TRAIN_INPUTS := config.yml directory/textnorm.py directory/languages.yml $(shell find nlu bot/data bot/domain -name '*.yml' -o -name '*.py' 2>/dev/null) $(DOMAIN_OUT)
RASA_DATA := --config config.yml --domain bot/domain --data nlu bot/data

.PHONY: run test test-fast lint typecheck venv db domain train validate test-stories eval pytest bench audit lock clean

run: $(VENV)/.installed $(DB) $(DOMAIN_OUT) $(MODEL)
	$(PY) -m bot

test: $(VENV)/.installed lint typecheck $(DB) $(DOMAIN_OUT) $(MODEL) $(CHROMIUM) $(REDIS) validate test-stories eval pytest

# The inner loop: lint, types and the unit tier (no server, no browser), under a minute once built.
test-fast: $(VENV)/.installed lint typecheck $(DB) $(DOMAIN_OUT)
	$(PY) -m pytest -q -m unit tests

# ruff with pycodestyle, pyflakes, bugbear and import order (pyproject.toml).
lint: $(VENV)/.installed
	$(BIN)/ruff check .

# mypy on the directory library and the bot's Python (and what they import of nlu/).
typecheck: $(VENV)/.installed
	$(BIN)/mypy --ignore-missing-imports directory bot

venv: $(VENV)/.installed
db: $(DB)
domain: $(DOMAIN_OUT)
train: $(MODEL)

# Rasa 3.6 declares Python <3.11: rasa and rasa-sdk go in without their own
# dependency metadata, then their dependencies and ours come from the pinned
# lists (see README, "Dependencies").
$(VENV)/.installed: requirements/*.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	printf '[install]\nconstraint =\n    %s\n    %s\n' "$(CURDIR)/requirements/constraints.txt" "$(CURDIR)/requirements/lock.txt" > $(VENV)/pip.conf
	$(PIP) install --quiet --no-deps --ignore-requires-python -r requirements/rasa.txt
	$(PIP) install --quiet $(PIN) -r requirements/rasa-deps.txt
	$(PIP) install --quiet $(PIN) --no-build-isolation -e '.[dev]'
	touch $@

$(DB): $(VENV)/.installed $(wildcard directory/seed/*) $(wildcard directory/*.py) directory/languages.yml
	$(PY) -m directory build --db $@

$(DOMAIN_OUT): $(VENV)/.installed $(DB) $(wildcard bot/responses/*.yml bot/responses/translations/*.yml) bot/render.py
	$(PY) -m bot.render --db $(DB) --out $@

# How to train is said once, in bot/build_chain.py (the launcher retrains with it too).
$(MODEL): $(VENV)/.installed $(TRAIN_INPUTS)
	$(PY) -m bot.build_chain train

$(CHROMIUM):
	command -v apt-get >/dev/null || { echo "install Chromium (Debian package chromium) for the browser tests"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

$(REDIS):
	command -v apt-get >/dev/null || { echo "install Redis (Debian package redis-server) for the scale-out tests"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null

validate: $(VENV)/.installed $(DOMAIN_OUT)
	$(RASA) data validate $(RASA_DATA) --fail-on-warnings --max-history 3

test-stories: $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --no-plot --out results/core

# Intent accuracy, danger recall and false alarms on the held-out sets (docs/nlu-eval.md).
eval: $(MODEL)
	$(PY) -m tests.eval_nlu

pytest: $(VENV)/.installed $(DB) $(MODEL)
	$(PY) -m pytest -q tests

# Every benchmark runs even when an earlier one misses its target; the exit status says whether any did.
bench: $(VENV)/.installed $(DB) $(MODEL)
	@status=0; for b in bench bench_chat bench_load bench_languages bench_scale; do \
		$(PY) -m tests.$$b || { echo "tests.$$b: a target was missed"; status=1; }; done; exit $$status

# Refresh the full pin set after changing requirements/*.txt (needs the registry).
audit:
	test -x .venv-audit/bin/pip-audit || { $(PYTHON) -m venv .venv-audit && .venv-audit/bin/pip install -q pip-audit; }
	.venv-audit/bin/pip-audit --disable-pip --no-deps -r requirements/lock.txt

lock: $(VENV)/.installed
	{ head -n 2 requirements/lock.txt; $(PIP) freeze --exclude rasa --exclude rasa-sdk --exclude relais; } > requirements/lock.new
	mv requirements/lock.new requirements/lock.txt

clean:
	rm -rf $(VENV) models results .rasa $(DB) $(DOMAIN_OUT)
