"""OpenID Connect single sign-on (USER-01): authorization-code flow with PKCE and a nonce,
ID-token validation, and provisioning of the user on first login.

Library choice
--------------
The OAuth side uses Authlib's **httpx client integration**
(``authlib.integrations.httpx_client.OAuth2Client``, synchronous). In Authlib 1.9 that class
*is* an ``httpx2.Client`` (it only falls back to legacy ``httpx`` with a deprecation warning),
so it gives us httpx2's timeouts and transports plus Authlib's PKCE S256 challenge,
authorization-URL building, client authentication at the token endpoint
(``client_secret_basic``, or ``none`` for a public client) and OAuth error parsing.
It is synchronous on purpose: our services are plain functions run in FastAPI's threadpool.

We do not use ``authlib.integrations.starlette_client``: it keeps state, nonce and the PKCE
verifier in a cookie-backed ``SessionMiddleware`` session. We keep the pending login
server-side in ``oidc_login_state`` instead (state stored as its SHA-256, consumed exactly
once, ten-minute expiry), which works across many backend workers and puts nothing but the
session token in the browser.

The ID token is verified with ``joserfc`` (``authlib.jose`` is deprecated) against the
provider's JWKS, exactly as Authlib's own ``OpenIDMixin.parse_id_token`` does, and its claims
are checked with Authlib's ``CodeIDToken``. Unlike ``parse_id_token`` we pin ``aud`` to our
client id as well as ``iss``, and require ``sub``, ``exp``, ``iat`` and the ``nonce``.

Every provider call has a timeout (:data:`PROVIDER_TIMEOUT`). Failures raise
:class:`~backend.identity.errors.SsoFailed` (protocol or account problems) or
:class:`~backend.identity.errors.SsoProviderError` (provider unreachable); both carry the code
``sso_failed``. Neither the authorization code nor any token ever reaches a log line or an
error detail.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx2
import structlog
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import delete
from sqlmodel import col, select

from backend.audit import service as audit
from backend.audit.models import Severity
from backend.core import clock
from backend.core.actor import Actor, ActorKind
from backend.core.db import UnitOfWork, unit_of_work
from backend.core.errors import DomainError
from backend.core.secrets import new_token, sha256_hex
from backend.core.settings import SSOSettings, get_settings
from backend.identity import queries, sessions
from backend.identity.errors import SsoFailed, SsoNotConfigured, SsoProviderError
from backend.identity.models import OidcLoginState, User
from backend.identity.schemas import normalise_email

log = structlog.get_logger(__name__)

CALLBACK_PATH = "/api/auth/sso/callback"
PENDING_LOGIN_TTL = timedelta(minutes=10)
PROVIDER_TIMEOUT = httpx2.Timeout(10.0, connect=5.0)
METADATA_TTL_SECONDS = 3600.0
# Clock skew tolerated on exp/iat/nbf.
ID_TOKEN_LEEWAY_SECONDS = 60
# Symmetric algorithms would make the client secret a signing key; we accept only these.
ALLOWED_ID_TOKEN_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


@dataclass(frozen=True)
class ProviderMetadata:
    """The part of the discovery document we use."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    id_token_algs: tuple[str, ...]


@dataclass(frozen=True)
class SsoLogin:
    token: str  # the raw session token (for the cookie)
    user_id: int
    return_to: str


@dataclass(frozen=True)
class _PendingLogin:
    nonce: str
    code_verifier: str
    return_to: str


@dataclass(frozen=True)
class _Identity:
    subject: str
    email: str | None
    email_verified: bool
    name: str


# --- discovery and key caches ---------------------------------------------------------------

_cache_lock = threading.Lock()
_metadata_cache: dict[str, tuple[float, ProviderMetadata]] = {}
_jwks_cache: dict[str, KeySet] = {}


def clear_caches() -> None:
    """Forget discovery documents and key sets (tests; a changed issuer is picked up anyway)."""
    with _cache_lock:
        _metadata_cache.clear()
        _jwks_cache.clear()


def canonical_issuer(issuer: str) -> str:
    """The issuer as we store it on users (trailing slash dropped)."""
    return issuer.strip().rstrip("/")


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx2.get(url, timeout=PROVIDER_TIMEOUT, follow_redirects=False)
        response.raise_for_status()
        data = response.json()
    except (httpx2.HTTPError, ValueError) as exc:
        log.warning("sso_provider_request_failed", url=url, error=type(exc).__name__)
        raise SsoProviderError("The identity provider could not be reached.") from exc
    if not isinstance(data, dict):
        raise SsoProviderError("The identity provider sent an unexpected response.")
    return data


