"""ACL policies: sys/policy and sys/policies/acl, and how Vault enforces them.

Enforcement is checked on a KV v1 mount made for this module (plain paths, an
existence check that separates create from update), with tokens that hold only
the policies a test writes.
"""

from __future__ import annotations

import json
import re

import hvac
import pytest

from coffer_harness import create_token, error_text, mount_kv, put_policy, unique


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def m(srv):
    """The KV v1 mount the enforcement tests use."""
    mount = unique("acl")
    mount_kv(srv, mount)
    return mount


def write(srv, token, path, data):
    return srv.http("POST", f"/v1/{path}", token=token, json=data)


def read(srv, token, path):
    return srv.http("GET", f"/v1/{path}", token=token)


def seed(srv, path, data=None):
    r = write(srv, srv.root_token, path, data or {"seed": path})
    assert r.status_code == 204, r.text


def token_with(srv, *rules: str) -> str:
    """A token holding one new policy per rules text (and no default policy)."""
    names = []
    for text in rules:
        name = unique("pol")
        put_policy(srv, name, text)
        names.append(name)
    return create_token(srv, policies=names, no_default_policy=True)["client_token"]


# ---- the policy store ------------------------------------------------------------------

def test_default_and_root_are_built_in(srv, root):
    listed = root.sys.list_policies()
    assert {"default", "root"} <= set(listed["data"]["policies"])
    assert {"default", "root"} <= set(listed["policies"])  # sys data is copied to the top level
    r = srv.http("LIST", "/v1/sys/policies/acl", token=srv.root_token)
    assert r.status_code == 200, r.text
    assert {"default", "root"} <= set(r.json()["data"]["keys"])
    default = root.sys.read_policy("default")["data"]["rules"]
    assert 'path "auth/token/lookup-self"' in default
    assert 'path "cubbyhole/*"' in default


def test_write_read_list_delete_hcl_policy(srv, root):
    name = unique("hcl")
    rules = f'# a comment\npath "{name}/*" {{\n  capabilities = ["read", "list"]\n}}\n'
    assert root.sys.create_or_update_policy(name, rules).status_code == 204
    got = root.sys.read_policy(name)
    assert got["data"]["name"] == name and got["data"]["rules"] == rules
    assert got["rules"] == rules
    r = srv.http("GET", f"/v1/sys/policies/acl/{name}", token=srv.root_token)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == name and r.json()["data"]["policy"] == rules
    assert name in root.sys.list_policies()["data"]["policies"]
    assert root.sys.delete_policy(name).status_code == 204
    assert name not in root.sys.list_policies()["data"]["policies"]
    assert srv.http("GET", f"/v1/sys/policy/{name}", token=srv.root_token).status_code == 404
    assert srv.http("GET", f"/v1/sys/policies/acl/{name}", token=srv.root_token).status_code == 404


def test_sys_policies_acl_write_and_names_are_lowercased(srv, root):
    name = unique("MixedCase")
    rules = 'path "x/*" { capabilities = ["read"] }'
    r = srv.http("PUT", f"/v1/sys/policies/acl/{name}", token=srv.root_token, json={"policy": rules})
    assert r.status_code == 204, r.text
    r = srv.http("LIST", "/v1/sys/policies/acl", token=srv.root_token)
    assert name.lower() in r.json()["data"]["keys"]
    assert name not in r.json()["data"]["keys"]
    r = srv.http("GET", f"/v1/sys/policies/acl/{name.lower()}", token=srv.root_token)
    assert r.status_code == 200 and r.json()["data"]["policy"] == rules
    r = srv.http("DELETE", f"/v1/sys/policies/acl/{name}", token=srv.root_token)
    assert r.status_code == 204
    assert srv.http("GET", f"/v1/sys/policies/acl/{name.lower()}", token=srv.root_token).status_code == 404


def test_json_policy_is_enforced_like_hcl(srv, root, m):
    seed(srv, f"{m}/json/one")
    name = unique("json")
    doc = {"path": {f"{m}/json/*": {"capabilities": ["read"]}}}
    assert root.sys.create_or_update_policy(name, doc).status_code == 204
    token = create_token(srv, policies=[name])["client_token"]
    assert read(srv, token, f"{m}/json/one").status_code == 200
    assert write(srv, token, f"{m}/json/one", {"x": 1}).status_code == 403


