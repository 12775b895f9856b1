"""The nginx front door (infra/nginx/citystat.conf.template), run for real on loopback.

The template is rendered the way the official nginx image renders it (envsubst of the
CITYSTAT_* variables that docker-compose.yml gives the nginx container), wrapped in an
nginx.conf like the image's own, and started from a temporary prefix with three tiny HTTP
servers standing in for ingest, metrics and reporting. Needs the `nginx` binary (Debian
package `nginx`): without it these tests fail, they never skip.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "nginx" / "citystat.conf.template"
COMPOSE_FILE = ROOT / "docker-compose.yml"
FRONTEND = ROOT / "frontend"
SERVICES = ("ingest", "metrics", "reporting")
MIME_TYPES = Path("/etc/nginx/mime.types")
PLACEHOLDER = re.compile(r"\$\{(CITYSTAT_[A-Za-z0-9_]*)\}|\$(CITYSTAT_[A-Za-z0-9_]*)")
TIMEOUT = 5.0


# --- helpers -------------------------------------------------------------------------


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    assert found, "nginx is not installed: apt-get install -y --no-install-recommends nginx"
    return found


def render(template: str, env: dict[str, str]) -> str:
    """What the nginx image's 20-envsubst-on-templates.sh does with NGINX_ENVSUBST_FILTER=^CITYSTAT_."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return env[name] if name in env else match.group(0)

    return PLACEHOLDER.sub(substitute, template)


def compose_nginx_environment() -> dict[str, str]:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    environment = compose["services"]["nginx"]["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {str(k): str(v) for k, v in environment.items()}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


class _Upstream(BaseHTTPRequestHandler):
    """Echoes what it received as JSON; /.../status/NNN answers NNN with its own problem body."""

    service = "?"
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        remaining = length
        while remaining:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                break
            remaining -= len(chunk)
        status = 200
        match = re.search(r"/status/(\d{3})$", self.path.split("?", 1)[0])
        if match:
            status = int(match.group(1))
        payload = {
            "service": self.service,
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_bytes": length - remaining,
        }
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status < 400 else "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


def start_upstream(service: str) -> ThreadingHTTPServer:
    handler = type(f"Upstream_{service}", (_Upstream,), {"service": service})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"upstream-{service}", daemon=True).start()
    return server


@dataclass
class Nginx:
    port: int
    prefix: Path
    process: subprocess.Popen[bytes] | None = None
    upstreams: list[ThreadingHTTPServer] = field(default_factory=list)

    def get(self, path: str, **kwargs: object) -> tuple[int, dict[str, str], bytes]:
        return request(self.port, "GET", path, **kwargs)  # type: ignore[arg-type]

    def error_log(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text(errors="replace") if log.exists() else "(no error log)"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for server in self.upstreams:
            server.shutdown()
            server.server_close()


def write_config(prefix: Path, env: dict[str, str]) -> Path:
    """The rendered site inside an nginx.conf shaped like the nginx image's, all paths in prefix."""
    assert MIME_TYPES.exists(), f"{MIME_TYPES} missing (Debian package nginx-common)"
    conf_d = prefix / "conf.d"
    conf_d.mkdir(parents=True, exist_ok=True)
    site = render(TEMPLATE.read_text(), env)
    leftover = sorted({m.group(0) for m in PLACEHOLDER.finditer(site)})
    assert not leftover, f"placeholders not provided: {leftover}"
    (conf_d / "default.conf").write_text(site)
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / name).mkdir(exist_ok=True)
    nginx_conf = prefix / "nginx.conf"
    nginx_conf.write_text(
        f"""
# master_process off: one process as the current user (root here), no "user" switch, so
# temporary directories under /tmp are readable. The image runs the usual master+workers.
master_process off;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {conf_d}/*.conf;
}}
"""
    )
    return nginx_conf


def nginx_test(prefix: Path, conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nginx_binary(), "-t", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
        capture_output=True,
        text=True,
        timeout=20,
    )


