"""url_for_each: the same URLs as url_for, built once per list."""

import pytest
from flask import url_for

from app.templating import url_for_each


@pytest.mark.parametrize(
    ("endpoint", "name", "values", "numbers"),
    [
        ("booking.slot", "slot_id", {}, [1, 42, 2_000_000]),
        ("patient.doctors", "page", {}, [1, 2, 17]),
        ("patient.doctors", "page", {"q": "Müller & Söhne", "specialization": "A/B"}, [2, 3]),
        # a value holding the marker itself: every URL is built in full, still right
        ("patient.doctors", "page", {"q": "2147483647"}, [2, 3]),
        ("patient.doctors", "page", {"q": "x2147483647x2147483647"}, [4]),
    ],
)
def test_the_urls_are_url_fors(app, endpoint, name, values, numbers):
    with app.test_request_context("/"):
        build = url_for_each(endpoint, name, **values)
        for number in numbers:
            assert build(number) == url_for(endpoint, **{name: number}, **values)
