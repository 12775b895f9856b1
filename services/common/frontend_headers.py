"""The response headers of the static frontends (staff app and public site), served by CityStat itself.

A strict policy: scripts, styles, fonts, frames and requests from this origin only, no inline script or style
element (the pages are ES modules and stylesheets; styles set from scripts go through the CSSOM, which a policy does
not govern), nothing may frame the pages, no plugins. The staff briefing page frames the briefing's HTML from this
origin (sandboxed), hence frame-src 'self'. HSTS only where the site is served over TLS (`secure_cookies`, the
setting production behind TLS turns on): a browser told it over plain HTTP would ignore it anyway.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def frontend_headers(tls: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]
    if tls:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class FrontendHeaders:
    """Adds the frontend's security headers to every response of the wrapped static app. (A miss is answered by the
    root app's problem+json handler, outside this wrapper: JSON, not a page.)"""

    def __init__(self, app: ASGIApp, *, tls: bool) -> None:
        self.app = app
        self.headers = frontend_headers(tls)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
