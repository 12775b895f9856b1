"""Annotations on a metric and period: notes by the office and the department, threads of replies, questions
the department answers, and what the public sees of them."""

import pytest
from sqlmodel import func, select

from services.common.auth import SESSION_COOKIE, Principal, PrincipalKind, Role
from services.metrics.annotations.models import Annotation
from services.metrics.annotations.schemas import AnnotationCreate
from services.metrics.annotations.service import annotations_by_period, create_annotation, reply
from services.metrics.audit.models import AuditEvent
from services.metrics.definitions.models import Metric
from tests.factories import make_department, make_metric, make_user, sign_in

M = "/api/metrics"
NOTES = f"{M}/metrics/dpa.pub/annotations"
PROBLEM = "application/problem+json"
USERS = {
    "ana": ("analyst", None),
    "adm": ("admin", None),
    "lia": ("liaison", "DPA"),
    "hed": ("head", "DPA"),
    "vic": ("viewer", "DPA"),
    "city": ("viewer", None),
    "lib": ("liaison", "DPB"),
}


@pytest.fixture
def city(metrics_db):
    with metrics_db.session() as s:
        a, b = make_department(s, "DPA", "Department A"), make_department(s, "DPB", "Department B")
        make_metric(s, a, key="dpa.pub")
        make_metric(s, a, key="dpa.hidden", is_published=False)
        make_metric(s, a, key="dpa.quarterly", frequency="quarter")
        make_metric(s, b, key="dpb.pub")
    return metrics_db


