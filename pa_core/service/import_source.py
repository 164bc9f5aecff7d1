"""Where an import reads from: bytes, text or a binary file, possibly a ChatGPT export zip.

The source can be read more than once (the import validates the whole file before it writes),
always as UTF-8 text chunks, with the size limits and the zip-bomb checks applied while reading.
"""

from __future__ import annotations

import codecs
import io
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from pa_core.errors import ImportTooLarge, ValidationError

MAX_IMPORT_BYTES = 1024**3  # 1 GiB: the file, or the conversations.json inside a zip
MAX_ZIP_RATIO = 100  # uncompressed / compressed, for entries over ZIP_RATIO_FROM bytes
ZIP_RATIO_FROM = 8 * 1024**2
READ_BYTES = 256 * 1024
ZIP_MAGIC = b"PK\x03\x04"
CONVERSATIONS_FILE = "conversations.json"


class ImportSource:
    """A re-readable import source: `text_chunks()` starts from the beginning on every call."""

    def __init__(self, source: Any, *, limited: bool = True):
        """Wrap bytes, str or a binary file object (a non-seekable one is spooled to disk).

        `limited=False` (a restore) lifts MAX_IMPORT_BYTES; the zip checks stay.
        """
        self._limit = MAX_IMPORT_BYTES if limited else None
        self._text: str | None = None
        self._spool: IO[bytes] | None = None
        if isinstance(source, str):
            self._text = source
            self._check_size(len(source))
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._file: IO[bytes] = io.BytesIO(bytes(source))
            self._check_size(len(self._file.getbuffer()))
        elif hasattr(source, "read"):
            self._file = self._seekable(source)
        else:
            raise ValidationError("Import needs the file's bytes, its text, or an open file.")
        self._start = 0 if self._text is not None else self._file.tell()

    def _seekable(self, source: IO[bytes]) -> IO[bytes]:
        """`source` itself when it can seek, else a temporary copy (size-checked)."""
        if getattr(source, "seekable", lambda: False)():
            return source
        self._spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        copied = 0
        while block := source.read(READ_BYTES):
            if not isinstance(block, bytes):
                raise ValidationError("Import needs a file opened in binary mode.")
            copied += len(block)
            self._check_size(copied)
            self._spool.write(block)
        self._spool.seek(0)
        return self._spool

    def _check_size(self, size: int) -> None:
        """ImportTooLarge when `size` is over the limit."""
        if self._limit is not None:
            _check_size(size)

    def close(self) -> None:
        """Remove the temporary copy, if one was made."""
        if self._spool is not None:
            self._spool.close()

    def text_chunks(self) -> Iterator[str]:
        """The import's JSON text in chunks: the file, or conversations.json of a zip."""
        if self._text is not None:
            for i in range(0, len(self._text), READ_BYTES):
                yield self._text[i : i + READ_BYTES]
            return
        self._file.seek(self._start)
        head = self._file.read(len(ZIP_MAGIC))
        self._file.seek(self._start)
        if head == ZIP_MAGIC:
            yield from _decode(_zip_blocks(self._file))
        else:
            yield from _decode(_file_blocks(self._file, self._check_size))


def _check_size(size: int) -> None:
    """ImportTooLarge when `size` is over MAX_IMPORT_BYTES."""
    if size > MAX_IMPORT_BYTES:
        raise ImportTooLarge(
            f"The file is too large to import (the limit is {MAX_IMPORT_BYTES // 1024**2:,} MB)."
        )


def _file_blocks(file: IO[bytes], check: Callable[[int], None]) -> Iterator[bytes]:
    """The file's bytes in blocks, counting them against the limit (`check`)."""
    seen = 0
    while block := file.read(READ_BYTES):
        seen += len(block)
        check(seen)
        yield block


def _decode(blocks: Iterator[bytes]) -> Iterator[str]:
    """UTF-8 text (a BOM is dropped); anything else is a readable ValidationError."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        for block in blocks:
            yield decoder.decode(block)
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationError(
            "The file is not usable: it is neither a zip nor UTF-8 JSON text."
        ) from None


def _zip_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The conversations.json of an export zip (at the top, else the shallowest one)."""
    found = [
        info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.rsplit("/", 1)[-1] == CONVERSATIONS_FILE
    ]
    if not found:
        raise ValidationError(
            f"The zip file holds no {CONVERSATIONS_FILE}; is it a ChatGPT export?"
        )
    info = min(found, key=lambda i: (i.filename.count("/"), i.filename))
    _check_size(info.file_size)
    ratio_ok = info.file_size <= max(ZIP_RATIO_FROM, MAX_ZIP_RATIO * info.compress_size)
    if not ratio_ok:
        raise ImportTooLarge(
            f"The zip's {CONVERSATIONS_FILE} expands more than {MAX_ZIP_RATIO}-fold; "
            "it is refused as a possible zip bomb."
        )
    return info


def _zip_blocks(file: IO[bytes]) -> Iterator[bytes]:
    """The bytes of the zip's conversations.json, checked against its declared size."""
    try:
        with zipfile.ZipFile(file) as archive:
            info = _zip_member(archive)
            seen = 0
            with archive.open(info) as member:
                while block := member.read(READ_BYTES):
                    seen += len(block)
                    if seen > info.file_size:
                        raise ImportTooLarge("The zip entry is larger than it declares.")
                    yield block
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted entry; NotImplementedError: an unsupported compression
        raise ValidationError(f"The zip file cannot be read: {exc}.") from None
