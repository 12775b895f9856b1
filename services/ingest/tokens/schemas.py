import datetime as dt

from pydantic import BaseModel, Field

from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN, Code


class TokenCreate(BaseModel):
    model_config = INPUT_CONFIG
    department: Code
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN, description="Which system uses it")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Lifetime; the server's default when omitted"
    )


class TokenPublic(BaseModel):
    id: int
    department: str
    name: str
    created_at: dt.datetime
    created_by: str
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    active: bool


class TokenCreated(TokenPublic):
    token: str = Field(description="The token itself. It is shown this once and never stored.")
