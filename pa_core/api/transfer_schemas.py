"""Request and response bodies of the import, export and feedback endpoints (pydantic)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pa_core.api.schemas import MAX_PAGE, _In, _Query
from pa_core.records import ImportReport
from pa_core.service.feedback import MAX_FEEDBACK_COMMENT_CHARS


class ExportQuery(_Query):
    """Query of GET /export.json."""

    session_id: list[str] | None = Field(
        default=None,
        max_length=MAX_PAGE,
        description="Export only these sessions (repeat the parameter); default: all",
    )


class FeedbackIn(_In):
    """Body of PUT /messages/{message_id}/feedback."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"rating": 1}, {"rating": -1, "comment": "Wrong date"}]}
    )

    rating: Literal[1, -1] | None = Field(description="1 helpful, -1 not helpful, null clears")
    comment: str | None = Field(default=None, max_length=MAX_FEEDBACK_COMMENT_CHARS)


class ImportReportOut(BaseModel):
    """What POST /import did."""

    sessions_imported: int
    sessions_skipped: int = Field(description="Already there (a re-import) or without messages")
    messages_imported: int
    warnings: list[str] = Field(description="Left-out branches, shortened messages, and such")

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportOut:
        """From an ImportReport."""
        return cls(**report._asdict())


IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file as the body, or as the multipart/form-data field `file`.",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}
MARKDOWN_BODY = {200: {"description": "Markdown", "content": {"text/markdown": {}}}}
JSON_EXPORT_BODY = {
    200: {"description": "One JSON document, streamed", "content": {"application/json": {}}}
}