class Api:
    """The test client acting as one of USERS (or None, anonymous), each made and signed in on first use."""

    def __init__(self, client, ingest_db):
        self.client, self.ingest_db = client, ingest_db
        self.signed: dict[str, dict[str, str]] = {}

    def headers(self, who: str | None) -> dict[str, str]:
        self.client.cookies.clear()
        if who is None:
            return {}
        if who not in self.signed:
            make_user(self.ingest_db, who, *USERS[who])
            csrf = sign_in(self.client, who)
            self.signed[who] = {"Cookie": f"{SESSION_COOKIE}={self.client.cookies[SESSION_COOKIE]}", **csrf}
            self.client.cookies.clear()
        return self.signed[who]

    def note(self, who, period="2017-06", kind="context", body="A storm closed two yards.", url=NOTES):
        return self.post(who, url, {"period": period, "kind": kind, "body": body})

    def created(self, who, **note):
        response = self.note(who, **note)
        assert response.status_code == 201, response.text
        return response.json()

    def reply(self, who, note_id, body, key="dpa.pub"):
        return self.post(who, f"{M}/metrics/{key}/annotations/{note_id}/replies", {"body": body})

    def post(self, who, url, body):
        return self.client.post(url, json=body, headers=self.headers(who))

    def get(self, who, url=NOTES, **params):
        return self.client.get(url, params=params, headers=self.headers(who))

    def list(self, who, url=NOTES, **params):
        response = self.get(who, url, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(client, ingest_db, city) -> Api:
    return Api(client, ingest_db)


def _count(db, model, *where) -> int:
    with db.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_the_office_and_the_departments_staff_annotate_and_nobody_else(api, city):
    expected = {"ana": 201, "adm": 201, "lia": 201, "hed": 201, "vic": 403, "city": 403, "lib": 403, None: 401}
    got = {}
    for who in expected:
        before = _count(city, Annotation)
        response = api.note(who, body=f"note by {who}")
        got[who] = response.status_code
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM
            assert _count(city, Annotation) == before, who
    assert got == expected

    note = api.note("lia", period="2017-05", kind="data_quality", body="May excludes the west yard.").json()
    assert note | {"id": None, "at": None} == {
        "id": None, "period": "2017-05", "kind": "data_quality", "body": "May excludes the west yard.",
        "actor": note["actor"], "actor_name": "Lia", "at": None, "answered_at": None, "replies": [],
    }
    assert note["actor"].startswith("user:")
    # Another department's liaison cannot tell an unpublished metric from a missing one.
    assert api.note("lib", url=f"{M}/metrics/dpa.hidden/annotations").status_code == 404
    assert api.note("lia", url=f"{M}/metrics/dpa.hidden/annotations").status_code == 201


def test_only_the_performance_office_asks_questions(api, city):
    assert api.note("lia", kind="question", body="Why?").status_code == 403
    assert api.note("hed", kind="question", body="Why?").status_code == 403
    assert api.note("ana", kind="question", body="Why did June drop?").status_code == 201
    assert _count(city, Annotation) == 1


def test_replies_nest_under_their_note_oldest_first_and_a_reply_to_a_reply_joins_the_thread(api, city):
    question = api.created("ana", kind="question", body="Why did June drop?")
    first = api.reply("lia", question["id"], "Two crews were out.")
    assert first.status_code == 201, first.text
    first_reply_id = first.json()["replies"][0]["id"]
    second = api.reply("ana", first_reply_id, "Back in July?")
    assert second.status_code == 201, second.text
    third = api.reply("hed", question["id"], "Yes, from the 3rd.")
    thread_bodies = ["Two crews were out.", "Back in July?", "Yes, from the 3rd."]
    assert [r["body"] for r in third.json()["replies"]] == thread_bodies
    with city.session() as s:
        parents = s.exec(select(Annotation.parent_id).where(Annotation.parent_id.is_not(None))).all()
    assert parents == [question["id"]] * 3

    page = api.list("vic")
    assert page["total"] == 1
    (thread,) = page["items"]
    assert thread["id"] == question["id"]
    assert [r["body"] for r in thread["replies"]] == thread_bodies
    assert [r["actor_name"] for r in thread["replies"]] == ["Lia", "Ana", "Hed"]


def test_the_departments_reply_answers_a_question_and_the_offices_own_reply_does_not(api, city):
    question = api.created("ana", kind="question", body="Why did June drop?")
    context = api.created("ana", kind="context", body="New CRM from June.")

    follow_up = api.reply("ana", question["id"], "Anyone?").json()
    assert follow_up["answered_at"] is None
    assert api.reply("lia", context["id"], "Thanks").json()["answered_at"] is None

    todo = api.list("lia", f"{M}/annotations", kind="question", open="true")
    assert [(q["id"], q["metric"], q["department"]) for q in todo["items"]] == [(question["id"], "dpa.pub", "DPA")]
    assert todo["items"][0]["replies"][0]["body"] == "Anyone?"

    answered = api.reply("lia", question["id"], "Two crews were out.").json()
    assert answered["answered_at"] is not None
    assert api.list("lia", f"{M}/annotations", kind="question", open="true")["total"] == 0
    assert [q["id"] for q in api.list("ana", f"{M}/annotations", open="false")["items"]] == [question["id"]]
    # A later reply does not move the answer's time.
    again = api.reply("hed", question["id"], "And a vacancy.").json()
    assert again["answered_at"] == answered["answered_at"]

    with city.session() as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action.like("annotation.%")).order_by(AuditEvent.id))
        trail = [(e.action, e.department_code, e.subject, e.detail["answered"] if e.detail.get("thread") else None)
                 for e in events]
    assert trail == [
        ("annotation.created", "DPA", "dpa.pub", None),
        ("annotation.created", "DPA", "dpa.pub", None),
        ("annotation.replied", "DPA", "dpa.pub", False),
        ("annotation.replied", "DPA", "dpa.pub", False),
        ("annotation.replied", "DPA", "dpa.pub", True),
        ("annotation.replied", "DPA", "dpa.pub", False),
    ]


def test_questions_and_their_threads_are_for_the_departments_readers_only(api, city):
    for kind in ("context", "data_quality", "action", "question"):
        note = api.created("ana", kind=kind, body=f"a {kind} note")
        assert api.reply("lia", note["id"], f"reply to {kind}").status_code == 201

    def seen(who, **params):
        page = api.list(who, **params)
        assert page["total"] == len(page["items"])
        return sorted(item["kind"] for item in page["items"]), page

    public = ["action", "context", "data_quality"]
    for outsider in (None, "lib"):
        kinds, page = seen(outsider)
        assert kinds == public, outsider
        assert "reply to question" not in str(page) and "a question note" not in str(page)
        assert seen(outsider, kind="question")[0] == []
    for insider in ("vic", "lia", "hed", "city", "ana", "adm"):
        assert seen(insider)[0] == sorted([*public, "question"]), insider
    assert seen(None, kind="action")[0] == ["action"]


