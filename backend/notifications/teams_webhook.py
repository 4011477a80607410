"""A Microsoft Teams Workflows webhook URL as a contact method address (ADR 0008): checking it
when the method is added, and masking it wherever it is shown or audited.

The URL is the whole credential: its ``sig`` query parameter is a signature that lets anyone
holding the URL post into the channel or chat. So it is treated like a secret: the API, the UI,
the delivery log, the outbox page and the audit log show only its scheme and host (enough to
recognise a tenant's region, nothing to post with). Pure: no database, no settings object (the
caller says whether plain-http test URLs pass).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from backend.core.errors import ValidationFailed

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
HINT = (
    "paste the HTTPS URL of a Teams workflow 'When a Teams webhook request is received' "
    "(Workflows app → 'Post to a channel when a webhook request is received')"
)


def _allowed(host: str, hosts: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    for suffix in hosts:
        suffix = suffix.lower().strip().strip(".")
        if suffix and (host == suffix or host.endswith("." + suffix)):
            return True
    return False


def check_url(address: str, *, hosts: Iterable[str], allow_insecure: bool = False) -> str:
    """The URL, trimmed, if it can be a Workflows webhook: ``https`` to a host under one of
    ``hosts`` (Microsoft's workflow hosts by default: we post wherever the URL says, so an
    arbitrary URL would let any user make the server call internal services), with a path.
    ``http`` to 127.0.0.1/localhost passes only when ``allow_insecure`` (tests).

    Raises:
        ValidationFailed: on the ``address`` field, saying what is wrong.
    """
    url, hosts = address.strip(), tuple(hosts)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  # a malformed port raises ValueError here
    except ValueError:
        raise ValidationFailed.field("address", f"not a valid URL; {HINT}") from None
    if parts.scheme == "http" and allow_insecure and host in LOCAL_HOSTS:
        return url
    if parts.scheme != "https":
        raise ValidationFailed.field("address", f"the webhook URL must start with https://; {HINT}")
    if not host or "." not in host or parts.username or parts.password:
        raise ValidationFailed.field("address", f"the URL has no usable host; {HINT}")
    if not _allowed(host, hosts):
        raise ValidationFailed.field(
            "address", f"{host} is not a Microsoft workflow host ({', '.join(hosts)}); {HINT}"
        )
    if parts.path in ("", "/"):
        raise ValidationFailed.field("address", f"the URL has no webhook path; {HINT}")
    return url


def mask(url: str) -> str:
    """What may be shown of the URL: scheme and host, never the path or the signature."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if not host:
        return "Teams webhook …"
    return f"{parts.scheme}://{host}/…"
