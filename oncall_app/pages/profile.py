"""/profile: name, phone, IANA time zone."""

from __future__ import annotations

from zoneinfo import available_timezones

import reflex as rx

from oncall_app.components.empty import loading_row
from oncall_app.components.forms import error_of, field, form_error
from oncall_app.layout import page
from oncall_app.pages.profile_calendars import calendars_section
from oncall_app.pages.team_detail import NATIVE_SELECT
from oncall_app.state.calendars import CalendarsState
from oncall_app.state.people import ProfileState as S

# Region/City names only: legacy aliases (EST5EDT, US/Pacific…) confuse more than help.
REGIONS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/")
REGIONS += ("Europe/", "Indian/", "Pacific/")
ZONES = ["UTC", *sorted(z for z in available_timezones() if z.startswith(REGIONS))]


def _form() -> rx.Component:
    errs = S.profile_errors
    return rx.card(
        rx.form(
            rx.vstack(
                field(
                    "Name",
                    rx.input(name="name", default_value=S.name, size="3"),
                    error_of(errs, "name"),
                ),
                field(
                    "E-mail",
                    rx.input(value=S.email, read_only=True, disabled=True, size="3"),
                    rx.Var.create(""),
                    "Managed by your identity provider.",
                ),
                field(
                    "Phone",
                    rx.input(
                        name="phone",
                        default_value=S.phone,
                        type="tel",
                        placeholder="+14155550100",
                        size="3",
                    ),
                    error_of(errs, "phone"),
                    "International format, used for SMS and voice pages.",
                ),
                field(
                    "Time zone",
                    rx.el.select(
                        *[rx.el.option(z, value=z) for z in ZONES],
                        name="time_zone",
                        default_value=S.time_zone,
                        style=NATIVE_SELECT | {"width": "100%"},
                    ),
                    error_of(errs, "time_zone"),
                    "Schedules and shift times are shown in this zone.",
                ),
                form_error(errs),
                rx.button("Save profile", type="submit", size="3"),
                spacing="3",
                align="stretch",
            ),
            on_submit=S.save,
            custom_attrs={"data-testid": "profile-form"},
        ),
        width="100%",
        max_width="560px",
    )


@page("/profile", "Profile", on_load=[S.load, CalendarsState.load])
def profile_page() -> rx.Component:
    # Keyed on the loaded flag so the uncontrolled inputs mount with the loaded values.
    return rx.vstack(
        rx.cond(S.loaded, _form(), loading_row()), calendars_section(), spacing="4", width="100%"
    )
