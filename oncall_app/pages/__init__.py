"""Every page module, imported so its routes register (Reflex requirement)."""

from oncall_app.pages import home, login, placeholders, teams

__all__ = ["home", "login", "placeholders", "teams"]
