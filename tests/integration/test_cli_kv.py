"""`coffer kv ...` end to end against a dev server: KV v2 (secret/) and KV v1 mounts, Vault's
table/json/yaml output, -field, -mount, versions, CAS, patch methods, delete/undelete/destroy,
rollback, metadata, stdin and @file data, and the exit codes for bad input."""

from __future__ import annotations

import json
import re

import pytest

from cli_harness import Cli, cli, cli_bin  # noqa: F401  (fixtures)
from coffer_harness import mount_kv, unique

TS = r"\d{4}-\d{2}-\d{2}T[0-9:.]+Z"


def meta(cli: Cli, path: str) -> dict:
    return json.loads(cli.ok(["kv", "metadata", "get", "-format=json", path]))["data"]


# ---- put / get ---------------------------------------------------------------------------------

def test_put_then_get_table_layout(cli):
    key = unique("app")
    out = cli.ok(["kv", "put", f"secret/{key}", "user=alice", "pass=s3cr3t"])
    path = f"secret/data/{key}"
    lines = out.splitlines()
    assert re.fullmatch(r"=+ Secret Path =+", lines[0]) and lines[1] == path and lines[2] == ""
    assert lines[3] == "======= Metadata ======="
    assert lines[4].split() == ["Key", "Value"] and lines[5].split() == ["---", "-----"]
    assert re.search(r"^version\s+1$", out, re.M)

    out = cli.ok(["kv", "get", f"secret/{key}"])
    assert "== Secret Path ==" in out or "= Secret Path =" in out
    assert "======= Metadata =======" in out
    assert re.search(rf"^created_time\s+{TS}$", out, re.M)
    assert re.search(r"^custom_metadata\s+<nil>$", out, re.M)
    assert re.search(r"^deletion_time\s+n/a$", out, re.M)
    assert re.search(r"^destroyed\s+false$", out, re.M)
    assert "==== Data ====" in out
    data_part = out.split("==== Data ====\n", 1)[1]
    assert data_part == "Key     Value\n---     -----\npass    s3cr3t\nuser    alice\n"


def test_get_field_has_no_trailing_newline(cli):
    key = unique("f")
    cli.ok(["kv", "put", f"secret/{key}", "password=hunter2", "n=5"])
    assert cli.ok(["kv", "get", "-field=password", f"secret/{key}"]) == "hunter2"
    assert cli.ok(["kv", "get", "-field=n", f"secret/{key}"]) == "5"
    err = cli.fails(["kv", "get", "-field=nope", f"secret/{key}"], 1)
    assert 'Field "nope" not present in secret' in err


def test_get_json_is_the_api_response(cli, dev_server):
    key = unique("j")
    cli.ok(["kv", "put", f"secret/{key}", "a=1"])
    out = cli.ok(["kv", "get", "-format=json", f"secret/{key}"])
    doc = json.loads(out)
    assert doc["data"]["data"] == {"a": "1"}
    assert doc["data"]["metadata"]["version"] == 1
    # Vault's api.Secret field order and two-space indentation.
    assert list(doc)[:6] == ["request_id", "lease_id", "lease_duration", "renewable", "data", "warnings"]
    assert out.startswith('{\n  "request_id": ')
    api = dev_server.http("GET", f"/v1/secret/data/{key}", token=dev_server.root_token).json()
    assert doc["data"] == api["data"]
    # VAULT_FORMAT works like -format
    assert json.loads(cli.ok(["kv", "get", f"secret/{key}"], env={"VAULT_FORMAT": "json"}))["data"] == doc["data"]
    # -field with json encodes the value
    assert cli.ok(["kv", "get", "-format=json", "-field=a", f"secret/{key}"]) == '"1"'


def test_get_yaml(cli):
    key = unique("y")
    cli.ok(["kv", "put", f"secret/{key}", "enabled=true", "name=svc"])
    out = cli.ok(["kv", "get", "-format=yaml", f"secret/{key}"])
    assert "data:\n  data:\n    enabled: \"true\"\n    name: svc\n" in out
    assert re.search(rf'^    created_time: "{TS}"$', out, re.M)
    assert "\nwarnings: null" in out