def provider_metadata(issuer: str) -> ProviderMetadata:
    """The issuer's discovery document, cached for an hour per issuer.

    Raises:
        SsoProviderError: unreachable, or a document that does not belong to ``issuer``.
    """
    key = canonical_issuer(issuer)
    with _cache_lock:
        cached = _metadata_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < METADATA_TTL_SECONDS:
        return cached[1]
    data = _get_json(f"{key}/.well-known/openid-configuration")
    try:
        metadata = ProviderMetadata(
            issuer=str(data["issuer"]),
            authorization_endpoint=str(data["authorization_endpoint"]),
            token_endpoint=str(data["token_endpoint"]),
            jwks_uri=str(data["jwks_uri"]),
            userinfo_endpoint=data.get("userinfo_endpoint") or None,
            id_token_algs=tuple(
                alg
                for alg in data.get("id_token_signing_alg_values_supported", ["RS256"])
                if alg in ALLOWED_ID_TOKEN_ALGS
            ),
        )
    except KeyError as exc:
        raise SsoProviderError(f"The discovery document lacks {exc.args[0]!r}.") from exc
    # OpenID Connect Discovery 1.0 §4.3: the document must name the issuer we asked.
    if canonical_issuer(metadata.issuer) != key:
        raise SsoProviderError("The discovery document names a different issuer.")
    with _cache_lock:
        _metadata_cache[key] = (time.monotonic(), metadata)
    return metadata


def _key_set(jwks_uri: str, *, refresh: bool = False) -> KeySet:
    with _cache_lock:
        cached = None if refresh else _jwks_cache.get(jwks_uri)
    if cached is not None:
        return cached
    try:
        keys = KeySet.import_key_set(_get_json(jwks_uri))  # type: ignore[arg-type]  # checked by joserfc
    except (JoseError, KeyError, TypeError, ValueError) as exc:
        raise SsoProviderError("The identity provider's key set is not usable.") from exc
    with _cache_lock:
        _jwks_cache[jwks_uri] = keys
    return keys


# --- the flow -------------------------------------------------------------------------------


def _config() -> SSOSettings:
    sso = get_settings().sso
    if not sso.enabled:
        raise SsoNotConfigured("Single sign-on is not configured on this server.")
    return sso


def redirect_uri() -> str:
    return f"{get_settings().base_url.rstrip('/')}{CALLBACK_PATH}"


def _client(sso: SSOSettings) -> OAuth2Client:
    return OAuth2Client(
        client_id=sso.client_id,
        client_secret=sso.client_secret.get_secret_value() or None,
        scope=sso.scopes,
        redirect_uri=redirect_uri(),
        code_challenge_method="S256",
        timeout=PROVIDER_TIMEOUT,
        follow_redirects=False,
    )


def begin_login(return_to: str) -> str:
    """Record a pending login and return the provider's authorization URL to redirect to.

    ``return_to`` must already be a safe same-site path (the route checks it).

    Raises:
        SsoNotConfigured: SSO is off.
        SsoProviderError: discovery failed.
    """
    sso = _config()
    metadata = provider_metadata(sso.issuer)
    state = new_token(32)
    nonce = new_token(32)
    code_verifier = generate_token(64)  # RFC 7636: 43-128 unreserved characters
    now = clock.now()
    with unit_of_work() as uow:
        # Housekeeping: logins that never came back.
        uow.session.exec(delete(OidcLoginState).where(col(OidcLoginState.expires_at) < now))
        uow.session.add(
            OidcLoginState(
                state_hash=sha256_hex(state),
                nonce=nonce,
                code_verifier=code_verifier,
                return_to=return_to[:500],
                expires_at=now + PENDING_LOGIN_TTL,
            )
        )
    with _client(sso) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint,
            state=state,
            code_verifier=code_verifier,
            nonce=nonce,
        )
    return str(url)


def complete_login(
    state: str,
    code: str,
    *,
    error: str = "",
    ip: str | None,
    user_agent: str | None,
) -> SsoLogin:
    """Finish a login that came back from the provider: consume the pending login (once),
    exchange the code, validate the ID token, find, link or create the user, open a session.

    Raises:
        SsoNotConfigured: SSO is off.
        SsoFailed: unknown, expired or replayed state; the provider reported an error; an
            invalid ID token; a deactivated or unlinkable account. ``extra["return_to"]``
            holds the page to come back to when it is known.
        SsoProviderError: the provider could not be reached.
    """
    sso = _config()
    pending = _consume(state)
    try:
        if error:
            log.warning("sso_provider_error", error=error[:64])
            raise SsoFailed("The identity provider did not complete the sign-in.")
        if not code:
            raise SsoFailed("The identity provider sent no authorization code.")
        metadata = provider_metadata(sso.issuer)
        identity = _authenticate(sso, metadata, code, pending)
        token, user_id = _sign_in(
            canonical_issuer(metadata.issuer), identity, ip=ip, user_agent=user_agent
        )
    except DomainError as exc:
        exc.extra.setdefault("return_to", pending.return_to)
        raise
    log.info("sso_login_succeeded", user_id=user_id)
    return SsoLogin(token=token, user_id=user_id, return_to=pending.return_to)


