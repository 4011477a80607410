"""/services: the catalogue (owner team, tags, links, search, create) and /services/[id]: one
service with its dependencies, editable, its upstream/downstream impact drawn in layers, and
its heartbeat monitors and maintenance windows (``service_ops``).

Buttons appear only when the service says the user may edit; the services check again and any
refusal (a cycle, dependents on delete) is toasted with its detail.
"""

from __future__ import annotations

import reflex as rx

from backend.catalog.schemas import ServiceLink, ServiceOut, ServiceRef
from oncall_app.components.badges import tag_badges
from oncall_app.components.empty import empty_state, loading_row
from oncall_app.components.form_card import confirm_delete, form_card
from oncall_app.components.forms import NATIVE_SELECT, choice_option, error_of, field
from oncall_app.layout import page
from oncall_app.pages.service_ops import heartbeats_section, maintenance_section
from oncall_app.state.service_ops import ServiceOpsState
from oncall_app.state.services import GraphNode
from oncall_app.state.services import ServiceDetailState as D
from oncall_app.state.services import ServicesState as S

TAG_HINT = "Separate with commas or spaces: lowercase letters, digits and : _ - . /"
LINKS_HINT = "One a line: title then an http(s) URL, e.g. Runbook https://wiki.example.org/pay"
ROLE_COLORS = {"self": "accent", "upstream": "cyan", "downstream": "red"}


def _link(link: ServiceLink) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("external_link", size=12), rx.text(link.title, size="1"), spacing="1"),
        href=link.url,
        is_external=True,
    )


# --- the catalogue -----------------------------------------------------------------------------


def _create_form() -> rx.Component:
    errs = S.create_errors
    return form_card(
        field(
            "Name",
            rx.input(name="name", placeholder="Payments API", size="3"),
            error_of(errs, "name"),
        ),
        field(
            "Owner team",
            rx.el.select(
                rx.el.option("Choose a team…", value=""),
                rx.foreach(S.owner_choices, choice_option),
                name="team_id",
                style=NATIVE_SELECT | {"width": "100%"},
            ),
            error_of(errs, "team_id"),
            "Teams you administer.",
        ),
        field(
            "Description",
            rx.text_area(name="description", placeholder="What it does", rows="2"),
            error_of(errs, "description"),
        ),
        field(
            "Tags",
            rx.input(name="tags", placeholder="tier:1, python", size="3"),
            error_of(errs, "tags"),
            TAG_HINT,
        ),
        field(
            "Links",
            rx.text_area(name="links", rows="3"),
            error_of(errs, "links"),
            LINKS_HINT,
        ),
        errors=errs,
        submit="Create service",
        on_submit=S.create,
        on_cancel=S.toggle_create,
        title="New service",
        testid="create-service-form",
    )


def _service_row(service: ServiceOut) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.link(
                        rx.text(service.name, weight="medium"),
                        href="/services/" + service.id.to_string(),
                    ),
                    rx.cond(service.is_triage, rx.badge("triage", color_scheme="amber")),
                    spacing="2",
                    align="center",
                ),
                rx.cond(
                    service.description != "",
                    rx.text(service.description, size="1", color=rx.color("gray", 10)),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(rx.cond(service.team_name, rx.text(service.team_name), rx.text("—"))),
        rx.table.cell(
            rx.flex(
                rx.foreach(
                    service.tags,
                    lambda t: rx.badge(
                        t,
                        color_scheme="cyan",
                        variant="outline",
                        cursor="pointer",
                        on_click=S.filter_tag(t),
                    ),
                ),
                wrap="wrap",
                spacing="1",
            )
        ),
        rx.table.cell(rx.flex(rx.foreach(service.links, _link), wrap="wrap", spacing="2")),
        rx.table.cell(
            rx.text(
                service.dependency_count.to_string()
                + " up · "
                + service.dependent_count.to_string()
                + " down",
                size="1",
                color=rx.color("gray", 10),
            )
        ),
        custom_attrs={"data-testid": "service-row"},
    )


