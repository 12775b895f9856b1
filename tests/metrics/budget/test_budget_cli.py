"""`citystat import budget FILE`: the operator loads a budget from the command line (the command is
services.metrics.budget.cli.import_budget_command, run here as its own Typer app)."""

import json
from pathlib import Path

import typer
from sqlmodel import func, select
from typer.testing import CliRunner

from services.common.db import Database
from services.metrics.budget.cli import import_budget_command
from services.metrics.budget.models import BudgetImport, BudgetLine

OAKLAND = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "budget"
    / "oakland_budget_FY21-22_adopted_by_dept_fund_category.csv"
)
cli = typer.Typer()
cli.command()(import_budget_command)


def _count(db: Database, model) -> int:
    with db.session(write=False) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _run(clean_db, data_dir: Path, *args: str):
    env = {f"CITYSTAT_{service.upper()}_DATABASE_URL": url for service, url in clean_db.urls.items()}
    env["CITYSTAT_DATA_DIR"] = str(data_dir)
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_command_imports_oaklands_file_and_prints_what_it_rejected(clean_db, metrics_db, tmp_path):
    first = _run(clean_db, tmp_path, str(OAKLAND))
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == (
        f"{OAKLAND.name}: 22236 rows read; accepted 22235, rejected 1; fiscal years FY2022 (source 'budget')"
    )
    assert lines[-1] == "row 22237, amount: blank amount: not guessed"
    assert any(line.startswith("FY2022 expense: 21407 lines, ") for line in lines)

    again = _run(clean_db, tmp_path, str(OAKLAND))
    assert again.exit_code == 0, again.output
    assert "replaced 22235 FY2022 lines of import 1" in again.stdout.splitlines()
    assert _count(metrics_db, BudgetLine) == 22235
    with metrics_db.session(write=False) as s:
        runs = s.exec(select(BudgetImport.actor, BudgetImport.file_name).order_by(BudgetImport.id)).all()
    assert runs == [("operator", OAKLAND.name), ("operator", OAKLAND.name)]


def test_a_mapping_file_names_another_citys_columns(clean_db, metrics_db, tmp_path):
    budget = tmp_path / "other.csv"
    budget.write_text('Dept,Adopted\nLibrary,"1,000.50"\nLibrary,x\n', encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps({"department_column": "Dept", "amount_column": "Adopted", "fund_column": "", "category_column": ""})
    )
    result = _run(
        clean_db,
        tmp_path,
        str(budget),
        "--mapping",
        str(mapping),
        "--fiscal-year",
        "FY2018",
        "--kind",
        "expense",
        "--source",
        "other city",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "other.csv: 2 rows read; accepted 1, rejected 1; fiscal years FY2018 (source 'other city')"
    )
    assert "row 3, Adopted: amount 'x' is not a number" in result.stdout
    assert _count(metrics_db, BudgetLine) == 1

    atomic = _run(
        clean_db,
        tmp_path,
        str(budget),
        "--mapping",
        str(mapping),
        "--fiscal-year",
        "FY2018",
        "--kind",
        "expense",
        "--atomic",
    )
    assert atomic.exit_code == 1
    assert "row 3, Adopted: amount 'x' is not a number" in atomic.stderr
    assert _count(metrics_db, BudgetImport) == 1


def test_a_file_that_cannot_be_read_exits_1_and_stores_nothing(clean_db, metrics_db, tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,value\nx,1\n", encoding="utf-8")
    result = _run(clean_db, tmp_path, str(wrong))
    assert result.exit_code == 1
    assert "the department column is not in the header" in result.stderr
    bad_mapping = tmp_path / "bad.json"
    bad_mapping.write_text('{"departement_column": "x"}')
    assert _run(clean_db, tmp_path, str(wrong), "--mapping", str(bad_mapping)).exit_code == 2
    assert _count(metrics_db, BudgetImport) == _count(metrics_db, BudgetLine) == 0
