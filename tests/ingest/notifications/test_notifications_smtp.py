"""Reminders, overdue notices and weekly digests e-mailed through a real SMTP server (aiosmtpd on a loopback port).

As of 2017-07-10 (a Monday, the digest's day) in a department whose monthly metrics are due 10 days after each
month: June's values are due today (a reminder), May's were due on June 10 (overdue when missing)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.ingest.accounts.models import StaffUser
from services.runner import create_root_app
from tests.conftest import free_port
from tests.ingest.notifications.notify_town import rows, run

SMTP_USER, SMTP_PASSWORD = "citystat", "mail-secret"
# AUTH over a plain loopback connection: the tests have no certificate; production uses STARTTLS or TLS.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Sink:
    """Keeps every message the server accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address.startswith("gone@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def mail(smtp) -> Sink:
    sink, _ = smtp
    sink.messages.clear()
    return sink


def body(message: email.message.EmailMessage) -> str:
    return message.get_content().replace("\r\n", "\n")


def smtp_settings(client, port: int, **overrides):
    settings = client.app.state.services["ingest"].state.settings
    values = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD,
        "smtp_from": "CityStat <citystat@city.example>",
        "smtp_timeout_seconds": 5,
        "app_url": "https://citystat.city.example",
    }
    values.update(overrides)
    values["smtp_password"] = SecretStr(values["smtp_password"])
    return settings.model_copy(update=values)


def test_reminders_overdue_notices_and_digests_are_mailed_to_the_right_people(client, ingest_db, town, smtp, mail):
    _, port = smtp
    result = run(client, smtp_settings(client, port))

    assert (result.reminders, result.overdue, result.digests) == (3, 4, 5)
    assert (result.emails_sent, result.emails_failed, result.emails_pending) == (9, 0, 0)
    assert sorted(a for rcpts, _ in mail.messages for a in rcpts) == sorted(
        ["dpw.liaison@city.example"] * 3
        + ["dpw.head@city.example"] * 3
        + ["dpw.viewer@city.example", "analyst@city.example", "dwm.liaison@city.example"]
    )
    for address in ("dpw.former@city.example", "admin@city.example", "citywide@city.example"):
        assert mail.to(address) == []

    subjects = {m["Subject"]: m for m in mail.to("dpw.liaison@city.example")}
    reminder = subjects["Due July 10, 2017: 1 value for Public Works"]
    text = body(reminder)
    assert reminder["From"] == "CityStat <citystat@city.example>"
    assert reminder["To"] == "dpw.liaison@city.example"
    assert "Hello Dpw Liaison," in text
    assert "due today, on Monday, July 10, 2017" in text
    assert "- Potholes repaired on time (dpw.potholes), June 2017" in text
    assert "Streetlights" not in text  # June's value has arrived
    assert "https://citystat.city.example/due.html?department=DPW" in text

    overdue = body(subjects["Overdue since June 10, 2017: 1 value for Public Works"])
    assert "- Potholes repaired on time (dpw.potholes), May 2017" in overdue
    assert "30 days late" in overdue
    assert "February" not in overdue
    # The performance office hears of late values too, but gets no reminders or digests.
    [analyst_mail] = mail.to("analyst@city.example")
    assert analyst_mail["Subject"] == "Overdue since June 10, 2017: 1 value for Public Works"
    assert "Hello Analyst," in body(analyst_mail)

    digest = body(subjects["Weekly digest: Public Works, week of July 10, 2017"])
    assert "1 of 2 metrics on target; 1 no value yet" in digest
    assert (
        "- Streetlights fixed in 3 days (dpw.streetlights), June 2017: 92%, on target (target 90%); "
        "+7 pts from May 2017" in digest
    )
    assert "- Potholes repaired on time (dpw.potholes), June 2017: no value yet" in digest
    assert "Late (past their due date):\n- Potholes repaired on time (dpw.potholes), May 2017: due June 10" in digest
    assert "https://citystat.city.example/department.html?code=DPW" in digest
    [other] = mail.to("dwm.liaison@city.example")
    assert other["Subject"] == "Weekly digest: Watershed Management, week of July 10, 2017"
    assert "Public Works" not in body(other)

    # The person without an address has the same three in the app, none e-mailed.
    clerk = [r for r in rows(ingest_db) if r.recipient_id == town.no_address]
    assert sorted((r.kind, r.email_status) for r in clerk) == [
        ("digest", "none"), ("overdue", "none"), ("reminder", "none")
    ]  # fmt: skip
    assert all(r.email_status == "sent" and r.email_attempts == 1 for r in rows(ingest_db) if r.email_to)

    # A second round finds everything made and sent: nothing new, nothing twice.
    mail.messages.clear()
    again = run(client, smtp_settings(client, port))
    assert (again.reminders, again.overdue, again.digests, again.emails_sent) == (0, 0, 0, 0)
    assert mail.messages == []
    assert len(rows(ingest_db)) == 12

    # Two days later: the same week (no digest), June's values now overdue for the first time.
    later = run(client, smtp_settings(client, port, as_of=dt.date(2017, 7, 12)))
    assert (later.reminders, later.overdue, later.digests) == (0, 4, 0)
    overdue = body(mail.to("dpw.head@city.example")[0])
    assert "- Potholes repaired on time (dpw.potholes), June 2017" in overdue
    # The next Monday's round makes the week's digest.
    next_week = run(client, smtp_settings(client, port, as_of=dt.date(2017, 7, 17)))
    assert next_week.digests == 5


