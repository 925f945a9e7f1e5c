"""`secrets enable|disable|list|tune|move` and `policy list|read|write|delete|fmt` end to end."""

from __future__ import annotations

import json
import re

from cli_harness import Cli, cli, cli_bin, run_cli  # noqa: F401  (fixtures)
from coffer_harness import unique


def mounts(cli: Cli) -> dict:
    return json.loads(cli.ok(["secrets", "list", "-format=json"]))


# ---- secrets -----------------------------------------------------------------------------------

def test_enable_list_tune_move_disable(cli, dev_server):
    path = unique("eng")
    out = cli.ok(["secrets", "enable", f"-path={path}", "-version=2", "-description=Team A", "kv"])
    assert out == f"Success! Enabled the kv secrets engine at: {path}/\n"
    m = mounts(cli)[f"{path}/"]
    assert m["type"] == "kv" and m["options"]["version"] == "2" and m["description"] == "Team A"

    table = cli.ok(["secrets", "list"])
    lines = table.splitlines()
    assert lines[0].split() == ["Path", "Type", "Accessor", "Description"]
    assert lines[1].split() == ["----", "----", "--------", "-----------"]
    assert re.search(rf"^{path}/\s+kv\s+\S+\s+Team A$", table, re.M)
    assert re.search(r"^secret/\s+kv\s+", table, re.M)

    detailed = cli.ok(["secrets", "list", "-detailed"])
    assert detailed.splitlines()[0].split()[:4] == ["Path", "Plugin", "Accessor", "Default"]
    assert re.search(rf"^{path}/\s+kv\s+\S+\s+system\s+system\s+false\s+replicated\s+false\s+false\s+map\[version:2\]",
                     detailed, re.M)

    out = cli.ok(["secrets", "tune", "-default-lease-ttl=30m", "-max-lease-ttl=2h", "-description=Tuned", f"{path}/"])
    assert out == f"Success! Tuned the secrets engine at: {path}/\n"
    tune = dev_server.http("GET", f"/v1/sys/mounts/{path}/tune", token=dev_server.root_token).json()
    assert tune["default_lease_ttl"] == 1800 and tune["max_lease_ttl"] == 7200
    assert mounts(cli)[f"{path}/"]["description"] == "Tuned"

    cli.ok(["kv", "put", f"{path}/app", "a=1"])
    moved = unique("moved")
    out = cli.ok(["secrets", "move", path, f"{moved}/"])
    assert f"Success! Finished moving secrets engine {path}/ to {moved}/" in out
    assert cli.ok(["kv", "get", "-field=a", f"{moved}/app"]) == "1"
    assert f"{path}/" not in mounts(cli)

    out = cli.ok(["secrets", "disable", moved])
    assert out == f"Success! Disabled the secrets engine (if it existed) at: {moved}/\n"
    assert f"{moved}/" not in mounts(cli)


def test_enable_kv_v2_alias_and_options(cli):
    a, b = unique("kvv2"), unique("opt")
    cli.ok(["secrets", "enable", f"-path={a}", "kv-v2"])
    cli.ok(["secrets", "enable", f"-path={b}", "-options=version=2", "kv"])
    m = mounts(cli)
    assert m[f"{a}/"]["options"]["version"] == "2" and m[f"{b}/"]["options"]["version"] == "2"
    # kv commands detect the version of the new mounts
    cli.ok(["kv", "put", f"{a}/x", "k=v"])
    assert "Secret Path" in cli.ok(["kv", "get", f"{a}/x"])


def test_enable_default_path_is_type(cli):
    path = unique("kvdefault")
    cli.ok(["secrets", "enable", f"-path={path}", "kv"])
    assert mounts(cli)[f"{path}/"]["type"] == "kv"


def test_secrets_errors(cli):
    path = unique("dup")
    cli.ok(["secrets", "enable", f"-path={path}", "kv"])
    err = cli.fails(["secrets", "enable", f"-path={path}", "kv"], 1)
    assert err.startswith("Error enabling: Error making API request.")
    for args, needle in [
        (["secrets", "enable"], "Not enough arguments"),
        (["secrets", "enable", "-default-lease-ttl=soon", "kv"], "invalid value \"soon\" for flag -default-lease-ttl"),
        (["secrets", "enable", "-options=noequals", "kv"], "-options"),
        (["secrets", "tune", "-max-lease-ttl=1h"], "Not enough arguments"),
        (["secrets", "move", "a/"], "Not enough arguments (expected 2, got 1)"),
        (["secrets", "list", "extra"], "Too many arguments"),
        (["secrets", "disable", "-nope", "x"], "flag provided but not defined: -nope"),
        # Vault's flags the server does not implement are refused, never silently dropped.
        (["secrets", "enable", "-audit-non-hmac-request-keys=a", "kv"], "-audit-non-hmac-request-keys is not supported"),
        (["secrets", "enable", "-passthrough-request-headers=X-A", "kv"],
         "-passthrough-request-headers is not supported by Coffer's secrets engines"),
        (["secrets", "tune", "-allowed-response-headers=X-B", f"{path}/"], "-allowed-response-headers is not supported"),
        (["secrets", "enable", "-listing-visibility=unauth", "kv"], "-listing-visibility=unauth is not supported"),
    ]:
        rc, out, err = cli.run(args)
        assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1, (args, rc, err)
    assert "Error" in cli.fails(["secrets", "tune", "-max-lease-ttl=1h", f"{unique('nomount')}/"], 1)
    # "hidden" is what the server does anyway: accepted.
    cli.ok(["secrets", "enable", f"-path={unique('hidden')}", "-listing-visibility=hidden", "kv"])


