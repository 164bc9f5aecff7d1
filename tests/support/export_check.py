"""Comparing a downloaded JSON export with the service's: equal but for the export time."""

from __future__ import annotations

import json
import re

_STAMP = re.compile(rb'"exported_at": ?"[^"]*"')


def assert_same_json_export(data: bytes, expected: str) -> None:
    """`data` is the service's JSON export `expected`, byte for byte but for `exported_at`."""
    got, want = json.loads(data), json.loads(expected)
    assert got.pop("exported_at") and want.pop("exported_at")
    assert got == want
    assert _STAMP.sub(b"", data) == _STAMP.sub(b"", expected.encode("utf-8"))
