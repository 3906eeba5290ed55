"""Encrypting secrets at rest (the Google tokens, the two-step sign-in secrets) with Fernet.

A database dump or backup alone must not hand out access to people's calendars, or the second
step of their sign-in, so these are stored encrypted with a key the database never sees. The key
is `TOKEN_ENCRYPTION_KEY` (comma-separated Fernet keys, newest first, so keys can be rotated) or,
when unset, one derived from SECRET_KEY with HKDF. The derived key stays accepted for decryption
after a dedicated key is introduced, so existing connections keep working; new values are always
written with the first key.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_HKDF_SALT = b"hms-token-encryption"
_HKDF_INFO = b"hms/google-tokens/v1"


class DecryptionError(Exception):
    """A stored value no key can open (keys changed, or the value was tampered with)."""


def derive_key(secret: str) -> bytes:
    """A Fernet key from SECRET_KEY; HKDF keeps it independent of the key's other uses."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(raw)


def _fernet() -> MultiFernet:
    config = current_app.config
    configured = [k.strip() for k in (config.get("TOKEN_ENCRYPTION_KEY") or "").split(",")]
    keys = [Fernet(k) for k in configured if k]
    keys.append(Fernet(derive_key(config["SECRET_KEY"])))
    return MultiFernet(keys)


def encrypt(value: str | None) -> str | None:
    if value is None:
        return None
    return _fernet().encrypt(value.encode()).decode("ascii")


def decrypt(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return _fernet().decrypt(value.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as error:
        raise DecryptionError("no configured key opens this stored secret") from error
