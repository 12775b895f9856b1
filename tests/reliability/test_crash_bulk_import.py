"""kill -9 of ingest at random moments of a bulk raw-record import (while the file is uploaded, between its last
byte and the answer or just after, while metrics loads it chunk by chunk), each followed by a restart, and a client
that resumes as a department's system would: the same upload again under the same Idempotency-Key while it has no
answer, else it keeps following its job. Afterwards the records stored are the file's, each once, and every
service database passes its integrity check.

Full size (make reliability): CITYSTAT_CRASH_RECORDS=1000000 CITYSTAT_CRASH_KILLS=20. make test runs 20,000 records
and 3 kills, one in each part of the import. A second test holds the race those kills found (a hand-off sent again
while metrics still loaded the first) to a few thousand records, whatever the moments a seed picks."""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from services.common.db import Database
from tests.conftest import INTERNAL_TOKEN, SEED, DatabaseSet, serving
from tests.factories import make_department, make_token
from tests.reliability.figures import report
from tests.reliability.harness import ServiceProcesses, running_services
from tests.reliability.stored_records import checksum, integrity_problems, jobs_stored, stored_rows

RECORDS = int(os.environ.get("CITYSTAT_CRASH_RECORDS", "20000"))
KILLS = int(os.environ.get("CITYSTAT_CRASH_KILLS", "3"))
# A killed holder's upload is taken back after this lease (30 s by default); shorter here so that twenty kills do
# not spend ten minutes waiting. What it proves does not depend on the length.
LEASE_SECONDS = 2.0
DEPARTMENT = "DPW"
COLUMNS = ("id", "department", "category", "status", "opened_at", "closed_at", "due_at", "org_unit", "district",
           "latitude", "longitude", "source")  # fmt: skip
CATEGORIES = (("Pothole", 3), ("Streetlight outage", 10), ("Missed garbage pickup", 2), ("Bulk item pickup", 5),
              ("Graffiti removal", 7), ("Dead animal removal", 1))  # fmt: skip
UPLOAD_PIECE = 64 * 1024
# The moments a kill may be planned at: a share of the file sent; seconds after its last byte; a share of metrics'
# progress through the hand-off.
PHASES = ("upload", "answer", "handoff")
ANSWER_WINDOW = 0.5 if RECORDS < 200_000 else 3.0
# How often the client reads its job: often while a kill waits for metrics' progress, else as a system would.
POLL_SECONDS = (0.05, 0.25)
# A safety net only: restarts on a busy machine take tens of seconds each.
DEADLINE = 300 + RECORDS / 500 + 60 * KILLS


# ---------------------------------------------------------------------------------------------------------------
# The source: N service requests, the same for a given seed
# ---------------------------------------------------------------------------------------------------------------


def write_source(path: Path, records: int, seed: int) -> None:
    """A department's 311 export in CityStat's own layout: every record its own id, some still open."""
    rng = random.Random(seed)
    start = dt.datetime(2013, 1, 1, tzinfo=dt.UTC)
    span = int((dt.datetime(2017, 6, 30, tzinfo=dt.UTC) - start).total_seconds())
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(COLUMNS)
        for number in range(records):
            category, sla = CATEGORIES[rng.randrange(len(CATEGORIES))]
            opened = start + dt.timedelta(seconds=rng.randrange(span))
            due = opened + dt.timedelta(days=sla)
            closed = opened + dt.timedelta(seconds=rng.randrange(1, sla * 2 * 86400)) if rng.random() < 0.93 else None
            out.writerow((
                f"S{seed % 1000:03d}-{number:08d}", DEPARTMENT, category, "Closed" if closed else "Open",
                opened.isoformat(), closed.isoformat() if closed else "", due.isoformat(), "STREETS",
                str(rng.randint(1, 12)), round(33.65 + rng.random() * 0.25, 6), round(-84.55 + rng.random() * 0.25, 6),
                rng.choice(("phone", "web", "mobile app")),
            ))  # fmt: skip


