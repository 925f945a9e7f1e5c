"""End-to-end tests of the client-backed CLI commands: status, login, operator, token.

Every test runs the real `coffer` binary against a real `coffer server` (or, for header and
retry checks, a tiny local HTTP server) and asserts what a user sees: stdout, stderr, exit
codes, the ~/.vault-token file. `run_cli` is a small local helper (tests/integration has no
shared CLI runner yet); each call gets a clean environment with its own HOME.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import stat
import subprocess
import termios
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

import pytest

from coffer_harness import (Server, create_token, free_port, init_and_unseal, initialize,
                            put_policy, token_alive, unique)


# ---- helpers ---------------------------------------------------------------------------------

class Result:
    def __init__(self, proc: subprocess.CompletedProcess, elapsed: float):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.elapsed = elapsed

    def __repr__(self) -> str:
        return f"rc={self.rc}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


def run_cli(coffer_bin: Path, *args: str, home: Path, addr: Optional[str] = None,
            token: Optional[str] = None, env: Optional[dict] = None,
            stdin: Optional[str] = None, timeout: float = 60) -> Result:
    """Runs `coffer ARGS` with only the VAULT_* variables given here, HOME=home."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("VAULT_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    e["HOME"] = str(home)
    if addr is not None:
        e["VAULT_ADDR"] = addr
    if token is not None:
        e["VAULT_TOKEN"] = token
    e.update(env or {})
    start = time.monotonic()
    proc = subprocess.run([str(coffer_bin), *args], input=stdin if stdin is not None else "",
                          capture_output=True, text=True, env=e, timeout=timeout)
    return Result(proc, time.monotonic() - start)


def table(text: str) -> dict:
    """Parses a Vault Key/Value table (or header-less two-column output) into a dict."""
    rows = {}
    for line in text.splitlines():
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        if len(parts) == 2 and not set(parts[0]) <= {"-"}:
            rows[parts[0]] = parts[1]
    return rows


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture(scope="module")
def dev(coffer_bin, tmp_path_factory) -> Server:
    server = Server(coffer_bin, tmp_path_factory.mktemp("cli-dev"), dev=True)
    server.start()
    yield server
    server.kill()


def closed_port() -> int:
    return free_port()  # nothing listens there once the probe socket is closed


# ---- status ----------------------------------------------------------------------------------

def test_status_of_an_unsealed_dev_server(coffer_bin, dev, home):
    r = run_cli(coffer_bin, "status", home=home, addr=dev.url)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert re.match(r"^Key\s+Value$", lines[0]) and re.match(r"^---\s+-----$", lines[1]), r
    t = table(r.out)
    assert t["Seal Type"] == "shamir"
    assert t["Initialized"] == "true" and t["Sealed"] == "false"
    assert t["Total Shares"] == "1" and t["Threshold"] == "1"
    assert "Version" in t and "HA Enabled" in t
    assert "Unseal Progress" not in t

    j = run_cli(coffer_bin, "status", "-format=json", home=home, addr=dev.url)
    assert j.rc == 0, j
    data = json.loads(j.out)
    assert data["sealed"] is False and data["initialized"] is True and "ha_enabled" in data


def test_status_exits_2_when_sealed_and_shows_progress(coffer_bin, make_server, home):
    server = make_server("sealed")
    r = run_cli(coffer_bin, "status", home=home, addr=server.url)
    assert r.rc == 2, r
    t = table(r.out)
    assert t["Sealed"] == "true" and t["Initialized"] == "false"
    assert t["Unseal Progress"] == "0/0"


def test_connection_refused_is_one_clear_line(coffer_bin, home):
    port = closed_port()
    r = run_cli(coffer_bin, "status", home=home, addr=f"http://127.0.0.1:{port}")
    assert r.rc == 1, r
    assert r.err.strip() == (f'Error checking seal status: Get "http://127.0.0.1:{port}/v1/sys/seal-status": '
                             f"dial tcp 127.0.0.1:{port}: connect: connection refused"), r
    assert r.elapsed < 5, "no retries without VAULT_MAX_RETRIES"


