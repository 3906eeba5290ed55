"""Token encryption: keys from TOKEN_ENCRYPTION_KEY or SECRET_KEY, rotation, tampering."""

import pytest
from cryptography.fernet import Fernet

from app import create_app
from app.services.crypto import DecryptionError, decrypt, encrypt
from config import TestingConfig

NEW_KEY = Fernet.generate_key().decode()
OLD_KEY = Fernet.generate_key().decode()


def app_with(**config):
    return create_app(TestingConfig, config)


def sealed(app, value: str) -> str:
    with app.app_context():
        return encrypt(value)


def opened(app, value: str) -> str:
    with app.app_context():
        return decrypt(value)


def test_values_round_trip_and_never_appear_in_the_ciphertext():
    app = app_with()
    first, second = sealed(app, "ya29.secret"), sealed(app, "ya29.secret")
    assert "ya29.secret" not in first
    assert first != second  # a fresh IV each time: equal tokens do not look equal
    assert opened(app, first) == opened(app, second) == "ya29.secret"


def test_none_stays_none():
    with app_with().app_context():
        assert encrypt(None) is None
        assert decrypt(None) is None


def test_the_derived_key_depends_on_the_secret_key():
    value = sealed(app_with(SECRET_KEY="one secret"), "token")
    with pytest.raises(DecryptionError):
        opened(app_with(SECRET_KEY="another secret"), value)


def test_a_dedicated_key_encrypts_and_older_values_still_open():
    before = sealed(app_with(), "written before the dedicated key")
    dedicated = app_with(TOKEN_ENCRYPTION_KEY=NEW_KEY)
    after = sealed(dedicated, "written with it")
    assert opened(dedicated, before) == "written before the dedicated key"
    assert opened(dedicated, after) == "written with it"
    with pytest.raises(DecryptionError):
        opened(app_with(), after)  # the SECRET_KEY alone cannot open the new values


def test_keys_rotate_newest_first():
    old_value = sealed(app_with(TOKEN_ENCRYPTION_KEY=OLD_KEY), "old")
    rotated = app_with(TOKEN_ENCRYPTION_KEY=f"{NEW_KEY}, {OLD_KEY}")
    assert opened(rotated, old_value) == "old"
    assert opened(app_with(TOKEN_ENCRYPTION_KEY=NEW_KEY), sealed(rotated, "new")) == "new"


def test_a_tampered_value_is_refused():
    app = app_with()
    value = sealed(app, "token")
    forged = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        opened(app, forged)
