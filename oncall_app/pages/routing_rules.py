"""/routing-rules: label matchers, evaluated in order, that send an alert to another service
than its integration's (SVC-03). Anything no rule or integration routes goes to the platform
triage service: never dropped."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.form_card import confirm_delete, section
from oncall_app.components.forms import NATIVE_SELECT, choice_option, error_of, field, form_error
from oncall_app.layout import page
from oncall_app.state.routing_rules import RoutingRulesState as S
from oncall_app.state.routing_rules import RuleRow

MATCHERS_HINT = "One a line: label, operator (= != =~ !~), value. All must match. e.g. env = prod"


def _form() -> rx.Component:
    errs = S.form_errors
    return rx.form(
        rx.grid(
            field(
                "Name",
                rx.input(name="name", placeholder="payments by team label"),
                error_of(errs, "name"),
            ),
            field(
                "Position",
                rx.input(name="position", default_value="100", input_mode="numeric"),
                error_of(errs, "position"),
                hint="Lower runs first",
            ),
            field(
                "For alerts of",
                rx.el.select(
                    rx.el.option("every integration (platform admins)", value=""),
                    rx.foreach(S.integration_choices, choice_option),
                    name="integration_id",
                    style=NATIVE_SELECT,
                ),
                error_of(errs, "integration_id"),
            ),
            field(
                "Send to service",
                rx.el.select(
                    rx.el.option("Choose a service", value=""),
                    rx.foreach(S.service_choices, choice_option),
                    name="target_service_id",
                    style=NATIVE_SELECT,
                ),
                error_of(errs, "target_service_id"),
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        field(
            "Label matchers",
            rx.text_area(name="matchers", placeholder="team = payments\nenv =~ prod|staging"),
            error_of(errs, "matchers"),
            hint=MATCHERS_HINT,
        ),
        form_error(errs),
        rx.button("Add rule", type="submit", margin_top="0.75em"),
        on_submit=S.create,
        reset_on_submit=False,
        custom_attrs={"data-testid": "routing-rule-form"},
    )


def _row(row: RuleRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.position, size="2")),
        rx.table.cell(rx.text(row.name, weight="medium")),
        rx.table.cell(rx.text(row.scope, size="2")),
        rx.table.cell(rx.code(row.matchers)),
        rx.table.cell(rx.link(row.target_name, href="/services/" + row.target_id.to_string())),
        rx.table.cell(
            confirm_delete(
                "Delete",
                "Delete routing rule " + row.name + "?",
                "Matching alerts go to their integration's service again.",
                S.delete(row.id),
                size="1",
            )
        ),
        custom_attrs={"data-testid": "routing-rule-row"},
    )


def _rules() -> rx.Component:
    return rx.cond(
        S.rows.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *(
                        rx.table.column_header_cell(h)
                        for h in ("#", "Name", "For", "Matchers", "Service", "")
                    )
                )
            ),
            rx.table.body(rx.foreach(S.rows, _row)),
            size="1",
            width="100%",
        ),
        empty_state("route", "No routing rules", "Alerts go to their integration's service."),
    )


@page("/routing-rules", "Routing rules", on_load=[S.load])
def routing_rules_page() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.vstack(
            section(
                "Add a rule",
                rx.text(
                    "Rules run in position order; the first whose matchers all match an alert's "
                    "labels sends it to its service. Alerts no rule matches stay with their "
                    "integration's service; an integration without a service sends them to "
                    "platform triage.",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                _form(),
            ),
            section("Rules", _rules()),
            spacing="4",
            width="100%",
            align="stretch",
        ),
    )