def test_another_departments_liaison_can_neither_write_nor_see_its_questions(api, city):
    question = api.created("ana", kind="question", body="Why did June drop?")
    b_question = api.created("ana", kind="question", body="B's question", url=f"{M}/metrics/dpb.pub/annotations")

    assert api.reply("lib", question["id"], "Not ours").status_code == 403
    assert api.reply("vic", question["id"], "A viewer").status_code == 403
    assert api.note("lib").status_code == 403
    assert _count(city, Annotation) == 2

    assert api.list("lib", f"{M}/annotations", department="DPA")["items"] == []
    mine = api.list("lib", f"{M}/annotations")
    assert [q["id"] for q in mine["items"]] == [b_question["id"]]
    everyone = api.list("ana", f"{M}/annotations", kind="question")
    assert [q["id"] for q in everyone["items"]] == [question["id"], b_question["id"]]
    assert [q["id"] for q in api.list("city", f"{M}/annotations", department="DPB")["items"]] == [
        b_question["id"]
    ]
    # The department's own viewer sees its questions, though it cannot answer them.
    assert [q["id"] for q in api.list("vic", f"{M}/annotations")["items"]] == [question["id"]]


def test_the_staff_list_needs_a_login_and_a_real_department(api, city):
    response = api.get(None, f"{M}/annotations")
    assert response.status_code == 401 and response.headers["content-type"] == PROBLEM
    assert api.get("ana", f"{M}/annotations", department="NOPE").status_code == 404


