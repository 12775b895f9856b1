"""Who is acting, checked the same way in every service without asking another one.

Staff sign in at ingest, which issues a session: claims signed with HMAC-SHA256 under a key every
service shares (a setting, or a key file in the data folder). Each service verifies the cookie
itself. A department system's API token is only meaningful to ingest, which keeps their hashes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie

from services.common.errors import Forbidden, TooManyRequests, Unauthorized
from services.common.limits import FailureLimiter, client_address
from services.common.settings import Settings

SESSION_COOKIE = "citystat_session"
CSRF_COOKIE = "citystat_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Role(StrEnum):
    admin = "admin"
    analyst = "analyst"  # the performance office: every department
    liaison = "liaison"  # reads and writes their own department
    head = "head"  # a department's head: a liaison who also signs off proposals and approves periods
    viewer = "viewer"  # reads their department, or the whole city when they have none


class PrincipalKind(StrEnum):
    user = "user"
    token = "token"  # a department system
    operator = "operator"  # the local command line


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    id: str
    name: str
    role: Role | None = None
    department: str | None = None
    csrf: str | None = None
    # A staff session's generation: ingest ends every session of a user by moving their epoch on.
    session_epoch: int | None = None

    @property
    def actor(self) -> str:
        """How the audit trail and revisions name this principal."""
        return "operator" if self.kind is PrincipalKind.operator else f"{self.kind}:{self.id}"

    @property
    def is_citywide(self) -> bool:
        if self.kind is PrincipalKind.operator:
            return True
        if self.kind is PrincipalKind.user:
            return self.role in (Role.admin, Role.analyst) or (self.role is Role.viewer and self.department is None)
        return False

    def can_read(self, department: str) -> bool:
        return self.is_citywide or self.department == department

    def can_write(self, department: str) -> bool:
        if self.kind is PrincipalKind.operator:
            return True
        if self.kind is PrincipalKind.token:
            return self.department == department
        if self.role in (Role.admin, Role.analyst):
            return True
        return self.role in (Role.liaison, Role.head) and self.department == department

    @property
    def is_performance_office(self) -> bool:
        """Analysts and administrators (and the local operator): citywide definitions, targets and locks."""
        return self.kind is PrincipalKind.operator or (
            self.kind is PrincipalKind.user and self.role in (Role.admin, Role.analyst)
        )

    def heads(self, department: str) -> bool:
        return self.kind is PrincipalKind.user and self.role is Role.head and self.department == department

    def readable_departments(self) -> set[str] | None:
        """None means every department."""
        return None if self.is_citywide else ({self.department} if self.department else set())


OPERATOR = Principal(kind=PrincipalKind.operator, id="local", name="local operator")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionCodec:
    """Compact signed claims: base64url(JSON) "." base64url(HMAC-SHA256)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the session key must be at least 32 bytes")
        self._key = key

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(self, claims: dict[str, Any], lifetime: dt.timedelta, now: dt.datetime | None = None) -> str:
        now = now or dt.datetime.now(dt.UTC)
        body = {**claims, "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp())}
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str, now: dt.datetime | None = None) -> dict[str, Any] | None:
        payload, _, signature = token.partition(".")
        # Compared as bytes: compare_digest raises on non-ASCII text, and a cookie may hold any Latin-1.
        if not payload or not signature or not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            claims = json.loads(_unb64(payload))
        except ValueError:
            return None
        now = now or dt.datetime.now(dt.UTC)
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or claims["exp"] <= now.timestamp():
            return None
        return claims


def session_key(settings: Settings) -> bytes:
    """The shared signing key: from settings, else a key file in the data folder made on first use.

    Services on one machine share the data folder, so they agree on the key without configuration;
    separate machines must be given CITYSTAT_SESSION_SECRET.
    """
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value().encode()
    path = Path(settings.data_dir) / "session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another service made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def principal_claims(principal: Principal) -> dict[str, Any]:
    return {
        "sub": principal.id,
        "name": principal.name,
        "role": str(principal.role) if principal.role else None,
        "dept": principal.department,
        "csrf": principal.csrf,
        "ep": principal.session_epoch,
    }


