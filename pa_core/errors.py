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
