"""/notifications: my contact methods (add, verify, remove), my rules per urgency, quiet hours,
the outbox provider's messages (the embedded default's "sent" mail and texts) and provider
health for platform admins."""

from __future__ import annotations

import reflex as rx
from pydantic import BaseModel

from backend.core.actor import Actor
from backend.core.errors import AlreadyExists
from backend.core.events import DomainEvent
from backend.notifications import personal, queries, readiness, vapid
from backend.notifications import service as notif
from backend.notifications.models import ChannelKind, Urgency
from backend.notifications.schemas import (
    ContactMethodIn,
    OutboxMessageOut,
    QuietHoursIn,
    RuleIn,
    RuleOut,
)
from oncall_app.services import call
from oncall_app.state import browser_push
from oncall_app.state.browser_push import shown_address
from oncall_app.state.session import SessionState

OUTBOX_PAGE = 25
KINDS = [k.value for k in ChannelKind]


class MethodRow(BaseModel):
    id: int
    kind: str
    address: str
    label: str
    verified: bool
    pending: bool


class StepRow(BaseModel):
    urgency: str
    index: int
    channel: str
    delay: int
    default: bool
    method_id: int = 0  # a step naming one contact method (its kind is ``channel``)
    label: str = ""  # what the step shows for a method: "sms +15550002"


class StepTarget(BaseModel):
    """One choice of the add-step select: a channel, or one of my verified methods."""

    value: str  # "email" … or "method:<id>"
    label: str


class OutboxMsg(BaseModel):
    id: int
    channel: str
    recipient: str
    subject: str
    body: str
    created_at: str


def _outbox_msg(m: OutboxMessageOut) -> OutboxMsg:
    return OutboxMsg(
        id=m.id,
        channel=m.channel.value,
        recipient=m.to,
        subject=m.subject,
        body=m.body,
        created_at=m.created_at.isoformat(),
    )


class HealthRow(BaseModel):
    name: str
    state: str
    failures: int
    last_error: str
    opened_at: str


def expand_steps(steps: list[StepRow], verified_kinds: set[str]) -> list[StepRow]:
    """Steps to save: a default "every verified method" step (no channel) becomes one step per
    verified channel, with its delay, since a saved rule names a channel or a method."""
    out: list[StepRow] = []
    for s in steps:
        if s.method_id or s.channel in KINDS:
            out.append(s)
        else:
            out += [s.model_copy(update={"channel": kind}) for kind in sorted(verified_kinds)]
    return out


def step_targets(methods: list[MethodRow]) -> list[StepTarget]:
    """The add-step choices: every channel, then each verified method by itself."""
    return [StepTarget(value=k, label=k) for k in KINDS] + [
        StepTarget(value=f"method:{m.id}", label=method_label(m)) for m in methods if m.verified
    ]


def method_label(m: MethodRow) -> str:
    return f"{m.kind} {m.label or m.address}"


def parse_target(value: str) -> tuple[str, int]:
    """An add-step choice → (channel, method id or 0); ValueError for anything else."""
    method_id = value.removeprefix("method:")
    if value.startswith("method:") and method_id.isdigit():
        return "", int(method_id)
    if value in KINDS:
        return value, 0
    raise ValueError(f"not a channel or a method: {value!r}")