def test_versions_and_mount_flag(cli):
    key = unique("v")
    cli.ok(["kv", "put", f"secret/{key}", "x=1"])
    cli.ok(["kv", "put", "-mount=secret", key, "x=2"])
    assert cli.ok(["kv", "get", "-field=x", f"secret/{key}"]) == "2"
    assert cli.ok(["kv", "get", "-version=1", "-field=x", f"secret/{key}"]) == "1"
    assert cli.ok(["kv", "get", "-mount=secret", "-version=2", "-field=x", key]) == "2"
    assert meta(cli, f"secret/{key}")["current_version"] == 2


def test_put_field_prints_version(cli):
    key = unique("pf")
    assert cli.ok(["kv", "put", "-field=version", f"secret/{key}", "a=b"]) == "1"


def test_cas(cli):
    key = unique("cas")
    cli.ok(["kv", "put", "-cas=0", f"secret/{key}", "a=1"])
    err = cli.fails(["kv", "put", "-cas=0", f"secret/{key}", "a=2"], 1)
    assert err.startswith(f"Error writing data to secret/data/{key}: Error making API request.")
    assert "check-and-set" in err
    cli.ok(["kv", "put", "-cas=1", f"secret/{key}", "a=3"])
    assert cli.ok(["kv", "get", "-field=a", f"secret/{key}"]) == "3"


def test_missing_secret(cli):
    key = unique("missing")
    err = cli.fails(["kv", "get", f"secret/{key}"], 1)
    assert err.strip() == f"No value found at secret/data/{key}"


# ---- patch -------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", [None, "patch", "rw"])
def test_patch_methods(cli, method):
    key = unique("p")
    cli.ok(["kv", "put", f"secret/{key}", "a=1", "b=2"])
    args = ["kv", "patch"] + ([f"-method={method}"] if method else []) + [f"secret/{key}", "b=3", "c=4"]
    out = cli.ok(args)
    assert re.search(r"^version\s+2$", out, re.M)
    doc = json.loads(cli.ok(["kv", "get", "-format=json", f"secret/{key}"]))
    assert doc["data"]["data"] == {"a": "1", "b": "3", "c": "4"}


def test_patch_remove_data_and_errors(cli):
    key = unique("pr")
    cli.ok(["kv", "put", f"secret/{key}", "a=1", "b=2"])
    cli.ok(["kv", "patch", "-remove-data=b", f"secret/{key}"])
    assert json.loads(cli.ok(["kv", "get", "-format=json", f"secret/{key}"]))["data"]["data"] == {"a": "1"}
    err = cli.fails(["kv", "patch", f"secret/{unique('absent')}", "a=1"], 1)
    assert "No value found" in err
    err = cli.fails(["kv", "patch", "-method=merge", f"secret/{key}", "a=1"], 2)
    assert "Unsupported method provided to -method flag: merge" in err
    assert cli.fails(["kv", "patch", f"secret/{key}"], 2).strip() == "Must supply data"


# ---- delete / undelete / destroy / rollback -----------------------------------------------------

def test_delete_undelete_destroy(cli):
    key = unique("d")
    for i in range(1, 4):
        cli.ok(["kv", "put", f"secret/{key}", f"n={i}"])
    out = cli.ok(["kv", "delete", f"secret/{key}"])
    assert out.strip() == f"Success! Data deleted (if it existed) at: secret/data/{key}"
    # A deleted version prints its metadata (with a deletion_time) and no data, exit 0.
    out = cli.ok(["kv", "get", f"secret/{key}"])
    assert re.search(rf"^deletion_time\s+{TS}$", out, re.M) and "Data" not in out
    assert "No data found at" in cli.fails(["kv", "get", "-field=n", f"secret/{key}"], 1)

    cli.ok(["kv", "delete", "-versions=1,2", f"secret/{key}"])
    versions = meta(cli, f"secret/{key}")["versions"]
    assert all(versions[v]["deletion_time"] for v in ("1", "2", "3"))

    out = cli.ok(["kv", "undelete", "-versions=3", f"secret/{key}"])
    assert out.strip() == f"Success! Data written to: secret/undelete/{key}"
    assert cli.ok(["kv", "get", "-field=n", f"secret/{key}"]) == "3"

    out = cli.ok(["kv", "destroy", "-versions=1", f"secret/{key}"])
    assert out.strip() == f"Success! Data written to: secret/destroy/{key}"
    assert meta(cli, f"secret/{key}")["versions"]["1"]["destroyed"] is True

    assert "No versions provided" in cli.fails(["kv", "undelete", f"secret/{key}"], 2)
    assert "No versions provided" in cli.fails(["kv", "destroy", f"secret/{key}"], 2)
    assert "-versions" in cli.fails(["kv", "destroy", "-versions=x", f"secret/{key}"], 2)