def source_rows(path: Path) -> Iterator[tuple]:
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            yield (row["id"], row["department"], row["category"], row["status"], row["opened_at"], row["closed_at"],
                   row["due_at"], row["district"])  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# The kills
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KillPoint:
    phase: str
    at: float  # a share of the bytes sent (upload), seconds (answer), or a share of metrics' progress (handoff)

    def describe(self) -> str:
        if self.phase == "upload":
            return f"upload at {self.at:.0%} of the file"
        if self.phase == "answer":
            return f"answer: {self.at * 1000:.0f} ms after the last byte, or once the job is stored or answered"
        return f"hand-off at {self.at:.0%} of metrics' progress"


def plan_kills(kills: int, seed: int) -> list[KillPoint]:
    """`kills` moments from the seed, each part of the import at least once (from three kills on), in the order
    the import passes them."""
    rng = random.Random(seed)
    # Until ingest has stored the job, a kill costs only a restart and the file sent again: most kills fall there.
    # From then on metrics loads the file whatever happens to ingest, and every later kill must land before that
    # load ends: a tenth of them at the answer (each has the client send the file again), a fifth in the hand-off.
    handoff = min(kills, max(1, round(kills * 0.2)))
    answer = min(kills - handoff, max(1, round(kills * 0.1)))
    phases = ["upload"] * (kills - handoff - answer) + ["answer"] * answer + ["handoff"] * handoff
    # Hand-off moments in the first half of the load: past it the job may be done before a restart is over.
    scale = {"upload": 0.98, "answer": ANSWER_WINDOW, "handoff": 0.5}
    points = [KillPoint(phase, rng.uniform(0.02, 1.0) * scale[phase]) for phase in phases]
    return sorted(points, key=lambda p: (PHASES.index(p.phase), p.at))


@dataclass
class Kill:
    point: KillPoint
    seconds: float  # since the import began
    upload_status: str | None  # the upload job's status in ingest's database at the kill (None: not stored)
    answered: bool  # whether the client had its upload answered
    restart_seconds: float = 0.0

    def describe(self) -> str:
        return (
            f"{self.seconds:6.1f} s  {self.point.describe()}: job {self.upload_status or 'not stored'}, "
            f"{'answered' if self.answered else 'not answered'}; restarted in {self.restart_seconds:.1f} s"
        )


class Killer:
    """Kills ingest at the planned moments and starts it again, one kill at a time.

    upload: from the client's body, once that share of the file is sent. answer: from the file's last byte, after
    the planned delay or as soon as ingest has stored the job or its answer arrives, whichever comes first; an
    answer that arrives with the kill is dropped unread, as a crash a moment earlier would have lost it (so every
    such kill leaves the client without an answer, to send the file again). handoff: once the job is loading and
    metrics' progress (done/total of the file, as the job shows it) has reached the planned share."""

    def __init__(self, services: ServiceProcesses, dbs: DatabaseSet, plan: list[KillPoint]) -> None:
        self.services = services
        self.ingest_db = Database(dbs.urls["ingest"])
        self.pending = list(plan)
        self.done: list[Kill] = []
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.answered = False
        self.watchers: list[threading.Thread] = []
        # Set when the answer to the upload the current watcher waits on arrives.
        self.answer: threading.Event | None = None

    def next(self, phase: str) -> KillPoint | None:
        return self.pending[0] if self.pending and self.pending[0].phase == phase else None

    def fire(self, point: KillPoint) -> None:
        with self.lock:
            if not self.pending or self.pending[0] is not point:
                return
            self.pending.pop(0)
            self.services.kill("ingest")
            at = time.monotonic()
            kill = Kill(point, at - self.started, self._job_status(), self.answered)
            self.services.start("ingest")
            kill.restart_seconds = time.monotonic() - at
            self.done.append(kill)

    def last_byte_sent(self) -> None:
        point = self.next("answer")
        if point is not None and not self.answered:
            self.answer = threading.Event()
            watcher = threading.Thread(target=self._watch_answer, args=(point, self.answer), daemon=True)
            self.watchers.append(watcher)
            watcher.start()

    def _watch_answer(self, point: KillPoint, answer: threading.Event) -> None:
        deadline = time.monotonic() + point.at
        # A replay finds its job stored already: for it only the delay and the answer count.
        stored_before = self._job_status() is not None
        while time.monotonic() < deadline and not answer.is_set():
            if not stored_before and self._job_status() is not None:
                break
            time.sleep(0.002)
        self.fire(point)

    def answer_arrived(self) -> bool:
        """Whether the kill planned for this answer takes it: the client then never reads it."""
        answer, self.answer = self.answer, None
        watcher = self.watchers[-1] if self.watchers else None
        if answer is None or watcher is None or not watcher.is_alive():
            return False
        answer.set()
        watcher.join()
        return True

    def on_job(self, job: dict) -> None:
        """The client's latest view of its job."""
        point = self.pending[0] if self.pending else None
        if point is None or job["status"] not in ("spooled", "loading"):
            return
        progress = job["progress"]["done"] / max(1, job["progress"]["total"])
        if (point.phase == "answer" and self.answered) or (
            point.phase == "handoff" and job["status"] == "loading" and progress >= point.at
        ):
            self.fire(point)

    def _job_status(self) -> str | None:
        with self.ingest_db.session(write=False) as session:
            found = session.execute(text("SELECT status FROM record_upload")).scalars().all()
        assert len(found) <= 1, f"ingest holds {len(found)} upload jobs for one file: {found}"
        return found[0] if found else None

    def close(self) -> None:
        for watcher in self.watchers:
            watcher.join(timeout=60)
        self.ingest_db.dispose()


