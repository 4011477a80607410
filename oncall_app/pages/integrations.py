"""/integrations: every integration the user may see with its last 24 h of deliveries, and
the create form. The new secret is shown once, with the ingest URL and a ``curl`` example that
sends a correctly signed test alert."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.forms import error_of, field, form_error
from oncall_app.layout import page
from oncall_app.pages.team_detail import NATIVE_SELECT
from oncall_app.state.integrations import (
    SINCE_LABELS,
    TYPE_LABELS,
    Choice,
    IntegrationRow,
    ShownSecret,
)
from oncall_app.state.integrations import IntegrationsState as S

OUTCOME_COLORS = {"accepted": "green", "duplicate": "blue", "ignored": "gray", "rejected": "red"}
MONO = {"font_family": "var(--code-font-family)", "font_size": "12px"}


def outcome_badge(outcome: rx.Var[str]) -> rx.Component:
    return rx.badge(
        outcome, color_scheme=rx.match(outcome, *OUTCOME_COLORS.items(), "gray"), variant="soft"
    )


def when(value: rx.Var[str], empty: str = "—") -> rx.Component:
    """A stored ISO time in the viewer's zone, or ``empty``."""
    return rx.cond(
        value != "",
        rx.text(rx.moment(value, format="YYYY-MM-DD HH:mm:ss"), as_="span", size="2"),
        rx.text(empty, color=rx.color("gray", 10), as_="span"),
    )


def since_select(value: rx.Var[str], on_change, label: str) -> rx.Component:
    return rx.el.select(
        *[rx.el.option(text, value=key) for key, text in SINCE_LABELS.items()],
        value=value,
        on_change=on_change,
        aria_label=label,
        style=NATIVE_SELECT,
    )


def _option(choice: Choice) -> rx.Component:
    return rx.el.option(choice.name, value=choice.id)


def copy_button(text: rx.Var[str], label: str, testid: str) -> rx.Component:
    return rx.button(
        rx.icon("copy", size=14),
        label,
        size="2",
        variant="soft",
        type="button",
        on_click=[rx.set_clipboard(text), rx.toast.success("Copied")],
        custom_attrs={"data-testid": testid},
    )


def copyable(text: rx.Var[str], testid: str, label: str = "Copy") -> rx.Component:
    return rx.hstack(
        rx.code(text, size="2", word_break="break-all", custom_attrs={"data-testid": testid}),
        copy_button(text, label, testid + "-copy"),
        align="center",
        wrap="wrap",
        spacing="2",
    )


def code_block(text: rx.Var[str], testid: str, *, wrap: bool = False) -> rx.Component:
    """Monospace text; ``wrap`` folds long lines (a request body) instead of scrolling."""
    return rx.el.pre(
        text,
        style=MONO
        | {
            "background": rx.color("gray", 3),
            "padding": "0.75em",
            "border_radius": "var(--radius-2)",
            "overflow_x": "auto",
            "white_space": "pre-wrap" if wrap else "pre",
            "word_break": "break-all" if wrap else "normal",
            "margin": "0",
            "max_width": "100%",
        },
        custom_attrs={"data-testid": testid},
    )


