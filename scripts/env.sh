# Sourced by the run and test scripts: the environment Reflex and the app expect.
export PATH="$PWD/.venv/bin:$PWD/.tools/node_modules/.bin:$PATH"
export REFLEX_USE_SYSTEM_BUN=1
export REFLEX_TELEMETRY_ENABLED=false