def test_a_mail_server_that_is_down_or_refuses_the_login_loses_nothing(client, ingest_db, town, smtp, mail):
    _, port = smtp
    with ingest_db.session() as session:
        session.get(StaffUser, town.viewer).email = "gone@city.example"
    down = run(client, smtp_settings(client, free_port()))
    assert (down.reminders, down.overdue, down.digests) == (3, 4, 5)
    assert (down.emails_sent, down.emails_pending) == (0, 9)
    waiting = [r for r in rows(ingest_db) if r.email_to]
    assert all(r.email_status == "pending" and r.email_attempts == 1 for r in waiting)
    assert all("ConnectionRefusedError" in r.email_error for r in waiting)

    refused = run(client, smtp_settings(client, port, smtp_password="wrong"))
    assert (refused.emails_sent, refused.emails_pending) == (0, 9)
    assert mail.messages == []
    errors = {(r.email_status, r.email_error) for r in rows(ingest_db) if r.email_to}
    assert len(errors) == 1 and "SMTP 535" in next(iter(errors))[1], errors

    delivered = run(client, smtp_settings(client, port))
    assert (delivered.reminders, delivered.overdue, delivered.digests) == (0, 0, 0)
    # An address the server does not know is given up, not retried for ever; the others arrive.
    assert (delivered.emails_sent, delivered.emails_failed, delivered.emails_pending) == (8, 1, 0)
    assert len(mail.messages) == 8
    [gone] = [r for r in rows(ingest_db) if r.email_to == "gone@city.example"]
    assert gone.email_status == "failed" and "SMTP 550" in gone.email_error
    sent = [r for r in rows(ingest_db) if r.email_to and r.email_to != "gone@city.example"]
    assert all(r.email_status == "sent" and r.email_attempts == 3 and r.email_error is None for r in sent)

    assert run(client, smtp_settings(client, port)).emails_sent == 0
    assert len(mail.messages) == 8


def test_ingests_own_loop_makes_and_mails_them_by_itself(client, ingest_db, town, smtp, mail):
    _, port = smtp
    looping = smtp_settings(client, port).model_copy(update={"notify_poll_seconds": 0.1})
    with TestClient(create_root_app(looping)):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(mail.messages) < 9:
            time.sleep(0.05)
        time.sleep(0.3)  # a few more rounds: nothing made or sent twice
    assert len(mail.messages) == 9
    assert len(rows(ingest_db)) == 12
