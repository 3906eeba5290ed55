"""gunicorn.conf.py: every worker listens on its own socket, and a taken port still fails loudly.

The real server is started here (a two-line WSGI app, so no database is needed) because what
matters is what gunicorn does with the file, not what the file says.
"""

import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "gunicorn.conf.py"
HELLO = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'hi']\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_starting(*addresses):
    settings = runpy.run_path(str(CONF))
    settings["on_starting"](SimpleNamespace(cfg=SimpleNamespace(address=list(addresses))))


def test_a_free_port_passes_the_check():
    on_starting(("127.0.0.1", free_port()), "unix-socket-path")


def test_a_port_another_server_listens_on_is_refused():
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a reuse_port gunicorn
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(RuntimeError, match="cannot listen on 127.0.0.1"):
            on_starting(("127.0.0.1", other.getsockname()[1]))


def test_port_zero_is_refused_since_each_worker_would_pick_its_own():
    with pytest.raises(RuntimeError, match="bind one"):
        on_starting(("127.0.0.1", 0))


def listening_sockets(port: int) -> int:
    """LISTEN sockets on 127.0.0.1:port, from /proc/net/tcp (state 0A)."""
    wanted = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == wanted and line.split()[3] == "0A")


def gunicorn(tmp_path: Path, port: int, *flags: str) -> subprocess.Popen:
    (tmp_path / "hello.py").write_text(HELLO)
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(CONF), "--chdir", str(tmp_path),
         "--bind", f"127.0.0.1:{port}", "--workers", "2", *flags, "hello:app"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_for_workers(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 30
    while listening_sockets(port) < 2 and time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()
        time.sleep(0.1)


def test_each_worker_listens_and_a_second_server_on_the_port_fails(tmp_path):
    port = free_port()
    first = gunicorn(tmp_path, port)
    try:
        wait_for_workers(first, port)
        assert listening_sockets(port) == 2  # one per worker, none in the master
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "hi"

        second = gunicorn(tmp_path, port)
        output, _ = second.communicate(timeout=30)
        assert second.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}" in output
        assert listening_sockets(port) == 2  # the second server took nothing
    finally:
        first.terminate()
        first.wait(timeout=30)
    assert f"Workers listen at: 127.0.0.1:{port}" in first.stdout.read()


def test_the_access_log_never_holds_a_reset_token(tmp_path):
    """As the Procfile runs it (access log on): the page is logged, the token is not (a
    password-reset link, an email-confirming one)."""
    port = free_port()
    server = gunicorn(tmp_path, port, "--access-logfile", "-")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_workers(server, port)
        requests.get(f"{base}/auth/password/reset/SeCrEt.ToKeN?x=1", timeout=5)
        requests.post(
            f"{base}/auth/password/reset/SeCrEt.ToKeN",
            headers={"Referer": f"{base}/auth/password/reset/SeCrEt.ToKeN"},
            timeout=5,
        )
        requests.get(f"{base}/auth/email/confirm/An.OtHeR.sEcReT", timeout=5)
        requests.get(f"{base}/auth/login", timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = server.stdout.read()

    assert "SeCrEt" not in log and "sEcReT" not in log
    assert log.count("/auth/password/reset/[token]") == 3  # two paths, one Referer
    assert log.count("/auth/email/confirm/[token]") == 1
    assert '"GET /auth/login HTTP/1.1" 200' in log  # other pages are logged as they were
