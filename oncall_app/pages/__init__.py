"""Every page module, imported so its routes register (Reflex requirement)."""

from oncall_app.pages import (
    api_keys,
    audit,
    home,
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
    "api_keys",
    "audit",
    "home",
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
