"""Links sent by email that prove who opened them: a payload signed with SECRET_KEY and timed
(itsdangerous, as Flask signs its sessions). Nothing is stored, so any app server can check one;
each kind of link has its own salt, so one kind can never pass for another."""

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.services import DomainError


def fingerprint(*parts: str) -> str:
    """Part of a digest of what a link depends on (a password hash, an address): it changes
    whenever they do, so the link ends with them, and gives nothing of them away (a link's
    payload is signed, not encrypted)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:20]


class InvalidLink(DomainError):
    """Broken, expired or already used; the page offers a way to get a new one."""

    EXPIRED = "This link has expired."
    INVALID = "This link is not valid, or it has already been used."


class SignedLink:
    def __init__(self, salt: str, max_age_seconds) -> None:
        self.salt = salt
        self.max_age_seconds = max_age_seconds  # read from the config when a link is checked

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.secret_key, salt=self.salt)

    def make(self, payload: list) -> str:
        return self._serializer().dumps(payload)

    def read(self, token: str, shape: tuple[type, ...]) -> list:
        """The payload, if the link is genuine, in time and a list of values of `shape`."""
        try:
            payload = self._serializer().loads(token, max_age=self.max_age_seconds())
        except SignatureExpired:
            raise InvalidLink(InvalidLink.EXPIRED) from None
        except BadSignature:
            raise InvalidLink(InvalidLink.INVALID) from None
        if (
            not isinstance(payload, list)
            or len(payload) != len(shape)
            or not all(type(value) is kind for value, kind in zip(payload, shape, strict=True))
        ):
            raise InvalidLink(InvalidLink.INVALID)
        return payload
