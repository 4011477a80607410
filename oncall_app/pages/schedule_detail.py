"""/schedules/[schedule_id]: who is on call, the timeline, the schedule's settings, layers
and their editor with a live preview (``schedule_layers``), overrides and swaps
(``schedule_overrides``) and the schedule's calendar feed (``schedule_feeds``)."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.form_card import confirm_delete, form_card, section
from oncall_app.components.forms import NATIVE_SELECT, error_of, field
from oncall_app.components.timeline import legend, timeline
from oncall_app.layout import page
from oncall_app.pages.profile import ZONES
from oncall_app.pages.schedule_feeds import feed_section
from oncall_app.pages.schedule_layers import layers_section
from oncall_app.pages.schedule_overrides import overrides_section, swaps_section
from oncall_app.state.schedule_detail import ScheduleDetailState as S
from oncall_app.state.schedules_view import ShiftLine


# ---- header and timeline -------------------------------------------------------------------
def _now() -> rx.Component:
    return rx.cond(
        S.now_name != "",
        rx.callout(
            rx.text(
                "On call now: ",
                rx.text.strong(S.now_name),
                " until " + S.now_until,
            ),
            icon="phone_call",
            color_scheme="green",
            custom_attrs={"data-testid": "oncall-now"},
        ),
        rx.callout(
            "Nobody is on call right now: this is a coverage gap.",
            icon="triangle_alert",
            color_scheme="red",
            custom_attrs={"data-testid": "oncall-now"},
        ),
    )


def _window_controls() -> rx.Component:
    return rx.hstack(
        rx.button(
            rx.icon("chevron_left", size=16),
            variant="soft",
            on_click=S.shift_window(-1),
            aria_label="Earlier",
        ),
        rx.button("Today", variant="soft", on_click=S.today),
        rx.button(
            rx.icon("chevron_right", size=16),
            variant="soft",
            on_click=S.shift_window(1),
            aria_label="Later",
        ),
        rx.segmented_control.root(
            rx.segmented_control.item("1 week", value="7"),
            rx.segmented_control.item("2 weeks", value="14"),
            value=S.days.to_string(),
            on_change=S.set_days,
        ),
        spacing="2",
        align="center",
        wrap="wrap",
    )


def _shift_line(line: ShiftLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(line.user_name, weight="medium"),
                rx.cond(line.mine, rx.badge("you", color_scheme="green")),
                rx.cond(line.source != "layer", rx.badge(line.source, variant="outline")),
                spacing="2",
            )
        ),
        rx.table.cell(rx.text(line.when, title=line.when_schedule, size="2")),
        custom_attrs={"data-testid": "final-shift"},
    )


def _timeline_section() -> rx.Component:
    return section(
        "Timeline",
        rx.text(
            S.window_label,
            " · hover a bar for the schedule's zone (",
            S.time_zone,
            ")",
            size="1",
            color=rx.color("gray", 10),
        ),
        timeline(S.rows, S.ticks),
        legend(),
        rx.el.details(
            rx.el.summary(rx.text("Final shifts as a list", size="2", as_="span")),
            rx.table.root(
                rx.table.body(rx.foreach(S.final_lines, _shift_line)),
                size="1",
                width="100%",
            ),
        ),
        actions=_window_controls(),
    )


# ---- the schedule itself ------------------------------------------------------------------
def _edit_form() -> rx.Component:
    errs = S.edit_errors
    return form_card(
        field(
            "Name", rx.input(name="name", default_value=S.name, size="3"), error_of(errs, "name")
        ),
        field(
            "Time zone",
            rx.el.select(
                *[rx.el.option(z, value=z) for z in ZONES],
                name="time_zone",
                default_value=S.time_zone,
                style=NATIVE_SELECT | {"width": "100%"},
            ),
            error_of(errs, "time_zone"),
            "Handoffs and restrictions keep their wall-clock times in the new zone.",
        ),
        field(
            "Description",
            rx.text_area(name="description", default_value=S.description, rows="2"),
            error_of(errs, "description"),
        ),
        errors=errs,
        submit="Save",
        on_submit=S.save,
        on_cancel=S.toggle_edit,
        title="Edit schedule",
        testid="edit-schedule-form",
    )


def _header() -> rx.Component:
    return rx.hstack(
        rx.text("Team:", size="2"),
        rx.link(S.team_name, href="/teams/" + S.team_id.to_string()),
        rx.badge(S.time_zone, variant="soft", title="The schedule's zone"),
        rx.text("times shown in " + S.viewer_zone, size="1", color=rx.color("gray", 10)),
        rx.spacer(),
        rx.cond(
            S.can_edit,
            rx.hstack(
                rx.cond(
                    ~S.editing,
                    rx.button(
                        rx.icon("pencil", size=14), "Edit", variant="soft", on_click=S.toggle_edit
                    ),
                ),
                confirm_delete(
                    "Delete",
                    "Delete " + S.name + "?",
                    "Its layers, overrides, swaps and feeds are deleted with it.",
                    S.delete,
                ),
                spacing="2",
            ),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        width="100%",
    )


def _schedule() -> rx.Component:
    return rx.vstack(
        _header(),
        rx.cond(S.editing, _edit_form()),
        rx.cond(S.description != "", rx.text(S.description, color=rx.color("gray", 11))),
        _now(),
        _timeline_section(),
        layers_section(),
        overrides_section(),
        swaps_section(),
        feed_section(),
        spacing="4",
        width="100%",
        align="stretch",
    )


@page("/schedules/[schedule_id]", "Schedule", on_load=[S.load], heading=S.heading)
def schedule_detail_page() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.found,
            _schedule(),
            empty_state("calendar_x", "Schedule not found", "It may have been deleted."),
        ),
    )
