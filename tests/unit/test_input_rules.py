"""Input rules that hold by construction, checked over the whole app so a new form, route or
query cannot quietly break them (ASVS 4.0.3 V5.1 and V5.3.4).

- every text field of every form has a maximum length, every integer field a maximum of digits;
- every id in a URL goes through the bounded `ID` converter, every other URL variable is a
  closed choice;
- nothing is sent to the database as SQL text built from strings (the ORM binds parameters).
"""

import ast
import re
from pathlib import Path

import pytest
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import Length

from app import create_app
from app.forms_common import SmallIntegerField
from app.views import ID
from config import TestingConfig
from tests.helpers import url_rules

APP_DIR = Path(__file__).resolve().parents[2] / "app"


def _subclasses(cls) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


APP = create_app(TestingConfig)  # imports every blueprint, hence every form


def app_forms() -> list[type]:
    return sorted(
        {form for form in _subclasses(FlaskForm) if form.__module__.startswith("app.")},
        key=lambda form: f"{form.__module__}.{form.__qualname__}",
    )


FORMS = app_forms()


def test_the_walk_finds_the_forms():
    names = {form.__name__ for form in FORMS}
    assert {"LoginForm", "DoctorSignupForm", "BookingForm", "PatientProfileForm"} <= names


def _fields(form_class):
    with APP.test_request_context():
        form = form_class(formdata=None, meta={"csrf": False})
        return list(form)


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
def test_every_text_field_has_a_maximum_length(form_class):
    """StringField covers its subclasses: TextAreaField, PasswordField, EmailField, Search…"""
    unbounded = [
        field.name
        for field in _fields(form_class)
        if isinstance(field, StringField)
        and not any(isinstance(v, Length) and v.max not in (None, -1) for v in field.validators)
    ]
    assert unbounded == []


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
def test_every_integer_field_refuses_absurdly_long_numbers(form_class):
    """A 400-digit number would overflow NumberRange's float check (a 500): SmallIntegerField
    for typed numbers, `bounded_int` for choices coerced to numbers."""
    loose = [
        field.name
        for field in _fields(form_class)
        if (isinstance(field, IntegerField) and not isinstance(field, SmallIntegerField))
        or getattr(field, "coerce", None) in (int, float)
    ]
    assert loose == [], "use SmallIntegerField, or coerce=bounded_int on choice fields"


TOKEN_MAX = 600  # a signed link's token (with an address in it): bounded, checked by its signature
RULES = [rule for rule in url_rules() if rule.endpoint not in ("static", "bootstrap.static")]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule)
def test_every_url_variable_is_a_bounded_id_or_a_closed_choice(rule):
    for name in rule.arguments:
        if name.endswith("_id"):
            assert f"<{ID}:{name}>" in rule.rule, f"{name} must use app.views.ID"
        else:
            bounded = re.search(rf"<string\(maxlength=(\d+)\):{name}>", rule.rule)
            closed = "<any(" in rule.rule or (bounded and int(bounded[1]) <= TOKEN_MAX)
            assert f":{name}>" in rule.rule and closed, f"{name}: an open value"


def _string_constants(tree: ast.AST) -> set[str]:
    """Module-level names bound to one literal string: ACTIVE_APPOINTMENT_SQL = "status <> …"."""
    return {
        target.id
        for node in getattr(tree, "body", [])
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }


def _sql_text_calls(tree: ast.AST):
    """text(...), .execute(...), .exec_driver_sql(...) whose SQL is not one literal string (or a
    module constant holding one)."""
    constants = _string_constants(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in ("text", "execute", "exec_driver_sql", "executescript"):
            continue
        sql = node.args[0]
        built = isinstance(sql, ast.JoinedStr) or (
            isinstance(sql, ast.BinOp) and isinstance(sql.op, ast.Add | ast.Mod)
        )
        formatted = isinstance(sql, ast.Call) and getattr(sql.func, "attr", None) == "format"
        literal = isinstance(sql, ast.Constant) or (
            isinstance(sql, ast.Name) and sql.id in constants
        )
        if built or formatted or (name == "text" and not literal):
            yield node.lineno


def test_no_sql_is_built_from_strings():
    """Queries go through the ORM or Core with bound parameters; the only SQL text in app/ is
    constant (the health check's SELECT 1, SQLite's PRAGMAs). ruff's S608 guards the same."""
    offenders = [
        f"{path.relative_to(APP_DIR.parent)}:{line}"
        for path in sorted(APP_DIR.rglob("*.py"))
        for line in _sql_text_calls(ast.parse(path.read_text(), str(path)))
    ]
    assert offenders == []


def test_the_sql_guard_catches_what_it_looks_for():
    samples = [
        'db.session.execute(text(f"SELECT * FROM users WHERE id = {user_id}"))',
        "conn.execute(\"DELETE FROM users WHERE email = '%s'\" % email)",
        'conn.exec_driver_sql("SELECT " + column)',
        'text("SELECT * FROM t WHERE x = {}".format(x))',
        "text(query)",
    ]
    for sample in samples:
        assert list(_sql_text_calls(ast.parse(sample))), sample
    assert not list(_sql_text_calls(ast.parse('db.session.execute(text("SELECT 1"))')))
    assert not list(_sql_text_calls(ast.parse('SQL = "x <> 1"\nIndex(text(SQL))')))