def secret_box(shown: ShownSecret, on_dismiss, *, rotated: bool = False) -> rx.Component:
    """The secret on its only showing, with the URL and the curl example."""
    headline = (
        "New secret for " + shown.name + ": copy it now, it is shown only once."
        if rotated
        else "Integration " + shown.name + " created: copy the secret now, it is shown only once."
    )
    return rx.callout.root(
        rx.callout.icon(rx.icon("key_round")),
        rx.vstack(
            rx.text.strong(headline),
            rx.text(
                "We keep it encrypted for signature checks and never show it again; if it is "
                "lost, rotate it.",
                size="2",
            ),
            rx.cond(
                shown.previous_valid_until != "",
                rx.text(
                    "The previous secret keeps working until ",
                    rx.moment(shown.previous_valid_until, format="YYYY-MM-DD HH:mm"),
                    ": update your monitoring tool before then.",
                    size="2",
                    weight="medium",
                ),
            ),
            rx.text("Secret", size="1", weight="bold"),
            copyable(shown.secret, "new-secret", "Copy secret"),
            rx.text("URL", size="1", weight="bold"),
            copyable(shown.url, "new-url", "Copy URL"),
            rx.hstack(
                rx.text("Try it: a test alert with curl", size="1", weight="bold"),
                copy_button(shown.curl, "Copy curl", "curl-copy"),
                align="center",
                spacing="2",
            ),
            code_block(shown.curl, "curl-example"),
            rx.cond(
                shown.type == "generic",
                rx.text(
                    "The generic webhook signs each request: HMAC-SHA256 of "
                    '"<timestamp>." + body with the secret, in X-OnCall-Signature: v1=<hex>, '
                    "and the Unix time in X-OnCall-Timestamp (at most 5 minutes old).",
                    size="1",
                    color=rx.color("gray", 11),
                ),
            ),
            rx.hstack(
                rx.button("I have stored it", variant="soft", size="2", on_click=on_dismiss),
                rx.fragment()
                if rotated
                else rx.link(
                    "Open the integration",
                    href="/integrations/" + shown.integration_id.to_string(),
                    size="2",
                ),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
            min_width="0",
        ),
        color_scheme="amber",
        width="100%",
        custom_attrs={"data-testid": "secret-box"},
    )


# --- the list ----------------------------------------------------------------------------------


def _create_form() -> rx.Component:
    errs = S.create_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New integration", size="4"),
                field(
                    "Service",
                    rx.el.select(
                        rx.el.option("Choose a service…", value=""),
                        rx.foreach(S.service_choices, _option),
                        name="service_id",
                        style=NATIVE_SELECT | {"width": "100%"},
                    ),
                    error_of(errs, "service_id"),
                    "Services of teams you administer. Its alerts open incidents there.",
                ),
                field(
                    "Type",
                    rx.el.select(
                        *[rx.el.option(label, value=key) for key, label in TYPE_LABELS.items()],
                        name="type",
                        default_value="generic",
                        style=NATIVE_SELECT | {"width": "100%"},
                    ),
                    error_of(errs, "type"),
                    "The tool that sends the alerts; each has a setup page under "
                    "docs/integrations/.",
                ),
                field(
                    "Name",
                    rx.input(name="name", placeholder="Production Alertmanager", size="3"),
                    error_of(errs, "name"),
                ),
                rx.flex(
                    field(
                        "Dedup window (minutes)",
                        rx.input(
                            name="dedup_minutes",
                            type="number",
                            min="0",
                            max="10080",
                            default_value="15",
                            size="3",
                        ),
                        error_of(errs, "dedup_minutes"),
                        "Alerts with the same key within it join the open incident.",
                    ),
                    rx.box(
                        rx.checkbox(
                            "Resolve the incident when all its alerts resolve",
                            name="auto_resolve",
                            default_checked=True,
                            size="2",
                        ),
                        padding_top="1.8em",
                    ),
                    spacing="4",
                    direction=rx.breakpoints(initial="column", sm="row"),
                    width="100%",
                ),
                form_error(errs),
                rx.hstack(
                    rx.button("Create integration", type="submit", size="3"),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        size="3",
                        on_click=S.toggle_create,
                    ),
                    spacing="3",
                ),
                spacing="3",
                align="stretch",
            ),
            on_submit=S.create,
            reset_on_submit=False,
            key=S.form_generation,
            custom_attrs={"data-testid": "create-integration-form"},
        ),
        width="100%",
    )


def _counts(item: IntegrationRow) -> rx.Component:
    return rx.cond(
        item.accepted + item.duplicate + item.rejected == 0,
        rx.text("no deliveries", size="2", color=rx.color("gray", 10)),
        _count_badges(item),
    )


def _count_badges(item: IntegrationRow) -> rx.Component:
    return rx.flex(
        rx.badge(item.accepted.to_string() + " accepted", color_scheme="green", variant="soft"),
        rx.cond(
            item.duplicate > 0,
            rx.badge(item.duplicate.to_string() + " dup", color_scheme="blue", variant="soft"),
        ),
        rx.cond(
            item.rejected > 0,
            rx.badge(item.rejected.to_string() + " rejected", color_scheme="red", variant="soft"),
        ),
        spacing="1",
        wrap="wrap",
    )


def _row(item: IntegrationRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.link(
                    rx.text(item.name, weight="medium"),
                    href="/integrations/" + item.id.to_string(),
                ),
                rx.cond(~item.enabled, rx.badge("disabled", color_scheme="gray")),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(
            rx.cond(
                item.service_id > 0,
                rx.link(item.service_name, href="/services/" + item.service_id.to_string()),
                rx.text("—"),
            )
        ),
        rx.table.cell(rx.text(item.type_label, size="2")),
        rx.table.cell(_counts(item)),
        rx.table.cell(
            rx.vstack(
                when(item.last_received_at, "none in 24 h"),
                rx.cond(item.last_outcome != "", outcome_badge(item.last_outcome)),
                spacing="1",
            )
        ),
        rx.table.cell(rx.moment(item.created_at, format="YYYY-MM-DD")),
        custom_attrs={"data-testid": "integration-row"},
    )


def _list() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.integrations.length() == 0,
            empty_state(
                "plug",
                "No integrations",
                rx.cond(
                    S.service_filter != "",
                    "This service has no integrations yet.",
                    "Create one for each monitoring tool that should open incidents.",
                ),
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in (
                                    "Name",
                                    "Service",
                                    "Type",
                                    "Last 24 h",
                                    "Last delivery",
                                    "Created",
                                )
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(S.integrations, _row)),
                    width="100%",
                ),
                width="100%",
                overflow_x="auto",
            ),
        ),
    )


def _filters() -> rx.Component:
    return rx.el.select(
        rx.el.option("All services", value=""),
        rx.foreach(S.services, _option),
        value=S.service_filter,
        on_change=S.service_changed,
        aria_label="Service",
        style=NATIVE_SELECT,
    )


def _new_button() -> rx.Component:
    return rx.button(
        rx.icon("plus", size=16), "New integration", on_click=S.toggle_create, size="3"
    )


@page("/integrations", "Integrations", on_load=[S.load], actions=_new_button)
def integrations_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.created.secret != "", secret_box(S.created, S.dismiss_secret)),
        rx.cond(S.creating, _create_form()),
        _filters(),
        _list(),
        spacing="4",
        width="100%",
    )