def test_root_and_default_policies_are_protected(srv, root):
    for name in ("root", "default"):
        r = srv.http("DELETE", f"/v1/sys/policy/{name}", token=srv.root_token)
        assert r.status_code == 400, f"delete {name}: {r.status_code} {r.text}"
        assert "cannot delete" in error_text(r) and name in error_text(r)
    r = srv.http("PUT", "/v1/sys/policy/root", token=srv.root_token,
                 json={"policy": 'path "*" { capabilities = ["deny"] }'})
    assert r.status_code == 400, r.text
    assert "cannot update" in error_text(r) and "root" in error_text(r)
    assert {"default", "root"} <= set(root.sys.list_policies()["data"]["policies"])
    assert root.sys.list_mounted_secrets_engines()["data"]["sys/"]["type"] == "system"


@pytest.mark.parametrize("rules", [
    'path "a/*" {\n  capabilities = ["read"]\n',
    'path "a/*" {\n  capabilities = ["read"\n}\n',
    'this is not hcl at all {{{',
    'path "a/*" {\n  capabilities = ["read"]\n}\npath "b" {\n  capabilities = ["read",]]\n}\n',
])
def test_unparsable_policy_is_400_with_position_and_stores_nothing(srv, rules):
    name = unique("bad")
    r = srv.http("PUT", f"/v1/sys/policy/{name}", token=srv.root_token, json={"policy": rules})
    assert r.status_code == 400, f"{rules!r}: {r.status_code} {r.text}"
    message = error_text(r)
    assert "polic" in message.lower(), message
    assert re.search(r"\d+:\d+|line \d+", message), f"no line/column in {message!r}"
    assert srv.http("GET", f"/v1/sys/policy/{name}", token=srv.root_token).status_code == 404


@pytest.mark.parametrize("rules, word", [
    ('path "a/*" { capabilities = ["read", "fly"] }', "fly"),
    ('{"path": {"a/*": {"capabilities": ["read", "teleport"]}}}', "teleport"),
    ('{"path": ', "polic"),
])
def test_invalid_policy_content_is_400_and_keeps_the_old_version(srv, rules, word):
    name = unique("keep")
    good = 'path "kept/*" { capabilities = ["read"] }'
    put_policy(srv, name, good)
    r = srv.http("PUT", f"/v1/sys/policy/{name}", token=srv.root_token, json={"policy": rules})
    assert r.status_code == 400, f"{rules!r}: {r.status_code} {r.text}"
    assert word in error_text(r).lower(), error_text(r)
    r = srv.http("GET", f"/v1/sys/policy/{name}", token=srv.root_token)
    assert r.json()["data"]["rules"] == good


@pytest.mark.parametrize("body", [{}, {"policy": ""}, {"policy": 42}, {"policy": ["x"]}])
def test_missing_or_mistyped_policy_field_is_400(srv, body):
    name = unique("empty")
    r = srv.http("PUT", f"/v1/sys/policy/{name}", token=srv.root_token, json=body)
    assert r.status_code == 400, f"{body}: {r.status_code} {r.text}"
    assert "polic" in error_text(r).lower()
    assert srv.http("GET", f"/v1/sys/policy/{name}", token=srv.root_token).status_code == 404


def test_policy_endpoints_need_permission(srv):
    token = create_token(srv, policies=["default"])["client_token"]
    assert srv.http("GET", "/v1/sys/policy", token=token).status_code == 403
    r = srv.http("PUT", f"/v1/sys/policy/{unique('x')}", token=token,
                 json={"policy": 'path "*" { capabilities = ["sudo"] }'})
    assert r.status_code == 403
    assert srv.http("DELETE", "/v1/sys/policy/default", token=token).status_code == 403


# ---- enforcement --------------------------------------------------------------------