def _filters() -> rx.Component:
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search by name, slug or description",
            on_change=S.search_changed.debounce(300),
            size="3",
            type="search",
            flex="2",
            min_width="14em",
        ),
        rx.el.select(
            rx.el.option("All teams", value=""),
            rx.foreach(S.teams, choice_option),
            value=S.team_filter,
            on_change=S.team_changed,
            aria_label="Owner team",
            style=NATIVE_SELECT,
        ),
        rx.input(
            placeholder="Tag",
            value=S.tag_filter,
            on_change=S.tag_changed.debounce(300),
            size="3",
            flex="1",
            min_width="8em",
        ),
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def _list() -> rx.Component:
    return rx.cond(
        ~S.loaded,
        loading_row(),
        rx.cond(
            S.services.length() == 0,
            empty_state(
                "server",
                "No services",
                rx.cond(
                    (S.search != "") | (S.team_filter != "") | (S.tag_filter != ""),
                    "No service matches your filters.",
                    "Create the first service your team runs.",
                ),
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Service"),
                            rx.table.column_header_cell("Owner"),
                            rx.table.column_header_cell("Tags"),
                            rx.table.column_header_cell("Links"),
                            rx.table.column_header_cell("Dependencies"),
                        )
                    ),
                    rx.table.body(rx.foreach(S.services, _service_row)),
                    width="100%",
                ),
                width="100%",
                overflow_x="auto",
            ),
        ),
    )


def _new_service_button() -> rx.Component:
    return rx.button(rx.icon("plus", size=16), "New service", on_click=S.toggle_create, size="3")


@page("/services", "Services", on_load=[S.load], actions=_new_service_button)
def services_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.creating, _create_form()),
        _filters(),
        _list(),
        spacing="4",
        width="100%",
    )


# --- one service -------------------------------------------------------------------------------


def _graph_node(node: GraphNode) -> rx.Component:
    color = rx.match(node.role, *ROLE_COLORS.items(), "gray")
    return rx.link(
        rx.box(
            rx.text(node.name, size="2", weight="medium"),
            rx.text(
                rx.match(
                    node.role,
                    ("self", "this service"),
                    ("upstream", "it needs this · depth " + node.depth.to_string()),
                    "breaks with it · depth " + node.depth.to_string(),
                ),
                size="1",
                color=rx.color("gray", 11),
            ),
            rx.cond(
                node.depends_on != "",
                rx.text("→ " + node.depends_on, size="1", color=rx.color("gray", 10)),
            ),
            padding="0.5em 0.75em",
            border_radius="var(--radius-3)",
            border="2px solid",
            border_color=rx.color(color, 8),
            background=rx.color(color, 3),
            min_width="9em",
        ),
        href="/services/" + node.id.to_string(),
        underline="none",
        color=rx.color("gray", 12),
        custom_attrs={"data-testid": "graph-node"},
    )


def _graph_row(row: rx.Var[list[GraphNode]], index: rx.Var[int]) -> rx.Component:
    return rx.vstack(
        rx.flex(rx.foreach(row, _graph_node), spacing="3", wrap="wrap", justify="center"),
        rx.cond(
            index < D.graph_rows.length() - 1,
            rx.icon("arrow_down", size=16, color=rx.color("gray", 9)),
        ),
        align="center",
        spacing="2",
        width="100%",
    )


