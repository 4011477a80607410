"""/outbox: page requests (who escalation paged); delivery is on /notifications."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.empty import empty_state, loading_row
from oncall_app.layout import page
from oncall_app.state.escalation_outbox import OutboxRow
from oncall_app.state.escalation_outbox import OutboxState as S


def _row(row: OutboxRow) -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.icon("phone_outgoing", size=16),
            rx.text(row.user_name, weight="medium", size="2"),
            rx.badge("level " + row.level.to_string(), color_scheme="violet", variant="soft"),
            rx.cond(row.repeat > 0, rx.badge("repeat " + row.repeat.to_string(), variant="soft")),
            rx.badge(row.status, variant="outline"),
            spacing="2",
            align="center",
            min_width="16em",
        ),
        rx.vstack(
            rx.link(
                "#" + row.incident_id.to_string() + " " + row.incident_title,
                href="/incidents/" + row.incident_id.to_string(),
                size="2",
                word_break="break-word",
            ),
            rx.text(row.reason, size="1", color=rx.color("gray", 11)),
            spacing="0",
            flex="1",
            min_width="12em",
        ),
        rx.text(
            rx.moment(row.created_at, format="MMM D, HH:mm:ss"),
            size="1",
            color=rx.color("gray", 11),
            white_space="nowrap",
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
        padding="0.6em 0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-testid": "outbox-row"},
    )


@page("/outbox", "Page requests", on_load=[S.load])
def outbox_page() -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.text(
                "Every page escalation makes is listed here (and on each incident's timeline). "
                "Each becomes one notification per verified contact method, following the "
                "person's rules. The embedded outbox provider's messages and provider health "
                "(platform admins) are on ",
                rx.link("Notifications", href="/notifications"),
                "; every delivery attempt is in the delivery log, GET /api/v1/notifications.",
            ),
            icon="info",
            color_scheme="blue",
            size="2",
        ),
        rx.el.label(
            rx.hstack(
                rx.checkbox(checked=S.mine_only, on_change=S.set_mine_only),
                rx.text("Only pages for me", size="2"),
                spacing="2",
                align="center",
            ),
        ),
        rx.cond(
            ~S.loaded,
            loading_row(),
            rx.cond(
                S.items.length() == 0,
                empty_state("inbox", "No page requests", "Escalation has not paged anyone yet."),
                rx.vstack(
                    rx.card(rx.foreach(S.items, _row), width="100%", padding="0"),
                    rx.cond(
                        S.more,
                        rx.button("Load more", variant="soft", on_click=S.load_more),
                        rx.text("No older page requests.", size="1", color=rx.color("gray", 10)),
                    ),
                    spacing="3",
                    width="100%",
                    align="center",
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )
