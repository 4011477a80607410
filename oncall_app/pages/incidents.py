"""/incidents: the dashboard. Metrics for a chosen window (open now, MTTA, MTTR, charts),
filters with saved presets, the list with "Load more", bulk acknowledge/resolve and one-tap
Acknowledge/Resolve per row; everything follows live.

Each incident is a wrapping row: on a phone it folds into a card whose actions are full-width,
large buttons.
"""

from __future__ import annotations

import reflex as rx

from oncall_app.components.badges import severity_badge
from oncall_app.components.charts import counts_chart, durations_chart
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.forms import NATIVE_SELECT, choice_option
from oncall_app.components.incident_badges import incident_status_badge, priority_badge
from oncall_app.layout import page
from oncall_app.state.incidents import (
    SEVERITIES,
    SINCE_LABELS,
    STATUS_LABELS,
    WINDOW_LABELS,
    BulkRow,
    IncidentRow,
)
from oncall_app.state.incidents import IncidentsState as S
from oncall_app.state.integrations import Choice


def _select(name: str, label: str, value: rx.Var[str], options: list) -> rx.Component:
    return rx.el.select(
        *options,
        value=value,
        on_change=lambda v: S.set_filter(name, v),
        aria_label=label,
        style=NATIVE_SELECT,
    )


# ---- metrics -----------------------------------------------------------------------------
def _stat(label: str, value: rx.Var, testid: str, hint: rx.Var | str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="1", color=rx.color("gray", 11)),
            rx.heading(value, size="6", custom_attrs={"data-testid": testid}),
            rx.text(hint, size="1", color=rx.color("gray", 10)),
            spacing="1",
        ),
        flex="1",
        min_width="9em",
    )


def _metrics() -> rx.Component:
    return rx.vstack(
        rx.flex(
            _stat(
                "Open now",
                S.open_now,
                "metric-open",
                S.unacknowledged_now.to_string() + " unacknowledged",
            ),
            _stat("Opened", S.opened_in_window, "metric-opened", "in the window"),
            _stat("MTTA", S.mtta, "metric-mtta", "mean time to acknowledge"),
            _stat("MTTR", S.mttr, "metric-mttr", "mean time to resolve"),
            rx.el.select(
                *[rx.el.option(text, value=key) for key, text in WINDOW_LABELS.items()],
                value=S.window,
                on_change=S.set_window,
                aria_label="Metrics window",
                style=NATIVE_SELECT,
            ),
            spacing="2",
            wrap="wrap",
            width="100%",
            align="center",
        ),
        rx.grid(
            rx.card(rx.text("Incidents", size="2", weight="medium"), counts_chart(S.chart)),
            rx.card(rx.text("MTTA / MTTR", size="2", weight="medium"), durations_chart(S.chart)),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="2",
            width="100%",
            # Phones show the numbers only: the list is what matters at 3 a.m.
            display=rx.breakpoints(initial="none", sm="grid"),
        ),
        spacing="2",
        width="100%",
        custom_attrs={"data-testid": "incident-metrics"},
    )


# ---- filters and presets -----------------------------------------------------------------
def _preset(choice: Choice) -> rx.Component:
    return rx.badge(
        rx.text(
            choice.name,
            cursor="pointer",
            on_click=S.apply_preset(choice.id),
            title="Apply this saved filter",
        ),
        rx.icon(
            "x",
            size=12,
            cursor="pointer",
            on_click=S.delete_preset(choice.id),
            aria_label="Delete saved filter",
        ),
        variant="surface",
        size="2",
        custom_attrs={"data-testid": "preset"},
    )