def test_malformed_environment_is_a_usage_error(coffer_bin, dev, home):
    r = run_cli(coffer_bin, "status", home=home, addr=dev.url, env={"VAULT_MAX_RETRIES": "abc"})
    assert r.rc == 2, r
    assert "VAULT_MAX_RETRIES" in r.err and len(r.err.strip().splitlines()) == 1, r
    r = run_cli(coffer_bin, "status", home=home, addr=dev.url, env={"VAULT_CLIENT_TIMEOUT": "soon"})
    assert r.rc == 2 and "VAULT_CLIENT_TIMEOUT" in r.err, r


# ---- operator --------------------------------------------------------------------------------

def test_operator_init_unseal_rotate_seal(coffer_bin, make_server, home):
    server = make_server("lifecycle")
    addr = server.url

    r = run_cli(coffer_bin, "operator", "init", "-status", home=home, addr=addr)
    assert r.rc == 2 and "is not initialized" in r.out, r

    r = run_cli(coffer_bin, "operator", "init", "-key-shares=3", "-key-threshold=2", home=home, addr=addr)
    assert r.rc == 0, r
    keys = re.findall(r"^Unseal Key (\d): (\S+)$", r.out, re.M)
    assert [k[0] for k in keys] == ["1", "2", "3"], r
    root = re.search(r"^Initial Root Token: (\S+)$", r.out, re.M).group(1)
    assert "key threshold of 2" in r.out
    keys = [k[1] for k in keys]

    r = run_cli(coffer_bin, "operator", "init", "-status", home=home, addr=addr)
    assert r.rc == 0 and "is initialized" in r.out, r
    r = run_cli(coffer_bin, "operator", "init", home=home, addr=addr)
    assert r.rc == 1 and "Error initializing" in r.err, r

    # One key as an argument: progress 1/2, still sealed, exit 0 (like Vault).
    r = run_cli(coffer_bin, "operator", "unseal", keys[0], home=home, addr=addr)
    assert r.rc == 0, r
    t = table(r.out)
    assert t["Sealed"] == "true" and t["Unseal Progress"] == "1/2", r

    r = run_cli(coffer_bin, "operator", "unseal", "-reset", home=home, addr=addr)
    assert r.rc == 0 and table(r.out)["Unseal Progress"] == "0/2", r

    # Keys from stdin (not a terminal: one line, no prompt on stdout).
    r = run_cli(coffer_bin, "operator", "unseal", home=home, addr=addr, stdin=keys[1] + "\n")
    assert r.rc == 0 and table(r.out)["Unseal Progress"] == "1/2", r
    assert keys[1] not in r.out + r.err
    r = run_cli(coffer_bin, "operator", "unseal", home=home, addr=addr, stdin=keys[2] + "\n")
    assert r.rc == 0 and table(r.out)["Sealed"] == "false", r

    r = run_cli(coffer_bin, "status", home=home, addr=addr)
    assert r.rc == 0, r

    r = run_cli(coffer_bin, "operator", "key-status", home=home, addr=addr, token=root)
    assert r.rc == 0, r
    assert table(r.out)["Key Term"] == "1"
    assert re.match(r"^\d\d [A-Z][a-z]{2} \d\d \d\d:\d\d UTC$", table(r.out)["Install Time"]), r

    r = run_cli(coffer_bin, "operator", "rotate", home=home, addr=addr, token=root)
    assert r.rc == 0, r
    assert r.out.startswith("Success! Rotated key\n\n") and table(r.out)["Key Term"] == "2", r
    r = run_cli(coffer_bin, "operator", "key-status", "-format=json", home=home, addr=addr, token=root)
    assert json.loads(r.out)["term"] == 2, r

    # Without a token, sealing is refused.
    r = run_cli(coffer_bin, "operator", "seal", home=home, addr=addr)
    assert r.rc == 1 and "Error sealing" in r.err and "Code: 403" in r.err, r

    r = run_cli(coffer_bin, "operator", "seal", home=home, addr=addr, token=root)
    assert r.rc == 0 and r.out.strip() == "Success! Coffer is sealed.", r
    r = run_cli(coffer_bin, "status", home=home, addr=addr)
    assert r.rc == 2 and table(r.out)["Sealed"] == "true", r

    # A wrong key is refused with the server's message.
    r = run_cli(coffer_bin, "operator", "unseal", "bm90LWEta2V5", home=home, addr=addr)
    assert r.rc == 1 and "Error unsealing" in r.err, r


