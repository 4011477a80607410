"""The schedule timeline: one track per layer and the final row, bars positioned by percentage
of the window (computed in ``oncall_app.state.schedules_view``), day lines at the viewer's
midnights, gaps hatched in red. Plain boxes, no JS library.

Each bar's ``title`` gives its times in the viewer's zone and in the schedule's zone, so a
hover (or a long press on a phone) answers "when is that for the schedule?".
"""

from __future__ import annotations

import reflex as rx

from oncall_app.state.schedules_view import GAP_BACKGROUND, Bar, Row, Tick

LABEL_WIDTH = "9.5em"
TRACK_HEIGHT = "2.5em"


def _bar(bar: Bar) -> rx.Component:
    return rx.el.div(
        rx.el.span(bar.label),
        title=bar.title,
        style={
            "position": "absolute",
            "left": bar.left,
            "width": bar.width,
            "top": "4px",
            "bottom": "4px",
            "background": bar.background,
            "border": bar.border,
            "border_radius": "4px",
            "overflow": "hidden",
            "white_space": "nowrap",
            "text_overflow": "ellipsis",
            "font_size": "12px",
            "line_height": "1.9em",
            "padding": "0 4px",
            "box_sizing": "border-box",
            "color": "var(--gray-12)",
            "cursor": "default",
        },
        custom_attrs={"data-testid": "timeline-bar", "data-kind": bar.kind},
    )


def _day_line(tick: Tick) -> rx.Component:
    return rx.el.div(
        style={
            "position": "absolute",
            "left": tick.left,
            "top": "0",
            "bottom": "0",
            "width": "1px",
            "background": "var(--gray-5)",
        }
    )


def _day_label(tick: Tick) -> rx.Component:
    return rx.el.span(
        tick.label,
        style={
            "position": "absolute",
            "left": tick.left,
            "padding_left": "3px",
            "font_size": "11px",
            "color": "var(--gray-11)",
            "white_space": "nowrap",
        },
    )


def _track(children: rx.Component, ticks: rx.Var[list[Tick]], height: str) -> rx.Component:
    return rx.el.div(
        rx.foreach(ticks, _day_line),
        children,
        style={
            "position": "relative",
            "flex": "1",
            "height": height,
            "background": "var(--gray-2)",
            "border_bottom": "1px solid var(--gray-4)",
        },
    )


def _row(row: Row, ticks: rx.Var[list[Tick]]) -> rx.Component:
    return rx.el.div(
        rx.vstack(
            rx.text(row.name, size="2", weight="medium", trim="both", truncate=True),
            rx.text(row.caption, size="1", color=rx.color("gray", 10), trim="both"),
            spacing="1",
            width=LABEL_WIDTH,
            min_width=LABEL_WIDTH,
            padding_right="0.5em",
            justify="center",
        ),
        _track(rx.foreach(row.bars, _bar), ticks, TRACK_HEIGHT),
        style={"display": "flex", "align_items": "center", "width": "100%"},
        custom_attrs={"data-testid": "timeline-row", "data-row": row.key},
    )


def timeline(
    rows: rx.Var[list[Row]], ticks: rx.Var[list[Tick]], testid: str = "timeline"
) -> rx.Component:
    """Rows of bars under a header of day labels; scrolls sideways on narrow screens."""
    header = rx.el.div(
        rx.box(width=LABEL_WIDTH, min_width=LABEL_WIDTH),
        rx.el.div(
            rx.foreach(ticks, _day_label),
            style={"position": "relative", "flex": "1", "height": "1.4em"},
        ),
        style={"display": "flex", "width": "100%"},
    )
    return rx.box(
        rx.box(
            header,
            rx.foreach(rows, lambda row: _row(row, ticks)),
            min_width="680px",
        ),
        overflow_x="auto",
        width="100%",
        custom_attrs={"data-testid": testid},
    )


def legend() -> rx.Component:
    def swatch(background: str, border: str, text: str) -> rx.Component:
        return rx.hstack(
            rx.box(width="1.4em", height="0.9em", background=background, border=border),
            rx.text(text, size="1", color=rx.color("gray", 11)),
            spacing="1",
            align="center",
        )

    return rx.flex(
        swatch("var(--blue-4)", "1px solid var(--blue-8)", "rotation shift"),
        swatch("var(--blue-5)", "1px dashed var(--blue-10)", "override or swap"),
        swatch(GAP_BACKGROUND, "1px solid var(--red-9)", "gap: nobody on call"),
        spacing="4",
        wrap="wrap",
    )
