"""gunicorn settings shared by the Procfile and the benchmark (`gunicorn -c gunicorn.conf.py`).

Command-line flags still win over these, as usual with gunicorn.
"""

import gc
import re
import socket

from gunicorn.glogging import Logger

workers = 2  # one per core on the 2-core machine the benchmark runs on: size to the cores
# Two threads: one request runs while another waits on the database, the email service or
# argon2 (which releases the GIL). More threads than that only take turns at the GIL: with 4,
# every page cost its worker more CPU per request and served fewer per second (bench/README.md,
# "Fourth pass"). A hung email service cannot hold them: after-response delivery stands aside
# after one failure (OUTBOX_AFTER_RESPONSE_PAUSE_SECONDS).
threads = 2

# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new connections
# over them. With one shared socket, whichever worker wakes first accepts a whole burst of
# connections: keep-alive clients (a load balancer, or the benchmark's 8 connections) then stay
# on one worker, one GIL and one core while the others idle. The benchmark saw one worker take
# all 8 connections in three runs out of four; with this, both work.
reuse_port = True

# A password-reset or email-confirming link is a bearer secret until it is used or expires: the
# access log keeps which page was asked for, never the token (in the request line, the path, or
# the Referer of the form's own POST and of the page after it).
_SECRET_LINK = re.compile(r"(/auth/(?:password/reset|email/confirm)/)[^/?#\s\"]+")


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and "/auth/" in value:
                atoms[key] = _SECRET_LINK.sub(r"\1[token]", value)
        return atoms


logger_class = AccessLogger


def on_starting(server):
    """With reuse_port the master binds nothing and every worker binds with SO_REUSEPORT, which
    would silently share the port with another server of the same user already on it (a second
    `make run`, a stale instance). Bind each address once without the flag first, so that a taken
    port fails at start-up as it does without reuse_port."""
    for address in server.cfg.address:
        if not isinstance(address, tuple):
            continue  # a Unix socket or an inherited file descriptor: nothing to share
        host, port = address
        if port == 0:
            raise RuntimeError("with reuse_port every worker would pick its own port: bind one")
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
            try:
                probe.bind((host, port))
            except OSError as error:
                raise RuntimeError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def when_ready(server):
    """The master's own "Listening at:" line is empty with reuse_port (it binds nothing): say
    where the workers listen."""
    addresses = ", ".join(
        f"{a[0]}:{a[1]}" if isinstance(a, tuple) else str(a) for a in server.cfg.address
    )
    server.log.info("Workers listen at: %s (a socket each, reuse_port)", addresses)


def post_worker_init(worker):
    """Everything loaded so far (the app, SQLAlchemy's mappers, the libraries) lives as long as
    the worker: keep it out of the cyclic collector's full passes. Without this a full
    collection walked some 150,000 objects and paused every thread of the worker for about
    100 ms every few thousand requests; with it, under 1 ms."""
    gc.freeze()
