"""The container image definition and its compose file (issue 18). No container engine runs
here: the Containerfile is linted by hadolint in CI (`make hadolint`), its promises are read
from it, and its health check command is run as the image would run it."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.feedserver import FeedServer, child_env
from tests.test_pipeline import serve_fixtures, write_config

CONTAINERFILE = ROOT / "deploy" / "Containerfile"
COMPOSE = ROOT / "deploy" / "compose.yaml"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the final stage, continuation lines joined."""
    text = CONTAINERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    final = max(i for i, line in enumerate(lines) if line.startswith("FROM "))
    return [(line.split(None, 1)[0], line.split(None, 1)[1]) for line in lines[final:]]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for kind, args in instructions():
        if kind == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return env


def healthcheck() -> list[str]:
    (args,) = [a for kind, a in instructions() if kind == "HEALTHCHECK"]
    return list(json.loads(args.split("CMD", 1)[1]))


def test_the_image_runs_the_service_unprivileged_with_its_state_in_a_volume() -> None:
    found = dict(instructions())
    user = found["USER"].split(":")
    assert all(part.isdigit() and int(part) >= 1000 for part in user)
    assert json.loads(found["VOLUME"]) == [image_env()["WATCHER_STATE_DIR"]]
    assert json.loads(found["ENTRYPOINT"]) == ["watcher"] and json.loads(found["CMD"]) == ["run"]
    assert image_env()["WATCHER_CONFIG"] == "/etc/watcher/indicators.yaml"
    assert healthcheck() == ["watcher", "status"]


def test_the_health_check_fails_without_a_database_and_passes_with_one(
        feed_server: FeedServer, tmp_path: Path) -> None:
    """The HEALTHCHECK command, in the image's environment (its state dir and config moved
    to a temp dir): unhealthy before the service made its database, and it creates none;
    healthy once the service has run."""
    serve_fixtures(feed_server)
    env = child_env(**{**image_env(), "WATCHER_STATE_DIR": str(tmp_path / "state"),
                       "WATCHER_CONFIG": str(write_config(tmp_path, feed_server))})

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "watcher", *argv[1:]], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              check=False)

    before = run(healthcheck())
    assert before.returncode == 1 and "no database" in before.stderr
    assert not (tmp_path / "state").exists()
    assert run(["watcher", "run", "--once"]).returncode == 0
    assert run(healthcheck()).returncode == 0


def test_compose_runs_the_service_on_postgresql_with_its_state_in_a_volume() -> None:
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"watcher", "web", "db"}
    watcher, db = services["watcher"], services["db"]
    assert watcher["build"] == {"context": "..", "dockerfile": "deploy/Containerfile"}
    assert f"state:{image_env()['WATCHER_STATE_DIR']}" in watcher["volumes"]
    assert watcher["environment"]["WATCHER_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "${POSTGRES_PASSWORD" in watcher["environment"]["WATCHER_DATABASE_URL"]
    assert watcher["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert db["image"].endswith("postgres:15") and "pg_isready" in db["healthcheck"]["test"][1]
    assert set(compose["volumes"]) == {"state", "pgdata"}
    web = services["web"]                       # the workbench (issue 15): same image and database
    assert web["image"] == watcher["image"] and web["command"] == ["web"]
    assert web["environment"]["WATCHER_DATABASE_URL"] == watcher["environment"][
        "WATCHER_DATABASE_URL"]
    assert web["ports"] == ["127.0.0.1:8080:8080"] and web["secrets"] == ["web-users"]
