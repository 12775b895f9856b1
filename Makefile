# Two commands do all the set-up on a fresh Debian machine with Python 3.11:
#   make run   install, migrate, load the demo city, serve on http://127.0.0.1:8000 (SQLite in ./var)
#   make test  install, start a throwaway PostgreSQL, run the suite on SQLite and on PostgreSQL
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_AS_OF := 2017-07-10

.PHONY: run test install install-dev system-deps bench reliability lint clean screenshots run-services

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python venv module missing; installing python3-venv"; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv python3.11-venv && \
	  $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip uv

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/uv pip install --python $(BIN)/python -q -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/uv pip install --python $(BIN)/python -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian packages the tests drive for real: the browser, the proxy, the compose validator, the PDF reader.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run: install
	$(BIN)/citystat migrate
	CITYSTAT_AS_OF=$(DEMO_AS_OF) $(BIN)/citystat demo
	CITYSTAT_AS_OF=$(DEMO_AS_OF) $(BIN)/citystat notify
	CITYSTAT_AS_OF=$(DEMO_AS_OF) $(BIN)/citystat serve --host 127.0.0.1 --port 8000

# The production topology (docker-compose.yml) without Docker: PostgreSQL, the three services as separate processes
# and nginx in front, on loopback; http://127.0.0.1:8000. State in var/services/; Ctrl-C stops everything.
# RUN_SERVICES_ARGS="--port 8080 --no-demo" passes flags (infra/README.md).
run-services: install
	@missing=""; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	$(BIN)/python infra/dev/run_services.py $(RUN_SERVICES_ARGS)

test: install-dev system-deps
	bash infra/dev/run-tests.sh

# A PNG of every staff and public page at desktop and phone widths, from a throwaway demo city, into screenshots/.
screenshots: install-dev system-deps
	$(BIN)/python tools/screenshots.py

bench: install-dev system-deps
	@command -v wrk >/dev/null || { if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# Issue 9's reliability battery at full size on SQLite and PostgreSQL, one table (about 1.5 hours); make test runs
# each check at a reduced size. RELIABILITY_ARGS="--only crash,load --engines sqlite" picks some.
reliability: install-dev system-deps
	$(BIN)/python tools/reliability.py $(RELIABILITY_ARGS)

lint: install-dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var
