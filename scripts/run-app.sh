#!/usr/bin/env bash
# Installs OnCall and runs it on the embedded default (SQLite under ./data/, in-process jobs and
# events, outbox notifications) at http://localhost:3000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
source scripts/env.sh
oncall db upgrade
cat <<'MSG'

OnCall is starting at http://localhost:3000 (the first start builds the frontend: ~1 minute).
Create your first account from another terminal, then sign in with it:
  .venv/bin/oncall break-glass create --email you@example.org --name "Your Name"
  .venv/bin/oncall user promote --email you@example.org --platform-admin
  .venv/bin/oncall demo seed          # optional: demo people and teams

MSG
exec oncall serve
