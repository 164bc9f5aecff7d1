"""Named errors raised by pa_core; pages and the API turn them into readable messages."""


class PAError(Exception):
    """Base class of every error pa_core raises on purpose."""


class ValidationError(PAError, ValueError):
    """An argument a user supplied is not acceptable; the message says why."""


class SessionNotFound(PAError, LookupError):
    """The session does not exist, is not a valid id, or belongs to another user."""

    def __init__(self, session_id: str = ""):
        self.session_id = session_id
        super().__init__("That conversation was not found.")


class StorageError(PAError):
    """The database could not be reached or refused a write."""


class MigrationError(PAError):
    """The database schema could not be brought to the current revision."""


class ImportTooLarge(ValidationError):
    """An import file (or a zip entry) is over the documented size limit."""


class PermissionDenied(PAError):
    """The acting user may not do this (administration is for admins only)."""

    def __init__(self, message: str = "Only administrators can do that."):
        super().__init__(message)


class UserDisabled(PAError):
    """The account is disabled by an administrator: it cannot log in, by any route."""

    def __init__(self, message: str = "This account is disabled. Ask your administrator."):
        super().__init__(message)
