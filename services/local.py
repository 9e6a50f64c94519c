"""Run the embedded OpenSearch node and Tika server on loopback, without Docker.

`up` installs (see `services.install`), starts whatever is not already running and waits
until both answer; `down` stops what `up` started (pid files under `<home>/state`);
`status` reports each service. When `LANTERN_OPENSEARCH_URL` or `LANTERN_TIKA_URL` is set,
that service is external: Lantern only checks its health and never starts or stops it.

OpenSearch refuses to run as root, so when Lantern runs as root both servers run as an
unprivileged system user (`LANTERN_SERVICE_USER`, created if missing). Tika parses hostile
files, so it gets the same treatment.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from services import install, versions
from services.clients import opensearch_credentials, tls_verify
from services.settings import Settings

Say = Callable[[str], None]


class ServiceError(RuntimeError):
    """A local service could not be started, or did not become healthy."""


@dataclass
class ServiceStatus:
    """What `lantern services status` shows for one service."""

    name: str
    url: str
    managed: bool  # started and stopped by Lantern (False when the URL is configured)
    pid: int | None
    healthy: bool
    detail: str


def state_dir(settings: Settings, name: str) -> Path:
    return settings.services_state_dir / name


def _pid_file(settings: Settings, name: str) -> Path:
    return state_dir(settings, name) / f"{name}.pid"


def _read_pid(settings: Settings, name: str) -> int | None:
    """The pid from the pid file if that process is still alive, else None."""
    try:
        pid = int(_pid_file(settings, name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return None if _reap(pid) else pid


def _reap(pid: int) -> bool:
    """True if `pid` is a dead child of this process (a zombie after a kill), which it reaps.

    A server started by this process (say, Tika restarted mid-ingest) and then killed stays a
    zombie that `kill(pid, 0)` still finds until it is waited for.
    """
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return reaped == pid


def _java_home(settings: Settings) -> Path:
    if settings.java_home:
        return settings.java_home
    java = shutil.which("java")
    if not java:
        raise ServiceError("Java 17+ is needed to run OpenSearch and Tika: install a JDK or set LANTERN_JAVA_HOME")
    return Path(java).resolve().parent.parent


def _service_user(settings: Settings) -> pwd.struct_passwd | None:
    """The unprivileged account to run servers as when we are root (created on first use)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(settings.service_user)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", settings.service_user],
            check=True,
        )
        return pwd.getpwnam(settings.service_user)


def _own(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid)


def _opensearch_config(settings: Settings, state: Path) -> None:
    config = state / "config"
    (config / "jvm.options.d").mkdir(parents=True, exist_ok=True)
    (config / "opensearch.yml").write_text(
        "cluster.name: lantern\n"
        "node.name: lantern-1\n"
        f"path.data: {state / 'data'}\n"
        f"path.logs: {state / 'logs'}\n"
        "network.host: 127.0.0.1\n"
        f"http.port: {settings.opensearch_port}\n"
        f"transport.port: {settings.opensearch_transport_port}\n"
        "discovery.type: single-node\n"
        # A dev machine's disk may be fuller than a server's; do not go read-only at 85%.
        "cluster.routing.allocation.disk.threshold_enabled: false\n"
        "action.auto_create_index: false\n"
    )
    heap = settings.opensearch_heap
    (config / "jvm.options").write_text(
        f"-Xms{heap}\n-Xmx{heap}\n"
        "-XX:+UseG1GC\n-XX:G1ReservePercent=25\n-XX:InitiatingHeapOccupancyPercent=30\n"
        "-Djava.io.tmpdir=${OPENSEARCH_TMPDIR}\n"
        "-XX:+HeapDumpOnOutOfMemoryError\n"
        f"-XX:HeapDumpPath={state / 'data'}\n"
        f"-XX:ErrorFile={state / 'logs'}/hs_err_pid%p.log\n"
        f"-Xlog:gc*:file={state / 'logs'}/gc.log:utctime,pid,tags:filecount=4,filesize=16m\n"
        "-Djava.security.manager=allow\n"
        "-Djava.util.concurrent.ForkJoinPool.common.threadFactory="
        "org.opensearch.secure_sm.SecuredForkJoinWorkerThreadFactory\n"
    )
    shutil.copy2(install.opensearch_home(settings) / "config" / "log4j2.properties", config / "log4j2.properties")


