"""An incremental JSON reader: one value of a top-level array or object at a time.

Only the value being read is in memory (a sliding text buffer over the input chunks), so a
100 MB export is read with bounded memory. Values are decoded by `json.JSONDecoder.raw_decode`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pa_core.errors import ValidationError

_WS = re.compile(r"[ \t\n\r]*")
READ_CHARS = 256 * 1024


class JsonReader:
    """Reads a JSON document piecewise from an iterator of text chunks."""

    def __init__(self, chunks: Iterator[str], *, max_value_chars: int):
        """Read from `chunks`; a single value over `max_value_chars` is a ValidationError."""
        self._chunks = chunks
        self._buf = ""
        self._pos = 0
        self._consumed = 0  # characters dropped from the front of the buffer
        self._eof = False
        self._decoder = json.JSONDecoder()
        self.max_value_chars = max_value_chars

    def _more(self, want: int) -> bool:
        """Append at least `want` characters (fewer at the end); False when nothing was left."""
        if self._pos:
            self._consumed += self._pos
            self._buf, self._pos = self._buf[self._pos :], 0
        parts, got = [self._buf], 0
        while got < want:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._eof = True
                break
            parts.append(chunk)
            got += len(chunk)
        self._buf = "".join(parts)
        return got > 0

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the input)."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._more(READ_CHARS):
                return ""

    def expect(self, char: str, what: str) -> None:
        """Consume `char`, else a ValidationError saying `what` was expected."""
        if self.peek() != char:
            raise self.error(f"expected {what}")
        self._pos += 1

    def error(self, message: str) -> ValidationError:
        """A ValidationError about the input at the current position."""
        return ValidationError(
            f"The file is not valid JSON: {message} at character {self._consumed + self._pos:,}."
        )

    def value(self) -> Any:
        """The next complete JSON value."""
        if self.peek() == "":
            raise self.error("unexpected end of the file")
        want = READ_CHARS
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._eof:
                    raise self.error(exc.msg.lower()) from None
                end = -1
            except RecursionError:
                raise ValidationError(
                    "The file is not usable: its JSON is nested too deeply."
                ) from None
            # a value that ends exactly at the buffer's end may be a number cut in two
            if end != -1 and (end < len(self._buf) or self._eof):
                self._pos = end
                return value
            if len(self._buf) - self._pos > self.max_value_chars:
                raise ValidationError(
                    "The file is not usable: one conversation is larger than "
                    f"{self.max_value_chars:,} characters of JSON, or the file is broken."
                )
            self._more(want)
            want = max(want, len(self._buf) - self._pos)  # grow geometrically: linear time

    def iter_array(self) -> Iterator[Any]:
        """The items of the array that starts here, one at a time."""
        self.expect("[", "'['")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield self.value()
            char = self.peek()
            self._pos += 1
            if char == "]":
                return
            if char != ",":
                self._pos -= 1
                raise self.error("expected ',' or ']'")

    def iter_object_keys(self) -> Iterator[str]:
        """The keys of the object that starts here; the caller reads each key's value."""
        self.expect("{", "'{'")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise self.error("expected a key")
            self.expect(":", "':'")
            yield key
            char = self.peek()
            self._pos += 1
            if char == "}":
                return
            if char != ",":
                self._pos -= 1
                raise self.error("expected ',' or '}'")

    def end(self) -> None:
        """Check that nothing but white space follows the document."""
        if self.peek() != "":
            raise self.error("extra data after the document")
