# The two commands: `make run` serves the API (and runs its worker), `make test` runs the
# whole suite.
# Both create .venv and install what they need first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test setup-run setup-test audit

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.run-installed $@

setup-run: $(VENV)/.run-installed
	$(BIN)/python scripts/ensure_env.py
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

# Plain HTTP on loopback, so no HTTPS redirect or secure-only cookies; otherwise
# production's settings and gunicorn.conf.py.
# The Procfile's web and worker run together (scripts/run_local.py).
run: setup-run
	@echo
	@echo "Docs:  http://127.0.0.1:$(PORT)/api/docs/"
	@echo "Token for user demo-user (1 hour):"
	@$(BIN)/python manage.py issue_token demo-user --ttl 3600
	@echo "Try:   curl -H \"Authorization: Bearer <token>\" http://127.0.0.1:$(PORT)/api/me/tasks"
	@echo "MCP:   http://127.0.0.1:$(PORT)/mcp, with the token as a Bearer header (README: Agents)"
	@echo "Worker: reminders, pushes and the daily trash purge run beside the server; Ctrl-C stops both."
	@echo
	SECURE_HTTPS=false LOG_FORMAT=$${LOG_FORMAT:-plain} HOST=127.0.0.1 PORT=$(PORT) \
		$(BIN)/python scripts/run_local.py

# The real Better Auth server the interop tests start. Without npm, or without its
# registry, those tests are skipped (in CI they fail instead).
interop/node_modules/.installed: interop/package-lock.json
	@if ! command -v npm >/dev/null; then \
		echo "npm not found: the Better Auth interop tests will be skipped"; \
	elif npm ci --prefix interop --no-audit --no-fund --loglevel=error \
		--fetch-timeout=30000 --fetch-retries=1; then touch $@; \
	else echo "npm could not install interop/ (is its registry reachable?):" \
		"the Better Auth interop tests will be skipped"; fi

# The tests run on their own settings (todo_project/test_settings.py), never on .env.
setup-test: $(VENV)/.test-installed interop/node_modules/.installed

test: setup-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Known vulnerabilities in the pinned requirements (pip-audit, in a virtualenv of its
# own so that its dependencies never meet the service's): scripts/audit_dependencies.py.
.venv-audit/.installed: requirements-audit.txt
	$(PYTHON) -m venv .venv-audit
	.venv-audit/bin/pip install --quiet -r requirements-audit.txt
	touch $@

audit: .venv-audit/.installed
	.venv-audit/bin/python scripts/audit_dependencies.py
