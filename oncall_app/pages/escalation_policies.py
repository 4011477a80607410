"""/escalation: policies per team (default marked) with an editor (levels with users and
schedules of the team, timeouts, repeat, default, delete) and the paging preview."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.form_card import confirm_delete
from oncall_app.components.forms import NATIVE_SELECT, choice_option, error_of, field, form_error
from oncall_app.layout import page
from oncall_app.state.escalation import EscalationState as S
from oncall_app.state.escalation import LevelRow, PolicyRow, PreviewRow, TargetRow, TeamGroup

LEVEL_HINT = "Users and/or schedules of the team; a schedule pages whoever is on call then."


# ---- list --------------------------------------------------------------------------------
def _policy(policy: PolicyRow) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(policy.name, size="3", as_="h3"),
                rx.cond(policy.is_default, rx.badge("default", color_scheme="green")),
                rx.spacer(),
                rx.button(
                    rx.icon("pencil", size=14),
                    "Edit",
                    size="1",
                    variant="soft",
                    on_click=S.edit_policy(policy.id),
                ),
                confirm_delete(
                    "Delete",
                    "Delete " + policy.name + "?",
                    "Services naming it fall back to the team's default. Refused while an active"
                    " incident escalates with it.",
                    S.delete_policy(policy.id),
                    size="1",
                ),
                width="100%",
                align="center",
                wrap="wrap",
                spacing="2",
            ),
            rx.cond(
                policy.description != "",
                rx.text(policy.description, size="2", color=rx.color("gray", 11)),
            ),
            rx.vstack(
                rx.foreach(policy.levels, lambda text: rx.text(text, size="2")),
                spacing="1",
            ),
            rx.text(
                rx.cond(
                    policy.repeat > 0,
                    "Repeats " + policy.repeat.to_string() + " time(s)",
                    "No repeat",
                ),
                " · used by ",
                policy.service_count.to_string(),
                " service(s) explicitly",
                size="1",
                color=rx.color("gray", 10),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "policy-card"},
    )


def _group(group: TeamGroup) -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.heading(group.team_name, size="4", as_="h2"),
            href="/teams/" + group.team_id.to_string(),
        ),
        rx.grid(
            rx.foreach(group.policies, _policy),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="2",
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def _list() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.groups.length() == 0,
            empty_state(
                "list_ordered",
                "No escalation policies",
                "A team's first policy becomes its default: every incident of the team's "
                "services escalates with it unless the service names another.",
            ),
            rx.vstack(rx.foreach(S.groups, _group), spacing="4", width="100%"),
        ),
    )


# ---- editor ------------------------------------------------------------------------------
def _target(target: TargetRow, index: rx.Var[int]) -> rx.Component:
    return rx.badge(
        rx.icon(rx.cond(target.is_schedule, "calendar_days", "user"), size=12),
        target.name,
        rx.icon(
            "x",
            size=12,
            cursor="pointer",
            on_click=S.remove_target(index, target.key),
            aria_label="Remove " + target.name,
        ),
        size="2",
        variant="surface",
        custom_attrs={"data-testid": "level-target"},
    )


def _level(level: LevelRow, index: rx.Var[int]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Level ", (index + 1).to_string(), weight="bold", size="2"),
                rx.spacer(),
                rx.icon_button(
                    rx.icon("arrow_up", size=14),
                    size="1",
                    variant="ghost",
                    on_click=S.move_level(index, -1),
                    disabled=index == 0,
                    aria_label="Move up",
                    type="button",
                ),
                rx.icon_button(
                    rx.icon("arrow_down", size=14),
                    size="1",
                    variant="ghost",
                    on_click=S.move_level(index, 1),
                    disabled=index == S.levels.length() - 1,
                    aria_label="Move down",
                    type="button",
                ),
                rx.icon_button(
                    rx.icon("trash_2", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=S.remove_level(index),
                    disabled=S.levels.length() <= 1,
                    aria_label="Remove level",
                    type="button",
                ),
                width="100%",
                align="center",
                spacing="2",
            ),
            rx.flex(
                rx.foreach(level.targets, lambda t: _target(t, index)),
                rx.el.select(
                    rx.el.option("Add user or schedule…", value=""),
                    rx.foreach(S.target_options, choice_option),
                    value="",
                    on_change=lambda v: S.add_target(index, v),
                    aria_label="Add target to level " + (index + 1).to_string(),
                    name="add_target",
                    style=NATIVE_SELECT,
                ),
                wrap="wrap",
                spacing="2",
                align="center",
            ),
            rx.hstack(
                rx.text("Then wait", size="2"),
                rx.input(
                    type="number",
                    min=1,
                    max=1440,
                    default_value=level.timeout.to_string(),
                    on_blur=lambda v: S.set_timeout(index, v),
                    width="6em",
                    size="2",
                    aria_label="Timeout minutes of level " + (index + 1).to_string(),
                    key=index.to_string() + "-" + level.timeout.to_string(),
                ),
                rx.text("minutes (1 to 1440) before the next level", size="2"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "level-editor"},
    )


def _editor() -> rx.Component:
    errs = S.edit_errors
    return rx.card(
        rx.vstack(
            rx.heading(rx.cond(S.edit_id > 0, "Edit policy", "New policy"), size="4"),
            rx.cond(
                S.edit_id == 0,
                field(
                    "Team",
                    rx.el.select(
                        rx.foreach(S.editable_teams, choice_option),
                        value=S.edit_team,
                        on_change=S.set_edit_team,
                        name="team_id",
                        style=NATIVE_SELECT,
                    ),
                    error_of(errs, "team_id"),
                    "Teams you administer.",
                ),
            ),
            field(
                "Name",
                rx.input(
                    value=S.edit_name,
                    on_change=S.set_edit_name,
                    name="name",
                    size="3",
                    placeholder="Primary paging",
                ),
                error_of(errs, "name"),
            ),
            field(
                "Description",
                rx.text_area(
                    value=S.edit_description,
                    on_change=S.set_edit_description,
                    name="description",
                    rows="2",
                ),
                error_of(errs, "description"),
            ),
            rx.text("Levels", size="2", weight="medium"),
            rx.text(LEVEL_HINT, size="1", color=rx.color("gray", 10)),
            rx.foreach(S.levels, _level),
            rx.cond(
                error_of(errs, "levels") != "",
                rx.text(
                    error_of(errs, "levels"), size="1", color=rx.color("red", 11), role="alert"
                ),
            ),
            rx.button(
                rx.icon("plus", size=14),
                "Add level",
                variant="soft",
                size="2",
                on_click=S.add_level,
                disabled=~S.can_add_level,
                type="button",
                width="fit-content",
            ),
            rx.hstack(
                rx.text("Repeat the whole chain", size="2"),
                rx.el.select(
                    *[rx.el.option(str(n), value=str(n)) for n in range(10)],
                    value=S.edit_repeat.to_string(),
                    on_change=S.set_edit_repeat,
                    name="repeat",
                    aria_label="Repeat",
                    style=NATIVE_SELECT,
                ),
                rx.text("more time(s)", size="2"),
                align="center",
                spacing="2",
                wrap="wrap",
            ),
            rx.el.label(
                rx.hstack(
                    rx.checkbox(checked=S.edit_default, on_change=S.set_edit_default),
                    rx.text("The team's default policy", size="2"),
                    spacing="2",
                    align="center",
                ),
            ),
            rx.cond(
                error_of(errs, "is_default") != "",
                rx.text(error_of(errs, "is_default"), size="1", color=rx.color("red", 11)),
            ),
            form_error(errs),
            rx.hstack(
                rx.button("Save policy", size="3", on_click=S.save),
                rx.button(
                    "Cancel", size="3", variant="soft", color_scheme="gray", on_click=S.cancel_edit
                ),
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "policy-editor"},
    )


# ---- preview -----------------------------------------------------------------------------
def _step(step: PreviewRow) -> rx.Component:
    return rx.hstack(
        rx.badge("min " + step.minute, color_scheme="violet", size="2", min_width="5em"),
        rx.vstack(
            rx.text(
                "Level ",
                step.level.to_string(),
                rx.cond(step.repeat > 0, " (repeat " + step.repeat.to_string() + ")", ""),
                ": ",
                step.who,
                size="2",
            ),
            rx.foreach(
                step.warnings,
                lambda w: rx.text("⚠ " + w, size="1", color=rx.color("amber", 11)),
            ),
            spacing="0",
        ),
        spacing="3",
        align="start",
        width="100%",
        custom_attrs={"data-testid": "preview-step"},
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Paging preview", size="4", as_="h2"),
            rx.text(
                "Who an incident of a service would page, and at which minute, if it opened at "
                "the given time (blank: now).",
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.flex(
                rx.el.select(
                    rx.el.option("Choose a service", value=""),
                    rx.foreach(S.services, choice_option),
                    value=S.preview_service,
                    on_change=S.set_preview_service,
                    aria_label="Preview service",
                    style=NATIVE_SELECT,
                ),
                rx.input(
                    type="datetime-local",
                    on_change=S.set_preview_at,
                    aria_label="Opening time (UTC)",
                    size="3",
                ),
                rx.text("UTC", size="1", color=rx.color("gray", 10)),
                rx.button("Preview", on_click=S.run_preview, size="3"),
                spacing="2",
                wrap="wrap",
                align="center",
            ),
            rx.cond(
                S.preview_done,
                rx.vstack(
                    rx.text("Policy: ", rx.text.strong(S.preview_policy), size="2"),
                    rx.foreach(S.preview_steps, _step),
                    rx.cond(
                        S.exhausted_after != "",
                        rx.text(
                            "Escalation gives up after minute " + S.exhausted_after + ".",
                            size="1",
                            color=rx.color("gray", 10),
                        ),
                    ),
                    rx.foreach(
                        S.preview_warnings,
                        lambda w: rx.callout(
                            w, icon="triangle_alert", color_scheme="amber", size="1"
                        ),
                    ),
                    rx.foreach(
                        S.preview_notes,
                        lambda n: rx.callout(n, icon="info", color_scheme="gray", size="1"),
                    ),
                    spacing="2",
                    width="100%",
                    custom_attrs={"data-testid": "paging-preview"},
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _new_button() -> rx.Component:
    return rx.cond(
        S.editable_teams.length() > 0,
        rx.button(rx.icon("plus", size=16), "New policy", size="3", on_click=S.new_policy),
    )


@page("/escalation", "Escalation policies", on_load=[S.load], actions=_new_button)
def escalation_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.editing, _editor()),
        _list(),
        _preview(),
        spacing="4",
        width="100%",
    )
