"""The API app for the ingest benchmark's server processes (granian imports ``app``)."""

from backend.api.app import create_api
from backend.core.logging import configure_logging

# Production logging, quiet: per-request lines are debug-level in the ingest path anyway.
configure_logging(json_output=True, level="WARNING")
app = create_api()
