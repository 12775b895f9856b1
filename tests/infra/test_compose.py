"""docker-compose.yml, infra/Dockerfile, .dockerignore and infra/postgres/init.sh.

No Docker engine runs here: `docker-compose config` (docker-compose 1.29, Debian package
`docker-compose`) validates and interpolates the file without one, and the pieces that run
inside containers are exercised directly: the healthcheck one-liners against a stand-in
HTTP server, the PostgreSQL init script against a throwaway PostgreSQL 15 server. Missing
tools make these tests fail, never skip.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "infra" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
NGINX_TEMPLATE = ROOT / "infra" / "nginx" / "citystat.conf.template"
INIT_SCRIPT = ROOT / "infra" / "postgres" / "init.sh"
API_SERVICES = ("ingest", "metrics", "reporting")
ALL_SERVICES = {"postgres", *API_SERVICES, "nginx"}
PG_BIN = Path("/usr/lib/postgresql/15/bin")

SECRETS = {
    "POSTGRES_PASSWORD": "pg-super-Secret_1",
    "CITYSTAT_DB_PASSWORD": "db-Secret_2.x~y",
    "CITYSTAT_INTERNAL_TOKEN": "internal-Token_3",
    "CITYSTAT_SESSION_SECRET": "session-Secret_4-long-enough-for-hmac-0123456789",
}


# --- docker-compose config -------------------------------------------------------------


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    assert found, "docker-compose is not installed: apt-get install -y --no-install-recommends docker-compose"
    return found


def compose_config(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """`docker-compose config` with exactly these variables (no .env, nothing from the caller's shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYSTAT_", "POSTGRES_", "COMPOSE_", "DOCKER_"))}
    env.update(variables)
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    return subprocess.run(
        [docker_compose(), "--env-file", str(empty_env_file), "-f", str(COMPOSE_FILE), "config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = compose_config(tmp_path_factory.mktemp("compose"), **SECRETS)
    assert result.returncode == 0, result.stderr
    parsed = yaml.safe_load(result.stdout)
    assert isinstance(parsed, dict), result.stdout
    return parsed


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def shell_steps(service: dict[str, Any]) -> list[list[str]]:
    """The `sh -c "a && b && exec c"` command of a service as a list of argv lists."""
    command = service["command"]
    if isinstance(command, str):
        command = shlex.split(command)
    assert command[:2] == ["sh", "-c"], command
    steps = [shlex.split(part) for part in command[2].split("&&")]
    return [step[1:] if step[:1] == ["exec"] else step for step in steps]


def option(argv: list[str], name: str) -> str:
    assert name in argv, (name, argv)
    return argv[argv.index(name) + 1]


def test_config_validates_with_the_required_variables(config: dict[str, Any]) -> None:
    assert set(config["services"]) == ALL_SERVICES


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_each_secret_is_required(tmp_path: Path, missing: str) -> None:
    variables = {k: v for k, v in SECRETS.items() if k != missing}
    result = compose_config(tmp_path, **variables)
    assert result.returncode != 0, f"compose accepted a missing {missing}"
    assert missing in result.stderr


def test_api_services_share_one_image_built_from_infra_dockerfile(config: dict[str, Any]) -> None:
    images = set()
    for name in API_SERVICES:
        service = config["services"][name]
        build = service["build"]
        assert Path(build["context"]).resolve() == ROOT
        assert (Path(build["context"]) / build["dockerfile"]).resolve() == DOCKERFILE
        images.add(service["image"])
    assert len(images) == 1, images


def test_api_services_get_databases_peers_and_token(config: dict[str, Any]) -> None:
    services = config["services"]
    for name in API_SERVICES:
        env = environment(services[name])
        for owner in API_SERVICES:
            url = make_url(env[f"CITYSTAT_{owner.upper()}_DATABASE_URL"])
            assert url.drivername == "postgresql+psycopg"
            assert (url.host, url.port) == ("postgres", 5432)
            assert url.database == f"citystat_{owner}"
            assert url.username == "citystat"
            assert url.password == SECRETS["CITYSTAT_DB_PASSWORD"]
            peer = env[f"CITYSTAT_{owner.upper()}_URL"]
            match = re.fullmatch(r"http://([a-z0-9_-]+):(\d+)/api/([a-z]+)", peer)
            assert match, peer
            host, port, mount = match.groups()
            assert host == owner and host in services
            assert mount == owner
            assert port == option(shell_steps(services[owner])[-1], "--port")
        assert env["CITYSTAT_INTERNAL_TOKEN"] == SECRETS["CITYSTAT_INTERNAL_TOKEN"]
        # Every service checks staff sessions alone, so all of them must hold the same key.
        assert env["CITYSTAT_SESSION_SECRET"] == SECRETS["CITYSTAT_SESSION_SECRET"]
        assert env["CITYSTAT_AS_OF"] == "2017-07-10"


def test_as_of_can_be_overridden(tmp_path: Path) -> None:
    result = compose_config(tmp_path, **SECRETS, CITYSTAT_AS_OF="2026-11-26", CITYSTAT_HTTP_PORT="8080")
    assert result.returncode == 0, result.stderr
    parsed = yaml.safe_load(result.stdout)
    for name in API_SERVICES:
        assert environment(parsed["services"][name])["CITYSTAT_AS_OF"] == "2026-11-26"
    assert published_ports(parsed["services"]["nginx"]) == {(8080, 80)}


def test_commands_migrate_then_serve_one_service(config: dict[str, Any]) -> None:
    for name in API_SERVICES:
        steps = shell_steps(config["services"][name])
        assert steps[0] == ["citystat", "migrate", "--service", name], steps
        serve = steps[-1]
        assert serve[:2] == ["citystat", "serve"]
        assert option(serve, "--service") == name
        assert option(serve, "--host") == "0.0.0.0"
        middle = steps[1:-1]
        assert middle == ([["citystat", "demo"]] if name == "metrics" else []), steps


def test_api_services_wait_for_a_healthy_postgres(config: dict[str, Any]) -> None:
    services = config["services"]
    for name in API_SERVICES:
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on needs the long form for conditions"
        assert depends["postgres"]["condition"] == "service_healthy"
    test = services["postgres"]["healthcheck"]["test"]
    assert test[0] in {"CMD", "CMD-SHELL"} and "pg_isready" in " ".join(test)


def test_postgres_gets_its_init_script_and_the_app_password(config: dict[str, Any]) -> None:
    postgres = config["services"]["postgres"]
    assert str(postgres["image"]).split(":")[1].startswith("15")
    env = environment(postgres)
    assert env["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    assert env["CITYSTAT_DB_PASSWORD"] == SECRETS["CITYSTAT_DB_PASSWORD"]
    mounts = [str(v).split(":") for v in postgres["volumes"]]
    init = [m for m in mounts if m[1].startswith("/docker-entrypoint-initdb.d/")]
    assert len(init) == 1
    assert Path(init[0][0]).resolve() == INIT_SCRIPT
    assert init[0][1].endswith((".sh", ".sql"))
    assert any(m[1] == "/var/lib/postgresql/data" for m in mounts), "data must live on a volume"
    assert "ports" not in postgres, "PostgreSQL should not be published on the host"


def test_ingest_spools_bulk_uploads_on_a_named_volume(config: dict[str, Any]) -> None:
    # A bulk upload is answered once it is spooled: the spool must outlive a container restart.
    ingest = config["services"]["ingest"]
    mounts = [str(v).split(":") for v in ingest.get("volumes", [])]
    named = {m[0]: m[1] for m in mounts if len(m) >= 2}
    assert named.get("ingest-spool") == environment(ingest)["CITYSTAT_DATA_DIR"]
    assert "ingest-spool" in config["volumes"]


def published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    ports = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.add((int(entry["published"]), int(entry["target"])))
        else:
            published, target = str(entry).rsplit(":", 2)[-2:]
            ports.add((int(published), int(target)))
    return ports


def test_nginx_publishes_the_front_door_and_renders_the_template(config: dict[str, Any]) -> None:
    services = config["services"]
    nginx = services["nginx"]
    env = environment(nginx)
    assert published_ports(nginx) == {(8000, int(env["CITYSTAT_LISTEN"]))}
    for name in API_SERVICES:
        assert "ports" not in services[name], f"{name} is reached through nginx only"

    mounts = {m.split(":")[1]: Path(m.split(":")[0]) for m in map(str, nginx["volumes"])}
    template_target = next(t for t in mounts if t.startswith("/etc/nginx/templates/"))
    assert template_target.endswith(".conf.template")
    assert mounts[template_target].resolve() == NGINX_TEMPLATE
    assert mounts[env["CITYSTAT_FRONTEND_ROOT"]].resolve() == ROOT / "frontend"

    # Every placeholder of the template is given, and only CITYSTAT_* are substituted, so
    # nginx's own $host, $uri... survive envsubst.
    placeholders = set(re.findall(r"\$\{(\w+)\}", NGINX_TEMPLATE.read_text()))
    assert placeholders and all(p.startswith("CITYSTAT_") for p in placeholders)
    assert placeholders <= set(env), placeholders - set(env)
    assert re.match(env["NGINX_ENVSUBST_FILTER"], "CITYSTAT_LISTEN")
    assert not re.match(env["NGINX_ENVSUBST_FILTER"], "HOSTNAME")

    for name in API_SERVICES:
        host, port = env[f"CITYSTAT_{name.upper()}_UPSTREAM"].split(":")
        assert host == name and host in services
        assert port == option(shell_steps(services[name])[-1], "--port")
        # nginx must not wait for health: it resolves services per request.
        assert nginx["depends_on"][name]["condition"] == "service_started"


# --- the healthcheck one-liners, run for real ------------------------------------------


class _Health(BaseHTTPRequestHandler):
    status = 200
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        type(self).seen.append(self.path)
        body = json.dumps({"status": "ok"}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[ThreadingHTTPServer, type[_Health]]]:
    handler = type("Health", (_Health,), {"status": 200, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, handler
    server.shutdown()
    server.server_close()


def run_healthcheck(test: list[str], port: int, serve_port: str) -> int:
    assert test[0] == "CMD" and test[1] == "python" and test[2] == "-c", test
    code = test[3]
    local = f"http://127.0.0.1:{serve_port}/"
    assert local in code, (local, code)
    code = code.replace(local, f"http://127.0.0.1:{port}/")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=15).returncode


def test_healthchecks_call_each_service_health_route(
    config: dict[str, Any], health_server: tuple[ThreadingHTTPServer, type[_Health]]
) -> None:
    server, handler = health_server
    port = server.server_address[1]
    for name in API_SERVICES:
        service = config["services"][name]
        serve_port = option(shell_steps(service)[-1], "--port")
        test = service["healthcheck"]["test"]
        handler.status, handler.seen[:] = 200, []
        assert run_healthcheck(test, port, serve_port) == 0, name
        assert handler.seen == [f"/api/{name}/health"]
        handler.status = 503
        assert run_healthcheck(test, port, serve_port) != 0, f"{name}: an unhealthy answer must fail"


# --- Dockerfile and .dockerignore ------------------------------------------------------


def dockerignore_patterns() -> list[str]:
    lines = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Enough of Docker's .dockerignore matching for the paths checked here."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = [pattern]
        if pattern.startswith("**/"):
            candidates.append(pattern[3:])
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(prefix, c) for prefix in prefixes for c in candidates) or any(
            c.startswith("**/") and fnmatch.fnmatchcase(parts[-1], c[3:]) for c in candidates
        ):
            result = not negate
    return result


def test_dockerfile_base_image_and_copy_sources_are_in_the_context() -> None:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    froms = re.findall(r"^FROM\s+(\S+)", text, flags=re.MULTILINE)
    assert froms and all(image == "python:3.11-slim-bookworm" for image in froms), froms
    patterns = dockerignore_patterns()
    copies = [line.split()[1:] for line in text.splitlines() if line.startswith("COPY ")]
    local = [args for args in copies if not any(a.startswith("--from") for a in args)]
    sources = {src for args in local for src in args[:-1] if not src.startswith("--")}
    assert {"pyproject.toml", "services"} <= sources, sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    assert not ignored("services/metrics/migrations/versions/0001_initial.py", patterns)
    assert not ignored("services/metrics/migrations/script.py.mako", patterns)
    user = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert user and user[-1] not in {"root", "0"}, "the services should not run as root"


@pytest.mark.parametrize("path", [".env", ".git", ".venv", "var", "var/metrics.db", "services/__pycache__/x.pyc"])
def test_dockerignore_keeps_secrets_and_local_state_out(path: str) -> None:
    assert ignored(path, dockerignore_patterns()), path


# --- the PostgreSQL init script against a real PostgreSQL 15 ----------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        argv = ["runuser", "-u", "postgres", "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[tuple[str, int]]:
    assert (PG_BIN / "initdb").exists(), f"PostgreSQL 15 server binaries missing in {PG_BIN}"
    assert shutil.which("psql"), "psql missing (Debian package postgresql-client-15)"
    base = Path(tempfile.mkdtemp(prefix="citystat-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = _free_port()
    data = base / "data"
    started = False
    try:
        result = _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        assert result.returncode == 0, result.stderr
        result = _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "20",
                "-o",
                f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off",
                "start",
            ]
        )
        assert result.returncode == 0, result.stderr + (base / "log").read_text(errors="replace")
        started = True
        yield str(base), port
    finally:
        if started:
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)


def run_init_script(socket_dir: str, port: int, password: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PGHOST": socket_dir,
        "PGPORT": str(port),
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": "postgres",
        "CITYSTAT_DB_PASSWORD": password,
    }
    return subprocess.run(["sh", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_init_script_creates_the_role_and_one_database_per_service(postgres_server: tuple[str, int]) -> None:
    socket_dir, port = postgres_server
    password = 'it\'s a "secret" \\ with quotes'
    started = time.monotonic()
    result = run_init_script(socket_dir, port, password)
    assert result.returncode == 0, result.stderr
    # The image runs it once per volume, but a re-run (say, by hand) must not break.
    result = run_init_script(socket_dir, port, password)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10

    for name in API_SERVICES:
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            user="citystat",
            password=password,
            dbname=f"citystat_{name}",
            connect_timeout=5,
            autocommit=True,
        ) as connection:
            # PostgreSQL 15 lets only the database owner create in public: the migrations need that.
            connection.execute("CREATE TABLE probe (id integer PRIMARY KEY)")
            connection.execute("INSERT INTO probe VALUES (1)")
            owner = connection.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
            ).fetchone()
            assert owner == ("citystat",)
            encoding = connection.execute("SHOW server_encoding").fetchone()
            assert encoding == ("UTF8",)

    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            host="127.0.0.1",
            port=port,
            user="citystat",
            password="wrong",
            dbname="citystat_metrics",
            connect_timeout=5,
        ).close()


def test_init_script_refuses_to_run_without_a_password(postgres_server: tuple[str, int]) -> None:
    socket_dir, port = postgres_server
    result = run_init_script(socket_dir, port, "")
    assert result.returncode != 0
    assert "CITYSTAT_DB_PASSWORD" in result.stderr
