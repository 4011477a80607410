"""The service page's heartbeat monitors and maintenance windows (ALERT-03, ALERT-04)."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.form_card import confirm_delete, section
from oncall_app.components.forms import error_of, field, form_error
from oncall_app.components.shown_once import shown_once
from oncall_app.state.service_ops import HeartbeatRow, ServiceOpsState, WindowRow
from oncall_app.state.services import ServiceDetailState

S = ServiceOpsState
MUTED = rx.color("gray", 11)
HEARTBEAT_COLORS = {"up": "green", "down": "red", "pending": "gray"}


def _check_in_url_once() -> rx.Component:
    return shown_once(
        S.new_check_in_url,
        S.hide_check_in_url,
        "Have the job GET or POST this URL when it runs. It is shown only once.",
        "check-in-url",
        rx.code_block("curl -fsS -X POST " + S.new_check_in_url, language="bash", width="100%"),
    )


def _heartbeat_form() -> rx.Component:
    errs = S.heartbeat_errors
    return rx.form(
        rx.grid(
            field(
                "Name", rx.input(name="name", placeholder="nightly backup"), error_of(errs, "name")
            ),
            field(
                "Expect a check-in every (minutes)",
                rx.input(name="interval_minutes", default_value="5", input_mode="numeric"),
                error_of(errs, "interval_minutes"),
            ),
            field(
                "Grace (minutes)",
                rx.input(name="grace_minutes", default_value="1", input_mode="numeric"),
                error_of(errs, "grace_minutes"),
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        form_error(errs),
        rx.button("Add heartbeat", type="submit", margin_top="0.75em"),
        on_submit=S.add_heartbeat,
        reset_on_submit=False,
        custom_attrs={"data-testid": "heartbeat-form"},
    )


def _heartbeat(row: HeartbeatRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.name, weight="medium")),
        rx.table.cell(
            rx.badge(
                row.status,
                color_scheme=rx.match(row.status, *HEARTBEAT_COLORS.items(), "gray"),
            )
        ),
        rx.table.cell(rx.text(row.every, size="2")),
        rx.table.cell(rx.text("last ", row.last, size="2", color=MUTED)),
        rx.table.cell(
            rx.cond(
                ServiceDetailState.can_edit,
                confirm_delete(
                    "Delete",
                    "Delete heartbeat " + row.name + "?",
                    "Its check-in URL stops working. An incident it opened stays open.",
                    S.delete_heartbeat(row.id),
                    size="1",
                ),
            )
        ),
        custom_attrs={"data-testid": "heartbeat-row"},
    )


def heartbeats_section() -> rx.Component:
    return section(
        "Heartbeats",
        rx.text(
            "A job that must run regularly checks in on a secret URL. A missed check-in "
            "(interval + grace) opens an incident on this service; the next check-in resolves it.",
            size="2",
            color=MUTED,
        ),
        _check_in_url_once(),
        rx.cond(ServiceDetailState.can_edit, _heartbeat_form()),
        rx.cond(
            S.heartbeat_rows.length() > 0,
            rx.table.root(
                rx.table.body(rx.foreach(S.heartbeat_rows, _heartbeat)), size="1", width="100%"
            ),
            rx.text("No heartbeat monitors.", size="2", color=rx.color("gray", 10)),
        ),
    )


def _window_form() -> rx.Component:
    errs = S.window_errors
    return rx.form(
        rx.grid(
            field(
                "From (" + S.viewer_zone + ")",
                rx.input(name="starts_at", type="datetime-local"),
                error_of(errs, "starts_at"),
            ),
            field(
                "Until (" + S.viewer_zone + ")",
                rx.input(name="ends_at", type="datetime-local"),
                error_of(errs, "ends_at"),
            ),
            field(
                "Reason",
                rx.input(name="reason", placeholder="Database upgrade"),
                error_of(errs, "reason"),
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
        form_error(errs),
        rx.button("Schedule window", type="submit", margin_top="0.75em"),
        on_submit=S.add_window,
        reset_on_submit=False,
        custom_attrs={"data-testid": "maintenance-form"},
    )


def _window(row: WindowRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(row.when, size="2"),
                rx.cond(row.active, rx.badge("in progress", color_scheme="amber")),
                spacing="2",
                wrap="wrap",
            )
        ),
        rx.table.cell(rx.text(row.reason, size="2")),
        rx.table.cell(rx.text(row.created_by, size="2", color=MUTED)),
        rx.table.cell(
            rx.cond(
                ServiceDetailState.can_edit,
                confirm_delete(
                    "Cancel",
                    "Cancel this maintenance window?",
                    "Alerts for this service page people again at once.",
                    S.delete_window(row.id),
                    size="1",
                ),
            )
        ),
        custom_attrs={"data-testid": "maintenance-row"},
    )


def maintenance_section() -> rx.Component:
    return section(
        "Maintenance windows",
        rx.text(
            "During a window, alerts for this service are stored and grouped into incidents, "
            "but nobody is paged.",
            size="2",
            color=MUTED,
        ),
        rx.cond(ServiceDetailState.can_edit, _window_form()),
        rx.cond(
            S.window_rows.length() > 0,
            rx.table.root(
                rx.table.body(rx.foreach(S.window_rows, _window)), size="1", width="100%"
            ),
            rx.text("No current or upcoming windows.", size="2", color=rx.color("gray", 10)),
        ),
    )
