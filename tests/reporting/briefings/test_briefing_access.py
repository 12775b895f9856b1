"""Who prepares briefings and who reads them: the performance office prepares and publishes; other staff read the
published ones that concern their department, and the citywide ones."""

from __future__ import annotations

from tests.factories import sign_in
from tests.reporting.briefings.briefing_city import make_briefing_city, wait_built

BRIEFINGS = "/api/reporting/briefings"


def _published(client, csrf, body: dict) -> int:
    created = client.post(BRIEFINGS, json=body, headers=csrf)
    assert created.status_code == 202, created.text
    briefing_id = created.json()["id"]
    assert wait_built(client, briefing_id)["build"]["status"] == "ready"
    assert client.post(f"{BRIEFINGS}/{briefing_id}/publish", headers=csrf).status_code == 200
    return briefing_id


def test_liaisons_read_published_briefings_of_their_department_and_never_drafts(client, metrics_db, ingest_db):
    make_briefing_city(client, metrics_db, ingest_db)
    csrf = sign_in(client, "ana")
    watershed = _published(client, csrf, {"kind": "roundtable", "period": "2017-06", "departments": ["DWM"]})
    memo = _published(client, csrf, {"kind": "memo", "period": "2017-06"})
    draft = client.post(
        BRIEFINGS, json={"kind": "roundtable", "period": "2017-06", "departments": ["DPW"]}, headers=csrf
    ).json()["id"]
    wait_built(client, draft)
    assert {b["id"] for b in client.get(BRIEFINGS).json()["items"]} == {watershed, memo, draft}

    lee = sign_in(client, "lee")  # Public Works
    seen = client.get(BRIEFINGS).json()
    assert {b["id"] for b in seen["items"]} == {memo} and seen["total"] == 1
    assert client.get(f"{BRIEFINGS}/{watershed}").status_code == 404
    assert client.get(f"{BRIEFINGS}/{watershed}/html").status_code == 404
    assert client.get(f"{BRIEFINGS}/{draft}").status_code == 404
    assert client.get(f"{BRIEFINGS}/{memo}/html").status_code == 200
    refused = client.post(BRIEFINGS, json={"kind": "memo", "period": "2017-05"}, headers=lee)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"{BRIEFINGS}/suggestions", params={"period": "2017-06"}).status_code == 403

    sign_in(client, "wes")  # Watershed
    assert {b["id"] for b in client.get(BRIEFINGS).json()["items"]} == {watershed, memo}
    assert client.get(f"{BRIEFINGS}/{watershed}/pdf").status_code == 200

    client.cookies.clear()
    for path in (BRIEFINGS, f"{BRIEFINGS}/{memo}", f"{BRIEFINGS}/{memo}/html", f"{BRIEFINGS}/{memo}/pdf"):
        assert client.get(path).status_code == 401, path
