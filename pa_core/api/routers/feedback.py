"""PUT /messages/{message_id}/feedback: rate one of the assistant's replies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from pa_core.api.deps import CurrentUser, NoParams, Service
from pa_core.api.responses import AUTH_ERRORS, BODY_ERRORS
from pa_core.api.schemas import MAX_DB_INT, ErrorOut, MessageOut
from pa_core.api.transfer_schemas import FeedbackIn

router = APIRouter(tags=["messages"])

MESSAGE_ERRORS = {
    **AUTH_ERRORS,
    **BODY_ERRORS,
    404: {"model": ErrorOut, "description": "No such message of yours"},
}
MessageId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="The message's id")]


@router.put("/messages/{message_id}/feedback", response_model=MessageOut, responses=MESSAGE_ERRORS)
def put_feedback(
    user: CurrentUser,
    service: Service,
    message_id: MessageId,
    body: FeedbackIn,
    _query: NoParams,
) -> MessageOut:
    """Rate an assistant reply (1 or -1, null clears) with an optional comment."""
    record = service.set_feedback(message_id, user=user, rating=body.rating, comment=body.comment)
    return MessageOut.of(record)
