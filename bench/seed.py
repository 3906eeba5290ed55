"""A clinic at scale, written straight into PostgreSQL with COPY.

Going through the services would hash 21,000 passwords with argon2 and flush row by row: hours.
Here every account shares one precomputed hash of BENCH_PASSWORD and every table is streamed
with psycopg 3's COPY, so scale 1 (1,000 doctors, 20,000 patients, 200,000 slots) takes seconds.
The schema must exist already (`flask db upgrade`); the rows follow the models' own rules (one
active appointment per slot, aware UTC times, lower-case emails), so the app reads them as its
own. Everything is deterministic for a given scale and day, so two runs can be compared.
"""

import argparse
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from argon2 import PasswordHasher
from psycopg.types.json import Jsonb

BENCH_PASSWORD = "bench-password-2026"
ADMIN_EMAIL = "admin@bench.example"
DOCTORS_AT_SCALE_1 = 1_000
PATIENTS_AT_SCALE_1 = 20_000
SLOTS_PER_DAY = 10  # 09:00 to 14:00 UTC, 30 minutes each
FIRST_DAY, LAST_DAY = -6, 13  # 20 days around today: 200 slots per doctor at any scale
SLOT_MINUTES = 30
PAST_BOOKED, FUTURE_BOOKED = 0.6, 0.1  # shares of slots holding an appointment
MAX_NO_SHOWS = 2  # per patient, under the default NO_SHOW_LIMIT (3)

SPECIALIZATIONS = [
    "Cardiology", "Dermatology", "Pediatrics", "Orthopedics", "General practice", "Neurology",
    "Oncology", "Psychiatry", "Ophthalmology", "Gynecology", "Urology", "Endocrinology",
]  # fmt: skip
FIRST_NAMES = [
    "Amara", "Lucas", "Sofia", "Kenji", "Priya", "Noah", "Emma", "Liam", "Olivia", "Mateo",
    "Ava", "Ethan", "Mia", "Isabella", "Omar", "Chen", "Fatima", "Jonas", "Elena", "Tariq",
]  # fmt: skip
LAST_NAMES = [
    "Okafor", "Meyer", "Rossi", "Tanaka", "Raman", "Williams", "Johnson", "Brown", "Garcia",
    "Martinez", "Davis", "Wilson", "Anderson", "Thomas", "Moore", "Nakamura", "Haddad",
    "Kowalski", "Silva", "Novak", "Dubois", "Jensen", "Costa", "Ivanova", "Popescu",
]  # fmt: skip
SEARCH_TERM = "Meyer"  # matches about one doctor in 25


def doctor_email(n: int) -> str:
    return f"doctor{n}@bench.example"


def patient_email(n: int) -> str:
    return f"patient{n}@bench.example"


