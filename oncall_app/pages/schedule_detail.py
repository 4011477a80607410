"""/schedules/[schedule_id]: who is on call, the timeline, layers and their editor with a live
preview, overrides, swaps and the schedule's calendar feed."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.forms import error_of, field, form_error
from oncall_app.components.timeline import legend, timeline
from oncall_app.layout import page
from oncall_app.pages.schedules import feed_list, feed_url_once
from oncall_app.pages.team_detail import NATIVE_SELECT
from oncall_app.state.schedule_detail import LayerCard, OverrideRow, SwapRow
from oncall_app.state.schedule_detail import ScheduleDetailState as S
from oncall_app.state.schedule_editor import ParticipantRow
from oncall_app.state.schedules_view import DAYS, RestrictionDraft, ShiftLine
from oncall_app.state.services import TeamChoice

SELECT = NATIVE_SELECT | {"width": "100%"}
RULE_HINT = (
    "RFC 5545 subset: FREQ=DAILY|WEEKLY|MONTHLY with INTERVAL, BYDAY (e.g. "
    "FREQ=WEEKLY;BYDAY=MO,TH hands off twice a week) and WKST."
)


def _member(member: TeamChoice) -> rx.Component:
    return rx.el.option(member.name, value=member.id)


def _section(title: str, *children: rx.Component, actions: rx.Component | None = None):
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(title, size="4", as_="h2"),
                rx.spacer(),
                actions or rx.fragment(),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            *children,
            spacing="3",
            width="100%",
            align="stretch",
        ),
        width="100%",
    )


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
    return _section(
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


# ---- layers and the editor -----------------------------------------------------------------
def _layer_card(layer: LayerCard) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.vstack(
                rx.hstack(
                    rx.text(layer.name, weight="bold"),
                    rx.badge("priority " + layer.priority.to_string(), variant="soft"),
                    spacing="2",
                    align="center",
                ),
                rx.text(layer.who, size="2"),
                rx.text(
                    rx.code(layer.rule, variant="ghost"),
                    " · handoff " + layer.handoff + " · from " + layer.starts_on,
                    " · on " + layer.restrictions,
                    size="1",
                    color=rx.color("gray", 10),
                ),
                spacing="1",
                align="start",
            ),
            rx.spacer(),
            rx.cond(
                S.can_edit,
                rx.hstack(
                    rx.button("Edit", size="1", variant="soft", on_click=S.edit_layer(layer.id)),
                    rx.button(
                        "Remove",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=S.delete_layer(layer.id),
                    ),
                ),
            ),
            width="100%",
            align="start",
            wrap="wrap",
        ),
        padding="0.75em",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="var(--radius-3)",
        width="100%",
        custom_attrs={"data-testid": "layer-card"},
    )


def _participant(row: ParticipantRow) -> rx.Component:
    return rx.hstack(
        rx.badge((row.index + 1).to_string(), variant="soft"),
        rx.text(row.name, size="2"),
        rx.spacer(),
        rx.icon_button(
            rx.icon("arrow_up", size=14),
            size="1",
            variant="soft",
            type="button",
            on_click=S.move_participant(row.index, -1),
            aria_label="Move up",
        ),
        rx.icon_button(
            rx.icon("arrow_down", size=14),
            size="1",
            variant="soft",
            type="button",
            on_click=S.move_participant(row.index, 1),
            aria_label="Move down",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="soft",
            color_scheme="red",
            type="button",
            on_click=S.remove_participant(row.index),
            aria_label="Remove " + row.name,
        ),
        align="center",
        width="100%",
        custom_attrs={"data-testid": "participant"},
    )


def _restriction(window: RestrictionDraft, index: rx.Var[int]) -> rx.Component:
    return rx.hstack(
        *[
            rx.button(
                name,
                size="1",
                type="button",
                variant=rx.cond(window.days.contains(day), "solid", "outline"),
                on_click=S.toggle_day(index, day),
                custom_attrs={"aria-pressed": window.days.contains(day).to_string()},
            )
            for day, name in enumerate(DAYS)
        ],
        rx.input(
            type="time",
            value=window.start,
            on_change=lambda v: S.set_window(index, "start", v),
            aria_label="Window start",
            width="7.5em",
        ),
        rx.text("to", size="2"),
        rx.input(
            type="time",
            value=window.end,
            on_change=lambda v: S.set_window(index, "end", v),
            aria_label="Window end",
            width="7.5em",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="soft",
            color_scheme="red",
            type="button",
            on_click=S.remove_restriction(index),
            aria_label="Remove window",
        ),
        spacing="1",
        align="center",
        wrap="wrap",
        custom_attrs={"data-testid": "restriction"},
    )


def _text(name: str, **props) -> rx.Component:
    return rx.input(
        value=getattr(S.draft, name),
        on_change=lambda v: S.set_draft_field(name, v),
        name=name,
        size="2",
        **props,
    )


def _rotation_fields() -> rx.Component:
    errs = S.editor_errors
    return rx.grid(
        field(
            "Rotation",
            rx.el.select(
                rx.el.option("Daily", value="daily"),
                rx.el.option("Weekly", value="weekly"),
                rx.el.option("Custom RRULE", value="custom"),
                value=S.draft.kind,
                on_change=lambda v: S.set_draft_field("kind", v),
                name="kind",
                style=SELECT,
            ),
            error_of(errs, "rrule"),
        ),
        rx.cond(
            S.draft.kind == "custom",
            field("RRULE", _text("custom_rule"), rx.Var.create(""), RULE_HINT),
            field(
                "Every",
                _text("interval", type="number", min="1", max="366"),
                rx.Var.create(""),
                "Days or weeks between handoffs.",
            ),
        ),
        field("Handoff time", _text("handoff", type="time"), error_of(errs, "handoff_time")),
        field("Starts on", _text("starts_on", type="date"), error_of(errs, "starts_on")),
        columns=rx.breakpoints(initial="1", sm="2"),
        spacing="3",
        width="100%",
    )


def _editor() -> rx.Component:
    errs = S.editor_errors
    return rx.box(
        rx.vstack(
            rx.heading(rx.cond(S.draft.layer_id > 0, "Edit layer", "New layer"), size="3"),
            rx.grid(
                field("Name", _text("name"), error_of(errs, "name")),
                field(
                    "Priority",
                    _text("priority", type="number", min="0", max="100"),
                    error_of(errs, "priority"),
                    "Higher wins where layers overlap.",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.text("Participants, in rotation order", size="2", weight="medium"),
            rx.foreach(S.participant_rows, _participant),
            rx.el.select(
                rx.el.option("Add a participant…", value=""),
                rx.foreach(S.members, _member),
                value="",
                on_change=S.add_participant,
                name="add_participant",
                style=SELECT,
            ),
            rx.cond(
                errs.contains("participants"),
                rx.text(errs["participants"].to(str), size="1", color=rx.color("red", 11)),
            ),
            _rotation_fields(),
            rx.text("Restrictions (in the schedule's zone)", size="2", weight="medium"),
            rx.text(
                "Without a window the layer is on call all the time. A window whose end is "
                "at or before its start runs into the next day.",
                size="1",
                color=rx.color("gray", 10),
            ),
            rx.foreach(S.draft.restrictions, _restriction),
            rx.button(
                rx.icon("plus", size=14),
                "Add window",
                size="1",
                variant="soft",
                type="button",
                on_click=S.add_restriction,
                width="fit-content",
            ),
            form_error(errs),
            rx.text("Preview", size="2", weight="medium"),
            rx.cond(
                S.preview_error != "",
                rx.callout(S.preview_error, icon="circle_alert", color_scheme="amber", size="1"),
                timeline(S.preview_rows, S.ticks, "preview"),
            ),
            rx.hstack(
                rx.button("Save layer", size="3", on_click=S.save_layer),
                rx.button(
                    "Cancel",
                    size="3",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.close_editor,
                ),
                spacing="3",
            ),
            spacing="3",
            width="100%",
            align="stretch",
        ),
        padding="1em",
        border=f"2px solid {rx.color('accent', 7)}",
        border_radius="var(--radius-3)",
        width="100%",
        custom_attrs={"data-testid": "layer-editor"},
    )


def _layers_section() -> rx.Component:
    return _section(
        "Layers",
        rx.cond(
            S.layer_cards.length() == 0,
            rx.text("No layers yet: nobody is ever on call.", color=rx.color("gray", 11)),
        ),
        rx.foreach(S.layer_cards, _layer_card),
        rx.cond(S.editor_open, _editor()),
        actions=rx.cond(
            S.can_edit & ~S.editor_open,
            rx.button(rx.icon("plus", size=14), "Add layer", on_click=S.new_layer),
        ),
    )


# ---- overrides -----------------------------------------------------------------------------
def _override_row(row: OverrideRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.user_name, weight="medium")),
        rx.table.cell(rx.text(row.when, title=row.when_schedule, size="2")),
        rx.table.cell(rx.text(row.reason, size="2")),
        rx.table.cell(
            rx.cond(
                row.can_delete,
                rx.button(
                    "Remove",
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=S.delete_override(row.id),
                ),
            )
        ),
        custom_attrs={"data-testid": "override-row"},
    )


def _override_form() -> rx.Component:
    errs = S.override_errors
    return rx.form(
        rx.grid(
            field(
                "Who",
                rx.el.select(
                    rx.cond(
                        S.can_edit,
                        rx.foreach(S.members, _member),
                        rx.el.option(S.user_name, value=S.user_id.to_string()),
                    ),
                    name="user_id",
                    style=SELECT,
                ),
                error_of(errs, "user_id"),
            ),
            field(
                "Reason", rx.input(name="reason", placeholder="Vacation cover"), rx.Var.create("")
            ),
            field(
                "From (" + S.viewer_zone + ")",
                rx.input(name="start", type="datetime-local"),
                error_of(errs, "start"),
            ),
            field(
                "Until (" + S.viewer_zone + ")",
                rx.input(name="end", type="datetime-local"),
                error_of(errs, "end"),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        form_error(errs),
        rx.button("Add override", type="submit", margin_top="0.75em"),
        on_submit=S.add_override,
        reset_on_submit=False,
        custom_attrs={"data-testid": "override-form"},
    )


def _overrides_section() -> rx.Component:
    return _section(
        "Overrides",
        rx.text(
            "An override puts someone on call above every layer (vacation cover, a sick day). "
            "Overrides of one schedule may not overlap.",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.cond(S.can_respond, _override_form()),
        rx.cond(
            S.override_rows.length() > 0,
            rx.table.root(
                rx.table.body(rx.foreach(S.override_rows, _override_row)), size="1", width="100%"
            ),
            rx.text("No overrides in this window.", size="2", color=rx.color("gray", 10)),
        ),
    )


# ---- swaps ---------------------------------------------------------------------------------
def _my_shift(line: ShiftLine, index: rx.Var[int]) -> rx.Component:
    return rx.hstack(
        rx.text(line.when, title=line.when_schedule, size="2"),
        rx.spacer(),
        rx.button(
            "Request swap",
            size="1",
            variant=rx.cond(S.swap_index == index, "solid", "soft"),
            on_click=S.pick_swap(index),
        ),
        width="100%",
        align="center",
        custom_attrs={"data-testid": "my-shift"},
    )


def _swap_form() -> rx.Component:
    errs = S.swap_errors
    return rx.form(
        rx.grid(
            field(
                "Hand it to",
                rx.el.select(rx.foreach(S.members, _member), name="counterpart_id", style=SELECT),
                error_of(errs, "counterpart_id"),
            ),
            field("Reason", rx.input(name="reason"), error_of(errs, "reason")),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        rx.cond(
            errs.contains("start"),
            rx.text(errs["start"].to(str), size="1", color=rx.color("red", 11), role="alert"),
        ),
        form_error(errs),
        rx.button("Send request", type="submit", margin_top="0.75em"),
        on_submit=S.request_swap,
        custom_attrs={"data-testid": "swap-form"},
    )


def _swap_row(row: SwapRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.requester + " → " + row.counterpart, weight="medium")),
        rx.table.cell(rx.text(row.when, title=row.when_schedule, size="2")),
        rx.table.cell(rx.badge(row.status)),
        rx.table.cell(
            rx.hstack(
                rx.cond(
                    row.can_answer,
                    rx.hstack(
                        rx.button("Accept", size="1", on_click=S.decide_swap(row.id, "accept")),
                        rx.button(
                            "Decline",
                            size="1",
                            variant="soft",
                            on_click=S.decide_swap(row.id, "decline"),
                        ),
                    ),
                ),
                rx.cond(
                    row.can_force,
                    rx.button(
                        "Force",
                        size="1",
                        color_scheme="amber",
                        on_click=S.decide_swap(row.id, "force"),
                    ),
                ),
                rx.cond(
                    row.can_cancel,
                    rx.button(
                        "Cancel",
                        size="1",
                        variant="soft",
                        color_scheme="gray",
                        on_click=S.decide_swap(row.id, "cancel"),
                    ),
                ),
                spacing="1",
                wrap="wrap",
            )
        ),
        custom_attrs={"data-testid": "swap-row"},
    )


def _swaps_section() -> rx.Component:
    return _section(
        "Swaps",
        rx.cond(
            S.my_upcoming.length() > 0,
            rx.vstack(
                rx.text("Your upcoming shifts in this window", size="2", weight="medium"),
                rx.foreach(S.my_upcoming, _my_shift),
                rx.cond(S.swap_index >= 0, _swap_form()),
                width="100%",
                spacing="2",
            ),
            rx.text(
                "You have no upcoming shift in this window to swap.",
                size="2",
                color=rx.color("gray", 10),
            ),
        ),
        rx.cond(
            S.swap_rows.length() > 0,
            rx.table.root(
                rx.table.body(rx.foreach(S.swap_rows, _swap_row)), size="1", width="100%"
            ),
        ),
    )


# ---- feed and deletion ---------------------------------------------------------------------
def _feed_section() -> rx.Component:
    return _section(
        "Calendar feed",
        rx.text(
            "A secret iCalendar URL with this schedule's final shifts, for a shared calendar.",
            size="2",
            color=rx.color("gray", 11),
        ),
        feed_url_once(S.new_feed_url, S.hide_feed_url),
        feed_list(S.feeds, S.revoke_feed),
        actions=rx.button(rx.icon("plus", size=14), "New feed URL", on_click=S.create_feed),
    )


def _delete_button() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(rx.icon("trash_2", size=14), "Delete", color_scheme="red", variant="soft")
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete " + S.name + "?"),
            rx.alert_dialog.description(
                "Its layers, overrides, swaps and feeds are deleted with it."
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button("Delete", color_scheme="red", on_click=S.delete)),
                justify="end",
                spacing="3",
                margin_top="1em",
            ),
        ),
    )


def _schedule() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Team:", size="2"),
            rx.link(S.team_name, href="/teams/" + S.team_id.to_string()),
            rx.badge(S.time_zone, variant="soft", title="The schedule's zone"),
            rx.text("times shown in " + S.viewer_zone, size="1", color=rx.color("gray", 10)),
            rx.spacer(),
            rx.cond(S.can_edit, _delete_button()),
            spacing="2",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.cond(S.description != "", rx.text(S.description, color=rx.color("gray", 11))),
        _now(),
        _timeline_section(),
        _layers_section(),
        _overrides_section(),
        _swaps_section(),
        _feed_section(),
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
