"""Hostile and malformed input: always a clear 4xx, never a 5xx, never a crash.

All tests share one server; the last test checks that it is still up and that
the data written before any of this is unchanged.
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
import requests

from coffer_harness import error_list, error_text, raw_status

BASELINE = {
    "base/one": {"password": "hunter2", "n": 1},
    "base/two": {"list": [1, 2, 3], "nested": {"k": "v"}},
    "base/deep/three": {"unicode": "ünïcødé ✓"},
}


# Tests after which the server process was found dead (and had to be restarted).
CRASHED_AFTER: list[str] = []


@pytest.fixture(scope="module")
def srv(module_unsealed):
    kv = module_unsealed.client.secrets.kv.v1
    for path, value in BASELINE.items():
        kv.create_or_update_secret(path, value, mount_point="secret")
    return module_unsealed


@pytest.fixture(autouse=True)
def _revive_after_crash(request, srv):
    """If a test killed the server, note it and bring it back so later tests stay independent."""
    yield
    if not srv.server.alive():
        CRASHED_AFTER.append(f"{request.node.name} (exit status {srv.server.proc.returncode})")
        srv.server.kill()
        srv.server.start()
        srv.unseal()


def raw_req(u, method: str, target: str, body: bytes = b"", headers: dict | None = None,
            token: bool = True) -> bytes:
    h = {"Host": u.server.addr, "Content-Length": str(len(body)), "Connection": "close"}
    if token:
        h["X-Vault-Token"] = u.root_token
    h.update(headers or {})
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    return u.server.raw(head.encode("latin-1") + body)


def post(u, path, **kw):
    return u.server.http("POST", "/v1/" + path, token=u.root_token, **kw)


# ---- JSON bodies ----------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    b'{"a": ', b"{'single': 'quotes'}", b'{"a": 1,}', b"not json at all", b'{"a": "unterminated}',
    b"\xff\xfe\x00garbage", b'{"a": NaN}', b"",
])
def test_malformed_json_is_400_with_an_error(srv, raw):
    for path in ("secret/bad/json", "sys/mounts/badjson"):
        r = post(srv, path, data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, f"{path} {raw!r} -> {r.status_code} {r.text[:300]}"
        errs = error_list(r)
        assert errs and all(isinstance(e, str) and e for e in errs)
    assert srv.server.http("GET", "/v1/secret/bad/json", token=srv.root_token).status_code == 404


@pytest.mark.parametrize("raw", [b"[1, 2, 3]", b'"a string"', b"42", b"true"])
def test_non_object_json_is_400(srv, raw):
    r = post(srv, "secret/bad/nonobject", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, f"{raw!r} -> {r.status_code} {r.text[:300]}"
    assert error_list(r)
    assert srv.server.http("GET", "/v1/secret/bad/nonobject", token=srv.root_token).status_code == 404


def test_deeply_nested_json_is_rejected_not_a_crash(srv):
    depth = 100_000
    raw = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    try:
        r = post(srv, "secret/bad/deep", data=raw, headers={"Content-Type": "application/json"})
    except requests.ConnectionError as e:
        time.sleep(0.3)
        pytest.fail(f"no answer to a {depth}-deep JSON body ({e}); server process exit status: "
                    f"{srv.server.proc.poll()}")
    assert r.status_code == 400, f"{r.status_code} {r.text[:300]}"
    assert srv.server.alive()


def test_invalid_utf8_in_json_string_is_not_a_5xx(srv):
    raw = b'{"v": "\xff\xfe\xc3"}'
    r = post(srv, "secret/bad/utf8", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code in (204, 400), f"{r.status_code} {r.text[:300]}"
    read = srv.server.http("GET", "/v1/secret/bad/utf8", token=srv.root_token)
    assert read.status_code in (200, 404), f"{read.status_code} {read.text[:300]}"
    if r.status_code == 204:
        assert read.status_code == 200
        assert isinstance(read.json()["data"]["v"], str)
    lst = srv.server.http("LIST", "/v1/secret/bad/", token=srv.root_token)
    assert lst.status_code in (200, 404)


# ---- wrong field types -----------------------------------------------------------

@pytest.mark.parametrize("path, body, names", [
    # Vault coerces 5 to "5" and then names the unknown type; either is a clear message.
    ("sys/mounts/typed", {"type": 5}, ("type", "5")),
    ("sys/mounts/typed", {"type": "kv", "options": 42}, ("options",)),
    ("sys/mounts/typed", {"type": "no-such-engine"}, ("no-such-engine",)),
    ("sys/tools/random", {"bytes": "lots"}, ("bytes",)),
    ("sys/tools/random", {"bytes": {"n": 1}}, ("bytes",)),
    ("sys/tools/hash", {"input": 12345}, ("input",)),
    # An initialized server may answer "already initialized" instead.
    ("sys/init", {"secret_shares": "abc", "secret_threshold": 1}, ("secret_shares", "initialized")),
])
def test_wrong_field_types_are_400_naming_the_field(srv, path, body, names):
    r = post(srv, path, json=body)
    assert r.status_code == 400, f"{path} {body} -> {r.status_code} {r.text[:300]}"
    text = error_text(r).lower()
    assert any(n in text for n in names), f"{path} {body}: error names none of {names}: {r.text}"
    assert "typed/" not in srv.client.sys.list_mounted_secrets_engines()["data"]


# ---- sizes, methods, paths ---------------------------------------------------------

def test_oversize_body_is_413(srv):
    size = 33 * 1024 * 1024
    body = b'{"v": "' + b"a" * (size - 10) + b'"}'
    resp = raw_req(srv, "POST", "/v1/secret/bad/huge", body,
                   {"Content-Type": "application/json"})
    assert raw_status(resp) == 413, f"got {resp[:300]!r}"
    r = srv.server.http("GET", "/v1/secret/bad/huge", token=srv.root_token)
    assert r.status_code == 404


def test_body_just_under_the_limit_is_accepted(srv):
    value = "b" * (31 * 1024 * 1024)
    r = post(srv, "secret/bad/almost", json={"v": value}, timeout=120)
    assert r.status_code == 204, f"{r.status_code} {r.text[:300]}"
    r = srv.server.http("GET", "/v1/secret/bad/almost", token=srv.root_token, timeout=120)
    assert r.status_code == 200 and r.json()["data"]["v"] == value
    srv.server.http("DELETE", "/v1/secret/bad/almost", token=srv.root_token)


def test_patch_needs_merge_patch_content_type_and_kv_v1_has_no_patch(srv):
    for ctype in ("application/json", "text/plain", None):
        headers = {"Content-Type": ctype} if ctype else {}
        r = srv.server.http("PATCH", "/v1/secret/base/one", token=srv.root_token,
                            data=b'{"password": "changed"}', headers=headers)
        assert r.status_code == 415, f"{ctype}: {r.status_code} {r.text[:300]}"
        assert error_list(r)
    r = srv.server.http("PATCH", "/v1/secret/base/one", token=srv.root_token,
                        data=b'{"password": "changed"}',
                        headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 405, f"{r.status_code} {r.text[:300]}"
    assert error_list(r)


def test_unknown_method_is_405(srv):
    resp = raw_req(srv, "FROB", "/v1/secret/base/one")
    assert raw_status(resp) == 405, resp[:300]


def test_unknown_sys_path_is_404(srv):
    for path in ("/v1/sys/no-such-endpoint", "/v1/sys/tools/nope"):
        r = srv.server.http("GET", path, token=srv.root_token)
        assert r.status_code == 404, f"{path}: {r.status_code} {r.text[:300]}"
        assert error_list(r)
    r = srv.server.http("GET", "/v1/no-such-mount/x", token=srv.root_token)
    assert r.status_code == 404, r.text
    r = srv.server.http("GET", "/not-v1/anything", token=srv.root_token)
    assert r.status_code == 404, r.text


@pytest.mark.parametrize("target", [
    "/v1/secret/../sys/mounts",
    "/v1/secret/base/../base/one",
    "/v1/secret/a/../../sys/seal",
    "/v1/secret/..",
])
def test_dot_dot_paths_are_400(srv, target):
    for method in ("GET", "POST", "PUT"):
        body = b'{"v": 1}' if method != "GET" else b""
        resp = raw_req(srv, method, target, body, {"Content-Type": "application/json"})
        assert raw_status(resp) == 400, f"{method} {target}: {resp[:300]!r}"
    assert srv.client.sys.is_sealed() is False


def test_percent_encoded_dot_dot_and_bad_escapes(srv):
    resp = raw_req(srv, "GET", "/v1/secret/%2e%2e/sys/mounts")
    assert raw_status(resp) is not None and 400 <= raw_status(resp) < 500, resp[:300]
    resp = raw_req(srv, "GET", "/v1/secret/%zz")
    assert raw_status(resp) == 400, resp[:300]
    resp = raw_req(srv, "GET", "/v1/secret/a%00b")
    assert raw_status(resp) is not None and raw_status(resp) < 500, resp[:300]


def test_huge_header_is_4xx(srv):
    resp = raw_req(srv, "GET", "/v1/secret/base/one", headers={"X-Junk": "j" * (1024 * 1024)})
    status = raw_status(resp)
    assert status is not None and 400 <= status < 500, f"got {resp[:200]!r}"
    resp = raw_req(srv, "GET", "/v1/secret/base/one",
                   headers={f"X-Many-{i}": "v" * 100 for i in range(2000)})
    status = raw_status(resp)
    assert status is not None and 400 <= status < 500, f"got {resp[:200]!r}"


def test_huge_url_is_4xx_or_404(srv):
    resp = raw_req(srv, "GET", "/v1/secret/" + "p" * (512 * 1024))
    status = raw_status(resp)
    assert status is not None and 400 <= status < 500, f"got {resp[:200]!r}"


def test_huge_or_odd_tokens_are_403(srv):
    for token in ("t" * 100_000, "s.\u00e9\u00e8".encode().decode("latin-1"), " ", "root"):
        resp = raw_req(srv, "GET", "/v1/secret/base/one", token=False,
                       headers={"X-Vault-Token": token})
        status = raw_status(resp)
        assert status is not None and 400 <= status < 500 and status != 404, f"{token[:20]!r}: {resp[:200]!r}"
        assert b"hunter2" not in resp


def test_garbage_request_lines(srv):
    for junk in (b"\x00\x01\x02\x03\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"POST /v1/secret/x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                 b"POST /v1/secret/x HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n",
                 b"POST /v1/secret/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"):
        resp = srv.server.raw(junk, timeout=3)
        status = raw_status(resp)
        assert status is None or 400 <= status < 500, f"{junk!r} -> {resp[:200]!r}"
        assert srv.server.alive()


def test_chunked_body_is_accepted(srv):
    def gen():
        yield b'{"chunked": '
        yield b'"yes", "n": 7}'
    r = post(srv, "secret/bad/chunked", data=gen(), headers={"Content-Type": "application/json"})
    assert r.status_code == 204, f"{r.status_code} {r.text[:300]}"
    r = srv.server.http("GET", "/v1/secret/bad/chunked", token=srv.root_token)
    assert r.json()["data"] == {"chunked": "yes", "n": 7}


def test_empty_and_whitespace_keys(srv):
    for path in ("/v1/secret/", "/v1/secret//double", "/v1/secret/trailing/"):
        r = srv.server.http("POST", path, token=srv.root_token, json={"v": 1})
        assert r.status_code < 500, f"POST {path}: {r.status_code} {r.text[:200]}"


# ---- connection handling -----------------------------------------------------------

def test_pipelined_requests_are_answered_in_order(srv):
    def req(path, last=False):
        return (f"GET /v1/secret/{path} HTTP/1.1\r\nHost: {srv.server.addr}\r\n"
                f"X-Vault-Token: {srv.root_token}\r\n"
                + ("Connection: close\r\n" if last else "") + "\r\n").encode()
    resp = srv.server.raw(req("base/one") + req("base/missing") + req("base/two", last=True),
                          until_close=True)
    statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", resp)]
    assert statuses == [200, 404, 200], resp[:600]
    assert resp.index(b"hunter2") < resp.index(b'"nested"')


def test_expect_100_continue(srv):
    body = json.dumps({"v": "x" * 5000}).encode()
    with socket.create_connection(("127.0.0.1", srv.server.port), timeout=5) as s:
        s.sendall((f"POST /v1/secret/bad/expect HTTP/1.1\r\nHost: {srv.server.addr}\r\n"
                   f"X-Vault-Token: {srv.root_token}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n"
                   f"Connection: close\r\n\r\n").encode())
        s.settimeout(2)
        interim = s.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100"), interim[:200]
        s.sendall(body)
        rest = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
    statuses = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", interim + rest)]
    assert statuses == [100, 204], (interim + rest)[:300]
    r = srv.server.http("GET", "/v1/secret/bad/expect", token=srv.root_token)
    assert r.status_code == 200 and r.json()["data"]["v"] == "x" * 5000


def test_idle_and_half_sent_connections_do_not_block_service(srv):
    idle, partial = [], []
    try:
        for _ in range(200):
            idle.append(socket.create_connection(("127.0.0.1", srv.server.port), timeout=5))
        for i in range(20):
            s = socket.create_connection(("127.0.0.1", srv.server.port), timeout=5)
            s.sendall(f"POST /v1/secret/bad/slow{i} HTTP/1.1\r\nHost: x\r\nContent-Le".encode())
            partial.append(s)
        started = time.monotonic()
        kv = srv.client.secrets.kv.v1
        for i in range(20):
            assert kv.read_secret("base/one", mount_point="secret")["data"] == BASELINE["base/one"]
        assert time.monotonic() - started < 5, "requests were held up by idle connections"
    finally:
        for s in idle + partial:
            s.close()
    assert srv.server.alive()


# ---- unseal keys ----------------------------------------------------------------

def test_invalid_unseal_keys_are_400_and_do_not_count(srv):
    client, server = srv.client, srv.server
    client.sys.seal()
    try:
        for bad in ("zz-not-hex-nor-base64!!", "0011223344556677",  # valid hex, 8 bytes
                    "ab" * 65,                                      # valid hex, too long
                    "@@@@", "", "a"):
            r = server.http("PUT", "/v1/sys/unseal", json={"key": bad})
            assert r.status_code == 400, f"{bad!r}: {r.status_code} {r.text[:300]}"
            assert error_list(r)
        for body in ({"key": 12345}, {"key": ["a"]}, {"key": None}, {}, {"reset": "maybe"}):
            r = server.http("PUT", "/v1/sys/unseal", json=body)
            assert r.status_code == 400, f"{body!r}: {r.status_code} {r.text[:300]}"
        r = server.http("PUT", "/v1/sys/unseal", data=b'{"key": ',
                        headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        status = server.http("GET", "/v1/sys/seal-status").json()
        assert (status["sealed"], status["progress"]) == (True, 0)
    finally:
        srv.unseal()
    assert client.sys.is_sealed() is False


# ---- and after all of that ---------------------------------------------------------

def test_zz_server_still_up_and_data_unchanged(srv):
    assert srv.server.alive()
    assert not CRASHED_AFTER, "the server died during: " + "; ".join(CRASHED_AFTER)
    kv = srv.client.secrets.kv.v1
    for path, value in BASELINE.items():
        assert kv.read_secret(path, mount_point="secret")["data"] == value, path
    assert sorted(kv.list_secrets("base", mount_point="secret")["data"]["keys"]) == ["deep/", "one", "two"]
    assert "sys/" in srv.client.sys.list_mounted_secrets_engines()["data"]
