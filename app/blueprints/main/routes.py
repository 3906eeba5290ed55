from flask import redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.blueprints.main import bp
from app.extensions import db, limiter

DASHBOARDS = {
    "doctor": "doctor.dashboard",
    "patient": "patient.dashboard",
    "admin": "admin.dashboard",
    "desk": "admin.appointments",  # the desk's day starts with today's arrivals
}


def dashboard_url(user) -> str:
    return url_for(DASHBOARDS[user.role.value])


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(dashboard_url(current_user))
    return render_template("main/index.html")


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """For load balancers: 200 when this instance can reach the database, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "degraded", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
