"""/audit: who did what, newest first; text and severity filters; keyset "load more"."""

from __future__ import annotations

import reflex as rx

from backend.audit.models import Severity
from backend.audit.schemas import AuditEntryOut
from oncall_app.components.badges import severity_badge
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.layout import page
from oncall_app.pages.team_detail import NATIVE_SELECT
from oncall_app.state.audit import AuditState as S


def _filters() -> rx.Component:
    return rx.form(
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                name="text",
                placeholder="Action, actor or target",
                type="search",
                size="3",
                flex="1",
                min_width="12em",
            ),
            rx.el.select(
                rx.el.option("All severities", value=""),
                *[rx.el.option(s.value.title(), value=s.value) for s in Severity],
                name="severity",
                style=NATIVE_SELECT,
                aria_label="Severity",
            ),
            rx.button("Search", type="submit", size="3"),
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        on_submit=S.search,
        reset_on_submit=False,
    )


def _entry(entry: AuditEntryOut) -> rx.Component:
    # A card per entry rather than a wide table: diffs vary wildly in size and phones are narrow.
    muted = rx.color("gray", 10)
    return rx.box(
        rx.flex(
            severity_badge(entry.severity.to(str)),
            rx.code(entry.action, variant="ghost", weight="bold"),
            rx.text(entry.target_type, ": ", entry.target_label, size="2"),
            spacing="2",
            wrap="wrap",
            align="center",
        ),
        rx.flex(
            rx.text(entry.actor_label, size="1", weight="medium"),
            rx.text("·", size="1", color=muted),
            rx.moment(entry.at.to(str), format="YYYY-MM-DD HH:mm:ss", font_size="12px"),
            rx.cond(entry.ip, rx.text("· IP ", entry.ip.to(str), size="1", color=muted)),
            spacing="2",
            wrap="wrap",
            align="center",
            margin_top="0.25em",
        ),
        rx.cond(
            entry.diff.length() > 0,
            rx.el.pre(
                entry.diff.to_string(),
                font_size="12px",
                white_space="pre-wrap",
                word_break="break-all",
                margin_top="0.4em",
                padding="0.4em 0.6em",
                border_radius="var(--radius-2)",
                background=rx.color("gray", 3),
            ),
        ),
        padding="0.75em 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        custom_attrs={"data-testid": "audit-row"},
    )


def _table() -> rx.Component:
    return rx.vstack(
        rx.vstack(rx.foreach(S.entries, _entry), spacing="0", width="100%"),
        rx.cond(S.has_more, rx.button("Load more", variant="soft", size="3", on_click=S.load_more)),
        width="100%",
        align="center",
    )


@page("/audit", "Audit log", on_load=[S.load])
def audit_page() -> rx.Component:
    return rx.vstack(
        _filters(),
        rx.cond(
            ~S.loaded,
            loading_row(),
            rx.cond(
                S.entries.length() == 0,
                empty_state(
                    "scroll_text", "No entries", "Nothing matches, or nothing you may see yet."
                ),
                _table(),
            ),
        ),
        spacing="4",
        width="100%",
    )
