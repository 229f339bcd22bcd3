"""A real PostgreSQL server for the tests, started from the Debian binaries.

The server runs from a throw-away data directory on 127.0.0.1 and a free port, with
password (SCRAM) authentication so the tests can check the password never leaks. It is
started once per test session and stopped at teardown. ``initdb`` refuses to run as
root, so under root the server runs as the ``postgres`` system user that the Debian
package creates (``scripts/system-deps.sh`` installs the package when it is missing).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

SERVICE_USER = "postgres"  # the Debian package's system user, used when we are root
ADMIN = "voc_admin"


@dataclass(frozen=True)
class PostgresServer:
    """Where the test server listens and how to log in (superuser, with a password)."""

    host: str
    port: int
    user: str
    password: str

    def dsn(self, dbname: str = "postgres", password: str | None = None) -> str:
        """A libpq key=value DSN; ``password`` overrides the real one (to test failures)."""
        return make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password if password is None else password,
            dbname=dbname,
            connect_timeout=10,
        )


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: run scripts/system-deps.sh "
        "(make system-deps) to install the Debian package `postgresql`"
    )


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that drops root, and the user it drops to (None: not root)."""
    if os.geteuid() != 0:
        return [], None
    try:
        account = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pytest.fail(
            f"running as root, but there is no {SERVICE_USER!r} user to run PostgreSQL as "
            "(initdb refuses root); install the Debian package `postgresql`"
        )
    return ["runuser", "-u", SERVICE_USER, "--"], account


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout}")


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """Create a cluster in a temporary folder, start it, yield it, stop it, delete it."""
    bindir = find_bindir()
    prefix, account = _as_server_user()
    # Not under pytest's tmp_path: that folder is private to the current user, and
    # the server may run as another one.
    base = Path(tempfile.mkdtemp(prefix="voc-pg-"))
    data = base / "data"
    password = secrets.token_urlsafe(18)
    password_file = base / "password"
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    if account is not None:
        for path in (base, password_file):
            os.chown(path, account.pw_uid, account.pw_gid)
    port = free_port()
    log_file = base / "server.log"
    try:
        _run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", ADMIN,
             f"--pwfile={password_file}", "--auth=scram-sha-256", "--encoding=UTF8",
             "--locale=C", "--no-sync"],
            "initdb",
        )  # fmt: skip
        # Durability is of no use for a throw-away test server; speed is.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log_file), "-w",
             "-t", "120", "-o", options, "start"],
            "pg_ctl start",
        )  # fmt: skip
        try:
            yield PostgresServer(host="127.0.0.1", port=port, user=ADMIN, password=password)
        finally:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=120,
                check=False,
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the whole test session."""
    with running_server() as server:
        yield server


@pytest.fixture
def postgres_db(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for one test; yields its DSN (with the password)."""
    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(postgres_server.dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_server.dsn(name)
    finally:
        with psycopg.connect(postgres_server.dsn(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