class NotificationsState(SessionState):
    methods: list[MethodRow] = []
    steps: list[StepRow] = []
    targets: list[StepTarget] = []
    my_outbox: list[OutboxMsg] = []
    quiet_start: str = ""
    quiet_end: str = ""
    on_call_gaps: list[str] = []
    outbox: list[OutboxMsg] = []
    outbox_more: bool = False
    health: list[HealthRow] = []
    loaded: bool = False
    new_kind: str = "email"
    codes: dict[str, str] = {}
    _outbox_limit: int = OUTBOX_PAGE

    @rx.var
    def unreachable(self) -> bool:
        return self.loaded and not any(m.verified for m in self.methods)

    @rx.event
    async def load(self):
        if not self.authenticated:
            return None
        self._watch(NotificationsState, ("incidents",))
        return await self._reload_as_user()

    async def _reload(self, actor: Actor) -> None:
        methods = await call(notif.list_contact_methods, actor, self.user_id)
        self.methods = [
            MethodRow(
                id=m.id,
                kind=m.kind.value,
                address=shown_address(m.kind.value, m.address),
                label=m.label,
                verified=m.verified,
                pending=m.verification_pending,
            )
            for m in methods
        ]
        rules = await call(notif.list_rules, actor, self.user_id)
        by_id = {m.id: m for m in self.methods}
        self.steps = self._numbered([self._step_row(r, by_id) for r in rules])
        self.targets = step_targets(self.methods)
        quiet = await call(personal.my_quiet_hours, actor, self.user_id)
        self.quiet_start, self.quiet_end = (quiet.start, quiet.end) if quiet else ("", "")
        self.on_call_gaps = await call(readiness.my_gaps, actor, self.user_id)
        await self._reload_own_outbox(actor)
        await self._reload_admin(actor)
        self.loaded = True

    @staticmethod
    def _step_row(r: RuleOut, by_id: dict[int, MethodRow]) -> StepRow:
        method = by_id.get(r.contact_method_id or 0)
        channel = r.channel.value if r.channel else "every verified method"
        if r.contact_method_id is not None:
            channel = method.kind if method else "removed method"
        return StepRow(
            urgency=r.urgency.value,
            index=0,
            channel=channel,
            delay=r.delay_minutes,
            default=r.id is None,
            method_id=r.contact_method_id or 0,
            label=method_label(method) if method else "",
        )

    async def _reload_own_outbox(self, actor: Actor) -> None:
        """My latest outbox messages (codes, pages) while a channel uses the outbox; admins
        see the whole outbox below instead."""
        if self.is_platform_admin:
            self.my_outbox = []
            return
        rows = await call(personal.my_outbox, actor, self.user_id, limit=10)
        self.my_outbox = [_outbox_msg(m) for m in rows]

    async def _reload_admin(self, actor: Actor) -> None:
        if not self.is_platform_admin:
            return
        rows = await call(queries.list_outbox, actor, limit=self._outbox_limit + 1)
        self.outbox = [_outbox_msg(m) for m in rows[: self._outbox_limit]]
        self.outbox_more = len(rows) > self._outbox_limit
        health = await call(queries.list_provider_health, actor)
        self.health = [
            HealthRow(
                name=h.name,
                state=h.state,
                failures=h.consecutive_failures,
                last_error=h.last_error,
                opened_at=h.opened_at.isoformat() if h.opened_at else "",
            )
            for h in health
        ]

    @staticmethod
    def _numbered(steps: list[StepRow]) -> list[StepRow]:
        out: list[StepRow] = []
        for urgency in (u.value for u in Urgency):
            mine = [s for s in steps if s.urgency == urgency]
            out += [s.model_copy(update={"index": i}) for i, s in enumerate(mine)]
        return out

    # ---- contact methods -------------------------------------------------------------
    @rx.event
    def set_new_kind(self, value: str):
        self.new_kind = value

    @rx.event
    async def add_method(self, form: dict):
        address = str(form.get("address", "")).strip()
        try:
            actor = await self._actor()
            await call(
                notif.add_contact_method,
                actor,
                self.user_id,
                ContactMethodIn(
                    kind=ChannelKind(self.new_kind),
                    address=address,
                    label=str(form.get("label", "")).strip(),
                ),
            )
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success(
            "Added: a verification code was sent to " + shown_address(self.new_kind, address)
        )

    @rx.event
    async def enable_browser_push(self):
        """Subscribe this browser (in the page, see browser_push.py); the answer comes back to
        :meth:`save_browser_push`."""
        try:
            await self._actor()
            key = await call(vapid.public_key)
        except Exception as exc:
            return self._fail(exc)
        return rx.call_script(
            browser_push.subscribe_script(key), callback=NotificationsState.save_browser_push
        )

    @rx.event
    async def save_browser_push(self, result: str):
        try:
            body = browser_push.subscription_method(result)
        except ValueError as exc:
            return rx.toast.error(str(exc))
        try:
            actor = await self._actor()
            await call(notif.add_contact_method, actor, self.user_id, body)
            await self._reload(actor)
        except AlreadyExists:
            return rx.toast.info("This browser is already one of your contact methods.")
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success(
            "Browser notifications enabled: enter the code just pushed to this device."
        )

    @rx.event
    def set_code(self, method_id: int, value: str):
        self.codes = {**self.codes, str(method_id): value}

    @rx.event
    async def verify(self, method_id: int):
        code = self.codes.get(str(method_id), "").strip()
        try:
            actor = await self._actor()
            await call(notif.verify_contact_method, actor, method_id, code)
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("Verified.")

    @rx.event
    async def resend(self, method_id: int):
        try:
            actor = await self._actor()
            await call(notif.resend_verification, actor, method_id)
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("A new verification code was sent.")

    @rx.event
    async def remove(self, method_id: int):
        try:
            actor = await self._actor()
            await call(notif.remove_contact_method, actor, method_id)
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("Contact method removed.")

    # ---- rules -----------------------------------------------------------------------
    async def _save(self, urgency: str, steps: list[StepRow]):
        try:
            actor = await self._actor()
            await call(
                notif.set_rules,
                actor,
                self.user_id,
                Urgency(urgency),
                [
                    RuleIn(
                        urgency=Urgency(urgency),
                        channel=None if s.method_id else ChannelKind(s.channel),
                        contact_method_id=s.method_id or None,
                        delay_minutes=s.delay,
                    )
                    for s in self._expanded(steps)
                ],
            )
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success(f"{urgency.capitalize()}-urgency rules saved.")

    def _expanded(self, steps: list[StepRow]) -> list[StepRow]:
        return expand_steps(steps, {m.kind for m in self.methods if m.verified})

    def _of(self, urgency: str) -> list[StepRow]:
        return [s for s in self.steps if s.urgency == urgency]

    @rx.event
    async def add_step(self, form: dict):
        urgency = str(form.get("urgency", "high"))
        try:
            delay = int(str(form.get("delay", "0")) or 0)
        except ValueError:
            return rx.toast.error("Delay must be a whole number of minutes.")
        try:
            channel, method_id = parse_target(str(form.get("channel", "email")))
        except ValueError:
            return rx.toast.error("Choose a channel or one of your verified methods.")
        step = StepRow(
            urgency=urgency,
            index=0,
            channel=channel,
            delay=delay,
            default=False,
            method_id=method_id,
        )
        return await self._save(urgency, [*self._of(urgency), step])

    @rx.event
    async def remove_step(self, urgency: str, index: int):
        steps = self._of(urgency)
        return await self._save(urgency, [s for s in steps if s.index != index])

    @rx.event
    async def move_up(self, urgency: str, index: int):
        steps = self._of(urgency)
        if index <= 0 or index >= len(steps):
            return None
        steps[index - 1], steps[index] = steps[index], steps[index - 1]
        return await self._save(urgency, steps)

    @rx.event
    async def reset_rules(self, urgency: str):
        return await self._save(urgency, [])

    @rx.event
    async def set_quiet(self, form: dict):
        start, end = str(form.get("start", "")).strip(), str(form.get("end", "")).strip()
        try:
            body = QuietHoursIn(start=start, end=end) if start or end else None
        except ValueError:
            return rx.toast.error("Quiet hours need a start and an end as HH:MM (e.g. 22:00).")
        try:
            actor = await self._actor()
            await call(notif.set_quiet_hours, actor, self.user_id, body)
            await self._reload(actor)
        except Exception as exc:
            return self._fail(exc)
        return rx.toast.success("Quiet hours saved." if body else "Quiet hours cleared.")

    @rx.event
    def set_quiet_start(self, value: str):
        self.quiet_start = value

    @rx.event
    def set_quiet_end(self, value: str):
        self.quiet_end = value

    # ---- outbox ----------------------------------------------------------------------
    @rx.event
    async def refresh(self):
        try:
            actor = await self._actor()
            await self._reload_own_outbox(actor)
            await self._reload_admin(actor)
        except Exception as exc:
            return self._fail(exc)
        return None

    @rx.event
    async def more_outbox(self):
        self._outbox_limit = min(self._outbox_limit + OUTBOX_PAGE, 500)
        return await self.refresh()

    async def _on_live(self, actor: Actor, event: DomainEvent) -> str:
        del event
        await self._reload_own_outbox(actor)
        await self._reload_admin(actor)
        return ""
