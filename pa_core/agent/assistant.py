"""PersonalAssistant: one chat turn = user message stored, model called, reply stored."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pa_core.agent.context import (
    HISTORY_LOAD_MARGIN,
    HISTORY_MAX_CHARS,
    HISTORY_MAX_MESSAGES,
    ContextCache,
    build_context,
    message_dict,
)
from pa_core.agent.offline import OfflineProvider
from pa_core.agent.providers import Provider, ProviderError, TurnResult, make_provider
from pa_core.agent.tools import ToolContext, ToolError, one_line
from pa_core.config import Settings, get_settings
from pa_core.errors import PAError, SessionNotFound, StorageError
from pa_core.validation import MAX_CONTENT_CHARS, canonical_session_id, check_content

# "The database is not reachable": the service maps connection failures and pool timeouts to
# StorageError. Other SQLAlchemy errors (a bad statement, an integrity error) are bugs, not an
# outage, and are not queued for a retry.
DB_ERRORS = (StorageError,)

SYSTEM_PROMPT = (
    "You are Personal Assistant, a concise and helpful assistant for internal users. "
    "Use the tools for arithmetic (calculator), the current date and time (get_datetime), "
    "the user's past conversations (search_history) and this conversation's statistics "
    "(session_stats) instead of guessing. Answer in the user's language. Use Markdown."
)
UNSAVED_NOTE = (
    "\n\n---\n⚠️ *History could not be saved: the database is not reachable right now. "
    "This exchange is kept in memory and will be saved automatically on your next message "
    "once the database is back.*"
)
TITLE_CHARS = 60
# Messages kept in memory per user while the database is down; newer ones are not kept.
MAX_PENDING_MESSAGES = 1000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatReply:
    """The outcome of one turn, as stored (plus the unsaved-history note when `saved` is False)."""

    session_id: str
    content: str
    tools_used: list[str]
    processing_time_ms: int
    token_count: int | None
    has_error: bool = False
    error_message: str | None = None
    message_id: int | None = None
    user_message_id: int | None = None
    model: str | None = None
    provider: str | None = None
    saved: bool = True
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    title: str | None = None


@dataclass
class _Pending:
    """A message that could not be written yet; `client_id` makes the later write idempotent."""

    session_id: str
    role: str
    content: str
    fields: dict[str, Any]
    client_id: str


@dataclass
class _UserState:
    """Per (database, user) state shared by every PersonalAssistant of this process."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    pending: list[_Pending] = field(default_factory=list)
    unsaved_sessions: set[str] = field(default_factory=set)  # ids made up while the DB was down
    aliases: dict[str, str] = field(default_factory=dict)  # made-up id -> real session id
    titles: dict[str, str] = field(default_factory=dict)  # titles waiting for their session

    def is_queued(self, sid: str) -> bool:
        """True when session `sid` has messages waiting (later writes must queue behind them).

        Call with `lock` held. A queued message may still carry the made-up id of its session.
        """
        return sid in self.unsaved_sessions or any(
            self.aliases.get(p.session_id, p.session_id) == sid for p in self.pending
        )


_STATES: dict[tuple[str, int], _UserState] = {}
_STATES_LOCK = threading.Lock()
_SHARED_CACHE = ContextCache()


def _user_state(db_key: str, user_id: int) -> _UserState:
    with _STATES_LOCK:
        return _STATES.setdefault((db_key, user_id), _UserState())


