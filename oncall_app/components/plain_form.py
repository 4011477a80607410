"""A browser-native HTML form.

``rx.el.form`` always prevents the default submit and routes the data through a Reflex event.
Sign-in and sign-out must be ordinary form posts to the FastAPI routes instead, so the response
can set or clear the HttpOnly session cookie and the page reloads with a fresh websocket.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.el.elements.base import BaseHTML


class PlainForm(BaseHTML):
    tag = "form"

    action: rx.Var[str]
    method: rx.Var[str]


plain_form = PlainForm.create


def sign_out_form(*, full_width: bool = False) -> rx.Component:
    return plain_form(
        rx.button(
            rx.icon("log_out", size=16),
            "Sign out",
            type="submit",
            variant="soft",
            color_scheme="gray",
            size="3",
            width="100%" if full_width else "auto",
            cursor="pointer",
        ),
        action="/api/auth/logout",
        method="post",
        width="100%" if full_width else "auto",
        custom_attrs={"data-testid": "sign-out"},
    )
