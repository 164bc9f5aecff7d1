"""PersonalAssistant: one chat turn = user message stored, model called, reply stored."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
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
from pa_core.agent.outbox import DB_ERRORS, Outbox, shared_outbox
from pa_core.agent.providers import Provider, ProviderError, choose_provider
from pa_core.agent.redo import RedoMixin
from pa_core.agent.replies import (
    EMPTY_REPLY,
    INTERRUPTED_EMPTY,
    LOST_NOTE,
    UNEXPECTED,
    UNSAVED_NOTE,
    ChatReply,
    reply_client_id,
)
from pa_core.agent.spool import SpoolFull
from pa_core.agent.titles import title_for
from pa_core.agent.tools import ToolContext, ToolError
from pa_core.agent.turn import Turn as _Turn
from pa_core.agent.turn import TurnError
from pa_core.config import Settings, get_settings
from pa_core.validation import MAX_CONTENT_CHARS, check_client_id, check_content

SYSTEM_PROMPT = (
    "You are Personal Assistant, a concise and helpful assistant for internal users. "
    "Use the tools for arithmetic (calculator), the current date and time (get_datetime), "
    "the user's past conversations (search_history) and this conversation's statistics "
    "(session_stats) instead of guessing. Answer in the user's language. Use Markdown."
)
log = logging.getLogger(__name__)

# The context cache shared by every PersonalAssistant of the process that is not given one.
DEFAULT_CACHE = ContextCache()


class PersonalAssistant(RedoMixin):
    """Chat with persistence: every turn is stored through the ConversationService."""

    def __init__(
        self,
        service: Any,
        user: Any,
        *,
        settings: Settings | None = None,
        provider: Provider | None = None,
        cache: ContextCache | None = None,
        outbox: Outbox | None = None,
        history_messages: int = HISTORY_MAX_MESSAGES,
        history_chars: int = HISTORY_MAX_CHARS,
        system_prompt: str | None = SYSTEM_PROMPT,
        generate_titles: bool = True,
        clock: Callable[[], datetime] | None = None,
    ):
        """An assistant for `user`; the provider comes from Settings unless one is given."""
        self.service = service
        self.user = user
        self.settings = settings if settings is not None else get_settings()
        self.config_warning: str | None = None
        if provider is None:
            provider, self.config_warning = choose_provider(self.settings)
        self.provider: Provider = provider
        self.cache = cache if cache is not None else DEFAULT_CACHE
        self.cache.hold_at_least(history_messages + HISTORY_LOAD_MARGIN)  # what a miss loads
        outbox = outbox if outbox is not None else shared_outbox(self.settings.spool_dir)
        self.outbox = outbox.for_user(service, user, cache=self.cache)
        self.history_messages = history_messages
        self.history_chars = history_chars
        self.system_prompt = system_prompt
        self.generate_titles = generate_titles
        self.clock = clock
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
        """How many messages wait in the spool for the database to come back."""
        return self.outbox.pending_count

    # -- the turn ---------------------------------------------------------------------------------

    def chat(
        self,
        message: str,
        session_id: str | None = None,
        *,
        client_id: str | None = None,
        session: Any = None,
    ) -> ChatReply:
        """Answer `message` in session `session_id` (None or not the user's: a new session).

        With `client_id`, a retry of the same turn stores the user message once (and the reply
        under `reply_client_id(client_id)`). `session`: the user's SessionRecord of
        `session_id` that the caller has just read (the turn then does not read it again).
        """
        turn = self._turn(
            lambda: self._begin(
                message, session_id, stream=False, client_id=client_id, session=session
            )
        )
        for _chunk in turn:
            pass
        assert self.last_reply is not None
        return self.last_reply

    def stream(
        self,
        message: str,
        session_id: str | None = None,
        *,
        client_id: str | None = None,
        keep_id: bool = False,
        session: Any = None,
    ) -> Iterator[str]:
        """Yield the reply's text chunks; `last_session_id` is set before the first chunk and
        `last_reply` (a ChatReply) once the generator is exhausted (`client_id`: as in chat).

        `keep_id`: a `session_id` no session has yet is created with exactly that id (the chat
        page puts a fresh id in its URL before the first message); another user's id still
        starts a new session.
        """
        return self._turn(
            lambda: self._begin(
                message, session_id, stream=True, client_id=client_id, keep_id=keep_id
            )
        )

    def flush_pending(self) -> int:
        """Write the messages kept while the database was down; how many it wrote now."""
        return self.outbox.flush(wait=True)

    def pending_messages(self, session_id: str) -> list[dict[str, Any]]:
        """The messages of a session waiting in the spool for the database (role, content)."""
        return self.outbox.pending_messages(session_id)

    def resolve_session(self, session_id: str) -> str:
        """The session that continues `session_id` (itself unless its messages had to go to
        another session when they were written)."""
        return self.outbox.resolve(session_id)

    def _turn(self, begin: Callable[[], tuple[_Turn, list[dict[str, Any]]]]) -> Iterator[str]:
        """The turn as a generator of text chunks; the reply is stored however it ends."""
        turn, history = begin()
        try:
            error = yield from self._model_chunks(turn, history)
        except GeneratorExit:
            # The reader stopped early (close(), a rerun, Stop, a dropped client): store what was
            # said now, inside close(), so it lands in order and never later by a finalizer.
            self._finish(turn, None, interrupted=True)
            raise
        if error is None and not "".join(turn.chunks).strip():
            error = EMPTY_REPLY
        if error is not None:
            notice = ("\n\n" if turn.chunks else "") + f"⚠️ {error[0]}"
            turn.chunks.append(notice)
            try:
                yield notice
            except GeneratorExit:
                self._finish(turn, error)  # closed on the notice: still store the turn
                raise
        reply = self._finish(turn, error)
        if not reply.saved:
            yield reply.content[len(self._stored_content(turn, error)) :]

    def _begin(
        self,
        message: str,
        session_id: str | None,
        *,
        stream: bool,
        client_id: str | None,
        keep_id: bool = False,
        session: Any = None,
    ) -> tuple[_Turn, list[dict[str, Any]]]:
        """Check the message, write the backlog, open the session, store the user message."""
        started = time.perf_counter()
        text = check_content(message)
        client_id = check_client_id(client_id)
        self.last_reply = None
        self.outbox.flush(wait=False)  # another thread or process flushing: ours queue behind
        sid, session = self.outbox.open_session(session_id, keep_id=keep_id, known=session)
        self.last_session_id = sid
        history = self._load_history(sid, session)
        first_exchange = not any(m["role"] == "user" for m in history) and (
            session is None or session.title is None
        )
        user_record = self.outbox.save(
            sid, role="user", content=text, fields={}, client_id=client_id
        )
        sid = self.outbox.resolve(sid)  # a session deleted meanwhile was replaced by a new one
        entry = {"role": "user", "content": text, "has_error": False}
        self.cache.append(self.outbox.key(sid), dict(entry), saved=bool(user_record))
        history.append(entry)
        turn = _Turn(sid, text, stream, first_exchange, started, user_record, client_id)
        return turn, history

    def _model_chunks(
        self, turn: _Turn, history: list[dict[str, Any]]
    ) -> Generator[str, None, TurnError | None]:
        """Yield the provider's chunks (kept in `turn.chunks`); return the error, if any."""
        ctx = ToolContext(
            service=self.service,
            user=self.user,
            session_id=turn.sid,
            history=history,
            exclude_message_ids={turn.user_record.id} if turn.user_record else set(),
        )
        if self.clock is not None:
            ctx.clock = self.clock
        messages = build_context(
            history,
            system_prompt=None if self.is_offline else self.system_prompt,
            max_messages=self.history_messages,
            max_chars=self.history_chars,
        )
        turn.context_messages = sum(1 for m in messages if m.get("role") != "system")
        try:
            # closing(): an interrupted turn closes the provider's stream (and its HTTP response)
            # at once, not when the garbage collector finds it.
            with closing(
                self.provider.respond(messages, ctx, turn.result, stream=turn.stream)
            ) as rs:
                for chunk in rs:
                    if chunk:
                        turn.chunks.append(chunk)
                        yield chunk
        except ProviderError as exc:
            return exc.message, exc.detail
        except ToolError as exc:
            tool = turn.result.tools_used[-1] if turn.result.tools_used else "tool"
            return f"I couldn't complete that: {exc}", f"{tool} failed: {exc}"
        except Exception as exc:  # boundary: a failed turn is a reply, never a crash
            log.exception("reply failed (%s provider); stored as an error", self.provider.name)
            return UNEXPECTED, f"{type(exc).__name__}: {exc}"
        return None

    def _finish(
        self, turn: _Turn, error: TurnError | None, *, interrupted: bool = False
    ) -> ChatReply:
        """Store the assistant message, title the session, set `last_reply`."""
        content = self._stored_content(turn, error)
        elapsed_ms = int((time.perf_counter() - turn.started) * 1000)
        result = turn.result
        fields = {
            "tools_used": list(result.tools_used),
            "processing_time_ms": elapsed_ms,
            "token_count": result.total_tokens,
            "has_error": error is not None,
            "error_message": error[1] if error else None,
            "metadata": self._metadata(turn, interrupted=interrupted),
        }
        reply_id = reply_client_id(turn.client_id) if turn.client_id else None
        try:
            record = self.outbox.save(
                turn.sid, role="assistant", content=content, fields=fields, client_id=reply_id
            )
        except SpoolFull:  # neither written nor kept: the reply says so, never "kept"
            record, lost = None, True
        else:
            lost = False
        cached = {"role": "assistant", "content": content, "has_error": error is not None}
        if interrupted:
            cached["interrupted"] = True
        self.cache.append(self.outbox.key(turn.sid), cached, saved=bool(record))
        use_model = error is None and not interrupted  # no model call inside close()
        title = self._title(turn, use_model=use_model) if turn.first_exchange else None
        saved = record is not None and self.pending_count == 0
        reply = ChatReply(
            session_id=self.outbox.resolve(turn.sid),
            content=content + ("" if saved else LOST_NOTE if lost else UNSAVED_NOTE),
            tools_used=list(result.tools_used),
            processing_time_ms=elapsed_ms,
            token_count=result.total_tokens,
            has_error=error is not None,
            error_message=error[1] if error else None,
            message_id=record.id if record else None,
            user_message_id=turn.user_record.id if turn.user_record else None,
            model=fields["metadata"]["model"],
            provider=self.provider.name,
            saved=saved,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            title=title,
        )
        self.last_reply = reply
        self.last_session_id = reply.session_id
        return reply

    @staticmethod
    def _stored_content(turn: _Turn, error: TurnError | None) -> str:
        """The reply text as stored: what was said (or the error notice), within the limit."""
        content = "".join(turn.chunks)
        if not content.strip():
            # Only a reply interrupted before any visible text gets here: a turn that ends normally
            # appends the error notice, and an empty one is an error ("empty completion").
            content = f"⚠️ {error[0]}" if error is not None else INTERRUPTED_EMPTY
        return content[:MAX_CONTENT_CHARS]

    def _metadata(self, turn: _Turn, *, interrupted: bool = False) -> dict[str, Any]:
        """The assistant message's metadata: model, provider, token split, tool errors."""
        result = turn.result
        metadata: dict[str, Any] = {
            "model": result.model or self.provider.model,
            "provider": self.provider.name,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "streamed": turn.stream,
            "context_messages": turn.context_messages,
        }
        if result.estimated_tokens:
            metadata["tokens_estimated"] = True
        if result.tool_errors:
            metadata["tool_errors"] = result.tool_errors
        if interrupted:
            metadata["interrupted"] = True
        return metadata

    def _title(self, turn: _Turn, *, use_model: bool) -> str | None:
        """Title a new session after its first exchange; the title set, or None."""
        use_model = use_model and self.generate_titles and not self.is_offline
        title = title_for(self.provider, turn.text, use_model=use_model)
        return self.outbox.set_title(turn.sid, title)

    # -- history ---------------------------------------------------------------------------------

    def _load_history(self, sid: str, session: Any) -> list[dict[str, Any]]:
        """The session's recent messages: the cache when current, else the database."""
        key = self.outbox.key(sid)
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