def test_read_allowed_write_denied(srv, m):
    seed(srv, f"{m}/ro/a", {"v": "1"})
    token = token_with(srv, f'path "{m}/ro/*" {{ capabilities = ["read"] }}')
    r = read(srv, token, f"{m}/ro/a")
    assert r.status_code == 200 and r.json()["data"] == {"v": "1"}
    for r in (write(srv, token, f"{m}/ro/a", {"v": "2"}), write(srv, token, f"{m}/ro/new", {"v": "3"}),
              srv.http("DELETE", f"/v1/{m}/ro/a", token=token),
              srv.http("LIST", f"/v1/{m}/ro/", token=token),
              read(srv, token, f"{m}/elsewhere")):
        assert r.status_code == 403, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
        assert "permission denied" in error_text(r)
    assert read(srv, srv.root_token, f"{m}/ro/a").json()["data"] == {"v": "1"}
    assert read(srv, srv.root_token, f"{m}/ro/new").status_code == 404
    with pytest.raises(hvac.exceptions.Forbidden):
        srv.client(token).secrets.kv.v1.create_or_update_secret("ro/a", {"v": "9"}, mount_point=m)


def test_create_is_not_update(srv, m):
    seed(srv, f"{m}/cu/existing", {"v": "old"})
    token = token_with(srv, f'path "{m}/cu/*" {{ capabilities = ["create", "read"] }}')
    assert write(srv, token, f"{m}/cu/fresh", {"v": "new"}).status_code == 204
    r = write(srv, token, f"{m}/cu/existing", {"v": "overwritten"})
    assert r.status_code == 403, r.text
    assert read(srv, token, f"{m}/cu/existing").json()["data"] == {"v": "old"}
    updater = token_with(srv, f'path "{m}/cu/*" {{ capabilities = ["update"] }}')
    assert write(srv, updater, f"{m}/cu/existing", {"v": "updated"}).status_code == 204
    assert write(srv, updater, f"{m}/cu/brand-new", {"v": "x"}).status_code == 403
    assert read(srv, srv.root_token, f"{m}/cu/brand-new").status_code == 404


def test_plus_matches_exactly_one_segment_including_list(srv, m):
    for p in ("team1/public/doc", "team1/private/doc", "team2/public/doc", "a/b/public/doc"):
        seed(srv, f"{m}/plus/{p}")
    token = token_with(srv, f'path "{m}/plus/+/public/*" {{ capabilities = ["read", "list"] }}')
    r = srv.http("LIST", f"/v1/{m}/plus/team1/public/", token=token)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["keys"] == ["doc"]
    r = srv.http("GET", f"/v1/{m}/plus/team2/public", token=token, params={"list": "true"})
    assert r.status_code == 200, r.text
    assert read(srv, token, f"{m}/plus/team2/public/doc").status_code == 200
    for denied in ("team1/private/doc", "a/b/public/doc"):
        assert read(srv, token, f"{m}/plus/{denied}").status_code == 403, denied
    for denied in (f"{m}/plus/team1/", f"{m}/plus/", f"{m}/plus/a/b/public/"):
        assert srv.http("LIST", f"/v1/{denied}", token=token).status_code == 403, denied


def test_deny_overrides_and_same_path_policies_union(srv, m):
    for p in ("d/open", "d/secret-sauce", "d/shared"):
        seed(srv, f"{m}/{p}")
    token = token_with(
        srv,
        f'path "{m}/d/*" {{ capabilities = ["read", "list", "create", "update"] }}\n'
        f'path "{m}/d/secret-sauce" {{ capabilities = ["deny"] }}')
    assert read(srv, token, f"{m}/d/open").status_code == 200
    assert read(srv, token, f"{m}/d/secret-sauce").status_code == 403
    assert write(srv, token, f"{m}/d/secret-sauce", {"x": 1}).status_code == 403

    # The same path in two policies: capabilities add up ...
    both = token_with(srv, f'path "{m}/d/shared" {{ capabilities = ["read"] }}',
                      f'path "{m}/d/shared" {{ capabilities = ["update"] }}')
    assert read(srv, both, f"{m}/d/shared").status_code == 200
    assert write(srv, both, f"{m}/d/shared", {"v": "both"}).status_code == 204
    # ... unless one of them denies: deny wins over everything, even sudo.
    denied = token_with(srv, f'path "{m}/d/shared" {{ capabilities = ["read", "update", "sudo"] }}',
                        f'path "{m}/d/shared" {{ capabilities = ["deny"] }}')
    assert read(srv, denied, f"{m}/d/shared").status_code == 403
    assert write(srv, denied, f"{m}/d/shared", {"v": "no"}).status_code == 403
    assert read(srv, srv.root_token, f"{m}/d/shared").json()["data"] == {"v": "both"}


