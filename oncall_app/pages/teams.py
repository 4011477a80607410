"""/teams: every team with tags, size and health; search; create."""

from __future__ import annotations

import reflex as rx

from backend.teams.schemas import TeamOut
from oncall_app.components.badges import tag_badges, warning_count
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.form_card import form_card
from oncall_app.components.forms import error_of, field
from oncall_app.layout import page
from oncall_app.state.teams import TeamsState

TAG_HINT = "Separate with commas or spaces: lowercase letters, digits and : _ - . /"


def _create_form() -> rx.Component:
    errs = TeamsState.create_errors
    return form_card(
        field(
            "Name",
            rx.input(name="name", placeholder="Platform", size="3"),
            error_of(errs, "name"),
        ),
        field(
            "Description",
            rx.text_area(name="description", placeholder="What the team owns", rows="2"),
            error_of(errs, "description"),
        ),
        field(
            "Organisational tags",
            rx.input(name="org_tags", placeholder="engineering, eu", size="3"),
            error_of(errs, "org_tags"),
            TAG_HINT,
        ),
        field(
            "Technical tags",
            rx.input(name="tech_tags", placeholder="kubernetes, postgres", size="3"),
            error_of(errs, "tech_tags"),
            TAG_HINT,
        ),
        errors=errs,
        submit="Create team",
        on_submit=TeamsState.create,
        on_cancel=TeamsState.toggle_create,
        title="New team",
        testid="create-team-form",
    )


def team_card(team: TeamOut) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.link(rx.heading(team.name, size="4"), href="/teams/" + team.id.to_string()),
                rx.spacer(),
                warning_count(team.health_warnings),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                team.description != "",
                rx.text(team.description, size="2", color=rx.color("gray", 11)),
            ),
            rx.flex(
                tag_badges(team.org_tags, "violet"),
                tag_badges(team.tech_tags, "cyan"),
                wrap="wrap",
                spacing="1",
            ),
            rx.text(
                team.member_count.to_string() + " member(s)", size="1", color=rx.color("gray", 10)
            ),
            spacing="2",
            align="stretch",
        ),
        width="100%",
        custom_attrs={"data-testid": "team-card"},
    )


def _list() -> rx.Component:
    return rx.cond(
        ~TeamsState.loaded,
        loading_row(),
        rx.cond(
            TeamsState.teams.length() == 0,
            empty_state(
                "users",
                "No teams",
                rx.cond(
                    TeamsState.search != "",
                    "No team matches your search.",
                    "Create the first team to start building rotations.",
                ),
            ),
            rx.grid(
                rx.foreach(TeamsState.teams, team_card),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="3",
                width="100%",
            ),
        ),
    )


def _new_team_button() -> rx.Component:
    return rx.button(
        rx.icon("plus", size=16), "New team", on_click=TeamsState.toggle_create, size="3"
    )


@page("/teams", "Teams", on_load=[TeamsState.load], actions=_new_team_button)
def teams_page() -> rx.Component:
    return rx.vstack(
        rx.cond(TeamsState.creating, _create_form()),
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search teams by name, description or tag",
            on_change=TeamsState.search_changed.debounce(300),
            size="3",
            width="100%",
            type="search",
        ),
        _list(),
        spacing="4",
        width="100%",
    )
