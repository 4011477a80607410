"""/notifications: my contact methods and rules, the outbox and provider health."""

from __future__ import annotations

from typing import Any

import reflex as rx

from oncall_app.layout import page
from oncall_app.state.notifications import (
    KINDS,
    HealthRow,
    MethodRow,
    OutboxMsg,
    StepRow,
    StepTarget,
)
from oncall_app.state.notifications import NotificationsState as S


def _method(m: MethodRow) -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.badge(m.kind, variant="soft"),
            rx.text(m.address, weight="medium", size="2", word_break="break-all"),
            rx.cond(m.label != "", rx.text(m.label, size="1", color=rx.color("gray", 11))),
            rx.cond(
                m.verified,
                rx.badge("verified", color_scheme="green"),
                rx.badge("not verified", color_scheme="orange"),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
            flex="1",
        ),
        rx.cond(
            ~m.verified,
            rx.hstack(
                rx.input(
                    placeholder="6-digit code",
                    on_change=lambda v: S.set_code(m.id, v),
                    width="8em",
                    custom_attrs={"data-testid": "verify-code"},
                ),
                rx.button("Verify", size="2", on_click=S.verify(m.id)),
                rx.button("Send code", size="2", variant="soft", on_click=S.resend(m.id)),
                spacing="2",
                wrap="wrap",
            ),
        ),
        rx.button("Remove", size="2", variant="ghost", color_scheme="red", on_click=S.remove(m.id)),
        spacing="3",
        align="center",
        wrap="wrap",
        width="100%",
        padding="0.5em 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-testid": "contact-method"},
    )


