"""httpx clients between services: one factory, over the network or in-process (ASGI)."""

from __future__ import annotations

import httpx

from services.common.errors import UpstreamUnavailable
from services.common.settings import Settings


def create_service_client(
    settings: Settings, service: str, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=settings.service_url(service),
        transport=transport,
        timeout=httpx.Timeout(settings.http_timeout_seconds),
        headers={"Authorization": f"Bearer {settings.internal_token.get_secret_value()}"},
    )


class ServiceClient:
    """Base for the typed clients: turns transport failures into one domain error."""

    service = "service"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def _request(self, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"The {self.service} service could not be reached.") from exc
        if response.status_code >= 500:
            raise UpstreamUnavailable(f"The {self.service} service answered {response.status_code}.")
        return response
