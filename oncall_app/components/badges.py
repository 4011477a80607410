"""Small labels used across pages: roles, tags, health warnings, severities, key status."""

from __future__ import annotations

import reflex as rx

ROLE_COLORS = {"TEAM_ADMIN": "violet", "RESPONDER": "blue", "OBSERVER": "gray"}
SEVERITY_COLORS = {"HIGH": "red", "MEDIUM": "amber", "LOW": "gray", "CRITICAL": "red"}
STATUS_COLORS = {"active": "green", "revoked": "red", "expired": "gray"}


def _mapped(value: rx.Var[str], colors: dict[str, str], default: str) -> rx.Var[str]:
    return rx.match(value, *((k, v) for k, v in colors.items()), default)


def role_badge(role: rx.Var[str]) -> rx.Component:
    return rx.badge(
        role.replace("_", " "), color_scheme=_mapped(role, ROLE_COLORS, "gray"), variant="soft"
    )


def tag_badges(tags: rx.Var[list[str]], color: str) -> rx.Component:
    return rx.foreach(tags, lambda t: rx.badge(t, color_scheme=color, variant="outline"))


def severity_badge(severity: rx.Var[str]) -> rx.Component:
    return rx.badge(severity, color_scheme=_mapped(severity, SEVERITY_COLORS, "gray"))


def status_badge(status: rx.Var[str]) -> rx.Component:
    return rx.badge(status, color_scheme=_mapped(status, STATUS_COLORS, "gray"))


def warnings_list(warnings: rx.Var[list[str]]) -> rx.Component:
    return rx.foreach(
        warnings,
        lambda w: rx.callout(w, icon="triangle_alert", color_scheme="amber", size="1"),
    )


def warning_count(warnings: rx.Var[list[str]]) -> rx.Component:
    return rx.cond(
        warnings.length() > 0,
        rx.badge(
            rx.icon("triangle_alert", size=12),
            warnings.length().to_string() + " warning(s)",
            color_scheme="amber",
            title=warnings.join(" "),
        ),
        rx.badge("healthy", color_scheme="green", variant="soft"),
    )
