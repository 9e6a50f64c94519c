"""`lantern services up|status|down` on a second pair of servers (own ports and state folder),
so the session's shared services stay up for the other tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from services.settings import Settings


def _lantern(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lantern.cli", *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture
def isolated_env():
    base = Settings()
    state = base.home / f"test-state-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LANTERN_")},
        "LANTERN_HOME": str(base.home),  # share the downloaded releases
        "LANTERN_STATE_DIR": str(state),
        "LANTERN_OPENSEARCH_PORT": "19200",
        "LANTERN_OPENSEARCH_TRANSPORT_PORT": "19300",
        "LANTERN_TIKA_PORT": "19998",
        "LANTERN_OPENSEARCH_HEAP": "512m",
        "LANTERN_TIKA_HEAP": "512m",
        "COLUMNS": "200",
    }
    yield env, state
    _lantern(env, "services", "down")
    shutil.rmtree(state, ignore_errors=True)


def _pids(state) -> list[int]:
    return [int((state / name / f"{name}.pid").read_text()) for name in ("opensearch", "tika") if (state / name / f"{name}.pid").exists()]


def test_status_is_up_after_up_and_down_after_down(isolated_env):
    env, state = isolated_env
    up = _lantern(env, "services", "up")
    assert up.returncode == 0, up.stdout + up.stderr

    status = _lantern(env, "services", "status")
    assert status.returncode == 0, status.stdout
    lines = [line for line in status.stdout.splitlines() if "opensearch" in line or "tika" in line]
    assert len(lines) == 2 and all(" up " in line for line in lines), status.stdout
    assert "127.0.0.1:19200" in status.stdout and "127.0.0.1:19998" in status.stdout
    pids = _pids(state)
    assert len(pids) == 2

    down = _lantern(env, "services", "down")
    assert down.returncode == 0
    assert "opensearch: stopped" in down.stdout + down.stderr

    status = _lantern(env, "services", "status")
    assert status.returncode == 3
    lines = [line for line in status.stdout.splitlines() if "opensearch" in line or "tika" in line]
    assert len(lines) == 2 and all(" down " in line for line in lines), status.stdout
    for pid in pids:  # every process started is gone, Tika's forked child included (same process group)
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)


def test_configured_urls_are_used_and_nothing_is_started(isolated_env):
    env, state = isolated_env
    env = {**env, "LANTERN_OPENSEARCH_URL": "http://127.0.0.1:1", "LANTERN_TIKA_URL": "http://127.0.0.1:1"}
    status = _lantern(env, "services", "status")
    assert status.returncode == 3
    assert "external" in status.stdout and "127.0.0.1:1" in status.stdout
    down = _lantern(env, "services", "down")
    assert "left running" in down.stdout + down.stderr
    assert not (state / "opensearch").exists()