def libpq_url(url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://` is not a libpq URL; psycopg wants `postgresql://`."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@dataclass
class SeedResult:
    scale: float
    seconds: float
    rows: Counter = field(default_factory=Counter)
    first_doctor_id: int = 0
    first_patient_id: int = 0


class _Ids:
    """Explicit ids continuing each table's sequence, so rows can reference each other in COPY."""

    def __init__(self, cur: psycopg.Cursor, table: str):
        self.table = table
        cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 - our own table
        self.last = cur.fetchone()[0]

    def next(self) -> int:
        self.last += 1
        return self.last


def seed(url: str, scale: float = 1.0, *, now: datetime | None = None, log=print) -> SeedResult:
    """Fill an empty, migrated database with a clinic `scale` times the default size."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    rng = random.Random(f"hms-bench-{scale}")
    doctors = max(1, round(DOCTORS_AT_SCALE_1 * scale))
    patients = max(1, round(PATIENTS_AT_SCALE_1 * scale))
    password_hash = PasswordHasher().hash(BENCH_PASSWORD)  # production parameters, once
    result = SeedResult(scale=scale, seconds=0.0)
    with psycopg.connect(libpq_url(url)) as conn, conn.cursor() as cur:
        ids = {t: _Ids(cur, t) for t in TABLES}
        admin = _user(ids["users"].next(), ADMIN_EMAIL, "admin", "Bench Administrator", now)
        doctor_rows = _people(ids, doctors, "doctor", rng, now)
        patient_rows = _people(ids, patients, "patient", rng, now)
        users = [admin] + [user for user, _profile in doctor_rows + patient_rows]
        for user in users:
            user[2] = password_hash
        _copy(cur, "users", USER_COLUMNS, users, result)
        _copy(cur, "doctor_profiles", DOCTOR_COLUMNS, [p for _u, p in doctor_rows], result)
        _copy(cur, "patient_profiles", PATIENT_COLUMNS, [p for _u, p in patient_rows], result)
        result.first_doctor_id = doctor_rows[0][1][0]
        result.first_patient_id = patient_rows[0][1][0]
        patient_ids = [p[0] for _u, p in patient_rows]
        patient_user = {p[0]: u[0] for u, p in patient_rows}

        doctor_ids = [p[0] for _u, p in doctor_rows]
        slots, appointments = _schedule(ids, doctor_ids, patient_ids, patient_user, rng, now)
        _copy(cur, "availability_slots", SLOT_COLUMNS, slots, result)
        _copy(cur, "appointments", APPOINTMENT_COLUMNS, appointments, result)
        _copy(cur, "outbox_messages", OUTBOX_COLUMNS, _outbox(ids, appointments, now), result)
        audit = _audit(ids, users, appointments, patient_user)
        _copy(cur, "audit_events", AUDIT_COLUMNS, audit, result)
        for table, counter in ids.items():
            cur.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", (table, max(counter.last, 1))
            )
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE")  # the planner must know the tables are big now
    result.seconds = time.perf_counter() - started
    log(f"seeded scale {scale:g} in {result.seconds:.1f} s: " + _summary(result.rows))
    return result


TABLES = (
    "users",
    "doctor_profiles",
    "patient_profiles",
    "availability_slots",
    "appointments",
    "outbox_messages",
    "audit_events",
)
USER_COLUMNS = ("id", "email", "password_hash", "role", "full_name", "phone", "created_at")
DOCTOR_COLUMNS = ("id", "user_id", "specialization", "years_of_experience", "bio", "approved_at")
PATIENT_COLUMNS = ("id", "user_id", "date_of_birth", "address", "emergency_contact")
SLOT_COLUMNS = ("id", "doctor_id", "start_at", "end_at", "created_at")
APPOINTMENT_COLUMNS = (
    "id", "slot_id", "doctor_id", "patient_id", "start_at", "end_at", "notes", "status",
    "created_at", "cancelled_at", "cancelled_by_id",
)  # fmt: skip
OUTBOX_COLUMNS = (
    "id", "kind", "payload", "idempotency_key", "status", "attempts", "next_attempt_at",
    "created_at", "sent_at",
)  # fmt: skip
AUDIT_COLUMNS = ("id", "created_at", "actor_id", "actor_email", "kind", "target_type", "target_id")


def _user(user_id: int, email: str, role: str, name: str, created: datetime) -> list:
    return [user_id, email, None, role, name, "+1 555 0199", created]


def _people(ids, count: int, role: str, rng: random.Random, now: datetime) -> list:
    """(user row, profile row) pairs; names cycle through the lists so searches hit often."""
    rows = []
    for n in range(1, count + 1):
        first = FIRST_NAMES[n % len(FIRST_NAMES)]
        last = LAST_NAMES[(n // len(FIRST_NAMES) + n) % len(LAST_NAMES)]
        created = now - timedelta(days=rng.randint(30, 900))
        if role == "doctor":
            user = _user(ids["users"].next(), doctor_email(n), role, f"Dr. {first} {last}", created)
            speciality = SPECIALIZATIONS[n % len(SPECIALIZATIONS)]
            profile = [
                ids["doctor_profiles"].next(),
                user[0],
                speciality,
                rng.randint(1, 40),
                f"Dr. {first} {last} practises {speciality.lower()}.",
                created,  # approved: every bench doctor is listed
            ]
        else:
            user = _user(ids["users"].next(), patient_email(n), role, f"{first} {last}", created)
            born = (now - timedelta(days=rng.randint(18 * 365, 90 * 365))).date()
            profile = [ids["patient_profiles"].next(), user[0], born, f"{n} Bench Street", None]
        rows.append((user, profile))
    return rows


def _schedule(ids, doctor_ids: list[int], patient_ids: list[int], patient_user: dict, rng, now):
    """200 slots per doctor on a shared grid; a share of them booked, past ones mostly done."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    slots, appointments = [], []
    missed: Counter[int] = Counter()
    for doctor_id in doctor_ids:
        for day in range(FIRST_DAY, LAST_DAY + 1):
            for k in range(SLOTS_PER_DAY):
                start = midnight + timedelta(days=day, hours=9, minutes=SLOT_MINUTES * k)
                end = start + timedelta(minutes=SLOT_MINUTES)
                slot_id = ids["availability_slots"].next()
                slots.append([slot_id, doctor_id, start, end, midnight + timedelta(days=-30)])
                past = start <= now
                if rng.random() >= (PAST_BOOKED if past else FUTURE_BOOKED):
                    continue
                status = "booked"
                if past:
                    status = rng.choices(["completed", "no_show", "cancelled"], [8, 1, 1])[0]
                patient_id = rng.choice(patient_ids)
                if status == "no_show":  # below NO_SHOW_LIMIT: every patient may book online
                    missed[patient_id] += 1
                    if missed[patient_id] > MAX_NO_SHOWS:
                        status = "completed"
                booked_at = start - timedelta(days=rng.randint(1, 20))
                cancelled = status == "cancelled"
                appointments.append([
                    ids["appointments"].next(), slot_id, doctor_id, patient_id, start, end,
                    "Seeded by the benchmark" if rng.random() < 0.3 else None, status,
                    booked_at, booked_at + timedelta(hours=2) if cancelled else None,
                    patient_user[patient_id] if cancelled else None,
                ])  # fmt: skip
    return slots, appointments


def _outbox(ids, appointments: list, now: datetime):
    """Two delivered confirmations per appointment: the history a real outbox table carries."""
    for row in appointments:
        appointment_id, created = row[0], row[8]
        for role in ("patient", "doctor"):
            payload = {
                "action": "BOOKING_CONFIRMATION",
                "to": f"{role}@bench.example",
                "data": {"appointment_id": appointment_id, "recipient_role": role},
            }
            yield [
                ids["outbox_messages"].next(), "email", Jsonb(payload),
                f"booked:{appointment_id}:{role}", "sent", 1, created, created, created,
            ]  # fmt: skip


def _audit(ids, users: list, appointments: list, patient_user: dict[int, int]):
    """A sign-up per account and a booking per appointment, as the services would record."""
    for user in users:
        yield [ids["audit_events"].next(), user[6], user[0], user[1], "signup", "User", user[0]]
    for row in appointments:
        yield [
            ids["audit_events"].next(), row[8], patient_user[row[3]], None,
            "appointment.booked", "Appointment", row[0],
        ]  # fmt: skip


def _copy(cur: psycopg.Cursor, table: str, columns, rows, result: SeedResult) -> None:
    extra = ", details" if table == "audit_events" else ""
    sql = f"COPY {table} ({', '.join(columns)}{extra}) FROM STDIN"
    with cur.copy(sql) as copy:
        for row in rows:
            copy.write_row([*row, Jsonb({})] if extra else row)
            result.rows[table] += 1


def _summary(rows: Counter) -> str:
    return ", ".join(f"{count:,} {table}" for table, count in rows.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the (migrated) PostgreSQL database")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    seed(args.url, args.scale)


if __name__ == "__main__":
    main()
