import datetime as dt
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from services.common.errors import CityStatError, problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter
from services.common.settings import Settings
from services.ingest.deps import (
    CurrentPrincipal,
    PipelineDep,
    RateLimitedPrincipal,
    SessionDep,
    SettingsDep,
)
from services.ingest.formats.common import ParsedRows
from services.ingest.formats.csv_upload import parse_observation_csv
from services.ingest.formats.dhis2 import (
    dhis2_import_summary,
    parse_data_value_set_csv,
    parse_data_value_set_json,
    parse_import_strategy,
)
from services.ingest.submissions import service
from services.ingest.submissions.schemas import (
    Dhis2ImportResponse,
    SubmissionCreate,
    SubmissionPublic,
    SubmissionReceipt,
)

router = APIRouter(tags=["submissions"])

STRATEGY_PATTERN = (
    "^(create_and_update|create|update|delete|CREATE_AND_UPDATE|CREATE|UPDATE|DELETE"
    "|NEW_AND_UPDATES|NEW|UPDATES|DELETES)$"
)
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Unique per submission; a replay with the same key returns the first answer",
    ),
]
DryRun = Annotated[bool, Query(alias="dryRun", description="Check and answer, write nothing")]
Atomic = Annotated[bool, Query(description="All or nothing: any unusable row makes it a 422 that stores nothing")]
Strategy = Annotated[
    str,
    Query(
        alias="importStrategy",
        pattern=STRATEGY_PATTERN,
        description="create_and_update (default), create, update or delete; DHIS2's names are accepted too",
    ),
]
ForDepartment = Annotated[
    DepartmentFilter, Query(description="The department (staff only; a token's department is its own)")
]

_RECEIPT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": SubmissionReceipt, "description": "Dry run: checked, nothing stored"},
    202: {"model": SubmissionReceipt, "description": "Stored; metrics unreachable, delivery queued"},
    **problem_responses(401, 403, 413, 415, 429, 502, 503),
}
_CSV_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "description": "UTF-8 CSV; header row of metric,period,value,numerator,denominator,org_unit,comment,reason",
    "example": "metric,period,value\ndpw.potholes_repaired,2017-06,1412\n",
}
_CSV_BODY = {"content": {"text/csv": {"schema": _CSV_SCHEMA}}, "required": True}
_DATA_VALUE = {
    "type": "object",
    "required": ["dataElement"],
    "properties": {
        "dataElement": {"type": ["string", "null"], "description": "The metric key"},
        "period": {"type": ["string", "null"], "description": "201706, 2017Q2, 2017W23 or 2017"},
        "orgUnit": {"type": ["string", "null"], "description": "The department code, or an org unit's"},
        "value": {"type": ["string", "number", "null"]},
        "comment": {"type": ["string", "null"]},
    },
}
_DHIS2_BODY = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "A DHIS2 dataValueSet",
                "required": ["dataValues"],
                "properties": {
                    "dataSet": {"type": ["string", "null"]},
                    "period": {"type": ["string", "null"]},
                    "orgUnit": {"type": ["string", "null"]},
                    "completeDate": {"type": ["string", "null"]},
                    "dataValues": {"type": "array", "items": _DATA_VALUE},
                },
            }
        },
        "application/csv": {"schema": {**_CSV_SCHEMA, "description": "DHIS2 CSV: dataelement,period,orgunit,..."}},
    },
    "required": True,
}


def _first_retry_after(settings: Settings) -> dt.timedelta:
    return dt.timedelta(seconds=2 * settings.http_timeout_seconds + 5)


class UnsupportedMediaType(CityStatError):
    status_code = 415
    slug = "unsupported-media-type"


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _from_parsed(fmt: str, parsed: ParsedRows, digest: str, department: str, strategy: str, atomic: bool):
    rows = []
    for row in parsed.rows:
        # DHIS2 names an org unit for every value; naming the department itself means the department's value.
        if row.org_unit == department:
            row = row.model_copy(update={"org_unit": None})
        rows.append(row.model_dump(mode="json"))
    return service.Incoming(
        format=fmt,
        rows=rows,
        digest=digest,
        source_rows=parsed.source_rows,
        parse_rejected=parsed.rejected,
        strategy=parse_import_strategy(strategy),
        atomic=atomic,
    )


@router.post("/submissions", status_code=201, response_model=SubmissionReceipt, responses=_RECEIPT_RESPONSES)
async def create_submission(
    body: SubmissionCreate,
    response: Response,
    principal: RateLimitedPrincipal,
    pipeline: PipelineDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey,
    dry_run: DryRun = False,
    atomic: Atomic = False,
    import_strategy: Strategy = "create_and_update",
    department: ForDepartment = None,
) -> SubmissionReceipt:
    """A JSON batch of observations, for a department system (API token) or a signed-in staff member."""
    department = service.resolve_department(principal, department)
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    strategy = parse_import_strategy(import_strategy)
    incoming = service.Incoming(
        format="json",
        rows=[row.model_dump(mode="json") for row in body.observations],
        digest=service.digest_of("json", department, str(strategy), str(atomic), canonical),
        generated_at=body.generated_at,
        strategy=strategy,
        atomic=atomic,
    )
    answer = await service.submit(
        pipeline,
        service.Submitter(principal, department),
        incoming,
        idempotency_key,
        dry_run=dry_run,
        max_rows=settings.max_rows_per_submission,
        first_retry_after=_first_retry_after(settings),
    )
    response.status_code = answer.status_code
    return answer.receipt


