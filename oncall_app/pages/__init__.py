"""Every page module, imported so its routes register (Reflex requirement)."""

from oncall_app.pages import (
    alerts,
    api_keys,
    audit,
    home,
    integration_detail,
    integrations,
    login,
    placeholders,
    profile,
    schedule_detail,
    schedules,
    services,
    team_detail,
    teams,
    users,
)

__all__ = [
    "alerts",
    "api_keys",
    "audit",
    "home",
    "integration_detail",
    "integrations",
    "login",
    "placeholders",
    "profile",
    "schedule_detail",
    "schedules",
    "services",
    "team_detail",
    "teams",
    "users",
]