def principal_from_claims(claims: dict[str, Any]) -> Principal | None:
    try:
        return Principal(
            kind=PrincipalKind.user,
            id=str(claims["sub"]),
            name=str(claims["name"]),
            role=Role(claims["role"]),
            department=claims.get("dept"),
            csrf=claims.get("csrf"),
            session_epoch=claims.get("ep") if isinstance(claims.get("ep"), int) else None,
        )
    except (KeyError, ValueError, TypeError):
        return None


# --- failed authentication, limited per client address ------------------------------------------------------------


class FailureKind(StrEnum):
    sign_in = "sign-in"  # a username and password: the only credential a person can guess
    credential = "credential"  # an API token, a session cookie, the internal token


def _failure_limiter(request: Request) -> FailureLimiter:
    state = request.app.state
    limiter = getattr(state, "auth_failures", None)
    if limiter is None:
        settings = state.settings
        limiter = FailureLimiter(settings.auth_failures_per_minute, settings.auth_failure_burst)
        state.auth_failures = limiter
    return limiter


def failing_wait(request: Request, kind: FailureKind) -> float | None:
    """Seconds this address must wait before its next `kind` of credential is checked, or None."""
    return _failure_limiter(request).wait(f"{kind}:{client_address(request)}")


def refuse_while_failing(request: Request, kind: FailureKind = FailureKind.credential) -> None:
    """Called before a credential is checked: an address that has failed too often lately is answered 429 whatever
    it sends, so guessing goes no faster than the limit; other addresses are not affected."""
    wait = failing_wait(request, kind)
    if wait is not None:
        what = "sign-in attempts" if kind is FailureKind.sign_in else "requests with a wrong token or session"
        raise TooManyRequests(
            f"Too many failed {what} from this address; wait and retry.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


def note_failure(request: Request, kind: FailureKind = FailureKind.credential) -> None:
    _failure_limiter(request).failed(f"{kind}:{client_address(request)}")


session_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="Staff session, set by POST /api/ingest/auth/login"
)


def read_session(request: Request, cookie: str | None, *, optional: bool = False) -> Principal | None:
    """The staff member behind the session cookie, if any. A write must also echo the CSRF token:
    the cookie travels with any request the browser makes, the header only with ours.

    A cookie that does not verify counts as a failed credential of the caller's address; while that address is
    over its limit, a route that needs a session answers 429, and an `optional` one (open to everyone) treats the
    caller as anonymous without checking the cookie, so that it is no way around the limit and the public pages
    still work."""
    if not cookie:
        return None
    if optional and failing_wait(request, FailureKind.credential) is not None:
        return None
    if not optional:
        refuse_while_failing(request)
    claims = request.app.state.session_codec.verify(cookie)
    principal = principal_from_claims(claims) if claims else None
    if principal is None:
        note_failure(request)
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not principal.csrf or not hmac.compare_digest(sent.encode(), principal.csrf.encode()):
            raise Forbidden(
                f"A signed-in write must carry the {CSRF_HEADER} header from the {CSRF_COOKIE} cookie.",
                slug="csrf",
            )
    return principal


def session_principal(request: Request) -> Principal | None:
    """For routes open to everyone that show more to staff. The cookie is read without declaring a
    security scheme, since OpenAPI would then call the route closed to anonymous callers."""
    return read_session(request, request.cookies.get(SESSION_COOKIE), optional=True)


OptionalStaff = Annotated[Principal | None, Depends(session_principal)]


def require_staff(request: Request, cookie: Annotated[str | None, Depends(session_cookie)]) -> Principal:
    """A signed-in staff member; what they may change is decided by the operation, from role and department."""
    principal = read_session(request, cookie)
    if principal is None:
        raise Unauthorized("Sign in first: POST /api/ingest/auth/login.")
    return principal


StaffPrincipal = Annotated[Principal, Depends(require_staff)]

# What the route walk accepts as "this route checks who is calling".
# Each service adds its own guards (ingest: tokens and staff; metrics: the internal caller).
AUTH_DEPENDENCIES: set[Any] = {session_principal, require_staff}
