"""factory_boy factories. They need an app context: request the `db` fixture in the test."""

from datetime import timedelta

import factory
import pytest
from argon2 import PasswordHasher

from app.extensions import db as _db
from app.models import (
    Appointment,
    AppointmentStatus,
    AvailabilitySlot,
    DoctorProfile,
    PatientProfile,
    Role,
    User,
)
from app.timeutil import utcnow

__all__ = ["make"]

PASSWORD = "correct horse battery staple"
_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: _db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password_hash = _HASH
    role = Role.PATIENT
    full_name = factory.Faker("name")
    active = True


class AdminFactory(UserFactory):
    role = Role.ADMIN
    full_name = factory.Sequence(lambda n: f"Admin {n}")


class DeskFactory(UserFactory):
    """A front-desk account."""

    role = Role.DESK
    full_name = factory.Sequence(lambda n: f"Desk {n}")


class DoctorFactory(BaseFactory):
    """Returns the DoctorProfile; its user is `.user`."""

    class Meta:
        model = DoctorProfile

    user = factory.SubFactory(UserFactory, role=Role.DOCTOR)
    specialization = factory.Iterator(["Cardiology", "Dermatology", "Pediatrics"])
    years_of_experience = 10
    bio = "Experienced and kind."
    approved_at = factory.LazyFunction(utcnow)  # listed: `approved_at=None` for one waiting


class PatientFactory(BaseFactory):
    """Returns the PatientProfile; its user is `.user`."""

    class Meta:
        model = PatientProfile

    user = factory.SubFactory(UserFactory, role=Role.PATIENT)


class SlotFactory(BaseFactory):
    class Meta:
        model = AvailabilitySlot

    doctor = factory.SubFactory(DoctorFactory)
    # Hours apart within a month, however many slots a whole run makes: a plain `hours=n` would
    # drift past the 90-day booking horizon late in a long run.
    start_at = factory.Sequence(
        lambda n: (utcnow() + timedelta(days=2, hours=n % 720)).replace(
            minute=0, second=0, microsecond=0
        )
    )
    end_at = factory.LazyAttribute(lambda o: o.start_at + timedelta(minutes=30))


class AppointmentFactory(BaseFactory):
    class Meta:
        model = Appointment

    slot = factory.SubFactory(SlotFactory)
    doctor_id = factory.SelfAttribute("slot.doctor_id")
    patient = factory.SubFactory(PatientFactory)
    start_at = factory.SelfAttribute("slot.start_at")
    end_at = factory.SelfAttribute("slot.end_at")
    status = AppointmentStatus.BOOKED


@pytest.fixture
def make(db):
    """The factories, usable once the app context is up: make.doctor(), make.slot(doctor=…)."""

    class Make:
        user = UserFactory
        admin = AdminFactory
        desk = DeskFactory
        doctor = DoctorFactory
        patient = PatientFactory
        slot = SlotFactory
        appointment = AppointmentFactory

    return Make
