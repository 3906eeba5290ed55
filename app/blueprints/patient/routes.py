from flask import render_template
from flask_login import current_user

from app.blueprints.patient import bp


@bp.get("/")
def dashboard():
    return render_template("patient/dashboard.html", profile=current_user.patient_profile)