def test_a_period_must_be_of_the_metrics_frequency(api, city):
    response = api.note("ana", period="2017-Q2")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == ["period"]
    assert "2017-06" in response.json()["detail"]
    quarterly = f"{M}/metrics/dpa.quarterly/annotations"
    assert api.note("ana", period="2017-06", url=quarterly).status_code == 422
    assert api.note("ana", period="2017-Q2", url=quarterly).status_code == 201
    assert _count(city, Annotation) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"period": "2017-13", "kind": "context", "body": "x"},
        {"period": "2017-06", "kind": "gossip", "body": "x"},
        {"period": "2017-06", "kind": "context", "body": ""},
        {"period": "2017-06", "kind": "context", "body": "x" * 10_001},
        {"period": "2017-06", "kind": "context", "body": "a\x00b"},
        {"period": "2017-06", "kind": "context", "body": "x", "parent_id": 1},
        {"period": "2017-06", "kind": "context"},
    ],
)
def test_bad_notes_are_refused_and_change_nothing(api, city, body):
    response = api.post("ana", NOTES, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert _count(city, Annotation) == 0


def test_a_lone_surrogate_is_refused(api, city):
    raw = b'{"period": "2017-06", "kind": "context", "body": "half \\ud800 a pair"}'
    headers = {**api.headers("ana"), "Content-Type": "application/json"}
    response = api.client.post(NOTES, content=raw, headers=headers)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM
    assert _count(city, Annotation) == 0


def test_the_longest_body_is_kept_whole(api, city):
    note = api.created("ana", body="é" * 10_000)
    assert len(api.list(None)["items"][0]["body"]) == 10_000 == len(note["body"])


def test_unknown_metrics_and_notes_are_not_found(api, city):
    for who in (None, "ana"):
        response = api.get(who, f"{M}/metrics/dpa.absent/annotations")
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM
    assert api.note("ana", url=f"{M}/metrics/dpa.absent/annotations").status_code == 404
    # Anonymous readers do not see an unpublished metric's notes either.
    assert api.get(None, f"{M}/metrics/dpa.hidden/annotations").status_code == 404

    note = api.created("ana")
    assert api.reply("ana", note["id"] + 100, "Lost").status_code == 404
    # A note is answered under its own metric only.
    assert api.reply("ana", note["id"], "Elsewhere", key="dpb.pub").status_code == 404
    assert api.reply("ana", note["id"], "Elsewhere", key="dpa.absent").status_code == 404
    assert _count(city, Annotation) == 1


def test_the_list_reads_a_period_range_as_the_series_does(api, city):
    for period in ("2016-12", "2017-01", "2017-05", "2017-06", "2018-01"):
        api.created("ana", period=period, body=f"note {period}")

    def periods(**params):
        return [item["period"] for item in api.list(None, **params)["items"]]

    assert periods() == ["2016-12", "2017-01", "2017-05", "2017-06", "2018-01"]
    assert periods(start="2017-05", end="2017-06") == ["2017-05", "2017-06"]
    assert periods(start="2017", end="2017") == ["2017-01", "2017-05", "2017-06"]
    assert periods(start="2017-Q2") == ["2017-05", "2017-06", "2018-01"]
    assert periods(end="2017-01") == ["2016-12", "2017-01"]
    assert periods(start="2018-02") == []
    page = api.list(None, limit=2, offset=1)
    assert page["total"] == 5 and [i["period"] for i in page["items"]] == ["2017-01", "2017-05"]


def test_a_week_bound_starts_the_range_at_the_first_whole_period(api, city):
    for period in ("2017-05", "2017-06"):
        api.created("ana", period=period)
    # 2017-W22 starts on Monday 29 May: May began before it, June after.
    assert [i["period"] for i in api.list(None, start="2017-W22")["items"]] == ["2017-06"]
    assert [i["period"] for i in api.list(None, end="2017-W22")["items"]] == ["2017-05", "2017-06"]


# The series' companion: annotations grouped by period.

ANALYST = Principal(kind=PrincipalKind.user, id="1", name="Ana", role=Role.analyst, csrf="x")
LIAISON = Principal(kind=PrincipalKind.user, id="2", name="Lia", role=Role.liaison, department="DPA", csrf="x")
OUTSIDER = Principal(kind=PrincipalKind.user, id="3", name="Lib", role=Role.liaison, department="DPB", csrf="x")


def _write(metrics_db, key, period, kind, body, replies=()):
    with metrics_db.session() as s:
        note = create_annotation(s, key, AnnotationCreate(period=period, kind=kind, body=body), ANALYST)
        for who, text in replies:
            reply(s, key, note.id, text, who)
        return note.id


def _metric_id(metrics_db, key):
    with metrics_db.session() as s:
        return s.exec(select(Metric.id).where(Metric.key == key)).one()


def test_annotations_by_period_groups_threads_under_their_periods(city):
    _write(city, "dpa.pub", "2017-06", "context", "June context", [(LIAISON, "June reply")])
    _write(city, "dpa.pub", "2017-06", "question", "June question", [(LIAISON, "June answer")])
    _write(city, "dpa.pub", "2017-04", "action", "April action")
    _write(city, "dpa.pub", "2017-05", "data_quality", "May caveat")
    _write(city, "dpb.pub", "2017-06", "context", "B's note")
    metric_id = _metric_id(city, "dpa.pub")

    with city.session() as s:
        grouped = annotations_by_period(s, metric_id, ["2017-05", "2017-06", "2017-07"], LIAISON)
        assert list(grouped) == ["2017-05", "2017-06"]
        assert [n.body for n in grouped["2017-05"]] == ["May caveat"]
        june = grouped["2017-06"]
        assert [(n.kind, n.body) for n in june] == [("context", "June context"), ("question", "June question")]
        assert [r.body for r in june[0].replies] == ["June reply"]
        assert [r.body for r in june[1].replies] == ["June answer"]
        assert june[1].answered_at is not None and june[0].answered_at is None

        everything = annotations_by_period(s, metric_id, None, ANALYST)
        assert sorted(everything) == ["2017-04", "2017-05", "2017-06"]
        assert annotations_by_period(s, metric_id, [], ANALYST) == {}

        for outsider in (None, OUTSIDER):
            public = annotations_by_period(s, metric_id, None, outsider)
            assert sorted(public) == ["2017-04", "2017-05", "2017-06"]
            assert [n.body for n in public["2017-06"]] == ["June context"]
            assert [r.body for r in public["2017-06"][0].replies] == ["June reply"]


def test_annotations_by_period_hides_an_unpublished_metrics_notes_from_who_may_not_read_it(city):
    _write(city, "dpa.hidden", "2017-06", "context", "Hidden context")
    metric_id = _metric_id(city, "dpa.hidden")
    with city.session() as s:
        assert annotations_by_period(s, metric_id, None, None) == {}
        assert annotations_by_period(s, metric_id, None, OUTSIDER) == {}
        assert [n.body for n in annotations_by_period(s, metric_id, None, LIAISON)["2017-06"]] == ["Hidden context"]
        assert annotations_by_period(s, 10**6, None, ANALYST) == {}
