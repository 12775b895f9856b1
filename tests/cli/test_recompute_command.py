"""`citystat recompute`: the operator recomputes computed metrics from their records, with a progress bar."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select
from typer.testing import CliRunner

from services.cli import app
from services.common.db import Database
from services.metrics.observations.models import Observation
from tests.conftest import DEMO_AS_OF, INTERNAL_TOKEN, DatabaseSet
from tests.factories import make_department
from tests.metrics.records.record_factory import ZONE, computed_metric, make_record


def test_recompute_writes_what_the_records_say_and_reports_each_metric(tmp_path):
    dbs = DatabaseSet("recompute", tmp_path)
    env = {
        "CITYSTAT_DATA_DIR": str(tmp_path / "data"),
        "CITYSTAT_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "CITYSTAT_AS_OF": DEMO_AS_OF.isoformat(),
        **{f"CITYSTAT_{name.upper()}_DATABASE_URL": url for name, url in dbs.urls.items()},
    }
    db = Database(dbs.urls["metrics"])
    try:
        with db.session() as s:
            dpw = make_department(s, "DPW", "Public Works")
            metric = computed_metric(s, dpw, "closed", key="dpw.closed")
            metric_id = metric.id
            opened = dt.datetime(2017, 6, 5, 9, tzinfo=ZONE)
            # Records arriving after the metric was made: nothing has counted them yet.
            for number in range(3):
                make_record(s, f"r{number}", "DPW", opened, opened + dt.timedelta(days=number + 1))
        result = CliRunner().invoke(app, ["recompute"], env=env)
        assert result.exit_code == 0, result.output
        assert "dpw.closed: 1 created, 0 updated, 0 deleted, 0 unchanged" in result.stdout
        with db.session(write=False) as s:
            values = s.exec(select(Observation).where(Observation.metric_id == metric_id)).all()
        assert [(v.period, v.value) for v in values] == [("2017-06", 3)]

        again = CliRunner().invoke(app, ["recompute", "--metric", "dpw.closed"], env=env)
        assert "dpw.closed: 0 created, 0 updated, 0 deleted, 1 unchanged" in again.stdout
        missing = CliRunner().invoke(app, ["recompute", "--metric", "dpw.nothing"], env=env)
        assert missing.exit_code == 1
    finally:
        db.dispose()
        dbs.drop()
