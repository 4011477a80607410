"""Labelled form fields with an inline error line under each."""

from __future__ import annotations

from typing import Any

import reflex as rx

# A browser-native <select>: its value arrives with the form, and it works on phones.
NATIVE_SELECT = {
    "padding": "0.5em 0.6em",
    "min_height": "40px",
    "border_radius": "var(--radius-2)",
    "border": f"1px solid {rx.color('gray', 7)}",
    "background": rx.color("gray", 1),
    "font_size": "var(--font-size-2)",
}


def choice_option(choice: Any) -> rx.Component:
    """An ``<option>`` for anything with ``id`` and ``name`` (a team, a member)."""
    return rx.el.option(choice.name, value=choice.id)


def field(label: str, control: rx.Component, error: rx.Var[str], hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        control,
        rx.cond(
            error != "",
            rx.text(error, size="1", color=rx.color("red", 11), role="alert"),
            rx.text(hint, size="1", color=rx.color("gray", 10)) if hint else rx.fragment(),
        ),
        spacing="1",
        width="100%",
        align="stretch",
    )


def error_of(messages: rx.Var[dict[str, str]], key: str) -> rx.Var[str]:
    """The message for ``key`` or "" (a missing key would be ``undefined`` in the browser)."""
    return rx.cond(messages.contains(key), messages[key].to(str), "")


def form_error(messages: rx.Var[dict[str, str]]) -> rx.Component:
    """Errors not tied to one field."""
    return rx.cond(
        messages.contains("form"),
        rx.callout(messages["form"].to(str), icon="circle_alert", color_scheme="red", size="1"),
    )
