"""The database's own limit for a booking: the app's transaction, minus the app.

Each worker process holds one connection and books distinct slots in a loop, doing what
`app.services.booking.book` asks of PostgreSQL: lock the slot FOR UPDATE, check that no active
appointment holds it, insert the appointment and its two outbox rows, commit. Processes, not
threads, so the client's own Python does not become the bottleneck being measured. Bounded by
the number of slots handed out and by a deadline.
"""

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import psycopg
from psycopg.types.json import Jsonb

KEY_PREFIX = "bench-db:"
SPAWN_ALLOWANCE = 3.0  # seconds for the worker processes to start and connect

LOCK = "SELECT id, doctor_id, start_at, end_at FROM availability_slots WHERE id = %s FOR UPDATE"
CHECK = "SELECT id FROM appointments WHERE slot_id = %s AND status <> 'cancelled'"
INSERT_APPOINTMENT = """
INSERT INTO appointments (slot_id, doctor_id, patient_id, start_at, end_at, notes, status,
                          created_at)
VALUES (%s, %s, %s, %s, %s, %s, 'booked', now()) RETURNING id
"""
INSERT_OUTBOX = """
INSERT INTO outbox_messages (kind, payload, idempotency_key, status, attempts, next_attempt_at,
                             created_at)
VALUES ('email', %s, %s, 'pending', 0, now(), now())
"""


@dataclass
class DbResult:
    workers: int
    bookings: int
    seconds: float
    tps: float
    p50_ms: float
    p95_ms: float


def _worker(url: str, jobs: list[tuple[int, int]], start_at: float, seconds: float):
    """Connect, wait for the common start (wall clock: the workers are separate processes),
    book until the jobs or the time run out; return the latencies and when it finished."""
    latencies: list[float] = []
    with psycopg.connect(url) as conn:
        time.sleep(max(0.0, start_at - time.time()))
        for slot_id, patient_id in jobs:
            if time.time() >= start_at + seconds:
                break
            started = time.perf_counter()
            with conn.transaction():
                slot = conn.execute(LOCK, (slot_id,)).fetchone()
                if slot is None or conn.execute(CHECK, (slot_id,)).fetchone() is not None:
                    continue
                appointment_id = conn.execute(
                    INSERT_APPOINTMENT, (slot_id, slot[1], patient_id, slot[2], slot[3], "bench")
                ).fetchone()[0]
                for role in ("patient", "doctor"):
                    payload = {
                        "action": "BOOKING_CONFIRMATION",
                        "to": f"{role}@bench.example",
                        "data": {"appointment_id": appointment_id, "recipient_role": role},
                    }
                    key = f"{KEY_PREFIX}{appointment_id}:{role}"
                    conn.execute(INSERT_OUTBOX, (Jsonb(payload), key))
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies, time.time()


def booking_ceiling(
    url: str, slot_ids: list[int], patient_ids: list[int], workers: int, seconds: float
) -> DbResult:
    jobs = [(slot, patient_ids[i % len(patient_ids)]) for i, slot in enumerate(slot_ids)]
    shares = [jobs[i::workers] for i in range(workers)]
    start_at = time.time() + SPAWN_ALLOWANCE
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_worker, url, share, start_at, seconds) for share in shares]
        results = [future.result(timeout=SPAWN_ALLOWANCE + seconds + 60) for future in futures]
    latencies = sorted(x for lat, _end in results for x in lat)
    bookings = len(latencies)
    window = max(max(end for _lat, end in results) - start_at, 1e-9)
    return DbResult(
        workers=workers,
        bookings=bookings,
        seconds=round(window, 3),
        tps=round(bookings / window, 1) if bookings else 0.0,
        p50_ms=round(_percentile(latencies, 50), 3),
        p95_ms=round(_percentile(latencies, 95), 3),
    )


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * pct / 100))]


def mark_sent(url: str) -> int:
    """The ceiling's outbox rows are measurement, not mail: take them out of the queue."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "UPDATE outbox_messages SET status = 'sent', sent_at = now() "
            "WHERE idempotency_key LIKE %s AND status = 'pending'",
            (KEY_PREFIX + "%",),
        ).rowcount
