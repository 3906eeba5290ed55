"""Services hold the rules. They raise domain errors and flush; they never commit and never
touch the request, the session or flash(): the view owns the one commit of each request."""


class DomainError(Exception):
    """A rule refused the action; `message` is safe to show to the user."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The world changed under the user (slot taken, overlap): HTTP 409."""

    status_code = 409


class Forbidden(DomainError):
    status_code = 403
