"""Streamed responses that never keep a database connection for a client that left or stalled.

`GuardedStream` sends each chunk with a deadline (PA_STREAM_TIMEOUT_S): a client that takes no
data for that long is cut off. Whichever way the response ends (done, client gone, stalled,
failed) the chunk iterator is closed at once, in a worker thread, so its transaction ends (a
PostgreSQL COPY is abandoned) before the response returns. `StreamSlots` caps how many export
streams one user holds in this process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from pa_core.api.errors import APIError

log = logging.getLogger(__name__)

_END = object()
EXPORT_RETRY_AFTER_S = 10


class GuardedStream(StreamingResponse):
    """A StreamingResponse over a sync iterator with a send deadline; the iterator is closed
    as soon as the response ends, and `on_close` runs after."""

    def __init__(
        self,
        chunks: Iterator[Any],
        *,
        timeout_s: float,
        on_close: Callable[[], None] | None = None,
        media_type: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        """Stream `chunks` (str or bytes); each send may wait at most `timeout_s` seconds."""
        super().__init__(iter(()), media_type=media_type, headers=headers)
        self.chunks, self.timeout_s, self.on_close = chunks, timeout_s, on_close
        self.outcome = "pending"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the chunks until done, the client leaves or a send times out; then close."""
        failure: list[BaseException] = []
        try:
            async with anyio.create_task_group() as group:

                async def stream() -> None:
                    try:
                        await self._stream(send)
                    except BaseException as exc:  # re-raised below, outside the task group
                        if not isinstance(exc, anyio.get_cancelled_exc_class()):
                            failure.append(exc)
                        raise
                    finally:
                        group.cancel_scope.cancel()

                async def listen() -> None:
                    await self.listen_for_disconnect(receive)
                    self.outcome = "client left"
                    group.cancel_scope.cancel()

                group.start_soon(stream)
                group.start_soon(listen)
        except BaseException:
            if not failure:
                raise
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._close)
        if failure and not isinstance(failure[0], TimeoutError | OSError):
            raise failure[0]

    async def _stream(self, send: Send) -> None:
        """The response: start, one body message per chunk, end; each send with a deadline."""
        start = {"type": "http.response.start", "status": self.status_code}
        await self._send(send, {**start, "headers": self.raw_headers})
        while True:
            chunk = await anyio.to_thread.run_sync(next, self.chunks, _END)
            if chunk is _END:
                break
            body = chunk if isinstance(chunk, bytes) else str(chunk).encode(self.charset)
            await self._send(send, {"type": "http.response.body", "body": body, "more_body": True})
        await self._send(send, {"type": "http.response.body", "body": b"", "more_body": False})
        self.outcome = "complete"

    async def _send(self, send: Send, message: dict[str, Any]) -> None:
        """`send(message)`, cut off after `timeout_s` (TimeoutError); OSError: the client left."""
        try:
            with anyio.fail_after(self.timeout_s):
                await send(message)
        except TimeoutError:
            self.outcome = "stalled"
            log.warning("a client took no data for %.0f s; its stream was cut", self.timeout_s)
            raise
        except OSError:
            self.outcome = "client left"
            raise

    def _close(self) -> None:
        """Close the chunk iterator (ending its transaction), then run `on_close`."""
        try:
            close = getattr(self.chunks, "close", None)
            if close is not None:
                close()
        except Exception:  # closing must not hide how the response ended
            log.exception("closing a streamed response failed")
        finally:
            if self.on_close is not None:
                self.on_close()


class StreamSlots:
    """How many export streams each user has open in this process; at most `limit` at once."""

    def __init__(self, limit: int):
        """Allow `limit` concurrent streams per user id."""
        self.limit = limit
        self._open: dict[int, int] = {}
        self._lock = threading.Lock()

    def take(self, user_id: int) -> Callable[[], None]:
        """Hold one slot of `user_id` (APIError 429 when all are taken); returns its release."""
        with self._lock:
            held = self._open.get(user_id, 0)
            if held >= self.limit:
                raise APIError(
                    429,
                    f"You already have {held} exports downloading (the limit is {self.limit}); "
                    f"let one finish, then try again.",
                    {"Retry-After": str(EXPORT_RETRY_AFTER_S)},
                )
            self._open[user_id] = held + 1
        released = threading.Event()

        def release() -> None:
            if released.is_set():
                return
            released.set()
            with self._lock:
                left = self._open.get(user_id, 1) - 1
                if left > 0:
                    self._open[user_id] = left
                else:
                    self._open.pop(user_id, None)

        return release

    def held(self, user_id: int) -> int:
        """How many slots `user_id` holds now."""
        with self._lock:
            return self._open.get(user_id, 0)


class Prefetched:
    """An iterator that first yields chunks already read, then the rest; `close` ends the rest."""

    def __init__(self, head: list[Any], rest: Iterator[Any]):
        """Yield `head`, then `rest`."""
        self._head, self._rest = iter(head), rest

    def __iter__(self) -> Prefetched:
        return self

    def __next__(self) -> Any:
        for chunk in self._head:
            return chunk
        return next(self._rest)

    def close(self) -> None:
        """Close the underlying iterator (its transaction ends)."""
        close = getattr(self._rest, "close", None)
        if close is not None:
            close()


def export_stream(
    slots: StreamSlots,
    user_id: int,
    open_chunks: Callable[[], Iterator[Any]],
    *,
    timeout_s: float,
    media_type: str,
    headers: dict[str, str],
    prefetch: int = 2,
) -> GuardedStream:
    """An export download holding one of the user's slots until it ends (429 when none is free).

    The first `prefetch` chunks are read now, so a database outage is a 503, not a cut body.
    """
    release = slots.take(user_id)
    chunks: Iterator[Any] | None = None
    try:
        chunks = open_chunks()
        head = [chunk for _, chunk in zip(range(prefetch), chunks, strict=False)]
    except BaseException:
        try:
            if chunks is not None and hasattr(chunks, "close"):
                chunks.close()
        finally:
            release()
        raise
    return GuardedStream(
        Prefetched(head, chunks),
        timeout_s=timeout_s,
        on_close=release,
        media_type=media_type,
        headers=headers,
    )