@router.post(
    "/submissions/csv",
    status_code=201,
    response_model=SubmissionReceipt,
    responses=_RECEIPT_RESPONSES,
    openapi_extra={"requestBody": _CSV_BODY},
)
async def create_csv_submission(
    request: Request,
    response: Response,
    principal: RateLimitedPrincipal,
    pipeline: PipelineDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey,
    dry_run: DryRun = False,
    atomic: Atomic = False,
    import_strategy: Strategy = "create_and_update",
    department: ForDepartment = None,
) -> SubmissionReceipt:
    """A CSV file with the columns metric,period,value,numerator,denominator,org_unit,comment (and reason).

    Rows are numbered as in a spreadsheet: the header is row 1."""
    department = service.resolve_department(principal, department)
    if _media_type(request) not in ("text/csv", "application/csv"):
        raise UnsupportedMediaType("Send the file as Content-Type: text/csv.")
    data = await request.body()
    parsed = await run_in_threadpool(parse_observation_csv, data)
    digest = service.digest_of("csv", department, str(parse_import_strategy(import_strategy)), str(atomic), data)
    incoming = _from_parsed("csv", parsed, digest, department, import_strategy, atomic)
    answer = await service.submit(
        pipeline,
        service.Submitter(principal, department),
        incoming,
        idempotency_key,
        dry_run=dry_run,
        max_rows=settings.max_rows_per_submission,
        first_retry_after=_first_retry_after(settings),
    )
    response.status_code = answer.status_code
    return answer.receipt


@router.post(
    "/dataValueSets",
    status_code=201,
    response_model=Dhis2ImportResponse,
    responses={
        200: {"model": Dhis2ImportResponse, "description": "Dry run: checked, nothing stored"},
        202: {"model": Dhis2ImportResponse, "description": "Stored; metrics unreachable, delivery queued"},
        **problem_responses(401, 403, 413, 415, 429, 502, 503),
    },
    openapi_extra={"requestBody": _DHIS2_BODY},
)
async def import_data_value_set(
    request: Request,
    response: Response,
    principal: RateLimitedPrincipal,
    pipeline: PipelineDep,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description="Optional here, as DHIS2 clients do not send one; without it there is no replay",
        ),
    ] = None,
    dry_run: DryRun = False,
    atomic: Atomic = False,
    import_strategy: Strategy = "CREATE_AND_UPDATE",
    department: ForDepartment = None,
) -> Dhis2ImportResponse:
    """DHIS2's dataValueSets import, as JSON or CSV: dataElement is the metric key, periods in DHIS2's
    forms (201706, 2017Q2, 2017W23, 2017), orgUnit a department or org-unit code."""
    department = service.resolve_department(principal, department)
    media = _media_type(request)
    if media == "application/json":
        parse, fmt = parse_data_value_set_json, "dhis2-json"
    elif media in ("application/csv", "text/csv"):
        parse, fmt = parse_data_value_set_csv, "dhis2-csv"
    else:
        raise UnsupportedMediaType("Send a dataValueSet as application/json, or as application/csv.")
    data = await request.body()
    parsed = await run_in_threadpool(parse, data)
    digest = service.digest_of(fmt, department, str(parse_import_strategy(import_strategy)), str(atomic), data)
    incoming = _from_parsed(fmt, parsed, digest, department, import_strategy, atomic)
    answer = await service.submit(
        pipeline,
        service.Submitter(principal, department),
        incoming,
        idempotency_key or uuid.uuid4().hex,
        dry_run=dry_run,
        max_rows=settings.max_rows_per_submission,
        first_retry_after=_first_retry_after(settings),
    )
    response.status_code = answer.status_code
    receipt = answer.receipt
    if receipt.summary is None:
        web = {
            "httpStatus": "Accepted",
            "httpStatusCode": 202,
            "status": "OK",
            "message": "Stored; the values will be applied when the metrics service is reachable.",
            "response": {
                "responseType": "ImportSummary",
                "status": "PENDING",
                "importCount": {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0},
                "conflicts": [],
            },
        }
    else:
        web = dhis2_import_summary(receipt.summary, strategy=incoming.strategy, dry_run=dry_run)
    return Dhis2ImportResponse(**web, receipt=receipt)


@router.get("/submissions", response_model=Page[SubmissionPublic], responses=problem_responses(401))
def list_submissions(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep, department: DepartmentFilter = None
) -> Page[SubmissionPublic]:
    """Submissions of the departments the caller may read, newest first."""
    items, total = service.list_submissions(session, principal, department, page)
    return Page(items=items, total=total)


@router.get("/submissions/{submission_id}", response_model=SubmissionPublic, responses=problem_responses(401, 404))
def read_submission(
    submission_id: Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f]{32}$")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> SubmissionPublic:
    """A submission's first answer and what became of its delivery since (pending, delivered, refused, rejected)."""
    return service.get_submission(session, principal, submission_id)
