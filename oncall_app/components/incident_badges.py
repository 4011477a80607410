"""Incident status and priority labels, shared by the dashboard, the detail page and home."""

from __future__ import annotations

import reflex as rx

INCIDENT_STATUS_COLORS = {
    "OPEN": "red",
    "ACKNOWLEDGED": "amber",
    "RESOLVED": "green",
    "CLOSED": "gray",
}
PRIORITY_COLORS = {"P1": "red", "P2": "orange", "P3": "amber", "P4": "blue", "P5": "gray"}


def incident_status_badge(status: rx.Var[str], size: str = "2") -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(status, *INCIDENT_STATUS_COLORS.items(), "gray"),
        variant="solid",
        size=size,
        custom_attrs={"data-testid": "incident-status"},
    )


def priority_badge(priority: rx.Var[str]) -> rx.Component:
    return rx.cond(
        priority != "",
        rx.badge(
            priority,
            color_scheme=rx.match(priority, *PRIORITY_COLORS.items(), "gray"),
            variant="outline",
        ),
    )