def _tika_config(settings: Settings, state: Path) -> Path:
    config = state / "tika-config.xml"
    config.write_text(
        "<properties>\n  <server>\n    <params>\n"
        "      <host>127.0.0.1</host>\n"
        f"      <port>{settings.tika_port}</port>\n"
        # Tika's watchdog restarts its forked parser when a task (or an idle child's status) is
        # older than this; below about a minute it restarts an idle child again and again.
        f"      <taskTimeoutMillis>{int(max(settings.tika_timeout_seconds, 60) * 1000)}</taskTimeoutMillis>\n"
        "      <forkedJvmArgs>\n"
        f"        <arg>-Xmx{settings.tika_heap}</arg>\n"
        f"        <arg>-Djava.io.tmpdir={state / 'tmp'}</arg>\n"
        "      </forkedJvmArgs>\n"
        "    </params>\n  </server>\n</properties>\n"
    )
    return config


def _launch(settings: Settings, name: str, command: list[str], env: dict[str, str]) -> int:
    state = state_dir(settings, name)
    user = _service_user(settings)
    _own(state, user)
    log = (state / "logs" / f"{name}.out").open("ab")
    process = subprocess.Popen(
        command,
        cwd=state,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so `down` stops Tika's forked child too
        user=user.pw_uid if user else None,
        group=user.pw_gid if user else None,
        extra_groups=[] if user else None,
    )
    _pid_file(settings, name).write_text(f"{process.pid}\n")
    return process.pid


