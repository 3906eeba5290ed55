"""The processes a benchmark runs: gunicorn, the email receiver, outbox workers.

Each is started by the harness, logs to a file in the run's work directory, and is stopped by
its own pid (SIGTERM, then SIGKILL after a grace period). Memory is read from /proc: VmHWM is
the peak resident set a process has reached, which is what sizing a machine needs.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv running the harness has gunicorn and flask


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 15.0) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=grace)
        self._log.close()

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_up(url: str, process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not answer {url} within {timeout:.0f} s")


def start_gunicorn(name: str, port: int, env: dict, log_dir: Path) -> Process:
    command = [
        str(BIN / "gunicorn"),
        "--bind", f"127.0.0.1:{port}",
        "--config", str(REPO / "gunicorn.conf.py"),  # as in the Procfile
        "--access-logfile", "-",
        "wsgi:app",
    ]  # fmt: skip
    process = Process(name, command, env, log_dir)
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    return process


OUTBOX_WORKER = [str(BIN / "flask"), "--app", "wsgi", "outbox", "run"]  # as in the Procfile


def start_outbox_worker(name: str, env: dict, log_dir: Path, timeout: float = 60.0) -> Process:
    """`flask outbox run`, as the Procfile starts it; returns once it says it has started."""
    process = Process(name, OUTBOX_WORKER, env, log_dir)
    deadline = time.monotonic() + timeout
    while "Outbox worker started" not in process.log_path.read_text(errors="replace"):
        if not process.alive() or time.monotonic() > deadline:
            process.stop()
            raise RuntimeError(f"{name} did not start:\n{process.tail()}")
        time.sleep(0.1)
    return process


def start_receiver(port: int, env: dict, log_dir: Path) -> Process:
    command = [sys.executable, "-m", "bench.receiver", "--port", str(port)]
    process = Process("receiver", command, env, log_dir)
    wait_until_up(f"http://127.0.0.1:{port}/stats", process)
    return process


def flask(args: list[str], env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def children(pid: int) -> list[int]:
    """Direct children of `pid` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after the last ')'
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def vm_hwm_mib(pid: int) -> float | None:
    """Peak resident set size of a live process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def app_env(database_url: str, receiver_port: int, secrets: dict) -> dict:
    """Production configuration, as an operator would set it, with the limiter off so the load
    is not throttled, and the query-count header on so pages can be costed in queries. Two-step
    sign-in is not asked of the admin: the harness signs in with a password, and a page costs
    the same once past the sign-in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HMS_", "FLASK_"))}
    env.update(
        HMS_ENV="production",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets["SECRET_KEY"],
        EMAIL_SERVICE_SECRET=secrets["EMAIL_SERVICE_SECRET"],
        EMAIL_SERVICE_URL=f"http://127.0.0.1:{receiver_port}/dev/send-email",
        RATELIMIT_ENABLED="false",
        TWO_STEP_REQUIRED_ROLES="",
        HMS_QUERY_COUNT_HEADER="1",
        PUBLIC_BASE_URL="http://127.0.0.1",
    )
    return env


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # the command name may hold spaces


def _cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """CPU time (user + system) a process has used; with `reaped_children`, also that of its
    children that have exited (PostgreSQL's backends of closed connections)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def postmaster_pid() -> int | None:
    """The throwaway cluster's server process (`make bench` exports PGTEST_DIR), or None
    against a PostgreSQL of the operator's own."""
    data = os.environ.get("PGTEST_DIR")
    try:
        return int(Path(data, "data", "postmaster.pid").read_text().split()[0]) if data else None
    except (OSError, ValueError, IndexError):
        return None


class CpuMeter:
    """CPU seconds used so far by gunicorn's workers and by PostgreSQL, read from /proc: what a
    run cost the server, per request, whatever else the machine was doing (unlike latency).
    `helpers` (name: pid) are read on their own: the email receiver, an outbox worker."""

    def __init__(self, gunicorn_pid: int, **helpers: int | None):
        self.workers = children(gunicorn_pid)
        self.postmaster = postmaster_pid()
        self.helpers = {name: pid for name, pid in helpers.items() if pid is not None}

    def read(self) -> tuple[float, float | None]:
        app = sum(_cpu_seconds(pid) for pid in self.workers)
        if self.postmaster is None:
            return app, None
        db = _cpu_seconds(self.postmaster, reaped_children=True)
        db += sum(_cpu_seconds(pid) for pid in children(self.postmaster))
        return app, db

    def read_helpers(self) -> dict[str, float]:
        return {name: _cpu_seconds(pid) for name, pid in self.helpers.items()}
