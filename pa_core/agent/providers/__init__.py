"""The models the assistant talks to, and how Settings choose one."""

from pa_core.agent.providers.base import Provider, ProviderConfigError, ProviderError, TurnResult
from pa_core.agent.providers.offline import OfflineProvider
from pa_core.agent.providers.openai import OpenAIProvider
from pa_core.config import Settings

OPENAI_COMPATIBLE = ("openai", "openai-compatible", "azure", "ollama", "vllm", "lmstudio")


def make_provider(settings: Settings) -> Provider:
    """The provider Settings ask for: `offline` or `openai` (any OpenAI-compatible server)."""
    name = settings.resolved_llm_provider
    if name == "offline":
        return OfflineProvider()
    if name in OPENAI_COMPATIBLE:
        return OpenAIProvider.from_settings(settings)
    raise ProviderConfigError(f"Unknown PA_LLM_PROVIDER {name!r}; use 'offline' or 'openai'.")


def choose_provider(settings: Settings) -> tuple[Provider, str | None]:
    """The provider Settings ask for, and a warning for the UI when they are incomplete."""
    try:
        provider = make_provider(settings)
    except ProviderConfigError as exc:
        return OfflineProvider(), f"{exc} Using the offline assistant."
    if provider.name == "openai" and not (settings.llm_api_key or settings.llm_base_url):
        return provider, (
            "PA_LLM_PROVIDER is 'openai' but neither PA_LLM_API_KEY nor PA_LLM_BASE_URL is "
            "set: OpenAI's API will refuse the requests."
        )
    return provider, None


__all__ = [
    "OfflineProvider",
    "OpenAIProvider",
    "Provider",
    "ProviderConfigError",
    "ProviderError",
    "TurnResult",
    "choose_provider",
    "make_provider",
]
