"""Limit/offset paging with a hard maximum that clamps rather than refuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

T = TypeVar("T")

MAX_OFFSET = 10**9


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=MAX_OFFSET, description="Clamped to the server's maximum page size.")
    ] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PageParams:
    return PageParams(limit=min(limit, request.app.state.settings.max_page_size), offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]
