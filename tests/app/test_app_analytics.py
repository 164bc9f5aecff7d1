"""Analytics page through AppTest: no data, own figures, admin's everyone view, date range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app_helpers import assert_no_exception, texts


def _metric(at, label: str) -> str:
    return [m.value for m in at.metric if m.label == label][0]


def _chat(app_env, user, n_turns: int, *, tools=None, error: bool = False):
    s = app_env.svc.create_session(user=user)
    for i in range(n_turns):
        app_env.svc.add_message(s.session_id, user=user, role="user", content=f"q{i}")
        app_env.svc.add_message(
            s.session_id,
            user=user,
            role="assistant",
            content=f"a{i}",
            tools_used=tools,
            processing_time_ms=100 + i,
            token_count=10,
            has_error=error,
            error_message="boom" if error else None,
        )
    return s


def test_no_data(app_env):
    at = app_env.page("analytics")
    assert_no_exception(at)
    assert "No messages in this date range" in texts(at)
    assert _metric(at, "Messages") == "0"
    assert not at.get("vega_lite_chart")
    assert [b.label for b in at.download_button] == ["Download metrics (CSV)"]


def test_own_figures_and_charts(app_env):
    _chat(app_env, app_env.alice, 3, tools=["calculator"])
    _chat(app_env, app_env.alice, 1, error=True)
    _chat(app_env, app_env.bob, 5)
    at = app_env.page("analytics")
    assert_no_exception(at)
    assert _metric(at, "Sessions") == "2"
    assert _metric(at, "Messages") == "8"
    assert _metric(at, "Tokens") == "40"
    assert _metric(at, "Error rate") == "25.0%"  # 1 of 4 assistant replies
    assert _metric(at, "Active days") == "1"
    charts = at.get("vega_lite_chart")
    # messages, reply time, errors per day, tools, errors by kind, tokens (no feedback yet)
    assert len(charts) == 6
    assert "No reply was rated" in texts(at)
    assert _metric(at, "Feedback") == "0 up · 0 down"
    assert "Per user" not in [s.value for s in at.subheader]


def test_admin_can_switch_to_everyone_with_per_user_breakdown(app_env):
    _chat(app_env, app_env.alice, 1)
    _chat(app_env, app_env.bob, 4)
    at = app_env.page("analytics")
    assert _metric(at, "Messages") == "2"
    at.radio(key="pa-analytics-scope").set_value("Everyone").run()
    assert_no_exception(at)
    assert _metric(at, "Messages") == "10"
    assert "Per user" in [s.value for s in at.subheader]
    table = at.dataframe[0].value
    assert set(table["username"]) == {"alice", "bob"}
    assert int(table.loc[table["username"] == "bob", "messages"].iloc[0]) == 8


def test_non_admin_sees_only_own_figures(app_env):
    _chat(app_env, app_env.alice, 3)
    _chat(app_env, app_env.bob, 1)
    at = app_env.page("analytics", username="bob")
    assert_no_exception(at)
    assert not at.radio
    assert _metric(at, "Messages") == "2"
    assert "Per user" not in [s.value for s in at.subheader]


def test_tokens_only_where_reported_and_feedback_counted(app_env):
    s = _chat(app_env, app_env.alice, 2)
    plain = app_env.svc.create_session(user=app_env.alice)
    app_env.svc.add_message(plain.session_id, user=app_env.alice, content="hi")
    reply = app_env.svc.add_message(
        plain.session_id, user=app_env.alice, role="assistant", content="offline answer"
    )
    app_env.svc.set_feedback(reply.id, user=app_env.alice, rating=-1)
    first = app_env.svc.get_messages(s.session_id, user=app_env.alice)[1]
    app_env.svc.set_feedback(first.id, user=app_env.alice, rating=1)
    at = app_env.page("analytics")
    assert_no_exception(at)
    assert _metric(at, "Tokens") == "20"
    assert _metric(at, "Feedback") == "1 up · 1 down"
    app_env.svc.delete_session(s.session_id, user=app_env.alice)
    at = app_env.page("analytics")
    assert _metric(at, "Tokens") == "—"  # the offline reply reported none: nothing made up


def test_date_range_excludes_today(app_env):
    _chat(app_env, app_env.alice, 2)
    at = app_env.page("analytics")
    assert _metric(at, "Messages") == "4"
    at.segmented_control(key="pa-analytics-preset").set_value("Custom").run()
    today = datetime.now(UTC).date()
    at.date_input(key="pa-analytics-range").set_value(
        (today - timedelta(days=10), today - timedelta(days=1))
    ).run()
    assert_no_exception(at)
    assert _metric(at, "Messages") == "0"
    assert "No messages in this date range" in texts(at)
