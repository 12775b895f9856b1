"""`citystat library import`: the operator loads San Francisco's measures from the command line."""

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import func, select
from typer.testing import CliRunner

from services.cli import app as cli
from services.common.db import Database
from services.metrics.audit.models import AuditEvent
from services.metrics.library.models import LibraryImport, LibraryMeasure
from services.metrics.library.source import SF_MEASURES_PATH, read_sf_measures

# The real file lives beside the repository and is never copied into it; without it these tests fail.
REAL_FILE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "measures" / SF_MEASURES_PATH.name
CITYSTAT = Path(sys.executable).parent / "citystat"


def _count(db: Database, model) -> int:
    with db.session(write=False) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _here(clean_db, data_dir: Path, *args: str):
    """The command in this process, on this pass's databases (SQLite or PostgreSQL)."""
    env = {f"CITYSTAT_{service.upper()}_DATABASE_URL": url for service, url in clean_db.urls.items()}
    env["CITYSTAT_DATA_DIR"] = str(data_dir)
    return CliRunner().invoke(cli, ["library", "import", *args], env=env)


def test_the_command_imports_the_file_then_updates_it_and_prints_every_rejection(clean_db, metrics_db, tmp_path):
    expected = read_sf_measures(REAL_FILE.read_bytes())
    first = _here(clean_db, tmp_path, str(REAL_FILE))
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == f"imported {len(expected.measures)}, updated 0, rejected {len(expected.rejected)} of 1002 rows"
    assert lines[1:] == [f"row {r.row}, {r.field}: {r.reason}" for r in expected.rejected]
    assert len(expected.measures) >= 0.95 * 1002 and len(expected.rejected) >= 1

    second = _here(clean_db, tmp_path)  # no path: San Francisco's file in the shared data
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[0] == (
        f"imported 0, updated {len(expected.measures)}, rejected {len(expected.rejected)} of 1002 rows"
    )
    assert _count(metrics_db, LibraryMeasure) == len(expected.measures)
    with metrics_db.session(write=False) as s:
        runs = s.exec(select(LibraryImport).order_by(LibraryImport.id)).all()
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "library.imported")).all()
    assert [(r.file_name, r.imported, r.updated, r.actor) for r in runs] == [
        (REAL_FILE.name, len(expected.measures), 0, "operator"),
        (REAL_FILE.name, 0, len(expected.measures), "operator"),
    ]
    assert [e.actor for e in events] == ["operator", "operator"]


def test_a_file_that_cannot_be_read_exits_1_with_its_reason_and_stores_nothing(clean_db, metrics_db, tmp_path):
    wrong = tmp_path / "not-measures.csv"
    wrong.write_text("metric,period,value\ndpw.potholes,2017-06,12\n")
    refused = _here(clean_db, tmp_path, str(wrong))
    assert refused.exit_code == 1
    assert "lacks the column" in refused.stderr and "KPI_CODE" in refused.stderr
    assert refused.stdout == ""

    missing = _here(clean_db, tmp_path, str(tmp_path / "nowhere.csv"))
    assert missing.exit_code == 1 and "nowhere.csv" in missing.stderr
    assert _count(metrics_db, LibraryImport) == 0 and _count(metrics_db, LibraryMeasure) == 0


def test_a_fresh_data_folder_is_migrated_then_imported_by_the_installed_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSTAT_")}
    env["CITYSTAT_DATA_DIR"] = str(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(CITYSTAT), *args], env=env, capture_output=True, text=True, timeout=120, check=False)

    migrated = run("migrate", "--service", "metrics")
    assert migrated.returncode == 0, migrated.stderr
    imported = run("library", "import")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("imported 997, updated 0, rejected 5 of 1002 rows\n")
    db = Database(f"sqlite:///{tmp_path / 'metrics.db'}")
    try:
        assert _count(db, LibraryMeasure) == 997
    finally:
        db.dispose()


def test_progress_is_reported_as_the_measures_are_stored_up_to_the_total(metrics_db):
    from services.common.auth import OPERATOR
    from services.metrics.library.service import import_library

    data = REAL_FILE.read_bytes()
    measures = len(read_sf_measures(data).measures)
    seen: list[tuple[int, int]] = []
    with metrics_db.session() as s:
        import_library(s, data, OPERATOR, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (measures, measures) and len(seen) >= 10
    assert {total for _, total in seen} == {measures}
    assert [done for done, _ in seen] == sorted({done for done, _ in seen})
