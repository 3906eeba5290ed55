"""Who sees and reaches the Google Calendar feature: doctors and patients only, and nobody at
all while GOOGLE_CLIENT_ID is unset."""

import pytest

from tests.integration.google_fakes import connect_google


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/auth/google/connect"),
        ("get", "/auth/google/callback?code=c&state=s"),
        ("post", "/auth/google/disconnect"),
    ],
)
@pytest.mark.parametrize(("who", "expected"), [("anonymous", 302), ("admin", 403)])
def test_only_doctors_and_patients_may_connect(
    google_client, google, make, login_as, method, url, who, expected
):
    if who == "admin":
        login_as(google_client, make.admin())
    response = getattr(google_client, method)(url)
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login?next=")
    assert google.authorize_requests == [] and google.token_requests == []


def test_dashboards_offer_to_connect_and_explain_what_is_not_added(google_client, make, login_as):
    doctor = make.doctor().user
    login_as(google_client, doctor)
    page = google_client.get("/doctor/").get_data(as_text=True)
    assert "Connect Google Calendar" in page
    assert 'href="/auth/google/connect"' in page
    connect_google(doctor, sub="sub-d")
    page = google_client.get("/doctor/").get_data(as_text=True)
    assert "Connect Google Calendar" not in page
    assert "Appointments booked before you connected are not added" in page
    assert 'action="/auth/google/disconnect"' in page


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/auth/google/connect"),
        ("get", "/auth/google/callback?code=c&state=s"),
        ("post", "/auth/google/disconnect"),
    ],
)
@pytest.mark.parametrize("who", ["anonymous", "doctor", "patient"])
def test_without_a_client_id_the_routes_do_not_exist(client, make, login_as, method, url, who):
    if who == "doctor":
        login_as(client, make.doctor().user)
    elif who == "patient":
        login_as(client, make.patient().user)
    assert getattr(client, method)(url).status_code == 404


def test_without_a_client_id_dashboards_show_no_google_ui(client, make, login_as):
    doctor = connect_google(make.doctor().user, sub="sub-d")
    patient = make.patient().user
    for user, url in ((doctor, "/doctor/"), (patient, "/patient/")):
        login_as(client, user)
        page = client.get(url).get_data(as_text=True)
        assert client.get(url).status_code == 200
        assert "Google" not in page
