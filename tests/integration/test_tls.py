"""A TLS listener with a generated self-signed certificate."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests

from coffer_harness import Server, init_and_unseal, new_session, raw_status


@pytest.fixture(scope="module")
def tls_server(coffer_bin, tmp_path_factory, tls_cert):
    server = Server(coffer_bin, tmp_path_factory.mktemp("tls-server"), tls=tls_cert)
    try:
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="module")
def tls_unsealed(tls_server):
    return init_and_unseal(tls_server)


def _https_works(server, token):
    client = server.client(token)
    assert client.sys.is_sealed() is False
    client.secrets.kv.v1.create_or_update_secret("tls/probe", {"ok": True}, mount_point="secret")
    assert client.secrets.kv.v1.read_secret("tls/probe", mount_point="secret")["data"] == {"ok": True}


def test_hvac_over_https_with_the_ca(tls_server, tls_unsealed):
    assert tls_server.url.startswith("https://")
    client = tls_server.client(tls_unsealed.root_token)
    kv = client.secrets.kv.v1
    kv.create_or_update_secret("over/tls", {"password": "p@ss"}, mount_point="secret")
    assert kv.read_secret("over/tls", mount_point="secret")["data"] == {"password": "p@ss"}
    assert client.sys.read_health_status(method="GET")["sealed"] is False


def test_server_presents_the_configured_certificate(tls_server, tls_cert):
    presented = ssl.get_server_certificate(("127.0.0.1", tls_server.port))
    assert ssl.PEM_cert_to_DER_cert(presented) == \
        ssl.PEM_cert_to_DER_cert(tls_cert[0].read_text())
    # Without the CA the (self-signed) certificate is rejected by a verifying client.
    with pytest.raises(requests.exceptions.SSLError):
        new_session().get(tls_server.url + "/v1/sys/health", verify=True, timeout=5)


def test_plain_http_to_tls_port_does_not_break_the_server(tls_server, tls_unsealed):
    try:
        r = new_session().get(f"http://{tls_server.addr}/v1/secret/over/tls",
                              headers={"X-Vault-Token": tls_unsealed.root_token}, timeout=5)
        # If it answers at all it must be an error, never the data in the clear.
        assert 400 <= r.status_code < 500, f"plaintext request got {r.status_code}: {r.text[:200]}"
        assert "p@ss" not in r.text
    except requests.exceptions.ConnectionError:
        pass
    assert tls_server.alive()
    _https_works(tls_server, tls_unsealed.root_token)


def test_garbage_and_aborted_handshakes_do_not_break_the_server(tls_server, tls_unsealed):
    # Random bytes, a truncated ClientHello, and a connection closed mid-handshake.
    for payload in (b"\x00\xff" * 500, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", b""):
        with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as s:
            if payload:
                try:
                    s.sendall(payload)
                    s.settimeout(2)
                    s.recv(1024)
                except OSError:
                    pass
    # A TLS client that trusts nothing: the handshake fails on the client side.
    ctx = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as s:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(s, server_hostname="127.0.0.1")
    assert tls_server.alive()
    _https_works(tls_server, tls_unsealed.root_token)


def test_https_raw_request_answers_http_1_1(tls_server, tls_unsealed):
    resp = tls_server.raw(b"GET /v1/sys/seal-status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Connection: close\r\n\r\n")
    assert raw_status(resp) == 200, resp[:200]
    assert b'"sealed":false' in resp.replace(b" ", b"")
