"""The user aggregate: one account per person, whatever the role."""

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, postgresql_only, utcnow


class Role(enum.StrEnum):
    DOCTOR = "doctor"
    PATIENT = "patient"
    ADMIN = "admin"
    # The front desk: books for callers, keeps patients' details and doctors' schedules and
    # profiles, checks patients in. Not the administrator's powers over accounts, the clinic's
    # closures, the audit trail or the email queue (app/blueprints/admin/__init__.py).
    DESK = "desk"

    @property
    def label(self) -> str:
        return "Front desk" if self is Role.DESK else self.value.title()


STAFF_ROLES = (Role.ADMIN, Role.DESK)  # the clinic's own people: they act on anyone's booking


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased by the accounts service; the index makes the
        # database refuse case variants even if some other path forgets.
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
        # The doctor directory lists active doctors by name: measured by bench/ to stop growing
        # with the number of users.
        Index("ix_users_role_full_name", "role", "full_name"),
        # A name search is a case-insensitive substring (ILIKE '%...%'), which a B-tree cannot
        # find: trigrams can, for doctors only (the directory's searches), on PostgreSQL only
        # (the migration creates the pg_trgm extension; SQLite scans, as it does any LIKE).
        postgresql_only(
            Index(
                "ix_users_doctor_name_trgm",
                "full_name",
                postgresql_using="gin",
                postgresql_ops={"full_name": "gin_trgm_ops"},
                postgresql_where=text("role = 'doctor'"),
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            name="user_role",
            native_enum=False,
            length=16,
            validate_strings=True,
            values_callable=lambda e: [m.value for m in e],
        ),
        index=True,
    )
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Bumped on password change, deactivation and "sign out everywhere": part of the
    # session's user id, so every older session stops matching at its next request.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Google Calendar connection; tokens are encrypted at rest by the calendar service.
    google_sub: Mapped[str | None] = mapped_column(String(255), index=True)
    google_email: Mapped[str | None] = mapped_column(String(254))
    google_access_token: Mapped[str | None] = mapped_column(Text)
    google_refresh_token: Mapped[str | None] = mapped_column(Text)
    google_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    google_connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    google_connection_broken: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="0"
    )
    # The calendar subscription: part of the feed's signed address, so a new one (or none)
    # ends every address given out before. Never shown; the address is signed with SECRET_KEY.
    calendar_feed_nonce: Mapped[str | None] = mapped_column(String(32))

    # Two-step sign-in (TOTP, RFC 6238): the shared secret, encrypted at rest as the Google
    # tokens are; when it was turned on; and the last time step a code was accepted for, so a
    # code seen over someone's shoulder cannot be used a second time.
    two_step_secret: Mapped[str | None] = mapped_column(Text)
    two_step_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    two_step_last_step: Mapped[int | None] = mapped_column(Integer)

    doctor_profile = relationship("DoctorProfile", back_populates="user", uselist=False)
    patient_profile = relationship("PatientProfile", back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_doctor(self) -> bool:
        return self.role == Role.DOCTOR

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_desk(self) -> bool:
        return self.role == Role.DESK

    @property
    def is_staff(self) -> bool:
        """The administrator or the front desk."""
        return self.role in STAFF_ROLES

    @property
    def two_step_enabled(self) -> bool:
        return self.two_step_enabled_at is not None

    @property
    def google_connected(self) -> bool:
        return bool(self.google_refresh_token or self.google_access_token)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class RecoveryCode(db.Model):
    """One of the single-use codes that sign in when the phone with the authenticator is lost.
    Only a SHA-256 digest is kept: the codes are random (50 bits), so a slow hash would add
    nothing but a second per sign-in."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("uq_recovery_codes_user_digest", "user_id", "digest", unique=True),)
