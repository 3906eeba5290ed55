"""The exact checks: one winner per slot under contention, each outbox message delivered once."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import requests
from psycopg.types.json import Jsonb

from bench import servers
from bench.sessions import Browser

BARRIER_TIMEOUT = 60
REQUEST_TIMEOUT = 60


@dataclass
class ContentionResult:
    patients: int
    servers: int
    statuses: dict
    winners_in_db: int
    seconds: float

    @property
    def passed(self) -> bool:
        five_xx = sum(n for code, n in self.statuses.items() if str(code).startswith("5"))
        return (
            self.statuses.get(302, 0) == 1
            and self.statuses.get(409, 0) == self.patients - 1
            and five_xx == 0
            and self.winners_in_db == 1
        )


def contention(bases: list[str], browsers: list[Browser], slot_id: int, url: str):
    """Every browser books `slot_id` at the same instant (a Barrier releases the threads
    together), spread round-robin over `bases`. Exactly one 302, the rest 409, no 5xx."""
    barrier = threading.Barrier(len(browsers))
    statuses: list[object] = [None] * len(browsers)

    for browser in browsers:
        # Drop pooled keep-alive connections: the server may be closing an idle one just as
        # a POST goes out on it, and that race would be the harness's failure, not the app's.
        browser.http.close()

    def attempt(index: int) -> None:
        browser = browsers[index]
        target = f"{bases[index % len(bases)]}/booking/slots/{slot_id}"
        form = {"csrf_token": browser.csrf_token, "notes": "contention"}
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT)
            answer = browser.http.post(
                target, data=form, allow_redirects=False, timeout=REQUEST_TIMEOUT
            )
            statuses[index] = answer.status_code
        except (requests.RequestException, threading.BrokenBarrierError) as error:
            statuses[index] = type(error).__name__

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(browsers))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BARRIER_TIMEOUT + REQUEST_TIMEOUT + 10)
    seconds = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        winners = conn.execute(
            "SELECT count(*) FROM appointments WHERE slot_id = %s AND status <> 'cancelled'",
            (slot_id,),
        ).fetchone()[0]
    return ContentionResult(
        patients=len(browsers),
        servers=len(bases),
        statuses=dict(sorted(Counter(statuses).items(), key=lambda kv: str(kv[0]))),
        winners_in_db=winners,
        seconds=round(seconds, 3),
    )


@dataclass
class DrainResult:
    workers: int
    expected: int
    delivered: int
    duplicates: int
    missing: int
    unexpected: int
    left_in_queue: int
    seconds: float
    rate: float
    worker_peak_rss_mib: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.duplicates == 0 and self.missing == 0 and self.left_in_queue == 0


# Only the messages queued before the workers start: the worker also queues new ones of its own
# while it runs (appointment reminders), and those are not part of the check.
QUEUED = "SELECT count(*) FROM outbox_messages WHERE status IN ('pending', 'failed') AND id <= %s"
DUE = (
    "SELECT count(*) FROM outbox_messages "
    "WHERE status IN ('pending', 'failed') AND next_attempt_at <= now()"
)


def queue_messages(url: str, count: int, tag: str) -> None:
    """`count` fresh emails due now, as a busy morning of bookings would leave them."""
    with (
        psycopg.connect(url) as conn,
        conn.cursor() as cur,
        cur.copy(
            "COPY outbox_messages (kind, payload, idempotency_key, status, attempts, "
            "next_attempt_at, created_at) FROM STDIN"
        ) as copy,
    ):
        now = datetime.now(UTC)
        for n in range(count):
            payload = {
                "action": "APPOINTMENT_REMINDER",
                "to": f"patient{n}@bench.example",
                "data": {"n": n},
            }
            copy.write_row(["email", Jsonb(payload), f"{tag}:{n}", "pending", 0, now, now])


def wait_for_empty_queue(url: str, worker: servers.Process, timeout: float) -> None:
    """Until no message is due (the worker has sent what there was), or fail."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute(DUE).fetchone()[0]:
            if not worker.alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{worker.name} did not empty the queue:\n{worker.tail()}")
            time.sleep(0.1)


def drain(url: str, env: dict, receiver: str, log_dir: Path, workers: int, timeout: float):
    """Start `workers` outbox workers on one queue; wait until it is empty (or `timeout`)."""
    # Forget earlier deliveries first: one arriving between the two steps is then "unexpected",
    # never a false "missing".
    requests.post(f"{receiver}/reset", timeout=10)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, idempotency_key FROM outbox_messages WHERE status IN ('pending', 'failed')"
        ).fetchall()
    expected = {key for _id, key in rows}
    last_id = max((message_id for message_id, _key in rows), default=0)
    processes = [
        servers.Process(f"outbox-worker-{n}", servers.OUTBOX_WORKER, env, log_dir)
        for n in range(1, workers + 1)
    ]
    started = time.perf_counter()
    first_sent = None  # the workers' start-up (importing the app) is not delivery time
    peaks: dict[int, float] = {}
    left = len(expected)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            while time.perf_counter() - started < timeout:
                for process in processes:
                    peaks[process.pid] = servers.vm_hwm_mib(process.pid) or peaks.get(process.pid)
                left = conn.execute(QUEUED, (last_id,)).fetchone()[0]
                if first_sent is None and left < len(expected):
                    first_sent = time.perf_counter()
                if left == 0 or not any(p.alive() for p in processes):
                    break
                time.sleep(0.05)
        finished = time.perf_counter()
        seconds = finished - (first_sent or started)
    finally:
        for process in processes:
            process.stop()
    received = requests.get(f"{receiver}/stats", timeout=30).json()["ids"]
    delivered = sum(1 for key in expected if received.get(key))
    return DrainResult(
        workers=workers,
        expected=len(expected),
        delivered=delivered,
        duplicates=sum(max(n - 1, 0) for n in received.values()),
        missing=len(expected) - delivered,
        unexpected=sum(1 for key in received if key not in expected),
        left_in_queue=left,
        seconds=round(seconds, 3),
        rate=round(len(expected) / seconds, 1) if seconds else 0.0,
        worker_peak_rss_mib=[peaks.get(p.pid) for p in processes],
    )
