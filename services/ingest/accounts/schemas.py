import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from services.common.auth import Role
from services.common.types import INPUT_CONFIG, NO_NUL_PATTERN, Code

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
# Plainly one address: one @, no spaces, control characters or the punctuation that would make a header name
# several (",", ";", "<"...), and a domain of letters, digits, dots and hyphens with a dot in it.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f,;:<>()\[\]\\\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$"
Email = Annotated[
    str,
    Field(
        max_length=254,
        pattern=EMAIL_PATTERN,
        description="Where reminders and digests are e-mailed",
        examples=["dpw.liaison@city.example"],
    ),
]


class LoginRequest(BaseModel):
    model_config = INPUT_CONFIG
    username: str = Field(min_length=1, max_length=64, pattern=NO_NUL_PATTERN)
    password: str = Field(min_length=1, max_length=1024, pattern=NO_NUL_PATTERN)


def _department_fits_role(role: Role | None, department: str | None) -> None:
    if role in (Role.liaison, Role.head) and not department:
        raise ValueError(f"a {role} belongs to a department: give 'department'")


class UserCreate(BaseModel):
    model_config = INPUT_CONFIG
    username: str = Field(pattern=USERNAME_PATTERN, description="Lower case letters, digits, '.', '_' or '-'")
    display_name: str = Field(min_length=1, max_length=200, pattern=NO_NUL_PATTERN)
    password: str = Field(min_length=10, max_length=1024, pattern=NO_NUL_PATTERN)
    role: Role
    department: Code | None = Field(
        default=None, description="A liaison's department; a viewer's scope (none = the whole city)"
    )
    email: Email | None = None

    @model_validator(mode="after")
    def _check(self) -> "UserCreate":
        _department_fits_role(self.role, self.department)
        return self


class UserUpdate(BaseModel):
    model_config = INPUT_CONFIG
    display_name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NO_NUL_PATTERN)
    password: str | None = Field(default=None, min_length=10, max_length=1024, pattern=NO_NUL_PATTERN)
    role: Role | None = None
    department: Code | None = None
    active: bool | None = None
    email: Email | None = Field(default=None, description="null removes the address")


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    department: str | None
    email: str | None = None
    active: bool
    created_at: dt.datetime
    created_by: str
    last_login_at: dt.datetime | None


class Me(BaseModel):
    """Who the caller is, as every service sees them."""

    kind: str
    id: str
    name: str
    role: Role | None
    department: str | None
    citywide: bool


class SessionStarted(BaseModel):
    user: UserPublic
    csrf_token: str = Field(
        description="Send it back as X-CSRF-Token on every write (also in the citystat_csrf cookie)"
    )
    expires_at: dt.datetime
