"""Reflex configuration. Values come from backend settings; there is no db_url on purpose
(ADR 0003: plain SQLModel with our own Alembic and engine)."""

import reflex as rx

from backend.core.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="oncall_app",
    frontend_port=_settings.frontend_port,
    backend_port=_settings.backend_port,
    deploy_url=_settings.base_url,
    api_url=_settings.base_url,
    # Our own origin only: otherwise any site could open the websocket with the user's cookie.
    cors_allowed_origins=[_settings.base_url],
    # Several backend workers share state through Redis in production.
    redis_url=(
        _settings.redis.url_for_db(_settings.redis.reflex_state_db)
        if _settings.redis.enabled
        else None
    ),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # No sitemap: nothing here is for search engines.
    disable_plugins=[rx.plugins.SitemapPlugin],
    # The UI is built from Radix Themes components; a calm indigo/slate theme.
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                appearance="light", accent_color="indigo", gray_color="slate", radius="medium"
            )
        )
    ],
)
