"""Lossless JSON export, Markdown export of one session, and import of a file."""

from __future__ import annotations

import tempfile
from typing import IO, Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from pa_core.api.deps import CurrentUser, NoParams, Service, SessionId, State
from pa_core.api.errors import APIError
from pa_core.api.responses import AUTH_ERRORS, BODY_ERRORS, EXPORT_ERRORS, SESSION_ERRORS
from pa_core.api.streaming import export_stream
from pa_core.api.transfer_schemas import (
    IMPORT_BODY,
    JSON_EXPORT_BODY,
    MARKDOWN_BODY,
    ExportQuery,
    ImportReportOut,
)
from pa_core.errors import ImportTooLarge
from pa_core.service import import_source

router = APIRouter(tags=["export"])

IMPORT_PATH = "/import"
MAX_IMPORT_BODY = import_source.MAX_IMPORT_BYTES + 1024**2  # room for the multipart framing
SPOOL_IN_MEMORY = 8 * 1024**2


@router.get(
    "/export.json",
    response_class=StreamingResponse,
    responses={**AUTH_ERRORS, **EXPORT_ERRORS, **JSON_EXPORT_BODY},
)
def export_json(
    state: State, user: CurrentUser, service: Service, query: Annotated[ExportQuery, Query()]
) -> StreamingResponse:
    """Every session of the caller (or the `session_id`s given) with every field, as one JSON
    document."""
    # the head and the first batch are read now, so a database outage is a 503, not a cut body
    return export_stream(
        state.export_slots,
        user.id,
        lambda: service.export_json(user, query.session_id or None),
        timeout_s=state.settings.stream_timeout_s,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="personal-assistant-export.json"'},
    )


@router.get(
    "/sessions/{session_id}/export.md",
    response_class=Response,
    responses={**SESSION_ERRORS, **MARKDOWN_BODY},
)
def export_markdown(
    user: CurrentUser, service: Service, session_id: SessionId, _query: NoParams
) -> Response:
    """One of the caller's sessions as readable Markdown."""
    text = service.export_markdown(user, session_id)
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{session_id[:36]}.md"'},
    )


@router.post(
    IMPORT_PATH,
    response_model=ImportReportOut,
    responses={**AUTH_ERRORS, **BODY_ERRORS},
    openapi_extra=IMPORT_BODY,
)
async def import_file(
    request: Request, user: CurrentUser, service: Service, _query: NoParams
) -> ImportReportOut:
    """Import a ChatGPT export (conversations.json or the .zip) or this app's JSON export."""
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        file, owned = await _multipart_file(request), None
    else:
        file = owned = await _spooled_body(request)
    try:
        report = await run_in_threadpool(service.import_conversations, user, file)
    except ImportTooLarge as exc:
        raise APIError(413, str(exc)) from None
    finally:
        if owned is not None:
            owned.close()
    return ImportReportOut.of(report)


def _too_large() -> APIError:
    """413 for an import over the size limit."""
    limit = import_source.MAX_IMPORT_BYTES // 1024**2
    return APIError(413, f"The file is too large to import (the limit is {limit:,} MB).")


async def _spooled_body(request: Request) -> IO[bytes]:
    """The raw request body in a temporary file (memory first, then disk)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 - caller closes
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > import_source.MAX_IMPORT_BYTES:
            spool.close()
            raise _too_large()
        spool.write(chunk)
    if not size:
        spool.close()
        raise APIError(422, "Send the file to import as the request body or as the field 'file'.")
    spool.seek(0)
    return spool


async def _multipart_file(request: Request) -> IO[bytes]:
    """The `file` field of a multipart body (Starlette spools it to disk)."""
    try:
        form = await request.form(max_files=1, max_fields=10)
    except StarletteHTTPException as exc:
        raise APIError(422, f"The multipart body cannot be read: {exc.detail}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise APIError(422, "Send the file to import as the multipart field 'file'.")
    if upload.size is not None and upload.size > import_source.MAX_IMPORT_BYTES:
        raise _too_large()
    return upload.file
