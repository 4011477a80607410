"""An incident's timeline: one line per event, oldest first, with an icon per kind.

Note bodies are HTML the backend rendered from markdown and sanitised with nh3 on write; it is
the only HTML this page renders.
"""

from __future__ import annotations

import reflex as rx

from oncall_app.state.incident_detail import TimelineRow


def _entry(row: TimelineRow) -> rx.Component:
    return rx.hstack(
        rx.box(
            rx.icon(row.icon, size=16, color=rx.color(row.color, 11)),
            padding="0.4em",
            border_radius="50%",
            background=rx.color(row.color, 3),
            flex_shrink="0",
        ),
        rx.vstack(
            rx.hstack(
                rx.text(row.summary, size="2", weight="medium", word_break="break-word"),
                rx.spacer(),
                rx.text(
                    rx.moment(row.at, format="MMM D, HH:mm:ss"),
                    size="1",
                    color=rx.color("gray", 10),
                    white_space="nowrap",
                    title=row.at,
                ),
                width="100%",
                wrap="wrap",
                spacing="2",
            ),
            rx.cond(
                row.html != "",
                rx.box(
                    rx.html(row.html),
                    class_name="incident-note",
                    padding="0.5em 0.75em",
                    border_left=f"3px solid {rx.color('cyan', 7)}",
                    background=rx.color("gray", 2),
                    width="100%",
                    font_size="var(--font-size-2)",
                    word_break="break-word",
                    custom_attrs={"data-testid": "timeline-note"},
                ),
            ),
            spacing="1",
            flex="1",
            min_width="0",
        ),
        spacing="3",
        align="start",
        width="100%",
        padding_y="0.4em",
        custom_attrs={"data-testid": "timeline-entry", "data-kind": row.kind},
    )


def incident_timeline(rows: rx.Var[list[TimelineRow]]) -> rx.Component:
    return rx.vstack(
        rx.foreach(rows, _entry),
        spacing="0",
        width="100%",
        custom_attrs={"data-testid": "timeline"},
    )
