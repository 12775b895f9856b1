"""Pull connectors: a mapping profile that names a source (an Open311 GeoReport v2 endpoint, or a CSV or NDJSON
URL) is fetched on its schedule, asking only for what changed since the last pull, and loaded as an upload is.

The answer is streamed to a spool file and goes through the same loader and the same RecordImport job as a file a
department uploads, so a pull's progress, summary and rejections read exactly like an upload's. Only hosts in the
`pull_allowed_hosts` setting are ever asked, redirects included: a profile is data an analyst types, and the
service must not become a way to reach whatever the server can reach."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import gzip
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from services.common.auth import Principal
from services.common.db import Database
from services.common.errors import CityStatError, NotFound, Unprocessable
from services.common.settings import Settings
from services.metrics.audit.service import record as audit
from services.metrics.base import utcnow
from services.metrics.records.loader import LoadRequest, finish_job, load_spooled_file, start_job
from services.metrics.records.models import ImportStatus, MappingProfile, RecordImport
from services.metrics.records.normalize import Row, read_rows
from services.metrics.records.profiles import BUILTIN_PROFILES, ProfileDefinition, SourceConnector
from services.metrics.records.timestamps import Parse, time_parser

__all__ = ["PULL_ACTOR_PREFIX", "Puller", "check_pull_source", "due_profiles", "host_allowed", "pull_actor"]

log = logging.getLogger("citystat.metrics.pulls")

PULL_ACTOR_PREFIX = "pull:"
USER_AGENT = "CityStat pull connector"
MAX_REDIRECTS = 5
# A server that keeps answering full pages is either enormous or ignoring `page`; either way, stop somewhere.
MAX_PAGES = 10_000
PAGE, PAGE_SIZE = "page", "page_size"
# An error answer's first characters are worth showing in the job's error; the rest is not.
_ERROR_BODY_CHARS = 300
_ACCEPT = {
    "open311": "application/json",
    "csv": "text/csv, */*;q=0.1",
    "ndjson": "application/x-ndjson, application/json;q=0.9, */*;q=0.1",
}
_GZIP_MAGIC = b"\x1f\x8b"


class PullFailed(Exception):
    """The source could not give a usable answer: the job fails with this reason and the cursor stays."""


def pull_actor(name: str) -> str:
    return f"{PULL_ACTOR_PREFIX}{name}"


def _normal_host(host: str) -> str:
    return host.strip().lower().strip("[]").rstrip(".")


def host_allowed(host: str | None, allowed: Iterable[str]) -> bool:
    return bool(host) and _normal_host(host) in {_normal_host(entry) for entry in allowed if entry.strip()}


def check_pull_source(connector: SourceConnector, allowed: Sequence[str]) -> None:
    """Refuse a source whose host the operator has not allowed (Unprocessable, naming the field)."""
    host = urlsplit(connector.url).hostname
    if host_allowed(host, allowed):
        return
    if not any(entry.strip() for entry in allowed):
        reason = "pulls are switched off: the pull_allowed_hosts setting lists no host"
    else:
        reason = f"the host '{host}' is not in the pull_allowed_hosts setting ({', '.join(sorted(allowed))})"
    raise Unprocessable(
        f"This profile's source cannot be pulled: {reason}. Ask the operator to allow the host, or pull from one "
        "that is allowed.",
        errors=[{"field": "definition.source_connector.url", "reason": reason}],
    )


def _job_id(name: str, now: dt.datetime) -> str:
    # Job ids are at most 64 characters; microseconds keep two pulls of one profile apart.
    return f"pull-{name[:36]}-{now:%Y%m%dT%H%M%S%fZ}"


def _where(url: httpx.URL | str) -> str:
    # Errors name the source without its query: fixed parameters may carry an API key.
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _server_time(response: httpx.Response) -> dt.datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError):
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _instant(text: object, parse: Parse) -> dt.datetime | None:
    """A change time as the feed wrote it, read with the profile's own formats, else as ISO 8601 (the form a cursor
    computed from loaded rows is kept in)."""
    if not isinstance(text, str) or not text.strip():
        return None
    cell = text.strip()
    moment = parse(cell)
    if moment is not None:
        return moment
    try:
        moment = dt.datetime.fromisoformat(cell)
    except ValueError:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@dataclass
class _Cursor:
    """The latest change time seen, as an instant (to compare) and as text (to send back to the source)."""

    parse: Parse
    limit: dt.datetime | None = None
    instant: dt.datetime | None = None
    text: str | None = None

    def offer(self, text: object, moment: dt.datetime | None = None) -> None:
        moment = moment or _instant(text, self.parse)
        # A change cannot be later than the answer that reports it: a time in the future is bad data, and taking
        # it as the cursor would make every later pull miss what changes until then.
        if moment is None or (self.limit is not None and moment > self.limit):
            return
        if self.instant is None or moment > self.instant:
            self.instant = moment
            self.text = text.strip() if isinstance(text, str) and len(text.strip()) <= 64 else moment.isoformat()


@dataclass
class _Plan:
    name: str
    load: LoadRequest
    connector: SourceConnector
    since: str | None
    parse: Parse
    files: list[Path] = field(default_factory=list)


@dataclass
class _Fetched:
    path: Path
    # How many records the answer held, when known without reading it through the profile (Open311's array).
    records: int | None
    cursor: _Cursor


def due_profiles(db: Database, allowed: Sequence[str], now: dt.datetime) -> list[str]:
    """Profiles whose source is due: never pulled, or last tried (successfully or not) `every_minutes` ago. A failed
    pull waits for its next turn like a good one, so a broken source is not asked every poll."""
    with db.session(write=False) as session:
        attempts = dict(
            session.exec(
                select(RecordImport.actor, func.max(RecordImport.created_at))
                .where(col(RecordImport.actor).startswith(PULL_ACTOR_PREFIX))
                .group_by(RecordImport.actor)
            ).all()
        )
        rows = session.exec(select(MappingProfile).order_by(col(MappingProfile.name))).all()
    due: list[tuple[dt.datetime | None, str]] = []
    for row in rows:
        raw = (row.definition or {}).get("source_connector")
        if not raw:
            continue
        try:
            connector = SourceConnector.model_validate(raw)
        except ValidationError:
            log.warning("mapping profile %s has a source connector that no longer validates; not pulled", row.name)
            continue
        if not host_allowed(urlsplit(connector.url).hostname, allowed):
            continue
        tried = [moment for moment in (row.last_pulled_at, attempts.get(pull_actor(row.name))) if moment is not None]
        last = max(tried, default=None)
        if last is None or last + dt.timedelta(minutes=connector.every_minutes) <= now:
            due.append((last, row.name))
    # The longest-waiting first; never pulled before all.
    due.sort(key=lambda item: (item[0] is not None, item[0] or now, item[1]))
    return [name for _, name in due]


def next_pull_at(session: Session, name: str, connector: SourceConnector) -> dt.datetime | None:
    row = session.get(MappingProfile, name)
    latest = select(func.max(RecordImport.created_at)).where(RecordImport.actor == pull_actor(name))
    attempt = session.exec(latest).one()
    tried = [moment for moment in (row.last_pulled_at if row else None, attempt) if moment is not None]
    if not tried:
        return None
    return max(tried) + dt.timedelta(minutes=connector.every_minutes)


def _open_maybe_gzip(path: Path) -> BinaryIO:
    handle = path.open("rb")
    if handle.read(2) == _GZIP_MAGIC:
        handle.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    handle.seek(0)
    return handle


def _open311_page(page: Path, out: BinaryIO, cursor: _Cursor) -> tuple[int, object]:
    """Copy one GeoReport v2 answer (a JSON array) into the NDJSON spool; its count and its first request's id."""
    try:
        with _open_maybe_gzip(page) as handle:
            document = json.load(handle)
    except (ValueError, OSError, EOFError) as exc:
        raise PullFailed(f"The source's answer is not JSON: {exc}.") from None
    if not isinstance(document, list):
        raise PullFailed("The source answered JSON that is not an array of service requests (Open311 GeoReport v2).")
    first = None
    for n, request in enumerate(document):
        # Anything that is not an object still goes to the loader, which lists it as a rejected row.
        out.write(json.dumps(request).encode() + b"\n")
        if isinstance(request, dict):
            if n == 0:
                first = request.get("service_request_id")
            cursor.offer(request.get("updated_datetime") or request.get("requested_datetime"))
    return len(document), first


