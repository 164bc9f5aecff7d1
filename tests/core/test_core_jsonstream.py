"""The incremental JSON reader: values split across any chunk boundary read back exactly."""

from __future__ import annotations

import json

import pytest

from pa_core.errors import ValidationError
from pa_core.service.jsonstream import JsonReader

DOC = [{"n": 12345, "f": -1.5e3, "s": 'ä"\\ \u2028', "t": True, "z": None}, [], {}, 7, "x"]


def _chunks(text, size):
    return iter([text[i : i + size] for i in range(0, len(text), size)])


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_array_items_across_chunk_boundaries(size):
    text = " \n" + json.dumps(DOC, indent=1) + " \n"
    reader = JsonReader(_chunks(text, size), max_value_chars=10_000)
    assert list(reader.iter_array()) == DOC
    reader.end()


@pytest.mark.parametrize("size", [1, 5, 1000])
def test_object_keys_then_values(size):
    text = json.dumps({"format": "x", "version": 1, "sessions": [1, 2]})
    reader = JsonReader(_chunks(text, size), max_value_chars=1000)
    seen = {}
    for key in reader.iter_object_keys():
        seen[key] = list(reader.iter_array()) if key == "sessions" else reader.value()
    assert seen == {"format": "x", "version": 1, "sessions": [1, 2]}


@pytest.mark.parametrize("text", ["[1 2]", "[1,]", '{"a" 1}', '{"a": 1 "b": 2}', "[", "[1] 2"])
def test_broken_documents(text):
    reader = JsonReader(_chunks(text, 2), max_value_chars=100)
    with pytest.raises(ValidationError, match="not valid JSON"):
        first = reader.peek()
        if first == "{":
            for _key in reader.iter_object_keys():
                reader.value()
        else:
            list(reader.iter_array())
        reader.end()


def test_a_value_over_the_limit():
    reader = JsonReader(_chunks(json.dumps(["x" * 600_000]), 100), max_value_chars=1000)
    with pytest.raises(ValidationError, match="larger than 1,000"):
        list(reader.iter_array())
