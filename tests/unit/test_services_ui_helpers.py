"""The services page's pure helpers: link parsing and the impact drawing rows."""

from __future__ import annotations

from backend.catalog.schemas import DependencyEdge, ImpactNode, ServiceImpact, ServiceRef
from oncall_app.state.services import drawing, parse_links


def _ref(sid: int, name: str) -> dict[str, object]:
    return {"id": sid, "name": name, "slug": name.lower(), "team_id": 1, "team_name": "T"}


def test_parse_links() -> None:
    raw = "Runbook https://wiki.example.org/pay\n\n  https://grafana.example.org  \nMy board x"
    assert parse_links(raw) == [
        {"title": "Runbook", "url": "https://wiki.example.org/pay"},
        {"title": "Link", "url": "https://grafana.example.org"},
        {"title": "My board", "url": "x"},  # the schema refuses it with a field error
    ]


def test_drawing_puts_dependents_on_top_and_lists_dependencies() -> None:
    impact = ServiceImpact(
        service=ServiceRef(**_ref(2, "API"), is_triage=False),  # type: ignore[arg-type]
        upstream=[ImpactNode(**_ref(3, "DB"), is_triage=False, depth=1)],  # type: ignore[arg-type]
        downstream=[
            ImpactNode(**_ref(1, "Web"), is_triage=False, depth=1),  # type: ignore[arg-type]
            ImpactNode(**_ref(4, "Gateway"), is_triage=False, depth=1),  # type: ignore[arg-type]
        ],
        edges=[
            DependencyEdge(service_id=1, depends_on_id=2),
            DependencyEdge(service_id=2, depends_on_id=3),
            DependencyEdge(service_id=4, depends_on_id=2),
        ],
        layers=[[3], [2], [1, 4]],
    )
    rows = [[(n.name, n.role, n.depth, n.depends_on) for n in row] for row in drawing(impact)]
    assert rows == [
        [("Gateway", "downstream", 1, "API"), ("Web", "downstream", 1, "API")],
        [("API", "self", 0, "DB")],
        [("DB", "upstream", 1, "")],
    ]
