"""The HTTP API: a FastAPI app mounted into Reflex (``api_transformer``) on the UI's port."""

from __future__ import annotations

from fastapi import FastAPI

from backend.api import problems
from backend.api.middleware import RequestContextMiddleware
from backend.api.routes import (
    auth,
    calendar,
    health,
    idp_hooks,
    ingest,
    pagerduty_v2,
    remote_actions,
    sso,
    v1_alerts,
    v1_audit,
    v1_escalation_policies,
    v1_incidents,
    v1_integrations,
    v1_notifications,
    v1_schedules,
    v1_services,
    v1_teams,
    v1_user_notifications,
    v1_users,
    web_push,
)

API_ROUTERS = (
    health.router,
    auth.router,
    sso.router,
    idp_hooks.router,
    v1_teams.router,
    v1_users.router,
    v1_user_notifications.router,
    v1_audit.router,
    v1_services.router,
    v1_schedules.router,
    calendar.router,
    # Before ingest: /integrations/{id}/test must not be taken for a provider named "test".
    v1_integrations.router,
    ingest.router,
    pagerduty_v2.router,
    v1_alerts.router,
    v1_incidents.router,
    v1_escalation_policies.router,
    v1_escalation_policies.outbox_router,
    v1_notifications.router,
    web_push.router,
    remote_actions.router,
)


def create_api() -> FastAPI:
    """Build the API app. No work at import time; settings are read per request."""
    app = FastAPI(
        title="OnCall API",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    problems.install(app)
    for router in API_ROUTERS:
        app.include_router(router)
    # Added first, so it runs inside RequestContextMiddleware (request id, security headers).
    app.add_middleware(ingest.GenericAlertFastPath)
    app.add_middleware(RequestContextMiddleware)
    return app