class PersonalAssistant:
    """Chat with persistence: every turn is stored through the ConversationService."""

    def __init__(
        self,
        service: Any,
        user: Any,
        *,
        settings: Settings | None = None,
        provider: Provider | None = None,
        cache: ContextCache | None = None,
        history_messages: int = HISTORY_MAX_MESSAGES,
        history_chars: int = HISTORY_MAX_CHARS,
        system_prompt: str | None = SYSTEM_PROMPT,
        generate_titles: bool = True,
        clock: Callable[[], datetime] | None = None,
    ):
        """An assistant for `user`; the provider comes from Settings unless one is given."""
        self.service = service
        self.user = user
        self.settings = settings or get_settings()
        self.config_warning: str | None = None
        if provider is None:
            try:
                provider = make_provider(self.settings)
            except PAError as exc:
                self.config_warning = f"{exc} Using the offline assistant."
                provider = OfflineProvider()
        self.provider: Provider = provider
        if (
            self.config_warning is None
            and provider.name == "openai"
            and not (self.settings.llm_api_key or self.settings.llm_base_url)
        ):
            self.config_warning = (
                "PA_LLM_PROVIDER is 'openai' but neither PA_LLM_API_KEY nor PA_LLM_BASE_URL is "
                "set: OpenAI's API will refuse the requests."
            )
        self.cache = cache if cache is not None else _SHARED_CACHE
        self.cache.hold_at_least(history_messages + HISTORY_LOAD_MARGIN)  # what a miss loads
        self.history_messages = history_messages
        self.history_chars = history_chars
        self.system_prompt = system_prompt
        self.generate_titles = generate_titles
        self.clock = clock
        self._db_key = str(getattr(getattr(service, "engine", None), "url", id(service)))
        self._state = _user_state(self._db_key, user.id)
        self.last_reply: ChatReply | None = None
        self.last_session_id: str | None = None

    # -- what the UI shows -----------------------------------------------------------------------

    @property
    def provider_name(self) -> str:
        """'offline' or 'openai'."""
        return self.provider.name

    @property
    def model(self) -> str:
        """The model name sent to the provider (offline: the offline assistant's name)."""
        return self.provider.model

    @property
    def is_offline(self) -> bool:
        """True when no language model is configured (the UI shows a banner)."""
        return bool(getattr(self.provider, "is_offline", False))

    @property
    def pending_count(self) -> int:
        """How many messages wait in memory for the database to come back."""
        with self._state.lock:
            return len(self._state.pending)

    # -- the turn ---------------------------------------------------------------------------------

    def chat(self, message: str, session_id: str | None = None) -> ChatReply:
        """Answer `message` in session `session_id` (None or not the user's: a new session)."""
        for _chunk in self._turn(message, session_id, stream=False):
            pass
        assert self.last_reply is not None
        return self.last_reply

    def stream(self, message: str, session_id: str | None = None) -> Iterator[str]:
        """Yield the reply's text chunks; `last_session_id` is set before the first chunk and
        `last_reply` (a ChatReply) once the generator is exhausted."""
        return self._turn(message, session_id, stream=True)

    def flush_pending(self) -> int:
        """Write messages kept in memory while the database was down; returns how many remain."""
        self._flush_pending()
        return self.pending_count

    def _turn(self, message: str, session_id: str | None, *, stream: bool) -> Iterator[str]:
        started = time.perf_counter()
        text = check_content(message)
        self.last_reply = None
        self._flush_pending()
        sid, session = self._resolve_session(session_id)
        self.last_session_id = sid
        key = self._key(sid)
        history = self._load_history(key, sid, session)
        first_exchange = not any(m["role"] == "user" for m in history) and (
            session is None or session.title is None
        )

        user_record = self._save(sid, role="user", content=text, fields={})
        with self._state.lock:  # a session deleted meanwhile was replaced by a new one
            sid = self._state.aliases.get(sid, sid)
        key = self._key(sid)
        self.cache.append(
            key, {"role": "user", "content": text, "has_error": False}, saved=bool(user_record)
        )
        history.append({"role": "user", "content": text, "has_error": False})

        ctx = ToolContext(
            service=self.service,
            user=self.user,
            session_id=sid,
            history=history,
            exclude_message_ids={user_record.id} if user_record else set(),
        )
        if self.clock is not None:
            ctx.clock = self.clock
        messages = build_context(
            history,
            system_prompt=None if self.is_offline else self.system_prompt,
            max_messages=self.history_messages,
            max_chars=self.history_chars,
        )
        result = TurnResult()
        chunks: list[str] = []
        error: tuple[str, str] | None = None
        # finish(error) stores the assistant message and sets last_reply (see _finish).
        finish = functools.partial(
            self._finish, sid, key, started, chunks, result, text, first_exchange, stream,
            user_record,
        )  # fmt: skip
        try:
            for chunk in self.provider.respond(messages, ctx, result, stream=stream):
                if chunk:
                    chunks.append(chunk)
                    yield chunk
        except ProviderError as exc:
            error = (exc.message, exc.detail)
        except ToolError as exc:
            tool = result.tools_used[-1] if result.tools_used else "tool"
            error = (f"I couldn't complete that: {exc}", f"{tool} failed: {exc}")
        except GeneratorExit:
            # The reader stopped early (e.g. the browser went away): keep what was produced.
            finish(("The reply was interrupted.", "the reader closed the stream early"))
            raise
        except Exception as exc:  # noqa: BLE001 - boundary: a failed turn is a reply, never a crash
            error = (
                "Something went wrong while preparing the reply.",
                f"{type(exc).__name__}: {exc}",
            )
        if error is None and not "".join(chunks).strip():
            error = ("The model returned an empty reply.", "empty completion")
        if error is not None:
            notice = ("\n\n" if chunks else "") + f"⚠️ {error[0]}"
            chunks.append(notice)
            try:
                yield notice
            except GeneratorExit:
                finish(error)  # closed on the notice: still store the turn
                raise
        reply = finish(error)
        if not reply.saved:
            yield UNSAVED_NOTE

    def _finish(
        self,
        sid: str,
        key: tuple,
        started: float,
        chunks: list[str],
        result: TurnResult,
        text: str,
        first_exchange: bool,
        stream: bool,
        user_record: Any,
        error: tuple[str, str] | None,
    ) -> ChatReply:
        """Store the assistant message, title the session, set `last_reply`."""
        content = "".join(chunks)
        if not content.strip():
            # Only a reply interrupted before any visible text gets here: a turn that ends normally
            # appends the error notice, and an empty one is an error ("empty completion").
            assert error is not None
            content = f"⚠️ {error[0]}"
        content = content[:MAX_CONTENT_CHARS]
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        metadata: dict[str, Any] = {
            "model": result.model or self.provider.model,
            "provider": self.provider.name,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "streamed": stream,
        }
        if result.estimated_tokens:
            metadata["tokens_estimated"] = True
        if result.tool_errors:
            metadata["tool_errors"] = result.tool_errors
        fields = {
            "tools_used": list(result.tools_used),
            "processing_time_ms": elapsed_ms,
            "token_count": result.total_tokens,
            "has_error": error is not None,
            "error_message": error[1] if error else None,
            "metadata": metadata,
        }
        record = self._save(sid, role="assistant", content=content, fields=fields)
        self.cache.append(
            key,
            {"role": "assistant", "content": content, "has_error": error is not None},
            saved=bool(record),
        )
        title = None
        if first_exchange:
            title = self._title_for(text, use_model=error is None)
            title = self._set_title(sid, title)
        saved = record is not None and self.pending_count == 0
        reply = ChatReply(
            session_id=self._state.aliases.get(sid, sid),
            content=content + ("" if saved else UNSAVED_NOTE),
            tools_used=list(result.tools_used),
            processing_time_ms=elapsed_ms,
            token_count=result.total_tokens,
            has_error=error is not None,
            error_message=error[1] if error else None,
            message_id=record.id if record else None,
            user_message_id=user_record.id if user_record else None,
            model=metadata["model"],
            provider=self.provider.name,
            saved=saved,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            title=title,
        )
        self.last_reply = reply
        self.last_session_id = reply.session_id
        return reply

    # -- sessions, history, titles ---------------------------------------------------------------

    def _key(self, sid: str) -> tuple:
        return (self._db_key, self.user.id, sid)

    def _resolve_session(self, session_id: str | None) -> tuple[str, Any]:
        """(session id, SessionRecord or None when the database is not reachable)."""
        state = self._state
        wanted = canonical_session_id(session_id) if session_id else None
        with state.lock:
            if wanted is not None:
                wanted = state.aliases.get(wanted, wanted)
                if wanted in state.unsaved_sessions:
                    return wanted, None
        try:
            session = self.service.get_or_create_session(wanted, user=self.user)
        except DB_ERRORS:
            if wanted is not None:
                return wanted, None
            made_up = str(uuid.uuid4())
            with state.lock:
                state.unsaved_sessions.add(made_up)
            return made_up, None
        if session.session_id != wanted and wanted is not None:
            self.cache.discard(self._key(wanted))
        return session.session_id, session

    def _load_history(self, key: tuple, sid: str, session: Any) -> list[dict[str, Any]]:
        """The session's recent messages: the cache when current, else the database."""
        if session is None:
            return self.cache.get(key, None) or []
        if session.message_count == 0:
            self.cache.put(key, [], 0)
            return []
        cached = self.cache.get(key, session.message_count)
        if cached is not None:
            return cached
        try:
            records = self.service.get_messages(
                sid, user=self.user, limit=self.history_messages + HISTORY_LOAD_MARGIN
            )
        except DB_ERRORS:
            return self.cache.get(key, None) or []
        history = [message_dict(r) for r in records]
        self.cache.put(key, history, session.message_count)
        return history

    def _title_for(self, first_message: str, *, use_model: bool) -> str:
        """A model-made title when a model is configured, else the first message, shortened."""
        if use_model and self.generate_titles and not self.is_offline:
            try:
                made = self.provider.make_title(first_message)
            except ProviderError:
                made = None
            if made and made.strip():
                return one_line(made.strip().strip("\"'“”"), TITLE_CHARS)
        return one_line(first_message, TITLE_CHARS)

    def _set_title(self, sid: str, title: str) -> str | None:
        state = self._state
        with state.lock:
            if state.is_queued(sid):
                state.titles[sid] = title
                return title
        try:
            set_now = self.service.set_session_title_if_untitled(sid, user=self.user, title=title)
        except DB_ERRORS:
            with state.lock:
                state.titles[sid] = title
            return title
        except SessionNotFound:
            return None
        return title if set_now else None

    # -- writes that survive a database outage ---------------------------------------------------

    def _save(self, sid: str, *, role: str, content: str, fields: dict[str, Any]) -> Any:
        """Write a message now, or queue it (in order) when the database is not reachable."""
        state = self._state
        item = _Pending(sid, role, content, fields, str(uuid.uuid4()))
        with state.lock:
            sid = item.session_id = state.aliases.get(sid, sid)
            if state.is_queued(sid):
                self._queue(state, item)
                return None
        try:
            return self._write(sid, item)
        except SessionNotFound:
            # Deleted (e.g. in another tab) since this turn began: continue in a new session.
            with state.lock:
                target = self._adopt(state, sid)
            return self._write(target, item)
        except DB_ERRORS as exc:
            log.warning("message not saved (kept in memory): %s", exc)
            with state.lock:
                self._queue(state, item)
            return None

    def _queue(self, state: _UserState, item: _Pending) -> None:
        """Keep an unsaved message; past MAX_PENDING_MESSAGES newer ones are not kept."""
        if len(state.pending) >= MAX_PENDING_MESSAGES:
            log.error("%d unsaved messages in memory: not keeping more", len(state.pending))
            return
        state.pending.append(item)

    def _write(self, sid: str, item: _Pending) -> Any:
        metadata = dict(item.fields.get("metadata") or {})
        metadata["client_id"] = item.client_id
        fields = {k: v for k, v in item.fields.items() if k != "metadata"}
        return self.service.add_message(
            sid, user=self.user, role=item.role, content=item.content, metadata=metadata, **fields
        )

    def _flush_pending(self) -> None:
        """Write queued messages in order, exactly once (client ids already stored are skipped)."""
        state = self._state
        with state.lock:
            if not state.pending and not state.titles:
                return
            try:
                self._flush_locked(state)
            except DB_ERRORS:
                return  # still down: keep everything for the next call
            except SessionNotFound:
                return  # deleted between check and write: the next flush starts a new session

    def _flush_locked(self, state: _UserState) -> None:
        order: list[str] = []
        for p in state.pending:
            if p.session_id not in order:
                order.append(p.session_id)
        for sid in order:
            # A made-up id adopted by an earlier, interrupted flush already has its real session.
            target = state.aliases.get(sid, sid)
            if sid in state.unsaved_sessions:
                target = self._adopt(state, sid)
                stored_ids: set[str] | None = set()  # a session created just now is empty
            else:
                stored_ids = self._stored_client_ids(target, len(state.pending))
            if stored_ids is None:  # the session is gone or not the user's: start a new one
                target = self._adopt(state, sid)
                stored_ids = set()
            written = 0
            for item in [p for p in state.pending if p.session_id == sid]:
                if item.client_id not in stored_ids:
                    self._write(target, item)
                state.pending.remove(item)
                written += 1
            self.cache.mark_saved(self._key(target), written)
        for sid, title in list(state.titles.items()):
            if sid in state.unsaved_sessions:
                continue
            target = state.aliases.get(sid, sid)
            with contextlib.suppress(SessionNotFound):  # deleted meanwhile: nothing to title
                self.service.set_session_title_if_untitled(target, user=self.user, title=title)
            del state.titles[sid]

    def _adopt(self, state: _UserState, sid: str) -> str:
        """Create a real session for messages written under a made-up or foreign id."""
        session = self.service.create_session(user=self.user)
        state.unsaved_sessions.discard(sid)
        state.aliases[sid] = session.session_id
        for old, new in list(state.aliases.items()):
            if new == sid:
                state.aliases[old] = session.session_id
        self.cache.rename(self._key(sid), self._key(session.session_id))
        if sid in state.titles:
            state.titles[session.session_id] = state.titles.pop(sid)
        return session.session_id

    def _stored_client_ids(self, sid: str, n_pending: int) -> set[str] | None:
        """client_id of the session's last messages; None when the session is not the user's."""
        try:
            records = self.service.get_messages(sid, user=self.user, limit=n_pending + 50)
        except SessionNotFound:
            return None
        return {
            (r.message_metadata or {}).get("client_id")
            for r in records
            if isinstance(r.message_metadata, dict)
        }
