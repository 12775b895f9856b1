"""Start-up refusal of placeholder secrets: a service given `change-me` as its internal token starts, and anyone who
read the same docs can then call it as another service. Refusing at start-up is the only moment a person is sure to
be watching.

A value is a placeholder when, ignoring case and every character that is not a letter or a digit:
- nothing is left (empty, blanks or punctuation only);
- it is one of the words people type while setting things up (`PLACEHOLDER_WORDS`: change-me, secret, password,
  citystat, example, ...), alone or with digits before or after it (`password123`, `Secret_1`);
- it is one character repeated (`xxxxxxxx`, `0000`);
- it holds a word that only instructions contain (`PLACEHOLDER_MARKERS`: `replace-me-with-a-long-random-value`);
- it is a value this repository publishes as an example (`PUBLISHED_EXAMPLES`).
Tokens and keys (the internal token, the session secret and key file) must also be at least 32 characters long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from services.common.settings import SERVICES, Settings

MIN_KEY_LENGTH = 32
GENERATE = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'

PLACEHOLDER_WORDS = frozenset(
    {
        "changeme", "changeit", "changethis", "change", "replaceme", "replace", "placeholder", "example",
        "secret", "secrets", "secretkey", "mysecret", "yoursecret", "supersecret", "topsecret", "notsecret",
        "password", "passwd", "pass", "pwd", "mypassword", "yourpassword", "token", "mytoken", "yourtoken",
        "key", "apikey", "internaltoken", "sessionsecret", "citystat", "default", "test", "testing", "dev",
        "development", "local", "demo", "dummy", "sample", "todo", "tbd", "fixme", "none", "null", "undefined",
        "empty", "admin", "root", "postgres", "letmein", "qwerty", "asdf", "abc", "abcdef", "abcdefgh", "foo",
        "bar", "foobar", "insecure", "123456", "12345678", "123456789", "1234567890", "0123456789",
    }
)  # fmt: skip
# Words that turn up in instructions, never in a random value: refused anywhere in a value, however long.
# Seven letters or more, so that a random 43-character token holds one by chance about once in a billion.
PLACEHOLDER_MARKERS = (
    "changeme", "changethis", "replaceme", "replacethis", "replacewith", "placeholder", "example",
    "yoursecret", "yourtoken", "yourpassword", "notasecret", "insecure", "generatedwith", "longrandom",
)  # fmt: skip
# Secrets that appear verbatim in this repository's files (tests, docs): known to anyone who reads them.
PUBLISHED_EXAMPLES = frozenset(
    {
        "session-Secret_4-long-enough-for-hmac-0123456789",
        "internal-Token_3",
        "test-internal-token",
        "bench-internal-token",
        "bench-internal-token-0123456789",
        "an-existing-key-made-by-another-service-0123456789",
    }
)


class InsecureSettings(RuntimeError):
    """Raised instead of starting a service; its message names each setting and what to do."""


@dataclass(frozen=True)
class Finding:
    setting: str  # as the operator sets it: an environment variable or a file
    reason: str
    is_key: bool


def placeholder_reason(value: str, *, min_length: int = 0) -> str | None:
    """Why `value` is a placeholder, or None when it is not (see the module's docstring)."""
    if value in PUBLISHED_EXAMPLES:
        return "it is an example published in CityStat's own files"
    core = re.sub(r"[^a-z0-9]", "", value.lower())
    if not core:
        return "it is empty"
    if core in PLACEHOLDER_WORDS or core.strip("0123456789") in PLACEHOLDER_WORDS:
        return "it is a placeholder word"
    if len(set(core)) == 1:
        return "it is one character repeated"
    marker = next((m for m in PLACEHOLDER_MARKERS if m in core), None)
    if marker is not None:
        return f"it contains the placeholder word '{marker}'"
    if len(value) < min_length:
        return f"it is shorter than {min_length} characters"
    return None


def _database_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None  # an unparsable URL fails loudly when the service opens its database


def settings_findings(settings: Settings, services: tuple[str, ...] = SERVICES) -> list[Finding]:
    """Every placeholder among the secrets `services` use (each service checks its own database's password)."""
    findings = []
    candidates: list[tuple[str, str | None, bool]] = [
        ("CITYSTAT_INTERNAL_TOKEN", settings.internal_token.get_secret_value(), True),
        (
            "CITYSTAT_SESSION_SECRET",
            None if settings.session_secret is None else settings.session_secret.get_secret_value(),
            True,
        ),
    ]
    if settings.smtp_username:
        # Login is attempted only with a username; then the password must be real.
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        candidates.append(("CITYSTAT_SMTP_PASSWORD", password, False))
    for service in services:
        # A database without a password (peer or trust authentication, SQLite) is the operator's choice.
        password = _database_password(settings.database_url(service))
        if password:
            candidates.append((f"the password in CITYSTAT_{service.upper()}_DATABASE_URL", password, False))
    for setting, value, is_key in candidates:
        if value is None:
            continue
        reason = placeholder_reason(value, min_length=MIN_KEY_LENGTH if is_key else 0)
        if reason:
            findings.append(Finding(setting, reason, is_key))
    return findings


def refusal(service: str, findings: list[Finding]) -> str:
    lines = [f"CityStat {service} will not start with a placeholder secret:"]
    for finding in findings:
        lines.append(f"  - {finding.setting}: {finding.reason}.")
    if any(f.is_key for f in findings):
        lines.append(
            f"Set each token or key to a long random value, made for example with: {GENERATE} "
            "(the services of one deployment share CITYSTAT_INTERNAL_TOKEN and CITYSTAT_SESSION_SECRET: give them the "
            "same values)."
        )
    if any(not f.is_key for f in findings):
        lines.append("Set each password to the real one (or to a new random one, changed at its server too).")
    return "\n".join(lines)


def check_settings(service: str, settings: Settings) -> None:
    """Raises InsecureSettings naming every placeholder secret `service` would use."""
    findings = settings_findings(settings, (service,))
    if findings:
        raise InsecureSettings(refusal(service, findings))


def check_session_key(service: str, key: bytes, settings: Settings) -> None:
    """The key the service signs sessions with, from the setting or its key file (a file someone edited by hand)."""
    if settings.session_secret is not None:
        return  # checked with the settings
    path = Path(settings.data_dir) / "session.key"
    reason = placeholder_reason(key.decode(errors="replace"), min_length=MIN_KEY_LENGTH)
    if reason:
        finding = Finding(f"the session key file {path} (used when CITYSTAT_SESSION_SECRET is not set)", reason, True)
        raise InsecureSettings(
            refusal(service, [finding]) + f"\nOr delete {path}: a new random key is made on the next start."
        )
