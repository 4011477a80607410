"""/incidents/[incident_id]: header (status, severity, priority, service, assignee), actions,
a markdown note composer, the timeline, the alerts with their technical details and links to
the monitoring tools, and the page requests escalation made. Live on ``incident:<id>``.

On a phone the sections stack and the main actions are large, full-width buttons.
"""

from __future__ import annotations

import reflex as rx

from oncall_app.components.badges import severity_badge
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.forms import NATIVE_SELECT, choice_option, error_of, field
from oncall_app.components.incident_badges import incident_status_badge, priority_badge
from oncall_app.components.incident_timeline import incident_timeline
from oncall_app.layout import page
from oncall_app.state.incident_detail import (
    PRIORITIES,
    SEVERITIES,
    AlertItem,
    DeliveryRow,
    PageRow,
    Pair,
)
from oncall_app.state.incident_detail import IncidentDetailState as S

BIG = rx.breakpoints(initial="3", md="2")
GROW = rx.breakpoints(initial="1 1 45%", md="none")


def _fact(label: str, value: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color=rx.color("gray", 11), min_width="8em"),
        value,
        align="center",
        spacing="2",
        wrap="wrap",
    )


def _header() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                incident_status_badge(S.status, size="3"),
                severity_badge(S.severity),
                priority_badge(S.priority),
                rx.cond(S.busy, rx.spinner(size="2")),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.heading(S.title, size="5", word_break="break-word"),
            rx.grid(
                _fact(
                    "Service", rx.link(S.service_name, href="/services/" + S.service_id.to_string())
                ),
                _fact("Team", rx.text(rx.cond(S.team_name != "", S.team_name, "triage"), size="2")),
                _fact(
                    "Assignee",
                    rx.text(
                        rx.cond(S.assignee_name != "", S.assignee_name, "unassigned"),
                        size="2",
                        custom_attrs={"data-testid": "assignee"},
                    ),
                ),
                _fact(
                    "Opened", rx.text(rx.moment(S.opened_at, format="MMM D, HH:mm:ss"), size="2")
                ),
                _fact("Escalation", rx.text(S.escalation_text, size="2")),
                _fact("Alerts", rx.text(S.alert_count.to_string(), size="2")),
                rx.cond(
                    S.acknowledged_by != "",
                    _fact("Acknowledged by", rx.text(S.acknowledged_by, size="2")),
                ),
                rx.cond(
                    S.resolved_by != "", _fact("Resolved by", rx.text(S.resolved_by, size="2"))
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="2",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "incident-header", "data-status": S.status},
    )


# ---- actions -----------------------------------------------------------------------------
def _resolve_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("circle_check", size=16),
                "Resolve",
                color_scheme="green",
                size=BIG,
                flex=GROW,
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Resolve incident"),
            rx.dialog.description(
                "An optional resolution note (markdown) goes on the timeline"
                " and into the postmortem.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    rx.text_area(
                        name="note",
                        placeholder="What fixed it?",
                        rows="5",
                        width="100%",
                        aria_label="Resolution note",
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Resolve", type="submit", color_scheme="green"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="1em",
                ),
                on_submit=S.resolve,
                reset_on_submit=True,
            ),
            custom_attrs={"data-testid": "resolve-dialog"},
        ),
        open=S.resolve_open,
        on_open_change=S.set_resolve_open,
    )


def _edit_dialog() -> rx.Component:
    errs = S.edit_errors
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("pencil", size=14), "Edit", variant="soft", size="2")),
        rx.dialog.content(
            rx.dialog.title("Edit incident"),
            rx.form(
                rx.vstack(
                    field(
                        "Title",
                        rx.input(name="title", default_value=S.title, size="3", max_length=500),
                        error_of(errs, "title"),
                    ),
                    field(
                        "Severity",
                        rx.el.select(
                            *[rx.el.option(s.title(), value=s) for s in SEVERITIES],
                            name="severity",
                            default_value=S.severity,
                            style=NATIVE_SELECT,
                        ),
                        error_of(errs, "severity"),
                    ),
                    field(
                        "Priority",
                        rx.el.select(
                            rx.el.option("None", value=""),
                            *[rx.el.option(p, value=p) for p in PRIORITIES],
                            name="priority",
                            default_value=S.priority,
                            style=NATIVE_SELECT,
                        ),
                        error_of(errs, "priority"),
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button("Save", type="submit"),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    margin_top="1em",
                ),
                on_submit=S.save_edit,
            ),
        ),
        open=S.edit_open,
        on_open_change=S.set_edit_open,
    )


