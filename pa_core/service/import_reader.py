"""Reading an import file: which format it is, and its conversations one at a time.

Formats: ChatGPT's conversations.json (a JSON list of conversations; also inside the export
zip) and this project's JSON export (an object whose "format" comes before its "sessions").
"""

from __future__ import annotations

from collections.abc import Iterator

from pa_core.errors import ValidationError
from pa_core.service import chatgpt, own_format
from pa_core.service.import_source import ImportSource
from pa_core.service.imports import PreparedSession
from pa_core.service.jsonstream import JsonReader

MAX_CONVERSATION_CHARS = 64 * 1024**2  # the JSON of one conversation
NOT_SUPPORTED = "The file is neither a ChatGPT export nor a Personal Assistant export."


def read_conversations(source: ImportSource, *, username: str) -> Iterator[PreparedSession]:
    """Every conversation of the file, checked and prepared; ValidationError when broken."""
    reader = JsonReader(source.text_chunks(), max_value_chars=MAX_CONVERSATION_CHARS)
    first = reader.peek()
    if first == "[":
        yield from _chatgpt(reader, username=username)
    elif first == "{":
        yield from _own(reader)
    else:
        raise ValidationError(NOT_SUPPORTED)
    reader.end()


def _chatgpt(reader: JsonReader, *, username: str) -> Iterator[PreparedSession]:
    """The conversations of a conversations.json list."""
    for index, conv in enumerate(reader.iter_array()):
        yield chatgpt.prepare(conv, index=index, username=username)


def _own(reader: JsonReader) -> Iterator[PreparedSession]:
    """The sessions of this project's export; the header is checked before any session."""
    header: dict = {}
    seen_sessions = False
    for key in reader.iter_object_keys():
        if key != "sessions":
            header[key] = reader.value()
            continue
        own_format.check_header(header)
        seen_sessions = True
        for index, session in enumerate(reader.iter_array()):
            yield own_format.prepare(session, index=index)
    if not seen_sessions:
        own_format.check_header(header)
        raise ValidationError("The export has no list of sessions.")


def validate(source: ImportSource, *, username: str) -> int:
    """Read the whole file once without writing; how many conversations it holds.

    ValidationError when any of it is unusable, or when it is a list in which no item looks
    like a ChatGPT conversation.
    """
    count, with_mapping = 0, 0
    for prepared in read_conversations(source, username=username):
        count += 1
        with_mapping += prepared.skip_reason != chatgpt.NO_MAPPING
    if count and not with_mapping:
        raise ValidationError(NOT_SUPPORTED + " No conversation in it has messages.")
    return count
