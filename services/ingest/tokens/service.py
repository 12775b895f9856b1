import hashlib
import secrets

from sqlmodel import Session, select

from services.ingest.tokens.models import ApiToken

TOKEN_PREFIX = "cst_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, department_code: str, name: str) -> tuple[ApiToken, str]:
    """Returns the stored row and the plaintext, which is never stored and shown only once."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(department_code=department_code, name=name, token_hash=hash_token(plaintext))
    session.add(token)
    session.flush()
    return token, plaintext


def authenticate(session: Session, plaintext: str) -> ApiToken | None:
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext))).first()
    if token is None or token.revoked_at is not None:
        return None
    return token
