.DEFAULT_GOAL := help
SHELL := /bin/bash
ENV := source scripts/env.sh &&

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: ## Install the app and the development tools into .venv
	bash scripts/bootstrap.sh --dev

dev: ## Run the app on the embedded default at http://localhost:3000
	bash scripts/run-app.sh

worker: ## Run Dramatiq worker processes (needs ONCALL_REDIS__URL)
	$(ENV) oncall worker

check: ## Lint, format check, types and import contracts
	$(ENV) ruff check . && ruff format --check . && mypy && lint-imports

test: ## Every check and test (the README's command)
	bash scripts/test.sh

test-fast: ## Unit, service and API tests only
	$(ENV) pytest tests/unit tests/service tests/api -q

bench: ## Every benchmark on PostgreSQL + Redis + workers (ARGS=--quick for a smoke run)
	@command -v wrk >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; }
	$(ENV) python bench/run_all.py $(ARGS)

chaos: ## 10-minute soak at 200 alerts/s with random worker kills, then the books (docs/reliability.md)
	$(ENV) ONCALL_SOAK_SECONDS=$${ONCALL_SOAK_SECONDS:-600} ONCALL_SOAK_RATE=$${ONCALL_SOAK_RATE:-200} \
	  ONCALL_SOAK_API_WORKERS=$${ONCALL_SOAK_API_WORKERS:-2} \
	  pytest tests/reliability/test_soak.py -q -s -o timeout=3600

migrate: ## Apply migrations
	$(ENV) oncall db upgrade

revision: ## New migration: make revision m="what changed"
	$(ENV) alembic revision --autogenerate -m "$(m)"

.PHONY: help install dev worker check test test-fast bench chaos migrate revision