def test_rollback(cli):
    key = unique("rb")
    cli.ok(["kv", "put", f"secret/{key}", "color=red"])
    cli.ok(["kv", "put", f"secret/{key}", "color=blue"])
    out = cli.ok(["kv", "rollback", "-version=1", f"secret/{key}"])
    assert re.search(r"^version\s+3$", out, re.M)
    assert cli.ok(["kv", "get", "-field=color", f"secret/{key}"]) == "red"
    assert "does not exist" in cli.fails(["kv", "rollback", "-version=9", f"secret/{key}"], 1)
    assert "-version" in cli.fails(["kv", "rollback", f"secret/{key}"], 2)
    cli.ok(["kv", "destroy", "-versions=2", f"secret/{key}"])
    assert "destroyed" in cli.fails(["kv", "rollback", "-version=2", f"secret/{key}"], 1)


# ---- list / metadata ---------------------------------------------------------------------------

def test_list(cli):
    base = unique("dir")
    cli.ok(["kv", "put", f"secret/{base}/a", "x=1"])
    cli.ok(["kv", "put", f"secret/{base}/sub/b", "x=1"])
    assert cli.ok(["kv", "list", f"secret/{base}"]) == "Keys\n----\na\nsub/\n"
    assert json.loads(cli.ok(["kv", "list", "-format=json", f"secret/{base}/"])) == ["a", "sub/"]
    assert cli.ok(["kv", "list", "-mount=secret", base]) == "Keys\n----\na\nsub/\n"
    assert "No value found" in cli.fails(["kv", "list", f"secret/{unique('none')}"], 1)


def test_metadata_commands(cli):
    key = unique("m")
    cli.ok(["kv", "put", f"secret/{key}", "a=1"])
    out = cli.ok(["kv", "metadata", "put", "-max-versions=5", "-cas-required", "-delete-version-after=1h",
                  "-custom-metadata=owner=ops", "-custom-metadata=tier=1", f"secret/{key}"])
    assert out.strip() == f"Success! Data written to: secret/metadata/{key}"
    m = meta(cli, f"secret/{key}")
    assert m["max_versions"] == 5 and m["cas_required"] is True
    assert m["custom_metadata"] == {"owner": "ops", "tier": "1"}
    assert m["delete_version_after"] in ("1h0m0s", "1h", 3600)

    out = cli.ok(["kv", "metadata", "get", f"secret/{key}"])
    assert out.startswith(f"== Metadata Path ==\nsecret/metadata/{key}\n\n") or "Metadata Path" in out
    assert re.search(r"^max_versions\s+5$", out, re.M)
    assert re.search(r"^custom_metadata\s+map\[owner:ops tier:1\]$", out, re.M)
    assert "=== Version 1 ===" in out
    assert cli.ok(["kv", "metadata", "get", "-field=current_version", f"secret/{key}"]) == "1"

    cli.ok(["kv", "metadata", "patch", "-cas-required=false", "-remove-custom-metadata=tier", f"secret/{key}"])
    m = meta(cli, f"secret/{key}")
    assert m["cas_required"] is False and m["custom_metadata"] == {"owner": "ops"} and m["max_versions"] == 5

    # cas_required is now off, a plain put works; then delete everything.
    cli.ok(["kv", "put", f"secret/{key}", "a=2"])
    out = cli.ok(["kv", "metadata", "delete", f"secret/{key}"])
    assert out.strip() == f"Success! Data deleted (if it existed) at: secret/metadata/{key}"
    cli.fails(["kv", "get", f"secret/{key}"], 1)
    assert "-max-versions" in cli.fails(["kv", "metadata", "put", "-max-versions=lots", f"secret/{key}"], 2)


