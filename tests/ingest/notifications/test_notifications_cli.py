"""`citystat notify`: the operator runs a round from the command line and sees what it made and sent."""

from __future__ import annotations

from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from services.cli import app
from services.common.db import Database
from tests.conftest import DEMO_AS_OF, INTERNAL_TOKEN, DatabaseSet, free_port
from tests.ingest.notifications.notify_town import build_town


class Count:
    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def test_notify_makes_and_sends_once_and_says_so(tmp_path):
    dbs = DatabaseSet("notify", tmp_path)
    sink, port = Count(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        "CITYSTAT_DATA_DIR": str(tmp_path / "data"),
        "CITYSTAT_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "CITYSTAT_AS_OF": DEMO_AS_OF.isoformat(),
        "CITYSTAT_SMTP_HOST": "127.0.0.1",
        "CITYSTAT_SMTP_PORT": str(port),
        "CITYSTAT_SMTP_SECURITY": "none",
        **{f"CITYSTAT_{name.upper()}_DATABASE_URL": url for name, url in dbs.urls.items()},
    }
    metrics_db, ingest_db = Database(dbs.urls["metrics"]), Database(dbs.urls["ingest"])
    try:
        build_town(metrics_db, ingest_db)
        first = CliRunner().invoke(app, ["notify"], env=env)
        assert first.exit_code == 0, first.output
        assert "as of 2017-07-10: 3 reminders, 4 overdue notices, 5 digests made" in first.stdout
        assert "e-mail: 9 sent, 0 refused, 0 waiting" in first.stdout
        assert len(sink.recipients) == 9

        again = CliRunner().invoke(app, ["notify"], env=env)
        assert "0 reminders, 0 overdue notices, 0 digests made" in again.stdout
        assert "e-mail: 0 sent, 0 refused, 0 waiting" in again.stdout
        assert len(sink.recipients) == 9
    finally:
        controller.stop()
        metrics_db.dispose()
        ingest_db.dispose()
        dbs.drop()
