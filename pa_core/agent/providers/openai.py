"""Any OpenAI-compatible server through the `openai` SDK's Chat Completions API."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from pa_core.agent.providers.base import ProviderError, TurnResult
from pa_core.agent.tools import ToolContext, ToolError, run_tool, tool_schemas
from pa_core.config import Settings
from pa_core.errors import PAError

MAX_TOOL_ROUNDS = 5
TITLE_PROMPT = (
    "Write a short title (at most 6 words) for a conversation that starts with the user "
    "message below. Reply with the title only, without quotes or punctuation at the end."
)
TITLE_TIMEOUT_S = 15.0
# Ollama, vLLM and LM Studio accept any key; the SDK insists on one, so send a placeholder.
PLACEHOLDER_API_KEY = "not-needed"


@functools.lru_cache(maxsize=8)
def _client(
    base_url: str | None, api_key: str | None, timeout: float, max_retries: int
) -> openai.OpenAI:
    """One SDK client (thread-safe, with its connection pool) per server configuration."""
    return openai.OpenAI(
        api_key=api_key or PLACEHOLDER_API_KEY,
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
    )


@dataclass
class _ToolCall:
    id: str
    name: str
    arguments: str


class OpenAIProvider:
    """Chat Completions with streaming, usage, function calling and the SDK's retries."""

    name = "openai"
    is_offline = False

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        max_tool_rounds: int = MAX_TOOL_ROUNDS,
        client: openai.OpenAI | None = None,
    ):
        """A provider for `model` at `base_url` (None: OpenAI's API).

        Without `client`, providers with the same server settings share one SDK client (and so
        its connection pool): building one costs milliseconds and a fresh pool, per instance.
        """
        self.model = model
        self.timeout = timeout
        self.max_tool_rounds = max_tool_rounds
        self.client = client or _client(base_url or None, api_key, timeout, max_retries)

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIProvider:
        """PA_LLM_MODEL / PA_LLM_BASE_URL / PA_LLM_API_KEY / PA_LLM_TIMEOUT / PA_LLM_MAX_RETRIES."""
        return cls(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )

    @property
    def server(self) -> str:
        """The server's base URL, for messages."""
        return str(self.client.base_url).rstrip("/")

    # -- a reply ---------------------------------------------------------------------------------

    def respond(
        self,
        messages: list[dict[str, Any]],
        ctx: ToolContext,
        result: TurnResult,
        *,
        stream: bool,
    ) -> Iterator[str]:
        """Yield the reply; tool calls are run and sent back, at most `max_tool_rounds` times."""
        result.model = self.model
        convo: list[dict[str, Any]] = [dict(m) for m in messages]
        schemas = tool_schemas()
        emitted = False
        for round_no in range(self.max_tool_rounds + 1):
            request: dict[str, Any] = {"model": self.model, "messages": convo}
            if round_no < self.max_tool_rounds:
                request["tools"] = schemas  # the last round must answer in text
            parts: list[str] = []
            calls: list[_ToolCall] = []
            rounds = self._stream_round if stream else self._plain_round
            for chunk in rounds(request, result, calls):
                if not parts and emitted:
                    chunk = "\n\n" + chunk  # text before and after a tool call: two paragraphs
                parts.append(chunk)
                yield chunk
            emitted = emitted or bool(parts)
            if not calls:
                return
            convo.append(
                {
                    "role": "assistant",
                    "content": "".join(parts).lstrip("\n") or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for c in calls
                    ],
                }
            )
            for call in calls:
                result.tools_used.append(call.name)
                convo.append(
                    {"role": "tool", "tool_call_id": call.id, "content": _run(call, ctx, result)}
                )

    def _plain_round(
        self, request: dict[str, Any], result: TurnResult, calls: list[_ToolCall]
    ) -> Iterator[str]:
        with self._translate():
            response = self.client.chat.completions.create(**request)
            if not isinstance(response, ChatCompletion) or not response.choices:
                raise ValueError(f"not a chat completion: {str(response)[:200]!r}")
            usage = response.usage
            if usage is not None:
                result.add_usage(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
            message = response.choices[0].message
            for i, tc in enumerate(message.tool_calls or []):
                function = getattr(tc, "function", None)
                if function is not None:
                    calls.append(
                        _ToolCall(tc.id or f"call_{i}", function.name, function.arguments or "")
                    )
            text = message.content or ""
        if text:
            yield text

    def _stream_round(
        self, request: dict[str, Any], result: TurnResult, calls: list[_ToolCall]
    ) -> Iterator[str]:
        pending: dict[int, _ToolCall] = {}
        with self._translate():
            stream = self.client.chat.completions.create(
                **request, stream=True, stream_options={"include_usage": True}
            )
            with stream:
                for chunk in stream:
                    usage = getattr(chunk, "usage", None)
                    if usage is not None:
                        result.add_usage(
                            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
                        )
                    for choice in chunk.choices or []:
                        delta = choice.delta
                        if delta is None:
                            continue
                        for tc in delta.tool_calls or []:
                            index = tc.index if tc.index is not None else len(pending)
                            call = pending.setdefault(index, _ToolCall("", "", ""))
                            if tc.id:
                                call.id = tc.id
                            if tc.function is not None:
                                call.name += tc.function.name or ""
                                call.arguments += tc.function.arguments or ""
                        if delta.content:
                            yield delta.content
        for index in sorted(pending):
            call = pending[index]
            if not call.name:
                raise ProviderError(
                    "The model server sent a response I could not read.",
                    f"streamed tool call #{index} has no function name",
                )
            calls.append(_ToolCall(call.id or f"call_{index}", call.name, call.arguments))

    # -- titles ----------------------------------------------------------------------------------

    def make_title(self, first_message: str) -> str | None:
        """A short title generated by the model (one quick call, no retries)."""
        client = self.client.with_options(max_retries=0, timeout=min(self.timeout, TITLE_TIMEOUT_S))
        with self._translate():
            response = client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": TITLE_PROMPT},
                    {"role": "user", "content": first_message[:2000]},
                ],
            )
            if not isinstance(response, ChatCompletion) or not response.choices:
                raise ValueError("not a chat completion")
            text = response.choices[0].message.content or ""
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        return lines[0].strip("#*\"'“” ").rstrip(".") if lines else None

    # -- errors ----------------------------------------------------------------------------------

    @contextmanager
    def _translate(self) -> Iterator[None]:
        """Turn the SDK's exceptions (and unreadable responses) into ProviderError."""
        try:
            yield
        except openai.RateLimitError as exc:
            raise ProviderError(
                "The model is busy right now (rate limit reached). Please try again in a moment.",
                _detail(exc),
            ) from exc
        except openai.AuthenticationError as exc:
            raise ProviderError(
                "The model server rejected the API key (check PA_LLM_API_KEY).", _detail(exc)
            ) from exc
        except openai.PermissionDeniedError as exc:
            raise ProviderError(
                "The API key is not allowed to use this model.", _detail(exc)
            ) from exc
        except openai.NotFoundError as exc:
            raise ProviderError(
                f"The model {self.model!r} was not found on {self.server} (check PA_LLM_MODEL).",
                _detail(exc),
            ) from exc
        except openai.BadRequestError as exc:
            raise ProviderError(
                "The model server refused the request (the conversation may be too long).",
                _detail(exc),
            ) from exc
        except openai.APITimeoutError as exc:
            raise ProviderError(
                f"The model did not answer within {self.timeout:g} seconds.", _detail(exc)
            ) from exc
        except openai.APIConnectionError as exc:
            raise ProviderError(
                f"Could not reach the model server at {self.server}.", _detail(exc)
            ) from exc
        except openai.APIResponseValidationError as exc:
            raise ProviderError(
                "The model server sent a response I could not read.", _detail(exc)
            ) from exc
        except openai.APIStatusError as exc:
            raise ProviderError(
                f"The model server returned an error (HTTP {exc.status_code}).", _detail(exc)
            ) from exc
        except openai.APIError as exc:
            raise ProviderError("The model server reported an error.", _detail(exc)) from exc
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            # A body that is not the JSON/SSE the API defines (the SDK does not validate it all).
            raise ProviderError(
                "The model server sent a response I could not read.",
                f"malformed response from {self.server}: {type(exc).__name__}: {exc}",
            ) from exc


def _run(call: _ToolCall, ctx: ToolContext, result: TurnResult) -> str:
    """A tool's output for the model; a failure is reported to the model, which can recover."""
    try:
        args = json.loads(call.arguments) if call.arguments.strip() else {}
        return run_tool(call.name, ctx, args)
    except (ToolError, ValueError) as exc:
        result.tool_errors.append(f"{call.name}: {exc}")
        return f"Error: {exc}"
    except PAError as exc:  # e.g. the database is down during a history search
        result.tool_errors.append(f"{call.name}: {exc}")
        return f"Error: the tool could not run ({exc})."


def _detail(exc: BaseException) -> str:
    """Exception type, HTTP status, request id and message, for `error_message`."""
    parts = [type(exc).__name__]
    status = getattr(exc, "status_code", None)
    if status is not None:
        parts.append(f"HTTP {status}")
    request_id = getattr(exc, "request_id", None)
    if request_id:
        parts.append(f"request {request_id}")
    message = str(exc) or repr(exc)
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in message:
        message = f"{message} ({type(cause).__name__}: {cause})"
    return ": ".join([", ".join(parts), message])[:2000]
