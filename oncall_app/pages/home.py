"""/: open incidents; who is on call now in my teams' schedules; my teams with my role and
their health warnings."""

from __future__ import annotations

import reflex as rx

from backend.teams.schemas import MyTeamOut
from oncall_app.components.badges import role_badge, severity_badge, warnings_list
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.incident_badges import incident_status_badge
from oncall_app.layout import page
from oncall_app.pages.schedules import oncall_now_list
from oncall_app.state.home import HomeState
from oncall_app.state.incidents import IncidentRow
from oncall_app.state.session import SessionState


def _team(team: MyTeamOut) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.link(rx.heading(team.name, size="4"), href="/teams/" + team.id.to_string()),
                rx.spacer(),
                role_badge(team.my_role.to(str)),
                width="100%",
                align="center",
            ),
            rx.text(
                team.member_count.to_string() + " member(s)", size="1", color=rx.color("gray", 10)
            ),
            warnings_list(team.health_warnings),
            spacing="2",
            align="stretch",
        ),
        width="100%",
    )


def _incident(row: IncidentRow) -> rx.Component:
    return rx.hstack(
        incident_status_badge(row.status, size="1"),
        severity_badge(row.severity),
        rx.link(
            "#" + row.id.to_string() + " " + row.title,
            href="/incidents/" + row.id.to_string(),
            size="2",
            word_break="break-word",
        ),
        spacing="2",
        align="center",
        width="100%",
    )


def _open_incidents() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("siren", size=18, color=rx.color("red", 10)),
                rx.heading("Open incidents", size="4", as_="h2"),
                rx.spacer(),
                rx.link("All incidents", href="/incidents", size="2"),
                align="center",
                width="100%",
            ),
            rx.cond(
                HomeState.open_incidents.length() == 0,
                rx.text("Nothing open. All quiet.", size="2", color=rx.color("gray", 11)),
                rx.vstack(
                    rx.foreach(HomeState.open_incidents, _incident), spacing="2", width="100%"
                ),
            ),
            rx.cond(
                HomeState.more_incidents,
                rx.link("More open incidents…", href="/incidents", size="1"),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "home-open-incidents"},
    )


@page("/", "Home", on_load=[HomeState.load])
def home_page() -> rx.Component:
    return rx.vstack(
        rx.text("Signed in as ", rx.text.strong(SessionState.user_name), "."),
        _open_incidents(),
        oncall_now_list(HomeState.oncall_now, HomeState.i_am_on_call, HomeState.loaded),
        rx.heading("My teams", size="4", as_="h2"),
        rx.cond(
            ~HomeState.loaded,
            loading_row(),
            rx.cond(
                HomeState.my_teams.length() == 0,
                empty_state(
                    "users",
                    "You are not in any team yet",
                    "Open Teams to create one or ask a team admin to add you.",
                ),
                rx.grid(
                    rx.foreach(HomeState.my_teams, _team),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3",
                    width="100%",
                ),
            ),
        ),
        spacing="4",
        width="100%",
        align="stretch",
    )
