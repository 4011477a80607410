"""The app shell and the ``@page`` decorator every signed-in page uses.

``@page`` adds the session guard as the first ``on_load`` so no page can forget it, wraps the
content in the shell (sidebar or phone bottom bar) and, for admin pages, shows a plain notice
to non-admins (the services refuse them anyway; the notice only avoids a confusing empty page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from oncall_app.components.nav import bottom_bar, sidebar
from oncall_app.state.session import SessionState

TITLE_SUFFIX = " · OnCall"


def _admin_only(content: rx.Component) -> rx.Component:
    return rx.cond(
        SessionState.is_platform_admin,
        content,
        rx.callout("Only platform admins can use this page.", icon="shield", color_scheme="amber"),
    )


def shell(
    title: str | rx.Var[str], content: rx.Component, actions: rx.Component | None = None
) -> rx.Component:
    return rx.hstack(
        sidebar(),
        rx.el.main(
            rx.hstack(
                rx.heading(title, size="6", as_="h1"),
                rx.spacer(),
                actions or rx.fragment(),
                align="center",
                width="100%",
                wrap="wrap",
                spacing="3",
            ),
            rx.cond(
                SessionState.authenticated,
                rx.box(content, width="100%", padding_top="1.25em"),
                rx.center(rx.spinner(size="3"), padding="4em"),
            ),
            flex="1",
            min_width="0",
            max_width="1120px",
            padding=["1em 1em 6em", "1.25em 1.25em 6em", "2em 2.5em"],
        ),
        bottom_bar(),
        spacing="0",
        align="start",
        width="100%",
        min_height="100vh",
    )


def page(
    route: str,
    title: str,
    *,
    on_load: list[Any] | None = None,
    admin: bool = False,
    actions: Callable[[], rx.Component] | None = None,
    heading: rx.Var[str] | None = None,
) -> Callable[[Callable[[], rx.Component]], Callable[[], rx.Component]]:
    """Register ``route`` as a signed-in page rendered by the decorated function.

    ``heading`` replaces the static title in the page header (for example a team's name).
    """

    def decorator(content_fn: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
        def render() -> rx.Component:
            content = content_fn()
            return shell(
                heading if heading is not None else title,
                _admin_only(content) if admin else content,
                actions() if actions else None,
            )

        render.__name__ = f"page_{content_fn.__name__}"
        rx.page(
            route=route, title=title + TITLE_SUFFIX, on_load=[SessionState.guard, *(on_load or [])]
        )(render)
        return content_fn

    return decorator