# ---- policy ------------------------------------------------------------------------------------

POLICY = 'path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}\n'


def test_policy_write_read_list_delete(cli, tmp_path):
    name = unique("pol")
    f = tmp_path / "p.hcl"
    f.write_text(POLICY)
    assert cli.ok(["policy", "write", name, str(f)]) == f"Success! Uploaded policy: {name}\n"
    assert cli.ok(["policy", "read", name]) == POLICY.strip() + "\n"
    assert json.loads(cli.ok(["policy", "read", "-format=json", name])) == {"policy": POLICY}

    listed = cli.ok(["policy", "list"]).splitlines()
    assert name in listed and "default" in listed and "root" in listed
    assert name in json.loads(cli.ok(["policy", "list", "-format=json"]))

    other = unique("stdin")
    assert cli.ok(["policy", "write", other.upper(), "-"], stdin=POLICY) == f"Success! Uploaded policy: {other}\n"
    assert cli.ok(["policy", "read", other]).startswith('path "secret/data/app/*"')

    assert cli.ok(["policy", "delete", name]) == f"Success! Deleted policy: {name}\n"
    assert cli.fails(["policy", "read", name], 1).strip() == f"No policy named: {name}"


def test_policy_errors(cli, tmp_path):
    name = unique("bad")
    bad = tmp_path / "bad.hcl"
    bad.write_text('path "x" {\n  capabilities = ["fly"]\n}\n')
    err = cli.fails(["policy", "write", name, str(bad)], 1)
    assert err.startswith("Error uploading policy: Error making API request.") and "fly" in err
    for args, needle in [
        (["policy", "write", name, "/no/such/policy.hcl"], "/no/such/policy.hcl"),
        (["policy", "write", name, str(tmp_path)], "is a directory"),
        (["policy", "write", name], "Not enough arguments (expected 2, got 1)"),
        (["policy", "read"], "Not enough arguments"),
        (["policy", "fmt"], "Not enough arguments"),
    ]:
        rc, out, err = cli.run(args)
        assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1, (args, rc, err)
    rc, out, err = cli.run(["policy", "write", name, "-"], stdin="   \n")
    assert rc == 2 and "empty" in err
    err = cli.fails(["policy", "delete", "root"], 1)
    assert "Error deleting root" in err


def test_policy_fmt(cli_bin, tmp_path):
    f = tmp_path / "messy.hcl"
    f.write_text('# comment kept\n\n\n\npath "secret/*"   {\ncapabilities=["read"]\n  max_wrapping_ttl   =   "1h"\n}\n\n')
    rc, out, err = run_cli(cli_bin, ["policy", "fmt", str(f)], home=tmp_path)
    assert rc == 0, err
    assert out == f"Success! Formatted policy: {f}\n"
    assert f.read_text() == ('# comment kept\n\npath "secret/*" {\n  capabilities     = ["read"]\n'
                             '  max_wrapping_ttl = "1h"\n}\n')
    before = f.read_text()
    assert run_cli(cli_bin, ["policy", "fmt", str(f)], home=tmp_path)[0] == 0
    assert f.read_text() == before  # idempotent

    broken = tmp_path / "broken.hcl"
    broken.write_text('path "x" {\n  capabilities = ["read"\n')
    rc, out, err = run_cli(cli_bin, ["policy", "fmt", str(broken)], home=tmp_path)
    assert rc == 2 and err.startswith("Failed to parse policy:") and len(err.strip().splitlines()) == 1
    assert broken.read_text() == 'path "x" {\n  capabilities = ["read"\n'
    rc, out, err = run_cli(cli_bin, ["policy", "fmt", str(tmp_path / "missing.hcl")], home=tmp_path)
    assert rc == 2 and "missing.hcl" in err


def test_policy_as_restricted_token(cli, dev_server, tmp_path):
    """A token holding only the new policy can read what it grants and nothing else."""
    name = unique("ro")
    cli.ok(["policy", "write", name, "-"], stdin='path "secret/data/ro/*" { capabilities = ["read"] }\n')
    cli.ok(["kv", "put", "secret/ro/app", "a=1"])
    token = dev_server.http("POST", "/v1/auth/token/create", token=dev_server.root_token,
                            json={"policies": [name]}).json()["auth"]["client_token"]
    assert cli.ok(["kv", "get", "-mount=secret", "-field=a", "ro/app"], env={"VAULT_TOKEN": token}) == "1"
    rc, out, err = cli.run(["kv", "put", "-mount=secret", "ro/app", "a=2"], env={"VAULT_TOKEN": token})
    assert rc == 1 and "permission denied" in err and token not in err
