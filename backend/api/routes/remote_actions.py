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
"""

from __future__ import annotations

import threading
from html import escape
from typing import Annotated
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as xml_escape

import anyio.to_thread
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator

from backend.core.settings import get_settings
from backend.notifications import actions, magic_links, slack_actions, sms_replies
from backend.notifications.actions import ActResult, Outcome
from backend.notifications.magic_links import LinkState

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


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} · OnCall</title></head>"
        '<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


@router.get("/api/v1/actions/email/{token}", response_class=HTMLResponse)
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


@router.post("/api/v1/actions/email/{token}", response_class=HTMLResponse)
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


@router.post("/api/v1/webhooks/twilio/sms")
async def twilio_sms(request: Request) -> Response:
    """Twilio's inbound SMS webhook: ACK/RESOLVE replies (signature-verified)."""
    settings = get_settings()
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return Response("payload too large", status_code=413)
    params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.notifications.twilio_auth_token.get_secret_value()
    url = settings.base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        return Response("invalid signature", status_code=401)
    reply = await run_in_threadpool(
        sms_replies.handle, params.get("From", ""), params.get("Body", "")
    )
    return twiml(reply)


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


async def _slack_form(request: Request) -> tuple[bytes, dict[str, str]] | Response:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return Response("payload too large", status_code=413)
    if not _slack_verified(request, raw):
        return Response("invalid signature", status_code=401)
    return raw, dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


@router.post("/api/v1/webhooks/slack/interactions")
async def slack_interactions(request: Request) -> Response:
    """Slack's interactivity URL: the Acknowledge/Resolve buttons of a page."""
    got = await _slack_form(request)
    if isinstance(got, Response):
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
    if isinstance(got, Response):
        return JSONResponse({"error": "invalid signature"}, status_code=got.status_code)
    parsed = slack_actions.parse_command(got[1])
    if parsed.action is None:
        return JSONResponse({"response_type": "ephemeral", "text": slack_actions.USAGE})
    result = await _within_deadline(parsed)
    text = result.message if result is not None else WORKING
    return JSONResponse({"response_type": "ephemeral", "text": text})
