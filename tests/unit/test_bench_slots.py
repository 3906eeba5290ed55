"""The harness's slot pool: the database's limit must not take the slots the signed-in
patients' booking runs still need."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from bench.slots import SlotPool

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def pool(times: int, per_time: int, patients: int) -> SlotPool:
    made = SlotPool.__new__(SlotPool)  # without the database its __init__ reads
    made.patient_ids = list(range(1, patients + 1))
    made.by_start = defaultdict(list)
    slot_id = 0
    for n in range(times):
        for _ in range(per_time):
            slot_id += 1
            made.by_start[T0 + timedelta(minutes=30 * n)].append(slot_id)
    made.busy = defaultdict(set)
    made._next_patient = 0
    return made


def test_the_database_limit_takes_first_the_slots_no_signed_in_patient_can_use():
    slots = pool(times=10, per_time=5, patients=2)  # 3 slots a time more than the patients
    slots.for_patients(8)  # both patients are now busy at the first 4 times

    assert len(slots.any(20)) == 20

    # taken from the surplus: both patients still find a slot at each of the 6 other times
    # (taking the latest times whole, as before, left them 2 times)
    assert len(slots.for_patients(100)) == 12


def test_the_database_limit_still_gets_its_count_when_there_is_no_surplus():
    slots = pool(times=4, per_time=2, patients=2)
    assert len(slots.any(6)) == 6
    assert slots.available() == 2
