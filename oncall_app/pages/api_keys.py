"""/settings/api-keys (platform admins): create, show once, list, revoke."""

from __future__ import annotations

import reflex as rx

from backend.apikeys.schemas import ApiKeyOut
from oncall_app.components.badges import status_badge
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.forms import error_of, field, form_error
from oncall_app.layout import page
from oncall_app.state.api_keys import SCOPE_FIELD_PREFIX, SCOPES
from oncall_app.state.api_keys import ApiKeysState as S


def _new_key_box() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("key_round")),
        rx.vstack(
            rx.text.strong("Copy the key for " + S.new_key_name + " now: it is shown only once."),
            rx.text("We store only its hash; if it is lost, revoke it and create another."),
            rx.hstack(
                rx.code(
                    S.new_key,
                    size="3",
                    word_break="break-all",
                    custom_attrs={"data-testid": "new-api-key"},
                ),
                rx.button(
                    rx.icon("copy", size=14),
                    "Copy",
                    size="2",
                    on_click=[rx.set_clipboard(S.new_key), rx.toast.success("Copied")],
                ),
                align="center",
                wrap="wrap",
            ),
            rx.button("I have stored it", variant="soft", size="2", on_click=S.dismiss_key),
            spacing="2",
        ),
        color_scheme="amber",
        width="100%",
    )


def _create_form() -> rx.Component:
    errs = S.create_errors
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("New API key", size="4"),
                field(
                    "Name",
                    rx.input(name="name", placeholder="terraform", size="3"),
                    error_of(errs, "name"),
                ),
                field(
                    "Scopes",
                    rx.flex(
                        *[rx.checkbox(s, name=SCOPE_FIELD_PREFIX + s, size="2") for s in SCOPES],
                        wrap="wrap",
                        spacing="3",
                    ),
                    error_of(errs, "scopes"),
                    "Write implies read.",
                ),
                field(
                    "Expires on (optional)",
                    rx.input(name="expires_on", type="date", size="3"),
                    error_of(errs, "expires_at"),
                    "The key stops working at the end of this day (UTC).",
                ),
                form_error(errs),
                rx.button(rx.icon("plus", size=16), "Create key", type="submit", size="3"),
                spacing="3",
                align="stretch",
            ),
            on_submit=S.create,
            reset_on_submit=False,
            key=S.form_generation,
        ),
        width="100%",
    )


def _revoke(key: ApiKeyOut) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button("Revoke", color_scheme="red", variant="soft", size="2")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke " + key.name + "?"),
            rx.alert_dialog.description("Anything using this key stops working at once."),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Revoke", color_scheme="red", on_click=S.revoke(key.id))
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
    )


def _when(value: rx.Var) -> rx.Component:
    return rx.cond(
        value,
        rx.moment(value.to(str), format="YYYY-MM-DD HH:mm"),
        rx.text("never", color=rx.color("gray", 10)),
    )


def _row(key: ApiKeyOut) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(key.name, weight="medium")),
        rx.table.cell(rx.code(key.display_prefix + "…")),
        rx.table.cell(
            rx.flex(
                rx.foreach(key.scopes, lambda s: rx.badge(s, variant="outline")),
                wrap="wrap",
                spacing="1",
            )
        ),
        rx.table.cell(status_badge(key.status)),
        rx.table.cell(_when(key.last_used_at)),
        rx.table.cell(key.use_count.to_string()),
        rx.table.cell(
            rx.cond(key.expires_at, rx.moment(key.expires_at.to(str), format="YYYY-MM-DD"), "—")
        ),
        rx.table.cell(rx.cond(key.status == "active", _revoke(key))),
    )


def _list() -> rx.Component:
    return rx.cond(
        S.keys.length() == 0,
        empty_state("key_round", "No API keys", "Create a key for each system that calls the API."),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in (
                                "Name",
                                "Prefix",
                                "Scopes",
                                "Status",
                                "Last used",
                                "Uses",
                                "Expires",
                                "",
                            )
                        ]
                    )
                ),
                rx.table.body(rx.foreach(S.keys, _row)),
                width="100%",
            ),
            width="100%",
            overflow_x="auto",
        ),
    )


@page("/settings/api-keys", "API keys", on_load=[S.load], admin=True)
def api_keys_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.new_key != "", _new_key_box()),
        _create_form(),
        rx.cond(S.loaded, _list(), loading_row()),
        spacing="4",
        width="100%",
    )
