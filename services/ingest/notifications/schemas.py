import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, Field


class NotificationKind(StrEnum):
    reminder = "reminder"  # values due within a few days
    overdue = "overdue"  # values past their due date
    digest = "digest"  # the department's week: metrics, status, changes


class EmailStatus(StrEnum):
    none = "none"
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class NotificationPublic(BaseModel):
    id: int
    kind: NotificationKind
    department: str
    subject: str
    body: str = Field(description="Plain text, as e-mailed")
    link: str = Field(description="The page it is about, relative to the web app, e.g. due.html?department=DPW")
    created_at: dt.datetime
    read: bool
    read_at: dt.datetime | None
    email: EmailStatus = Field(
        description="none: shown here only (no address, or no mail server); pending: waiting for the mail server; "
        "sent; failed: the mail server refused the address"
    )


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    total: int
    unread: int = Field(description="The caller's unread notifications, whatever the page")


class ReadAllResult(BaseModel):
    marked: int = Field(description="Notifications marked read by this call")
    unread: int


class RoundResult(BaseModel):
    """What one round made and sent."""

    as_of: dt.date
    metrics_answered: bool = Field(
        default=True, description="False when metrics could not be read: nothing new was made, waiting e-mail was sent"
    )
    reminders: int = 0
    overdue: int = 0
    digests: int = 0
    emails_sent: int = 0
    emails_failed: int = Field(default=0, description="Refused for good by the mail server this round")
    emails_pending: int = Field(default=0, description="Waiting for the mail server after this round")
    departments_unread: list[str] = Field(
        default_factory=list, description="Departments whose schedule or performance metrics did not answer"
    )
