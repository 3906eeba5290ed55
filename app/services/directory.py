"""What a patient sees before booking: the doctor directory and a doctor's open slots.

The open slots of a doctor are computed in one place (`open_slots`), whether for the doctor's
page or for the alternatives offered when a booking cannot happen.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import NamedTuple

from sqlalchemy import Row

from app.caching import cached_for
from app.models import AvailabilitySlot, DoctorProfile
from app.pagination import RowsPagination
from app.repositories import doctors as doctor_repo
from app.repositories import scheduling as repo
from app.services import Conflict, NotFound, new_patients
from app.services.booking import (
    ALREADY_YOURS,
    DOCTOR_UNAVAILABLE,
    SLOT_GONE,
    SLOT_TAKEN,
    booking_window,
    check_bookable_time,
    missed_since,
    online_refusal,
)
from app.timeutil import clinic_zone, format_local, local_day_bounds, to_local

ALTERNATIVES = 12  # how many other slots to offer when the chosen one cannot be booked


@dataclass(frozen=True)
class SlotOffer:
    """A slot as the confirm page shows it: `problem` says why it cannot be booked, if so."""

    slot: AvailabilitySlot | None
    doctor: DoctorProfile | None
    problem: str | None = None
    alternatives: list["SlotLink"] = field(default_factory=list)
    # The problem is the patient's, not the slot's (a rule of online booking): no other time
    # would do, and the page points to their appointments instead.
    patients_own: bool = False
    # The doctor takes no new patients, and this is one: no other time of theirs would do.
    new_patient: bool = False


def search_doctors(
    name: str | None,
    specialization: str | None,
    *,
    page: int,
    per_page: int,
    now: datetime,
    day: date | None = None,
) -> RowsPagination:
    """A page of active doctors, each row with its `next_open` bookable slot (or None), in one
    query; the total is counted by a second one only when the page cannot tell it. With `day`
    (clinic-local), only the doctors with a bookable slot that day, and their first one."""
    earliest, latest = booking_window(now)
    if day is not None:
        start, end = local_day_bounds(day)
        earliest, latest = max(earliest, start), min(latest, end - timedelta(microseconds=1))
    rows = partial(
        doctor_repo.listing, name, specialization, earliest, latest, open_only=day is not None
    )
    if day is not None:
        count = partial(doctor_repo.count, name, specialization, (earliest, latest))
    elif name:
        count = partial(doctor_repo.count, name, specialization)
    else:  # browsing: a handful of totals, read on every view
        count = partial(doctor_count, specialization=specialization)
    return RowsPagination(rows, count, page=page, per_page=per_page)


def searchable_days(now: datetime) -> tuple[date, date]:
    """The clinic-local days a patient may look for a free doctor on: today to the horizon."""
    earliest, latest = booking_window(now)
    return to_local(now).date(), to_local(latest).date()


@cached_for("DIRECTORY_CACHE_SECONDS", follow_changes=False)
def doctor_count(*, specialization: str | None) -> int:
    """How many active doctors (of a specialization): it changes when a doctor joins, leaves or
    edits a profile, and a total a minute old is fine for "N doctors found"."""
    return doctor_repo.count(None, specialization)


@cached_for("DIRECTORY_CACHE_SECONDS", follow_changes=False)
def specializations() -> list[str]:
    """The filter's choices, on every directory page view: they change when a doctor joins or
    edits a profile, so a list a minute old is fine and saves a query over all doctors."""
    return doctor_repo.specializations()


def bookable_doctor(doctor_id: int) -> DoctorProfile:
    doctor = doctor_repo.active_doctor(doctor_id)
    if doctor is None:
        raise NotFound("That doctor does not exist.")
    return doctor


def open_slots(doctor_id: int, now: datetime, limit: int | None = None) -> list[Row]:
    """The doctor's slots a patient could book right now, soonest first: rows of id, start_at
    and end_at (pages list them by the hundred, and only show them)."""
    earliest, latest = booking_window(now)
    return repo.open_slots(doctor_id, earliest, latest, limit)


class SlotLink(NamedTuple):
    """A slot as a page offers it: its id, and its start in clinic time, written out."""

    id: int
    label: str


def slot_links(slots: list[Row]) -> list[SlotLink]:
    """Slots with their date and time, for a short list (the alternatives to a taken slot)."""
    zone = clinic_zone()
    return [SlotLink(slot.id, format_local(slot.start_at, zone=zone)) for slot in slots]


def slots_by_day(slots: list[Row]) -> list[tuple[date, list[SlotLink]]]:
    """Group slots (sorted by start) by their day in the clinic's zone, each with its time.

    A doctor's page lists a hundred slots or more: each is converted to clinic time once, with
    the zone looked up once, instead of once to group it and again to show it."""
    zone = clinic_zone()
    days: list[tuple[date, list[SlotLink]]] = []
    for slot in slots:
        local = to_local(slot.start_at, zone)
        if not days or days[-1][0] != local.date():
            days.append((local.date(), []))
        days[-1][1].append(SlotLink(slot.id, local.strftime("%H:%M")))
    return days


def offer(slot_id: int, patient_id: int, now: datetime) -> SlotOffer:
    """The slot, its doctor, and, when `patient_id` cannot book it, why and what else is open."""
    slot = repo.slot_with_doctor(slot_id)
    if slot is None:
        return SlotOffer(None, None, SLOT_GONE)
    doctor = slot.doctor
    if not doctor.bookable:
        return SlotOffer(slot, doctor, DOCTOR_UNAVAILABLE)
    if (refusal := new_patients.refusal(doctor, patient_id)) is not None:
        return SlotOffer(slot, doctor, refusal, new_patient=True)
    try:
        check_bookable_time(slot.start_at, now)
        holder = repo.slot_holder(slot.id)
        if holder is not None:
            raise Conflict(ALREADY_YOURS if holder == patient_id else SLOT_TAKEN)
        refusal = online_refusal(repo.standing(patient_id, missed_since(now), now))
        if refusal is not None:
            return SlotOffer(slot, doctor, refusal, patients_own=True)
    except Conflict as problem:
        alternatives = slot_links(open_slots(doctor.id, now, limit=ALTERNATIVES))
        return SlotOffer(slot, doctor, problem.message, alternatives)
    return SlotOffer(slot, doctor)