def start_nginx(prefix: Path, env: dict[str, str], upstreams: list[ThreadingHTTPServer]) -> Nginx:
    port = int(env["CITYSTAT_LISTEN"].rsplit(":", 1)[1])
    conf = write_config(prefix, env)
    checked = nginx_test(prefix, conf)
    assert checked.returncode == 0, checked.stderr
    server = Nginx(port=port, prefix=prefix, upstreams=upstreams)
    server.process = subprocess.Popen(
        [nginx_binary(), "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + TIMEOUT
    while True:
        if server.process.poll() is not None:
            server.stop()
            pytest.fail(f"nginx exited with {server.process.returncode}:\n{server.error_log()}")
        try:
            status, _, _ = server.get("/nginx-health")
            if status == 200:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            pytest.fail(f"nginx did not answer within {TIMEOUT} s:\n{server.error_log()}")
        time.sleep(0.05)


def site_env(frontend: Path, listen_port: int, upstreams: dict[str, str]) -> dict[str, str]:
    env = compose_nginx_environment()
    env["CITYSTAT_LISTEN"] = f"127.0.0.1:{listen_port}"
    env["CITYSTAT_FRONTEND_ROOT"] = str(frontend)
    for service, address in upstreams.items():
        env[f"CITYSTAT_{service.upper()}_UPSTREAM"] = address
    return env


@pytest.fixture(scope="module")
def frontend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's frontend/ when it exists, plus a few files this test needs."""
    root = tmp_path_factory.mktemp("frontend")
    if (FRONTEND / "index.html").exists():
        shutil.copytree(FRONTEND, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("node_modules"))
    else:
        (root / "index.html").write_text(
            "<!doctype html><title>CityStat</title><script type=module src=app.js></script>\n"
        )
    (root / "zz-test").mkdir(exist_ok=True)
    (root / "zz-test" / "probe.js").write_text("export const probe = 1;\n")
    (root / "zz-test" / "probe.mjs").write_text("export const probe = 2;\n")
    (root / "public-test").mkdir(exist_ok=True)
    (root / "public-test" / "index.html").write_text("<!doctype html><title>public</title>\n")
    return root


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, frontend: Path) -> Iterator[Nginx]:
    upstreams = {service: start_upstream(service) for service in SERVICES}
    prefix = tmp_path_factory.mktemp("nginx")
    env = site_env(
        frontend,
        free_port(),
        {service: f"127.0.0.1:{server.server_address[1]}" for service, server in upstreams.items()},
    )
    server = start_nginx(prefix, env, list(upstreams.values()))
    yield server
    server.stop()


def echoed(response: tuple[int, dict[str, str], bytes]) -> dict[str, object]:
    status, headers, body = response
    assert status == 200, (status, body[:500])
    assert headers["content-type"].startswith("application/json"), headers
    return json.loads(body)


# --- tests ---------------------------------------------------------------------------


def test_production_rendering_passes_nginx_t(tmp_path: Path) -> None:
    """The config exactly as the container renders it (service host names that do not
    resolve here included); only the listen address and the frontend root differ."""
    env = compose_nginx_environment()
    assert env.get("NGINX_ENVSUBST_FILTER") == "^CITYSTAT_"
    env["CITYSTAT_LISTEN"] = f"127.0.0.1:{free_port()}"
    env["CITYSTAT_FRONTEND_ROOT"] = str(FRONTEND)
    conf = write_config(tmp_path, env)
    result = nginx_test(tmp_path, conf)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_starts_while_service_hosts_do_not_resolve(tmp_path: Path, frontend: Path) -> None:
    """Upstreams are variables resolved per request, so nginx comes up and serves the
    frontend even when the service containers do not exist yet (a literal
    `proxy_pass http://metrics:8000` would refuse to start: host not found)."""
    env = compose_nginx_environment()  # metrics:8000, ingest:8000, reporting:8000
    env["CITYSTAT_LISTEN"] = f"127.0.0.1:{free_port()}"
    env["CITYSTAT_FRONTEND_ROOT"] = str(frontend)
    server = start_nginx(tmp_path, env, [])
    try:
        status, _, body = server.get("/")
        assert status == 200
        assert body == (frontend / "index.html").read_bytes()
    finally:
        server.stop()


def test_metrics_health_reaches_metrics_with_path_unchanged(stack: Nginx) -> None:
    got = echoed(stack.get("/api/metrics/health"))
    assert got["service"] == "metrics"
    assert got["path"] == "/api/metrics/health"
    assert got["method"] == "GET"


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/ingest/submissions?dryRun=true", "ingest"),
        ("/api/metrics/metrics/DPW-on-time/observations?start=2017-01&end=2017-06", "metrics"),
        ("/api/reporting/briefings/12", "reporting"),
        ("/api/reporting/openapi.json", "reporting"),
        ("/data.json", "reporting"),
        ("/datapackage.json", "reporting"),
        ("/resource/abcd-1234.json?$limit=5&$where=value%20%3E%200.9", "reporting"),
        ("/api/views/abcd-1234/rows.csv?accessType=DOWNLOAD", "reporting"),
        ("/api/catalog/v1?q=water", "reporting"),
        ("/api/3/action/package_list", "reporting"),
        ("/api/3/action/package_show?id=on-time", "reporting"),
        ("/api/action/package_search?q=water", "reporting"),
        # Encoded characters inside an id must reach the service as sent:
        # a proxy_pass with a URI part would decode and re-encode them.
        ("/api/metrics/metrics/a%2Fb%20c", "metrics"),
    ],
)
def test_routes_reach_their_service_unchanged(stack: Nginx, path: str, service: str) -> None:
    got = echoed(stack.get(path))
    assert got["service"] == service
    assert got["path"] == path


