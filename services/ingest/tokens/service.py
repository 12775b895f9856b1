"""Department systems' API tokens: 32+ random bytes, stored as SHA-256, with expiry and revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlmodel import Session, func, select

from services.common.errors import NotFound
from services.common.pagination import PageParams
from services.ingest.base import utcnow
from services.ingest.tokens.models import ApiToken
from services.ingest.tokens.schemas import TokenPublic

TOKEN_PREFIX = "cst_"
# Recording every use would make each submission a second write; a minute's precision is plenty.
LAST_USED_PRECISION = dt.timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    department_code: str,
    name: str,
    *,
    lifetime: dt.timedelta | None = None,
    created_by: str = "operator",
) -> tuple[ApiToken, str]:
    """Returns the stored row and the plaintext, which is never stored and shown only once."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(
        department_code=department_code,
        name=name,
        token_hash=hash_token(plaintext),
        created_at=now,
        created_by=created_by,
        expires_at=now + lifetime if lifetime else None,
    )
    session.add(token)
    session.flush()
    return token, plaintext


def is_active(token: ApiToken, now: dt.datetime) -> bool:
    return token.revoked_at is None and (token.expires_at is None or _aware(token.expires_at) > now)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for what was stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def find_token(session: Session, token_hash: str) -> ApiToken | None:
    return session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash)).first()


def authenticate(session: Session, plaintext: str) -> ApiToken | None:
    token = find_token(session, hash_token(plaintext))
    if token is None or not is_active(token, utcnow()):
        return None
    return token


def needs_last_used(token: ApiToken, now: dt.datetime) -> bool:
    return token.last_used_at is None or now - _aware(token.last_used_at) >= LAST_USED_PRECISION


def mark_used(session: Session, token_id: int, now: dt.datetime) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = now
        session.add(token)


def to_public(token: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        department=token.department_code,
        name=token.name,
        created_at=token.created_at,
        created_by=token.created_by,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
        active=is_active(token, utcnow()),
    )


def list_tokens(session: Session, department: str | None, page: PageParams) -> tuple[list[TokenPublic], int]:
    query = select(ApiToken)
    if department:
        query = query.where(ApiToken.department_code == department)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).offset(page.offset).limit(page.limit)
    )
    return [to_public(t) for t in rows], total


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No API token has the id {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        session.flush()
    return token


class TokenCache:
    """Recently checked tokens, so a busy department system costs no database read per request.

    A revocation made through this process's API takes effect at once (it calls forget); one made
    elsewhere (the CLI, another worker) within `ttl` seconds.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, ApiToken]] = {}

    def get(self, token_hash: str, now: float) -> ApiToken | None:
        entry = self._entries.get(token_hash)
        if entry is None or now - entry[0] > self.ttl:
            return None
        return entry[1]

    def put(self, token_hash: str, token: ApiToken, now: float) -> None:
        if self.ttl > 0:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token_hash] = (now, token)

    def forget(self, token_id: int) -> None:
        for key, (_, token) in list(self._entries.items()):
            if token.id == token_id:
                del self._entries[key]
