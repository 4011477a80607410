"""Acting from anywhere (NOTIF-05): the e-mail magic link pages and the Twilio SMS webhook.

* ``GET /api/v1/actions/email/{token}``: a plain HTML confirmation page (no Reflex), changing
  nothing, because mail scanners prefetch links; its button POSTs to the same URL, which uses
  the link once and acts as the link's user.
* ``POST /api/v1/webhooks/slack/interactions`` and ``/commands``: Slack's buttons and
  ``/oncall ack|resolve <id>``, verified with ``SignatureVerifier`` (signing secret, 5-minute
  window); answered within 3 s (see ``_within_deadline``).
* ``POST /api/v1/webhooks/twilio/sms``: Twilio's inbound SMS webhook, verified with the
  ``X-Twilio-Signature`` of the public URL (``base_url`` + path) and the form parameters; the
  answer is TwiML with one reply message. A bad or missing signature is 401 and nothing runs.
* ``POST /api/v1/webhooks/twilio/voice?notification=<id>``: the keypad of a page call (1
  acknowledge, 2 details, 9 escalate; ``voice_ivr``), same signature check; the answer is
  TwiML (``text/xml``). A bad or missing signature is 403 and nothing runs.
* ``POST /api/v1/webhooks/twilio/status?notification=<id>``: Twilio's status callbacks
  (delivery receipts) for SMS and calls, same signature check; a bad one is 403.
* ``POST /api/v1/webhooks/ses/events``: Amazon SES's e-mail events through an SNS topic
  (delivery receipts, ``ses_events``): SNS signature and topic checked; a bad one is 403.
"""

from __future__ import annotations

import threading
from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as xml_escape

import anyio.to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator

from backend.api.problems import problem
from backend.core.errors import ErrorCode
from backend.core.settings import get_settings
from backend.notifications import (
    actions,
    magic_links,
    receipts,
    ses_events,
    slack_actions,
    sms_replies,
    voice_ivr,
)
from backend.notifications.actions import ActResult, Outcome
from backend.notifications.magic_links import LinkState
from backend.notifications.providers.twilio_voice import GATHER_PATH

router = APIRouter(tags=["actions"], include_in_schema=True)
Token = Annotated[str, Path(min_length=10, max_length=200)]
MAX_FORM_BYTES = 64 * 1024

_STATE_TEXT = {
    LinkState.USED: "This link has already been used. Nothing was changed.",
    LinkState.EXPIRED: "This link has expired (links work for 15 minutes). Nothing was changed.",
    LinkState.UNKNOWN: "This link is not valid. Nothing was changed.",
}
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


LINK_GONE = _html("The link was used, has expired or is unknown (nothing changed)")
LINK_REFUSED = _html("The link's user may no longer act on the incident")


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · OnCall</title></head>"
        '<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


@router.get(
    "/api/v1/actions/email/{token}", response_class=HTMLResponse, responses={410: LINK_GONE}
)
async def email_link_confirm(token: Token) -> HTMLResponse:
    """The confirmation page of a magic link (a GET never acts)."""
    view = await run_in_threadpool(magic_links.peek, token)
    if view.state is not LinkState.VALID or view.action is None:
        return _page("Link not usable", f"<p>{escape(_STATE_TEXT[view.state])}</p>", 410)
    verb = view.action.value
    return _page(
        f"{verb.title()} incident #{view.incident_id}?",
        f"<p><strong>{escape(view.incident_title)}</strong></p>"
        f'<form method="post"><button type="submit" '
        f'style="font-size:1.2rem;padding:.6rem 1.4rem">{escape(verb.title())}</button></form>'
        "<p>The link works once, for 15 minutes.</p>",
    )


@router.post(
    "/api/v1/actions/email/{token}",
    response_class=HTMLResponse,
    responses={403: LINK_REFUSED, 410: LINK_GONE},
)
async def email_link_act(token: Token) -> HTMLResponse:
    """Use the magic link: act as its user, once."""
    state, result = await run_in_threadpool(actions.use_magic_link, token)
    if result is None:
        return _page("Link not usable", f"<p>{escape(_STATE_TEXT[state])}</p>", 410)
    title = {
        Outcome.DONE: "Done",
        Outcome.ALREADY: "Nothing to do",
        Outcome.REFUSED: "Not allowed",
    }.get(result.outcome, "Not done")
    status = 403 if result.outcome is Outcome.REFUSED else 200
    return _page(title, f"<p>{escape(result.message)}</p>", status)


def twiml(message: str) -> Response:
    """A TwiML answer with one reply SMS."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{xml_escape(message)}</Message></Response>"
    )
    return Response(body, media_type="application/xml")


def _too_large(request: Request) -> JSONResponse:
    return problem(
        request,
        status=413,
        code=ErrorCode.PAYLOAD_TOO_LARGE.value,
        title="Payload too large",
        detail=f"The form is larger than {MAX_FORM_BYTES // 1024} KB.",
    )


def _bad_signature(request: Request, status: int) -> JSONResponse:
    """A missing or wrong provider signature (nothing ran), as problem+json like every error."""
    return problem(
        request,
        status=status,
        code=ErrorCode.INVALID_SIGNATURE.value,
        title="Invalid signature",
        detail="The request's signature is missing or does not verify.",
    )


async def _twilio_form(request: Request) -> dict[str, str] | None:
    """The form parameters of a Twilio webhook if its ``X-Twilio-Signature`` is valid for the
    public URL (``base_url`` + path + query) and the parameters; None otherwise (or too big)."""
    settings = get_settings()
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return None
    params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.notifications.twilio_auth_token.get_secret_value()
    url = settings.base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        return None
    return params


@router.post("/api/v1/webhooks/twilio/sms")
async def twilio_sms(request: Request) -> Response:
    """Twilio's inbound SMS webhook: ACK/RESOLVE replies (signature-verified)."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return _too_large(request)
    params = await _twilio_form(request)
    if params is None:
        return _bad_signature(request, 401)
    reply = await run_in_threadpool(
        sms_replies.handle, params.get("From", ""), params.get("Body", "")
    )
    return twiml(reply)