def test_operator_init_json_is_machine_readable(coffer_bin, make_server, home):
    server = make_server("initjson")
    r = run_cli(coffer_bin, "operator", "init", "-key-shares=1", "-key-threshold=1", "-format=json",
                home=home, addr=server.url)
    assert r.rc == 0, r
    data = json.loads(r.out)
    assert len(data["unseal_keys_b64"]) == 1 and len(data["unseal_keys_hex"]) == 1
    assert data["unseal_shares"] == 1 and data["unseal_threshold"] == 1
    assert data["root_token"]
    r = run_cli(coffer_bin, "operator", "unseal", "-format=json", data["unseal_keys_b64"][0],
                home=home, addr=server.url)
    assert r.rc == 0 and json.loads(r.out)["sealed"] is False, r


@pytest.mark.parametrize("args,needle", [
    (["operator", "init", "-key-shares=2", "-key-threshold=3"], "-key-threshold"),
    (["operator", "init", "-key-shares=0"], "-key-shares"),
    (["operator", "init", "extra"], "Too many arguments"),
    (["operator", "unseal", "a", "b"], "Too many arguments"),
    (["operator", "seal", "-bogus"], "-bogus"),
    (["token", "revoke"], "Not enough arguments"),
    (["token", "revoke", "-mode=bogus", "x"], "Invalid mode"),
    (["token", "revoke", "-self", "-accessor"], "-self"),
    (["token", "create", "-type=weird"], "-type"),
    (["token", "create", "-ttl=abc"], "ttl"),
    (["token", "create", "extra"], "Too many arguments"),
    (["token", "capabilities"], "Not enough arguments"),
    (["token", "lookup", "-accessor"], "-accessor"),
    (["token", "renew", "-increment=xyz", "t"], "increment"),
    (["login", "-method=ldap", "username=x"], "ldap"),
    (["login", "-no-store", "-no-print", "t"], "-no-store"),
])
def test_bad_input_exits_2_with_one_line(coffer_bin, dev, home, args, needle):
    r = run_cli(coffer_bin, *args, home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 2, r
    assert needle in r.err, r
    assert r.out == "", r


def run_in_pty(coffer_bin: Path, args: list, home: Path, addr: str, typed: str,
               token: Optional[str] = None) -> tuple[int, str]:
    """Runs the CLI with stdin (only) on a pseudo-terminal, types `typed` after the prompt and
    returns (exit code, everything the terminal showed plus stdout/stderr)."""
    master, slave = pty.openpty()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "VAULT_ADDR": addr}
    if token:
        env["VAULT_TOKEN"] = token
    proc = subprocess.Popen([str(coffer_bin), *args], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    os.close(slave)
    shown = b""
    try:
        # Wait until the program has switched echo off (the prompt is written just before).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and termios.tcgetattr(master)[3] & termios.ECHO:
            time.sleep(0.02)
        os.write(master, typed.encode() + b"\n")
        out, err = proc.communicate(timeout=30)
        while True:
            r, _, _ = select.select([master], [], [], 0.2)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, (shown + out + err).decode(errors="replace")


def test_unseal_and_login_prompt_without_echo_on_a_terminal(coffer_bin, make_server, home):
    server = make_server("pty")
    init = initialize(server, shares=1, threshold=1)
    key = init["keys_base64"][0]
    rc, shown = run_in_pty(coffer_bin, ["operator", "unseal"], home, server.url, key)
    assert rc == 0, shown
    assert "Unseal Key (will be hidden): " in shown
    assert key not in shown, "the unseal key was echoed"
    assert re.search(r"^Sealed\s+false", shown, re.M), shown

    rc, shown = run_in_pty(coffer_bin, ["login"], home, server.url, init["root_token"])
    assert rc == 0, shown
    assert "Token (will be hidden): " in shown
    assert (home / ".vault-token").read_text() == init["root_token"]


# ---- login -----------------------------------------------------------------------------------

def test_login_stores_the_token_with_mode_0600(coffer_bin, dev, home):
    r = run_cli(coffer_bin, "login", dev.root_token, home=home, addr=dev.url)
    assert r.rc == 0, r
    assert r.out.startswith("Success! You are now authenticated."), r
    t = table(r.out)
    assert t["token"] == dev.root_token and t["token_duration"] == "∞"
    assert t["token_policies"] == '["root"]' and t["policies"] == '["root"]'
    token_file = home / ".vault-token"
    assert token_file.read_text() == dev.root_token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    # Later commands use the stored token.
    r = run_cli(coffer_bin, "token", "lookup", "-format=json", home=home, addr=dev.url)
    assert r.rc == 0 and json.loads(r.out)["data"]["id"] == dev.root_token, r


def test_login_from_stdin_and_method_flag(coffer_bin, dev, home):
    child = create_token(dev, policies=["default"], ttl="1h")["client_token"]
    r = run_cli(coffer_bin, "login", "-", home=home, addr=dev.url, stdin=child + "\n")
    assert r.rc == 0, r
    assert (home / ".vault-token").read_text() == child
    t = table(r.out)
    assert t["token_policies"] == '["default"]' and t["token_renewable"] == "true"
    assert re.match(r"^\d+m\d*s?$|^\d+h", t["token_duration"]), t

    r = run_cli(coffer_bin, "login", "-method=token", dev.root_token, home=home, addr=dev.url)
    assert r.rc == 0 and (home / ".vault-token").read_text() == dev.root_token, r

    # No argument and stdin not a terminal: the first line of stdin.
    r = run_cli(coffer_bin, "login", home=home, addr=dev.url, stdin=child + "\n")
    assert r.rc == 0 and (home / ".vault-token").read_text() == child, r
    assert "Token (will be hidden)" not in r.out + r.err


def test_login_no_store_token_only_and_env_warning(coffer_bin, dev, home):
    r = run_cli(coffer_bin, "login", "-no-store", dev.root_token, home=home, addr=dev.url)
    assert r.rc == 0, r
    assert not (home / ".vault-token").exists()
    assert "The token was not stored in token helper" in r.err

    r = run_cli(coffer_bin, "login", "-token-only", dev.root_token, home=home, addr=dev.url)
    assert r.rc == 0 and r.out == dev.root_token, r
    assert not (home / ".vault-token").exists()

    r = run_cli(coffer_bin, "login", "-format=json", dev.root_token, home=home, addr=dev.url)
    assert r.rc == 0, r
    assert json.loads(r.out)["auth"]["client_token"] == dev.root_token

    r = run_cli(coffer_bin, "login", dev.root_token, home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0 and "VAULT_TOKEN environment variable is set" in r.err, r


def test_login_with_a_bad_token_fails_without_echoing_it(coffer_bin, dev, home):
    (home / ".vault-token").write_text("previous")
    bad = "hvs.NotARealToken" + unique("x")
    r = run_cli(coffer_bin, "login", bad, home=home, addr=dev.url)
    assert r.rc == 1, r
    assert "Error authenticating" in r.err and "permission denied" in r.err, r
    assert bad not in r.out + r.err
    assert (home / ".vault-token").read_text() == "previous"


# ---- token -----------------------------------------------------------------------------------

def lookup(server: Server, token: str) -> dict:
    r = server.http("POST", "/v1/auth/token/lookup", token=server.root_token, json={"token": token})
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_token_create_with_every_flag(coffer_bin, dev, home):
    put_policy(dev, "cli-a", 'path "secret/*" { capabilities = ["read"] }')
    put_policy(dev, "cli-b", 'path "cubbyhole/*" { capabilities = ["read"] }')
    r = run_cli(coffer_bin, "token", "create", "-policy=cli-a", "-policy=cli-b", "-ttl=1h",
                "-explicit-max-ttl=2h", "-display-name=ci", "-metadata", "team=a",
                "-metadata=env=prod", "-use-limit=5", "-renewable=false",
                home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0, r
    t = table(r.out)
    assert t["token_duration"] == "1h" and t["token_renewable"] == "false", r
    assert t["token_policies"] == '["cli-a" "cli-b" "default"]', r
    assert t["token_meta_team"] == "a" and t["token_meta_env"] == "prod"
    info = lookup(dev, t["token"])
    assert sorted(info["policies"]) == ["cli-a", "cli-b", "default"]
    assert 3500 < info["ttl"] <= 3600 and info["explicit_max_ttl"] == 7200
    assert info["display_name"] == "token-ci" and info["num_uses"] == 5
    assert info["meta"] == {"team": "a", "env": "prod"} and info["renewable"] is False


def test_token_create_orphan_period_no_default_policy_field_and_json(coffer_bin, dev, home):
    r = run_cli(coffer_bin, "token", "create", "-orphan", "-period=30m", "-no-default-policy",
                "-policy=cli-x", "-field=token", home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0, r
    assert "\n" not in r.out and r.out.startswith("hvs."), repr(r.out)
    info = lookup(dev, r.out)
    assert info["orphan"] is True and info["period"] == 1800 and info["policies"] == ["cli-x"]

    r = run_cli(coffer_bin, "token", "create", "-format=json", "-ttl=10m",
                home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0, r
    auth = json.loads(r.out)["auth"]
    assert auth["client_token"] and auth["lease_duration"] == 600


def test_token_create_with_role_and_unsupported_type(coffer_bin, dev, home):
    r = dev.http("POST", "/v1/auth/token/roles/cli-role", token=dev.root_token,
                 json={"allowed_policies": ["cli-r"], "orphan": True})
    assert r.status_code in (200, 204), r.text
    r = run_cli(coffer_bin, "token", "create", "-role=cli-role", "-policy=cli-r", "-format=json",
                home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0, r
    token = json.loads(r.out)["auth"]["client_token"]
    info = lookup(dev, token)
    assert info["role"] == "cli-role" and info["orphan"] is True

    r = run_cli(coffer_bin, "token", "create", "-type=batch", home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 1 and "Error creating token" in r.err and "Code: 400" in r.err, r


def test_token_lookup_forms(coffer_bin, dev, home):
    auth = create_token(dev, policies=["default"], ttl="1h", display_name="look")
    r = run_cli(coffer_bin, "token", "lookup", home=home, addr=dev.url, token=auth["client_token"])
    assert r.rc == 0, r
    t = table(r.out)
    assert t["display_name"] == "token-look" and t["policies"] == "[default]", r
    assert t["creation_ttl"] == "1h", r

    r = run_cli(coffer_bin, "token", "lookup", auth["client_token"], home=home, addr=dev.url,
                token=dev.root_token)
    assert r.rc == 0 and table(r.out)["accessor"] == auth["accessor"], r

    r = run_cli(coffer_bin, "token", "lookup", "-accessor", "-format=json", auth["accessor"],
                home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0, r
    data = json.loads(r.out)["data"]
    assert data["accessor"] == auth["accessor"] and data["id"] == ""

    r = run_cli(coffer_bin, "token", "lookup", "-field=display_name", home=home, addr=dev.url,
                token=auth["client_token"])
    assert r.rc == 0 and r.out == "token-look", r

    r = run_cli(coffer_bin, "token", "lookup", "no-such-token", home=home, addr=dev.url,
                token=dev.root_token)
    assert r.rc == 1 and "Error looking up token" in r.err, r


def test_token_renew_forms(coffer_bin, dev, home):
    auth = create_token(dev, policies=["default"], ttl="10m", explicit_max_ttl="5h")
    r = run_cli(coffer_bin, "token", "renew", "-increment=2h", auth["client_token"],
                home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0, r
    assert table(r.out)["token_duration"] == "2h", r
    assert 7000 < lookup(dev, auth["client_token"])["ttl"] <= 7200

    r = run_cli(coffer_bin, "token", "renew", "-i=1h", home=home, addr=dev.url, token=auth["client_token"])
    assert r.rc == 0 and table(r.out)["token_duration"] == "1h", r

    r = run_cli(coffer_bin, "token", "renew", "-accessor", "-increment=30m", "-format=json", auth["accessor"],
                home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0 and json.loads(r.out)["auth"]["lease_duration"] == 1800, r

    fixed = create_token(dev, policies=["default"], ttl="10m", renewable=False)
    r = run_cli(coffer_bin, "token", "renew", fixed["client_token"], home=home, addr=dev.url,
                token=dev.root_token)
    assert r.rc == 1 and "Error renewing token" in r.err, r


def test_token_revoke_modes(coffer_bin, make_server, home):
    server = make_server("revoke", dev=True)
    addr, root = server.url, server.root_token
    say = "Success! Revoked token (if it existed)"
    put_policy(server, "creator", 'path "auth/token/create" { capabilities = ["create", "update"] }')

    parent = create_token(server, policies=["default", "creator"])
    child = create_token(server, token=parent["client_token"], policies=["default"])
    r = run_cli(coffer_bin, "token", "revoke", parent["client_token"], home=home, addr=addr, token=root)
    assert r.rc == 0 and r.out.strip() == say, r
    assert not token_alive(server, parent["client_token"]) and not token_alive(server, child["client_token"])

    parent = create_token(server, policies=["default", "creator"])
    child = create_token(server, token=parent["client_token"], policies=["default"])
    r = run_cli(coffer_bin, "token", "revoke", "-mode=orphan", parent["client_token"], home=home,
                addr=addr, token=root)
    assert r.rc == 0, r
    assert not token_alive(server, parent["client_token"]) and token_alive(server, child["client_token"])

    victim = create_token(server, policies=["default"])
    r = run_cli(coffer_bin, "token", "revoke", "-accessor", victim["accessor"], home=home, addr=addr, token=root)
    assert r.rc == 0 and not token_alive(server, victim["client_token"]), r

    me = create_token(server, policies=["default"])
    r = run_cli(coffer_bin, "token", "revoke", "-self", home=home, addr=addr, token=me["client_token"])
    assert r.rc == 0 and not token_alive(server, me["client_token"]), r


def test_token_revoke_mode_path(coffer_bin, make_server, home):
    server = make_server("revoke-path", dev=True)
    made = create_token(server, policies=["default"])
    other = create_token(server, path="auth/token/create-orphan", policies=["default"])
    r = run_cli(coffer_bin, "token", "revoke", "-mode=path", "auth/token/create", home=home,
                addr=server.url, token=server.root_token)
    assert r.rc == 0, r
    assert not token_alive(server, made["client_token"])
    assert token_alive(server, server.root_token)  # the root token has no lease
    assert token_alive(server, other["client_token"])  # created under another path


def test_token_capabilities(coffer_bin, dev, home):
    put_policy(dev, "cli-caps", 'path "secret/data/caps/*" { capabilities = ["read", "list"] }')
    auth = create_token(dev, policies=["cli-caps"])
    r = run_cli(coffer_bin, "token", "capabilities", "secret/data/caps/x", home=home, addr=dev.url,
                token=auth["client_token"])
    assert r.rc == 0 and r.out.strip() == "list, read", r
    r = run_cli(coffer_bin, "token", "capabilities", auth["client_token"], "secret/data/other",
                home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0 and r.out.strip() == "deny", r
    r = run_cli(coffer_bin, "token", "capabilities", "-accessor", "-format=json", auth["accessor"],
                "secret/data/caps/y", home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0 and sorted(json.loads(r.out)) == ["list", "read"], r
    r = run_cli(coffer_bin, "token", "capabilities", "sys/mounts", home=home, addr=dev.url, token=dev.root_token)
    assert r.rc == 0 and r.out.strip() == "root", r


# ---- TLS -------------------------------------------------------------------------------------

def make_ca_and_leaf(d: Path) -> tuple[Path, Path, Path]:
    """A CA, and a 127.0.0.1 server certificate it signed. Returns (ca, chain, key), where the
    chain file holds the leaf then the CA (the harness verifies the server against it)."""
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (d / n for n in ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem"))
    quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key),
                    "-out", str(ca), "-days", "1", "-subj", "/CN=Coffer Test CA",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"], **quiet)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", "/CN=127.0.0.1"], **quiet)
    ext = d / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
                    "-CAcreateserial", "-out", str(cert), "-days", "1", "-extfile", str(ext)], **quiet)
    chain = d / "chain.pem"
    chain.write_bytes(cert.read_bytes() + ca.read_bytes())
    return ca, chain, key


def test_tls_verification_with_a_generated_ca(coffer_bin, make_server, tmp_path, home):
    ca, cert, key = make_ca_and_leaf(tmp_path / "pki")
    server = Server(coffer_bin, tmp_path / "tls-srv", tls=(cert, key))
    try:
        server.start()
        init_and_unseal(server, shares=1, threshold=1, kv_mount=None)
        addr = server.url
        assert addr.startswith("https://")

        r = run_cli(coffer_bin, "status", home=home, addr=addr, env={"VAULT_CACERT": str(ca)})
        assert r.rc == 0 and table(r.out)["Sealed"] == "false", r

        r = run_cli(coffer_bin, "status", home=home, addr=addr)
        assert r.rc == 1, r
        assert len(r.err.strip().splitlines()) == 1 and "certificate" in r.err, r
        assert r.elapsed < 5

        capath = tmp_path / "cas"
        capath.mkdir()
        (capath / "only-ca.pem").write_bytes(ca.read_bytes())
        r = run_cli(coffer_bin, "status", home=home, addr=addr, env={"VAULT_CAPATH": str(capath)})
        assert r.rc == 0, r

        r = run_cli(coffer_bin, "status", "-ca-cert", str(ca), home=home, addr=addr)
        assert r.rc == 0, r
        r = run_cli(coffer_bin, "status", "-tls-skip-verify", home=home, addr=addr)
        assert r.rc == 0, r
        r = run_cli(coffer_bin, "status", home=home, addr=addr, env={"VAULT_SKIP_VERIFY": "true"})
        assert r.rc == 0, r
    finally:
        server.kill()


# ---- retries ---------------------------------------------------------------------------------

def test_retries_reach_a_server_that_starts_late(coffer_bin, tmp_path, home):
    server = Server(coffer_bin, tmp_path / "late", dev=True)
    proc = subprocess.Popen([str(coffer_bin), "token", "lookup", "-format=json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PATH": os.environ.get("PATH", ""), "HOME": str(home),
                                 "VAULT_ADDR": server.url, "VAULT_TOKEN": server.root_token,
                                 "VAULT_MAX_RETRIES": "6"})
    try:
        time.sleep(1.0)
        assert proc.poll() is None, "the CLI gave up before the server came up"
        server.start()
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert json.loads(out)["data"]["id"] == server.root_token
    finally:
        if proc.poll() is None:
            proc.kill()
        server.kill()


# ---- headers ---------------------------------------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):  # noqa: N802 (http.server naming)
        type(self).seen.append((self.command, self.path, dict(self.headers)))
        body = json.dumps({"data": {"id": "x", "policies": ["default"], "ttl": 0,
                                    "accessor": "acc"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_namespace_and_request_headers_are_sent(coffer_bin, home):
    _Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        addr = f"http://127.0.0.1:{httpd.server_address[1]}"
        r = run_cli(coffer_bin, "token", "lookup", home=home, addr=addr, token="s.header-check",
                    env={"VAULT_NAMESPACE": "team-a"})
        assert r.rc == 0, r
        r = run_cli(coffer_bin, "token", "lookup", "-namespace=team-b", home=home, addr=addr,
                    token="s.header-check")
        assert r.rc == 0, r
    finally:
        httpd.shutdown()
    assert len(_Recorder.seen) == 2
    (m1, p1, h1), (_, _, h2) = _Recorder.seen
    assert (m1, p1) == ("GET", "/v1/auth/token/lookup-self")
    assert h1.get("X-Vault-Namespace") == "team-a" and h2.get("X-Vault-Namespace") == "team-b"
    assert h1.get("X-Vault-Request") == "true"
    assert h1.get("X-Vault-Token") == "s.header-check"
