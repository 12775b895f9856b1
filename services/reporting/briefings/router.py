from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response

from services.common.errors import problem_responses
from services.common.pagination import Page, PageDep
from services.common.types import Code
from services.reporting.briefings import service
from services.reporting.briefings.jobs import Builds
from services.reporting.briefings.models import BriefingState
from services.reporting.briefings.schemas import (
    CABINET_MAX,
    BriefingCreate,
    BriefingListed,
    BriefingPublic,
    BriefingUpdate,
    PeriodText,
    Suggestions,
)
from services.reporting.briefings.snapshot import BriefingKind
from services.reporting.deps import MetricsClientDep, SessionDep, SettingsDep, StaffPrincipal

router = APIRouter(prefix="/briefings", tags=["briefings"])

BriefingId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# What a briefing's HTML may do in a browser: show itself (inline styles and SVG) and link on. Nothing else runs.
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _builds(request: Request) -> Builds:
    return request.app.state.builds


@router.get("", response_model=Page[BriefingListed], responses=problem_responses(401))
def list_briefings(
    session: SessionDep,
    principal: StaffPrincipal,
    page: PageDep,
    kind: BriefingKind | None = None,
    period: PeriodText | None = None,
    state: BriefingState | None = None,
    department: Code | None = None,
) -> Page[BriefingListed]:
    rows, total = service.list_briefings(
        session, principal, page, kind=kind, period=period, state=state, department=department
    )
    return Page(items=[service.listed(b) for b in rows], total=total)


@router.post("", status_code=202, response_model=BriefingPublic, responses=problem_responses(401, 403, 404, 422))
async def create_briefing(
    body: BriefingCreate,
    session: SessionDep,
    principal: StaffPrincipal,
    metrics: MetricsClientDep,
    request: Request,
    response: Response,
    background: BackgroundTasks,
) -> BriefingPublic:
    """A new draft. It is built in the background: `build` on the briefing shows done/total until it is ready."""
    briefing = await service.create_briefing(session, metrics, principal, body)
    background.add_task(_builds(request).run, briefing.id, metrics.acting)
    response.headers["Location"] = f"{request.scope.get('root_path', '')}/briefings/{briefing.id}"
    return service.public(briefing)


@router.get("/suggestions", response_model=Suggestions, responses=problem_responses(401, 403, 404, 422))
async def suggest_metrics(
    principal: StaffPrincipal,
    metrics: MetricsClientDep,
    period: PeriodText,
    department: Annotated[list[Code] | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=20)] = CABINET_MAX,
) -> Suggestions:
    """Metrics to put before the Cabinet: off target, the biggest movers, and statistical signals, best first."""
    service.require_office(principal)
    items = await service.suggestions(metrics, period, department or [], limit)
    return Suggestions(period=period, items=items, total=len(items))


@router.get("/{briefing_id}", response_model=BriefingPublic, responses=problem_responses(401, 404))
def get_briefing(briefing_id: BriefingId, session: SessionDep, principal: StaffPrincipal) -> BriefingPublic:
    return service.public(service.get_visible(session, principal, briefing_id))


@router.patch("/{briefing_id}", response_model=BriefingPublic, responses=problem_responses(401, 403, 404, 409, 422))
def update_briefing(
    briefing_id: BriefingId,
    body: BriefingUpdate,
    session: SessionDep,
    principal: StaffPrincipal,
    metrics: MetricsClientDep,
    request: Request,
    background: BackgroundTasks,
) -> BriefingPublic:
    """Change a draft: title, meeting, and (Cabinet briefings) the metrics, their order and explanations."""
    if service.update_briefing(session, principal, briefing_id, body):
        background.add_task(_builds(request).run, briefing_id, metrics.acting)
    return service.public(service.get_visible(session, principal, briefing_id))


@router.post(
    "/{briefing_id}/rebuild",
    status_code=202,
    response_model=BriefingPublic,
    responses=problem_responses(401, 403, 404, 409),
)
def rebuild_briefing(
    briefing_id: BriefingId,
    session: SessionDep,
    principal: StaffPrincipal,
    metrics: MetricsClientDep,
    request: Request,
    background: BackgroundTasks,
) -> BriefingPublic:
    """Read a draft's numbers again from metrics."""
    briefing = service.editable_draft(session, principal, briefing_id)
    service.queue_build(briefing)
    session.add(briefing)
    session.flush()
    background.add_task(_builds(request).run, briefing_id, metrics.acting)
    return service.public(briefing)


@router.post(
    "/{briefing_id}/publish", response_model=BriefingPublic, responses=problem_responses(401, 403, 404, 409, 422)
)
async def publish_briefing(
    briefing_id: BriefingId,
    session: SessionDep,
    principal: StaffPrincipal,
    metrics: MetricsClientDep,
    settings: SettingsDep,
) -> BriefingPublic:
    """Freeze it: the numbers are read a last time and kept with their revisions, the HTML and PDF with them."""
    return service.public(await service.publish(session, metrics, principal, briefing_id, as_of=settings.as_of))


@router.delete("/{briefing_id}", status_code=204, responses=problem_responses(401, 403, 404, 409))
def delete_briefing(briefing_id: BriefingId, session: SessionDep, principal: StaffPrincipal) -> Response:
    """Drafts only: a published briefing is part of the record."""
    service.delete_draft(session, principal, briefing_id)
    return Response(status_code=204)


@router.get(
    "/{briefing_id}/html",
    response_class=Response,
    responses={**problem_responses(401, 404, 409), 200: {"content": {"text/html": {}}}},
)
def briefing_html(briefing_id: BriefingId, session: SessionDep, principal: StaffPrincipal) -> Response:
    """The briefing as a page (charts are SVG: no script). A published one is the HTML it was published with."""
    briefing = service.get_visible(session, principal, briefing_id)
    html = service.html_of(briefing)
    headers = {"Content-Security-Policy": HTML_POLICY, "X-Content-Type-Options": "nosniff"}
    if briefing.html_sha256:
        headers["ETag"] = f'"{briefing.html_sha256}"'
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


@router.get(
    "/{briefing_id}/pdf",
    response_class=Response,
    responses={**problem_responses(401, 404, 409), 200: {"content": {"application/pdf": {}}}},
)
async def briefing_pdf(briefing_id: BriefingId, session: SessionDep, principal: StaffPrincipal) -> Response:
    briefing = service.get_visible(session, principal, briefing_id)
    pdf = await service.pdf_of(briefing)
    name = f"citystat-{briefing.kind}-{briefing.period}-{briefing.id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff"},
    )