def test_only_the_highest_priority_pattern_counts(srv, m):
    for p in ("pr/data/exact", "pr/data/other", "pr/teams/blue/config", "pr/teams/red/config",
              "pr/r3/a/b", "pr/r3/a/c", "pr/lp/k", "pr/lp/deep/k"):
        seed(srv, f"{m}/{p}")
    token = token_with(srv, f'''
path "{m}/pr/data/*" {{ capabilities = ["read"] }}
path "{m}/pr/data/exact" {{ capabilities = ["update"] }}
path "{m}/pr/teams/+/config" {{ capabilities = ["read"] }}
path "{m}/pr/teams/blue/*" {{ capabilities = ["deny"] }}
path "{m}/pr/r3/+/+" {{ capabilities = ["deny"] }}
path "{m}/pr/r3/+/b" {{ capabilities = ["read"] }}
path "{m}/pr/lp/*" {{ capabilities = ["read"] }}
path "{m}/pr/lp/deep/*" {{ capabilities = ["deny"] }}
''')
    expect = {
        # An exact path beats a glob, and capabilities are not merged between patterns.
        "pr/data/exact": 403, "pr/data/other": 200,
        # The later first wildcard wins: teams/blue/* over teams/+/config.
        "pr/teams/blue/config": 403, "pr/teams/red/config": 200,
        # Fewer + segments win.
        "pr/r3/a/b": 200, "pr/r3/a/c": 403,
        # The longer prefix wins.
        "pr/lp/k": 200, "pr/lp/deep/k": 403,
    }
    got = {p: read(srv, token, f"{m}/{p}").status_code for p in expect}
    assert got == expect
    assert write(srv, token, f"{m}/pr/data/exact", {"v": "updated"}).status_code == 204


def test_glob_star_is_a_prefix_match_not_a_segment_match(srv, m):
    seed(srv, f"{m}/glob/prefix-one")
    seed(srv, f"{m}/glob/prefix/deep/two")
    seed(srv, f"{m}/glob/other")
    token = token_with(srv, f'path "{m}/glob/prefix*" {{ capabilities = ["read"] }}')
    assert read(srv, token, f"{m}/glob/prefix-one").status_code == 200
    assert read(srv, token, f"{m}/glob/prefix/deep/two").status_code == 200
    assert read(srv, token, f"{m}/glob/other").status_code == 403


def test_sudo_only_paths(srv):
    status = srv.http("GET", "/v1/sys/key-status", token=srv.root_token)
    assert status.status_code == 200, status.text
    term = status.json()["data"]["term"]

    plain = token_with(srv, 'path "sys/rotate" { capabilities = ["update"] }\n'
                            'path "auth/token/accessors" { capabilities = ["list"] }')
    r = srv.http("POST", "/v1/sys/rotate", token=plain)
    assert r.status_code == 403, r.text
    r = srv.http("LIST", "/v1/auth/token/accessors", token=plain)
    assert r.status_code == 403, r.text
    with pytest.raises(hvac.exceptions.Forbidden):
        srv.client(plain).auth.token.list_accessors()
    assert srv.http("GET", "/v1/sys/key-status", token=srv.root_token).json()["data"]["term"] == term

    sudo = token_with(srv, 'path "sys/rotate" { capabilities = ["update", "sudo"] }\n'
                           'path "auth/token/accessors" { capabilities = ["list", "sudo"] }')
    r = srv.http("POST", "/v1/sys/rotate", token=sudo)
    assert r.status_code == 204, r.text
    assert srv.http("GET", "/v1/sys/key-status", token=srv.root_token).json()["data"]["term"] == term + 1
    keys = srv.client(sudo).auth.token.list_accessors()["data"]["keys"]
    mine = srv.http("GET", "/v1/auth/token/lookup-self", token=srv.root_token).json()["data"]["accessor"]
    assert mine in keys


