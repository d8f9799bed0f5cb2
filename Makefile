# sioless: the two commands a fresh machine needs are `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
# The app, the offline stack and the tests run on Python 3.13 (the Functions worker runtime needs it):
# scripts/find-python313.sh looks on PATH and under pyenv; `make PYTHON313=/path/to/python3.13` overrides.
export PYTHON313

.PHONY: setup setup-python venv-python setup-node setup-browser run test test-fast lint bench clean

setup: setup-python setup-node setup-browser

setup-python: venv-python .venv/.installed
# A .venv from another Python (an older checkout) is replaced, not reused.
venv-python:
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then \
	  echo "Replacing .venv: it is not Python 3.13"; rm -rf .venv; fi
.venv/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || { py=$$(scripts/find-python313.sh) && "$$py" -m venv .venv; }
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	@touch $@

setup-node: node_modules/.package-lock.json web/vendor/socket.io.min.js
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The pages serve the stock socket.io-client bundle from web/vendor/ (node_modules is never deployed).
web/vendor/socket.io.min.js: node_modules/.package-lock.json
	mkdir -p web/vendor && cp node_modules/socket.io-client/dist/socket.io.min.js $@

# Debian's Chromium for the browser tests (playwright-core drives it; it never downloads a browser).
setup-browser:
	@command -v chromium >/dev/null 2>&1 || scripts/install-chromium.sh

# The offline stack: Azurite + emulator + dev host, with the sample pages.
run: setup-python setup-node
	$(PY) -m devhost.stack

test: setup
	$(PY) -m pytest

test-fast: setup-python
	$(PY) -m pytest tests/unit tests/contract

lint: setup-python
	.venv/bin/ruff check .
	.venv/bin/mypy

# Every benchmark script (benchmarks/_*.py are their helpers), then ONE summary table of the recorded figures.
BENCH_RESULTS := test-artifacts/bench-results.jsonl
bench: setup
	@mkdir -p test-artifacts && rm -f $(BENCH_RESULTS)
	@for f in benchmarks/[a-z]*.py; do echo "== $$f"; SIOLESS_BENCH_RESULTS=$(BENCH_RESULTS) $(PY) $$f || exit 1; done
	@$(PY) benchmarks/_summary.py $(BENCH_RESULTS)

clean:
	rm -rf .venv node_modules .azurite test-artifacts .pytest_cache .mypy_cache .ruff_cache