def _actions() -> rx.Component:
    active = (S.status == "OPEN") | (S.status == "ACKNOWLEDGED")
    return rx.cond(
        S.can_respond,
        rx.flex(
            rx.cond(
                S.status == "OPEN",
                rx.button(
                    rx.icon("check", size=16),
                    "Acknowledge",
                    color_scheme="amber",
                    size=BIG,
                    flex=GROW,
                    on_click=S.acknowledge,
                ),
            ),
            rx.cond(active, _resolve_dialog()),
            rx.cond(
                S.status == "OPEN",
                rx.button(
                    rx.icon("chevrons_up", size=16),
                    "Escalate now",
                    variant="soft",
                    color_scheme="violet",
                    size=BIG,
                    flex=GROW,
                    on_click=S.escalate_now,
                ),
            ),
            rx.cond(
                S.status == "RESOLVED",
                rx.hstack(
                    rx.button(
                        rx.icon("rotate_ccw", size=16),
                        "Reopen",
                        variant="soft",
                        size=BIG,
                        on_click=S.reopen,
                    ),
                    rx.button(
                        rx.icon("archive", size=16),
                        "Close",
                        variant="soft",
                        color_scheme="gray",
                        size=BIG,
                        on_click=S.close,
                    ),
                    spacing="2",
                ),
            ),
            rx.cond(
                S.status != "CLOSED",
                rx.hstack(
                    _edit_dialog(),
                    rx.cond(
                        S.responders.length() > 0,
                        rx.el.select(
                            rx.el.option("Reassign to…", value=""),
                            rx.foreach(S.responders, choice_option),
                            value="",
                            on_change=S.reassign,
                            aria_label="Reassign",
                            style=NATIVE_SELECT,
                        ),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
            ),
            spacing="2",
            wrap="wrap",
            width="100%",
            align="center",
            custom_attrs={"data-testid": "incident-actions"},
        ),
        rx.callout(
            "You can read this incident; responders of its team act on it.",
            icon="eye",
            color_scheme="gray",
            size="1",
        ),
    )


# ---- note composer -----------------------------------------------------------------------
def _composer() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.text("Add a note", size="2", weight="medium"),
                rx.text_area(
                    name="body",
                    placeholder="Markdown: **bold**, `code`, lists, links",
                    rows="3",
                    width="100%",
                    on_change=S.set_note_text.debounce(250),
                    key=S.note_generation,
                    aria_label="Note",
                ),
                rx.cond(
                    S.note_text != "",
                    rx.box(
                        rx.text("Preview", size="1", color=rx.color("gray", 10)),
                        rx.markdown(S.note_text),
                        width="100%",
                        padding="0.25em 0.75em",
                        border=f"1px dashed {rx.color('gray', 6)}",
                        border_radius="var(--radius-2)",
                    ),
                ),
                rx.button("Add note", type="submit", size="2"),
                spacing="2",
                width="100%",
                align="start",
            ),
            on_submit=S.add_note,
            width="100%",
        ),
        width="100%",
    )


# ---- alerts, links, page requests --------------------------------------------------------
def _pair_badge(pair: Pair) -> rx.Component:
    return rx.badge(pair.key + "=" + pair.value, variant="surface", color_scheme="gray")


def _link(pair: Pair) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon("external_link", size=12), rx.text(pair.key), spacing="1", align="center"
        ),
        href=pair.value,
        is_external=True,
        rel="noopener noreferrer",
        size="2",
    )


def _alert(alert: AlertItem) -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.hstack(
                severity_badge(alert.severity),
                rx.badge(alert.status, variant="soft"),
                rx.text(alert.title, weight="medium", size="2", word_break="break-word"),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.text(
                rx.cond(alert.source != "", alert.source + " · ", ""),
                rx.moment(alert.received_at, format="MMM D, HH:mm:ss"),
                " · alert #",
                alert.id.to_string(),
                size="1",
                color=rx.color("gray", 10),
            ),
            rx.cond(
                alert.description != "",
                rx.text(alert.description, size="2", white_space="pre-wrap"),
            ),
            rx.cond(
                alert.labels.length() > 0,
                rx.flex(rx.foreach(alert.labels, _pair_badge), wrap="wrap", spacing="1"),
            ),
            rx.cond(
                alert.links.length() > 0,
                rx.flex(rx.foreach(alert.links, _link), wrap="wrap", spacing="3"),
            ),
            spacing="1",
            width="100%",
        ),
        padding="0.6em 0",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        width="100%",
        custom_attrs={"data-testid": "incident-alert"},
    )


