import datetime as dt

from sqlmodel import Field

from services.ingest.base import IngestTable, utcnow


class ApiToken(IngestTable, table=True):
    """A department system's credential. Only the SHA-256 of the token is kept: tokens are
    long and random, so a fast hash is enough (passwords get argon2)."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    department_code: str = Field(max_length=16, index=True)
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="operator", max_length=200)
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
