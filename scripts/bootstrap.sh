#!/usr/bin/env bash
# Installs what OnCall needs into ./.venv (and bun for Reflex's frontend build), idempotently.
# Usage: scripts/bootstrap.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# PEP 735 dependency groups need pip >= 25.1.
.venv/bin/python -m pip install --quiet --upgrade "pip>=25.1"
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install --quiet -e . --group dev
else
  .venv/bin/python -m pip install --quiet -e .
fi

# Reflex builds the frontend with bun. Its own download cannot be relied on (it fetches from
# its own host), so bun comes from the npm registry: globally if it is there, else locally.
if ! command -v bun >/dev/null 2>&1 && [ ! -x .tools/node_modules/.bin/bun ]; then
  npm install --silent --no-audit --no-fund --prefix .tools bun >/dev/null
fi
