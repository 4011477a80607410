"""The API app for the benchmarks' server processes (granian imports ``app``).

The HTTP API of the production composition root (``oncall_app/oncall_app.py``) without the
Reflex UI: the benchmarks measure the API, and the UI's websocket benchmark runs its own app.
"""

from backend.api.app import create_api
from backend.core.logging import configure_logging
from jobs.broker import setup_broker

# Production logging, quiet: per-request lines are debug-level in the ingest path anyway.
configure_logging(json_output=True, level="WARNING")
# As the production app's lifespan does: enqueued jobs (escalation steps) go to the Redis
# broker of the settings; without this Dramatiq would fall back to a broker of its own choice.
setup_broker()
app = create_api()
