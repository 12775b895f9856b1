"""One error hierarchy for every service, rendered as RFC 9457 problem+json in one place."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("citystat.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
_STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}


def problem_type(slug: str) -> str:
    return f"urn:citystat:problem:{slug}"


class ProblemItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    row: int | None = None
    field: str | None = None
    reason: str


class Problem(BaseModel):
    """The body of every error answer."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemItem] | None = None


class CityStatError(Exception):
    status_code = 500
    slug = "internal-error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        slug: str | None = None,
    ) -> None:
        super().__init__(detail)
        if slug is not None:
            # A narrower problem type than the class's, e.g. "csrf" for a Forbidden.
            self.slug = slug
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra or {}


class BadRequest(CityStatError):
    status_code = 400
    slug = "bad-request"


class Unauthorized(CityStatError):
    status_code = 401
    slug = "unauthorized"


class Forbidden(CityStatError):
    status_code = 403
    slug = "forbidden"


class NotFound(CityStatError):
    status_code = 404
    slug = "not-found"


class Conflict(CityStatError):
    status_code = 409
    slug = "conflict"


class PayloadTooLarge(CityStatError):
    status_code = 413
    slug = "payload-too-large"


class Unprocessable(CityStatError):
    status_code = 422
    slug = "unprocessable"


class TooManyRequests(CityStatError):
    status_code = 429
    slug = "rate-limited"


class UpstreamUnavailable(CityStatError):
    status_code = 503
    slug = "upstream-unavailable"


def problem_response(
    status: int,
    slug: str,
    detail: str | None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(slug),
        "title": _STATUS_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    items = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        item: dict[str, Any] = {"field": _field_path(loc), "reason": error.get("msg", "invalid")}
        # Rows of a list body are numbered so a department can find them in its file.
        if len(loc) >= 3 and loc[0] == "body" and isinstance(loc[2], int):
            item["row"] = loc[2]
        items.append(item)
    return items


async def _handle_citystat_error(_request: Request, exc: CityStatError) -> JSONResponse:
    return problem_response(
        exc.status_code, exc.slug, exc.detail, errors=exc.errors, headers=exc.headers, extra=exc.extra
    )


async def _handle_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    items = _validation_items(exc)
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return problem_response(400, "malformed-json", "The request body is not valid JSON.", errors=items)
    return problem_response(422, "validation-error", "The request does not match the schema.", errors=items)


async def handle_http_exception(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    return problem_response(exc.status_code, slug, detail, headers=getattr(exc, "headers", None))


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The trace goes to the log only; a client never sees SQL or code.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal-error", "An unexpected error occurred; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CityStatError, _handle_citystat_error)
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(Exception, _handle_unexpected)


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


# Declared on every operation, so clients and schemathesis know these answers exist.
COMMON_PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request", "model": Problem, "content": _problem_content()},
    413: {"description": "Request body too large", "model": Problem, "content": _problem_content()},
    422: {"description": "Validation error", "model": Problem, "content": _problem_content()},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": _STATUS_TITLES.get(status, "Error"),
            "model": Problem,
            "content": _problem_content(),
        }
        for status in statuses
    }


class UpstreamError(CityStatError):
    """Another CityStat service answered in a way the contract does not allow."""

    status_code = 502
    slug = "upstream-error"
