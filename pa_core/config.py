"""Settings from environment variables, a `.env` file, or Streamlit secrets of the same names."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "personal_assistant.db"
DEFAULT_SPOOL_DIR = PROJECT_ROOT / "data" / "spool"


class Settings(BaseSettings):
    """Every setting of the app (docs/ARCHITECTURE.md, "Settings"), read once per process."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PA_DATABASE_URL", "DATABASE_URL")
    )
    auth_config: Path = Field(
        default=PROJECT_ROOT / ".streamlit" / "auth.yaml", validation_alias="PA_AUTH_CONFIG"
    )
    cookie_key: str | None = Field(default=None, validation_alias="PA_COOKIE_KEY")
    llm_provider: str | None = Field(default=None, validation_alias="PA_LLM_PROVIDER")
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("PA_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("PA_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="PA_LLM_MODEL")
    llm_timeout_s: float = Field(default=60.0, validation_alias="PA_LLM_TIMEOUT")
    llm_max_retries: int = Field(default=2, validation_alias="PA_LLM_MAX_RETRIES")
    session_retention_days: int = Field(default=90, validation_alias="PA_SESSION_RETENTION_DAYS")
    # Where messages wait, durably, while the database is down (docs/ASSISTANT.md).
    spool_dir: Path = Field(default=DEFAULT_SPOOL_DIR, validation_alias="PA_SPOOL_DIR")
    # The API's streamed responses (docs/API.md): a client that takes no data for this long is cut.
    stream_timeout_s: float = Field(default=30.0, gt=0, validation_alias="PA_STREAM_TIMEOUT_S")
    export_streams_per_user: int = Field(
        default=3, ge=1, validation_alias="PA_EXPORT_STREAMS_PER_USER"
    )
    # How long the API trusts an API token look-up (docs/API.md): a token revoked, or its owner
    # disabled, elsewhere stops working within this many seconds; 0 looks every token up.
    api_token_cache_s: float = Field(
        default=5.0, ge=0, le=60, validation_alias="PA_API_TOKEN_CACHE_S"
    )
    # Requests whose route code runs at once in an API process (each in a worker thread), and the
    # PostgreSQL connections it keeps open for them, never more (docs/API.md).
    api_threads: int = Field(default=40, ge=1, le=400, validation_alias="PA_API_THREADS")
    api_db_pool: int = Field(default=15, ge=1, le=200, validation_alias="PA_API_DB_POOL")
    # /docs and /redoc of the API; off unless PA_API_DOCS=1 (served without any CDN).
    api_docs: bool = Field(default=False, validation_alias="PA_API_DOCS")
    # The app's login throttle takes the client address from X-Forwarded-For (last entry) only
    # when this is set: behind a proxy you run that appends it (docs/APP.md).
    trust_forwarded_for: bool = Field(default=False, validation_alias="PA_TRUST_FORWARDED_FOR")
    # How the UI logs people in: `yaml` (the credentials file) or `oidc` (st.login; SECURITY.md).
    auth_mode: Literal["yaml", "oidc"] = Field(default="yaml", validation_alias="PA_AUTH_MODE")
    # Members of this group (in the ID token's group claim) get the admin role on each login.
    oidc_admin_group: str | None = Field(default=None, validation_alias="PA_OIDC_ADMIN_GROUP")
    oidc_group_claim: str = Field(default="groups", validation_alias="PA_OIDC_GROUP_CLAIM")
    oidc_label: str = Field(default="single sign-on", validation_alias="PA_OIDC_LABEL")

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under data/ (created on first use)."""
        if self.database_url:
            return normalize_url(self.database_url)
        DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"

    @property
    def resolved_llm_provider(self) -> str:
        """`openai` when chosen or when a key or base URL is set, else `offline`."""
        if self.llm_provider:
            return self.llm_provider.strip().lower()
        return "openai" if (self.llm_api_key or self.llm_base_url) else "offline"


def normalize_url(url: str) -> str:
    """Map bare `postgres://`/`postgresql://` URLs to the psycopg2 driver SQLAlchemy 2.1 needs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


@functools.cache
def get_settings() -> Settings:
    """The process's Settings, read from the environment once (`get_settings.cache_clear()`)."""
    return Settings()
