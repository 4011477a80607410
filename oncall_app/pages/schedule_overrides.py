"""The schedule page's overrides (form with inline overlap errors, list) and swaps (my
upcoming shifts, request, accept/decline, cancel, admin force)."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.form_card import section
from oncall_app.components.forms import choice_option, error_of, field, form_error
from oncall_app.pages.schedule_layers import SELECT
from oncall_app.state.schedule_detail import ScheduleDetailState as S
from oncall_app.state.schedule_rows import OverrideRow, SwapRow
from oncall_app.state.schedules_view import ShiftLine


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
                        rx.foreach(S.members, choice_option),
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


def overrides_section() -> rx.Component:
    return section(
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
                rx.el.select(
                    rx.foreach(S.members, choice_option), name="counterpart_id", style=SELECT
                ),
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


def swaps_section() -> rx.Component:
    return section(
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