def _consume(state: str) -> _PendingLogin:
    """Delete the pending login for ``state`` and return it; a state works exactly once."""
    if not state or len(state) > 200:
        raise SsoFailed("The sign-in request is unknown or has expired.")
    state_hash = sha256_hex(state)
    pending: _PendingLogin | None = None
    with unit_of_work() as uow:
        row = uow.session.exec(
            select(OidcLoginState).where(OidcLoginState.state_hash == state_hash)
        ).first()
        if row is not None:
            # Compare-and-delete: of two concurrent callbacks, only one deletes the row.
            result = uow.session.exec(
                delete(OidcLoginState).where(col(OidcLoginState.id) == row.id)
            )
            if result.rowcount == 1 and row.expires_at > clock.now():
                pending = _PendingLogin(row.nonce, row.code_verifier, row.return_to)
    if pending is None:
        log.warning("sso_state_rejected")
        raise SsoFailed("The sign-in request is unknown or has expired.")
    return pending


def _authenticate(
    sso: SSOSettings, metadata: ProviderMetadata, code: str, pending: _PendingLogin
) -> _Identity:
    """Exchange the code and return the validated identity (userinfo fills missing claims)."""
    with _client(sso) as client:
        try:
            token = client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
            )
        except OAuthError as exc:
            log.warning("sso_token_exchange_refused", error=str(exc.error)[:64])
            raise SsoFailed("The identity provider refused the authorization code.") from exc
        except (httpx2.HTTPError, ValueError) as exc:
            log.warning("sso_token_exchange_failed", error=type(exc).__name__)
            raise SsoProviderError("The identity provider could not be reached.") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SsoFailed("The identity provider sent no ID token.")
        claims = validate_id_token(
            id_token,
            metadata=metadata,
            client_id=sso.client_id,
            nonce=pending.nonce,
            access_token=token.get("access_token"),
        )
        if not claims.get("email") and metadata.userinfo_endpoint:
            claims = {**_userinfo(client, metadata.userinfo_endpoint, claims["sub"]), **claims}
    return _identity_from(claims)


def validate_id_token(
    id_token: str,
    *,
    metadata: ProviderMetadata,
    client_id: str,
    nonce: str,
    access_token: str | None = None,
) -> dict[str, Any]:
    """Verify the ID token's signature against the provider's JWKS and check its claims
    (iss, aud, azp, exp, iat, nonce, at_hash); returns the claims.

    Raises:
        SsoFailed: any check failed.
        SsoProviderError: the key set could not be fetched.
    """
    algorithms = list(metadata.id_token_algs or ("RS256",))
    try:
        try:
            decoded = jwt.decode(id_token, _key_set(metadata.jwks_uri), algorithms=algorithms)
        except InvalidKeyIdError:
            # The provider rotated its keys since we cached them: fetch once more.
            keys = _key_set(metadata.jwks_uri, refresh=True)
            decoded = jwt.decode(id_token, keys, algorithms=algorithms)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": metadata.issuer},
                "aud": {"essential": True, "value": client_id},
                "sub": {"essential": True},
                "exp": {"essential": True},
                "iat": {"essential": True},
                "nonce": {"essential": True, "value": nonce},
            },
            {"nonce": nonce, "client_id": client_id, "access_token": access_token},
        )
        claims.validate(leeway=ID_TOKEN_LEEWAY_SECONDS)
    except (JoseError, ValueError) as exc:
        log.warning("sso_id_token_rejected", error=type(exc).__name__)
        raise SsoFailed("The ID token is not valid.") from exc
    return dict(claims)


def _userinfo(client: OAuth2Client, endpoint: str, subject: str) -> dict[str, Any]:
    try:
        response = client.get(endpoint)
        response.raise_for_status()
        data = response.json()
    except (OAuthError, httpx2.HTTPError, ValueError) as exc:
        log.warning("sso_userinfo_failed", error=type(exc).__name__)
        raise SsoProviderError("The identity provider's userinfo endpoint failed.") from exc
    # OpenID Connect Core §5.3.2: the userinfo sub must match the ID token's.
    if not isinstance(data, dict) or data.get("sub") != subject:
        raise SsoFailed("The userinfo response belongs to another subject.")
    return data


def _identity_from(claims: dict[str, Any]) -> _Identity:
    email: str | None
    try:
        email = normalise_email(str(claims["email"])) if claims.get("email") else None
    except ValueError:
        email = None
    name = (
        claims.get("name")
        or " ".join(str(claims.get(k, "")) for k in ("given_name", "family_name")).strip()
        or claims.get("preferred_username")
        or (email.split("@")[0] if email else "")
    )
    return _Identity(
        subject=str(claims["sub"]),
        email=email,
        email_verified=claims.get("email_verified") is True,
        name=str(name).strip()[:200] or "SSO user",
    )


