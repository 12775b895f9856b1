"""What the stateless and stateful contract runs share: how a generated request is made sensible, and what an
error response must look like."""

from __future__ import annotations

import json
import uuid

from schemathesis.generation import GenerationMode

from services.common.periods import Period, PeriodError

PROBLEM = "application/problem+json"
CSV_MEDIA_TYPES = ("text/csv", "application/csv")


def _backwards_window(query) -> bool:
    start, end = query.get("start"), query.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return False
    try:
        return Period.parse(start).start > Period.parse(end).end
    except PeriodError:
        return False


def make_positive_case_sensible(case, mode: GenerationMode) -> None:
    """Turns the few generated valid requests that the API refuses by design into ones it must accept."""
    if mode is not GenerationMode.POSITIVE:
        return
    if case.headers and "Idempotency-Key" in case.headers:
        # A client sends a new key per distinct request; a reused key with another body is refused by design.
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if case.query and case.query.get("atomic") in (True, "true"):
        # All-or-nothing with generated rows is a 422 by design (unknown metrics); ask for the receipt instead.
        case.query["atomic"] = False
    if case.query and _backwards_window(case.query):
        # A window that ends before it starts is a 422 by design (each bound is valid alone); ask for it in order.
        case.query["start"], case.query["end"] = case.query["end"], case.query["start"]


def error_shape_failure(path: str, status: int, content_type: str, body: bytes) -> str | None:
    """Why an error response breaks the convention (every 4xx/5xx is problem+json), or None when it keeps it."""
    if status < 400:
        return None
    if "/action/{name}" in path and not content_type.startswith(PROBLEM):
        # CKAN's clients read CKAN's error envelope, not problem+json (DESIGN.md: CKAN's action API); only a path
        # that reaches no action (the router's 404) is problem+json.
        try:
            envelope = json.loads(body)
            if envelope["success"] is False and envelope["error"]["__type"]:
                return None
        except (ValueError, KeyError, TypeError):
            pass
        return f"{status} from a CKAN action is neither problem+json nor CKAN's error envelope: {body[:300]!r}"
    if not content_type.startswith(PROBLEM):
        return f"{status} answered as {content_type or 'no content type'}, not {PROBLEM}: {body[:300]!r}"
    try:
        problem = json.loads(body)
    except ValueError:
        return f"{status} problem+json that is not JSON: {body[:300]!r}"
    if not isinstance(problem, dict) or not problem.get("type") or problem.get("status") not in (None, status):
        return f"{status} problem+json without a type, or with another status: {body[:300]!r}"
    return None
