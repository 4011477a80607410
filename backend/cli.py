"""The ``oncall`` command: database, accounts, API keys, serving and workers."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from alembic.config import Config

from backend.apikeys import service as apikeys
from backend.apikeys.schemas import ApiKeyCreate
from backend.core.actor import Actor, PlatformRole
from backend.core.errors import DomainError
from backend.core.logging import configure_logging
from backend.core.settings import get_settings
from backend.core.validation import parse
from backend.demo import seed as demo_seed
from backend.identity import break_glass
from backend.identity import service as identity
from backend.notifications import vapid
from jobs import scheduler as jobs_scheduler
from jobs.broker import setup_broker

ROOT = Path(__file__).resolve().parent.parent
app = typer.Typer(no_args_is_help=True, help="OnCall: on-call and incident management.")
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
bg_app = typer.Typer(no_args_is_help=True, help="Break-glass local accounts.")
user_app = typer.Typer(no_args_is_help=True, help="Users.")
key_app = typer.Typer(no_args_is_help=True, help="API keys.")
demo_app = typer.Typer(no_args_is_help=True, help="Demo data.")
web_push_app = typer.Typer(no_args_is_help=True, help="Browser push (VAPID keys).")
app.add_typer(db_app, name="db")
app.add_typer(bg_app, name="break-glass")
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="api-key")
app.add_typer(demo_app, name="demo")
app.add_typer(web_push_app, name="web-push")


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "backend" / "migrations"))
    config.set_main_option("sqlalchemy.url", get_settings().database.url)
    return config


def fail(exc: DomainError) -> typer.Exit:
    typer.echo(f"error: {exc.detail} ({exc.code.value})", err=True)
    return typer.Exit(code=2)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(), revision)
    typer.echo(f"database at {revision}")


@bg_app.command("create")
def break_glass_create(
    email: Annotated[str, typer.Option(help="The account's e-mail")],
    name: Annotated[str, typer.Option(help="Display name")],
) -> None:
    """Create a break-glass account (or reset its password); prints the password once."""
    try:
        account = break_glass.create_account(Actor.cli(), email, name)
    except DomainError as exc:
        raise fail(exc) from exc
    typer.echo(f"break-glass account {account.email} (user {account.user_id})")
    typer.echo(f"password (shown once): {account.password}")


@user_app.command("promote")
def user_promote(
    email: Annotated[str, typer.Option()],
    platform_admin: Annotated[bool, typer.Option("--platform-admin/--user")] = True,
) -> None:
    """Make a user a platform admin (or back to a plain user with --user)."""
    role = PlatformRole.PLATFORM_ADMIN if platform_admin else PlatformRole.USER
    try:
        user = identity.set_platform_role(Actor.cli(), email, role)
    except DomainError as exc:
        raise fail(exc) from exc
    typer.echo(f"{user.email} is now {user.platform_role.value}")


@key_app.command("create")
def api_key_create(
    name: Annotated[str, typer.Option()],
    scope: Annotated[list[str], typer.Option(help="Repeat for several scopes")],
    expires: Annotated[
        str | None, typer.Option(help="ISO 8601 expiry, e.g. 2027-01-01T00:00Z")
    ] = None,
) -> None:
    """Create an API key; prints the key once."""
    try:
        data = parse(ApiKeyCreate, {"name": name, "scopes": scope, "expires_at": expires})
        created = apikeys.create_key(Actor.cli(), data)
    except DomainError as exc:
        raise fail(exc) from exc
    typer.echo(f"api key {created.id} '{created.name}' scopes={','.join(created.scopes)}")
    typer.echo(f"key (shown once): {created.key}")


@demo_app.command("seed")
def demo_seed_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Create (idempotently) a demo organisation to try the product with."""
    result = demo_seed.seed()
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
    else:
        for key, value in result.items():
            typer.echo(f"{key}: {value}")


@web_push_app.command("public-key")
def web_push_public_key() -> None:
    """Print the VAPID public key browsers subscribe with (the pair is made on first use)."""
    try:
        typer.echo(vapid.public_key())
    except DomainError as exc:
        raise fail(exc) from exc


def _reflex_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    return env


@app.command("serve")
def serve(
    port: Annotated[int | None, typer.Option(help="Port for UI and API (one port)")] = None,
) -> None:
    """Run the app in production mode: UI and API on one port, migrations applied first."""
    command.upgrade(alembic_config(), "head")
    settings = get_settings()
    chosen = str(port or settings.frontend_port)
    reflex = shutil.which("reflex") or "reflex"
    args = [
        reflex,
        "run",
        "--env",
        "prod",
        "--single-port",
        "--frontend-port",
        chosen,
        "--backend-port",
        chosen,
    ]
    os.chdir(ROOT)
    os.execvpe(reflex, args, _reflex_env())  # noqa: S606  # replaces this process on purpose


@app.command("worker")
def worker(
    processes: Annotated[int, typer.Option()] = 2,
    threads: Annotated[int, typer.Option()] = 8,
) -> None:
    """Run Dramatiq worker processes against Redis (production)."""
    if not get_settings().redis.enabled:
        typer.echo(
            "error: set ONCALL_REDIS__URL; without Redis jobs run inside `oncall serve`.", err=True
        )
        raise typer.Exit(code=2)
    args = [
        sys.executable,
        "-m",
        "dramatiq",
        "jobs.actors",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
    ]
    os.execv(sys.executable, args)  # noqa: S606  # replaces this process on purpose


@app.command("scheduler")
def scheduler() -> None:
    """Send periodic jobs (retention, cleanup) to the workers; safe to run on several machines."""
    if not get_settings().redis.enabled:
        typer.echo(
            "error: set ONCALL_REDIS__URL; embedded, `oncall serve` schedules itself.", err=True
        )
        raise typer.Exit(code=2)
    setup_broker()
    jobs_scheduler.Scheduler().run(threading.Event())


def main() -> None:
    settings = get_settings()
    configure_logging(
        json_output=settings.observability.log_json, level=settings.observability.log_level
    )
    app()
