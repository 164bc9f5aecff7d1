"""The one login policy shared by the app, the API and the CLI."""

from pa_core.auth.credentials import *  # noqa: F403 - the package's public face
from pa_core.auth.credentials import __all__ as _credentials_all
from pa_core.auth.throttle import LoginThrottle, TooManyFailedLogins  # noqa: F401 - re-exported

__all__ = list(_credentials_all)
