"""OpenAPI links from the operations that create a resource to the operations on that resource.

A client (and schemathesis' stateful run) reads from a create operation's response which value goes into which
path parameter of the next call: `POST /meetings` answers `{"id": 7, ...}`, and `GET /meetings/{meeting_id}` takes
that `id`. The links are derived from the paths, so a new route is linked without anyone remembering to do it:

- a `POST` (any 2xx with an object body) creates into its own path: it links to every operation whose path
  continues it with a parameter, `/briefings` -> `/briefings/{briefing_id}` and `/briefings/{briefing_id}/html`;
- a `POST` to a literal below a collection creates into that collection: `/submissions/csv` -> `/submissions/{...}`;
- a `PUT` that may create (a 201 response) links to the other operations on its path and below it;
- a created resource that a `GET /.../{param}` answers with the same schema links there, wherever that path is:
  `POST /records` answers a job, which `GET /jobs/{job_id}` reads.

The new parameter is filled from the response's field of the same name, else `id` for a parameter named `*_id`,
else the resource's identifier (`key`, `code`, `id`, `name`) when the parameter is the collection's singular
(`/datasets` -> `{dataset}`). Parameters the producer's own path has are passed on from its request. A link whose
new parameter has no field to come from is not made: a guessed link sends the client to a 404."""

from __future__ import annotations

import re
from typing import Any

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
IDENTIFIER_FIELDS = ("key", "code", "id", "name")
_PARAMETER = re.compile(r"^\{(.+)\}$")


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _parameter(segment: str) -> str | None:
    match = _PARAMETER.match(segment)
    return match.group(1) if match else None


def _singular(word: str) -> str:
    word = word.replace("-", "_")
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def _response_schema(response: dict[str, Any]) -> dict[str, Any] | None:
    return response.get("content", {}).get("application/json", {}).get("schema")


def _properties(schema: dict[str, Any] | None, components: dict[str, Any]) -> set[str]:
    if not schema:
        return set()
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if schema.get("type") not in (None, "object"):
        return set()
    return set(schema.get("properties", {}))


def _field_for(parameter: str, collection: str | None, fields: set[str]) -> str | None:
    if parameter in fields:
        return parameter
    if parameter.endswith("_id") and "id" in fields:
        return "id"
    if collection is not None and parameter == _singular(collection):
        return next((field for field in IDENTIFIER_FIELDS if field in fields), None)
    return None


def _link_parameters(
    producer_path: str, collection: list[str], consumer: list[str], fields: set[str], creates_identifier: bool
) -> dict[str, str] | None:
    """Where each of the consumer's path parameters comes from, or None when the new one has no source.

    A POST's new identifier is the consumer's segment right after `collection`; a PUT named its resource itself."""
    known = {name for segment in _segments(producer_path) if (name := _parameter(segment))}
    position = len(collection) if creates_identifier else -1
    new = _parameter(consumer[position]) if 0 <= position < len(consumer) else None
    parameters: dict[str, str] = {}
    for index, segment in enumerate(consumer):
        name = _parameter(segment)
        if name is None:
            continue
        if index == position and name not in known:
            field = _field_for(name, collection[-1] if collection else None, fields)
            if field is None:
                return None
            parameters[f"path.{name}"] = f"$response.body#/{field}"
        elif name in known:
            parameters[f"path.{name}"] = f"$request.path.{name}"
        # Any other parameter (a period, a second resource) is the client's own choice.
    if creates_identifier and new is None:
        return None
    return parameters


def _collections(
    producer_path: str, method: str, schema: dict[str, Any] | None, paths: dict[str, Any]
) -> list[list[str]]:
    """Where a producer's resource lives: the segments before its identifier (the whole path for a PUT)."""
    segments = _segments(producer_path)
    if method == "put":
        return [segments]
    found = [segments]
    if len(segments) > 1 and _parameter(segments[-1]) is None and _parameter(segments[-2]) is None:
        found.append(segments[:-1])
    if schema and "$ref" in schema:
        for path, operations in paths.items():
            answer = operations.get("get", {}).get("responses", {}).get("200")
            item = _segments(path)
            if answer and item and _parameter(item[-1]) is not None and _response_schema(answer) == schema:
                if item[:-1] not in found:
                    found.append(item[:-1])
    return found


def add_resource_links(document: dict[str, Any]) -> int:
    """Adds the links in place; returns how many it added."""
    paths: dict[str, Any] = document.get("paths", {})
    components = document.get("components", {}).get("schemas", {})
    operation_ids = {
        (path, method): operation.get("operationId")
        for path, operations in paths.items()
        for method, operation in operations.items()
        if method in HTTP_METHODS
    }
    added = 0
    for producer_path, operations in paths.items():
        for method in ("post", "put"):
            operation = operations.get(method)
            if operation is None:
                continue
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2") or (method == "put" and "201" not in operation["responses"]):
                    continue
                schema = _response_schema(response)
                fields = _properties(schema, components)
                if not fields:
                    continue
                links: dict[str, Any] = {}
                for collection in _collections(producer_path, method, schema, paths):
                    for consumer_path, consumer_operations in paths.items():
                        consumer = _segments(consumer_path)
                        if consumer[: len(collection)] != collection or (
                            method == "post" and len(consumer) == len(collection)
                        ):
                            continue
                        parameters = _link_parameters(producer_path, collection, consumer, fields, method == "post")
                        if parameters is None:
                            continue
                        for consumer_method in consumer_operations:
                            if consumer_method not in HTTP_METHODS or (consumer_path, consumer_method) == (
                                producer_path,
                                method,
                            ):
                                continue
                            operation_id = operation_ids[(consumer_path, consumer_method)]
                            if not operation_id:
                                continue
                            links[operation_id] = {
                                "operationId": operation_id,
                                "parameters": parameters,
                                "description": f"{consumer_method.upper()} {consumer_path} on what this created",
                            }
                if links:
                    response.setdefault("links", {}).update(links)
                    added += len(links)
    return added