def _query_int(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 12 else None


@router.post(GATHER_PATH)
async def twilio_voice(request: Request) -> Response:
    """Twilio's ``<Gather>`` callback of a page call: 1 acknowledges, 2 reads the details, 9
    escalates (as the user who was called). A wrong signature is 403 and changes nothing."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return _too_large(request)
    params = await _twilio_form(request)
    if params is None:
        return _bad_signature(request, 403)
    press = voice_ivr.Keypress(
        notification_id=_query_int(request, "notification"),
        digits=params.get("Digits", "").strip(),
        answered_by=params.get("AnsweredBy", ""),
        repeat=_query_int(request, "repeat") or 0,
    )
    body = await run_in_threadpool(voice_ivr.answer, press, get_settings().base_url)
    return Response(body, media_type="text/xml")


@router.post("/api/v1/webhooks/twilio/status")
async def twilio_status(request: Request, notification: int) -> Response:
    """Twilio's status callback for a notification sent by SMS or voice (delivery receipts,
    ``receipts.py``). A wrong signature is 403 and changes nothing."""
    params = await _twilio_form(request)
    if params is None:
        return _bad_signature(request, 403)
    await run_in_threadpool(receipts.apply, notification, params)
    return Response(status_code=204)


@router.post("/api/v1/webhooks/ses/events", status_code=204)
async def ses_event(request: Request) -> Response:
    """Amazon SES's events for e-mail notifications, delivered by an SNS topic (delivery
    receipts, ``ses_events.py``; SNS posts JSON as ``text/plain``). The subscription is
    confirmed on its first message. A bad signature or a foreign topic is 403 and changes
    nothing; 404 when receipts are not configured."""
    body = await request.body()
    await run_in_threadpool(ses_events.handle, body)
    return Response(status_code=204)


# --- Slack -----------------------------------------------------------------------------------

# Slack wants an answer within 3 s; the work gets this long in a worker thread, then the
# answer goes out anyway and the thread finishes on its own (its result then reaches the user
# through the response_url, and the page through chat.update).
SLACK_ANSWER_SECONDS = 2.0
WORKING = "Working on it… you will see the result here in a moment."


def _slack_verified(request: Request, raw: bytes) -> bool:
    secret = get_settings().notifications.slack_signing_secret.get_secret_value()
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not secret or not timestamp.isdigit() or not signature:
        return False
    return SignatureVerifier(secret).is_valid(raw, timestamp, signature)


async def _within_deadline(
    request: slack_actions.SlackRequest, *, reply_always: bool = False
) -> ActResult | None:
    """Run the request in a worker thread; its result if it finished in time, else None (it
    keeps running and answers through the response_url). With ``reply_always`` the thread
    answers through the response_url in every case (button clicks: Slack ignores the body)."""
    done = threading.Event()
    box: list[ActResult] = []

    def work() -> None:
        result = slack_actions.perform(request)
        box.append(result)
        if reply_always:  # within the wait when it is quick
            slack_actions.reply_later(request.response_url, result.message)
        done.set()
        if not reply_always and late.is_set():
            slack_actions.reply_later(request.response_url, result.message)

    late = threading.Event()
    threading.Thread(target=work, name="slack-action", daemon=True).start()
    finished = await anyio.to_thread.run_sync(done.wait, SLACK_ANSWER_SECONDS)
    if finished:
        return box[0]
    late.set()
    if done.is_set():  # finished between the wait and the flag: answer now
        return box[0]
    return None


async def _slack_form(request: Request) -> tuple[bytes, dict[str, str]] | JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return _too_large(request)
    if not _slack_verified(request, raw):
        return _bad_signature(request, 401)
    return raw, dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


@router.post("/api/v1/webhooks/slack/interactions")
async def slack_interactions(request: Request) -> Response:
    """Slack's interactivity URL: the Acknowledge/Resolve buttons of a page."""
    got = await _slack_form(request)
    if isinstance(got, JSONResponse):
        return got
    payload = slack_actions.decode_interaction(got[1].get("payload", ""))
    parsed = slack_actions.parse_interaction(payload) if payload else None
    if parsed is None:
        return Response(status_code=200)  # not ours to handle (the Open link button …)
    # A click's HTTP answer shows nothing: the thread tells the user through the response_url.
    await _within_deadline(parsed, reply_always=True)
    return Response(status_code=200)


@router.post("/api/v1/webhooks/slack/commands")
async def slack_commands(request: Request) -> JSONResponse:
    """Slack's slash command URL: ``/oncall ack|resolve <id>``, answered ephemerally."""
    got = await _slack_form(request)
    if isinstance(got, JSONResponse):
        return got
    parsed = slack_actions.parse_command(got[1])
    if parsed.action is None:
        return JSONResponse({"response_type": "ephemeral", "text": slack_actions.USAGE})
    result = await _within_deadline(parsed)
    text = result.message if result is not None else WORKING
    return JSONResponse({"response_type": "ephemeral", "text": text})
