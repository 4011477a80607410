"""/teams/[team_id]: members and roles; add, change, remove, leave; edit; delete.

Buttons appear only when ``teams.can`` allows them; the services check again and any refusal is
toasted, so a stale page can never do more than its user may.
"""

from __future__ import annotations

import reflex as rx

from backend.identity.schemas import UserOut
from backend.teams.models import TeamRole
from backend.teams.schemas import MemberOut
from oncall_app.components.badges import role_badge, tag_badges, warnings_list
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.form_card import confirm_delete, form_card

# Re-exported: other pages still import NATIVE_SELECT from here.
from oncall_app.components.forms import NATIVE_SELECT as NATIVE_SELECT
from oncall_app.components.forms import error_of, field, form_error
from oncall_app.layout import page
from oncall_app.state.team_detail import TeamDetailState as S

ROLES = [r.value for r in TeamRole]


def role_select(name: str = "", value: rx.Var[str] | None = None, **props) -> rx.Component:
    # Native select: the phone's own picker, and one event per change.
    options = [rx.el.option(r.replace("_", " ").title(), value=r) for r in ROLES]
    extra = {"name": name} if name else {}
    if value is not None:
        extra["value"] = value
    return rx.el.select(*options, **extra, **props, style=NATIVE_SELECT)


def _member_row(member: MemberOut) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(member.name, weight="medium"),
                rx.text(member.email, size="1", color=rx.color("gray", 10)),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.cond(
                S.can_manage,
                role_select(
                    value=member.role.to(str),
                    on_change=lambda v: S.change_role(member.user_id, v),
                    aria_label="Role of " + member.name,
                ),
                role_badge(member.role.to(str)),
            )
        ),
        rx.table.cell(
            rx.cond(
                S.can_manage & (member.user_id != S.user_id),
                rx.button(
                    rx.icon("trash_2", size=14),
                    "Remove",
                    variant="soft",
                    color_scheme="red",
                    size="2",
                    on_click=S.remove_member(member.user_id),
                ),
            )
        ),
        custom_attrs={"data-testid": "member-row"},
    )


def _user_option(user: UserOut) -> rx.Component:
    return rx.el.option(user.name + " <" + user.email + ">", value=user.id.to_string())


def _add_member() -> rx.Component:
    return rx.form(
        rx.flex(
            field(
                "Person",
                rx.el.select(
                    rx.el.option("Choose someone…", value=""),
                    rx.foreach(S.candidates, _user_option),
                    name="user_id",
                    style=NATIVE_SELECT | {"width": "100%"},
                ),
                error_of(S.add_errors, "user_id"),
            ),
            field(
                "Role",
                role_select(name="role", default_value="RESPONDER"),
                error_of(S.add_errors, "role"),
            ),
            rx.button(rx.icon("user_plus", size=16), "Add member", type="submit", size="3"),
            form_error(S.add_errors),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="3",
            align=rx.breakpoints(initial="stretch", sm="end"),
            width="100%",
        ),
        on_submit=S.add_member,
        reset_on_submit=True,
        custom_attrs={"data-testid": "add-member-form"},
    )


def _edit_form() -> rx.Component:
    errs = S.edit_errors
    return form_card(
        field(
            "Name", rx.input(name="name", default_value=S.name, size="3"), error_of(errs, "name")
        ),
        field(
            "Description",
            rx.text_area(name="description", default_value=S.description, rows="3"),
            error_of(errs, "description"),
        ),
        field(
            "Organisational tags",
            rx.input(name="org_tags", default_value=S.org_tags.join(", "), size="3"),
            error_of(errs, "org_tags"),
        ),
        field(
            "Technical tags",
            rx.input(name="tech_tags", default_value=S.tech_tags.join(", "), size="3"),
            error_of(errs, "tech_tags"),
        ),
        field(
            "Required contact methods (members need them verified to be on call)",
            rx.input(
                name="required_channels",
                default_value=S.required_channels.join(", "),
                placeholder="sms, voice",
                size="3",
            ),
            error_of(errs, "required_channels"),
        ),
        errors=errs,
        submit="Save",
        on_submit=S.save,
        on_cancel=S.toggle_edit,
    )


def _delete_button() -> rx.Component:
    return confirm_delete(
        "Delete team",
        "Delete " + S.name + "?",
        "The team and its memberships are removed. This cannot be undone.",
        S.delete,
        size="3",
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.cond(
            S.can_edit & ~S.editing,
            rx.button(
                rx.icon("pencil", size=16), "Edit", variant="soft", size="3", on_click=S.toggle_edit
            ),
        ),
        rx.cond(
            S.my_role != "",
            rx.button(
                rx.icon("door_open", size=16),
                "Leave team",
                variant="soft",
                color_scheme="gray",
                size="3",
                on_click=S.leave,
            ),
        ),
        rx.cond(S.can_delete, _delete_button()),
        spacing="2",
        wrap="wrap",
    )


def _team() -> rx.Component:
    return rx.vstack(
        rx.cond(S.my_role != "", rx.hstack(rx.text("Your role:", size="2"), role_badge(S.my_role))),
        rx.cond(S.description != "", rx.text(S.description, color=rx.color("gray", 11))),
        rx.flex(
            tag_badges(S.org_tags, "violet"),
            tag_badges(S.tech_tags, "cyan"),
            wrap="wrap",
            spacing="1",
        ),
        rx.cond(
            S.required_channels.length() > 0,
            rx.text(
                "Members need a verified " + S.required_channels.join(", ") + " method to be "
                "on call.",
                size="2",
                color=rx.color("gray", 11),
                custom_attrs={"data-testid": "required-channels"},
            ),
        ),
        _actions(),
        rx.cond(S.editing, _edit_form()),
        warnings_list(S.health_warnings),
        rx.heading("Members", size="4", as_="h3", margin_top="0.5em"),
        rx.cond(S.can_manage, _add_member()),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Person"),
                        rx.table.column_header_cell("Role"),
                        rx.table.column_header_cell(""),
                    )
                ),
                rx.table.body(rx.foreach(S.members, _member_row)),
                width="100%",
            ),
            width="100%",
            overflow_x="auto",
        ),
        spacing="3",
        width="100%",
        align="stretch",
    )


@page("/teams/[team_id]", "Team", on_load=[S.load], heading=S.heading)
def team_detail_page() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.found,
            _team(),
            empty_state("users", "Team not found", "It may have been deleted. Go back to Teams."),
        ),
    )
