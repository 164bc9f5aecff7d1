"""Core table objects and the column lists the service reads into records."""

from __future__ import annotations

from sqlalchemy import Text, cast

from pa_core.models import ApiToken, AuditLog, ConversationMessage, ConversationSession, User
from pa_core.records import ApiTokenRecord, AuditEvent, MessageRecord, SessionRecord, UserRecord

USERS = User.__table__
SESSIONS = ConversationSession.__table__
MESSAGES = ConversationMessage.__table__
TOKENS = ApiToken.__table__

USER_COLUMNS = [USERS.c[f] for f in UserRecord._fields]
SESSION_COLUMNS = [SESSIONS.c[f] for f in SessionRecord._fields if f != "messages"]
MESSAGE_COLUMNS = [MESSAGES.c[f] for f in MessageRecord._fields]
TOKEN_COLUMNS = [TOKENS.c[f] for f in ApiTokenRecord._fields]
# History loads read the two JSON columns as text and parse them in messages.message_from_row:
# the drivers' per-value JSON decoding was about half the cost of loading a long history.
JSON_FIELDS = ("tools_used", "message_metadata")
MESSAGE_READ_COLUMNS = [
    cast(c, Text).label(c.name) if c.name in JSON_FIELDS else c for c in MESSAGE_COLUMNS
]

AUDIT = AuditLog.__table__
AUDIT_COLUMNS = [AUDIT.c[f] for f in AuditEvent._fields]