def test_allowed_parameters(srv, m):
    token = token_with(srv, f'''
path "{m}/params/allowed" {{
  capabilities = ["create", "update", "read"]
  allowed_parameters = {{
    "color" = ["red", "green"]
    "size" = []
  }}
}}''')
    assert write(srv, token, f"{m}/params/allowed", {"color": "red", "size": 5}).status_code == 204
    for body in ({"color": "blue"}, {"color": "red", "shape": "round"}, {"owner": "x"}):
        r = write(srv, token, f"{m}/params/allowed", body)
        assert r.status_code == 403, f"{body}: {r.status_code} {r.text}"
    assert read(srv, srv.root_token, f"{m}/params/allowed").json()["data"] == {"color": "red", "size": 5}


def test_denied_parameters(srv, m):
    token = token_with(srv, f'''
path "{m}/params/denied" {{
  capabilities = ["create", "update"]
  denied_parameters = {{
    "password" = []
    "env" = ["prod"]
  }}
}}''')
    assert write(srv, token, f"{m}/params/denied", {"user": "u", "env": "dev"}).status_code == 204
    for body in ({"user": "u", "password": "p"}, {"env": "prod"}):
        r = write(srv, token, f"{m}/params/denied", body)
        assert r.status_code == 403, f"{body}: {r.status_code} {r.text}"
    assert read(srv, srv.root_token, f"{m}/params/denied").json()["data"] == {"user": "u", "env": "dev"}


def test_required_parameters(srv, m):
    token = token_with(srv, f'''
path "{m}/params/required" {{
  capabilities = ["create", "update"]
  required_parameters = ["owner"]
}}''')
    r = write(srv, token, f"{m}/params/required", {"v": 1})
    assert r.status_code == 403, r.text
    assert read(srv, srv.root_token, f"{m}/params/required").status_code == 404
    assert write(srv, token, f"{m}/params/required", {"v": 1, "owner": "me"}).status_code == 204


def test_policy_changes_apply_to_live_tokens_at_once(srv, root, m):
    seed(srv, f"{m}/live/k", {"v": "1"})
    name = unique("live")
    put_policy(srv, name, f'path "{m}/live/*" {{ capabilities = ["read"] }}')
    token = create_token(srv, policies=[name])["client_token"]
    assert write(srv, token, f"{m}/live/k", {"v": "2"}).status_code == 403
    put_policy(srv, name, f'path "{m}/live/*" {{ capabilities = ["read", "update"] }}')
    assert write(srv, token, f"{m}/live/k", {"v": "2"}).status_code == 204
    root.sys.delete_policy(name)
    assert read(srv, token, f"{m}/live/k").status_code == 403
    # The token itself is still valid: default policy paths keep working.
    assert srv.http("GET", "/v1/auth/token/lookup-self", token=token).status_code == 200


def test_a_token_without_policies_can_do_nothing_but_default(srv, m):
    seed(srv, f"{m}/nothing")
    token = create_token(srv, policies=["default"])["client_token"]
    assert read(srv, token, f"{m}/nothing").status_code == 403
    assert srv.http("GET", "/v1/sys/mounts", token=token).status_code == 403
    assert srv.http("GET", "/v1/auth/token/lookup-self", token=token).status_code == 200
    r = srv.http("POST", "/v1/sys/capabilities-self", token=token, json={"paths": [f"{m}/nothing"]})
    assert r.status_code == 200 and r.json()["data"][f"{m}/nothing"] == ["deny"]


def test_policy_document_round_trips_through_json_api(srv, root):
    name = unique("rt")
    doc = {"path": {"rt/+/x": {"capabilities": ["list", "read"]}}}
    root.sys.create_or_update_policy(name, doc, pretty_print=False)
    assert json.loads(root.sys.read_policy(name)["data"]["rules"]) == doc
