"""sys/capabilities, sys/capabilities-self and sys/capabilities-accessor, as Vault answers them,
cross-checked against what the same token is actually allowed to do."""

from __future__ import annotations

import pytest

from coffer_harness import create_token, error_text, mount_kv, put_policy, unique


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def setup(srv):
    """A KV v1 mount with a few secrets, a policy over it, and a token holding that policy."""
    m = unique("cap")
    mount_kv(srv, m)
    for p in ("app/x", "app/secret", "other", "team/cfg", "team/a/cfg"):
        r = srv.http("POST", f"/v1/{m}/{p}", token=srv.root_token, json={"v": p})
        assert r.status_code == 204, r.text
    policy = unique("cap-pol")
    put_policy(srv, policy, f'''
path "{m}/app/*" {{ capabilities = ["read", "list"] }}
path "{m}/app/secret" {{ capabilities = ["deny"] }}
path "{m}/+/cfg" {{ capabilities = ["read", "update"] }}
path "sys/rotate" {{ capabilities = ["update", "sudo"] }}
''')
    auth = create_token(srv, policies=[policy])
    return {"m": m, "policy": policy, "token": auth["client_token"], "accessor": auth["accessor"]}


def expected(m):
    return {
        f"{m}/app/x": ["list", "read"],
        f"{m}/app/secret": ["deny"],
        f"{m}/other": ["deny"],
        f"{m}/team/cfg": ["read", "update"],
        f"{m}/team/a/cfg": ["deny"],
        "sys/rotate": ["sudo", "update"],
        "cubbyhole/note": ["create", "delete", "list", "read", "update"],
        "auth/token/lookup-self": ["read"],
    }


def caps(srv, endpoint, token, **body):
    r = srv.http("POST", f"/v1/sys/{endpoint}", token=token, json=body)
    assert r.status_code == 200, f"{endpoint} {body}: {r.status_code} {r.text}"
    return r.json()


def test_capabilities_self_lists_sorted_capabilities_per_path(srv, setup):
    want = expected(setup["m"])
    body = caps(srv, "capabilities-self", setup["token"], paths=list(want))
    for path, capabilities in want.items():
        assert body["data"][path] == capabilities, path
        assert body[path] == capabilities, f"{path} not copied to the top level"
    assert "capabilities" not in body["data"]  # only a single-path request gets this legacy key


def test_single_path_also_answers_under_capabilities(srv, setup):
    path = f"{setup['m']}/app/x"
    body = caps(srv, "capabilities-self", setup["token"], paths=[path])
    assert body["data"]["capabilities"] == ["list", "read"]
    assert body["data"][path] == ["list", "read"]
    via_hvac = srv.client(setup["token"]).sys.get_capabilities([path])
    assert via_hvac["data"]["capabilities"] == ["list", "read"]
    assert via_hvac["capabilities"] == ["list", "read"]


def test_root_token_has_root_everywhere(srv, root):
    body = root.sys.get_capabilities(["sys/rotate", "secret/data/anything", "no/such/mount"])
    assert body["data"]["sys/rotate"] == ["root"]
    assert body["data"]["secret/data/anything"] == ["root"]
    assert body["data"]["no/such/mount"] == ["root"]


def test_capabilities_for_another_token_and_accessor(srv, root, setup):
    want = expected(setup["m"])
    by_token = root.sys.get_capabilities(list(want), token=setup["token"])
    by_accessor = root.sys.get_capabilities(list(want), accessor=setup["accessor"])
    for path, capabilities in want.items():
        assert by_token["data"][path] == capabilities, path
        assert by_accessor["data"][path] == capabilities, path


def test_capabilities_of_others_need_permission(srv, setup):
    other = create_token(srv, policies=["default"])["client_token"]
    for endpoint, body in (("capabilities", {"token": setup["token"], "paths": ["sys/rotate"]}),
                           ("capabilities-accessor", {"accessor": setup["accessor"], "paths": ["sys/rotate"]})):
        r = srv.http("POST", f"/v1/sys/{endpoint}", token=other, json=body)
        assert r.status_code == 403, f"{endpoint}: {r.status_code} {r.text}"
    assert caps(srv, "capabilities-self", other, paths=["sys/rotate"])["data"]["sys/rotate"] == ["deny"]


def test_unknown_token_or_accessor_is_400(srv):
    r = srv.http("POST", "/v1/sys/capabilities", token=srv.root_token,
                 json={"token": "s.unknown", "paths": ["sys/rotate"]})
    assert r.status_code == 400, r.text
    assert "invalid token" in error_text(r)
    r = srv.http("POST", "/v1/sys/capabilities-accessor", token=srv.root_token,
                 json={"accessor": "unknown", "paths": ["sys/rotate"]})
    assert r.status_code == 400, r.text
    assert "invalid accessor" in error_text(r)


def test_reported_capabilities_match_enforcement(srv, setup):
    m, token = setup["m"], setup["token"]
    reported = caps(srv, "capabilities-self", token, paths=[f"{m}/app/x", f"{m}/app/secret",
                                                             f"{m}/team/cfg", f"{m}/other"])["data"]
    for path in (f"{m}/app/x", f"{m}/app/secret", f"{m}/team/cfg", f"{m}/other"):
        r = srv.http("GET", f"/v1/{path}", token=token)
        assert (r.status_code == 200) == ("read" in reported[path]), f"{path}: {reported[path]} vs {r.status_code}"
        r = srv.http("POST", f"/v1/{path}", token=token, json={"v": "new"})
        assert (r.status_code == 204) == ("update" in reported[path]), f"{path}: {reported[path]} vs {r.status_code}"


def test_capabilities_follow_policy_changes(srv, setup):
    name = unique("cap-live")
    put_policy(srv, name, 'path "changing/*" { capabilities = ["read"] }')
    token = create_token(srv, policies=[name])["client_token"]
    assert caps(srv, "capabilities-self", token, paths=["changing/x"])["data"]["changing/x"] == ["read"]
    put_policy(srv, name, 'path "changing/*" { capabilities = ["create", "read", "patch"] }')
    assert caps(srv, "capabilities-self", token, paths=["changing/x"])["data"]["changing/x"] == \
        ["create", "patch", "read"]
    put_policy(srv, name, 'path "changing/*" { capabilities = ["deny"] }')
    assert caps(srv, "capabilities-self", token, paths=["changing/x"])["data"]["changing/x"] == ["deny"]


def test_revoked_token_has_no_capabilities(srv):
    auth = create_token(srv, policies=["default"])
    srv.http("POST", "/v1/auth/token/revoke", token=srv.root_token, json={"token": auth["client_token"]})
    r = srv.http("POST", "/v1/sys/capabilities-self", token=auth["client_token"],
                 json={"paths": ["cubbyhole/x"]})
    assert r.status_code == 403
    r = srv.http("POST", "/v1/sys/capabilities", token=srv.root_token,
                 json={"token": auth["client_token"], "paths": ["cubbyhole/x"]})
    assert r.status_code == 400 and "invalid token" in error_text(r), r.text


@pytest.mark.parametrize("body", [{"paths": {"a": 1}}, {"paths": [{"a": 1}]}])
def test_bad_paths_field_is_400(srv, body):
    r = srv.http("POST", "/v1/sys/capabilities-self", token=srv.root_token, json=body)
    assert r.status_code == 400, f"{body}: {r.status_code} {r.text}"
    assert "path" in error_text(r).lower()
