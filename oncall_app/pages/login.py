"""/login: break-glass sign-in as a plain HTML form post, plus the SSO button when enabled.

The form posts to ``/api/auth/break-glass`` directly (not through a Reflex event) so the
response can set the HttpOnly session cookie; failures come back as ``?error=<code>``.
"""

from __future__ import annotations

import reflex as rx

from oncall_app.components.plain_form import plain_form
from oncall_app.state.login import LoginState


def _sso() -> rx.Component:
    return rx.cond(
        LoginState.sso_enabled,
        rx.vstack(
            rx.link(
                rx.button(rx.icon("shield", size=16), LoginState.sso_label, size="3", width="100%"),
                href=LoginState.sso_href,
                reload_document=True,
                width="100%",
            ),
            rx.hstack(
                rx.separator(size="4"),
                rx.text("or", size="1", color=rx.color("gray", 10)),
                rx.separator(size="4"),
                align="center",
                width="100%",
            ),
            width="100%",
            spacing="4",
        ),
    )


def _form() -> rx.Component:
    return plain_form(
        rx.vstack(
            rx.text("E-mail", as_="label", size="2", weight="medium", html_for="email"),
            rx.input(
                id="email",
                name="email",
                type="email",
                required=True,
                auto_complete="username",
                size="3",
                width="100%",
            ),
            rx.text("Password", as_="label", size="2", weight="medium", html_for="password"),
            rx.input(
                id="password",
                name="password",
                type="password",
                required=True,
                auto_complete="current-password",
                size="3",
                width="100%",
            ),
            rx.el.input(type="hidden", name="next", value=LoginState.next_path),
            rx.button("Sign in", type="submit", size="3", width="100%", margin_top="0.5em"),
            spacing="2",
            width="100%",
            align="stretch",
        ),
        action="/api/auth/break-glass",
        method="post",
        width="100%",
        custom_attrs={"data-testid": "login-form"},
    )


@rx.page(route="/login", title="Sign in · OnCall", on_load=LoginState.load)
def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.icon("siren", size=26, color=rx.color("accent", 10)),
                    rx.heading("OnCall", size="6"),
                    align="center",
                ),
                rx.text("Sign in to continue.", color=rx.color("gray", 11)),
                rx.cond(
                    LoginState.error_message != "",
                    rx.callout(
                        LoginState.error_message,
                        icon="circle_alert",
                        color_scheme="red",
                        width="100%",
                        role="alert",
                        custom_attrs={"data-testid": "login-error"},
                    ),
                ),
                _sso(),
                rx.text(
                    "Break-glass account: for when single sign-on is unavailable. "
                    "Every use is audited.",
                    size="1",
                    color=rx.color("gray", 10),
                ),
                _form(),
                spacing="4",
                width="100%",
            ),
            width="100%",
            max_width="400px",
            size="4",
        ),
        min_height="100vh",
        padding="1em",
        background=rx.color("gray", 2),
    )
