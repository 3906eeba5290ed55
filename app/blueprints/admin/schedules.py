"""The front desk keeps a doctor's schedule: the doctor's own availability page (one slot, a
weekly template, time off, deleting an open slot), opened for that doctor by an admin.

In many clinics the desk, not the doctor, publishes the times; every rule is the availability
service's, as on the doctor's page, and the audit trail names the admin who acted.
"""

from flask import request

from app.blueprints.admin import bp
from app.blueprints.doctor import schedule
from app.services import DomainError, availability
from app.views import ID, abort_with

ENDPOINTS = {
    "page": "admin.doctor_availability",
    "weekly": "admin.doctor_availability_weekly",
    "stop_repeat": "admin.doctor_stop_repeating_hours",
    "clear": "admin.doctor_clear_availability",
    "delete": "admin.doctor_delete_slot",
}


def _schedule(user_id: int) -> schedule.Schedule:
    """The schedule of doctor account `user_id` (404 for any other account)."""
    try:
        doctor = availability.doctor_of_account(user_id)
    except DomainError as error:
        abort_with(error)
    return schedule.Schedule(doctor, ENDPOINTS, {"user_id": user_id}, for_desk=True)


@bp.route(f"/users/<{ID}:user_id>/availability", methods=["GET", "POST"])
def doctor_availability(user_id: int):
    if request.method == "GET":
        return schedule.show(_schedule(user_id))
    return schedule.publish(_schedule(user_id))


@bp.post(f"/users/<{ID}:user_id>/availability/weekly")
def doctor_availability_weekly(user_id: int):
    return schedule.weekly(_schedule(user_id))


@bp.post(f"/users/<{ID}:user_id>/availability/weekly/<{ID}:standing_id>/stop")
def doctor_stop_repeating_hours(user_id: int, standing_id: int):
    return schedule.stop_repeat(_schedule(user_id), standing_id)


@bp.post(f"/users/<{ID}:user_id>/availability/clear")
def doctor_clear_availability(user_id: int):
    return schedule.clear(_schedule(user_id))


@bp.post(f"/users/<{ID}:user_id>/availability/<{ID}:slot_id>/delete")
def doctor_delete_slot(user_id: int, slot_id: int):
    return schedule.delete(_schedule(user_id), slot_id)
