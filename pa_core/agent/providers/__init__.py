"""The models the assistant talks to, and how Settings choose one."""

from pa_core.agent.providers.base import Provider, ProviderError, TurnResult
from pa_core.agent.providers.offline import OfflineProvider
from pa_core.agent.providers.openai import OpenAIProvider
from pa_core.config import Settings
from pa_core.errors import PAError

OPENAI_COMPATIBLE = ("openai", "openai-compatible", "azure", "ollama", "vllm", "lmstudio")


def make_provider(settings: Settings) -> Provider:
    """The provider Settings ask for: `offline` or `openai` (any OpenAI-compatible server)."""
    name = settings.resolved_llm_provider
    if name == "offline":
        return OfflineProvider()
    if name in OPENAI_COMPATIBLE:
        return OpenAIProvider.from_settings(settings)
    raise PAError(f"Unknown PA_LLM_PROVIDER {name!r}; use 'offline' or 'openai'.")


__all__ = [
    "OfflineProvider",
    "OpenAIProvider",
    "Provider",
    "ProviderError",
    "TurnResult",
    "make_provider",
]
