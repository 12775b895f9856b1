"""Backup and restore as infra/BACKUP.md tells an operator to do it: `pg_dump -Fc` of each service's database, a
FRESH PostgreSQL server initialised like the deployment's (infra/postgres/init.sh, by infra/dev/run_services.py's
Postgres), `pg_restore` into it, then every table's row count and a checksum of its rows compared with the source,
and the three services started on the restored databases answering a scorecard.

PostgreSQL's own tools are under test here, not the engine CityStat runs on: this module runs in the PostgreSQL pass
only (tests/infra/conftest.py leaves it out of the SQLite pass's collection), with the pass's server
(CITYSTAT_TEST_POSTGRES_URL) as the source.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from infra.dev.run_services import DATABASES, PGBIN, SERVICES, Postgres, Services, load_secrets
from services.common.auth import OPERATOR
from services.common.db import Database
from services.ingest.accounts.demo import ensure_demo_staff
from services.ingest.audit.service import record as record_ingest_event
from services.metrics.audit.service import record as record_metrics_event
from services.metrics.records.models import SERVICE_REQUESTS, RawRecord
from services.reporting.meetings.demo import load_demo_meetings
from tests.conftest import DATABASE, DEMO_AS_OF, DatabaseSet, free_port
from tests.factories import make_department, make_metric, make_observation, make_target, make_token

MONTHS = [f"{year}-{month:02d}" for year in (2016, 2017) for month in range(1, 13)][:18]  # 2016-01 .. 2017-06
RAW_RECORDS = 3000
# Every row of a table as text, hashed in a fixed order: equal on both servers only if every value is.
TABLE_CHECKSUM = """SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '')
FROM {table} AS t"""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(False)


def _fill(dbs: DatabaseSet) -> None:
    """A small city with something in the tables that matter: catalogue, targets and values, raw service requests,
    audit trails, staff and tokens, a meeting calendar."""
    rng = random.Random(9)
    metrics_db = Database(dbs.urls["metrics"])
    ingest_db = Database(dbs.urls["ingest"])
    reporting_db = Database(dbs.urls["reporting"])
    try:
        codes = ["DPW", "DWM", "APD"]
        with metrics_db.session() as s:
            for code in codes:
                department = make_department(s, code, f"Department {code}")
                for n in range(3):
                    metric = make_metric(s, department, key=f"{code.lower()}.on_time_{n}")
                    make_target(s, metric, 0.9, 0.05)
                    for period in MONTHS:
                        make_observation(s, metric, period, round(rng.uniform(0.7, 1.0), 4))
                record_metrics_event(s, OPERATOR, "department.create", department=code, subject=code,
                                     detail={"name": f"Department {code}", "note": "ünïcode ✓"})  # fmt: skip
            start = dt.datetime(2016, 1, 1, 8, tzinfo=dt.UTC)
            rows = []
            for n in range(RAW_RECORDS):
                opened = start + dt.timedelta(hours=n * 4, minutes=rng.randrange(60))
                closed = opened + dt.timedelta(days=rng.uniform(0.1, 9)) if n % 7 else None
                due = opened + dt.timedelta(days=5)
                rows.append(
                    {
                        "dataset": SERVICE_REQUESTS, "record_id": f"SR-{n:06d}", "department": codes[n % 3],
                        "category": rng.choice(["Pothole", "Missed pickup", "Noise", "Water leak"]),
                        "status": "Closed" if closed else "Open", "latitude": 33.7 + rng.random() / 10,
                        "longitude": -84.4 + rng.random() / 10, "opened_at": opened, "closed_at": closed,
                        "due_at": due, "due_source": "sla", "opened_month": opened.strftime("%Y-%m"),
                        "opened_week": opened.strftime("%G-W%V"), "opened_hour": opened.hour,
                        "opened_weekday": opened.isoweekday(),
                        "closed_month": closed.strftime("%Y-%m") if closed else None,
                        "closed_week": closed.strftime("%G-W%V") if closed else None,
                        "days_to_close": (closed - opened).total_seconds() / 86400 if closed else None,
                        "on_time": int(closed <= due) if closed else None,
                        "attributes": {"channel": rng.choice(["phone", "app", "web"])},
                    }
                )  # fmt: skip
            s.execute(insert(RawRecord), rows)
        for code in codes:
            make_token(ingest_db, code)
        with ingest_db.session() as s:
            ensure_demo_staff(s, codes)
            for n in range(25):
                record_ingest_event(s, OPERATOR, "submission.accept", department=codes[n % 3], subject=f"sub-{n}")
        with reporting_db.session() as s:
            assert load_demo_meetings(s) > 0
    finally:
        for db in (metrics_db, ingest_db, reporting_db):
            db.dispose()


def _contents(conninfo: str) -> tuple[dict[str, tuple[int, str]], dict[str, int | None]]:
    """(table -> (rows, checksum)) and (sequence -> last value) of one database."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")  # timestamps print the same on both servers
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT quote_ident(table_name) FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        ]
        contents = {table: conn.execute(TABLE_CHECKSUM.format(table=table)).fetchone() for table in tables}
        sequences = dict(conn.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"))
    return contents, sequences


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


def test_a_dump_restored_into_a_fresh_server_holds_every_row_and_serves(tmp_path: Path) -> None:
    assert DATABASE == "postgresql", "the PostgreSQL pass's test: bash infra/dev/run-tests.sh runs both passes"
    with ExitStack() as stack:
        source = DatabaseSet("backup", tmp_path)  # on the pass's PostgreSQL server
        stack.callback(source.drop)
        _fill(source)

        # 1. pg_dump -Fc of each database (what BACKUP.md runs nightly).
        dumps = {}
        for service in SERVICES:
            dumps[service] = tmp_path / f"{service}.dump"
            _run([str(PGBIN / "pg_dump"), "-Fc", "-f", str(dumps[service]), "-d", _libpq(source.urls[service])])
            assert dumps[service].stat().st_size > 0

        # 2. A fresh server, made as run-services makes one: role citystat and empty databases by init.sh.
        # Not under tmp_path: pytest makes that 0700, and the server runs as the postgres user when we are root.
        fresh_dir = Path(tempfile.mkdtemp(prefix="citystat-restore."))
        stack.callback(shutil.rmtree, fresh_dir, ignore_errors=True)
        fresh = Postgres(fresh_dir, free_port(), durable=False)
        stack.callback(fresh.stop)
        fresh.start()
        db_password = load_secrets(tmp_path / "secrets.env")["CITYSTAT_DB_PASSWORD"]
        fresh.create_citystat_databases(db_password)

        # 3. pg_restore, each dump into its database, objects owned by the services' role.
        for service in SERVICES:
            _run(
                [str(PGBIN / "pg_restore"), "--no-owner", "--role=citystat", "--single-transaction", "--exit-on-error",
                 "-d", DATABASES[service], str(dumps[service])],
                env=fresh.admin_env(),
            )  # fmt: skip

        # 4. Every table: same rows (count and checksum); every sequence where it was, so new rows get new ids.
        for service in SERVICES:
            before, sequences_before = _contents(_libpq(source.urls[service]))
            after, sequences_after = _contents(fresh.admin_conninfo(DATABASES[service]))
            assert before == after, service
            assert sequences_before == sequences_after, service
            assert "alembic_version" in after, service
        metrics_rows, _ = _contents(fresh.admin_conninfo(DATABASES["metrics"]))
        ingest_rows, _ = _contents(fresh.admin_conninfo(DATABASES["ingest"]))
        assert metrics_rows["raw_record"][0] == RAW_RECORDS
        assert metrics_rows["observation"][0] == 3 * 3 * len(MONTHS)
        assert metrics_rows["audit_event"][0] >= 3
        assert ingest_rows["audit_event"][0] >= 25
        assert ingest_rows["api_token"][0] == 3

        # 5. The services start on the restored databases, connecting as citystat over TCP with its password.
        services = Services(
            {service: fresh.url(DATABASES[service], password=db_password) for service in SERVICES},
            {service: free_port() for service in SERVICES},
            tmp_path / "data",
            tmp_path / "logs",
            load_secrets(tmp_path / "secrets.env"),
            app_url="http://127.0.0.1:8000",
            extra_env={"CITYSTAT_AS_OF": DEMO_AS_OF.isoformat()},
        )
        stack.callback(services.stop_all)
        services.start(*SERVICES)
        expected = {}
        with psycopg.connect(_libpq(source.urls["metrics"])) as conn:
            for key, value in conn.execute(
                "SELECT m.key, o.value FROM observation o JOIN metric m ON m.id = o.metric_id "
                "WHERE o.period = '2017-06' AND m.key LIKE 'dpw.%'"
            ):
                expected[key] = value
        card = httpx.get(f"{services.url('reporting')}/departments/DPW/scorecard", params={"period": "2017-06"})
        assert card.status_code == 200, card.text
        assert {row["metric"]: row["value"] for row in card.json()["metrics"]} == expected
        assert len(expected) == 3
