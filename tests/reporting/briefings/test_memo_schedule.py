"""The memo for a month makes itself once that month's data is due; `citystat report` builds any kind on demand."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from services.cli import app as cli
from services.common.db import Database
from services.reporting.briefings.jobs import Builds
from services.reporting.briefings.models import Briefing
from services.runner import create_root_app
from tests.conftest import DEMO_AS_OF, INTERNAL_TOKEN, DatabaseSet
from tests.factories import sign_in
from tests.reporting.briefings.briefing_city import make_briefing_city


def test_the_due_month_follows_as_of_and_the_due_days(settings, reporting_db):
    def due(as_of: dt.date, days: int = 10) -> str:
        later = settings.model_copy(update={"as_of": as_of, "memo_due_days": days})
        return Builds(reporting_db, later, None, None).due_memo_period()  # type: ignore[arg-type]

    assert due(dt.date(2017, 7, 10)) == "2017-06"  # June's values were due on 10 July
    assert due(dt.date(2017, 7, 9)) == "2017-05"
    assert due(dt.date(2017, 7, 1), days=0) == "2017-06"
    assert due(dt.date(2017, 1, 15)) == "2016-12"
    assert due(dt.date(2017, 1, 5)) == "2016-11"


def test_the_scheduler_makes_the_due_memo_once_by_itself(settings, client, metrics_db, ingest_db, reporting_db):
    make_briefing_city(client, metrics_db, ingest_db)
    fast = settings.model_copy(update={"report_poll_seconds": 0.1})
    with TestClient(create_root_app(fast)) as scheduled:
        deadline = time.monotonic() + 30
        memos: list[Briefing] = []
        while time.monotonic() < deadline:
            with reporting_db.session(write=False) as session:
                memos = list(session.exec(select(Briefing).where(Briefing.kind == "memo")).all())
            if memos and memos[0].build_status == "ready":
                break
            time.sleep(0.1)
        time.sleep(0.5)  # a few more rounds of the scheduler: still one memo
        with reporting_db.session(write=False) as session:
            memos = list(session.exec(select(Briefing).where(Briefing.kind == "memo")).all())
        assert len(memos) == 1
        memo = memos[0]
        assert (memo.period, memo.automatic, memo.state, memo.build_status) == ("2017-06", True, "draft", "ready")
        sections = {item["section"] for item in memo.snapshot["memo"]}
        assert "newly_off_target" in sections  # DPW's pothole repairs went off target in June
        sign_in(scheduled, "ana")
        page = scheduled.get(f"/api/reporting/briefings/{memo.id}/html")
        assert page.status_code == 200 and "days to repair a pothole" in page.text.lower()


def test_report_command_builds_publishes_and_writes_the_pdf(tmp_path):
    dbs = DatabaseSet("report", tmp_path)
    env = {
        "CITYSTAT_DATA_DIR": str(tmp_path / "data"),
        "CITYSTAT_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "CITYSTAT_AS_OF": DEMO_AS_OF.isoformat(),
        **{f"CITYSTAT_{name.upper()}_DATABASE_URL": url for name, url in dbs.urls.items()},
    }
    settings = dbs.settings(tmp_path / "data")
    metrics_db, ingest_db = Database(dbs.urls["metrics"]), Database(dbs.urls["ingest"])
    try:
        with TestClient(create_root_app(settings)) as client:
            make_briefing_city(client, metrics_db, ingest_db)
        out = tmp_path / "memo.pdf"
        result = CliRunner().invoke(
            cli, ["report", "memo", "--period", "2017-06", "--publish", "--pdf", str(out)], env=env
        )
        assert result.exit_code == 0, result.output
        assert "(published): Performance memo to the Mayor, June 2017" in result.stdout
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True).stdout.decode()
        assert "days to repair a pothole" in text.lower()

        wrong = CliRunner().invoke(cli, ["report", "annual", "--period", "2017-06"], env=env)
        assert wrong.exit_code == 1 and "period" in wrong.output
        roundtable = CliRunner().invoke(
            cli, ["report", "roundtable", "--period", "2017-06", "--department", "DWM"], env=env
        )
        assert roundtable.exit_code == 0, roundtable.output
        assert "(draft): " in roundtable.stdout
    finally:
        metrics_db.dispose()
        ingest_db.dispose()
        dbs.drop()
