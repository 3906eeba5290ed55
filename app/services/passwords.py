"""Password hashing with argon2id (argon2-cffi), and the common-password rule (ASVS 6.2.4)."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 8  # the contract and ASVS 5.0 6.2.1; longer passphrases are encouraged
MAX_LENGTH = 128

_default_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
# Small parameters for the test suite only, which hashes thousands of passwords.
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher() -> PasswordHasher:
    return _fast_hasher if current_app.config.get("PASSWORD_HASH_FAST") else _default_hasher


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so a missing account is not an oracle.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _default_hasher.check_needs_rehash(password_hash) and not current_app.config.get(
        "PASSWORD_HASH_FAST"
    )


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common leaked passwords, as shipped by zxcvbn (a maintained package)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    return password.lower() in common_passwords()
