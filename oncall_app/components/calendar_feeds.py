"""Secret iCalendar feed URLs: the new URL shown once, and the list of live feeds with Revoke
(the schedules list's personal feed and a schedule's own feed)."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.shown_once import shown_once
from oncall_app.state.schedules import FeedRow


def feed_url_once(url: rx.Var[str], on_hide: rx.EventHandler) -> rx.Component:
    """The secret URL of a new feed, shown once, with a copy button."""
    return shown_once(
        url, on_hide, "Subscribe to this URL in your calendar. It is shown only once.", "feed-url"
    )


def feed_list(rows: rx.Var[list[FeedRow]], revoke: rx.EventHandler) -> rx.Component:
    def one(row: FeedRow) -> rx.Component:
        return rx.hstack(
            rx.icon("calendar_sync", size=16),
            rx.text(row.label, weight="medium", size="2"),
            rx.text(
                "created " + row.created + " · last fetched " + row.last_used,
                size="1",
                color=rx.color("gray", 10),
            ),
            rx.spacer(),
            rx.button(
                "Revoke",
                size="1",
                color_scheme="red",
                variant="soft",
                on_click=revoke(row.id),
            ),
            align="center",
            width="100%",
            wrap="wrap",
            custom_attrs={"data-testid": "feed-row"},
        )

    return rx.vstack(rx.foreach(rows, one), spacing="2", width="100%")
