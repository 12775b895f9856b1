"""A small city for the open-data download and descriptor tests (downloads, DCAT, Frictionless): published metric
values, a published raw-record dataset whose rows have every column type and empty values, and things that must
never be public (an unpublished metric, a draft, an unpublished record dataset); and validators for the published
schemas in ../shared/data/specs, which work offline."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from jsonschema import Draft4Validator, Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7
from sqlmodel import Session

from services.metrics.budget.models import BudgetImport, BudgetKind, BudgetLine
from services.metrics.definitions.models import MetricState
from services.metrics.records.models import Dataset
from tests.factories import make_department, make_metric, make_observation
from tests.metrics.records.record_factory import local, make_record

SPECS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "specs"
SECRET = 0.987123  # held only by unpublished metrics and records: must never be seen publicly
SECRET_RECORD = "SECRET-7"


def make_open_city(session: Session) -> None:
    dwm = make_department(session, "DWM", "Watershed Management")
    on_time = make_metric(session, dwm, key="dwm.on_time", name="Work orders on time")
    for month, value in enumerate((0.5, 0.62, 0.75, 0.8, 0.88, 0.91), start=1):
        make_observation(session, on_time, f"2017-{month:02d}", value, numerator=value * 200, denominator=200)
    breaks = make_metric(
        session, dwm, key="dwm.main_breaks", name="Main breaks, city-wide", unit="count", max_value=None
    )
    make_observation(session, breaks, "2017-06", 31)
    make_observation(session, breaks, "2017-06", 12, org_unit="NORTH")
    hidden = make_metric(session, dwm, key="dwm.internal", name="Internal", is_published=False)
    make_observation(session, hidden, "2017-06", SECRET)
    draft = make_metric(session, dwm, key="dwm.draft", name="Draft", is_published=False, state=MetricState.draft)
    make_observation(session, draft, "2017-05", SECRET)

    session.add(Dataset(key="work_orders", title="Work orders", description="Water work orders.", is_published=True))
    session.add(Dataset(key="inspections", title="Inspections", is_published=False))
    session.flush()
    make_record(
        session,
        "WO-1",
        "DWM",
        local("2017-06-02 09:30"),
        local("2017-06-04 17:00"),
        local("2017-06-05 09:30"),
        dataset="work_orders",
        category='Valve, "stuck"',
        latitude=33.7489954,
        longitude=-84.3879824,
        district="3",
    )
    make_record(session, "WO-2", "DWM", local("2017-06-03 08:00"), dataset="work_orders", category=None)
    make_record(
        session,
        "WO-3",
        "DWM",
        local("2017-06-01 07:15"),
        local("2017-06-20 12:00"),
        local("2017-06-06 07:15"),
        dataset="work_orders",
        category="Leak",
    )
    make_record(session, SECRET_RECORD, "DWM", local("2017-06-02 10:00"), dataset="inspections")

    budget = BudgetImport(source="test", rows=3, accepted=3, fiscal_years=["FY2018"], actor="test")
    session.add(budget)
    session.flush()
    # Two lines alike but for their line number (budget files repeat them), and a reversal.
    for row, (category, amount) in enumerate(
        (("Personnel", "1250000.50"), ("Personnel", "1250000.50"), ("Contract Services", "-4200.00")), start=2
    ):
        session.add(
            BudgetLine(
                fiscal_year="FY2018",
                fiscal_year_label="FY17-18",
                department="Watershed Management",
                fund_code="5051",
                category=category,
                kind=BudgetKind.expense,
                amount=Decimal(amount),
                import_id=budget.id,
                source_row=row,
            )
        )
    session.flush()


def _registry(folder: Path, spec) -> tuple[Registry, dict[str, dict]]:
    schemas = {path.name: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}
    resources = []
    for schema in schemas.values():
        uri = schema.get("id") or schema.get("$id")
        if uri:
            resources.append((uri.rstrip("#"), Resource.from_contents(schema, default_specification=spec)))
    return Registry().with_resources(resources), schemas


def dcat_validator() -> Draft4Validator:
    """DCAT-US 1.1 (non-federal) catalog.json, its `$ref`s resolved against the schemas beside it by their ids."""
    registry, schemas = _registry(SPECS / "dcat-us-v1.1" / "non-federal-v1.1", DRAFT4)
    catalog = schemas["catalog.json"]
    assert catalog["$schema"] == "http://json-schema.org/draft-04/schema#"
    return Draft4Validator(catalog, registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)


def frictionless_validators() -> dict[str, Draft7Validator]:
    """The Data Package v1 profiles (draft-07, self-contained), by file name."""
    _, schemas = _registry(SPECS / "frictionless" / "1.0", DRAFT7)
    return {name: Draft7Validator(schema) for name, schema in schemas.items()}
