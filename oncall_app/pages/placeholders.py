"""Areas of the SPEC that are not built yet: an honest notice, never sample data."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.empty import empty_state
from oncall_app.components.nav import menu_list
from oncall_app.layout import page

# route, title, icon, what will bring it (SPEC requirement ids)
NOT_BUILT = (
    ("/workflows", "Workflows", "workflow", "automation workflows and runbooks (AUTO)"),
    ("/postmortems", "Postmortems", "file_text", "postmortems (POST)"),
    ("/status-pages", "Status pages", "activity", "status pages (STATUS, PARTNER)"),
)


def _register(route: str, title: str, icon: str, topic: str) -> None:
    def content() -> rx.Component:
        return empty_state(icon, "Not built yet", f"Not built yet — coming with {topic}.")

    content.__name__ = "not_built_" + route.strip("/").replace("-", "_")
    page(route, title)(content)


for _route, _title, _icon, _topic in NOT_BUILT:
    _register(_route, _title, _icon, _topic)


@page("/menu", "Menu")
def menu_page() -> rx.Component:
    return menu_list()
