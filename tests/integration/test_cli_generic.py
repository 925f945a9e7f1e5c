"""The generic path commands (read, write, list, delete, patch), the global flags (-address,
-format, -field, -namespace, -output-curl-string, -tls-skip-verify, -ca-cert), the two
personalities (argv[0] `coffer` or `vault`), version/help/completion, and exit codes."""

from __future__ import annotations

import json
import re

import pytest

from cli_harness import Cli, cli, cli_bin, run_cli, vault_symlink_dir  # noqa: F401  (fixtures)
from coffer_harness import Server, free_port, init_and_unseal, mount_kv, unique


# ---- read / write / list / delete / patch ------------------------------------------------------

def test_write_read_list_delete_v1(cli, dev_server):
    mount = unique("gen")
    mount_kv(dev_server, mount, "1")
    out = cli.ok(["write", f"{mount}/app", "user=bob", "port=5432"])
    assert out == f"Success! Data written to: {mount}/app\n"
    out = cli.ok(["read", f"{mount}/app"])
    # KV v1 answers with a lease duration, which Vault's table shows as refresh_interval.
    assert out == ("Key                 Value\n---                 -----\n"
                   "refresh_interval    768h\nport                5432\nuser                bob\n")
    assert cli.ok(["read", "-field=user", f"{mount}/app"]) == "bob"
    doc = json.loads(cli.ok(["read", "-format=json", f"{mount}/app"]))
    assert doc["data"] == {"port": "5432", "user": "bob"}
    assert cli.ok(["read", "-format=yaml", f"{mount}/app"]).startswith("data:\n  port: \"5432\"\n  user: bob\n")
    assert cli.ok(["list", f"{mount}/"]) == "Keys\n----\napp\n"
    assert json.loads(cli.ok(["list", "-format=json", mount])) == ["app"]
    assert cli.ok(["delete", f"{mount}/app"]) == f"Success! Data deleted (if it existed) at: {mount}/app\n"
    assert cli.fails(["read", f"{mount}/app"], 1).strip() == f"No value found at {mount}/app"
    assert "No value found" in cli.fails(["list", f"{mount}/"], 1)


def test_write_and_read_kv2_api_paths(cli):
    key = unique("g2")
    # KV v2 takes a nested "data" object: give the body as JSON on stdin.
    out = cli.ok(["write", f"secret/data/{key}", "-"], stdin='{"data": {"a": "1"}}')
    assert re.search(r"^version\s+1$", out, re.M)
    assert cli.ok(["read", "-field=data", f"secret/data/{key}"]) == "map[a:1]"
    assert json.loads(cli.ok(["read", "-format=json", "-field=data", f"secret/data/{key}"])) == {"a": "1"}
    # patch: a JSON merge patch of the latest version
    cli.ok(["patch", f"secret/data/{key}", "-"], stdin='{"data": {"b": "2"}}')
    assert json.loads(cli.ok(["read", "-format=json", f"secret/data/{key}"]))["data"]["data"] == {"a": "1", "b": "2"}
    assert "Keys" in cli.ok(["list", "secret/metadata/"])


def test_write_value_sources(cli, dev_server, tmp_path):
    mount = unique("src")
    mount_kv(dev_server, mount, "1")
    f = tmp_path / "v.txt"
    f.write_text("from-file")
    cli.ok(["write", f"{mount}/a", f"f=@{f}", "s=-", "multi=1", "multi=2"], stdin="from-stdin")
    doc = json.loads(cli.ok(["read", "-format=json", f"{mount}/a"]))["data"]
    assert doc == {"f": "from-file", "s": "from-stdin", "multi": ["1", "2"]}
    j = tmp_path / "body.json"
    j.write_text('{"k": "v", "n": 1}')
    cli.ok(["write", f"{mount}/b", f"@{j}"])
    assert json.loads(cli.ok(["read", "-format=json", f"{mount}/b"]))["data"] == {"k": "v", "n": 1}


def test_write_requires_data_or_force(cli, dev_server):
    mount = unique("force")
    mount_kv(dev_server, mount, "1")
    assert cli.fails(["write", f"{mount}/x"], 2).strip() == "Must supply data or use -force"
    rc, out, err = cli.run(["write", "-force", f"{mount}/x"])
    assert rc in (0, 1)  # the engine decides whether an empty write is valid; the CLI sent it


def test_generic_bad_input(cli):
    for args, needle in [
        (["read"], "Not enough arguments (expected at least 1, got 0)"),
        (["list", "a", "b"], "Too many arguments (expected 1, got 2)"),
        (["write", "secret/x", "novalue"], "format must be key=value"),
        (["write", "secret/x", "a=@/definitely/not/here"], "/definitely/not/here"),
        (["write", "-bogus", "secret/x", "a=1"], "flag provided but not defined: -bogus"),
        (["delete"], "Not enough arguments"),
    ]:
        rc, out, err = cli.run(args)
        assert rc == 2, (args, rc, err)
        assert needle in err, (args, err)
        assert len(err.strip().splitlines()) == 1, (args, err)
    rc, out, err = cli.run(["write", "secret/x", "-"], stdin="not json at all")
    assert rc == 2 and "invalid JSON on stdin" in err


