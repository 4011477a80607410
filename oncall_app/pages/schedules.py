"""/schedules: every schedule with its team, zone and who is on call now; create; my feed."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.calendar_feeds import feed_list, feed_url_once
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.form_card import form_card
from oncall_app.components.forms import NATIVE_SELECT, choice_option, error_of, field
from oncall_app.layout import page
from oncall_app.pages.profile import ZONES
from oncall_app.state.schedules import ScheduleRow
from oncall_app.state.schedules import SchedulesState as S


def _create_form() -> rx.Component:
    errs = S.create_errors
    return form_card(
        field(
            "Team",
            rx.el.select(
                rx.foreach(S.team_choices, choice_option),
                name="team_id",
                style=NATIVE_SELECT | {"width": "100%"},
            ),
            error_of(errs, "team_id"),
            "Teams you administer.",
        ),
        field(
            "Name",
            rx.input(name="name", placeholder="Primary on-call", size="3"),
            error_of(errs, "name"),
        ),
        field(
            "Time zone",
            rx.el.select(
                *[rx.el.option(z, value=z) for z in ZONES],
                name="time_zone",
                default_value="UTC",
                style=NATIVE_SELECT | {"width": "100%"},
            ),
            error_of(errs, "time_zone"),
            "Handoff times and restrictions are read in this zone (DST included).",
        ),
        field(
            "Description",
            rx.text_area(name="description", rows="2"),
            error_of(errs, "description"),
        ),
        errors=errs,
        submit="Create schedule",
        on_submit=S.create,
        on_cancel=S.toggle_create,
        title="New schedule",
        testid="create-schedule-form",
    )


def oncall_cell(row: ScheduleRow) -> rx.Component:
    return rx.cond(
        row.oncall_name != "",
        rx.hstack(
            rx.text(row.oncall_name, weight="medium", size="2"),
            rx.cond(row.oncall_mine, rx.badge("you", color_scheme="green")),
            rx.text("until " + row.oncall_until, size="1", color=rx.color("gray", 10)),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.badge("nobody: gap", color_scheme="red"),
    )


def _row(row: ScheduleRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.name, href="/schedules/" + row.id.to_string(), weight="medium")),
        rx.table.cell(rx.link(row.team_name, href="/teams/" + row.team_id.to_string())),
        rx.table.cell(rx.code(row.time_zone, variant="ghost")),
        rx.table.cell(oncall_cell(row)),
        custom_attrs={"data-testid": "schedule-row"},
    )


def _list() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.schedules.length() == 0,
            empty_state(
                "calendar_days",
                "No schedules",
                "A team admin creates a schedule, then adds rotation layers to it.",
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Schedule"),
                            rx.table.column_header_cell("Team"),
                            rx.table.column_header_cell("Zone"),
                            rx.table.column_header_cell("On call now"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.schedules, _row)),
                    width="100%",
                    variant="surface",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
    )


def _my_feed() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("My shifts in my calendar", size="3", as_="h2"),
                rx.spacer(),
                rx.button(
                    rx.icon("plus", size=14), "New feed URL", size="2", on_click=S.create_my_feed
                ),
                width="100%",
                align="center",
            ),
            rx.text(
                "A secret iCalendar URL with your shifts in every schedule (last 31 days, "
                "next 62). Revoke it if it leaks. Google and Outlook sync: see your profile.",
                size="2",
                color=rx.color("gray", 11),
            ),
            feed_url_once(S.new_feed_url, S.hide_feed_url),
            feed_list(S.my_feeds, S.revoke_feed),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _new_button() -> rx.Component:
    return rx.cond(
        S.team_choices.length() > 0,
        rx.button(rx.icon("plus", size=16), "New schedule", on_click=S.toggle_create, size="3"),
    )


@page("/schedules", "Schedules", on_load=[S.load], actions=_new_button)
def schedules_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.creating, _create_form()),
        _list(),
        _my_feed(),
        spacing="4",
        width="100%",
    )


def _oncall_now_row(row: ScheduleRow) -> rx.Component:
    return rx.hstack(
        rx.link(row.name, href="/schedules/" + row.id.to_string(), weight="medium"),
        rx.text(row.team_name, size="1", color=rx.color("gray", 10)),
        rx.spacer(),
        oncall_cell(row),
        width="100%",
        align="center",
        wrap="wrap",
        custom_attrs={"data-testid": "home-oncall-row"},
    )


def oncall_now_list(
    rows: rx.Var[list[ScheduleRow]], mine: rx.Var[bool], loaded: rx.Var[bool]
) -> rx.Component:
    """The home page's "who is on call now" card for my teams' schedules."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("On call now", size="4", as_="h2"),
                rx.spacer(),
                rx.cond(
                    mine,
                    rx.badge("You are on call", color_scheme="green", size="2"),
                    rx.badge("You are not on call", color_scheme="gray", size="2"),
                ),
                width="100%",
                align="center",
                custom_attrs={"data-testid": "home-oncall"},
            ),
            rx.cond(
                ~loaded,
                loading_row(),
                rx.cond(
                    rows.length() == 0,
                    rx.text(
                        "Your teams have no schedules yet.", size="2", color=rx.color("gray", 10)
                    ),
                    rx.vstack(rx.foreach(rows, _oncall_now_row), spacing="2", width="100%"),
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )
