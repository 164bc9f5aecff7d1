"""Sample conversations for trying the app (`python -m pa_core demo-data`)."""

from __future__ import annotations

from pa_core.records import UserRecord
from pa_core.service import ConversationService

_TOPICS = [
    ("Trip planning", "Which trains go from Zurich to Milan in the morning?"),
    ("Budget", "What is 1250 * 12 minus 3400?"),
    ("Reading list", "Suggest three books about databases."),
    ("Meeting notes", "Summarise: ship the release on Friday, Anna owns the docs."),
    ("Recipes", "How long do I boil an egg for a soft yolk?"),
]


def create_demo_data(
    svc: ConversationService, user: UserRecord, *, sessions: int = 5, messages: int = 10
) -> int:
    """Create `sessions` sessions of `messages` alternating messages; returns how many."""
    count = 0
    for i in range(sessions):
        title, question = _TOPICS[i % len(_TOPICS)]
        session = svc.create_session(user=user, title=f"{title} #{i + 1}")
        for j in range(messages):
            if j % 2 == 0:
                svc.add_message(session.session_id, user=user, role="user", content=question)
            else:
                svc.add_message(
                    session.session_id,
                    user=user,
                    role="assistant",
                    content=f"(demo reply {j // 2 + 1}) Noted: {question}",
                    processing_time_ms=5 + j,
                    token_count=0,
                )
            count += 1
    return count