def _blank(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
        return not head.strip() and not handle.read(1)


def _rows_cursor(path: Path, plan: _Plan, cursor: _Cursor) -> None:
    """For CSV and NDJSON sources, which have no standard change-time column: the latest open or close time among the
    records read. A record changed after the last pull changed after those too, so asking for changes since it
    misses nothing; it may ask again for a few that did not change, which the upsert leaves alone."""
    with path.open("rb") as handle:
        for item in read_rows(handle, plan.load.profile, format=plan.load.media_format):
            if isinstance(item, Row):
                cursor.offer(None, item.opened_at)
                if item.closed_at is not None:
                    cursor.offer(None, item.closed_at)


class Puller:
    """Pulls a profile's source now (the API) or when it is due (the scheduler), one pull per profile at a time."""

    def __init__(self, db: Database, settings: Settings, http: httpx.AsyncClient) -> None:
        self.db = db
        self.settings = settings
        self.http = http
        self.spool = settings.spool_dir / "pulls"
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, db: Database, settings: Settings) -> AsyncIterator[Puller]:
        """The puller with its outbound client and, when any host is allowed, its scheduler."""
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(settings.http_timeout_seconds),
            # Redirects are followed by hand, so that each hop's host is checked against the allow-list.
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        ) as http:
            puller = cls(db, settings, http)
            scheduler = asyncio.create_task(puller._schedule()) if settings.pull_allowed_hosts else None
            try:
                yield puller
            finally:
                if scheduler is not None:
                    scheduler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await scheduler

    # --- the scheduler ------------------------------------------------------------------------------------------

    async def _schedule(self) -> None:
        while True:
            await asyncio.sleep(self.settings.pull_poll_seconds)
            try:
                await self.pull_due()
            except Exception:  # noqa: BLE001 - the loop must outlive any one bad round
                log.exception("pull round failed")

    async def pull_due(self) -> list[RecordImport]:
        """One round: every due profile, one after the other. A profile that cannot be pulled does not stop the
        others."""
        names = await run_in_threadpool(due_profiles, self.db, self.settings.pull_allowed_hosts, utcnow())
        jobs = []
        for name in names:
            try:
                jobs.append(await self.pull(name))
            except CityStatError as exc:
                log.warning("mapping profile %s was not pulled: %s", name, exc.detail)
            except Exception:  # noqa: BLE001 - one profile's failure is logged, the round goes on
                log.exception("pull of mapping profile %s failed", name)
        return jobs

    # --- one pull -----------------------------------------------------------------------------------------------

    async def pull(self, name: str, *, full: bool = False, principal: Principal | None = None) -> RecordImport:
        """Fetch what changed since the last pull (everything when `full`) and load it; the job, done or failed.
        Refuses (NotFound, Unprocessable) before any job exists when the profile cannot be pulled at all."""
        async with self._locks.setdefault(name, asyncio.Lock()):
            plan = await run_in_threadpool(self._start, name, full, principal)
            try:
                return await self._run(plan)
            except BaseException:
                # Shutting down, or a bug: the job must not stay "running" for ever.
                self._abandon(plan.load.job_id)
                raise
            finally:
                for path in plan.files:
                    path.unlink(missing_ok=True)

    def _start(self, name: str, full: bool, principal: Principal | None) -> _Plan:
        with self.db.session() as session:
            row = session.get(MappingProfile, name)
            if row is None and name not in BUILTIN_PROFILES:
                raise NotFound(f"There is no mapping profile '{name}'.")
            definition = BUILTIN_PROFILES[name] if row is None else ProfileDefinition.model_validate(row.definition)
            connector = definition.source_connector
            if connector is None:
                raise Unprocessable(
                    f"The mapping profile '{name}' names no source to pull from: define one of your own with a "
                    "source_connector (kind, url, every_minutes).",
                    errors=[{"field": "definition.source_connector", "reason": "the profile has none"}],
                )
            check_pull_source(connector, self.settings.pull_allowed_hosts)
            from services.metrics.records.service import get_dataset  # service imports this module's checks

            dataset_fields = get_dataset(session, definition.dataset).fields
            since = None if full or connector.since_param is None or row is None else row.pull_cursor
            job_id = _job_id(name, utcnow())
            if principal is not None:
                audit(session, principal, "mapping_profile.pull", subject=name, detail={"job": job_id, "full": full})
        load = LoadRequest(
            job_id=job_id,
            dataset=definition.dataset,
            mapping=name,
            profile=definition,
            department=definition.department,
            create_departments=False,
            actor=pull_actor(name),
            # An Open311 answer is rewritten as NDJSON (one line per request), so that pages add up to one file.
            media_format="ndjson" if connector.kind == "open311" else connector.kind,
            dataset_fields=dataset_fields,
        )
        start_job(self.db, load, None)
        parse = time_parser(definition.timestamp_formats, ZoneInfo(definition.time_zone))
        return _Plan(name, load, connector, since, parse)

    async def _run(self, plan: _Plan) -> RecordImport:
        job_id = plan.load.job_id
        self.spool.mkdir(parents=True, exist_ok=True)
        try:
            fetched = await self._fetch(plan)
        except PullFailed as exc:
            log.warning("pull %s failed: %s", job_id, exc)
            return await run_in_threadpool(finish_job, self.db, job_id, error=str(exc))
        if fetched.records == 0:
            # Nothing changed since the last pull: a pull that worked, with nothing to load.
            job = await run_in_threadpool(finish_job, self.db, job_id)
            await run_in_threadpool(self._advance, plan.name, None)
            return job
        try:
            job = await run_in_threadpool(load_spooled_file, self.db, plan.load, fetched.path, self.settings)
        except Exception:  # noqa: BLE001 - the loader logged it and failed the job; the job says so
            return await run_in_threadpool(self._job, job_id)
        if job.status != ImportStatus.done:
            return job
        if plan.connector.kind != "open311":
            await run_in_threadpool(_rows_cursor, fetched.path, plan, fetched.cursor)
        await run_in_threadpool(self._advance, plan.name, fetched.cursor)
        return job

    async def _fetch(self, plan: _Plan) -> _Fetched:
        connector = plan.connector
        params = dict(connector.params)
        if plan.since is not None and connector.since_param is not None:
            params[connector.since_param] = plan.since
        target = self.spool / f"{plan.load.job_id}.{'ndjson' if connector.kind == 'open311' else connector.kind}"
        plan.files.append(target)
        budget = self.settings.max_bulk_upload_bytes
        if connector.kind != "open311":
            _, server_now = await self._download(connector.url, params, target, _ACCEPT[connector.kind], budget)
            cursor = _Cursor(plan.parse, limit=server_now or utcnow())
            return _Fetched(target, 0 if await run_in_threadpool(_blank, target) else None, cursor)
        # GeoReport v2 servers that page take `page` and `page_size`: a connector whose params give a page_size
        # is read page by page until a short one.
        page_size = _page_size(params)
        page_file = self.spool / f"{plan.load.job_id}.page.json"
        plan.files.append(page_file)
        cursor = _Cursor(plan.parse)
        records = 0
        previous_first: object = None
        with target.open("wb") as out:
            for page in range(1, MAX_PAGES + 1):
                if page_size is not None:
                    params[PAGE] = str(page)
                size, server_now = await self._download(connector.url, params, page_file, _ACCEPT["open311"], budget)
                budget -= size
                cursor.limit = server_now or utcnow()
                count, first = await run_in_threadpool(_open311_page, page_file, out, cursor)
                records += count
                if page_size is None or count < page_size:
                    break
                if page > 1 and first is not None and first == previous_first:
                    raise PullFailed(
                        f"Page {page} began with the same request as page {page - 1}: the source does not page "
                        f"with '{PAGE}'. Remove '{PAGE_SIZE}' from the connector's params to fetch in one request."
                    )
                previous_first = first
            else:
                raise PullFailed(f"The source was still answering full pages after {MAX_PAGES} pages.")
            out.flush()
        return _Fetched(target, records, cursor)

    async def _download(
        self, url: str, params: dict[str, str], path: Path, accept: str, budget: int
    ) -> tuple[int, dt.datetime | None]:
        """Stream one answer to `path`: its size and the server's clock. Each redirect's host is checked."""
        allowed = self.settings.pull_allowed_hosts
        request = self.http.build_request("GET", httpx.URL(url).copy_merge_params(params), headers={"Accept": accept})
        for _ in range(MAX_REDIRECTS + 1):
            if not host_allowed(request.url.host, allowed):
                raise PullFailed(
                    f"{_where(url)} redirected to the host '{request.url.host}', which is not in the "
                    "pull_allowed_hosts setting: not followed."
                )
            try:
                response = await self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise PullFailed(f"{_where(request.url)} could not be reached: {_describe(exc)}.") from None
            try:
                if response.next_request is not None:
                    request = response.next_request
                    continue
                if response.status_code != 200:
                    raise PullFailed(
                        f"{_where(request.url)} answered {response.status_code} {response.reason_phrase}"
                        f"{await _error_text(response)}."
                    )
                written = 0
                with path.open("wb") as spool:
                    async for chunk in response.aiter_bytes():
                        written += len(chunk)
                        if written > budget:
                            raise PullFailed(
                                f"The answer from {_where(request.url)} is larger than the "
                                f"{self.settings.max_bulk_upload_bytes} bytes a bulk load may be."
                            )
                        spool.write(chunk)
                return written, _server_time(response)
            except httpx.HTTPError as exc:
                raise PullFailed(f"The answer from {_where(request.url)} stopped arriving: {_describe(exc)}.") from None
            finally:
                await response.aclose()
        raise PullFailed(f"{_where(url)} redirected more than {MAX_REDIRECTS} times.")

    # --- bookkeeping --------------------------------------------------------------------------------------------

    def _advance(self, name: str, cursor: _Cursor | None) -> None:
        """After a pull that worked: it happened now, and the cursor moves on to the latest change it saw (never
        back: a `full` pull, or a source that ignored the since parameter, sends older changes too)."""
        with self.db.session() as session:
            row = session.get(MappingProfile, name, with_for_update=not self.db.is_sqlite)
            if row is None:  # removed while it was being pulled
                return
            if cursor is not None and cursor.instant is not None:
                before = _instant(row.pull_cursor, cursor.parse)
                if before is None or cursor.instant > before:
                    row.pull_cursor = cursor.text
            row.last_pulled_at = utcnow()
            session.add(row)

    def _job(self, job_id: str) -> RecordImport:
        with self.db.session(write=False) as session:
            return session.get(RecordImport, job_id)

    def _abandon(self, job_id: str) -> None:
        try:
            with self.db.session() as session:
                job = session.get(RecordImport, job_id)
                if job is not None and job.status == ImportStatus.running:
                    job.status = ImportStatus.failed
                    job.error = "The pull stopped before it ended (the service shut down, or an internal error)."
                    job.finished_at = utcnow()
                    session.add(job)
        except Exception:  # noqa: BLE001 - already on the way out with another exception
            log.exception("could not mark pull %s as failed", job_id)


def _page_size(params: dict[str, str]) -> int | None:
    value = params.get(PAGE_SIZE)
    if value is None:
        return None
    try:
        size = int(value)
    except ValueError:
        raise PullFailed(f"The connector's '{PAGE_SIZE}' parameter is not a whole number: {value!r}.") from None
    if size < 1:
        raise PullFailed(f"The connector's '{PAGE_SIZE}' parameter must be at least 1.")
    return size


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _error_text(response: httpx.Response) -> str:
    try:
        head = b""
        async for chunk in response.aiter_bytes():
            head += chunk
            if len(head) >= _ERROR_BODY_CHARS * 4:
                break
    except httpx.HTTPError:
        return ""
    text = " ".join(head.decode("utf-8", errors="replace").split())[:_ERROR_BODY_CHARS]
    return f": {text}" if text else ""
