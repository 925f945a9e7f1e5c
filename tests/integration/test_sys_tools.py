"""sys/tools/random and sys/tools/hash (hvac 0.11.2 only wraps transit's versions, so raw HTTP)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from coffer_harness import error_text


def tools(server, path, body, token="root"):
    return server.http("POST", "/v1/sys/tools/" + path,
                       token=server.root_token if token == "root" else token, json=body)


@pytest.mark.parametrize("nbytes, fmt", [(32, "hex"), (16, "base64"), (1, "hex"), (1024, "base64")])
def test_random_bytes(dev_server, nbytes, fmt):
    r = tools(dev_server, "random", {"bytes": nbytes, "format": fmt})
    assert r.status_code == 200, r.text
    body = r.json()
    value = body["data"]["random_bytes"]
    raw = bytes.fromhex(value) if fmt == "hex" else base64.b64decode(value, validate=True)
    assert len(raw) == nbytes
    if fmt == "hex":
        assert re.fullmatch(r"[0-9a-f]+", value)
    again = tools(dev_server, "random", {"bytes": nbytes, "format": fmt}).json()["data"]["random_bytes"]
    if nbytes >= 16:
        assert again != value


def test_random_defaults_and_url_length(dev_server):
    r = tools(dev_server, "random", {})
    assert r.status_code == 200, r.text
    assert len(base64.b64decode(r.json()["data"]["random_bytes"])) == 32
    r = tools(dev_server, "random/24", {"format": "hex"})
    assert r.status_code == 200, r.text
    assert len(bytes.fromhex(r.json()["data"]["random_bytes"])) == 24


@pytest.mark.parametrize("body, field", [
    ({"bytes": "lots"}, "bytes"),
    ({"bytes": -1}, "bytes"),
    ({"bytes": 32, "format": "base32768"}, "format"),
])
def test_random_bad_input_is_400(dev_server, body, field):
    r = tools(dev_server, "random", body)
    assert r.status_code == 400, f"{body} -> {r.status_code} {r.text}"
    assert field in error_text(r).lower()


def test_random_needs_a_token(dev_server):
    assert tools(dev_server, "random", {"bytes": 8}, token=None).status_code == 403


KNOWN = b"The quick brown fox jumps over the lazy dog"


@pytest.mark.parametrize("algorithm, fmt", [
    ("sha2-256", "hex"), ("sha2-256", "base64"), ("sha2-512", "hex"), ("sha2-384", "hex"),
    ("sha2-224", "hex"),
])
def test_hash_known_input(dev_server, algorithm, fmt):
    digest = hashlib.new(algorithm.replace("sha2-", "sha"), KNOWN).digest()
    expected = digest.hex() if fmt == "hex" else base64.b64encode(digest).decode()
    r = tools(dev_server, "hash", {"input": base64.b64encode(KNOWN).decode(),
                                   "algorithm": algorithm, "format": fmt})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["sum"] == expected


def test_hash_defaults_to_sha2_256_hex_and_algorithm_in_url(dev_server):
    expected = "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"
    r = tools(dev_server, "hash", {"input": base64.b64encode(KNOWN).decode()})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["sum"] == expected
    r = tools(dev_server, "hash/sha2-256", {"input": base64.b64encode(KNOWN).decode()})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["sum"] == expected


@pytest.mark.parametrize("body, field", [
    ({"input": "%%%not base64%%%"}, "input"),
    ({"input": base64.b64encode(b"x").decode(), "algorithm": "md4"}, "algorithm"),
    ({"input": base64.b64encode(b"x").decode(), "format": "octal"}, "format"),
])
def test_hash_bad_input_is_400(dev_server, body, field):
    r = tools(dev_server, "hash", body)
    assert r.status_code == 400, f"{body} -> {r.status_code} {r.text}"
    assert field in error_text(r).lower()
