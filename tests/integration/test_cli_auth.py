"""`auth enable|disable|list|tune|help` and `login -method=userpass` end to end, through the real
`coffer` CLI (and its `vault` personality) against a real dev server."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import stat
import subprocess
import termios
import time

from cli_harness import Cli, cli, cli_bin, run_cli  # noqa: F401  (fixtures)
from coffer_harness import unique


def auths(cli: Cli) -> dict:
    return json.loads(cli.ok(["auth", "list", "-format=json"]))


def table(text: str) -> dict:
    """A Key/Value table as a dict."""
    rows = {}
    for line in text.splitlines():
        parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        if len(parts) == 2 and not set(parts[0]) <= {"-"} and parts[0] != "Key":
            rows[parts[0]] = parts[1]
    return rows


def make_user(cli: Cli, dev_server, mount: str, policies: str = "default") -> tuple[str, str]:
    user, password = unique("user"), unique("Pass")
    r = dev_server.http("POST", f"/v1/auth/{mount}/users/{user}", token=dev_server.root_token,
                        json={"password": password, "token_policies": policies})
    assert r.status_code in (200, 204), r.text
    return user, password


# ---- auth enable / list / tune / disable -------------------------------------------------------

def test_enable_list_tune_disable_round_trip(cli, dev_server):
    path = unique("up")
    out = cli.ok(["auth", "enable", f"-path={path}", "-description=People", "-default-lease-ttl=20m",
                  "-max-lease-ttl=1h", "userpass"])
    assert out == f"Success! Enabled userpass auth method at: {path}/\n"

    m = auths(cli)[f"{path}/"]
    assert m["type"] == "userpass" and m["description"] == "People"
    assert m["config"]["default_lease_ttl"] == 1200 and m["config"]["max_lease_ttl"] == 3600
    assert m["accessor"].startswith("auth_userpass_")
    assert "token/" in auths(cli)

    lines = cli.ok(["auth", "list"]).splitlines()
    assert lines[0].split() == ["Path", "Type", "Accessor", "Description", "Version"]
    assert lines[1].split() == ["----", "----", "--------", "-----------", "-------"]
    assert any(re.match(rf"^{path}/\s+userpass\s+auth_userpass_\S+\s+People\s+n/a$", line) for line in lines), lines
    assert any(re.match(r"^token/\s+token\s+auth_token_\S+", line) for line in lines), lines

    detailed = cli.ok(["auth", "list", "-detailed"])
    assert detailed.splitlines()[0].split()[:5] == ["Path", "Plugin", "Accessor", "Default", "TTL"]
    assert re.search(rf"^{path}/\s+userpass\s+\S+\s+1200\s+3600\s+default-service\s+replicated\s+false\s+false\s+map\[\]"
                     r"\s+People", detailed, re.M), detailed

    yaml = cli.ok(["auth", "list", "-format=yaml"])
    assert re.search(rf"^{path}/:\n(  .*\n)*  type: userpass$", yaml, re.M), yaml

    out = cli.ok(["auth", "tune", "-default-lease-ttl=30m", "-max-lease-ttl=2h", "-description=Tuned",
                  "-options=k=v", f"{path}/"])
    assert out == f"Success! Tuned the auth method at: {path}/\n"
    tune = dev_server.http("GET", f"/v1/sys/auth/{path}/tune", token=dev_server.root_token).json()
    assert tune["default_lease_ttl"] == 1800 and tune["max_lease_ttl"] == 7200
    m = auths(cli)[f"{path}/"]
    assert m["description"] == "Tuned" and m["options"] == {"k": "v"}

    out = cli.ok(["auth", "disable", path])
    assert out == f"Success! Disabled the auth method (if it existed) at: {path}/\n"
    assert f"{path}/" not in auths(cli)
    # Disabling what is not there succeeds, as in Vault.
    cli.ok(["auth", "disable", f"{path}/"])


def test_enable_defaults_path_to_type_local_and_seal_wrap(cli):
    path = unique("up-local")
    cli.ok(["auth", "enable", f"-path={path}", "-local", "-seal-wrap", "userpass"])
    m = auths(cli)[f"{path}/"]
    assert m["local"] is True and m["seal_wrap"] is True
    assert re.search(rf"^{path}/\s+userpass\s+\S+\s+system\s+system\s+default-service\s+local\s+true",
                     cli.ok(["auth", "list", "-detailed"]), re.M)
    cli.ok(["auth", "disable", path])

    # Without -path the method lands at its type.
    if "userpass/" not in auths(cli):
        assert cli.ok(["auth", "enable", "userpass"]) == "Success! Enabled userpass auth method at: userpass/\n"
        assert auths(cli)["userpass/"]["type"] == "userpass"
        cli.ok(["auth", "disable", "userpass"])


def test_errors(cli):
    path = unique("dup")
    cli.ok(["auth", "enable", f"-path={path}", "userpass"])
    err = cli.fails(["auth", "enable", f"-path={path}", "userpass"], 1)
    assert err.startswith("Error enabling userpass auth: Error making API request."), err

    err = cli.fails(["auth", "enable", f"-path={unique('x')}", "no-such-method"], 1)
    assert err.startswith("Error enabling no-such-method auth: "), err
    assert "no-such-method" in err

    for args, needle in [
        (["auth", "enable"], "Not enough arguments (expected 1, got 0)"),
        (["auth", "enable", "a", "b"], "Too many arguments (expected 1, got 2)"),
        (["auth", "disable"], "Not enough arguments"),
        (["auth", "tune"], "Not enough arguments"),
        (["auth", "help"], "Not enough arguments"),
        (["auth", "list", "extra"], "Too many arguments"),
        (["auth", "enable", "-default-lease-ttl=soon", "userpass"], "invalid value \"soon\" for flag -default-lease-ttl"),
        (["auth", "enable", "-options=noequals", "userpass"], "-options"),
        (["auth", "enable", "-audit-non-hmac-request-keys=a", "userpass"], "-audit-non-hmac-request-keys is not supported"),
        (["auth", "tune", "-audit-non-hmac-response-keys=a", f"{path}/"], "-audit-non-hmac-response-keys is not supported"),
        (["auth", "enable", "-listing-visibility=unauth", "userpass"], "-listing-visibility=unauth is not supported"),
        (["auth", "enable", "-listing-visibility=loud", "userpass"], "Invalid -listing-visibility \"loud\""),
        (["auth", "nope"], "Unknown command \"auth nope\""),
    ]:
        rc, out, err = cli.run(args)
        assert rc == 2, (args, rc, out, err)
        assert needle in err, (args, err)
        assert len(err.strip().splitlines()) == 1 or args == ["auth", "nope"], (args, err)

    # -listing-visibility=hidden is the server's behaviour already: accepted.
    p2 = unique("hidden")
    cli.ok(["auth", "enable", f"-path={p2}", "-listing-visibility=hidden", "userpass"])
    err = cli.fails(["auth", "tune", "-default-lease-ttl=1h", f"{unique('missing')}/"], 1)
    assert err.startswith("Error tuning auth method "), err


def test_group_and_command_help(cli):
    rc, out, err = cli.run(["auth"])
    assert rc == 2 and "Usage: coffer auth <subcommand>" in err
    for sub in ("enable", "disable", "list", "tune", "help"):
        assert re.search(rf"^\s+{sub}\s", err, re.M), err
    out = cli.ok(["auth", "-h"])
    assert out.startswith("Usage: coffer auth <subcommand>")
    for sub, usage in [("enable", "auth enable [options] TYPE"), ("disable", "auth disable [options] PATH"),
                       ("list", "auth list [options]"), ("tune", "auth tune [options] PATH"),
                       ("help", "auth help [options] TYPE | PATH")]:
        assert f"Usage: coffer {usage}" in cli.ok(["auth", sub, "-h"])
    assert "-default-lease-ttl" in cli.ok(["auth", "enable", "-h"])


def test_auth_help_for_types_and_paths(cli):
    out = cli.ok(["auth", "help", "userpass"])
    assert out.startswith("Usage: coffer login -method=userpass") and "password=<string>" in out
    assert cli.ok(["auth", "help", "token"]).startswith("Usage: coffer login TOKEN")
    path = unique("up-help")
    cli.ok(["auth", "enable", f"-path={path}", "userpass"])
    assert cli.ok(["auth", "help", f"{path}/"]).startswith("Usage: coffer login -method=userpass")
    err = cli.fails(["auth", "help", "nothing-here"], 1)
    assert err == "No auth method available on the server at \"nothing-here/\"\n"


def test_list_tune_help_of_the_token_method(cli):
    """Needs no auth method registered: the built-in token/ mount."""
    lines = cli.ok(["auth", "list"], argv0="vault").splitlines()
    assert lines[0].split() == ["Path", "Type", "Accessor", "Description", "Version"]
    assert any(re.match(r"^token/\s+token\s+auth_token_\S+\s+token based credentials\s+n/a$", line)
               for line in lines), lines
    assert auths(cli)["token/"]["config"]["token_type"] == "default-service"
    assert re.search(r"^token/\s+token\s+\S+\s+system\s+system\s+default-service\s+replicated\s+false\s+false\s+map\[\]",
                     cli.ok(["auth", "list", "-detailed"]), re.M)
    assert cli.ok(["auth", "tune", "-description=Tokens", "token/"]) == "Success! Tuned the auth method at: token/\n"
    assert auths(cli)["token/"]["description"] == "Tokens"
    cli.ok(["auth", "tune", "-description=token based credentials", "token"])
    assert cli.ok(["auth", "help", "token/"], argv0="vault").startswith("Usage: vault login TOKEN")
    assert cli.fails(["auth", "help", "nothing-here"], 1) == "No auth method available on the server at \"nothing-here/\"\n"
    err = cli.fails(["auth", "enable", f"-path={unique('x')}", "no-such-method"], 1)
    assert err.startswith("Error enabling no-such-method auth: Error making API request."), err
    assert cli.ok(["auth", "disable", unique("absent")]).startswith("Success! Disabled the auth method (if it existed)")


def test_login_unknown_method_and_missing_username(cli):
    err = cli.fails(["login", "-method=github", "x"], 2)
    assert err.startswith("Unknown auth method: github. Use \"coffer auth list\" to see the complete list")
    err = cli.fails(["login", "-method=github", "x"], 2, argv0="vault")
    assert "Use \"vault auth list\"" in err
    assert cli.fails(["login", "-method=userpass", "password=x"], 2) == \
        "Error authenticating: 'username' must be specified\n"


# ---- login -method=userpass --------------------------------------------------------------------

def test_userpass_login_stores_a_working_token(cli, dev_server, tmp_path):
    path = unique("up-login")
    cli.ok(["auth", "enable", f"-path={path}", "userpass"])
    user, password = make_user(cli, dev_server, path, policies="default,reader")
    home = tmp_path / "home"
    home.mkdir()

    rc, out, err = run_cli(cli.binary, ["login", "-method=userpass", f"-path={path}", f"username={user}",
                                        f"password={password}"],
                           env={"VAULT_ADDR": cli.addr}, home=home)
    assert rc == 0, (out, err)
    assert out.startswith("Success! You are now authenticated.")
    t = table(out)
    assert list(t)[:8] == ["token", "token_accessor", "token_duration", "token_renewable", "token_policies",
                           "identity_policies", "policies", "token_meta_username"], t
    assert t["token_meta_username"] == user and t["token_renewable"] == "true"
    assert t["token_policies"] == '["default" "reader"]', t
    assert password not in out + err
    token_file = home / ".vault-token"
    assert token_file.read_text() == t["token"]
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600

    # The stored token works for later commands.
    rc, out, err = run_cli(cli.binary, ["token", "lookup", "-format=json"], env={"VAULT_ADDR": cli.addr}, home=home)
    assert rc == 0, err
    data = json.loads(out)["data"]
    assert data["id"] == t["token"] and data["meta"]["username"] == user and data["path"].startswith(f"auth/{path}/login")

    # -format=json, -field, -token-only, -no-store; VAULT_TOKEN set does not leak into the login.
    out = cli.ok(["login", "-method=userpass", f"-path={path}", "-no-store", "-format=json", f"username={user}",
                  f"password={password}"])
    assert json.loads(out)["auth"]["metadata"]["username"] == user
    out = cli.ok(["login", "-method=userpass", f"-path={path}", "-token-only", f"username={user}",
                  f"password={password}"])
    assert out.startswith("hvs.") or len(out) > 20
    assert "\n" not in out
    out = cli.ok(["login", "-method=userpass", f"-path={path}", "-no-store", "-field=token_policies",
                  f"username={user}", f"password={password}"])
    assert "reader" in out


def test_userpass_login_errors(cli, dev_server):
    path = unique("up-err")
    cli.ok(["auth", "enable", f"-path={path}", "userpass"])
    user, password = make_user(cli, dev_server, path)
    err = cli.fails(["login", "-method=userpass", f"-path={path}", "-no-store", f"username={user}",
                     "password=wrong-" + password], 1)
    assert err.startswith("Error authenticating: "), err
    assert "wrong-" + password not in err
    err = cli.fails(["login", "-method=userpass", f"-path={path}", "password=x"], 2)
    assert err == "Error authenticating: 'username' must be specified\n"
    err = cli.fails(["login", "-method=userpass", "-non-interactive", f"-path={path}", f"username={user}"], 2)
    assert "refusing to pull from stdin" in err


def test_userpass_password_from_stdin_and_pty_prompt(cli, dev_server, tmp_path):
    path = unique("up-pty")
    cli.ok(["auth", "enable", f"-path={path}", "userpass"])
    user, password = make_user(cli, dev_server, path)

    # stdin not a terminal: the first line, no prompt text.
    rc, out, err = cli.run(["login", "-method=userpass", f"-path={path}", "-no-store", f"username={user}"],
                           stdin=password + "\n")
    assert rc == 0, err
    assert "Password (will be hidden)" not in out + err and password not in out + err

    # A terminal: the prompt on stderr, echo off, as `vault` (argv0 symlink).
    home = tmp_path / "pty-home"
    home.mkdir()
    master, slave = pty.openpty()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "VAULT_ADDR": cli.addr}
    exe = str(cli_bin_dir(cli) / "vault")
    proc = subprocess.Popen([exe, "login", "-method=userpass", f"-path={path}", f"username={user}"],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    shown = b""
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and termios.tcgetattr(master)[3] & termios.ECHO:
            time.sleep(0.02)
        assert not termios.tcgetattr(master)[3] & termios.ECHO, "echo was never turned off"
        os.write(master, password.encode() + b"\n")
        out, err = proc.communicate(timeout=30)
        while select.select([master], [], [], 0.2)[0]:
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
    text = (shown + out + err).decode(errors="replace")
    assert proc.returncode == 0, text
    assert "Password (will be hidden): " in err.decode()
    assert password not in text, "the password was echoed"
    assert "Future Vault requests will automatically use this token." in out.decode().replace("\n", " ")
    assert (home / ".vault-token").read_text() == table(out.decode())["token"]


def cli_bin_dir(cli: Cli):
    from cli_harness import vault_symlink_dir
    return vault_symlink_dir(cli.binary)


# ---- write auth/<approle>/login renders the auth block ------------------------------------------

def test_write_approle_login_renders_the_auth_block(cli, dev_server):
    path = unique("ar")
    cli.ok(["auth", "enable", f"-path={path}", "approle"], argv0="vault")
    cli.ok(["write", f"auth/{path}/role/ci", "token_policies=default", "token_ttl=20m"])
    role_id = cli.ok(["read", "-field=role_id", f"auth/{path}/role/ci/role-id"])
    secret_id = cli.ok(["write", "-f", "-field=secret_id", f"auth/{path}/role/ci/secret-id"])
    out = cli.ok(["write", f"auth/{path}/login", f"role_id={role_id}", f"secret_id={secret_id}"], argv0="vault")
    t = table(out)
    assert list(t)[:7] == ["token", "token_accessor", "token_duration", "token_renewable", "token_policies",
                           "identity_policies", "policies"], out
    assert t["token_duration"] == "20m" and t["token_meta_role_name"] == "ci"
    j = json.loads(cli.ok(["write", "-format=json", f"auth/{path}/login", f"role_id={role_id}",
                           f"secret_id={secret_id}"]))
    assert j["auth"]["client_token"] and j["auth"]["metadata"]["role_name"] == "ci"
    assert cli.ok(["auth", "list"], argv0="vault").count(f"{path}/") == 1
