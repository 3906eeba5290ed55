"""Handing out open future slots so that every booking the harness sends is one that can succeed.

Each slot is given out once. A signed-in patient never gets two slots at the same time, nor one
at a time they already hold an appointment (the booking rules would answer 409 and the figures
would measure refusals). Slots all sit on one shared half-hour grid (bench/seed.py), so two
slots overlap exactly when they start together.
"""

from collections import defaultdict
from datetime import datetime, timedelta

import psycopg

NOTICE = timedelta(hours=2)  # well past BOOKING_MIN_NOTICE_MINUTES, so no slot expires mid-run
MAX_SLOTS_LOADED = 60_000
PER_TIME = 500


class SlotPool:
    def __init__(self, conn: psycopg.Connection, patient_ids: list[int], now: datetime):
        self.patient_ids = patient_ids
        # At most PER_TIME slots per start time: a patient takes one slot per time, so a big
        # clinic's thousands of slots at 09:00 would fill the load with times nobody can use.
        rows = conn.execute(
            """
            SELECT id, start_at FROM (
                SELECT s.id, s.start_at,
                       row_number() OVER (PARTITION BY s.start_at ORDER BY s.id) AS n
                FROM availability_slots s
                WHERE s.start_at > %s AND NOT EXISTS (
                    SELECT 1 FROM appointments a
                    WHERE a.slot_id = s.id AND a.status <> 'cancelled')
            ) open_slots
            WHERE n <= %s ORDER BY start_at, id LIMIT %s
            """,
            (now + NOTICE, PER_TIME, MAX_SLOTS_LOADED),
        ).fetchall()
        self.by_start: dict[datetime, list[int]] = defaultdict(list)
        for slot_id, start in rows:
            self.by_start[start].append(slot_id)
        self.busy: dict[int, set[datetime]] = defaultdict(set)
        for patient_id, start in conn.execute(
            "SELECT patient_id, start_at FROM appointments "
            "WHERE patient_id = ANY(%s) AND status = 'booked'",
            (patient_ids,),
        ):
            self.busy[patient_id].add(start)
        self._next_patient = 0

    def available(self) -> int:
        return sum(len(ids) for ids in self.by_start.values())

    def for_patients(self, count: int) -> list[tuple[int, int]]:
        """Up to `count` (patient index, slot id) pairs, rotating over the patients so that
        consecutive bookings come from different people."""
        pairs: list[tuple[int, int]] = []
        for start in sorted(self.by_start):
            slots = self.by_start[start]
            for _ in range(len(self.patient_ids)):
                if not slots or len(pairs) >= count:
                    break
                index = self._next_patient
                self._next_patient = (self._next_patient + 1) % len(self.patient_ids)
                patient_id = self.patient_ids[index]
                if start in self.busy[patient_id]:
                    continue
                self.busy[patient_id].add(start)
                pairs.append((index, slots.pop()))
            if len(pairs) >= count:
                break
        return pairs

    def for_everyone(self) -> int:
        """One slot at a time none of the patients is busy: all of them may try to book it."""
        for start in sorted(self.by_start):
            slots = self.by_start[start]
            if slots and not any(start in self.busy[p] for p in self.patient_ids):
                for patient_id in self.patient_ids:
                    self.busy[patient_id].add(start)
                return slots.pop()
        raise RuntimeError("no open slot left at a time every patient is free")

    def any(self, count: int) -> list[int]:
        """Slots for bookings by other patients (the database's own limit). First those the
        signed-in patients can never use (a time with more open slots than patients free then),
        then from the latest times: the signed-in patients' bookings after this still find
        slots at every time they are free."""
        taken: list[int] = []
        for start in sorted(self.by_start):
            slots = self.by_start[start]
            free = sum(1 for patient_id in self.patient_ids if start not in self.busy[patient_id])
            while len(slots) > free and len(taken) < count:
                taken.append(slots.pop())
        for start in sorted(self.by_start, reverse=True):
            slots = self.by_start[start]
            while slots and len(taken) < count:
                taken.append(slots.pop())
            if len(taken) >= count:
                break
        return taken
