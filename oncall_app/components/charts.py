"""Small recharts wrappers for the incident metrics (counts as bars, MTTA/MTTR as lines)."""

from __future__ import annotations

import reflex as rx

HEIGHT = 180


def _frame(chart: rx.Component) -> rx.Component:
    return rx.box(chart, width="100%", height=f"{HEIGHT}px")


def counts_chart(data: rx.Var) -> rx.Component:
    """Incidents opened, acknowledged and resolved per bucket (data: ChartPoint rows)."""
    return _frame(
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="label", tick_line=False, min_tick_gap=24),
            rx.recharts.y_axis(allow_decimals=False, width=28),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            rx.recharts.bar(data_key="opened", name="Opened", fill=rx.color("red", 9)),
            rx.recharts.bar(
                data_key="acknowledged", name="Acknowledged", fill=rx.color("amber", 9)
            ),
            rx.recharts.bar(data_key="resolved", name="Resolved", fill=rx.color("green", 9)),
            data=data,
            width="100%",
            height=HEIGHT,
        )
    )


def durations_chart(data: rx.Var) -> rx.Component:
    """Mean time to acknowledge and to resolve per bucket, in minutes."""
    return _frame(
        rx.recharts.line_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="label", tick_line=False, min_tick_gap=24),
            rx.recharts.y_axis(width=48, unit="m"),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            rx.recharts.line(
                data_key="mtta_min",
                name="MTTA (min)",
                stroke=rx.color("amber", 9),
                connect_nulls=True,
                dot=False,
            ),
            rx.recharts.line(
                data_key="mttr_min",
                name="MTTR (min)",
                stroke=rx.color("green", 9),
                connect_nulls=True,
                dot=False,
            ),
            data=data,
            width="100%",
            height=HEIGHT,
        )
    )
