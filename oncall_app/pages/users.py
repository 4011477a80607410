"""/users: the directory, searchable by name or e-mail."""

from __future__ import annotations

import reflex as rx

from backend.identity.schemas import UserOut
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.layout import page
from oncall_app.state.people import UsersState


def _row(user: UserOut) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(user.name, weight="medium")),
        rx.table.cell(user.email),
        rx.table.cell(
            rx.cond(
                user.platform_role.to(str) == "PLATFORM_ADMIN",
                rx.badge("platform admin", color_scheme="violet"),
                rx.text("user", color=rx.color("gray", 10)),
            )
        ),
        rx.table.cell(user.time_zone),
    )


@page("/users", "Users", on_load=[UsersState.load])
def users_page() -> rx.Component:
    return rx.vstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search by name or e-mail",
            on_change=UsersState.search_changed.debounce(300),
            size="3",
            type="search",
            width="100%",
        ),
        rx.cond(
            ~UsersState.loaded,
            loading_row(),
            rx.cond(
                UsersState.users.length() == 0,
                empty_state("book_user", "No users", "Nobody matches your search."),
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Name"),
                                rx.table.column_header_cell("E-mail"),
                                rx.table.column_header_cell("Platform role"),
                                rx.table.column_header_cell("Time zone"),
                            )
                        ),
                        rx.table.body(rx.foreach(UsersState.users, _row)),
                        width="100%",
                    ),
                    width="100%",
                    overflow_x="auto",
                ),
            ),
        ),
        spacing="4",
        width="100%",
    )