# ---- KV v1 -------------------------------------------------------------------------------------

def test_kv_v1_mount(cli, dev_server):
    mount = unique("kv1")
    mount_kv(dev_server, mount, "1")
    out = cli.ok(["kv", "put", f"{mount}/app", "a=1"])
    assert out.strip() == f"Success! Data written to: {mount}/app"
    out = cli.ok(["kv", "get", f"{mount}/app"])
    assert out == "== Data ==\nKey    Value\n---    -----\na      1\n"
    assert cli.ok(["kv", "get", "-field=a", "-mount", mount, "app"]) == "1"
    assert json.loads(cli.ok(["kv", "get", "-format=json", f"{mount}/app"]))["data"] == {"a": "1"}
    assert cli.ok(["kv", "list", f"{mount}/"]) == "Keys\n----\napp\n"
    assert "version 2" in cli.fails(["kv", "patch", f"{mount}/app", "a=2"], 2)
    assert "KV Version 1" in cli.fails(["kv", "metadata", "get", f"{mount}/app"], 2)
    assert "KV Version 1" in cli.fails(["kv", "rollback", "-version=1", f"{mount}/app"], 2)
    cli.ok(["kv", "delete", f"{mount}/app"])
    cli.fails(["kv", "get", f"{mount}/app"], 1)


# ---- data from stdin and files ------------------------------------------------------------------

def test_stdin_and_file_data(cli, tmp_path):
    key = unique("in")
    cli.ok(["kv", "put", f"secret/{key}", "-"], stdin='{"a": "from-json", "n": 3}')
    doc = json.loads(cli.ok(["kv", "get", "-format=json", f"secret/{key}"]))["data"]["data"]
    assert doc == {"a": "from-json", "n": 3}

    cli.ok(["kv", "put", f"secret/{key}", "cert=-"], stdin="line1\nline2\n")
    assert cli.ok(["kv", "get", "-field=cert", f"secret/{key}"]) == "line1\nline2\n"

    f = tmp_path / "pw.txt"
    f.write_text("file-secret")
    cli.ok(["kv", "put", f"secret/{key}", f"pw=@{f}"])
    assert cli.ok(["kv", "get", "-field=pw", f"secret/{key}"]) == "file-secret"

    j = tmp_path / "data.json"
    j.write_text('{"k": "v"}')
    cli.ok(["kv", "put", f"secret/{key}", f"@{j}"])
    assert cli.ok(["kv", "get", "-field=k", f"secret/{key}"]) == "v"


def test_bad_input_exit_2_one_line(cli, tmp_path):
    key = unique("bad")
    cases = [
        (["kv", "put", f"secret/{key}", "pw=@/nonexistent/file"], "/nonexistent/file"),
        (["kv", "put", f"secret/{key}", f"pw=@{tmp_path}"], "is a directory"),
        (["kv", "put", f"secret/{key}", "noequals"], "key=value"),
        (["kv", "put", f"secret/{key}"], "Must supply data"),
        (["kv", "get"], "Not enough arguments"),
        (["kv", "get", "a", "b"], "Too many arguments"),
        (["kv", "get", "-bogus", "secret/x"], "flag provided but not defined: -bogus"),
        (["kv", "get", "-version=abc", "secret/x"], "invalid value \"abc\" for flag -version"),
        (["kv", "get", "-format=xml", "secret/x"], "Invalid output format: xml"),
    ]
    for args, needle in cases:
        rc, out, err = cli.run(args)
        assert rc == 2, f"{args}: rc={rc} err={err}"
        assert needle in err, f"{args}: {err!r}"
        assert len(err.strip().splitlines()) == 1, f"{args}: {err!r}"
        assert out == ""
    rc, out, err = cli.run(["kv", "put", f"secret/{key}", "-"], stdin="{not json")
    assert rc == 2 and "invalid JSON on stdin" in err and len(err.strip().splitlines()) == 1
    assert "not json" not in err
    rc, out, err = cli.run(["kv", "put", f"secret/{key}", "-"], stdin="[1,2]")
    assert rc == 2 and "must be an object" in err


