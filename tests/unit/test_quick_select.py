"""QuickSelect writes the same <select> as wtforms' own widget, and every form uses it."""

import wtforms
from werkzeug.datastructures import MultiDict
from wtforms.fields import SelectChoice
from wtforms.widgets import Select

from app import forms_common
from app.forms_common import QuickSelect, SelectField

TRICKY = [
    SelectChoice("", "All specializations"),
    SelectChoice("Cardiology", "Cardiology"),
    SelectChoice('say "hi"', "<b>bold</b> & co"),
    SelectChoice("it's", "it's"),
    SelectChoice("naïve", ""),  # an empty label shows the value, as in wtforms
    SelectChoice(7, 7),
    SelectChoice(True, "yes"),  # booleans go through wtforms' own rendering
    SelectChoice("tagged", "Tagged", render_kw={"data-x": "1", "disabled": True}),  # so do these
]


def form_with(widget, choices, picked):
    class Form(wtforms.Form):
        field = wtforms.SelectField(choices=choices, widget=widget)

    return Form(MultiDict({"field": picked}))


def test_the_html_is_the_same_as_wtforms_writes():
    for picked in ("", "Cardiology", 'say "hi"', "7", "tagged", "nothing of these"):
        ours = form_with(QuickSelect(), TRICKY, picked).field(class_="form-select")
        theirs = form_with(Select(), TRICKY, picked).field(class_="form-select")
        assert str(ours) == str(theirs)
    assert '<option selected value="Cardiology">Cardiology</option>' in str(
        form_with(QuickSelect(), TRICKY, "Cardiology").field()
    )
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in str(form_with(QuickSelect(), TRICKY, "").field())


def test_rendering_does_not_inspect_signatures(monkeypatch):
    """wtforms inspects render_option's signature at each render unless told which to call."""
    import inspect

    def refuse(*args, **kwargs):
        raise AssertionError("inspect.signature called while rendering")

    form = form_with(QuickSelect(), TRICKY, "Cardiology")
    monkeypatch.setattr(inspect, "signature", refuse)
    assert '<option selected value="Cardiology">' in str(form.field())


def test_option_groups_render_as_wtforms_does():
    groups = [
        SelectChoice("a", "A", optgroup="Surgery"),
        SelectChoice("b", 'B "quoted"', optgroup="Surgery"),
        SelectChoice("c", "C", optgroup="Other"),
    ]
    ours = form_with(QuickSelect(), groups, "b").field()
    theirs = form_with(Select(), groups, "b").field()
    assert str(ours) == str(theirs)


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_select_field_of_the_app_is_ours():
    import app.blueprints.admin.forms  # noqa: F401 - imported for their field classes
    import app.blueprints.doctor.forms  # noqa: F401
    import app.blueprints.patient.forms  # noqa: F401

    plain = [
        sub
        for sub in _all_subclasses(wtforms.Form)
        if sub.__module__.startswith("app.")
        for name in dir(sub)
        if type(getattr(sub, name, None)).__name__ == "UnboundField"
        and getattr(sub, name).field_class is wtforms.SelectField
    ]
    assert plain == []
    assert SelectField.widget.__class__ is QuickSelect
    assert forms_common.SelectField is SelectField
