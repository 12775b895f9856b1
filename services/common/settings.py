"""One settings object for every service, read from the environment only when built."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("ingest", "metrics", "reporting")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYSTAT_", env_file=None, extra="ignore")

    data_dir: Path = Path("var")
    # Empty means "a SQLite file named after the service in data_dir".
    metrics_database_url: str = ""
    ingest_database_url: str = ""
    reporting_database_url: str = ""

    # Where each service is reached when it is not in this process. The path part is the
    # service's mount point, identical in every deployment mode.
    metrics_url: str = "http://127.0.0.1:8000/api/metrics"
    ingest_url: str = "http://127.0.0.1:8000/api/ingest"
    reporting_url: str = "http://127.0.0.1:8000/api/reporting"

    # Shared secret for service-to-service writes (ingest -> metrics). In one process a
    # random one per run is enough; separate processes must be given the same value.
    internal_token: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))

    # Signs staff sessions so every service can check them alone. Empty means a key file made
    # in data_dir on first use (enough when the services share one machine).
    session_secret: SecretStr | None = None
    session_hours: float = 8.0
    # Send the session cookie only over HTTPS; production behind TLS turns this on.
    secure_cookies: bool = False

    # "Today" for due dates and default periods; the demo city pins it to 2017-07-10.
    as_of: dt.date = Field(default_factory=dt.date.today)
    # The month a fiscal year starts; a fiscal year is named by the calendar year it ends in (Atlanta: July).
    fiscal_year_start_month: int = Field(default=7, ge=1, le=12)
    # A period's values lock by themselves this many days after they were due, approved or not.
    lock_after_days: int = Field(default=30, ge=0)

    # The city's clock: raw records are counted in the month and ISO week they fell in here.
    time_zone: str = "America/New_York"

    max_body_bytes: int = 1_000_000
    # File-shaped submissions (CSV, DHIS2) may be larger than a JSON request.
    max_upload_bytes: int = 20_000_000
    # Deliveries from ingest to metrics carry a whole submission (or several) as JSON, which is larger
    # than the file it came from; they are authenticated by the internal token.
    max_internal_body_bytes: int = 200_000_000
    # Bulk raw-record uploads are streamed to disk, never held in memory: their limit is far above the others.
    max_bulk_upload_bytes: int = 10_000_000_000
    # Rows per chunk of a bulk load: one transaction, one progress step.
    bulk_chunk_rows: int = 20_000
    # A bulk upload being handed to metrics is taken back by another ingest process when its holder has not
    # said it is alive for this long (its process was killed); the holder beats six times per lease.
    record_handoff_lease_seconds: float = Field(default=30.0, gt=0)
    # Hosts pull connectors may fetch from (exact host names or IPs); empty means no pulls at all.
    pull_allowed_hosts: list[str] = []
    pull_poll_seconds: float = 60.0
    # Per principal (API token or staff member): a sustained rate and a burst.
    rate_limit_per_minute: float = 600.0
    rate_limit_burst: int = 120
    # Failed authentication per client address, in each service: wrong sign-ins, and unknown or expired API tokens,
    # session cookies that do not verify and wrong internal tokens. Only failures count; past the limit the
    # address is answered 429 without being checked until it has waited (sign-ins and the rest have a bucket each).
    auth_failures_per_minute: float = Field(default=30.0, gt=0)
    auth_failure_burst: int = Field(default=30, ge=1)
    # Per client address on the public open-data routes (/resource, /api/views, /api/catalog); load tests raise them.
    public_rate_limit_per_minute: float = Field(default=600.0, gt=0)
    public_rate_limit_burst: int = Field(default=300, ge=1)
    # Who publishes the open data and whom to ask about it, as the DCAT-US catalogue (/data.json) names them.
    open_data_publisher: str = "City of CityStat"
    open_data_contact_name: str = "CityStat open data team"
    open_data_contact_email: str = "opendata@citystat.example"
    # A token's lifetime when whoever creates it does not say.
    token_default_days: int = 365
    # How long a checked API token is trusted without reading the database again. A revocation made
    # through the API applies at once; one made by the CLI or another worker within this time.
    token_cache_seconds: float = 5.0
    max_page_size: int = 500
    max_rows_per_submission: int = 10_000
    # Most submissions one transaction (or one call to metrics) carries under load.
    group_commit_max: int = 256
    http_timeout_seconds: float = 10.0
    outbox_poll_seconds: float = 5.0
    # How often reporting checks whether a month's memo is due; 0 turns the memo scheduler off.
    report_poll_seconds: float = 300.0
    # A month's memo is made this many days after the month ends (metrics' default due date for monthly values).
    memo_due_days: int = Field(default=10, ge=0)

    # Reminders and digests (services/ingest/notifications). An empty smtp_host sends no e-mail; the in-app
    # notifications are made all the same.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # "starttls" upgrades a plain connection (port 587), "tls" speaks TLS from the start (port 465).
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    # Login is attempted only when a username is set.
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_from: str = "CityStat <citystat@citystat.example>"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    # Where staff reach the web app: links in e-mails start with it.
    app_url: str = "http://127.0.0.1:8000"
    # A reminder goes out this many days before a due date; an overdue notice the day after it.
    reminder_days_before: int = Field(default=3, ge=0, le=60)
    # The weekly digest's day (0 = Monday): made by the first round on or after it each week.
    digest_weekday: int = Field(default=0, ge=0, le=6)
    # How often ingest looks for reminders to make and e-mail to send; 0 turns the loop off.
    notify_poll_seconds: float = Field(default=900.0, ge=0)

    frontend_dir: Path = Path(__file__).resolve().parents[2] / "frontend"

    @model_validator(mode="after")
    def _fill_database_urls(self) -> Settings:
        for service in SERVICES:
            attr = f"{service}_database_url"
            if not getattr(self, attr):
                setattr(self, attr, f"sqlite:///{(self.data_dir / f'{service}.db').as_posix()}")
        return self

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    def database_url(self, service: str) -> str:
        return getattr(self, f"{service}_database_url")

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url").rstrip("/")


def mount_path(service: str) -> str:
    return f"/api/{service}"
