"""CKAN's catalogue actions (package_list, package_show, package_search, organization_list) over the same public
datasets SODA serves, and what every action shares: CKAN's errors and its ways of reading parameters. ckan.py reads
requests and writes CKAN's envelope; an action turns parameters into a result, or into a `CkanError` CKAN would give.

Each public dataset is one CKAN package with one resource: the package's id and the resource's id are both the
dataset's 4x4 id (so SODA and CKAN clients name a dataset the same way), the package's name is a slug of its key.
Publishers are CKAN's organizations. datastore_search (ckan_datastore.py) reads rows as SODA does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.common.query_tree import MAX_OFFSET
from services.reporting.clients.metrics import MetricsClient, OpenDataset

# CKAN's own numbers: package_search answers 10 rows unless asked, and at most 1,000 (ckan.search.rows_max).
SEARCH_ROWS = 10
SEARCH_MAX_ROWS = 1_000
SEARCH_SORT = "score desc, metadata_modified desc"
LIST_MAX = 1_000
LICENSE_IDS = {"Open Data Commons Public Domain Dedication and License (PDDL)": "odc-pddl"}
TRUE_WORDS = {"true", "t", "yes", "y", "on", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "off", "0", ""}


@dataclass
class CkanError(Exception):
    """An action's failure as CKAN reports it: the HTTP status, CKAN's `__type`, a message, and for validation
    errors the fields at fault, each with a list of messages (`{"limit": ["Invalid integer"]}`)."""

    status: int
    kind: str
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def not_found(what: str) -> CkanError:
    return CkanError(404, "Not Found Error", f"Not found: {what}")


def invalid(name: str, message: str) -> CkanError:
    return CkanError(409, "Validation Error", f"{name}: {message}", {name: [message]})


def bad_request(message: str) -> CkanError:
    return CkanError(400, "Bad Request", f"Bad request - {message}")


def shown(text: str, most: int = 80) -> str:
    # Names from the request are echoed in messages; text of any length is not.
    return text if len(text) <= most else text[:most] + "..."


# --- parameters -----------------------------------------------------------------------------------------------------
# GET parameters arrive as text, JSON bodies as typed values: each reader accepts both, as CKAN's validators do.


def text_param(data: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise invalid(name, "Must be a string")
    return str(value)


def int_param(data: Mapping[str, Any], name: str, default: int, high: int) -> int:
    """A natural number; above `high` it is clamped (CKAN clamps rows and limits rather than refusing them)."""
    value = data.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,30}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(name, "Invalid integer")
    if value < 0:
        raise invalid(name, "Must be a natural number")
    return min(value, high)


def bool_param(data: Mapping[str, Any], name: str, default: bool) -> bool:
    value = data.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    word = str(value).strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise invalid(name, "Value must be one of: true, false")


def json_param(data: Mapping[str, Any], name: str) -> Any:
    """A structured value: as is from a JSON body, parsed from JSON text from a query string or form."""
    value = data.get(name)
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]
    if isinstance(value, str):
        try:
            return json.loads(value, parse_float=Decimal, parse_constant=not_a_number)
        except (ValueError, RecursionError):
            raise invalid(name, "Cannot parse JSON") from None
    return value


def not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def list_param(data: Mapping[str, Any], name: str) -> list[str]:
    """A list given as a list, or as text separated by commas (CKAN's `fields` and `sort`)."""
    value = data.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise invalid(name, "Must be a list of strings")
        names.extend(part.strip() for part in item.split(",") if part.strip())
    return names


# --- what a dataset looks like to CKAN --------------------------------------------------------------------------------


def ckan_name(text: str) -> str:
    """CKAN's names are lowercase letters, digits, '-' and '_'; a key's dots and underscores become dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "dataset"


def _timestamp(moment: dt.datetime) -> str:
    # CKAN writes UTC times without an offset.
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds")


def organization_of(publisher: str, *, package_count: int | None = None) -> dict[str, Any]:
    name = ckan_name(publisher)
    organization: dict[str, Any] = {
        "id": name,
        "name": name,
        "title": publisher,
        "display_name": publisher,
        "description": "",
        "image_url": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
    }
    if package_count is not None:
        organization["package_count"] = package_count
    return organization


def resource_of(dataset: OpenDataset, base: str) -> dict[str, Any]:
    updated = _timestamp(dataset.updated_at)
    return {
        "id": dataset.id,
        "package_id": dataset.id,
        "name": dataset.name,
        "description": dataset.description,
        "format": "CSV",
        "mimetype": "text/csv",
        "url": f"{base}/api/views/{dataset.id}/rows.csv?accessType=DOWNLOAD",
        "url_type": None,
        "datastore_active": True,
        "state": "active",
        "position": 0,
        "created": updated,
        "last_modified": updated,
        "metadata_modified": updated,
    }


def package_of(dataset: OpenDataset, base: str) -> dict[str, Any]:
    updated = _timestamp(dataset.updated_at)
    organization = organization_of(dataset.publisher)
    return {
        "id": dataset.id,
        "name": ckan_name(dataset.key),
        "title": dataset.name,
        "notes": dataset.description,
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": True,
        "author": dataset.publisher,
        "author_email": None,
        "maintainer": dataset.publisher,
        "maintainer_email": None,
        "license_id": LICENSE_IDS.get(dataset.license, "other-open"),
        "license_title": dataset.license,
        "metadata_created": updated,
        "metadata_modified": updated,
        "url": f"{base}/api/views/{dataset.id}.json",
        "version": None,
        "organization": organization,
        "owner_org": organization["id"],
        "groups": [],
        "tags": [],
        "num_tags": 0,
        "extras": [
            {"key": "category", "value": dataset.category},
            {"key": "citystat_key", "value": dataset.key},
            {"key": "row_count", "value": str(dataset.row_count)},
        ],
        "num_resources": 1,
        "resources": [resource_of(dataset, base)],
    }


# --- the actions ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionCall:
    """One action call: its parameters, the metrics client that reads public datasets, the site's base URL and
    the path prefix the client used (for `_links`)."""

    data: Mapping[str, Any]
    metrics: MetricsClient
    base: str
    prefix: str


def _by_name(datasets: list[OpenDataset]) -> list[OpenDataset]:
    return sorted(datasets, key=lambda d: (ckan_name(d.key), d.id))


async def package_list(call: ActionCall) -> list[str]:
    """The names of every public dataset, in name order. Parameters: limit, offset."""
    names = [ckan_name(d.key) for d in _by_name(await call.metrics.open_datasets())]
    offset = int_param(call.data, "offset", 0, MAX_OFFSET)
    limit = int_param(call.data, "limit", len(names), MAX_OFFSET)
    return names[offset : offset + limit]


async def package_show(call: ActionCall) -> dict[str, Any]:
    """One dataset with its resource. Parameters: id (the dataset's 4x4 id or its name)."""
    wanted = text_param(call.data, "id")
    if not wanted:
        raise invalid("id", "Missing value")
    for dataset in await call.metrics.open_datasets():
        if wanted in (dataset.id, ckan_name(dataset.key)):
            return package_of(dataset, call.base)
    raise not_found("Dataset not found")


def _searchable(dataset: OpenDataset) -> str:
    parts = [dataset.name, dataset.description, dataset.category, dataset.key, ckan_name(dataset.key)]
    parts += [dataset.publisher, dataset.id]
    for column in dataset.columns:
        parts += [column.name, column.field_name, column.description]
    return " ".join(parts).lower()


_FQ_TERM = re.compile(r'([+-]?)([A-Za-z_]+):(?:"([^"]*)"|(\S+))')
_FQ_FIELDS: dict[str, Callable[[OpenDataset], list[str]]] = {
    "organization": lambda d: [ckan_name(d.publisher)],
    "owner_org": lambda d: [ckan_name(d.publisher)],
    "name": lambda d: [ckan_name(d.key)],
    "id": lambda d: [d.id],
    "res_format": lambda d: ["CSV", "csv"],
    "license_id": lambda d: [LICENSE_IDS.get(d.license, "other-open")],
    "tags": lambda d: [],
    "groups": lambda d: [],
    "type": lambda d: ["dataset"],
}


def _fq_filter(fq: str) -> Callable[[OpenDataset], bool]:
    """Solr's filter query, the part of it that describes CityStat's packages: `field:value` terms, each quoted or
    not, `-` to exclude; every term must hold. `*:*` matches everything."""
    rest = fq.replace("*:*", " ")
    terms = []
    for match in _FQ_TERM.finditer(rest):
        sign, name, quoted, bare = match.groups()
        if name not in _FQ_FIELDS:
            raise CkanError(409, "Search Query Error", f"Search Query Error: unknown field in fq: {shown(name)}")
        terms.append((sign == "-", _FQ_FIELDS[name], quoted if quoted is not None else bare))
    if _FQ_TERM.sub(" ", rest).strip():
        raise CkanError(409, "Search Query Error", "Search Query Error: fq must be field:value terms")

    def matches(dataset: OpenDataset) -> bool:
        return all((value in values(dataset)) != excluded for excluded, values, value in terms)

    return matches


_SEARCH_SORTS: dict[str, Callable[[OpenDataset], Any]] = {
    "name": lambda d: ckan_name(d.key),
    "title": lambda d: d.name.lower(),
    "title_string": lambda d: d.name.lower(),
    "metadata_modified": lambda d: d.updated_at,
    "metadata_created": lambda d: d.updated_at,
}


def _sort_datasets(datasets: list[OpenDataset], sort: str) -> list[OpenDataset]:
    """Sorted by each `field direction` of `sort`, last key first (Python's sort is stable). Every match has the
    same score here, so `score` orders nothing."""
    keys = []
    for part in sort.split(","):
        words = part.split()
        if not words:
            continue
        name, direction = words[0], (words[1].lower() if len(words) > 1 else "asc")
        if len(words) > 2 or direction not in ("asc", "desc") or (name != "score" and name not in _SEARCH_SORTS):
            raise CkanError(409, "Search Query Error", f"Search Query Error: cannot sort by {shown(part.strip())}")
        if name != "score":
            keys.append((_SEARCH_SORTS[name], direction == "desc"))
    ordered = _by_name(datasets)
    for key, descending in reversed(keys):
        ordered.sort(key=key, reverse=descending)
    return ordered


async def package_search(call: ActionCall) -> dict[str, Any]:
    """Datasets matching every word of `q` (`*:*` or nothing: all) and every term of `fq` (organization:NAME,
    name:, id:, res_format:, license_id:). Parameters: q, fq, sort, rows (at most 1,000), start."""
    q = text_param(call.data, "q", "") or ""
    fq = text_param(call.data, "fq", "") or ""
    sort = text_param(call.data, "sort", SEARCH_SORT) or SEARCH_SORT
    rows = int_param(call.data, "rows", SEARCH_ROWS, SEARCH_MAX_ROWS)
    start = int_param(call.data, "start", 0, MAX_OFFSET)
    words = q.replace("*:*", " ").lower().split()
    keep = _fq_filter(fq)
    chosen = [d for d in await call.metrics.open_datasets() if keep(d) and all(w in _searchable(d) for w in words)]
    ordered = _sort_datasets(chosen, sort)
    return {
        "count": len(ordered),
        "results": [package_of(dataset, call.base) for dataset in ordered[start : start + rows]],
        "sort": sort,
        "facets": {},
        "search_facets": {},
    }


_ORG_SORTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "name": lambda o: o["name"],
    "title": lambda o: o["title"].lower(),
    "package_count": lambda o: o["package_count"],
}


async def organization_list(call: ActionCall) -> list[Any]:
    """The publishers of public datasets: names, or whole organizations with `all_fields`. Parameters: all_fields,
    sort (name, title or package_count, asc or desc; default title asc), limit, offset, organizations."""
    counts: dict[str, int] = {}
    for dataset in await call.metrics.open_datasets():
        counts[dataset.publisher] = counts.get(dataset.publisher, 0) + 1
    organizations = [organization_of(p, package_count=n) for p, n in counts.items()]
    wanted = list_param(call.data, "organizations")
    if wanted:
        organizations = [o for o in organizations if o["name"] in wanted]
    words = (text_param(call.data, "sort") or "").split() or ["title"]
    direction = words[1].lower() if len(words) == 2 else "asc"
    if len(words) > 2 or words[0] not in _ORG_SORTS or direction not in ("asc", "desc"):
        raise invalid("sort", "Sort by name, title or package_count, then asc or desc")
    organizations.sort(key=lambda o: o["name"])
    organizations.sort(key=_ORG_SORTS[words[0]], reverse=direction == "desc")
    offset = int_param(call.data, "offset", 0, MAX_OFFSET)
    limit = int_param(call.data, "limit", LIST_MAX, LIST_MAX)
    page = organizations[offset : offset + limit]
    if bool_param(call.data, "all_fields", False):
        return page
    return [o["name"] for o in page]


PACKAGE_ACTIONS: dict[str, Callable[[ActionCall], Awaitable[Any]]] = {
    "package_list": package_list,
    "package_show": package_show,
    "package_search": package_search,
    "organization_list": organization_list,
}
