import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field

from services.ingest.base import IngestTable, utcnow


class Notification(IngestTable, table=True):
    """A reminder, overdue notice or weekly digest for one person, shown in the app and, when they have an address
    and SMTP is configured, e-mailed. Rows whose e-mail is "pending" are the mail outbox: each round tries them."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="staff_user.id", index=True)
    kind: str = Field(max_length=16)  # reminder | overdue | digest
    department_code: str = Field(max_length=16, index=True)
    # kind, department, due date or week, recipient: what makes a second round make nothing new.
    dedup_key: str = Field(max_length=200, unique=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    # The page it is about, relative to the web app (due.html?department=DPW).
    link: str = Field(max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)
    read_at: dt.datetime | None = None
    # The address it was made for; None when the person had none (in the app only).
    email_to: str | None = Field(default=None, max_length=254)
    # none (not e-mailed) | pending (the outbox) -> sending -> sent | pending again (tried next round) | failed
    # (the server refused the address for good)
    email_status: str = Field(default="none", max_length=16, index=True)
    # When a round took it to send: another worker leaves it alone, unless that round died long ago.
    email_claimed_at: dt.datetime | None = None
    email_attempts: int = 0
    email_error: str | None = Field(default=None, sa_type=sa.Text)
    email_sent_at: dt.datetime | None = None
