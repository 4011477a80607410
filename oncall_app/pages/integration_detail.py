"""/integrations/[id]: the URL and settings of one integration, rotate its secret (confirmed;
the new one shown once, the old one valid for the grace period), send a test alert, the
delivery log filtered by outcome and time with each rejection's reason, delete (confirmed)."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.forms import error_of, field, form_error
from oncall_app.layout import page
from oncall_app.pages.integrations import (
    code_block,
    copyable,
    outcome_badge,
    secret_box,
    since_select,
    when,
)
from oncall_app.pages.team_detail import NATIVE_SELECT
from oncall_app.state.integrations_detail import DeliveryRow, TestAlert
from oncall_app.state.integrations_detail import IntegrationDetailState as S

OUTCOMES = ("accepted", "duplicate", "ignored", "rejected")


def alerts_href(query: str, value: rx.Var) -> rx.Var[str]:
    return "/alerts?" + query + "=" + value.to_string()


def _fact(label: str, value: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color=rx.color("gray", 11), min_width="9em"),
        value,
        align="center",
        spacing="2",
        wrap="wrap",
    )


def _confirm(
    trigger: rx.Component, title: str, text: str, action: str, on_click, color: str = "red"
) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(action, color_scheme=color, on_click=on_click)),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
    )


def _actions() -> rx.Component:
    rotate = _confirm(
        rx.button(rx.icon("refresh_cw", size=14), "Rotate secret", variant="soft", size="2"),
        "Rotate the secret?",
        "A new secret is issued and shown once. The current one keeps working for the grace "
        "period (24 hours by default) so you can update the sending tool, then stops.",
        "Rotate",
        S.rotate,
        color="amber",
    )
    delete = _confirm(
        rx.button(
            rx.icon("trash_2", size=14), "Delete", color_scheme="red", variant="soft", size="2"
        ),
        "Delete this integration?",
        "Its URL stops accepting alerts at once and its delivery log is deleted. Alerts "
        "already received stay.",
        "Delete",
        S.delete,
    )
    return rx.flex(
        rx.cond(
            S.can_respond,
            rx.button(
                rx.icon("send", size=14),
                "Send test alert",
                size="2",
                loading=S.testing,
                on_click=S.send_test,
            ),
        ),
        rx.cond(S.can_edit, rotate),
        rx.cond(
            S.can_edit,
            rx.button(
                rx.icon("pencil", size=14), "Edit", variant="soft", size="2", on_click=S.toggle_edit
            ),
        ),
        rx.cond(S.can_edit, delete),
        spacing="2",
        wrap="wrap",
    )


def _facts() -> rx.Component:
    return rx.card(
        rx.vstack(
            _fact("Ingest URL", copyable(S.url, "integration-url", "Copy URL")),
            _fact("Type", rx.text(S.type_label, size="2")),
            _fact(
                "Service",
                rx.cond(
                    S.service_id > 0,
                    rx.link(S.service_name, href="/services/" + S.service_id.to_string()),
                    rx.text("none (alerts go to triage)", size="2"),
                ),
            ),
            _fact("Dedup window", rx.text(S.dedup_minutes.to_string() + " min", size="2")),
            _fact(
                "Auto-resolve",
                rx.text(rx.cond(S.auto_resolve, "yes", "no"), size="2"),
            ),
            _fact(
                "State",
                rx.cond(
                    S.enabled,
                    rx.badge("enabled", color_scheme="green"),
                    rx.badge("disabled: deliveries are refused", color_scheme="gray"),
                ),
            ),
            rx.cond(
                S.previous_secret_expires_at != "",
                _fact(
                    "Previous secret",
                    rx.text("valid until ", when(S.previous_secret_expires_at), size="2"),
                ),
            ),
            _fact("Created", when(S.created_at)),
            _actions(),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _edit_form() -> rx.Component:
    errs = S.edit_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Settings", size="4"),
                field(
                    "Name",
                    rx.input(name="name", default_value=S.name, size="3"),
                    error_of(errs, "name"),
                ),
                field(
                    "Dedup window (minutes)",
                    rx.input(
                        name="dedup_minutes",
                        type="number",
                        min="0",
                        max="10080",
                        default_value=S.dedup_minutes.to_string(),
                        size="3",
                    ),
                    error_of(errs, "dedup_minutes"),
                ),
                rx.checkbox(
                    "Resolve the incident when all its alerts resolve",
                    name="auto_resolve",
                    default_checked=S.auto_resolve,
                ),
                rx.checkbox(
                    "Enabled (accept deliveries)", name="enabled", default_checked=S.enabled
                ),
                form_error(errs),
                rx.hstack(
                    rx.button("Save", type="submit", size="3"),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        size="3",
                        on_click=S.toggle_edit,
                    ),
                    spacing="3",
                ),
                spacing="3",
                align="stretch",
            ),
            on_submit=S.save,
            reset_on_submit=False,
        ),
        width="100%",
    )


def _test_alert(alert: TestAlert) -> rx.Component:
    return rx.hstack(
        rx.cond(
            alert.id > 0,
            rx.link("Alert #" + alert.id.to_string(), href=alerts_href("q", alert.dedup_key)),
            rx.text(alert.outcome, size="2"),
        ),
        rx.badge(alert.outcome, variant="soft"),
        rx.cond(
            alert.incident_id > 0,
            rx.link(
                "Incident #" + alert.incident_id.to_string(),
                href="/incidents/" + alert.incident_id.to_string(),
            ),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
    )


def _test_result() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("send")),
        rx.vstack(
            rx.text(S.test_title, size="2", weight="medium"),
            rx.foreach(S.test_alerts, _test_alert),
            spacing="1",
        ),
        color_scheme="green",
        width="100%",
        custom_attrs={"data-testid": "test-result"},
    )


def _delivery(d: DeliveryRow) -> rx.Component:
    """One delivery as a wrapping row: outcome and facts, the reason, then the raw request."""
    muted = rx.color("gray", 11)
    return rx.vstack(
        rx.flex(
            outcome_badge(d.outcome),
            rx.box(when(d.received_at), white_space="nowrap"),
            rx.text("HTTP " + d.http_status.to_string(), size="1", color=muted),
            rx.text(d.alert_count.to_string() + " alert(s)", size="1", color=muted),
            rx.cond(d.remote_ip != "", rx.text("from " + d.remote_ip, size="1", color=muted)),
            rx.cond(
                d.idempotency_key != "",
                rx.text("key " + d.idempotency_key, size="1", color=muted, word_break="break-all"),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            (d.reason != "") | (d.detail != ""),
            rx.flex(
                rx.cond(d.reason != "", rx.code(d.reason, size="1")),
                rx.cond(d.detail != "", rx.text(d.detail, size="1")),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
        ),
        rx.el.details(
            rx.el.summary("Headers and body", style={"cursor": "pointer", "color": muted}),
            rx.text("Headers (secrets removed)", size="1", weight="bold"),
            code_block(d.headers, "delivery-headers"),
            rx.text("Body", rx.cond(d.body_truncated, " (truncated)", ""), size="1", weight="bold"),
            code_block(d.body, "delivery-body", wrap=True),
            style={"font_size": "var(--font-size-1)", "max_width": "100%"},
        ),
        spacing="1",
        width="100%",
        min_width="0",
        padding="0.6em 0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-testid": "delivery-row", "data-outcome": d.outcome},
    )


def _log_filters() -> rx.Component:
    return rx.flex(
        rx.el.select(
            rx.el.option("All outcomes", value=""),
            *[rx.el.option(o, value=o) for o in OUTCOMES],
            value=S.outcome_filter,
            on_change=S.outcome_changed,
            aria_label="Outcome",
            style=NATIVE_SELECT,
        ),
        since_select(S.since_filter, S.since_changed, "Received"),
        rx.button(
            rx.icon("refresh_cw", size=14), "Refresh", variant="soft", size="2", on_click=S.refresh
        ),
        spacing="2",
        wrap="wrap",
        align="center",
    )


def _log() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Delivery log", size="4", as_="h2"),
            rx.spacer(),
            _log_filters(),
            width="100%",
            wrap="wrap",
            align="center",
        ),
        rx.cond(
            S.deliveries.length() == 0,
            empty_state(
                "inbox",
                "No deliveries",
                rx.cond(
                    (S.outcome_filter != "") | (S.since_filter != ""),
                    "No delivery matches these filters.",
                    "Nothing has been sent to this integration yet. Try “Send test alert”.",
                ),
            ),
            rx.card(
                rx.foreach(S.deliveries, _delivery),
                width="100%",
                padding="0",
                custom_attrs={"data-testid": "delivery-log"},
            ),
        ),
        rx.cond(
            S.has_more,
            rx.button("Load more", variant="soft", on_click=S.load_more),
        ),
        spacing="3",
        width="100%",
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow_left", size=14), "Integrations", spacing="1", align="center"),
            href="/integrations",
            size="2",
        ),
        rx.cond(S.rotated.secret != "", secret_box(S.rotated, S.dismiss_secret, rotated=True)),
        rx.cond(S.test_title != "", _test_result()),
        _facts(),
        rx.cond(S.editing, _edit_form()),
        _log(),
        spacing="4",
        width="100%",
    )


@page("/integrations/[integration_id]", "Integration", on_load=[S.load], heading=S.heading)
def integration_detail_page() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.found,
            _content(),
            empty_state("plug", "Integration not found", "It was deleted, or you cannot see it."),
        ),
    )
