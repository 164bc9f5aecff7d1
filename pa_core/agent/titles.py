"""Session titles: made by the model when one is configured, else the first message, shortened."""

from __future__ import annotations

from pa_core.agent.providers import Provider, ProviderError
from pa_core.agent.tools import one_line

TITLE_CHARS = 60
QUOTES = "\"'“”"


def title_for(provider: Provider, first_message: str, *, use_model: bool) -> str:
    """The title of a conversation that starts with `first_message` (at most TITLE_CHARS)."""
    if use_model:
        try:
            made = provider.make_title(first_message)
        except ProviderError:
            made = None  # a title is a nicety: the first message will do
        if made and made.strip():
            return one_line(made.strip().strip(QUOTES), TITLE_CHARS)
    return one_line(first_message, TITLE_CHARS)