def test_secret_values_never_in_errors(cli):
    key = unique("leak")
    rc, out, err = cli.run(["kv", "put", f"secret/{key}", "topsecretvalue"])
    assert rc == 2 and "topsecretvalue" not in err
    rc, out, err = cli.run(["kv", "put", f"secret/{key}", "-"], stdin='{"a": "topsecretvalue"')
    assert rc == 2 and "topsecretvalue" not in err


def test_flags_after_path_are_not_flags(cli):
    key = unique("order")
    cli.ok(["kv", "put", f"secret/{key}", "a=1"])
    rc, out, err = cli.run(["kv", "get", f"secret/{key}", "-field=a"])
    assert rc == 2
    assert "Command flags must be provided before positional arguments" in err
    assert "[-field=a]" in err and "Too many arguments (expected 1, got 2)" in err
    # -format is global and honoured anywhere, like Vault's.
    rc, out, err = cli.run(["kv", "list", "secret/", "-format=json"])
    assert rc == 2 and "Too many arguments" in err


def test_permission_denied_is_exit_1(cli, dev_server):
    rc, out, err = cli.run(["kv", "get", "secret/anything"], env={"VAULT_TOKEN": "not-a-token"})
    assert rc == 1
    assert "permission denied" in err
    assert "not-a-token" not in err


def test_help_and_suggestions(cli):
    out = cli.ok(["kv", "get", "-h"])
    assert out.startswith("Usage: coffer kv get [options] KEY")
    assert "HTTP Options:" in out and "Output Options:" in out and "Common Options:" in out
    assert "  -mount=<string>\n" in out and "  -version=<int>\n" in out
    out = cli.ok(["kv", "--help"])
    assert "Subcommands:" in out and "metadata" in out and "rollback" in out
    err = cli.fails(["kv", "gte", "secret/x"], 2)
    assert 'Did you mean "kv get"?' in err
    out = cli.ok(["kv", "metadata", "get", "-help"])
    assert out.startswith("Usage: coffer kv metadata get")


def test_patch_falls_back_to_read_write_without_patch_capability(cli, dev_server):
    from coffer_harness import create_token, put_policy
    key = unique("nopatch")
    name = unique("rw-only")
    put_policy(dev_server, name, f'path "secret/data/{key}" {{ capabilities = ["create", "read", "update"] }}\n')
    token = create_token(dev_server, policies=[name])["client_token"]
    cli.ok(["kv", "put", f"secret/{key}", "a=1"])
    rc, out, err = cli.run(["kv", "patch", f"secret/{key}", "b=2"], env={"VAULT_TOKEN": token})
    assert rc == 0, err
    assert 'add the "patch" capability' in err
    assert json.loads(cli.ok(["kv", "get", "-format=json", f"secret/{key}"]))["data"]["data"] == {"a": "1", "b": "2"}
    rc, out, err = cli.run(["kv", "patch", "-method=patch", f"secret/{key}", "c=3"], env={"VAULT_TOKEN": token})
    assert rc == 1 and "permission denied" in err and token not in err


def test_enable_versioning_upgrades_v1(cli, dev_server):
    import time
    mount = unique("upgrade")
    mount_kv(dev_server, mount, "1")
    cli.ok(["kv", "put", f"{mount}/app", "a=1"])
    out = cli.ok(["kv", "enable-versioning", mount])
    assert out.strip() == f"Success! Tuned the secrets engine at: {mount}"
    deadline = time.monotonic() + 10
    while True:
        rc, out, err = cli.run(["kv", "get", "-field=a", f"{mount}/app"])
        if rc == 0 and out == "1":
            break
        assert time.monotonic() < deadline, f"not readable as KV v2: {rc} {out} {err}"
        time.sleep(0.1)
    assert "Secret Path" in cli.ok(["kv", "get", f"{mount}/app"])
    assert "Error tuning secrets engine" in cli.fails(["kv", "enable-versioning", unique("nomount")], 1)
