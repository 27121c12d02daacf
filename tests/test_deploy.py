"""deploy/: what can be checked without a server: the systemd units (`systemd-analyze
verify`), the nginx site (`nginx -t`), the compose file (parsed), the Dockerfile and its entry
point (a careful reading); the licence files shipped; `python -m bot` and shell completion."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
INSTALLED_VANDRA = "/srv/vandra/app/.venv/bin/vandra"


def unit(name: str) -> dict[str, list[str]]:
    """A unit file's ``Key=value`` lines, values by key (a key may repeat)."""
    values: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_the_service_is_hardened() -> None:
    service = unit("vandra.service")
    expected = {
        "User": "vandra",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": "",
        "ExecStart": f"{INSTALLED_VANDRA} run",
        "RestartPreventExitStatus": "2",
    }
    for key, value in expected.items():
        assert service.get(key) == [value], key
    assert "/srv/vandra/data" in service["ReadWritePaths"][0].split()


def test_the_backup_runs_nightly_and_keeps_30_days() -> None:
    timer, service = unit("vandra-backup.timer"), unit("vandra-backup.service")
    assert timer["OnCalendar"] and timer["Persistent"] == ["true"]
    backup, prune = service["ExecStart"]
    assert f"{INSTALLED_VANDRA} db backup --out /var/backups/vandra/" in backup
    assert "-mtime +30 -delete" in prune
    assert service["User"] == ["vandra"] and service["ProtectSystem"] == ["strict"]
    assert "/var/backups/vandra" in service["ReadWritePaths"][0].split()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_units_verify(tmp_path: Path) -> None:
    """`systemd-analyze verify` finds nothing to say (it prints every problem; the program
    paths point at this checkout's vandra, since /srv/vandra does not exist here)."""
    vandra = Path(sys.executable).with_name("vandra")
    assert vandra.exists()
    for source in UNITS:
        (tmp_path / source.name).write_text(
            source.read_text().replace(INSTALLED_VANDRA, str(vandra))
        )
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(map(str, tmp_path.iterdir()))],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    about_ours = [
        line for line in (result.stdout + result.stderr).splitlines()
        if any(source.name in line for source in UNITS)
    ]
    assert result.returncode == 0 and about_ours == [], result.stdout + result.stderr


def _nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


@pytest.mark.skipif(_nginx() is None, reason="nginx missing (.ci/run installs nginx-light)")
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl missing")
def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    """The site, with a throwaway certificate in place of the real one, in a minimal nginx.conf."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-days", "1", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )
    site = (DEPLOY / "nginx" / "vandra.conf").read_text()
    live = "/etc/letsencrypt/live/vandra.kalmar.example"
    site = site.replace(f"{live}/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace(f"{live}/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {tmp_path}/site.conf;\n}}\n"
    )
    nginx = _nginx()
    assert nginx is not None
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_site_limits_bodies_and_keeps_metrics_inside() -> None:
    site = (DEPLOY / "nginx" / "vandra.conf").read_text()
    assert re.search(r"^\s*client_max_body_size \d+[km];", site, re.M)
    assert re.search(r"location = /metrics \{ return 404; \}", site)
    assert "ssl_certificate " in site and "return 301 https://" in site


def test_compose_runs_vandra_with_postgresql_16() -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML (a dev dependency) is missing")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    db, vandra = compose["services"]["db"], compose["services"]["vandra"]
    assert db["image"] == "postgres:16"
    assert set(db["environment"]) == {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"}
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert set(compose["volumes"]) >= {v.split(":")[0] for v in db["volumes"]}
    assert vandra["depends_on"]["db"]["condition"] == "service_healthy"
    assert (DEPLOY / vandra["build"]["context"] / vandra["build"]["dockerfile"]).is_file()
    assert vandra["environment"]["VANDRA_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert vandra["ports"] == ["127.0.0.1:8080:8080"]
    assert (DEPLOY / "vandra.env.example").is_file()


DOCKER_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined: (INSTRUCTION, arguments)."""
    instructions, pending = [], ""
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword, arguments.strip()))
        pending = ""
    assert not pending, "a continuation line ends the file"
    return instructions


def test_dockerfile_is_slim_non_root_healthchecked_and_upgrades_first() -> None:
    instructions = dockerfile()
    for keyword, _ in instructions:
        assert keyword in DOCKER_INSTRUCTIONS, keyword
    bases = [args for keyword, args in instructions if keyword == "FROM"]
    assert bases and all("-slim" in base for base in bases)
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    (health,) = [args for keyword, args in instructions if keyword == "HEALTHCHECK"]
    assert "/healthz" in health
    for keyword, args in instructions:
        if keyword == "COPY" and not args.startswith("--from"):
            *sources, _target = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    (entry,) = [args for keyword, args in instructions if keyword == "ENTRYPOINT"]
    assert "vandra-entrypoint" in entry
    script = (DEPLOY / "docker-entrypoint.sh").read_text()
    assert script.index("vandra db upgrade") < script.index("exec vandra run")
    assert os.access(DEPLOY / "docker-entrypoint.sh", os.X_OK)
    subprocess.run(["sh", "-n", str(DEPLOY / "docker-entrypoint.sh")], check=True)


def test_licences_are_shipped() -> None:
    """LICENSE (MIT) and the Telegram spec's notice are the package's licence files, which
    setuptools puts into the sdist and the wheel's .dist-info/licenses/."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE", "fakes/TELEGRAM_SPEC_LICENSE.md"]
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "vandra contributors" in licence
    assert "MIT" in (ROOT / "fakes" / "TELEGRAM_SPEC_LICENSE.md").read_text()


def test_python_m_bot_runs_the_cli_and_completes() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VANDRA_", "_VANDRA"))}
    helped = subprocess.run(
        [sys.executable, "-m", "bot", "db", "--help"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )
    assert helped.returncode == 0 and "Usage: vandra db" in helped.stdout
    assert "backup" in helped.stdout and "restore" in helped.stdout
    completed = subprocess.run(
        [sys.executable, "-m", "bot"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**env, "_VANDRA_COMPLETE": "bash_complete", "COMP_WORDS": "vandra db b",
             "COMP_CWORD": "2"},
    )
    assert completed.returncode == 0 and completed.stdout.split() == ["plain,backup"]
