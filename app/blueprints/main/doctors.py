"""The doctor directory for anyone: someone choosing a clinic sees its doctors and their open
times before making an account. Choosing a time asks them to sign in or sign up, then brings
them to that time's confirm page.

A signed-in patient is sent to their own directory, which books and keeps waitlists; doctors
and admins see the public pages as visitors do.

Nobody signs in to read these pages, and a search costs the database more than most pages: one
budget per IP covers both, generous for people choosing a doctor (a waiting room's Wi-Fi shares
one address) and short for a scraper walking every page.
"""

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.main import bp
from app.blueprints.patient.forms import DoctorSearchForm
from app.extensions import limiter
from app.services import NotFound, directory
from app.timeutil import utcnow
from app.views import ID, page_arg

PUBLIC = {"search": "main.doctors", "detail": "main.doctor"}
PUBLIC_PAGES_LIMIT = "120 per minute"
public_pages = limiter.shared_limit(PUBLIC_PAGES_LIMIT, scope="public-directory")


def _is_patient() -> bool:
    return current_user.is_authenticated and current_user.is_patient


@bp.get("/doctors")
@public_pages
def doctors():
    if _is_patient():
        return redirect(url_for("patient.doctors", **request.args))
    form = DoctorSearchForm.from_args(request.args)
    if not form.validate():
        return render_template(
            "patient/doctors.html", form=form, doctors=None, endpoints=PUBLIC
        ), 400
    found = directory.search_doctors(
        **form.filters(),
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        now=utcnow(),
    )
    return render_template("patient/doctors.html", form=form, doctors=found, endpoints=PUBLIC)


@bp.get(f"/doctors/<{ID}:doctor_id>")
@public_pages
def doctor(doctor_id: int):
    if _is_patient():
        return redirect(url_for("patient.doctor_detail", doctor_id=doctor_id))
    try:
        found = directory.bookable_doctor(doctor_id)
    except NotFound:
        abort(404)
    days = directory.slots_by_day(directory.open_slots(found.id, utcnow()))
    return render_template("main/doctor.html", doctor=found, days=days)
