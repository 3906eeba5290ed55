from flask import render_template

from app.blueprints.admin import bp


@bp.get("/")
def dashboard():
    return render_template("admin/dashboard.html")
