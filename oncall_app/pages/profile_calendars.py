"""The "Calendars" section of /profile (one-way sync of my shifts to Google or Outlook)."""

from __future__ import annotations

import reflex as rx

from oncall_app.state.calendars import CalendarsState as C
from oncall_app.state.calendars import ProviderRow


def _provider(row: ProviderRow) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.hstack(
                rx.text(row.label, weight="medium"),
                rx.badge(row.status, color_scheme=rx.cond(row.connected, "green", "gray")),
                spacing="2",
                align="center",
            ),
            rx.cond(
                row.last_synced != "",
                rx.text("last synced " + row.last_synced, size="1", color=rx.color("gray", 10)),
            ),
            rx.cond(
                row.last_error != "",
                rx.text(row.last_error, size="1", color=rx.color("red", 11), role="alert"),
            ),
            spacing="1",
            align="start",
        ),
        rx.spacer(),
        rx.cond(
            ~row.configured,
            rx.text("not set up on this platform", size="1", color=rx.color("gray", 10)),
            rx.cond(
                row.connected,
                rx.hstack(
                    rx.button(
                        "Sync now", size="1", variant="soft", on_click=C.sync_now(row.connection_id)
                    ),
                    rx.button(
                        "Disconnect",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=C.disconnect(row.connection_id),
                    ),
                ),
                rx.button("Connect", size="2", on_click=C.connect(row.provider)),
            ),
        ),
        width="100%",
        align="center",
        wrap="wrap",
        custom_attrs={"data-testid": "calendar-provider"},
    )


def calendars_section() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Calendars", size="4", as_="h2"),
            rx.text(
                "Push your on-call shifts (next 4 weeks, refreshed hourly) into your own "
                "calendar. OnCall stays the source of truth: events it created are replaced on "
                "every sync and removed when you disconnect.",
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.cond(C.outcome != "", rx.callout(C.outcome, icon="info", size="1")),
            rx.foreach(C.calendars, _provider),
            spacing="3",
            width="100%",
        ),
        width="100%",
        max_width="560px",
    )
