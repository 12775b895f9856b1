import datetime as dt

from sqlmodel import Field

from services.ingest.base import IngestTable, utcnow


class StaffUser(IngestTable, table=True):
    """A person who signs in to the web app. Only an argon2 hash of the password is kept."""

    __tablename__ = "staff_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=16)
    department_code: str | None = Field(default=None, max_length=16)
    # Where reminders and digests are e-mailed; without one they are shown in the app only.
    email: str | None = Field(default=None, max_length=254)
    active: bool = True
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str = Field(default="operator", max_length=200)
    last_login_at: dt.datetime | None = None
    # Moved on at sign-out, deactivation and any change of role, department or password: every session
    # signed with an older epoch is refused by ingest from then on.
    session_epoch: int = 0