# ---------------------------------------------------------------------------------------------------------------
# The department's system
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class ClientRun:
    uploads: int = 0  # requests sent with the file
    unanswered: int = 0  # of which got no answer (connection cut, or the answer lost with a kill)
    answers_lost: int = 0
    answers: list[tuple[int, str | None]] = field(default_factory=list)  # status, job id
    polls_failed: int = 0
    job: dict | None = None
    error: str | None = None


class DepartmentSystem:
    """Sends the file once under one Idempotency-Key and follows its job; when ingest goes away it does what a
    city department's integration does: retries the same request until it gets an answer."""

    def __init__(self, url: str, token: str, source: Path, killer: Killer) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.source = source
        self.size = source.stat().st_size
        self.killer = killer
        self.key = f"crash-{SEED}-{RECORDS}"
        self.run = ClientRun()

    def _body(self) -> Iterator[bytes]:
        sent = 0
        with self.source.open("rb") as handle:
            while piece := handle.read(UPLOAD_PIECE):
                yield piece
                sent += len(piece)
                point = self.killer.next("upload")
                if point is not None and sent >= point.at * self.size:
                    # The rest goes to a connection the kernel closed with the process: the request fails there.
                    self.killer.fire(point)
        self.killer.last_byte_sent()

    def _upload(self, http: httpx.Client) -> str | None:
        self.run.uploads += 1
        try:
            answer = http.post(
                "/records",
                params={"dataset": "service_requests", "mapping": "citystat", "filename": self.source.name},
                content=self._body(),
                headers={
                    **self.headers,
                    "Content-Type": "text/csv",
                    "Content-Length": str(self.size),
                    "Idempotency-Key": self.key,
                },
            )
        except httpx.TransportError:
            self.run.unanswered += 1
            return None
        if self.killer.answer_arrived():
            self.run.unanswered += 1
            self.run.answers_lost += 1
            return None
        job = answer.json().get("id") if answer.status_code == 202 else None
        self.run.answers.append((answer.status_code, job))
        if answer.status_code >= 500 or answer.status_code == 429:
            return None  # a service's bad moment: the same request again, later
        assert answer.status_code == 202, f"the upload was refused: {answer.status_code} {answer.text[:500]}"
        return job

    def follow(self) -> None:
        try:
            deadline = time.monotonic() + DEADLINE
            with httpx.Client(base_url=self.url, headers=self.headers, timeout=120) as http:
                job_id, failures = None, 0
                while time.monotonic() < deadline:
                    if failures:
                        # Backing off while ingest is away, as an integration does: 0.1 s, doubled up to 2 s.
                        time.sleep(min(2.0, 0.1 * 2 ** (failures - 1)))
                    if job_id is None:
                        job_id = self._upload(http)
                        failures = failures + 1 if job_id is None else 0
                        self.killer.answered = job_id is not None
                        continue
                    try:
                        response = http.get(f"/jobs/{job_id}")
                    except httpx.TransportError:
                        self.run.polls_failed += 1
                        failures += 1
                        continue
                    if response.status_code != 200:
                        assert response.status_code >= 500, f"the job: {response.status_code} {response.text[:500]}"
                        self.run.polls_failed += 1
                        failures += 1
                        continue
                    failures = 0
                    job = response.json()
                    self.killer.on_job(job)
                    if job["status"] in ("done", "failed"):
                        self.run.job = job
                        return
                    time.sleep(POLL_SECONDS[0] if self.killer.pending else POLL_SECONDS[1])
                raise AssertionError(f"the import did not end in {DEADLINE:.0f} s")
        except Exception:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.run.error = traceback.format_exc()


