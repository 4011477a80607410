"""Pieces the list and detail pages repeat: a form in a card with Save/Cancel, a titled
section card, and a delete button that asks first."""

from __future__ import annotations

from typing import Any

import reflex as rx

from oncall_app.components.forms import form_error


def form_card(
    *fields: rx.Component,
    errors: rx.Var[dict[str, str]],
    submit: str,
    on_submit: Any,
    on_cancel: Any,
    title: str = "",
    testid: str = "",
) -> rx.Component:
    """A card holding one form: optional heading, the fields, errors not tied to a field,
    then the submit and Cancel buttons."""
    header = [rx.heading(title, size="4")] if title else []
    attrs = {"custom_attrs": {"data-testid": testid}} if testid else {}
    return rx.card(
        rx.form(
            rx.vstack(
                *header,
                *fields,
                form_error(errors),
                rx.hstack(
                    rx.button(submit, type="submit", size="3"),
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        size="3",
                        on_click=on_cancel,
                    ),
                    spacing="3",
                ),
                spacing="3",
                align="stretch",
            ),
            on_submit=on_submit,
            **attrs,
        ),
        width="100%",
    )


def section(title: str, *children: rx.Component, actions: rx.Component | None = None):
    """A card with an h2 title, optional actions on the right, then its content."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(title, size="4", as_="h2"),
                rx.spacer(),
                actions or rx.fragment(),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            *children,
            spacing="3",
            width="100%",
            align="stretch",
        ),
        width="100%",
    )


def confirm_delete(
    label: str,
    title: rx.Var[str] | str,
    description: str,
    on_confirm: Any,
    *,
    size: str = "2",
) -> rx.Component:
    """A red "Delete…" button whose dialog asks before ``on_confirm`` runs."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash_2", size=16 if size == "3" else 14),
                label,
                color_scheme="red",
                variant="soft",
                size=size,
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(
                    rx.button("Delete", color_scheme="red", on_click=on_confirm)
                ),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
    )
