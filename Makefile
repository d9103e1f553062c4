# zquant entry points. Every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_BIN := $(shell command -v uv 2>/dev/null)
UV := $(if $(UV_BIN),$(UV_BIN),python3 -m uv)
PY := .venv/bin/python
PROTO_OUT := libs/proto/src
PROTO_FILES := $(shell find proto -name '*.proto')
# Vendored third-party protos keep their own import paths (`buf/validate/validate.proto`): proto/vendor is a root.
PROTO_VENDOR := proto/vendor

.PHONY: help install sandbox-prereqs browser-prereqs proto lint test bench demo up up-dist services clean

help:
	@echo "make demo      run the main flow on the embedded (all-in-one, SQLite) default"
	@echo "make test      lint + import contracts + unit/integration/contract/e2e tests (starts PostgreSQL/NATS)"
	@echo "make bench     benchmarks with ratios against their references"
	@echo "make up        all-in-one: every service in one process (foreground)"
	@echo "make up-dist   distributed: one process per service on PostgreSQL + NATS"
	@echo "make proto     regenerate Python stubs from proto/"

.venv/.synced: pyproject.toml uv.lock libs/*/pyproject.toml services/*/pyproject.toml
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	touch $@

install: .venv/.synced proto sandbox-prereqs browser-prereqs

# Backtest sandbox OS layers: bubblewrap, libseccomp (used through PyPI pyseccomp) and a dedicated
# unprivileged uid. Root only: a non-root service is already unprivileged (the pod is the boundary).
# A no-op once done.
sandbox-prereqs:
	@if [ "$$(id -u)" = 0 ]; then \
	  if ! command -v bwrap >/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/libseccomp.so.2 ]; then \
	    (apt-get update -qq && apt-get install -y -qq bubblewrap libseccomp2 >/dev/null) \
	      || echo "sandbox-prereqs: apt failed, the sandbox runs without the missing layers" >&2; \
	  fi; \
	  id -u zquant-sandbox >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin zquant-sandbox; \
	fi

# The backtest report's render test drives Debian's chromium through Python playwright's driver (never
# `playwright install`: no browser download). Root only, like sandbox-prereqs; without it the test fails, naming this.
browser-prereqs:
	@if [ "$$(id -u)" = 0 ] && [ ! -x /usr/bin/chromium ]; then \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
	    || echo "browser-prereqs: apt failed, the report render test will fail" >&2; \
	fi

proto: .venv/.synced $(PROTO_OUT)/.generated

$(PROTO_OUT)/.generated: $(PROTO_FILES) .venv/.synced
	rm -rf $(PROTO_OUT)/zquant $(PROTO_OUT)/buf && mkdir -p $(PROTO_OUT)
	$(PY) -m grpc_tools.protoc -I$(PROTO_VENDOR) -Iproto \
		--plugin=protoc-gen-mypy=.venv/bin/protoc-gen-mypy --plugin=protoc-gen-mypy_grpc=.venv/bin/protoc-gen-mypy_grpc \
		--python_out=$(PROTO_OUT) --mypy_out=quiet:$(PROTO_OUT) --grpc_python_out=$(PROTO_OUT) --mypy_grpc_out=quiet:$(PROTO_OUT) \
		$(PROTO_FILES)
	touch $@

lint: install
	.venv/bin/buf lint proto
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/lint-imports

services:
	bash tests/ensure-services.sh

# Two pytest workers (one per core), a test file per worker at a time: most tests wait on servers and polls.
# pytest exit 5 means no test ran: that is a failure here, not a pass.
test: install services lint
	.venv/bin/python -m pytest -p no:cacheprovider -n 2 --dist loadfile; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: install services
	for script in tests/bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

demo: install
	$(PY) -m zquant_kit.cli demo

up: install
	$(PY) -m zquant_kit.cli db upgrade all
	$(PY) -m zquant_kit.cli serve all

up-dist: install services
	$(PY) -m zquant_kit.cli serve-dist

clean:
	rm -rf .venv $(PROTO_OUT)/zquant $(PROTO_OUT)/buf $(PROTO_OUT)/.generated