def _graph() -> rx.Component:
    """Layered drawing: what breaks with this service above it, what it depends on below.

    Arrows point from a dependent down to what it depends on; each box lists its dependencies.
    """
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Impact", size="4", as_="h3"),
                rx.spacer(),
                rx.badge(D.downstream_count.to_string() + " downstream", color_scheme="red"),
                rx.badge(D.upstream_count.to_string() + " upstream", color_scheme="cyan"),
                width="100%",
                wrap="wrap",
            ),
            rx.text(
                "Above: services that break when this one breaks. Below: what it depends on.",
                size="1",
                color=rx.color("gray", 10),
            ),
            rx.box(
                rx.foreach(D.graph_rows, _graph_row),
                width="100%",
                overflow_x="auto",
                custom_attrs={"data-testid": "impact-graph"},
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _ref_row(ref: ServiceRef, removable: bool) -> rx.Component:
    remove = rx.cond(
        D.can_edit,
        rx.button(
            rx.icon("x", size=14),
            "Remove",
            variant="soft",
            color_scheme="red",
            size="1",
            on_click=D.remove_dependency(ref.id),
        ),
    )
    return rx.hstack(
        rx.link(ref.name, href="/services/" + ref.id.to_string()),
        rx.text(rx.cond(ref.team_name, ref.team_name, ""), size="1", color=rx.color("gray", 10)),
        rx.spacer(),
        remove if removable else rx.fragment(),
        width="100%",
        align="center",
    )


def _dependencies() -> rx.Component:
    return rx.grid(
        rx.card(
            rx.vstack(
                rx.heading("Depends on", size="3", as_="h3"),
                rx.cond(
                    D.depends_on.length() == 0,
                    rx.text("Nothing yet.", size="2", color=rx.color("gray", 10)),
                ),
                rx.foreach(D.depends_on, lambda r: _ref_row(r, True)),
                rx.cond(
                    D.can_edit & ~D.is_triage,
                    rx.form(
                        rx.hstack(
                            rx.el.select(
                                rx.el.option("Add a dependency…", value=""),
                                rx.foreach(D.candidates, choice_option),
                                name="depends_on_id",
                                style=NATIVE_SELECT | {"flex": "1"},
                                aria_label="Service to depend on",
                            ),
                            rx.button(rx.icon("plus", size=14), "Add", type="submit", size="2"),
                            width="100%",
                        ),
                        on_submit=D.add_dependency,
                        reset_on_submit=True,
                        width="100%",
                        custom_attrs={"data-testid": "add-dependency-form"},
                    ),
                ),
                spacing="2",
                width="100%",
            )
        ),
        rx.card(
            rx.vstack(
                rx.heading("Depended on by", size="3", as_="h3"),
                rx.cond(
                    D.dependents.length() == 0,
                    rx.text("Nothing depends on it.", size="2", color=rx.color("gray", 10)),
                ),
                rx.foreach(D.dependents, lambda r: _ref_row(r, False)),
                spacing="2",
                width="100%",
            )
        ),
        columns=rx.breakpoints(initial="1", md="2"),
        spacing="3",
        width="100%",
    )


def _edit_form() -> rx.Component:
    errs = D.edit_errors
    return form_card(
        field(
            "Name",
            rx.input(name="name", default_value=D.name, size="3"),
            error_of(errs, "name"),
        ),
        field(
            "Owner team",
            rx.el.select(
                # "" keeps the owner (the triage service may have none).
                rx.el.option("— unchanged —", value=""),
                rx.foreach(D.owner_choices, choice_option),
                name="team_id",
                default_value=D.team_id,
                style=NATIVE_SELECT | {"width": "100%"},
            ),
            error_of(errs, "team_id"),
        ),
        field(
            "Description",
            rx.text_area(name="description", default_value=D.description, rows="3"),
            error_of(errs, "description"),
        ),
        field(
            "Tags",
            rx.input(name="tags", default_value=D.tags.join(", "), size="3"),
            error_of(errs, "tags"),
            TAG_HINT,
        ),
        field(
            "Links",
            rx.text_area(name="links", default_value=D.links_text, rows="3"),
            error_of(errs, "links"),
            LINKS_HINT,
        ),
        field(
            "Escalation policy id",
            rx.input(
                name="escalation_policy_id",
                default_value=D.escalation_policy_id,
                size="3",
                type="number",
                min="1",
            ),
            error_of(errs, "escalation_policy_id"),
            "Optional; escalation policies arrive with incidents.",
        ),
        errors=errs,
        submit="Save",
        on_submit=D.save,
        on_cancel=D.toggle_edit,
    )


def _delete_button() -> rx.Component:
    return confirm_delete(
        "Delete",
        "Delete " + D.name + "?",
        "The service and the dependencies it declares are removed. Services that "
        "depend on it must drop that dependency first.",
        D.delete,
        size="3",
    )


def _service() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("Owner:", size="2"),
            rx.cond(
                D.team_id != "",
                rx.link(D.team_name, href="/teams/" + D.team_id),
                rx.text("none (platform triage)", size="2"),
            ),
            rx.cond(D.is_triage, rx.badge("triage", color_scheme="amber")),
            rx.cond(
                D.escalation_policy_id != "",
                rx.badge("escalation policy #" + D.escalation_policy_id, variant="soft"),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(D.description != "", rx.text(D.description, color=rx.color("gray", 11))),
        rx.flex(tag_badges(D.tags, "cyan"), wrap="wrap", spacing="1"),
        rx.flex(rx.foreach(D.links, _link), wrap="wrap", spacing="3"),
        rx.cond(
            D.can_edit,
            rx.flex(
                rx.cond(
                    ~D.editing,
                    rx.button(
                        rx.icon("pencil", size=16),
                        "Edit",
                        variant="soft",
                        size="3",
                        on_click=D.toggle_edit,
                    ),
                ),
                rx.cond(~D.is_triage, _delete_button()),
                spacing="2",
            ),
        ),
        rx.cond(D.editing, _edit_form()),
        _dependencies(),
        _graph(),
        heartbeats_section(),
        maintenance_section(),
        spacing="3",
        width="100%",
        align="stretch",
    )


@page(
    "/services/[service_id]", "Service", on_load=[D.load, ServiceOpsState.load], heading=D.heading
)
def service_detail_page() -> rx.Component:
    return rx.cond(
        ~D.loaded,
        loading_row(),
        rx.cond(
            D.found,
            _service(),
            empty_state("server", "Service not found", "It may have been deleted."),
        ),
    )
