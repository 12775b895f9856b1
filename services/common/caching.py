"""Entity tags for answers that are the same for everyone (open data, public downloads), so that clients and shared
caches can revalidate with If-None-Match instead of fetching again."""

from __future__ import annotations

import hashlib


def etag_of(media_type: str, body: bytes) -> str:
    """A strong tag from what the answer holds: the same bytes in the same form, the same tag."""
    return '"' + hashlib.sha256(media_type.encode() + b"\0" + body).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names the tag."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    # Weak comparison (RFC 9110 13.1.2): a proxy that compressed the body may have weakened the tag.
    return any(candidate.strip().removeprefix("W/") == etag for candidate in header.split(","))
