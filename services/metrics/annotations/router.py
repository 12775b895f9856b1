"""Annotations: notes on a metric and period, each with its thread of replies.

Who sees what. Context, action and data-quality notes, with their replies, are shown to whoever may see the
metric: anyone for a published metric, as its values are. Questions to a department and their threads are
internal: only staff who may read the metric's department (its own staff, citywide viewers and the performance
office) see them; everyone else gets the list without them, as if there were none.

Who writes. The performance office (analysts, administrators), and the liaisons and head of the metric's
department. Only the performance office asks questions; the department answers in the thread, and its first
reply marks the question answered.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.params import DepartmentFilter, MetricKeyPath
from services.common.periods import PeriodText
from services.metrics.annotations import service
from services.metrics.annotations.models import AnnotationKind
from services.metrics.annotations.schemas import AnnotationCreate, AnnotationListed, AnnotationPublic, ReplyCreate
from services.metrics.deps import OptionalStaff, SessionDep, StaffPrincipal

router = APIRouter(tags=["annotations"])

AnnotationId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The note, or any reply in its thread")]


@router.get("/metrics/{key}/annotations", response_model=Page[AnnotationPublic], responses=problem_responses(404))
def list_annotations(
    key: MetricKeyPath,
    session: SessionDep,
    page: PageDep,
    viewer: OptionalStaff,
    start: Annotated[PeriodText | None, Query(description="First period, e.g. 2013-01")] = None,
    end: Annotated[PeriodText | None, Query(description="Last period, e.g. 2017-06")] = None,
    kind: AnnotationKind | None = None,
) -> Page[AnnotationPublic]:
    """A metric's notes by period, each with its replies oldest first. Questions only for the department's
    readers (see the module's rule)."""
    items, total = service.list_annotations(session, key, viewer, page, start=start, end=end, kind=kind)
    return Page(items=items, total=total)


@router.post(
    "/metrics/{key}/annotations",
    status_code=201,
    response_model=AnnotationPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def create_annotation(
    key: MetricKeyPath, body: AnnotationCreate, session: SessionDep, actor: StaffPrincipal
) -> AnnotationPublic:
    """A note on a period of the metric's frequency (the performance office, or the department's staff)."""
    return service.create_annotation(session, key, body, actor)


@router.post(
    "/metrics/{key}/annotations/{annotation_id}/replies",
    status_code=201,
    response_model=AnnotationPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def reply_to_annotation(
    key: MetricKeyPath, annotation_id: AnnotationId, body: ReplyCreate, session: SessionDep, actor: StaffPrincipal
) -> AnnotationPublic:
    """A reply in the note's thread; answers the whole thread. The department's reply answers a question."""
    return service.reply(session, key, annotation_id, body.body, actor)


@router.get("/annotations", response_model=Page[AnnotationListed], responses=problem_responses(401, 404))
def list_annotations_for_staff(
    session: SessionDep,
    page: PageDep,
    viewer: StaffPrincipal,
    department: DepartmentFilter = None,
    kind: AnnotationKind | None = None,
    open_: Annotated[
        bool | None, Query(alias="open", description="true: questions not yet answered; false: answered ones")
    ] = None,
) -> Page[AnnotationListed]:
    """Notes across metrics, oldest first, in the departments the caller may read (the performance office: all).
    `kind=question&open=true` is a department's list of questions to answer."""
    items, total = service.list_for_staff(session, viewer, page, department=department, kind=kind, open_only=open_)
    return Page(items=items, total=total)