def _filters() -> rx.Component:
    return rx.vstack(
        rx.flex(
            _select(
                "status",
                "Status",
                S.status_filter,
                [rx.el.option(text, value=key) for key, text in STATUS_LABELS.items()],
            ),
            _select(
                "severity",
                "Severity",
                S.severity_filter,
                [
                    rx.el.option("Any severity", value=""),
                    *[rx.el.option(s.title(), value=s) for s in SEVERITIES],
                ],
            ),
            _select(
                "service",
                "Service",
                S.service_filter,
                [rx.el.option("All services", value=""), rx.foreach(S.services, choice_option)],
            ),
            _select(
                "team",
                "Team",
                S.team_filter,
                [rx.el.option("All teams", value=""), rx.foreach(S.teams, choice_option)],
            ),
            _select(
                "since",
                "Opened",
                S.since_filter,
                [rx.el.option(text, value=key) for key, text in SINCE_LABELS.items()],
            ),
            rx.el.label(
                rx.hstack(
                    rx.checkbox(checked=S.mine, on_change=S.set_mine, size="2"),
                    rx.text("Assigned to me", size="2"),
                    align="center",
                    spacing="2",
                ),
                padding="0 0.25em",
            ),
            rx.cond(
                S.filtered,
                rx.button(
                    rx.icon("x", size=14),
                    "Clear",
                    variant="ghost",
                    size="1",
                    on_click=S.clear_filters,
                ),
            ),
            spacing="2",
            wrap="wrap",
            width="100%",
            align="center",
        ),
        rx.flex(
            rx.text("Saved filters:", size="1", color=rx.color("gray", 11)),
            rx.cond(
                S.presets.length() == 0,
                rx.text("none yet", size="1", color=rx.color("gray", 10)),
                rx.foreach(S.presets, _preset),
            ),
            rx.input(
                placeholder="Name these filters",
                value=S.preset_name,
                on_change=S.set_preset_name,
                size="1",
                max_length=80,
                width="12em",
                aria_label="Preset name",
            ),
            rx.button("Save filters", size="1", variant="soft", on_click=S.save_preset),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


# ---- bulk --------------------------------------------------------------------------------
def _bulk_result(row: BulkRow) -> rx.Component:
    return rx.hstack(
        rx.icon(
            rx.cond(row.ok, "circle_check", "circle_x"),
            size=14,
            color=rx.cond(row.ok, rx.color("green", 10), rx.color("red", 10)),
        ),
        rx.link(
            "#" + row.incident_id.to_string(),
            href="/incidents/" + row.incident_id.to_string(),
            size="2",
        ),
        rx.text(row.text, size="2"),
        spacing="2",
        align="center",
        custom_attrs={"data-testid": "bulk-result", "data-ok": row.ok.to_string()},
    )


def _bulk_bar() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.el.label(
                rx.hstack(
                    rx.checkbox(
                        checked=S.all_selected, on_change=lambda _v: S.toggle_all(), size="2"
                    ),
                    rx.text(
                        rx.cond(
                            S.selected.length() > 0,
                            S.selected.length().to_string() + " selected",
                            "Select all",
                        ),
                        size="2",
                    ),
                    align="center",
                    spacing="2",
                ),
            ),
            rx.cond(
                S.selected.length() > 0,
                rx.hstack(
                    rx.button(
                        "Acknowledge selected",
                        size="2",
                        color_scheme="amber",
                        loading=S.bulk_busy,
                        on_click=S.bulk("acknowledge"),
                    ),
                    rx.button(
                        "Resolve selected",
                        size="2",
                        color_scheme="green",
                        loading=S.bulk_busy,
                        on_click=S.bulk("resolve"),
                    ),
                    spacing="2",
                ),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(
            S.bulk_results.length() > 0,
            rx.callout.root(
                rx.vstack(
                    rx.hstack(
                        rx.text("Bulk result", weight="medium", size="2"),
                        rx.spacer(),
                        rx.icon_button(
                            rx.icon("x", size=14),
                            variant="ghost",
                            size="1",
                            on_click=S.dismiss_bulk,
                            aria_label="Dismiss",
                        ),
                        width="100%",
                    ),
                    rx.foreach(S.bulk_results, _bulk_result),
                    spacing="1",
                    width="100%",
                ),
                color_scheme="gray",
                width="100%",
                custom_attrs={"data-testid": "bulk-results"},
            ),
        ),
        spacing="2",
        width="100%",
    )


# ---- rows --------------------------------------------------------------------------------
def _actions(row: IncidentRow) -> rx.Component:
    big = rx.breakpoints(initial="3", md="2")
    return rx.flex(
        rx.cond(
            row.status == "OPEN",
            rx.button(
                rx.icon("check", size=16),
                "Acknowledge",
                size=big,
                color_scheme="amber",
                on_click=S.acknowledge(row.id),
                flex=rx.breakpoints(initial="1", md="none"),
            ),
        ),
        rx.cond(
            (row.status == "OPEN") | (row.status == "ACKNOWLEDGED"),
            rx.button(
                rx.icon("circle_check", size=16),
                "Resolve",
                size=big,
                color_scheme="green",
                variant="soft",
                on_click=S.resolve(row.id),
                flex=rx.breakpoints(initial="1", md="none"),
            ),
        ),
        spacing="2",
        width=rx.breakpoints(initial="100%", md="auto"),
    )


def _row(row: IncidentRow) -> rx.Component:
    href = "/incidents/" + row.id.to_string()
    return rx.flex(
        rx.hstack(
            rx.checkbox(
                checked=S.selected.contains(row.id),
                on_change=lambda _v: S.toggle_selected(row.id),
                size="2",
                aria_label="Select #" + row.id.to_string(),
            ),
            incident_status_badge(row.status),
            severity_badge(row.severity),
            priority_badge(row.priority),
            rx.cond(row.pending, rx.spinner(size="1")),
            spacing="2",
            align="center",
            min_width="14em",
        ),
        rx.vstack(
            rx.link(
                rx.text("#", row.id.to_string(), " ", row.title, weight="medium", size="3"),
                href=href,
                word_break="break-word",
            ),
            rx.text(
                row.service_name,
                rx.cond(row.team_name != "", " · " + row.team_name, ""),
                " · ",
                row.alert_count.to_string(),
                " alert(s) · ",
                rx.cond(row.assignee_name != "", "assigned to " + row.assignee_name, "unassigned"),
                rx.cond(row.in_maintenance, " · in maintenance", ""),
                size="1",
                color=rx.color("gray", 11),
            ),
            spacing="1",
            flex="1",
            min_width="14em",
        ),
        rx.text(
            rx.moment(row.opened_at, from_now=True),
            size="1",
            color=rx.color("gray", 11),
            white_space="nowrap",
            title=row.opened_at,
        ),
        _actions(row),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
        padding="0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        border_left=rx.match(
            row.status,
            ("OPEN", f"3px solid {rx.color('red', 9)}"),
            ("ACKNOWLEDGED", f"3px solid {rx.color('amber', 9)}"),
            "3px solid transparent",
        ),
        custom_attrs={
            "data-testid": "incident-row",
            "data-incident-id": row.id.to_string(),
            "data-status": row.status,
        },
    )


def _list() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.items.length() == 0,
            empty_state(
                "siren",
                "No incidents",
                rx.cond(
                    S.filtered,
                    "No incident matches these filters.",
                    "Incidents open when alerts arrive from your integrations.",
                ),
            ),
            rx.vstack(
                rx.card(
                    rx.foreach(S.items, _row),
                    width="100%",
                    padding="0",
                    custom_attrs={"data-testid": "incident-list"},
                ),
                rx.cond(
                    S.cursor != "",
                    rx.button(
                        "Load more", variant="soft", loading=S.loading_more, on_click=S.load_more
                    ),
                    rx.text("No older incidents.", size="1", color=rx.color("gray", 10)),
                ),
                spacing="3",
                width="100%",
                align="center",
            ),
        ),
    )


def _header_actions() -> rx.Component:
    return rx.hstack(
        rx.link(
            rx.button(rx.icon("inbox", size=16), "Page requests", variant="soft", size="2"),
            href="/outbox",
        ),
        rx.link(
            rx.button(rx.icon("bell", size=16), "Alerts", variant="soft", size="2"), href="/alerts"
        ),
        spacing="2",
    )


@page("/incidents", "Incidents", on_load=[S.load], actions=_header_actions)
def incidents_page() -> rx.Component:
    return rx.vstack(_metrics(), _filters(), _bulk_bar(), _list(), spacing="4", width="100%")
