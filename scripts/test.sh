#!/usr/bin/env bash
# Installs OnCall with its development tools and runs every check and test.
# Under CI=true the integration tests must find PostgreSQL and Redis (they fail instead of
# skipping) and the browser tests install Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --dev
source scripts/env.sh

if [ "${CI:-}" = "true" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the end-to-end tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi

echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy
echo "== import contracts"; lint-imports

echo "== pytest"
set +e
pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected nothing: that must never pass silently.
if [ "$status" -eq 5 ]; then
  echo "pytest ran no tests: failing" >&2
  exit 1
fi
exit "$status"
