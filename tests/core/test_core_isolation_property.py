"""Property: another user's session id (or any random id) reveals nothing through any method."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pa_core import SessionNotFound

ids = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.text(max_size=60),
    st.just(""),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(random_id=ids)
def test_random_ids_reveal_nothing(svc, alice, bob, random_id):
    own = svc.create_session(user=alice, title="alice only")
    svc.add_message(own.session_id, user=alice, content="private")
    for candidate in (random_id, own.session_id, own.session_id.upper()):
        assert svc.get_session(candidate, user=bob) is None
        with pytest.raises(SessionNotFound):
            svc.get_messages(candidate, user=bob)
        with pytest.raises(SessionNotFound):
            svc.add_message(candidate, user=bob, content="x")
        with pytest.raises(SessionNotFound):
            svc.rename_session(candidate, user=bob, title="x")
        with pytest.raises(SessionNotFound):
            svc.delete_session(candidate, user=bob)
        created = svc.get_or_create_session(candidate, user=bob)
        assert created.user_id == bob.id and created.session_id != own.session_id
        assert list(svc.export_csv(bob, [candidate]))[1:] == []
    assert svc.get_messages(own.session_id.upper(), user=alice)[0].content == "private"
    assert svc.search_messages(bob, "private") == []