def _methods() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("My contact methods", size="4"),
            rx.cond(
                S.methods.length() == 0,
                rx.text("No contact methods yet.", size="2", color=rx.color("gray", 11)),
                rx.vstack(rx.foreach(S.methods, _method), width="100%", spacing="0"),
            ),
            rx.form(
                rx.flex(
                    rx.select(KINDS, value=S.new_kind, on_change=S.set_new_kind, width="8em"),
                    rx.input(
                        name="address",
                        placeholder="address, number or Slack member id",
                        required=True,
                        flex="1",
                        min_width="14em",
                    ),
                    rx.input(name="label", placeholder="label (optional)", width="10em"),
                    rx.button("Add and send code", type="submit"),
                    spacing="2",
                    wrap="wrap",
                    width="100%",
                ),
                on_submit=S.add_method,
                reset_on_submit=True,
                width="100%",
            ),
            rx.hstack(
                rx.button(
                    rx.icon("bell_ring", size=14),
                    "Enable browser notifications on this device",
                    variant="soft",
                    on_click=S.enable_browser_push,
                    custom_attrs={"data-testid": "enable-browser-push"},
                ),
                rx.text(
                    "Pages arrive as notifications in this browser, even with OnCall closed; "
                    "a click opens the incident.",
                    size="1",
                    color=rx.color("gray", 11),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _step(s: StepRow) -> rx.Component:
    return rx.hstack(
        rx.text((s.index + 1).to_string() + ".", size="2", width="1.5em"),
        rx.badge(rx.cond(s.label != "", s.label, s.channel), variant="soft"),
        rx.text(
            rx.cond(s.delay == 0, "immediately", "after " + s.delay.to_string() + " min"),
            size="2",
        ),
        rx.cond(s.default, rx.badge("default", variant="outline", color_scheme="gray")),
        rx.spacer(),
        rx.icon_button(
            rx.icon("arrow_up", size=14),
            size="1",
            variant="ghost",
            on_click=S.move_up(s.urgency, s.index),
            disabled=s.index == 0,
            aria_label="Move up",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            size="1",
            variant="ghost",
            color_scheme="red",
            on_click=S.remove_step(s.urgency, s.index),
            aria_label="Remove step",
        ),
        width="100%",
        align="center",
        custom_attrs={"data-testid": "rule-step"},
    )


def _target(t: StepTarget) -> rx.Component:
    return rx.select.item(t.label, value=t.value)


def _rules(urgency: str, title: str) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading(title, size="3"),
            rx.spacer(),
            rx.button(
                "Reset to defaults", size="1", variant="soft", on_click=S.reset_rules(urgency)
            ),
            width="100%",
        ),
        rx.foreach(S.steps, lambda s: rx.cond(s.urgency == urgency, _step(s))),
        rx.form(
            rx.flex(
                rx.el.input(type="hidden", name="urgency", value=urgency),
                rx.select.root(
                    rx.select.trigger(
                        min_width="8em", custom_attrs={"data-testid": f"step-target-{urgency}"}
                    ),
                    rx.select.content(rx.foreach(S.targets, _target)),
                    name="channel",
                    default_value="email",
                ),
                rx.input(
                    name="delay", type="number", min=0, max=1440, default_value="0", width="6em"
                ),
                rx.text("min", size="2"),
                rx.button("Add step", size="2", variant="soft", type="submit"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            on_submit=S.add_step,
            width="100%",
        ),
        spacing="2",
        width="100%",
    )


def _clock_input(name: str, placeholder: str, value: Any, on_change: Any) -> rx.Component:
    """A quiet-hours time field (HH:MM in the viewer's zone), test id ``quiet-<name>``."""
    return rx.input(
        name=name,
        placeholder=placeholder,
        value=value,
        on_change=on_change,
        width="6em",
        custom_attrs={"data-testid": f"quiet-{name}"},
    )


def _rules_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("My notification rules", size="4"),
            rx.text(
                "Each step notifies every verified method of its channel (or the one method it "
                "names), after its delay.",
                size="1",
                color=rx.color("gray", 11),
            ),
            _rules("high", "High urgency"),
            rx.divider(),
            _rules("low", "Low urgency"),
            rx.form(
                rx.flex(
                    rx.text("Quiet hours for low urgency", size="2"),
                    _clock_input("start", "22:00", S.quiet_start, S.set_quiet_start),
                    rx.text("to", size="2"),
                    _clock_input("end", "07:00", S.quiet_end, S.set_quiet_end),
                    rx.button("Save", size="2", variant="soft", type="submit"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                on_submit=S.set_quiet,
            ),
            rx.text(
                rx.cond(
                    S.quiet_start != "",
                    "Low-urgency pages due between "
                    + S.quiet_start
                    + " and "
                    + S.quiet_end
                    + " (your time zone) wait until the quiet hours end. ",
                    "No quiet hours: low-urgency pages go out at any hour. ",
                ),
                "Leave both empty to clear quiet hours.",
                size="1",
                color=rx.color("gray", 10),
                custom_attrs={"data-testid": "quiet-hours-now"},
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _message(m: OutboxMsg) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(m.channel, variant="soft"),
            rx.text(m.recipient, size="2", weight="medium", word_break="break-all"),
            rx.spacer(),
            rx.text(
                rx.moment(m.created_at, format="MMM D, HH:mm:ss"),
                size="1",
                color=rx.color("gray", 11),
                white_space="nowrap",
            ),
            width="100%",
            wrap="wrap",
        ),
        rx.cond(m.subject != "", rx.text(m.subject, size="2", weight="medium")),
        rx.text(
            m.body,
            size="1",
            white_space="pre-wrap",
            word_break="break-word",
            max_height="8em",
            overflow_y="auto",
            width="100%",
        ),
        spacing="1",
        width="100%",
        padding="0.6em 0.75em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-testid": "outbox-message"},
    )


def _health(h: HealthRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(h.name),
        rx.table.cell(
            rx.badge(
                h.state,
                color_scheme=rx.match(h.state, ("closed", "green"), ("open", "red"), "orange"),
            )
        ),
        rx.table.cell(h.failures.to_string()),
        rx.table.cell(rx.text(h.last_error, size="1", word_break="break-word")),
    )


def _outbox_header(title: str, explanation: str) -> tuple[rx.Component, rx.Component]:
    """The outbox cards' title row (with Refresh) and what they show."""
    return (
        rx.hstack(
            rx.heading(title, size="4"),
            rx.spacer(),
            rx.button(
                rx.icon("refresh_cw", size=14),
                "Refresh",
                size="2",
                variant="soft",
                on_click=S.refresh,
            ),
            width="100%",
        ),
        rx.text(explanation, size="1", color=rx.color("gray", 11), width="100%"),
    )


def _my_outbox() -> rx.Component:
    return rx.card(
        rx.vstack(
            *_outbox_header(
                "Your latest outbox messages",
                "This installation stores some messages in its outbox instead of sending them: "
                "here are yours (verification codes and pages), newest first.",
            ),
            rx.vstack(rx.foreach(S.my_outbox, _message), spacing="0", width="100%"),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "my-outbox"},
    )


def _admin() -> rx.Component:
    return rx.vstack(
        rx.card(
            rx.vstack(
                rx.heading("Provider health", size="4"),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Provider"),
                            rx.table.column_header_cell("Circuit"),
                            rx.table.column_header_cell("Failures in a row"),
                            rx.table.column_header_cell("Last error"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.health, _health)),
                    width="100%",
                ),
                spacing="2",
                width="100%",
                overflow_x="auto",
            ),
            width="100%",
        ),
        rx.card(
            rx.vstack(
                *_outbox_header(
                    "Outbox",
                    "Messages the outbox provider (the embedded default) stored instead of "
                    "sending: verification codes and pages, newest first.",
                ),
                rx.cond(
                    S.outbox.length() == 0,
                    rx.text("The outbox is empty.", size="2"),
                    rx.vstack(rx.foreach(S.outbox, _message), spacing="0", width="100%"),
                ),
                rx.cond(
                    S.outbox_more,
                    rx.button("Load more", variant="soft", on_click=S.more_outbox),
                ),
                spacing="2",
                width="100%",
                align="center",
            ),
            width="100%",
            id="outbox",
        ),
        spacing="4",
        width="100%",
    )


@page("/notifications", "Notifications", on_load=[S.load])
def notifications_page() -> rx.Component:
    return rx.vstack(
        rx.cond(
            S.unreachable,
            rx.callout(
                "You have no verified contact method: if you are on call or in a schedule, "
                "nobody can reach you. Add one and enter its code.",
                icon="triangle_alert",
                color_scheme="red",
                size="2",
                custom_attrs={"data-testid": "unreachable-warning"},
            ),
        ),
        rx.foreach(
            S.on_call_gaps,
            lambda gap: rx.callout(
                gap,
                icon="triangle_alert",
                color_scheme="orange",
                size="2",
                custom_attrs={"data-testid": "on-call-gap"},
            ),
        ),
        _methods(),
        rx.cond(~S.is_platform_admin & (S.my_outbox.length() > 0), _my_outbox()),
        _rules_card(),
        rx.cond(S.is_platform_admin, _admin()),
        spacing="4",
        width="100%",
    )
