"""The offline assistant through chat() and stream(), on real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

import pa_core
from pa_core.agent import ChatReply, ContextCache, OfflineProvider, PersonalAssistant
from pa_core.config import Settings

FIXED_NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def offline_settings() -> Settings:
    return Settings(PA_LLM_PROVIDER="offline", PA_LLM_API_KEY=None, PA_LLM_BASE_URL=None)


def make(svc, user, **kw) -> PersonalAssistant:
    kw.setdefault("cache", ContextCache())
    return PersonalAssistant(svc, user, settings=offline_settings(), clock=lambda: FIXED_NOW, **kw)


def test_public_names_and_offline_flags(svc, alice):
    assistant = pa_core.PersonalAssistant(svc, alice, settings=offline_settings())
    assert pa_core.ChatReply is ChatReply
    assert assistant.is_offline is True
    assert assistant.provider_name == "offline"


def test_calculator_through_chat_is_stored_with_tools_and_timing(svc, alice):
    reply = make(svc, alice).chat("What is 12 * 7?")
    assert "84" in reply.content
    assert reply.tools_used == ["calculator"]
    assert reply.has_error is False and reply.error_message is None
    assert reply.processing_time_ms >= 0
    assert reply.token_count is None  # no model, no tokens: nothing made up for analytics
    stored = svc.get_messages(reply.session_id, user=alice)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[0].content == "What is 12 * 7?"
    assert stored[1].content == reply.content
    assert stored[1].tools_used == ["calculator"]
    assert stored[1].processing_time_ms == reply.processing_time_ms
    assert stored[1].token_count == reply.token_count
    meta = stored[1].message_metadata
    assert meta["model"] == "offline-tools-1" and meta["provider"] == "offline"
    assert meta["prompt_tokens"] is None and meta["completion_tokens"] is None
    assert "tokens_estimated" not in meta
    assert reply.message_id == stored[1].id and reply.user_message_id == stored[0].id


@pytest.mark.parametrize(
    ("question", "expected", "tool"),
    [
        ("What is 12 * 7?", "84", "calculator"),
        ("2^10 + sqrt(16)", "1028", "calculator"),
        ("what's 15% of 80?", "12", "calculator"),
        ("How much is 1,000 x 3?", "3000", "calculator"),
        ("What time is it in Tokyo?", "21:30 (Asia/Tokyo, UTC+09:00)", "get_datetime"),
        ("What's the date in New York?", "Sunday, 01 March 2026, 07:30", "get_datetime"),
        ("what time is it?", "12:30 (UTC, UTC+00:00)", "get_datetime"),
        ("Time in Europe/Paris please", "13:30 (Europe/Paris, UTC+01:00)", "get_datetime"),
    ],
)
def test_tools_through_stream(svc, alice, question, expected, tool):
    assistant = make(svc, alice)
    chunks = list(assistant.stream(question))
    reply = assistant.last_reply
    assert expected in "".join(chunks)
    assert reply.tools_used == [tool]
    assert "".join(chunks) == reply.content
    stored = svc.get_messages(assistant.last_session_id, user=alice)
    assert stored[-1].content == "".join(chunks)
    assert stored[-1].tools_used == [tool]
    assert stored[-1].message_metadata["streamed"] is True


def test_search_finds_other_sessions_but_not_the_question_itself(svc, alice, bob):
    assistant = make(svc, alice)
    first = assistant.chat("Remember the quarterly budget is 4200 euros")
    make(svc, bob).chat("my budget is secret")
    reply = assistant.chat("Search my conversations for budget")
    assert reply.tools_used == ["search_history"]
    assert reply.session_id != first.session_id
    assert "4200" in reply.content and "secret" not in reply.content
    assert "(user): Search my conversations" not in reply.content  # the question itself
    nothing = assistant.chat("search for zanzibar", session_id=reply.session_id)
    assert "No past messages match 'zanzibar'" in nothing.content


def test_session_statistics_and_summary(svc, alice):
    assistant = make(svc, alice)
    sid = assistant.chat("What is 2 + 2?").session_id
    assistant.chat("What time is it in UTC?", session_id=sid)
    reply = assistant.chat("Show statistics for this conversation", session_id=sid)
    assert reply.tools_used == ["session_stats"]
    assert "5 message(s): 3 from you and 2 from the assistant" in reply.content
    assert "calculator ×1" in reply.content and "get_datetime ×1" in reply.content
    assert "What is 2 + 2?" in reply.content


def test_help_says_no_model_is_configured_and_lists_the_tools(svc, alice):
    for question in ("help", "What can you do?", "/help"):
        reply = make(svc, alice).chat(question)
        assert reply.tools_used == [] and reply.token_count is None
        assert "No language model is configured" in reply.content
        assert "Calculator" in reply.content and "PA_LLM_API_KEY" in reply.content


def test_what_it_cannot_do_gets_a_short_varied_answer_naming_the_setting(svc, alice):
    assistant = make(svc, alice)
    questions = [
        "Write me a poem about autumn",
        "What's the weather in Tokyo?",
        "Translate good morning into French",
        "Who won the world cup in 1998?",
        "Plan a weekend in Lisbon",
        "Explain quantum computing simply",
        "Tell me a joke",
        "Recommend a book about Rome",
    ]
    answers = [assistant.chat(q).content for q in questions]
    for answer in answers:
        assert len(answer.splitlines()) <= 2 and len(answer) < 200
        assert "PA_LLM_API_KEY" in answer or "help" in answer
        assert "Calculator" not in answer  # the full help block only on "help"
    assert len(set(answers)) >= 3  # varied...
    again = make(svc, alice).chat(questions[1]).content
    assert again == answers[1]  # ...but the same prompt always gets the same answer
    hello = assistant.chat("Hello there, who are you?").content
    assert hello.startswith(("Hello", "Hi", "Hey")) and len(hello.splitlines()) <= 2


def test_offline_answers_do_not_flood_a_search(svc, alice):
    assistant = make(svc, alice)
    questions = [
        "What's the weather in Tokyo?",
        "Best ramen in Tokyo",
        "Tokyo hotel ideas",
        "Flights to Tokyo next week",
        "Is Tokyo expensive?",
    ]
    sid = None
    for q in questions:
        sid = assistant.chat(q, session_id=sid).session_id
    hits = svc.search_messages(alice, "Tokyo", limit=50)
    assert sorted(h.role for h in hits) == ["user"] * 5


@pytest.mark.parametrize(
    "question", ["What is 1/0?", "compute 9^9^9", "What's the time in Atlantis?"]
)
def test_tool_failure_is_an_error_reply(svc, alice, question):
    assistant = make(svc, alice)
    chunks = list(assistant.stream(question))
    reply = assistant.last_reply
    assert reply.has_error is True and reply.error_message
    assert "".join(chunks) == reply.content
    stored = svc.get_messages(reply.session_id, user=alice)[-1]
    assert stored.has_error is True and stored.error_message == reply.error_message


def test_restart_continues_the_same_session_from_the_database(svc, alice):
    first = make(svc, alice).chat("What is 6 * 7?")
    sid = first.session_id
    provider = RecordingOffline()
    restarted = make(svc, alice, provider=provider)  # a new process: fresh cache, same database
    reply = restarted.chat("summarize this conversation", session_id=sid)
    assert reply.session_id == sid
    # The history the provider was given came from the database, not from a cache.
    assert provider.seen == [
        [
            {"role": "user", "content": "What is 6 * 7?"},
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": "summarize this conversation"},
        ]
    ]
    assert restarted.cache.misses == 1 and restarted.cache.hits == 0
    assert "6 * 7" in reply.content
    assert len(svc.get_messages(sid, user=alice)) == 4


def test_title_from_first_message_and_never_overwritten(svc, alice):
    assistant = make(svc, alice)
    reply = assistant.chat("What is 40 + 2? I need this for the quarterly planning spreadsheet")
    session = svc.get_session(reply.session_id, user=alice)
    assert session.title.startswith("What is 40 + 2?") and len(session.title) <= 60
    svc.rename_session(reply.session_id, user=alice, title="Mine")
    assistant.chat("What is 1 + 1?", session_id=reply.session_id)
    assert svc.get_session(reply.session_id, user=alice).title == "Mine"
    own = svc.create_session(user=alice, title="Set by me")
    assistant.chat("What is 3 + 3?", session_id=own.session_id)
    assert svc.get_session(own.session_id, user=alice).title == "Set by me"


def test_another_users_session_id_starts_a_new_session(svc, alice, bob):
    bobs = make(svc, bob).chat("What is 1 + 1?").session_id
    reply = make(svc, alice).chat("What is 2 + 2?", session_id=bobs)
    assert reply.session_id != bobs
    assert len(svc.get_messages(bobs, user=bob)) == 2
    assert len(svc.get_messages(reply.session_id, user=alice)) == 2


def test_last_session_id_is_known_before_the_first_chunk(svc, alice):
    assistant = make(svc, alice)
    gen = assistant.stream("What is 3 * 3?")
    first = next(gen)
    assert assistant.last_session_id is not None and assistant.last_reply is None
    rest = list(gen)
    assert assistant.last_reply.session_id == assistant.last_session_id
    assert first + "".join(rest) == assistant.last_reply.content


class RecordingOffline(OfflineProvider):
    """The offline provider, remembering the context each turn was given."""

    def __init__(self):
        self.seen: list[list[dict]] = []

    def respond(self, messages, ctx, result, *, stream):
        self.seen.append([dict(m) for m in messages])
        return super().respond(messages, ctx, result, stream=stream)


def test_cache_is_used_and_revalidated_against_other_writers(svc, alice):
    cache, provider = ContextCache(), RecordingOffline()
    a = make(svc, alice, cache=cache, provider=provider)
    sid = a.chat("What is 1 + 1?").session_id
    a.chat("What is 2 + 2?", session_id=sid)
    assert cache.hits == 1
    assert [m["content"] for m in provider.seen[-1]][:2] == ["What is 1 + 1?", "1 + 1 = **2**"]
    other = make(svc, alice)  # another replica writes to the same session
    other.chat("What is 10 * 10?", session_id=sid)
    a.chat("What is 3 + 3?", session_id=sid)
    assert cache.misses == 1 and cache.hits == 1  # the other replica's write made it stale
    contents = [m["content"] for m in provider.seen[-1]]
    assert "What is 10 * 10?" in contents and contents[-1] == "What is 3 + 3?"
    assert len(contents) == 7


def test_history_budget_limits_what_is_sent(svc, alice):
    provider = RecordingOffline()
    a = make(svc, alice, provider=provider, history_messages=3, history_chars=10_000)
    sid = a.chat("What is 1 + 1?").session_id
    for n in range(2, 5):
        a.chat(f"What is {n} + {n}?", session_id=sid)
    assert provider.seen[-1] == [
        {"role": "user", "content": "What is 3 + 3?"},
        {"role": "assistant", "content": "3 + 3 = **6**"},
        {"role": "user", "content": "What is 4 + 4?"},
    ]
    small = make(svc, alice, provider=RecordingOffline(), history_chars=20)
    small.chat("What is 5 + 5?", session_id=sid)
    assert [m["content"] for m in small.provider.seen[-1]] == ["What is 5 + 5?"]


def test_a_larger_history_budget_raises_the_cache_bound(svc, alice):
    cache = ContextCache()
    make(svc, alice, cache=cache)
    assert cache.max_messages == 50
    make(svc, alice, cache=cache, history_messages=100)
    assert cache.max_messages == 110  # everything a cache miss of that assistant loads


def test_bad_input_raises_validation_error(svc, alice):
    with pytest.raises(pa_core.ValidationError):
        make(svc, alice).chat("   ")


def test_closing_the_stream_early_keeps_what_was_said(svc, alice):
    assistant = make(svc, alice)
    gen = assistant.stream("Hello, what can you do?")
    first = next(gen)
    gen.close()  # the reader went away (browser closed)
    reply = assistant.last_reply
    assert reply.has_error is False and reply.content == first
    stored = svc.get_messages(reply.session_id, user=alice)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].content == first and stored[1].has_error is False
    assert stored[1].message_metadata["interrupted"] is True


def test_unknown_provider_setting_falls_back_to_offline_with_a_warning(svc, alice):
    settings = Settings(PA_LLM_PROVIDER="telepathy")
    assistant = PersonalAssistant(svc, alice, settings=settings)
    assert assistant.is_offline and "telepathy" in assistant.config_warning
    assert "84" in assistant.chat("What is 12 * 7?").content


def test_session_deleted_between_turns_continues_in_a_new_one(svc, alice):
    assistant = make(svc, alice)
    sid = assistant.chat("What is 1 + 1?").session_id
    svc.delete_session(sid, user=alice)  # e.g. from the sessions page in another tab
    reply = assistant.chat("What is 2 + 2?", session_id=sid)
    assert reply.session_id != sid and "4" in reply.content
    assert len(svc.get_messages(reply.session_id, user=alice)) == 2


def test_concurrent_turns_from_several_threads(svc, alice):
    assistant_per_thread = [make(svc, alice) for _ in range(4)]
    shared = svc.create_session(user=alice).session_id
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for n in range(5):
                assistant_per_thread[k].chat(f"What is {k} * {n}?", session_id=shared)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = svc.get_messages(shared, user=alice)
    assert len(stored) == 40
    assert sorted(m.content for m in stored if m.role == "user") == sorted(
        f"What is {k} * {n}?" for k in range(4) for n in range(5)
    )
