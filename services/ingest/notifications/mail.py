"""E-mail through an SMTP server with the standard library: plain text, one connection per round.

smtplib blocks, so callers run send_all in a worker thread (asyncio.to_thread)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from services.common.settings import Settings


@dataclass(frozen=True)
class Outgoing:
    notification_id: int
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Outcome:
    notification_id: int
    sent: bool
    # A refusal that sending again will not change (an unknown mailbox): the message is given up.
    permanent: bool = False
    error: str | None = None


def build_message(settings: Settings, mail: Outgoing) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = settings.smtp_from.rpartition("@")[2].strip(" >") or None
    message["Message-ID"] = make_msgid(f"citystat.{mail.notification_id}", domain=domain)
    # Automated: vacation responders and the like should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body)
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_security == "tls":
        server: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    try:
        server.ehlo()
        if settings.smtp_security == "starttls":
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            server.login(settings.smtp_username, password)
    except BaseException:
        server.close()
        raise
    return server


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"SMTP {exc.smtp_code}: {text}"[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000]


def send_all(settings: Settings, mails: list[Outgoing]) -> list[Outcome]:
    """Sends each message over one connection. A connection that cannot be made or is lost leaves the rest
    unsent with the reason (they are tried next round); a 5xx answer to one message gives that one up."""
    if not mails:
        return []
    try:
        server = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        return [Outcome(mail.notification_id, False, error=_describe(exc)) for mail in mails]
    outcomes: list[Outcome] = []
    try:
        for index, mail in enumerate(mails):
            try:
                server.send_message(build_message(settings, mail), from_addr=None, to_addrs=[mail.to])
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                permanent = bool(codes) and all(code >= 500 for code in codes)
                outcomes.append(Outcome(mail.notification_id, False, permanent, _describe_refusal(exc)))
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                outcomes.append(Outcome(mail.notification_id, False, exc.smtp_code >= 500, _describe(exc)))
                _reset(server)
            except (OSError, smtplib.SMTPException) as exc:
                # The connection is gone: this message and the rest wait for the next round.
                error = _describe(exc)
                outcomes.extend(Outcome(m.notification_id, False, error=error) for m in mails[index:])
                return outcomes
            else:
                outcomes.append(Outcome(mail.notification_id, True))
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            server.close()
    return outcomes


def _describe_refusal(exc: smtplib.SMTPRecipientsRefused) -> str:
    parts = []
    for address, (code, text) in exc.recipients.items():
        reason = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        parts.append(f"{address}: SMTP {code}: {reason}")
    return "; ".join(parts)[:1000] or "recipient refused"


def _reset(server: smtplib.SMTP) -> None:
    # After a refused message the transaction must be reset before the next MAIL FROM.
    try:
        server.rset()
    except (OSError, smtplib.SMTPException):
        pass
