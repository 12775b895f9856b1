from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from services.common.errors import Forbidden, problem_responses
from services.common.pagination import PageDep
from services.ingest.audit.service import record_apart
from services.ingest.deps import DatabaseDep, SessionDep, SettingsDep, StaffPrincipal
from services.ingest.notifications import service
from services.ingest.notifications.rounds import run_round
from services.ingest.notifications.schemas import NotificationPage, NotificationPublic, ReadAllResult, RoundResult

router = APIRouter(prefix="/notifications", tags=["notifications"])

NotificationId = Annotated[int, Path(ge=1, le=2_147_483_647, description="A notification's id")]


@router.get("", response_model=NotificationPage, responses=problem_responses(401, 403))
def list_notifications(
    session: SessionDep,
    page: PageDep,
    me: StaffPrincipal,
    unread: Annotated[bool, Query(description="Only the unread ones")] = False,
) -> NotificationPage:
    """The signed-in person's reminders, overdue notices and digests, newest first, with how many are unread."""
    return service.list_own(session, int(me.id), page, unread_only=unread)


@router.post("/read-all", response_model=ReadAllResult, responses=problem_responses(401, 403))
def read_all(session: SessionDep, me: StaffPrincipal) -> ReadAllResult:
    return service.mark_all_read(session, int(me.id))


@router.post("/{notification_id}/read", response_model=NotificationPublic, responses=problem_responses(401, 403, 404))
def read_one(notification_id: NotificationId, session: SessionDep, me: StaffPrincipal) -> NotificationPublic:
    return service.mark_read(session, int(me.id), notification_id)


@router.post("/run", response_model=RoundResult, responses=problem_responses(401, 403, 503))
async def run_now(request: Request, db: DatabaseDep, settings: SettingsDep, me: StaffPrincipal) -> RoundResult:
    """Makes the reminders, overdue notices and digests due as of today and sends the waiting e-mail now, instead
    of at the next round of the background loop. For the performance office; running it again makes nothing new."""
    if not me.is_performance_office:
        raise Forbidden("Only the performance office (analysts and administrators) may run the notifications.")
    state = request.app.state
    async with state.notify_lock:
        result = await run_round(db, state.metrics_client, state.session_codec, settings)
    await run_in_threadpool(
        record_apart, db, me, "notifications.run", detail=result.model_dump(mode="json", exclude={"as_of"})
    )
    return result
