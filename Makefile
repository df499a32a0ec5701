# Two commands: `make run` and `make test`. Each sets up .venv first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := QUIZAPP_ENV=development $(BIN)/flask --app quizapp

.PHONY: run test install serve lint check bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## run: migrate the SQLite database, load the bank, make demo accounts and a class's
## simulated attempts (for the manager's console), serve on :5000
run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) bank import
	$(FLASK) demo accounts
	$(FLASK) demo seed-attempts
	QUIZAPP_ENV=development $(BIN)/gunicorn --bind 127.0.0.1:5000 --workers 2 --threads 4 \
		--access-logfile - 'quizapp:create_app()'

## test: run the whole suite (set TEST_DATABASE_URL to run it on PostgreSQL)
test: $(STAMP)
	$(BIN)/python -m pytest

## serve: production server (needs SECRET_KEY and DATABASE_URL in the environment)
# Sized for a class sitting the exam at once on a 2-core host: pages wait mostly on the
# database, so each worker process runs threads (WORKERS x THREADS requests at a time,
# 3 x 8 = 24 by default; about 2 workers per core). A request gets TIMEOUT seconds
# before its worker is replaced; on a restart, requests in flight get GRACE seconds to
# finish, so no acknowledged answer is cut off. Access logs are JSON lines on stdout.
WORKERS ?= 3
THREADS ?= 8
TIMEOUT ?= 30
GRACE ?= 30
ACCESS_LOG_FORMAT := {"time":"%(t)s","method":"%(m)s","path":"%(U)s","status":%(s)s,"ms":%(M)s,"bytes":"%(B)s","request_id":"%({x-request-id}o)s"}
serve: $(STAMP)
	$(BIN)/flask --app quizapp db upgrade
	$(BIN)/flask --app quizapp bank import
	$(BIN)/gunicorn --bind $${BIND:-0.0.0.0:8000} --workers $(WORKERS) --threads $(THREADS) \
		--worker-class gthread --timeout $(TIMEOUT) --graceful-timeout $(GRACE) --keep-alive 5 \
		--access-logfile - --access-logformat '$(ACCESS_LOG_FORMAT)' 'quizapp:create_app()'

lint: $(STAMP)
	$(BIN)/ruff check quizapp tests benchmarks

## bench: build a large synthetic dataset, measure the exam flow under gunicorn + wrk, the
## rules, the reports and the queries per page; writes benchmarks/RESULTS.md and
## benchmarks/results.json (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
bench: $(STAMP)
	-$(BIN)/python benchmarks/bench_exam.py
	$(BIN)/python benchmarks/run.py

check: $(STAMP)
	$(FLASK) bank check

clean:
	rm -rf $(VENV) instance .pytest_cache tests/gift/node_modules

## gift-harness: the GIFT parser (gift-pegjs, pinned in tests/gift) that tests/test_bank_gift.py
## checks the Moodle export with; installed again whenever its lockfile is newer
GIFT_MODULES := tests/gift/node_modules
.PHONY: gift-harness
gift-harness: $(GIFT_MODULES)
test: $(GIFT_MODULES)
$(GIFT_MODULES): tests/gift/package.json tests/gift/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/gift --no-audit --no-fund && touch $@; \
	else \
		echo "npm not found: tests/test_bank_gift.py will skip its gift-pegjs checks (CI fails them)"; \
	fi
