from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.blueprints.auth import bp
from app.blueprints.auth.forms import (
    ChangePasswordForm,
    DoctorSignupForm,
    ForgotPasswordForm,
    LoginForm,
    NewEmailForm,
    PatientSignupForm,
    ResetPasswordForm,
)
from app.blueprints.auth.two_step import ask_for_code
from app.blueprints.main.routes import dashboard_url
from app.extensions import db, limiter
from app.forms_common import PASSWORD_HELP
from app.models import Role
from app.security import client_ip, is_safe_next, user_or_ip
from app.services import (
    DomainError,
    account_activity,
    accounts,
    directory,
    email_change,
    password_reset,
)
from app.views import form_status, show_domain_error
from app.web_security import end_session, start_session


def _email_key(prefix: str):
    """Per-account limit: the email being tried, whatever IP it comes from."""
    return lambda: prefix + (request.form.get("email") or "").strip().lower()[:254]


def _sign_up(role: Role, form, create, **context):
    """The one sign-up flow: `create(form, new_user)` makes the account and its profile;
    `context` goes to the page as well."""
    if current_user.is_authenticated:
        return redirect(dashboard_url(current_user))
    next_url = request.args.get("next")  # a time chosen in the public directory, say
    context |= {"role": role.value, "password_help": PASSWORD_HELP, "next": next_url}
    if form.validate_on_submit():
        new = accounts.NewUser(
            form.full_name.data, form.email.data, form.password.data, form.phone.data
        )
        try:
            user = create(form, new)
            accounts.signed_in(user, ip_address=client_ip())  # the session starts here
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, "auth/signup.html", **context)
        start_session(user)
        flash(f"Welcome to HMS! Your {role.value} account is ready.", "success")
        return redirect(next_url if is_safe_next(next_url) else dashboard_url(user))
    return render_template("auth/signup.html", form=form, **context), form_status(form)


@bp.route("/signup/doctor", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def signup_doctor():
    return _sign_up(
        Role.DOCTOR,
        DoctorSignupForm(),
        lambda form, new: accounts.sign_up_doctor(
            new,
            specialization=form.specialization.data,
            years_of_experience=form.years_of_experience.data,
            bio=form.bio.data,
            ip_address=client_ip(),
        ),
        specializations=directory.specializations(),
    )


@bp.route("/signup/patient", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def signup_patient():
    return _sign_up(
        Role.PATIENT,
        PatientSignupForm(),
        lambda form, new: accounts.sign_up_patient(
            new,
            date_of_birth=form.date_of_birth.data,
            address=form.address.data,
            emergency_contact=form.emergency_contact.data,
            ip_address=client_ip(),
        ),
    )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@limiter.limit("5 per minute", methods=["POST"], key_func=_email_key("login:"))
def login():
    if current_user.is_authenticated:
        return redirect(dashboard_url(current_user))
    form = LoginForm()
    next_url = request.args.get("next")
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data, form.password.data, ip_address=client_ip()
            )
        except accounts.InvalidCredentials as error:
            db.session.commit()  # keep the failed attempt in the audit trail
            form.password.errors.append(error.message)
            return render_template("auth/login.html", form=form, next=next_url), 400
        db.session.commit()
        if user.two_step_enabled:
            return ask_for_code(user, remember=form.remember.data, next_url=next_url)
        start_session(user, remember=form.remember.data)
        flash(accounts.greeting(user), "success")
        return redirect(next_url if is_safe_next(next_url) else dashboard_url(user))
    return render_template("auth/login.html", form=form, next=next_url), form_status(form)


@bp.post("/logout")
@login_required
def logout():
    accounts.sign_out(current_user._get_current_object(), ip_address=client_ip())
    db.session.commit()
    end_session()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                ip_address=client_ip(),
            )
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, "auth/password.html", password_help=PASSWORD_HELP)
        start_session(current_user._get_current_object())  # this session lives on; others end
        flash("Your password has been changed. Other sessions have been signed out.", "success")
        return redirect(dashboard_url(current_user))
    return render_template(
        "auth/password.html", form=form, password_help=PASSWORD_HELP
    ), form_status(form)


@bp.get("/activity")
@login_required
def activity():
    """The account's own latest sign-ins and sign-in changes, to spot someone else's use."""
    return render_template(
        "auth/activity.html",
        events=account_activity.recent(current_user),
        shown=account_activity.SHOWN,
    )


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
@limiter.limit("5 per hour", methods=["POST"], key_func=_email_key("password-reset:"))
def forgot_password():
    """Ask for a reset link. The answer is the same whether or not the address has an account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data, ip_address=client_ip())
        db.session.commit()
        flash(
            f"If {form.email.data} belongs to an account, a link to set a new password is on its "
            f"way. It works for {password_reset.max_age_minutes()} minutes.",
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form), form_status(form)


def _link_refused(error: DomainError):
    """A broken, expired or used link: say so, and offer to send a new one (400)."""
    db.session.rollback()
    form = ForgotPasswordForm(formdata=None)
    return render_template("auth/forgot_password.html", form=form, problem=error.message), 400


@bp.route("/password/reset/<string(maxlength=200):token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link. Opening the link changes nothing."""
    try:
        user = password_reset.user_for_token(token)
    except DomainError as error:
        return _link_refused(error)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_reset.reset(token, form.new_password.data, ip_address=client_ip())
            db.session.commit()
        except DomainError as error:  # the same link used a moment ago, in another tab
            return _link_refused(error)
        end_session()  # whoever was signed in here, the next sign-in starts afresh
        flash(
            "Your new password is set and every device is signed out. Sign in with it.", "success"
        )
        return redirect(url_for("auth.login"))
    return render_template(
        "auth/reset_password.html", form=form, email=user.email, password_help=PASSWORD_HELP
    ), form_status(form)


@bp.route("/email", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"], key_func=user_or_ip)
def change_email():
    """Ask to sign in with another address: nothing changes until a link sent to it is opened."""
    form = NewEmailForm()
    if form.validate_on_submit():
        try:
            email = email_change.request_change(
                current_user._get_current_object(),
                form.new_email.data,
                form.current_password.data,
                ip_address=client_ip(),
            )
            db.session.commit()
        except DomainError as error:
            return show_domain_error(error, form, "auth/email.html")
        flash(
            f"We have sent a link to {email}. Open it within {email_change.max_age_hours()} "
            "hours to sign in with that address; until then nothing changes.",
            "info",
        )
        return redirect(dashboard_url(current_user))
    return render_template("auth/email.html", form=form), form_status(form)


@bp.route("/email/confirm/<string(maxlength=600):token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def confirm_email(token: str):
    """Opening the link shows what will change; the button makes the change (no change on GET).
    It needs no sign-in: the link is proof of the new mailbox, and was sent only after the
    account's password was given."""
    try:
        user, email = email_change.read(token)
    except DomainError as error:
        return render_template("auth/email_confirm.html", problem=error.message), 400
    if request.method == "POST":
        try:
            email_change.confirm(token, ip_address=client_ip())
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            page = render_template("auth/email_confirm.html", problem=error.message)
            return page, error.status_code
        flash(f"You now sign in with {email}.", "success")
        if current_user.is_authenticated:
            return redirect(dashboard_url(current_user))
        return redirect(url_for("auth.login"))
    return render_template("auth/email_confirm.html", user=user, email=email)