# ---------------------------------------------------------------------------------------------------------------
# What the databases hold
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def dbs(tmp_path):
    databases = DatabaseSet("crash", tmp_path)
    yield databases
    databases.drop()


def test_kill_9_of_ingest_during_a_bulk_import_loses_and_doubles_no_record(dbs, tmp_path):
    began = time.monotonic()
    source = tmp_path / "service-requests.csv"
    write_source(source, RECORDS, SEED)
    expected = checksum(source_rows(source))
    assert expected[0] == RECORDS
    metrics_db, ingest_db = Database(dbs.urls["metrics"]), Database(dbs.urls["ingest"])
    try:
        with metrics_db.session() as session:
            make_department(session, DEPARTMENT, "Public Works")
        token = make_token(ingest_db, DEPARTMENT, "311 system")
    finally:
        metrics_db.dispose()
        ingest_db.dispose()
    plan = plan_kills(KILLS, SEED)
    env = {
        "CITYSTAT_RECORD_HANDOFF_LEASE_SECONDS": str(LEASE_SECONDS),
        # Fifty chunks for metrics to load one by one, as a million records make of the default size.
        "CITYSTAT_BULK_CHUNK_ROWS": str(min(20_000, max(200, RECORDS // 50))),
    }
    with running_services(dbs, tmp_path, **env) as services:
        killer = Killer(services, dbs, plan)
        system = DepartmentSystem(services.url("ingest"), token, source, killer)
        thread = threading.Thread(target=system.follow, daemon=True)
        imported = time.monotonic()
        thread.start()
        thread.join(timeout=DEADLINE + 60)
        killer.close()
        import_seconds = time.monotonic() - imported
        tracebacks = services.tracebacks()
        log_tail = services.log_tail(80)
    run = system.run
    assert not thread.is_alive(), "the client did not stop"
    assert run.error is None, f"{run.error}\n{log_tail}"
    stored, distinct, found = stored_rows(dbs)
    uploads, imports = jobs_stored(dbs)
    problems = integrity_problems(dbs)
    duplicates = stored - distinct
    passed = (
        run.job is not None
        and run.job["status"] == "done"
        and found == expected
        and duplicates == 0
        and len(uploads) == 1
        and len(imports) == 1
        and not problems
        and not tracebacks
        and len(killer.done) == KILLS
    )
    seconds = round(time.monotonic() - began, 1)
    report(
        "crash",
        passed=passed,
        records=RECORDS,
        kills=len(killer.done),
        stored=stored,
        duplicates=duplicates,
        checksum_match=found == expected,
        integrity="ok" if not problems else "; ".join(problems)[:300],
        seconds=seconds,
    )
    kills = "\n".join(f"  {k.describe()}" for k in killer.done)
    print(
        f"\n{RECORDS:,} records, {source.stat().st_size / 1e6:.1f} MB; {len(killer.done)} kills:\n{kills}\n"
        f"import {import_seconds:.1f} s, {run.uploads} upload(s) sent ({run.unanswered} unanswered, of which "
        f"{run.answers_lost} answered as the kill landed), "
        f"{run.polls_failed} failed poll(s); jobs: ingest {uploads}, metrics {imports}; stored {stored} "
        f"(distinct {distinct}), checksum {found[1][:16]} vs {expected[1][:16]}; whole test {seconds} s"
    )
    assert len(killer.done) == KILLS, f"only {len(killer.done)} of {KILLS} kills landed; left: {killer.pending}"
    assert run.job is not None and run.job["status"] == "done", run.job
    assert len(uploads) == 1 and uploads[0][1] == "done", f"ingest's upload jobs: {uploads}"
    assert len(imports) == 1 and imports[0][1] == "done", f"metrics' import jobs: {imports}"
    assert duplicates == 0, f"{duplicates} record id(s) stored more than once"
    assert stored == RECORDS, f"{stored} records stored for {RECORDS} in the file"
    assert found == expected, "the stored records differ from the file's"
    summary = run.job["summary"]
    # Counted afresh by the last hand-off: records an earlier, cut-off one stored count as unchanged, none twice.
    assert summary["rows_read"] == RECORDS and summary["rejected"] == 0, summary
    assert summary["accepted"] + summary["updated"] + summary["unchanged"] == RECORDS, summary
    assert summary["updated"] == 0, summary
    assert not problems, "\n".join(problems)
    assert not tracebacks, "\n\n".join(tracebacks[:3])


# ---------------------------------------------------------------------------------------------------------------
# The race the kills found, on its own
# ---------------------------------------------------------------------------------------------------------------

HANDOFF_RECORDS = 5_000


def _cut_off_post(url: str, path_and_query: str, data: bytes, send: int) -> None:
    """A hand-off whose sender dies after `send` bytes of the file: headers, part of the body, then the socket
    closes."""
    host, port = url.removeprefix("http://").split("/", 1)[0].split(":")
    head = (
        f"POST {path_and_query} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {INTERNAL_TOKEN}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head.encode() + data[:send])


def test_a_hand_off_sent_again_while_metrics_loads_waits_for_that_load(dbs, tmp_path):
    """What the kills found at a million records: ingest, killed while metrics loaded its file, sent the file again
    from the new process; metrics started a second load of the same job beside the first, in the same spool file,
    so the first read a file cut short, and the job ended "done" with most records never loaded. The second
    hand-off must wait for the first load and answer its end."""
    source = tmp_path / "handoff.csv"
    write_source(source, HANDOFF_RECORDS, SEED + 1)
    data = source.read_bytes()
    metrics_db = Database(dbs.urls["metrics"])
    try:
        with metrics_db.session() as session:
            make_department(session, DEPARTMENT, "Public Works")
    finally:
        metrics_db.dispose()
    job_id = "crashrace"
    query = (
        f"id={job_id}&dataset=service_requests&mapping=citystat&actor=token:crash&department={DEPARTMENT}"
        f"&bytes_total={len(data)}"
    )
    # Fifty rows a chunk: the load takes long enough for the second hand-off to arrive in the middle of it. In this
    # process (what is raced is one metrics process's handling of two requests), so no start-up is paid for.
    (tmp_path / "race").mkdir()
    with serving(dbs.settings(tmp_path / "race", bulk_chunk_rows=50)) as base:
        url = f"{base}/api/metrics"
        answers: list[httpx.Response] = []
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}, timeout=300) as http:

            def first() -> None:
                answers.append(http.post(f"/record-imports?{query}", content=data))

            thread = threading.Thread(target=first, daemon=True)
            thread.start()
            deadline = time.monotonic() + 120
            while True:
                state = http.get(f"/record-imports/{job_id}")
                if state.status_code == 200 and state.json()["status"] == "running" and state.json()["done"] > 0:
                    break
                assert time.monotonic() < deadline and thread.is_alive(), "the first load never got going"
                time.sleep(0.005)
            # The second sender dies half-way through the file, as a killed ingest does.
            _cut_off_post(url, f"/api/metrics/record-imports?{query}", data, len(data) // 2)
            thread.join(timeout=300)
            again = http.post(f"/record-imports?{query}", content=data)
    assert len(answers) == 1 and answers[0].status_code == 200, answers and answers[0].text
    loaded = answers[0].json()
    assert (loaded["status"], loaded["rows_read"], loaded["accepted"]) == ("done", HANDOFF_RECORDS, HANDOFF_RECORDS)
    assert loaded["done"] == loaded["total"] == len(data), loaded
    # Sent again once it ended: its answer, nothing loaded twice.
    assert again.status_code == 200 and again.json()["rows_read"] == HANDOFF_RECORDS, again.text
    assert (again.json()["accepted"], again.json()["updated"]) == (HANDOFF_RECORDS, 0), again.text
    stored, distinct, _ = stored_rows(dbs)
    assert stored == distinct == HANDOFF_RECORDS