def test_unsupported_vault_flags_are_refused_not_ignored(cli):
    """-wrap-ttl and -tls-server-name exist in Vault; Coffer cannot honour them, so it says so."""
    for args, env, needle in [
        (["read", "-wrap-ttl=5m", "secret/data/x"], None, "-wrap-ttl"),
        (["read", "secret/data/x"], {"VAULT_WRAP_TTL": "5m"}, "-wrap-ttl"),
        (["read", "-tls-server-name=vault.example", "secret/data/x"], None, "-tls-server-name"),
    ]:
        rc, out, err = cli.run(args, env=env)
        assert rc == 2, (args, rc, err)
        assert needle in err and "not supported" in err, (args, err)
        assert out == ""


def test_server_errors_exit_1_with_server_message(cli):
    rc, out, err = cli.run(["write", "sys/mounts/bad path", "type=nonexistent-engine"])
    assert rc == 1
    assert err.startswith("Error writing data to sys/mounts/bad path: Error making API request.")
    assert "URL: PUT " in err and "Code: " in err


# ---- global flags ------------------------------------------------------------------------------

def test_address_flag_overrides_env(cli):
    env = {"VAULT_ADDR": "http://127.0.0.1:1"}
    rc, out, err = cli.run(["read", "sys/mounts"], env=env)
    assert rc == 1 and err.strip()
    out = cli.ok(["read", f"-address={cli.addr}", "-field=secret/", "sys/mounts"], env=env)
    assert "type:kv" in out


def test_connection_refused_is_exit_1(cli_bin, tmp_path):
    rc, out, err = run_cli(cli_bin, ["kv", "get", "secret/x"],
                           env={"VAULT_ADDR": f"http://127.0.0.1:{free_port()}", "VAULT_TOKEN": "t"}, home=tmp_path)
    assert rc == 1 and err.strip() and "t\n" not in err


def test_output_curl_string(cli):
    addr = cli.addr
    out = cli.ok(["read", "-output-curl-string", "secret/data/foo"])
    assert out == f'curl -H "X-Vault-Request: true" -H "X-Vault-Token: $(vault print token)" {addr}/v1/secret/data/foo\n'
    out = cli.ok(["write", "-output-curl-string", "sys/policies/acl/x", "policy=abc"])
    assert out.startswith("curl -X PUT ") and "-d '{\"policy\":\"abc\"}'" in out
    out = cli.ok(["list", "-output-curl-string", "-namespace=team/", "secret/metadata"])
    assert '-H "X-Vault-Namespace: team/"' in out and out.strip().endswith("/v1/secret/metadata?list=true")
    out = cli.ok(["kv", "get", "-output-curl-string", "secret/foo"])
    assert out.strip().endswith(f"{addr}/v1/secret/data/foo")
    assert cli.token not in out


def test_vault_format_env_and_invalid(cli):
    out = cli.ok(["read", "sys/mounts"], env={"VAULT_FORMAT": "json"})
    assert json.loads(out)["data"]["secret/"]["type"] == "kv"
    err = cli.fails(["read", "sys/mounts"], 2, env={"VAULT_FORMAT": "xml"})
    assert "Invalid output format: xml" in err


# ---- TLS flags ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_unsealed(coffer_bin, tmp_path_factory, tls_cert):
    server = Server(coffer_bin, tmp_path_factory.mktemp("cli-tls"), tls=tls_cert)
    try:
        server.start()
        yield init_and_unseal(server)
    finally:
        server.kill()


def test_tls_ca_cert_and_skip_verify(cli_bin, tls_unsealed, tls_cert, tmp_path):
    env = {"VAULT_ADDR": tls_unsealed.server.url, "VAULT_TOKEN": tls_unsealed.root_token}
    rc, out, err = run_cli(cli_bin, ["secrets", "list"], env=env, home=tmp_path)
    assert rc == 1 and "certificate" in err.lower()
    rc, out, err = run_cli(cli_bin, ["secrets", "list", f"-ca-cert={tls_cert[0]}"], env=env, home=tmp_path)
    assert rc == 0 and "secret/" in out, err
    rc, out, err = run_cli(cli_bin, ["secrets", "list", "-tls-skip-verify"], env=env, home=tmp_path)
    assert rc == 0 and "secret/" in out, err
    rc, out, err = run_cli(cli_bin, ["secrets", "list"], env={**env, "VAULT_CACERT": str(tls_cert[0])}, home=tmp_path)
    assert rc == 0, err


# ---- personalities, version, help, completion ---------------------------------------------------

