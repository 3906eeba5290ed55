from flask import render_template
from flask_login import current_user

from app.blueprints.doctor import bp


@bp.get("/")
def dashboard():
    return render_template("doctor/dashboard.html", profile=current_user.doctor_profile)
