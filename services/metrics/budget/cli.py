"""`citystat import budget FILE`: the local operator loads a budget file straight into the metrics database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from services.common.auth import OPERATOR
from services.common.db import Database
from services.common.errors import CityStatError
from services.common.settings import Settings
from services.metrics.budget.models import BudgetKind
from services.metrics.budget.schemas import BudgetMapping
from services.metrics.budget.service import DEFAULT_SOURCE, import_budget

err = Console(stderr=True, soft_wrap=True)


def _mapping(path: Path | None, fiscal_year: str | None, kind: BudgetKind | None) -> BudgetMapping:
    values: dict[str, object] = {}
    if path is not None:
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(f"{path}: {exc}", param_hint="--mapping") from None
        if not isinstance(values, dict):
            raise typer.BadParameter(f"{path}: a JSON object is expected", param_hint="--mapping")
    if fiscal_year is not None:
        values["fiscal_year"] = fiscal_year
    if kind is not None:
        values["kind"] = str(kind)
    try:
        return BudgetMapping.model_validate(values)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--mapping") from None


def import_budget_command(
    path: Annotated[Path, typer.Argument(help="The budget CSV", exists=True, dir_okay=False, readable=True)],
    mapping: Annotated[
        Path | None,
        typer.Option(
            help='A JSON file naming the file\'s columns, e.g. {"department_column": "Dept", "amount_column": '
            "\"Adopted\"}; keys as the API's query parameters. Default: Oakland's open-data columns.",
            dir_okay=False,
        ),
    ] = None,
    source: Annotated[
        str, typer.Option(help="Where the file comes from; re-importing a year from the same source replaces it")
    ] = DEFAULT_SOURCE,
    fiscal_year: Annotated[str | None, typer.Option(help="Every row's fiscal year, for a file without one")] = None,
    kind: Annotated[BudgetKind | None, typer.Option(help="Every row's kind, for a file without that column")] = None,
    atomic: Annotated[bool, typer.Option("--atomic", help="Store nothing if any row is rejected")] = False,
) -> None:
    """Import a city's budget file (department, fund, category, expense or revenue, amount, fiscal year); every row
    the budget cannot use is printed with its reason."""
    columns = _mapping(mapping, fiscal_year, kind)
    source = " ".join(source.split())
    if not source:
        raise typer.BadParameter("name the source", param_hint="--source")
    settings = Settings()
    db = Database(settings.metrics_database_url)
    try:
        data = path.read_bytes()
        with Progress(console=err, transient=True) as bar, db.session() as session:
            task = bar.add_task(f"importing {escape(path.name)}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            receipt = import_budget(
                session,
                data,
                OPERATOR,
                columns,
                source=source[:200],
                file_name=path.name,
                atomic=atomic,
                fiscal_start=settings.fiscal_year_start_month,
                progress=progress,
            )
    except CityStatError as exc:
        err.print(f"[red]{escape(str(path))}: {escape(exc.detail)}[/red]")
        for item in exc.errors or []:
            where = f"row {item['row']}, " if item.get("row") is not None else ""
            err.print(f"[red]  {where}{escape(str(item.get('field')))}: {escape(str(item.get('reason')))}[/red]")
        raise typer.Exit(code=1) from None
    finally:
        db.dispose()
    typer.echo(
        f"{path.name}: {receipt.rows} rows read; accepted {receipt.accepted}, rejected {len(receipt.rejected)}; "
        f"fiscal years {', '.join(receipt.fiscal_years) or 'none'} (source {receipt.source!r})"
    )
    for replaced in receipt.replaced:
        typer.echo(f"replaced {replaced.lines} {replaced.fiscal_year} lines of import {replaced.import_id}")
    for total in receipt.totals:
        typer.echo(f"{total.fiscal_year} {total.kind}: {total.lines} lines, {total.amount:,.2f}")
    for rejection in receipt.rejected:
        typer.echo(f"row {rejection.row}, {rejection.field}: {rejection.reason}")