def test_proxy_headers(stack: Nginx) -> None:
    got = echoed(
        stack.get(
            "/api/ingest/health",
            headers={"Authorization": "Bearer t0k3n", "Idempotency-Key": "abc-1", "X-Forwarded-For": "203.0.113.7"},
        )
    )
    headers = got["headers"]
    assert isinstance(headers, dict)
    # Host as the client sent it, port included, so services build correct absolute links.
    assert headers["host"] == f"127.0.0.1:{stack.port}"
    assert headers["x-forwarded-host"] == f"127.0.0.1:{stack.port}"
    assert headers["x-forwarded-proto"] == "http"
    # The services trust X-Forwarded-For from any peer, so nginx must not relay a spoofed one.
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-real-ip"] == "127.0.0.1"
    assert headers["authorization"] == "Bearer t0k3n"
    assert headers["idempotency-key"] == "abc-1"


def test_post_bodies_and_size_limits(stack: Nginx) -> None:
    small = json.dumps({"observations": [{"metric": "x", "period": "2017-06", "value": 0.95}]}).encode()
    got = echoed(
        request(stack.port, "POST", "/api/ingest/submissions", body=small, headers={"Content-Type": "application/json"})
    )
    assert (got["method"], got["body_bytes"]) == ("POST", len(small))

    # Bulk uploads to ingest pass nginx (the service applies its own limit)...
    three_mb = b"x" * (3 * 1024 * 1024)
    got = echoed(request(stack.port, "POST", "/api/ingest/uploads", body=three_mb))
    assert got["body_bytes"] == len(three_mb)

    # Raw-record files go past the other uploads' 32 MB, streamed to ingest, which enforces its own limit.
    forty_mb = b"x" * (40 * 1024 * 1024)
    got = echoed(request(stack.port, "POST", "/api/ingest/records", body=forty_mb))
    assert got["body_bytes"] == len(forty_mb)
    status, _, _ = request(stack.port, "POST", "/api/ingest/uploads", body=forty_mb)
    assert status == 413

    # ...elsewhere nginx refuses them itself, in problem+json like the services.
    status, headers, body = request(stack.port, "POST", "/api/metrics/metrics", body=three_mb)
    assert status == 413
    assert headers["content-type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["status"] == 413
    assert problem["type"] == "urn:citystat:problem:payload-too-large"

    # A body just over the services' default 1 MB limit still reaches them, so their own
    # 413 (with the configured limit in its detail) is what clients normally see.
    just_over = b"x" * 1_100_000
    got = echoed(request(stack.port, "POST", "/api/reporting/briefings", body=just_over))
    assert got["body_bytes"] == len(just_over)


def test_service_errors_pass_through_untouched(stack: Nginx) -> None:
    status, headers, body = stack.get("/api/metrics/status/503")
    assert status == 503
    assert json.loads(body)["service"] == "metrics"  # the service's body, not nginx's page
    status, _, body = stack.get("/api/reporting/status/404")
    assert status == 404
    assert json.loads(body)["service"] == "reporting"


def test_unknown_api_path_is_a_problem_not_the_app_shell(stack: Nginx) -> None:
    for path in ("/api/nothing/here", "/api/nothing.json"):
        status, headers, body = stack.get(path)
        assert status == 404, path
        assert headers["content-type"].startswith("application/problem+json"), path
        assert json.loads(body)["type"] == "urn:citystat:problem:not-found"


def test_frontend_is_served_at_root(stack: Nginx, frontend: Path) -> None:
    status, headers, body = stack.get("/")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert body == (frontend / "index.html").read_bytes()
    # A client-side route falls back to the app shell; a folder serves its index.html.
    status, _, body = stack.get("/departments/DPW")
    assert (status, body) == (200, (frontend / "index.html").read_bytes())
    status, _, body = stack.get("/public-test/")
    assert (status, body) == (200, (frontend / "public-test" / "index.html").read_bytes())


def test_modules_are_served_as_javascript_and_missing_files_404(stack: Nginx, frontend: Path) -> None:
    scripts = sorted(p for p in frontend.rglob("*") if p.suffix in {".js", ".mjs"} and p.is_file())
    assert scripts
    for script in scripts:
        path = "/" + script.relative_to(frontend).as_posix()
        status, headers, body = stack.get(path)
        assert status == 200, path
        # Browsers refuse `<script type=module>` served with a non-JavaScript type.
        assert headers["content-type"].split(";")[0] in {"application/javascript", "text/javascript"}, (
            path,
            headers["content-type"],
        )
        assert headers.get("x-content-type-options") == "nosniff"
        assert body == script.read_bytes()
    # A missing asset is a 404, not the app shell answered as HTML.
    status, _, body = stack.get("/zz-test/missing.js")
    assert status == 404
    assert body != (frontend / "index.html").read_bytes()


def test_nginx_health(stack: Nginx) -> None:
    status, _, body = stack.get("/nginx-health")
    assert (status, body) == (200, b"ok\n")


def test_service_down_is_a_502_problem(tmp_path: Path, frontend: Path) -> None:
    upstreams = {service: start_upstream(service) for service in ("ingest", "metrics")}
    dead = free_port()  # nothing listens there: reporting is "down"
    env = site_env(
        frontend,
        free_port(),
        {
            **{service: f"127.0.0.1:{server.server_address[1]}" for service, server in upstreams.items()},
            "reporting": f"127.0.0.1:{dead}",
        },
    )
    server = start_nginx(tmp_path, env, list(upstreams.values()))
    try:
        for path in ("/data.json", "/api/reporting/health"):
            status, headers, body = server.get(path)
            assert status == 502, path
            assert headers["content-type"].startswith("application/problem+json")
            problem = json.loads(body)
            assert problem["status"] == 502
            assert problem["type"] == "urn:citystat:problem:upstream-unavailable"
        # the other services are unaffected
        assert echoed(server.get("/api/metrics/health"))["service"] == "metrics"
    finally:
        server.stop()


def test_static_frontend_sends_citystats_own_security_headers(stack: Nginx, frontend: Path) -> None:
    """nginx serves frontend/ in the compose deployment, CityStat itself under `make run`: the same headers either
    way, compared with the values services/common/frontend_headers.py sends, so neither can drift."""
    from services.common.frontend_headers import HSTS, frontend_headers

    expected = {name.decode(): value.decode() for name, value in frontend_headers(tls=False)}
    assert "content-security-policy" in expected
    script = "/" + next(p for p in sorted(frontend.rglob("*.js")) if p.is_file()).relative_to(frontend).as_posix()
    pages_and_files = ["/", "/departments/DPW", "/public-test/", script, "/zz-test/probe.mjs", "/zz-test/missing.js"]
    for path in pages_and_files:
        status, headers, _ = stack.get(path)
        assert status in (200, 404), path
        assert {name: headers.get(name) for name in expected} == expected, path
        # Plain HTTP: no HSTS (a browser would ignore it), as CityStat without TLS.
        assert "strict-transport-security" not in headers, path
        # The location's own header survives beside them (add_header levels do not merge).
        assert headers.get("cache-control") == "no-cache", path

    # Behind a TLS proxy that says so, HSTS too, with CityStat's value.
    with_tls = {name.decode(): value.decode() for name, value in frontend_headers(tls=True)}
    status, headers, _ = stack.get("/", headers={"X-Forwarded-Proto": "https"})
    assert status == 200
    assert headers.get("strict-transport-security") == HSTS
    assert {name: headers.get(name) for name in with_tls} == with_tls

    # API answers carry the services' own headers only: the page policy is not stamped onto JSON.
    status, headers, _ = stack.get("/api/metrics/health")
    assert status == 200
    assert "content-security-policy" not in headers
    assert "cache-control" not in headers
