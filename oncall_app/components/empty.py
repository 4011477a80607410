from __future__ import annotations

import reflex as rx


def empty_state(icon: str, title: str, text: str | rx.Var[str]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=32, color=rx.color("gray", 9)),
            rx.heading(title, size="4"),
            rx.text(text, color=rx.color("gray", 11), text_align="center", max_width="36em"),
            align="center",
            spacing="3",
            padding="2em 1em",
        ),
        width="100%",
    )


def loading_row() -> rx.Component:
    return rx.hstack(rx.spinner(size="2"), rx.text("Loading…", color=rx.color("gray", 11)))