def test_versions(cli_bin, tmp_path):
    for args in (["version"], ["-version"], ["--version"], ["-v"]):
        rc, out, err = run_cli(cli_bin, args, argv0="vault", home=tmp_path)
        assert rc == 0 and re.fullmatch(r"Vault v1\.15\.0 \(coffer \d+\.\d+\.\d+\)\n", out), (args, out)
    rc, out, err = run_cli(cli_bin, ["version"], home=tmp_path)
    assert rc == 0 and re.fullmatch(r"Coffer v\d+\.\d+\.\d+ \(Vault API 1\.15\.0\)\n", out)
    rc, out, err = run_cli(cli_bin, ["--version"], home=tmp_path)
    assert rc == 0 and out.startswith("Coffer v")


def test_top_level_help_and_unknown_commands(cli_bin, tmp_path):
    rc, out, err = run_cli(cli_bin, ["-h"], home=tmp_path)
    assert rc == 0 and out.startswith("Usage: coffer <command> [args]")
    assert "Common commands:" in out and re.search(r"^    kv\s+Interact with the key-value store$", out, re.M)
    assert "completion" in out
    rc, out, err = run_cli(cli_bin, ["-h"], argv0="vault", home=tmp_path)
    assert rc == 0 and out.startswith("Usage: vault <command> [args]")
    assert "completion" not in out and "__complete" not in out
    rc, out, err = run_cli(cli_bin, ["sever"], home=tmp_path)
    assert rc == 2 and 'Did you mean "server"?' in err
    rc, out, err = run_cli(cli_bin, ["polcy", "list"], argv0="vault", home=tmp_path)
    assert rc == 2 and 'Did you mean "policy"?' in err and "vault -h" in err
    rc, out, err = run_cli(cli_bin, ["completion", "bash"], argv0="vault", home=tmp_path)
    assert rc == 2


@pytest.mark.parametrize("cmd", [
    ["read"], ["write"], ["list"], ["delete"], ["patch"], ["kv", "put"], ["kv", "patch"], ["kv", "delete"],
    ["kv", "undelete"], ["kv", "destroy"], ["kv", "rollback"], ["kv", "list"], ["kv", "enable-versioning"], ["kv", "metadata", "put"],
    ["kv", "metadata", "patch"], ["kv", "metadata", "delete"], ["secrets", "enable"], ["secrets", "disable"],
    ["secrets", "list"], ["secrets", "tune"], ["secrets", "move"], ["policy", "list"], ["policy", "read"],
    ["policy", "write"], ["policy", "delete"], ["policy", "fmt"], ["server"], ["version"],
])
def test_every_command_has_help(cli_bin, tmp_path, cmd):
    for flag in ("-h", "--help", "-help"):
        rc, out, err = run_cli(cli_bin, [*cmd, flag], argv0="vault", home=tmp_path)
        assert rc == 0, (cmd, flag, err)
        assert out.startswith("Usage: vault " + " ".join(cmd)), (cmd, out[:80])


def test_completion(cli_bin, tmp_path):
    rc, out, err = run_cli(cli_bin, ["completion", "bash"], home=tmp_path)
    assert rc == 0 and "complete -o default -F _coffer_complete coffer" in out
    rc, out, err = run_cli(cli_bin, ["completion", "zsh"], home=tmp_path)
    assert rc == 0 and "compdef _coffer_complete coffer" in out
    rc, out, err = run_cli(cli_bin, ["completion", "fish"], home=tmp_path)
    assert rc == 2 and "fish" in err
    rc, out, err = run_cli(cli_bin, ["__complete", "kv", "metadata"], home=tmp_path)
    assert out.split() == ["delete", "get", "patch", "put"]
    rc, out, err = run_cli(cli_bin, ["__complete", "kv", "get"], home=tmp_path)
    assert "-mount" in out.split() and "-version" in out.split()
    # The bash script really completes through the binary.
    script = tmp_path / "c.sh"
    script.write_text(out := run_cli(cli_bin, ["completion", "bash"], home=tmp_path)[1])
    probe = (f'source {script}; COMP_WORDS=(coffer kv met); COMP_CWORD=2; _coffer_complete; '
             'echo "${COMPREPLY[@]}"')
    import subprocess
    env = {"PATH": f"{cli_bin.parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=30)
    assert res.stdout.strip() == "metadata", res.stderr


def test_vault_server_personality(cli_bin, tmp_path):
    """`vault server -dev` starts the server exactly like `coffer server -dev`."""
    vault = vault_symlink_dir(cli_bin) / "vault"
    server = Server(vault, tmp_path / "vault-dev", dev=True)
    try:
        server.start()
        rc, out, err = run_cli(cli_bin, ["kv", "put", "secret/v", "a=1"], argv0="vault", home=tmp_path,
                               env={"VAULT_ADDR": server.url, "VAULT_TOKEN": server.root_token})
        assert rc == 0, err
    finally:
        server.kill()
    rc, out, err = run_cli(cli_bin, ["server", "-bogus"], argv0="vault", home=tmp_path)
    assert rc == 2 and "flag provided but not defined: -bogus" in err
