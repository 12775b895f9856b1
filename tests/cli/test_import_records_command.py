"""`citystat import records`: the operator loads a real 311 file in one process, with a progress bar."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from services.cli import app
from services.common.db import Database
from services.metrics.records.models import RawRecord
from tests.conftest import DEMO_AS_OF, INTERNAL_TOKEN, DatabaseSet

NYC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "311" / "nyc311_sample_1000_2014-2019.csv"


@pytest.fixture
def cli_env(tmp_path):
    """Databases of its own: the session's app (and its hand-off worker) never sees these jobs."""
    dbs = DatabaseSet("cli", tmp_path)
    env = {
        "CITYSTAT_DATA_DIR": str(tmp_path / "data"),
        "CITYSTAT_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "CITYSTAT_AS_OF": DEMO_AS_OF.isoformat(),
        **{f"CITYSTAT_{name.upper()}_DATABASE_URL": url for name, url in dbs.urls.items()},
    }
    yield env, dbs
    dbs.drop()


def _records(dbs: DatabaseSet) -> int:
    db = Database(dbs.urls["metrics"])
    try:
        with db.session(write=False) as s:
            return s.exec(select(func.count()).select_from(RawRecord)).one()
    finally:
        db.dispose()


def _import(env: dict, *args: str):
    return CliRunner().invoke(app, ["import", "records", *args], env=env)


def test_the_operator_imports_a_city_feed_and_reimporting_it_doubles_nothing(cli_env, tmp_path):
    env, dbs = cli_env
    first = _import(env, str(NYC), "--mapping", "nyc311", "--create-departments")
    assert first.exit_code == 0, first.output
    assert "1000 rows read; accepted 990, updated 0, unchanged 0, rejected 10" in first.stdout
    assert "departments created: " in first.stdout and "NYPD" in first.stdout
    rejections = [line for line in first.stdout.splitlines() if line.startswith("row ")]
    assert len(rejections) == 10 and all(", closed_at: " in line for line in rejections)
    assert _records(dbs) == 990

    again = _import(env, str(NYC), "--mapping", "nyc311")
    assert again.exit_code == 0, again.output
    assert "1000 rows read; accepted 0, updated 0, unchanged 990, rejected 10" in again.stdout
    assert _records(dbs) == 990
    # Both files were spooled, loaded and removed.
    assert not list((tmp_path / "data" / "spool" / "ingest").iterdir())


def test_a_load_metrics_refuses_exits_1_with_the_reason(cli_env):
    env, dbs = cli_env
    failed = _import(env, str(NYC), "--mapping", "no-such-feed")
    assert failed.exit_code == 1
    assert "no-such-feed" in failed.output
    assert _records(dbs) == 0


def test_a_file_that_is_not_there_is_a_usage_error(cli_env, tmp_path):
    env, _ = cli_env
    missing = _import(env, str(tmp_path / "nope.csv"), "--mapping", "nyc311")
    assert missing.exit_code == 2
