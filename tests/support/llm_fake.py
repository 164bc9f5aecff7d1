"""A small OpenAI-compatible HTTP server on 127.0.0.1 that the real `openai` SDK talks to."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pa_core.agent import ContextCache, PersonalAssistant
from pa_core.agent.providers.openai import TITLE_PROMPT
from pa_core.config import Settings

Responder = Callable[["_Handler", dict[str, Any]], None]


class FakeLLM:
    """Chat Completions endpoint answering from a script; records every request it gets."""

    def __init__(self):
        self.requests: list[dict[str, Any]] = []  # chat requests (title requests excluded)
        self.title_requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.script: deque[Responder] = deque()
        self.title: Responder = reply("Generated title")
        self.on_request: Callable[[dict[str, Any]], None] | None = None
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def push(self, *responders: Responder) -> None:
        self.script.extend(responders)

    def start(self) -> FakeLLM:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection; a streamed body ends at close

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):
        fake: FakeLLM = self.server.fake  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if not self.path.endswith("/chat/completions"):
            return send_json(self, 404, {"error": {"message": "no such route"}})
        first = (body.get("messages") or [{}])[0]
        if first.get("content") == TITLE_PROMPT:
            fake.title_requests.append(body)
            return fake.title(self, body)
        fake.requests.append(body)
        fake.headers.append({k.lower(): v for k, v in self.headers.items()})
        if fake.on_request is not None:
            fake.on_request(body)
        responder = fake.script.popleft() if fake.script else reply("default reply")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            responder(self, body)  # the client may have given up (a timeout test)


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any, headers=None) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(data)


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(body: dict, message: dict, finish: str, usage: tuple[int, int]) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _usage(*usage),
    }


def _sse(handler: BaseHTTPRequestHandler, events: list[Any]) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        handler.wfile.write(f"data: {data}\n\n".encode())
        handler.wfile.flush()
    handler.wfile.write(b"data: [DONE]\n\n")


def _chunk(body: dict, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _usage_chunk(body: dict, usage: tuple[int, int]) -> list[dict]:
    if not (body.get("stream_options") or {}).get("include_usage"):
        return []
    return [
        {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "test-model"),
            "choices": [],
            "usage": _usage(*usage),
        }
    ]


def reply(text: str, usage: tuple[int, int] = (11, 7)) -> Responder:
    """A text answer: JSON for a plain request, SSE word by word for a streamed one."""

    def respond(handler, body):
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            return send_json(handler, 200, _completion(body, message, "stop", usage))
        words = text.split(" ")
        pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        events = [_chunk(body, {"role": "assistant", "content": ""})]
        events += [_chunk(body, {"content": p}) for p in pieces]
        events += [_chunk(body, {}, "stop"), *_usage_chunk(body, usage)]
        _sse(handler, events)

    return respond


def tool_call(name: str, arguments: dict | str, usage=(20, 5), call_id="call_1") -> Responder:
    """The model asks for one tool call (arguments streamed in two pieces when streaming)."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)

    def respond(handler, body):
        call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}
        if not body.get("stream"):
            message = {"role": "assistant", "content": None, "tool_calls": [call]}
            return send_json(handler, 200, _completion(body, message, "tool_calls", usage))
        half = len(args) // 2
        first = {"index": 0, "id": call_id, "type": "function"}
        first["function"] = {"name": name, "arguments": args[:half]}
        second = {"index": 0, "function": {"arguments": args[half:]}}
        events = [
            _chunk(body, {"role": "assistant", "content": None, "tool_calls": [first]}),
            _chunk(body, {"tool_calls": [second]}),
            _chunk(body, {}, "tool_calls"),
            *_usage_chunk(body, usage),
        ]
        _sse(handler, events)

    return respond


def error(status: int, message: str = "boom", headers: dict | None = None) -> Responder:
    """An API error with OpenAI's error body; retry-after-ms keeps SDK retries quick."""

    def respond(handler, body):
        hdrs = {"retry-after-ms": "5", **(headers or {})}
        payload = {"error": {"message": message, "type": "test_error", "code": str(status)}}
        send_json(handler, status, payload, hdrs)

    return respond


def slow(seconds: float, then: Responder | None = None) -> Responder:
    """Answer only after `seconds` (longer than the client's timeout in the timeout test)."""

    def respond(handler, body):
        handler.server.fake.stopping.wait(seconds)
        (then or reply("too late"))(handler, body)

    return respond


def dripping(words: list[str], pause: float) -> Responder:
    """A streamed reply of one word every `pause` seconds (a long answer a client can leave)."""

    def respond(handler, body):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        for word in words:
            chunk = json.dumps(_chunk(body, {"content": word + " "}))
            handler.wfile.write(f"data: {chunk}\n\n".encode())
            handler.wfile.flush()
            if handler.server.fake.stopping.wait(pause):
                return
        handler.wfile.write(b"data: [DONE]\n\n")

    return respond


def raw(status: int, data: bytes, content_type: str = "application/json") -> Responder:
    """Exactly these bytes, whatever they are (malformed-body tests)."""

    def respond(handler, body):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return respond


def broken_stream(text: str) -> Responder:
    """Some streamed text, then a chunk that is not JSON."""

    def respond(handler, body):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        chunk = json.dumps(_chunk(body, {"content": text}))
        handler.wfile.write(f"data: {chunk}\n\ndata: {{not json\n\n".encode())

    return respond


def llm_settings(base_url: str, **overrides: Any) -> Settings:
    values = {
        "PA_LLM_PROVIDER": "openai",
        "PA_LLM_BASE_URL": base_url,
        "PA_LLM_API_KEY": "test-key",
        "PA_LLM_MODEL": "test-model",
        "PA_LLM_TIMEOUT": 10.0,
        "PA_LLM_MAX_RETRIES": 2,
        **overrides,
    }
    return Settings(**values)


def make_assistant(svc, user, base_url: str, **overrides: Any) -> PersonalAssistant:
    """A PersonalAssistant on the fake server, with its own cache (a fresh process)."""
    return PersonalAssistant(
        svc, user, settings=llm_settings(base_url, **overrides), cache=ContextCache()
    )
