"""/alerts: alert search with filters and "Load more"; new alerts arrive live at the top.

Each alert is a wrapping row rather than a table row, so on a phone it folds into a small card
(badges, then the title, then service and time) without sideways scrolling.
"""

from __future__ import annotations

import reflex as rx

from oncall_app.components.badges import severity_badge
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.layout import page
from oncall_app.pages.integrations import since_select
from oncall_app.pages.team_detail import NATIVE_SELECT
from oncall_app.state.alerts import SEVERITIES, STATUSES, AlertRow
from oncall_app.state.alerts import AlertsState as S
from oncall_app.state.integrations import Choice

STATUS_COLORS = {"firing": "red", "resolved": "green"}


def _option(choice: Choice) -> rx.Component:
    return rx.el.option(choice.name, value=choice.id)


def _select(name: str, label: str, first: str, value: rx.Var[str], options) -> rx.Component:
    return rx.el.select(
        rx.el.option(first, value=""),
        options,
        value=value,
        on_change=lambda v: S.set_filter(name, v),
        aria_label=label,
        style=NATIVE_SELECT,
    )


def _filters() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.input(
                rx.input.slot(rx.icon("search", size=16)),
                placeholder="Search title, description, source or dedup key",
                default_value=S.text,
                on_change=S.text_changed.debounce(300),
                size="3",
                type="search",
                flex="2",
                min_width="14em",
                key=S.text_generation,
            ),
            _select(
                "service",
                "Service",
                "All services",
                S.service_filter,
                rx.foreach(S.services, _option),
            ),
            _select(
                "severity",
                "Severity",
                "Any severity",
                S.severity_filter,
                [rx.el.option(s.title(), value=s) for s in SEVERITIES],
            ),
            _select(
                "status",
                "Status",
                "Any status",
                S.status_filter,
                [rx.el.option(s, value=s) for s in STATUSES],
            ),
            since_select(S.since_filter, lambda v: S.set_filter("since", v), "Received"),
            spacing="2",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            S.filtered,
            rx.hstack(
                rx.cond(
                    S.incident_filter != "",
                    rx.badge("incident #" + S.incident_filter, color_scheme="violet", size="2"),
                ),
                rx.button(
                    rx.icon("x", size=14),
                    "Clear filters",
                    variant="ghost",
                    size="1",
                    on_click=S.clear_filters,
                ),
                spacing="2",
                align="center",
            ),
        ),
        spacing="2",
        width="100%",
    )


def _alert(alert: AlertRow) -> rx.Component:
    return rx.flex(
        rx.hstack(
            severity_badge(alert.severity),
            rx.badge(
                alert.status,
                color_scheme=rx.match(alert.status, *STATUS_COLORS.items(), "gray"),
                variant="soft",
            ),
            rx.cond(alert.fresh, rx.badge("new", color_scheme="blue", variant="solid")),
            spacing="1",
            align="center",
            min_width="9.5em",
        ),
        rx.vstack(
            rx.text(alert.title, weight="medium", size="2", word_break="break-word"),
            rx.text(
                rx.cond(alert.source != "", alert.source + " · ", ""),
                alert.dedup_key,
                size="1",
                color=rx.color("gray", 10),
                word_break="break-all",
            ),
            spacing="0",
            flex="1",
            min_width="12em",
        ),
        rx.hstack(
            rx.link(alert.service_name, href="/services/" + alert.service_id.to_string(), size="2"),
            rx.cond(
                alert.incident_id > 0,
                rx.link(
                    rx.badge(
                        "incident #" + alert.incident_id.to_string(),
                        color_scheme="violet",
                        variant="outline",
                        cursor="pointer",
                    ),
                    href="/incidents/" + alert.incident_id.to_string(),
                    title="Open this incident",
                ),
            ),
            rx.text(
                rx.moment(alert.received_at, format="MMM D, HH:mm:ss"),
                size="1",
                color=rx.color("gray", 11),
                white_space="nowrap",
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
        padding="0.6em 0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        border_left=rx.cond(
            alert.fresh, f"3px solid {rx.color('blue', 9)}", "3px solid transparent"
        ),
        background=rx.cond(alert.fresh, rx.color("blue", 2), "transparent"),
        custom_attrs={"data-testid": "alert-row", "data-fresh": alert.fresh.to_string()},
    )


def _list() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.items.length() == 0,
            empty_state(
                "bell",
                "No alerts",
                rx.cond(
                    S.filtered,
                    "No alert matches these filters.",
                    "Alerts from your integrations appear here as they arrive.",
                ),
            ),
            rx.vstack(
                rx.card(
                    rx.foreach(S.items, _alert),
                    width="100%",
                    padding="0",
                    custom_attrs={"data-testid": "alert-list"},
                ),
                rx.cond(
                    S.cursor != "",
                    rx.button(
                        "Load more", variant="soft", loading=S.loading_more, on_click=S.load_more
                    ),
                    rx.text("No older alerts.", size="1", color=rx.color("gray", 10)),
                ),
                spacing="3",
                width="100%",
                align="center",
            ),
        ),
    )


def _integrations_link() -> rx.Component:
    return rx.link(
        rx.button(rx.icon("plug", size=16), "Integrations", variant="soft", size="3"),
        href="/integrations",
    )


@page("/alerts", "Alerts", on_load=[S.load], actions=_integrations_link)
def alerts_page() -> rx.Component:
    return rx.vstack(_filters(), _list(), spacing="4", width="100%")
