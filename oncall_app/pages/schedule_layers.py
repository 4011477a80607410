"""The schedule page's layers: a card per layer and the editor (ordered participants,
daily/weekly/custom RRULE, handoff, start, weekday/time windows) with its live preview."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.form_card import section
from oncall_app.components.forms import NATIVE_SELECT, choice_option, error_of, field, form_error
from oncall_app.components.timeline import timeline
from oncall_app.state.schedule_detail import ScheduleDetailState as S
from oncall_app.state.schedule_editor import ParticipantRow
from oncall_app.state.schedule_rows import LayerCard
from oncall_app.state.schedules_view import DAYS, RestrictionDraft

SELECT = NATIVE_SELECT | {"width": "100%"}
RULE_HINT = (
    "RFC 5545 subset: FREQ=DAILY|WEEKLY|MONTHLY with INTERVAL, BYDAY (e.g. "
    "FREQ=WEEKLY;BYDAY=MO,TH hands off twice a week) and WKST."
)


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
                rx.foreach(S.members, choice_option),
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


def layers_section() -> rx.Component:
    return section(
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