def _prepare_state(settings: Settings, name: str) -> Path:
    state = state_dir(settings, name)
    for sub in ("data", "logs", "tmp", "config"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    return state


def start_opensearch(settings: Settings) -> int:
    state = _prepare_state(settings, "opensearch")
    _opensearch_config(settings, state)
    java_home = str(_java_home(settings))
    env = {
        "OPENSEARCH_PATH_CONF": str(state / "config"),
        "OPENSEARCH_TMPDIR": str(state / "tmp"),
        "OPENSEARCH_JAVA_HOME": java_home,
        "JAVA_HOME": java_home,
    }
    return _launch(settings, "opensearch", [str(install.opensearch_home(settings) / "bin" / "opensearch")], env)


def start_tika(settings: Settings) -> int:
    state = _prepare_state(settings, "tika")
    config = _tika_config(settings, state)
    java = str(_java_home(settings) / "bin" / "java")
    command = [java, "-Xmx256m", f"-Djava.io.tmpdir={state / 'tmp'}", "-jar", str(install.tika_jar(settings)), "-c", str(config)]
    # Tesseract's OpenMP threads spin against each other when Tika runs several OCR jobs at once:
    # one thread each is twice as fast per image here, and the ingest's workers supply the parallelism.
    return _launch(settings, "tika", command, {"OMP_THREAD_LIMIT": "1"})


def check_opensearch(url: str, settings: Settings) -> tuple[bool, str]:
    """(healthy, detail) for an OpenSearch endpoint: healthy means cluster green or yellow."""
    try:
        response = httpx.get(f"{url}/_cluster/health", timeout=3, auth=opensearch_credentials(settings), verify=tls_verify(settings))
        status = response.json().get("status", "unknown")
    except (httpx.HTTPError, ValueError) as exc:
        return False, f"not answering ({exc.__class__.__name__})"
    return status in ("green", "yellow"), f"cluster {status}"


def check_tika(url: str) -> tuple[bool, str]:
    """(healthy, detail) for a Tika server: healthy means `/version` answers."""
    try:
        response = httpx.get(f"{url}/version", timeout=3)
    except httpx.HTTPError as exc:
        return False, f"not answering ({exc.__class__.__name__})"
    return response.status_code == 200, response.text.strip()


def status(settings: Settings) -> list[ServiceStatus]:
    """The state of both services, whether Lantern runs them or they are configured externally."""
    os_url, tika_url = settings.effective_opensearch_url, settings.effective_tika_url
    os_ok, os_detail = check_opensearch(os_url, settings)
    tika_ok, tika_detail = check_tika(tika_url)
    return [
        ServiceStatus("opensearch", os_url, not settings.opensearch_url, _read_pid(settings, "opensearch"), os_ok, os_detail),
        ServiceStatus("tika", tika_url, not settings.tika_url, _read_pid(settings, "tika"), tika_ok, tika_detail),
    ]


def _wait_healthy(check: Callable[[], tuple[bool, str]], name: str, pid: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        healthy, _ = check()
        if healthy:
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise ServiceError(f"{name} exited during start-up; see {log}") from None
        time.sleep(1)
    raise ServiceError(f"{name} did not become healthy within {timeout:.0f}s; see {log}")


def _port_taken(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def up(settings: Settings, say: Say = print, timeout: float = 180) -> list[ServiceStatus]:
    """Install and start the local services that are not configured externally; wait for health."""
    install.install_all(settings, say)
    starts = []
    if not settings.opensearch_url:
        starts.append(("opensearch", settings.opensearch_port, start_opensearch,
                       lambda: check_opensearch(settings.local_opensearch_url, settings)))
    if not settings.tika_url:
        starts.append(("tika", settings.tika_port, start_tika, lambda: check_tika(settings.local_tika_url)))
    launched = []
    for name, port, start, check in starts:
        if _read_pid(settings, name) is None:
            if _port_taken(port):
                raise ServiceError(
                    f"port {port} is in use by a process Lantern did not start; stop it, or set "
                    f"LANTERN_{name.upper()}_URL to use it, or choose another LANTERN_{name.upper()}_PORT"
                )
            say(f"starting {name} on 127.0.0.1:{port}")
            launched.append((name, start(settings), check))
        else:
            launched.append((name, _read_pid(settings, name), check))
    for name, pid, check in launched:
        _wait_healthy(check, name, pid, state_dir(settings, name) / "logs" / f"{name}.out", timeout)
    return status(settings)


def _stop_one(settings: Settings, name: str, timeout: float) -> bool:
    pid = _read_pid(settings, name)
    if pid is None:
        _pid_file(settings, name).unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.killpg(pid, signal.SIGKILL)
    _pid_file(settings, name).unlink(missing_ok=True)
    return True


def restart_tika(settings: Settings, timeout: float = 180) -> None:
    """Stop the local Tika Lantern started (hung or dead) and start it again; wait until it answers.

    Only for the Tika Lantern runs: a configured LANTERN_TIKA_URL, or a server on the port that
    Lantern did not start, is never touched (ServiceError).
    """
    if settings.tika_url:
        raise ServiceError(f"Tika at {settings.tika_url} is external; Lantern does not restart it")
    _stop_one(settings, "tika", timeout=15)
    deadline = time.monotonic() + 15
    while _port_taken(settings.tika_port) and time.monotonic() < deadline:
        time.sleep(0.2)  # a killed server takes a moment to release its socket
    if _port_taken(settings.tika_port):
        raise ServiceError(f"port {settings.tika_port} is held by a Tika that Lantern did not start; not restarting it")
    pid = start_tika(settings)
    _wait_healthy(lambda: check_tika(settings.local_tika_url), "tika", pid,
                  state_dir(settings, "tika") / "logs" / "tika.out", timeout)


def recover_tika(settings: Settings) -> bool:
    """After a failed Tika call: True if Tika answers, restarting the local one first when it does not
    (and LANTERN_TIKA_RESTART allows). Never raises; a failed restart is False."""
    if check_tika(settings.effective_tika_url)[0]:
        return True
    if settings.tika_url or not settings.tika_restart:
        return False
    try:
        restart_tika(settings)
    except (ServiceError, OSError):
        return False
    return True


def down(settings: Settings, say: Say = print, timeout: float = 60) -> None:
    """Stop the services Lantern started (external ones are left alone)."""
    for name, external in (("opensearch", settings.opensearch_url), ("tika", settings.tika_url)):
        if external:
            say(f"{name}: external ({external}), left running")
        elif _stop_one(settings, name, timeout):
            say(f"{name}: stopped")
        else:
            say(f"{name}: was not running")


__all__ = ["ServiceError", "ServiceStatus", "down", "recover_tika", "restart_tika", "status", "up", "versions"]
