import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from services.common.errors import problem_responses
from services.ingest.deps import CurrentPrincipal, DatabaseDep, MetricsClientDep, SettingsDep
from services.ingest.submissions import service
from services.ingest.submissions.schemas import SubmissionCreate, SubmissionReceipt

router = APIRouter(prefix="/submissions", tags=["submissions"])


@router.post(
    "",
    status_code=201,
    response_model=SubmissionReceipt,
    responses={
        200: {"model": SubmissionReceipt, "description": "Dry run: checked, nothing stored"},
        202: {"model": SubmissionReceipt, "description": "Stored; metrics unreachable, delivery queued"},
        **problem_responses(401, 403, 502, 503),
    },
)
async def create_submission(
    body: SubmissionCreate,
    response: Response,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    metrics: MetricsClientDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
) -> SubmissionReceipt:
    answer = await service.submit(
        db,
        metrics,
        service.Submitter(department=principal.department, token_id=principal.token_id),
        body,
        idempotency_key,
        dry_run=dry_run,
        max_rows=settings.max_rows_per_submission,
        first_retry_after=dt.timedelta(seconds=2 * settings.http_timeout_seconds + 5),
    )
    response.status_code = answer.status_code
    return answer.receipt