# --- provisioning ---------------------------------------------------------------------------


def _sign_in(
    issuer: str, identity: _Identity, *, ip: str | None, user_agent: str | None
) -> tuple[str, int]:
    """Find, link or create the user and open a session. A refusal is audited (HIGH) and
    committed before it is raised."""
    refusal: SsoFailed | None = None
    result: tuple[str, int] | None = None
    with unit_of_work() as uow:
        user, reason = _find_user(uow, issuer, identity)
        if reason is not None:
            refusal = _refuse(uow, identity, user, reason, ip=ip, user_agent=user_agent)
        else:
            if user is None:
                user = _create_user(uow, issuer, identity, ip=ip, user_agent=user_agent)
            elif user.oidc_issuer != issuer or user.oidc_subject != identity.subject:
                _link_user(uow, user, issuer, identity, ip=ip, user_agent=user_agent)
            assert user.id is not None
            token = sessions.open_session(uow, user, method="sso", ip=ip, user_agent=user_agent)
            audit.record(
                uow,
                sessions.actor_for(user, ip=ip, user_agent=user_agent),
                "identity.sso.login_succeeded",
                target_type="user",
                target_id=user.id,
                target_label=user.email,
                severity=Severity.MEDIUM,
                diff={"issuer": issuer},
            )
            result = (token, user.id)
    if refusal is not None:
        raise refusal
    assert result is not None
    return result


def _find_user(uow: UnitOfWork, issuer: str, identity: _Identity) -> tuple[User | None, str | None]:
    """The user to sign in (None: create one) or the reason to refuse."""
    user = queries.user_by_subject(uow.session, issuer, identity.subject)
    if user is None:
        if identity.email is None:
            return None, "no_email"
        user = queries.user_by_email(uow.session, identity.email)
        if user is not None:
            if not identity.email_verified:
                return user, "email_not_verified"
            if user.oidc_issuer == issuer and user.oidc_subject is not None:
                # Linked to another account at this same provider: never re-point it.
                return user, "linked_to_other_subject"
    if user is not None and not user.is_active:
        return user, "deactivated"
    return user, None


_REFUSALS = {
    "no_email": "The identity provider sent no usable e-mail address.",
    "email_not_verified": "The identity provider has not verified this e-mail address.",
    "linked_to_other_subject": "This e-mail belongs to another single sign-on account.",
    "deactivated": "This account is deactivated.",
}


def _refuse(
    uow: UnitOfWork,
    identity: _Identity,
    user: User | None,
    reason: str,
    *,
    ip: str | None,
    user_agent: str | None,
) -> SsoFailed:
    label = identity.email or identity.subject
    audit.record(
        uow,
        Actor(kind=ActorKind.ANONYMOUS, label=label[:320], ip=ip, user_agent=user_agent),
        "identity.sso.login_refused",
        target_type="user",
        target_id=user.id if user is not None else None,
        target_label=user.email if user is not None else label,
        severity=Severity.HIGH,
        diff={"reason": reason},
    )
    log.warning("sso_login_refused", reason=reason, user_id=user.id if user else None)
    return SsoFailed(_REFUSALS[reason], reason=reason)


def _create_user(
    uow: UnitOfWork,
    issuer: str,
    identity: _Identity,
    *,
    ip: str | None,
    user_agent: str | None,
) -> User:
    assert identity.email is not None
    user = User(
        email=identity.email,
        name=identity.name,
        oidc_issuer=issuer,
        oidc_subject=identity.subject,
    )
    uow.session.add(user)
    uow.session.flush()
    audit.record(
        uow,
        sessions.actor_for(user, ip=ip, user_agent=user_agent),
        "identity.user.created",
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        severity=Severity.MEDIUM,
        diff={"source": "sso", "email": user.email, "name": user.name, "issuer": issuer},
    )
    return user


def _link_user(
    uow: UnitOfWork,
    user: User,
    issuer: str,
    identity: _Identity,
    *,
    ip: str | None,
    user_agent: str | None,
) -> None:
    before = {"oidc_issuer": user.oidc_issuer, "oidc_subject": user.oidc_subject}
    user.oidc_issuer = issuer
    user.oidc_subject = identity.subject
    user.updated_at = clock.now()
    uow.session.add(user)
    audit.record(
        uow,
        sessions.actor_for(user, ip=ip, user_agent=user_agent),
        "identity.user.sso_linked",
        target_type="user",
        target_id=user.id,
        target_label=user.email,
        severity=Severity.HIGH,
        diff=audit.changes(before, {"oidc_issuer": issuer, "oidc_subject": identity.subject}),
    )
