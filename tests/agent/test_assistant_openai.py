"""The OpenAI-compatible provider: the real `openai` SDK against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket

import pytest

from pa_core.agent import PersonalAssistant
from pa_core.agent.assistant import SYSTEM_PROMPT
from pa_core.config import Settings
from support.llm_fake import (
    broken_stream,
    error,
    make_assistant,
    raw,
    reply,
    slow,
    tool_call,
)


def run(assistant, message, session_id=None, *, streamed):
    """One turn through chat() or stream(); returns (ChatReply, what the reader saw)."""
    if streamed:
        chunks = list(assistant.stream(message, session_id=session_id))
        return assistant.last_reply, chunks
    result = assistant.chat(message, session_id=session_id)
    return result, [result.content]


def stored(svc, user, sid):
    return svc.get_messages(sid, user=user)


def test_plain_reply_is_sent_and_stored(svc, alice, llm):
    llm.push(reply("Hello Alice, how can I help?", usage=(30, 9)))
    assistant = make_assistant(svc, alice, llm.url)
    assert assistant.is_offline is False and assistant.provider_name == "openai"
    result = assistant.chat("Hello!")
    assert result.content == "Hello Alice, how can I help?"
    assert result.has_error is False and result.tools_used == []
    assert result.token_count == 39 and result.prompt_tokens == 30
    sent = llm.requests[0]
    assert sent["model"] == "test-model" and not sent.get("stream")
    assert sent["messages"] == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "Hello!"},
    ]
    assert {t["function"]["name"] for t in sent["tools"]} == {
        "calculator",
        "get_datetime",
        "search_history",
        "session_stats",
    }
    assert llm.headers[0]["authorization"] == "Bearer test-key"
    messages = stored(svc, alice, result.session_id)
    assert [(m.role, m.content) for m in messages] == [
        ("user", "Hello!"),
        ("assistant", "Hello Alice, how can I help?"),
    ]
    meta = messages[1].message_metadata
    assert messages[1].token_count == 39
    assert meta["model"] == "test-model" and meta["provider"] == "openai"
    assert (meta["prompt_tokens"], meta["completion_tokens"]) == (30, 9)
    # The first exchange titles the session with a generated title.
    assert len(llm.title_requests) == 1
    assert llm.title_requests[0]["messages"][1]["content"] == "Hello!"
    assert svc.get_session(result.session_id, user=alice).title == "Generated title"


def test_assistants_with_the_same_settings_share_one_sdk_client(svc, alice, bob, llm):
    first = make_assistant(svc, alice, llm.url)
    second = make_assistant(svc, bob, llm.url)
    assert first.provider is not second.provider
    assert first.provider.client is second.provider.client  # one connection pool, built once
    other = make_assistant(svc, alice, llm.url, PA_LLM_MAX_RETRIES=0)
    assert other.provider.client is not first.provider.client
    assert other.provider.client.max_retries == 0 and first.provider.client.max_retries == 2
    llm.push(reply("one"))
    llm.push(reply("two"))
    assert first.chat("Hi", session_id=None).content == "one"
    assert second.chat("Hi", session_id=None).content == "two"


def test_user_message_is_stored_before_the_model_is_called(svc, alice, llm):
    sid = svc.create_session(user=alice).session_id
    seen = []
    llm.on_request = lambda body: seen.append([m.content for m in stored(svc, alice, sid)])
    llm.push(reply("ok"))
    make_assistant(svc, alice, llm.url).chat("Save me first", session_id=sid)
    assert seen == [["Save me first"]]


def test_streamed_reply_with_usage(svc, alice, llm):
    llm.push(reply("Streaming works in several small pieces", usage=(12, 6)))
    assistant = make_assistant(svc, alice, llm.url)
    result, chunks = run(assistant, "Stream please", streamed=True)
    assert len(chunks) > 3
    assert "".join(chunks) == result.content == "Streaming works in several small pieces"
    assert result.token_count == 18
    sent = llm.requests[0]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    last = stored(svc, alice, result.session_id)[-1]
    assert last.content == "".join(chunks) and last.token_count == 18
    assert last.message_metadata["streamed"] is True


@pytest.mark.parametrize("streamed", [False, True])
def test_tool_call_round_trip(svc, alice, llm, streamed):
    llm.push(
        tool_call("calculator", {"expression": "12 * 7"}, usage=(50, 10)),
        reply("12 times 7 is 84.", usage=(70, 8)),
    )
    assistant = make_assistant(svc, alice, llm.url)
    result, chunks = run(assistant, "What is 12 * 7?", streamed=streamed)
    assert "".join(chunks) == result.content == "12 times 7 is 84."
    assert result.tools_used == ["calculator"]
    assert result.token_count == 138  # both model calls of the turn
    second = llm.requests[1]["messages"]
    assert second[-2]["role"] == "assistant"
    assert second[-2]["tool_calls"][0]["function"] == {
        "name": "calculator",
        "arguments": json.dumps({"expression": "12 * 7"}),
    }
    assert second[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "12 * 7 = 84"}
    last = stored(svc, alice, result.session_id)[-1]
    assert last.tools_used == ["calculator"] and last.token_count == 138
    assert (last.message_metadata["prompt_tokens"], last.message_metadata["completion_tokens"]) == (
        120,
        18,
    )


def test_tool_failure_goes_back_to_the_model(svc, alice, llm):
    llm.push(tool_call("calculator", {"expression": "1/0"}), reply("You cannot divide by zero."))
    result = make_assistant(svc, alice, llm.url).chat("What is 1/0?")
    assert llm.requests[1]["messages"][-1]["content"] == "Error: Division by zero."
    assert result.has_error is False and result.content == "You cannot divide by zero."
    meta = stored(svc, alice, result.session_id)[-1].message_metadata
    assert meta["tool_errors"] == ["calculator: Division by zero."]


def test_tool_loop_is_bounded(svc, alice, llm):
    llm.push(*[tool_call("get_datetime", {}, call_id=f"c{i}") for i in range(5)])
    llm.push(reply("Enough tools."))
    result = make_assistant(svc, alice, llm.url).chat("Loop forever")
    assert result.content == "Enough tools."
    assert result.tools_used == ["get_datetime"] * 5
    assert len(llm.requests) == 6
    assert all("tools" in r for r in llm.requests[:5]) and "tools" not in llm.requests[5]


def test_history_after_a_restart_is_sent_to_the_model(svc, alice, llm):
    llm.push(reply("First answer"), reply("Second answer"), reply("Third answer"))
    first = make_assistant(svc, alice, llm.url)
    sid = first.chat("First question").session_id
    first.chat("Second question", session_id=sid)
    restarted = make_assistant(svc, alice, llm.url)  # new process: empty cache
    result = restarted.chat("Third question", session_id=sid)
    assert result.session_id == sid
    assert llm.requests[-1]["messages"] == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "First answer"},
        {"role": "user", "content": "Second question"},
        {"role": "assistant", "content": "Second answer"},
        {"role": "user", "content": "Third question"},
    ]
    assert len(stored(svc, alice, sid)) == 6
    assert len(llm.title_requests) == 1  # titled once, on the first exchange


def test_rate_limit_then_success_is_retried_by_the_sdk(svc, alice, llm):
    llm.push(error(429, "slow down"), reply("Made it"))
    result = make_assistant(svc, alice, llm.url).chat("Hi")
    assert result.has_error is False and result.content == "Made it"
    assert len(llm.requests) == 2


@pytest.mark.parametrize("streamed", [False, True])
def test_server_error_becomes_an_error_reply(svc, alice, llm, streamed):
    llm.push(error(500, "kaboom"), error(500, "kaboom"), error(500, "kaboom"))
    assistant = make_assistant(svc, alice, llm.url, PA_LLM_MAX_RETRIES=2)
    result, chunks = run(assistant, "Hi", streamed=streamed)
    assert len(llm.requests) == 3  # the first try and two SDK retries
    assert result.has_error is True
    assert "".join(chunks) == result.content
    assert "HTTP 500" in result.content and "kaboom" in result.error_message
    last = stored(svc, alice, result.session_id)[-1]
    assert last.has_error is True and last.error_message == result.error_message
    assert last.content == result.content
    # A failed turn still titles the session, from the first message.
    assert svc.get_session(result.session_id, user=alice).title == "Hi"


def test_rate_limit_exhausted_and_bad_key(svc, alice, llm):
    llm.push(error(429, "quota"), error(401, "invalid api key"))
    assistant = make_assistant(svc, alice, llm.url, PA_LLM_MAX_RETRIES=0)
    limited = assistant.chat("one")
    assert limited.has_error and "rate limit" in limited.content
    denied = assistant.chat("two", session_id=limited.session_id)
    assert denied.has_error and "API key" in denied.content
    assert "invalid api key" in denied.error_message


def test_timeout_becomes_an_error_reply(svc, alice, llm):
    llm.push(slow(30))
    assistant = make_assistant(svc, alice, llm.url, PA_LLM_TIMEOUT=0.5, PA_LLM_MAX_RETRIES=0)
    result, chunks = run(assistant, "Are you there?", streamed=True)
    assert result.has_error is True
    assert "did not answer within 0.5 seconds" in result.content
    assert "Timeout" in result.error_message
    assert stored(svc, alice, result.session_id)[-1].has_error is True


def test_unreachable_server_becomes_an_error_reply(svc, alice):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    result = make_assistant(svc, alice, url, PA_LLM_MAX_RETRIES=0).chat("Hello?")
    assert result.has_error is True
    assert f"Could not reach the model server at {url}" in result.content
    assert "Connection" in result.error_message
    assert [m.role for m in stored(svc, alice, result.session_id)] == ["user", "assistant"]


@pytest.mark.parametrize(
    "responder",
    [
        raw(200, b"this is not json"),
        raw(200, b'{"object": "chat.completion", "choices": []}'),
        raw(200, b"<html>proxy error</html>", "text/html"),
    ],
    ids=["not-json", "no-choices", "html"],
)
def test_malformed_body_becomes_an_error_reply(svc, alice, llm, responder):
    llm.push(responder)
    result = make_assistant(svc, alice, llm.url).chat("Hi")
    assert result.has_error is True
    assert "could not read" in result.content
    assert result.error_message
    assert stored(svc, alice, result.session_id)[-1].has_error is True


def test_malformed_stream_keeps_the_partial_text(svc, alice, llm):
    llm.push(broken_stream("Partial answer"))
    assistant = make_assistant(svc, alice, llm.url)
    result, chunks = run(assistant, "Hi", streamed=True)
    assert chunks[0] == "Partial answer"
    assert result.has_error is True and "could not read" in result.content
    assert "".join(chunks) == result.content
    assert stored(svc, alice, result.session_id)[-1].content == result.content


def test_title_falls_back_to_the_first_message(svc, alice, llm):
    llm.title = error(500, "no titles today")
    llm.push(reply("Sure."))
    result = make_assistant(svc, alice, llm.url).chat("Plan my week of meetings please")
    assert result.has_error is False
    assert svc.get_session(result.session_id, user=alice).title == "Plan my week of meetings please"


def test_model_cannot_read_another_users_history(svc, alice, bob, llm):
    llm.push(reply("bob's answer"), reply("alice's answer"))
    bobs = make_assistant(svc, bob, llm.url).chat("bob's secret plan").session_id
    result = make_assistant(svc, alice, llm.url).chat("What did bob say?", session_id=bobs)
    assert result.session_id != bobs
    sent = [m["content"] for m in llm.requests[-1]["messages"]]
    assert "bob's secret plan" not in sent


def test_session_deleted_while_the_model_answers(svc, alice, llm):
    sid = svc.create_session(user=alice, title="Doomed").session_id
    llm.on_request = lambda body: svc.delete_session(sid, user=alice)
    llm.push(reply("An answer nobody asked to keep"))
    result = make_assistant(svc, alice, llm.url).chat("Hello", session_id=sid)
    assert result.has_error is False and result.session_id != sid
    assert svc.get_session(sid, user=alice) is None
    kept = stored(svc, alice, result.session_id)
    assert [(m.role, m.content) for m in kept] == [("assistant", "An answer nobody asked to keep")]


def test_openai_without_key_or_url_warns(svc, alice, monkeypatch):
    for name in ("PA_LLM_API_KEY", "OPENAI_API_KEY", "PA_LLM_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(PA_LLM_PROVIDER="openai", _env_file=None)
    assistant = PersonalAssistant(svc, alice, settings=settings)
    assert assistant.provider_name == "openai" and not assistant.is_offline
    assert "PA_LLM_API_KEY" in assistant.config_warning
    ollama = PersonalAssistant(
        svc, alice, settings=Settings(PA_LLM_PROVIDER="ollama", PA_LLM_BASE_URL="http://x/v1")
    )
    assert ollama.provider_name == "openai" and ollama.config_warning is None
