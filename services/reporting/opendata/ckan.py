"""A subset of CKAN's action API (`/api/3/action/{name}` and `/api/action/{name}`) over the public datasets, so that
CKAN clients (ckanapi, CKAN's JavaScript, harvesters) read CityStat like any CKAN site.

Every answer is CKAN's envelope, `{"help", "success", "result"}` or `{"help", "success": false, "error"}` with
CKAN's status codes, never problem+json: CKAN clients read the envelope's `error.__type` to know what failed. So
nothing raised inside these routes reaches the central error handler; it is all turned into an envelope here.

The answers are public and the same whoever asks (metrics is asked with the internal token alone): GETs are rate
limited, cached with an ETag and open to any origin, like the SODA routes. POST is CKAN's other way to call the
same read-only actions (ckanapi's default): rate limited too, but never cached, and without CORS, which CityStat
gives public GETs only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Path, Request, Response

from services.common.errors import BadRequest, CityStatError, NotFound, TooManyRequests, Unprocessable
from services.reporting.opendata.ckan_actions import (
    PACKAGE_ACTIONS,
    ActionCall,
    CkanError,
    bad_request,
    invalid,
    not_a_number,
    not_found,
    shown,
    text_param,
)
from services.reporting.opendata.ckan_datastore import datastore_search
from services.reporting.opendata.formats import soda_number
from services.reporting.opendata.soda import CORS, JSON_MEDIA, cached, open_metrics, public_caller

log = logging.getLogger(__name__)

PREFIXES = ("/api/3/action", "/api/action")
NOT_CACHED = {"Cache-Control": "no-store"}


async def help_show(call: ActionCall) -> str:
    """What an action does and the parameters it reads. Parameters: name."""
    name = text_param(call.data, "name")
    if not name:
        raise invalid("name", "Missing value")
    action = ACTIONS.get(name)
    if action is None:
        raise not_found(f"Action function not found: {shown(name)}")
    return " ".join((action.__doc__ or "").split())


ACTIONS: dict[str, Callable[[ActionCall], Awaitable[Any]]] = {
    **PACKAGE_ACTIONS,
    "datastore_search": datastore_search,
    "help_show": help_show,
}


def ckan_json(value: Any) -> str:
    """JSON with numbers written exactly: metrics' numbers arrive as Decimal, and a float would change a
    17-digit identifier or 0.1 on the way (CKAN's datastore writes PostgreSQL's numerics as they are, too).
    ASCII with escapes, as CKAN writes it: a lone surrogate echoed from a request stays valid JSON."""
    if isinstance(value, Decimal):
        return soda_number(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{ckan_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(ckan_json(item) for item in value) + "]"
    return json.dumps(value, allow_nan=False)


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    # A parameter given once is a string, given more than once a list (as CKAN reads query strings and forms).
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            data[key] = [*data[key], value] if isinstance(data[key], list) else [data[key], value]
        else:
            data[key] = value
    return data


async def request_data(request: Request) -> dict[str, Any]:
    """The action's parameters: the query string of a GET, or a POST's JSON object or form fields."""
    if request.method == "GET":
        return _grouped(list(request.query_params.multi_items()))
    body = await request.body()
    if not body.strip():
        return {}
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        raise bad_request("multipart bodies are not supported; send JSON or a form")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the body is not UTF-8") from None
    if media == "application/x-www-form-urlencoded":
        return _grouped(parse_qsl(text, keep_blank_values=True))
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=not_a_number)
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"JSON Error: {shown(str(exc), 200)}") from None
    if not isinstance(data, dict):
        raise bad_request(
            f"Bad request data: Request data JSON decoded to {shown(repr(data))} but it needs to be a dictionary."
        )
    return data


def _from_service(error: CityStatError) -> CkanError:
    """What metrics (or the rate limit) refused, told the way CKAN tells it."""
    if isinstance(error, NotFound):
        return not_found(error.detail)
    if isinstance(error, BadRequest | Unprocessable):
        return CkanError(409, "Validation Error", f"Validation Error: {error.detail}")
    if isinstance(error, TooManyRequests):
        return CkanError(429, "Too Many Requests", error.detail)
    return CkanError(error.status_code, "Internal Server Error", error.detail)


def _answer(request: Request, status: int, envelope: dict[str, Any], headers: dict[str, str]) -> Response:
    body = ckan_json(envelope).encode()
    if request.method == "GET":
        headers = {**headers, **CORS}
        if status == 200:
            return cached(request, body, JSON_MEDIA, headers)
    return Response(body, status_code=status, media_type=JSON_MEDIA, headers={**headers, **NOT_CACHED})


# The actions are documented as the path's choices but not enforced by FastAPI: an unknown one must get CKAN's own
# "Action name not known" envelope, not a validation problem.
ActionName = Annotated[str, Path(description="The action", json_schema_extra={"enum": sorted(ACTIONS)})]


def _endpoint(prefix: str) -> Callable[[str, Request], Awaitable[Response]]:
    async def action(name: ActionName, request: Request) -> Response:
        base = f"{request.url.scheme}://{request.url.netloc}"
        help_url = f"{base}/api/3/action/help_show?name={quote(shown(name), safe='')}"
        headers: dict[str, str] = {}
        try:
            try:
                public_caller(request)
            except TooManyRequests as limited:
                headers.update(limited.headers or {})
                raise
            function = ACTIONS.get(name)
            if function is None:
                raise bad_request(f"Action name not known: {shown(name)}")
            data = await request_data(request)
            result = await function(ActionCall(data, open_metrics(request), base, prefix))
            return _answer(request, 200, {"help": help_url, "success": True, "result": result}, headers)
        except (CkanError, CityStatError) as caught:
            error = caught if isinstance(caught, CkanError) else _from_service(caught)
        except Exception:
            # The trace goes to the log only, as the central handler does; the client still gets an envelope.
            log.exception("unhandled error in CKAN action %s", shown(name))
            error = CkanError(500, "Internal Server Error", "An unexpected error occurred; it has been logged.")
        detail = {"__type": error.kind, "message": error.message, **error.fields}
        return _answer(request, error.status, {"help": help_url, "success": False, "error": detail}, headers)

    return action


_DOC = (
    "CKAN's action API, for CKAN clients such as ckanapi: package_list, package_show, package_search, "
    "organization_list, datastore_search and help_show. Parameters come from the query string (GET) or a JSON "
    "object or form (POST). Every answer is CKAN's envelope `{help, success, result}`; errors are "
    "`{help, success: false, error: {__type, message, ...}}` with 400 (unknown action, malformed body), 404 (Not "
    "Found Error), 409 (Validation Error) or 429 (rate limit, with Retry-After), never problem+json."
)
_ENVELOPE = {"content": {"application/json": {"schema": {"type": "object"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "CKAN's envelope with the action's result", **_ENVELOPE},
    400: {"description": "Unknown action or malformed body (CKAN envelope)", **_ENVELOPE},
    # A path no route can take (a line break in the action's name) is the router's 404, which is problem+json.
    404: {
        "description": "Not Found Error (CKAN envelope); problem+json when the path is not an action's",
        "content": {**_ENVELOPE["content"], "application/problem+json": {"schema": {"type": "object"}}},
    },
    409: {"description": "Validation Error (CKAN envelope)", **_ENVELOPE},
    429: {"description": "Too many requests from this address (CKAN envelope, Retry-After)", **_ENVELOPE},
}

router = APIRouter(tags=["open data"])
for _prefix in PREFIXES:
    for _method in ("GET", "POST"):
        router.add_api_route(
            f"{_prefix}/{{name}}",
            _endpoint(_prefix),
            methods=[_method],
            response_class=Response,
            responses={**_RESPONSES, **({304: {"description": "Not modified"}} if _method == "GET" else {})},
            summary=f"A CKAN action ({_method}{', the API version in the path' if '/3/' in _prefix else ''})",
            description=_DOC,
            name=f"ckan_action_{_method.lower()}{'_v3' if '/3/' in _prefix else ''}",
        )
