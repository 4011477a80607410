"""A secret value (a feed URL, a check-in URL) shown once, with Copy and Done."""

from __future__ import annotations

from typing import Any

import reflex as rx


def shown_once(
    value: rx.Var[str], on_hide: Any, message: str, testid: str, *extra: rx.Component
) -> rx.Component:
    """An amber callout with ``message``, the value read-only with a copy button, then
    ``extra`` (an example command); it disappears when ``value`` is emptied by ``on_hide``."""
    return rx.cond(
        value != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key_round")),
            rx.vstack(
                rx.text(message, size="2"),
                rx.hstack(
                    rx.input(
                        value=value,
                        read_only=True,
                        width="100%",
                        custom_attrs={"data-testid": testid},
                    ),
                    rx.button(
                        rx.icon("copy", size=14),
                        "Copy",
                        type="button",
                        on_click=[rx.set_clipboard(value), rx.toast.info("Copied")],
                    ),
                    rx.button("Done", type="button", variant="soft", on_click=on_hide),
                    width="100%",
                    wrap="wrap",
                ),
                *extra,
                spacing="2",
                width="100%",
            ),
            color_scheme="amber",
            width="100%",
        ),
    )
