"""The schedule page's calendar feed: a secret iCalendar URL of the final shifts, shown
once, and the schedule's live feeds with Revoke."""

from __future__ import annotations

import reflex as rx

from oncall_app.components.calendar_feeds import feed_list, feed_url_once
from oncall_app.components.form_card import section
from oncall_app.state.schedule_detail import ScheduleDetailState as S


def feed_section() -> rx.Component:
    return section(
        "Calendar feed",
        rx.text(
            "A secret iCalendar URL with this schedule's final shifts, for a shared calendar.",
            size="2",
            color=rx.color("gray", 11),
        ),
        feed_url_once(S.new_feed_url, S.hide_feed_url),
        feed_list(S.feeds, S.revoke_feed),
        actions=rx.button(rx.icon("plus", size=14), "New feed URL", on_click=S.create_feed),
    )