def _page_row(row: PageRow) -> rx.Component:
    return rx.hstack(
        rx.icon("phone_outgoing", size=14),
        rx.text(row.user_name, size="2", weight="medium"),
        rx.badge("level " + row.level.to_string(), variant="soft", color_scheme="violet"),
        rx.cond(row.repeat > 0, rx.badge("repeat " + row.repeat.to_string(), variant="soft")),
        rx.badge(row.status, variant="outline"),
        rx.text(row.reason, size="1", color=rx.color("gray", 11)),
        rx.spacer(),
        rx.text(
            rx.moment(row.created_at, format="MMM D, HH:mm:ss"),
            size="1",
            color=rx.color("gray", 10),
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        width="100%",
        custom_attrs={"data-testid": "page-request"},
    )


def _delivery_row(row: DeliveryRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(row.user_name, size="2", weight="medium"),
            rx.badge(row.channel, variant="soft"),
            rx.badge(row.status, color_scheme=row.color, variant="outline"),
            rx.text(row.provider, size="1", color=rx.color("gray", 11)),
            rx.text("attempts: " + row.attempts.to_string(), size="1", color=rx.color("gray", 11)),
            rx.spacer(),
            rx.text(
                rx.moment(row.at, format="MMM D, HH:mm:ss"), size="1", color=rx.color("gray", 10)
            ),
            spacing="2",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        rx.text(row.address, size="1", color=rx.color("gray", 11), word_break="break-all"),
        rx.cond(row.response != "", rx.text(row.response, size="1", color=rx.color("gray", 10))),
        spacing="0",
        width="100%",
        custom_attrs={"data-testid": "delivery", "data-status": row.status},
    )


def _section(title: str, *children: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="2", width="100%"),
        width="100%",
    )


def _side() -> rx.Component:
    return rx.vstack(
        _section(
            "Technical details",
            _fact("Dedup key", rx.code(S.dedup_key, word_break="break-all")),
            rx.foreach(S.details, lambda p: _fact(p.key, rx.text(p.value, size="2"))),
            rx.cond(
                S.service_links.length() > 0,
                rx.vstack(
                    rx.text("Runbooks and dashboards", size="2", color=rx.color("gray", 11)),
                    rx.foreach(S.service_links, _link),
                    spacing="1",
                ),
            ),
        ),
        _section(
            "Page requests",
            rx.text(
                "Who escalation paged; each page is delivered to the person's verified contact "
                "methods (the delivery lines are on the timeline; the embedded outbox's "
                "messages are on ",
                rx.link("Notifications", href="/notifications"),
                ").",
                size="1",
                color=rx.color("gray", 10),
            ),
            rx.cond(
                S.pages.length() == 0,
                rx.text("No page requests.", size="2", color=rx.color("gray", 11)),
                rx.foreach(S.pages, _page_row),
            ),
        ),
        rx.box(
            _section(
                "Delivery log",
                rx.text(
                    "Every notification of these pages: channel, provider, status and the "
                    "provider's latest answer.",
                    size="1",
                    color=rx.color("gray", 10),
                ),
                rx.cond(
                    S.deliveries.length() == 0,
                    rx.text(
                        "No notifications yet.",
                        size="2",
                        color=rx.color("gray", 11),
                    ),
                    rx.foreach(S.deliveries, _delivery_row),
                ),
            ),
            width="100%",
            custom_attrs={"data-testid": "delivery-log"},
        ),
        _section(
            "Alerts",
            rx.cond(
                S.alerts.length() == 0,
                rx.text("No alerts.", size="2", color=rx.color("gray", 11)),
                rx.foreach(S.alerts, _alert),
            ),
        ),
        spacing="3",
        width="100%",
    )


def _content() -> rx.Component:
    return rx.vstack(
        _header(),
        _actions(),
        rx.grid(
            rx.vstack(
                _composer(),
                _section("Timeline", incident_timeline(S.timeline)),
                spacing="3",
                width="100%",
                min_width="0",
            ),
            _side(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _back() -> rx.Component:
    return rx.link(
        rx.button(rx.icon("arrow_left", size=16), "Incidents", variant="soft", size="2"),
        href="/incidents",
    )


@page(
    "/incidents/[incident_id]",
    "Incident",
    on_load=[S.load],
    actions=_back,
    heading="Incident #" + S.incident_id.to_string(),
)
def incident_detail_page() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.missing,
            empty_state("siren", "Incident not found", "It does not exist (or the link is wrong)."),
            _content(),
        ),
    )
