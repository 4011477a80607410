"""Navigation for every SPEC area: a sidebar on wide screens, a bottom bar plus a full menu
page on phones (large tap targets, reachable with one thumb)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from oncall_app.components.plain_form import sign_out_form
from oncall_app.state.session import SessionState


@dataclass(frozen=True)
class NavItem:
    label: str
    route: str
    icon: str
    admin_only: bool = False


SECTIONS: tuple[tuple[str, tuple[NavItem, ...]], ...] = (
    (
        "Respond",
        (
            NavItem("Home", "/", "house"),
            NavItem("Incidents", "/incidents", "siren"),
            NavItem("Alerts", "/alerts", "bell"),
            NavItem("Page requests", "/outbox", "inbox"),
        ),
    ),
    (
        "Configure",
        (
            NavItem("Services", "/services", "server"),
            NavItem("Integrations", "/integrations", "plug"),
            NavItem("Routing rules", "/routing-rules", "route"),
            NavItem("Schedules", "/schedules", "calendar_days"),
            NavItem("Escalation policies", "/escalation", "list_ordered"),
            NavItem("Notifications", "/notifications", "bell_ring"),
            NavItem("Workflows", "/workflows", "workflow"),
        ),
    ),
    (
        "Communicate",
        (
            NavItem("Postmortems", "/postmortems", "file_text"),
            NavItem("Status pages", "/status-pages", "activity"),
        ),
    ),
    (
        "Organisation",
        (
            NavItem("Teams", "/teams", "users"),
            NavItem("Users", "/users", "book_user"),
            NavItem("API keys", "/settings/api-keys", "key_round", admin_only=True),
            NavItem("Audit log", "/audit", "scroll_text"),
            NavItem("Profile", "/profile", "user"),
        ),
    ),
)

# The phone bar holds what a responder needs at 3 a.m.; everything else is one tap away.
BOTTOM_BAR = (
    NavItem("Home", "/", "house"),
    NavItem("Incidents", "/incidents", "siren"),
    NavItem("Teams", "/teams", "users"),
    NavItem("Audit", "/audit", "scroll_text"),
    NavItem("Menu", "/menu", "menu"),
)


def _is_active(route: str) -> rx.Var[bool]:
    path = rx.State.router.url.path
    if route == "/":
        return path == "/"
    return (path == route) | path.startswith(route + "/")


def _admin_gate(item: NavItem, component: rx.Component) -> rx.Component:
    return rx.cond(SessionState.is_platform_admin, component) if item.admin_only else component


def _side_link(item: NavItem) -> rx.Component:
    active = _is_active(item.route)
    return _admin_gate(
        item,
        rx.link(
            rx.hstack(
                rx.icon(item.icon, size=16),
                rx.text(item.label, size="2"),
                align="center",
                spacing="2",
                padding="0.45em 0.75em",
                border_radius="var(--radius-2)",
                background=rx.cond(active, rx.color("accent", 4), "transparent"),
                color=rx.cond(active, rx.color("accent", 12), rx.color("gray", 12)),
                _hover={"background": rx.color("gray", 4)},
                width="100%",
            ),
            href=item.route,
            underline="none",
            width="100%",
        ),
    )


def sidebar() -> rx.Component:
    return rx.el.nav(
        _sidebar_content(),
        aria_label="Main",
        display=["none", "none", "block"],
        position="sticky",
        top="0",
        height="100vh",
        custom_attrs={"data-testid": "sidebar-nav"},
    )


def _sidebar_content() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.icon("siren", size=22, color=rx.color("accent", 10)),
            rx.heading("OnCall", size="5"),
            align="center",
            padding="0.25em 0.75em 0.75em",
        ),
        *[
            rx.vstack(
                rx.text(
                    title, size="1", weight="bold", color=rx.color("gray", 10), padding_x="0.75em"
                ),
                *[_side_link(item) for item in items],
                spacing="0",
                width="100%",
            )
            for title, items in SECTIONS
        ],
        rx.spacer(),
        rx.vstack(
            rx.text(SessionState.user_name, size="2", weight="medium", trim="both"),
            rx.text(SessionState.user_email, size="1", color=rx.color("gray", 10)),
            sign_out_form(full_width=True),
            spacing="2",
            width="100%",
            padding="0.75em",
        ),
        spacing="3",
        width="232px",
        min_width="232px",
        height="100%",
        padding_y="1em",
        padding_x="0.5em",
        overflow_y="auto",
        background=rx.color("gray", 2),
        border_right=f"1px solid {rx.color('gray', 5)}",
    )


def _bar_link(item: NavItem) -> rx.Component:
    active = _is_active(item.route)
    return rx.link(
        rx.vstack(
            rx.icon(item.icon, size=22),
            rx.text(item.label, size="1"),
            align="center",
            spacing="1",
            justify="center",
            min_height="56px",
            width="100%",
        ),
        href=item.route,
        underline="none",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 11)),
        flex="1",
        aria_label=item.label,
    )


def bottom_bar() -> rx.Component:
    return rx.el.nav(
        *[_bar_link(item) for item in BOTTOM_BAR],
        aria_label="Main",
        position="fixed",
        bottom="0",
        left="0",
        right="0",
        z_index="50",
        padding_bottom="env(safe-area-inset-bottom)",
        background=rx.color("gray", 1),
        border_top=f"1px solid {rx.color('gray', 5)}",
        display=["flex", "flex", "none"],
        custom_attrs={"data-testid": "bottom-nav"},
    )


def _menu_tile(item: NavItem) -> rx.Component:
    return _admin_gate(
        item,
        rx.link(
            rx.card(
                rx.hstack(rx.icon(item.icon, size=20), rx.text(item.label, size="3"), spacing="3"),
                width="100%",
                min_height="52px",
            ),
            href=item.route,
            underline="none",
            width="100%",
        ),
    )


def menu_list() -> rx.Component:
    """Every area as a large tile: the phone menu page."""
    return rx.vstack(
        *[
            rx.vstack(
                rx.text(title, size="1", weight="bold", color=rx.color("gray", 10)),
                *[_menu_tile(item) for item in items],
                spacing="2",
                width="100%",
            )
            for title, items in SECTIONS
        ],
        sign_out_form(full_width=True),
        spacing="5",
        width="100%",
    )
