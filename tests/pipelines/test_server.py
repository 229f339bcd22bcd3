"""End to end against a real Prefect server: serve the deployments, trigger an ad hoc run.

``prefect server start`` and ``voc serve`` run as subprocesses, each in its own
process group, with their own ``PREFECT_HOME`` in the test's temporary folder; both
groups are killed on teardown whatever happened. The run uses the real default
sentence encoder (it works offline) on the bundled demo reviews, with topics off to
keep the test to about two minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(check, timeout: float, what: str, processes=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"{what}: {process.args[:3]} exited with {process.returncode}")
        result = check()
        if result:
            return result
        time.sleep(2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def _process_group(command: list[str], env: dict[str, str], log: Path):
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)


async def _flow_run_state(flow_run_id: str):
    from prefect import get_client

    async with get_client() as client:
        run = await client.read_flow_run(flow_run_id)
        return run.state


async def _deployment_exists(name: str) -> bool:
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            await client.read_deployment_by_name(name)
        except ObjectNotFound:
            return False
        return True


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_served_adhoc_deployment_runs_on_a_real_server(tmp_path, demo_dir):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    home = tmp_path / "prefect_home"
    home.mkdir()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }
    out = tmp_path / "out"
    config = tmp_path / "voc.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [{"path": str(demo_dir / "reviews_shop_a.csv")}],
                "topics": {"enabled": False},
                "publish": {"out_dir": str(out)},
            }
        ),
        encoding="utf-8",
    )
    server_cmd = [
        str(BIN / "prefect"),
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    serve_cmd = [sys.executable, "-m", "pipelines.serve", "--config", str(config)]
    with (
        _process_group(server_cmd, env, tmp_path / "server.log") as server,
        temporary_settings({PREFECT_API_URL: api}),
    ):
        _wait_until(lambda: _healthy(api), 180, "prefect server health", [server])
        with _process_group(serve_cmd, env, tmp_path / "serve.log") as served:
            _wait_until(
                lambda: asyncio.run(_deployment_exists("voc-adhoc/adhoc")),
                120,
                "deployment voc-adhoc/adhoc registered",
                [server, served],
            )
            trigger = [str(BIN / "prefect"), "deployment", "run", "voc-adhoc/adhoc"]
            for param in ('products=["蓝牙降噪耳机"]', "start=2026-10-01", "end=2026-10-15"):
                trigger += ["--param", param]
            triggered = subprocess.run(
                trigger,
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert triggered.returncode == 0, triggered.stderr
            flow_run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", triggered.stdout).group(1)
            state = _wait_until(
                lambda: (s := asyncio.run(_flow_run_state(flow_run_id))).is_final() and s,
                240,
                "ad hoc flow run finished",
                [server, served],
            )
            assert state.is_completed(), (
                f"{state.name}: {state.message}\n"
                + (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
            )

    with duckdb.connect(str(out / "voc.duckdb"), read_only=True) as con:
        products, first, last, documents = con.execute(
            "SELECT count(DISTINCT product), min(date), max(date), count(*) FROM documents"
        ).fetchone()
        (units,) = con.execute("SELECT count(*) FROM units").fetchone()
    assert products == 1 and documents > 0 and units >= documents
    assert dt.date(2026, 10, 1) <= first <= last <= dt.date(2026, 10, 15)
