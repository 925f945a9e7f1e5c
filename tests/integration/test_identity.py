"""Identity entities and aliases (identity/...) and templated ACL policies, end to end.

hvac's client.secrets.identity against one `coffer server -dev` (KV v2 at secret/), with a
userpass auth mount for logins: a login creates (or finds) the entity of its alias, the token
carries its id, and policies such as

    path "secret/data/services/{{identity.entity.name}}/*" { capabilities = ["read", "list"] }

give each entity its own subtree. Every test names its own mounts, users and policies.
"""

from __future__ import annotations

import hvac
import pytest

from coffer_harness import error_text, put_policy, unique

SEED_POLICY = '''
path "secret/data/services/{{identity.entity.name}}/*" {
  capabilities = ["read", "list"]
}
'''


@pytest.fixture(scope="module")
def srv(dev_server):
    return dev_server


@pytest.fixture(scope="module")
def root(srv):
    return srv.client(srv.root_token)


@pytest.fixture(scope="module")
def identity(root):
    return root.secrets.identity


def enable_userpass(srv) -> tuple[str, str]:
    """A fresh userpass mount: returns (path, accessor)."""
    path = unique("up")
    r = srv.http("POST", f"/v1/sys/auth/{path}", token=srv.root_token, json={"type": "userpass"})
    assert r.status_code == 204, f"enable userpass: {r.status_code} {r.text}"
    r = srv.http("GET", "/v1/sys/auth", token=srv.root_token)
    assert r.status_code == 200, r.text
    accessor = r.json()["data"][f"{path}/"]["accessor"]
    assert accessor.startswith("auth_userpass_"), accessor
    return path, accessor


def add_user(srv, mount: str, name: str, policies: list[str]) -> None:
    r = srv.http("POST", f"/v1/auth/{mount}/users/{name}", token=srv.root_token,
                 json={"password": "pw-" + name, "token_policies": policies})
    assert r.status_code == 204, f"user {name}: {r.status_code} {r.text}"


def login(srv, mount: str, name: str) -> dict:
    r = srv.http("POST", f"/v1/auth/{mount}/login/{name}", json={"password": "pw-" + name})
    assert r.status_code == 200, f"login {name}: {r.status_code} {r.text}"
    return r.json()["auth"]


def no_content(resp) -> bool:
    """hvac hands back the raw response (not a dict) for Vault's 204 answers."""
    return getattr(resp, "status_code", None) == 204


def kv_put(srv, path: str, data: dict) -> None:
    r = srv.http("POST", f"/v1/secret/data/{path}", token=srv.root_token, json={"data": data})
    assert r.status_code == 200, f"kv put {path}: {r.status_code} {r.text}"


def kv_status(srv, token: str, path: str) -> int:
    return srv.http("GET", f"/v1/secret/data/{path}", token=token).status_code


def test_entity_crud_list_and_lookup(srv, identity):
    name = unique("ent")
    created = identity.create_or_update_entity(name=name, metadata={"team": "payments"},
                                               policies=["dev", "ops"])
    entity_id = created["data"]["id"]
    assert created["data"]["name"] == name

    read = identity.read_entity(entity_id)["data"]
    assert read["id"] == entity_id and read["name"] == name
    assert read["metadata"] == {"team": "payments"}
    assert sorted(read["policies"]) == ["dev", "ops"]
    assert read["disabled"] is False and read["aliases"] == []
    assert read["creation_time"].endswith("Z") and read["last_update_time"].endswith("Z")
    assert identity.read_entity_by_name(name)["data"]["id"] == entity_id

    # Updates answer 204 and change only what they name.
    assert no_content(identity.update_entity(entity_id, metadata={"team": "billing"}))
    read = identity.read_entity(entity_id)["data"]
    assert read["metadata"] == {"team": "billing"} and sorted(read["policies"]) == ["dev", "ops"]
    identity.create_or_update_entity_by_name(name, policies=["solo"])
    assert identity.read_entity(entity_id)["data"]["policies"] == ["solo"]

    by_id = identity.list_entities()["data"]
    assert entity_id in by_id["keys"] and by_id["key_info"][entity_id]["name"] == name
    by_name = identity.list_entities_by_name(method="GET")["data"]
    assert name in by_name["keys"]

    assert identity.lookup_entity(name=name)["data"]["id"] == entity_id
    assert identity.lookup_entity(entity_id=entity_id)["data"]["name"] == name
    assert no_content(identity.lookup_entity(name=unique("nobody")))

    identity.delete_entity(entity_id)
    with pytest.raises(hvac.exceptions.InvalidPath):
        identity.read_entity(entity_id)
    second = identity.create_or_update_entity(name=unique("ent"))["data"]
    identity.delete_entity_by_name(second["name"])
    assert srv.http("GET", f"/v1/identity/entity/name/{second['name']}",
                    token=srv.root_token).status_code == 404


def test_alias_crud_and_errors(srv, identity):
    _, accessor = enable_userpass(srv)
    entity_id = identity.create_or_update_entity(name=unique("ent"))["data"]["id"]
    alias = identity.create_or_update_entity_alias(name="carol", canonical_id=entity_id,
                                                   mount_accessor=accessor)["data"]
    assert alias["canonical_id"] == entity_id
    read = identity.read_entity_alias(alias["id"])["data"]
    assert read["name"] == "carol" and read["mount_accessor"] == accessor
    assert read["mount_type"] == "userpass" and read["canonical_id"] == entity_id
    assert identity.read_entity(entity_id)["data"]["aliases"][0]["id"] == alias["id"]
    assert identity.lookup_entity(alias_name="carol", alias_mount_accessor=accessor)["data"]["id"] == entity_id
    r = srv.http("POST", "/v1/identity/lookup/entity-alias", token=srv.root_token,
                 json={"name": "carol", "mount_accessor": accessor})
    assert r.status_code == 200 and r.json()["data"]["id"] == alias["id"], r.text

    identity.update_entity_alias(alias["id"], name="carol2", canonical_id=entity_id, mount_accessor=accessor)
    assert identity.read_entity_alias(alias["id"])["data"]["name"] == "carol2"
    listed = identity.list_entity_aliases()["data"]
    assert alias["id"] in listed["keys"] and listed["key_info"][alias["id"]]["name"] == "carol2"

    # Client mistakes are 400s that say what is wrong.
    r = srv.http("POST", "/v1/identity/entity-alias", token=srv.root_token,
                 json={"name": "x", "mount_accessor": "auth_nope_00000000"})
    assert r.status_code == 400 and "invalid mount accessor" in error_text(r), r.text
    r = srv.http("POST", "/v1/identity/entity-alias", token=srv.root_token,
                 json={"name": "y", "mount_accessor": accessor, "canonical_id": entity_id})
    assert r.status_code == 400 and "Alias already exists" in error_text(r), r.text
    r = srv.http("POST", "/v1/identity/entity", token=srv.root_token, json={"metadata": [1, 2]})
    assert r.status_code == 400 and "metadata" in error_text(r), r.text
    r = srv.http("POST", "/v1/identity/entity/id/no-such-id", token=srv.root_token, json={"name": "z"})
    assert r.status_code == 400 and "entity not found from id" in error_text(r), r.text
    assert srv.http("GET", "/v1/identity/entity-alias/id/no-such-id", token=srv.root_token).status_code == 404

    identity.delete_entity_alias(alias["id"])
    assert srv.http("GET", f"/v1/identity/entity-alias/id/{alias['id']}",
                    token=srv.root_token).status_code == 404
    assert identity.read_entity(entity_id)["data"]["aliases"] == []


def test_login_creates_then_reuses_the_entity(srv, identity):
    mount, accessor = enable_userpass(srv)
    add_user(srv, mount, "dave", ["default"])
    first = login(srv, mount, "dave")
    entity_id = first["entity_id"]
    assert entity_id
    second = login(srv, mount, "dave")
    assert second["entity_id"] == entity_id
    entity = identity.read_entity(entity_id)["data"]
    assert entity["name"].startswith("entity_")
    assert [(a["name"], a["mount_accessor"]) for a in entity["aliases"]] == [("dave", accessor)]
    r = srv.http("GET", "/v1/auth/token/lookup-self", token=second["client_token"])
    assert r.status_code == 200 and r.json()["data"]["entity_id"] == entity_id, r.text

    # The default policy lets a token read its own entity, and only that one.
    other = identity.create_or_update_entity(name=unique("ent"))["data"]["id"]
    token = second["client_token"]
    assert srv.http("GET", f"/v1/identity/entity/id/{entity_id}", token=token).status_code == 200
    assert srv.http("GET", f"/v1/identity/entity/name/{entity['name']}", token=token).status_code == 200
    assert srv.http("GET", f"/v1/identity/entity/id/{other}", token=token).status_code == 403


def test_seed_templated_policy_isolates_entities(srv, identity):
    mount, accessor = enable_userpass(srv)
    policy = unique("services")
    put_policy(srv, policy, SEED_POLICY)
    alice_name, bob_name = unique("alice"), unique("bob")
    # alice's entity is named before her first login; bob's is made by his login.
    alice_id = identity.create_or_update_entity(name=alice_name)["data"]["id"]
    identity.create_or_update_entity_alias(name="alice", canonical_id=alice_id, mount_accessor=accessor)
    for user in ("alice", "bob"):
        add_user(srv, mount, user, [policy])
    alice = login(srv, mount, "alice")
    bob = login(srv, mount, "bob")
    assert alice["entity_id"] == alice_id
    bob_entity = identity.read_entity(bob["entity_id"])["data"]
    identity.update_entity(bob["entity_id"], name=bob_name)
    assert bob_entity["aliases"][0]["name"] == "bob"

    kv_put(srv, f"services/{alice_name}/db", {"password": "a"})
    kv_put(srv, f"services/{bob_name}/db", {"password": "b"})
    assert kv_status(srv, alice["client_token"], f"services/{alice_name}/db") == 200
    assert kv_status(srv, alice["client_token"], f"services/{bob_name}/db") == 403
    # The entity was renamed after bob's token was issued: his token follows the entity.
    assert kv_status(srv, bob["client_token"], f"services/{bob_name}/db") == 200
    assert kv_status(srv, bob["client_token"], f"services/{alice_name}/db") == 403
    # A token without an entity gets nothing from the templated rule.
    r = srv.http("POST", "/v1/auth/token/create", token=srv.root_token,
                 json={"policies": [policy], "no_parent": True})
    assert r.status_code == 200, r.text
    plain = r.json()["auth"]["client_token"]
    assert kv_status(srv, plain, f"services/{alice_name}/db") == 403
    r = srv.http("LIST", f"/v1/secret/metadata/services/{alice_name}", token=alice["client_token"])
    assert r.status_code == 403  # the rule covers data/, not metadata/


def test_entity_policies_and_disabling(srv, identity):
    mount, _ = enable_userpass(srv)
    extra = unique("extra")
    put_policy(srv, extra, 'path "secret/data/extra/*" { capabilities = ["read"] }')
    kv_put(srv, "extra/cfg", {"v": "1"})
    add_user(srv, mount, "erin", ["default"])
    first = login(srv, mount, "erin")
    assert kv_status(srv, first["client_token"], "extra/cfg") == 403

    identity.update_entity(first["entity_id"], policies=[extra])
    # The entity's policies apply to its tokens at once, and are reported on login.
    assert kv_status(srv, first["client_token"], "extra/cfg") == 200
    second = login(srv, mount, "erin")
    assert extra in (second.get("identity_policies") or []), second
    assert extra not in second["token_policies"]

    identity.update_entity(first["entity_id"], disabled=True)
    r = srv.http("POST", f"/v1/auth/{mount}/login/erin", json={"password": "pw-erin"})
    assert r.status_code == 403, r.text
    assert kv_status(srv, second["client_token"], "extra/cfg") == 403
    identity.update_entity(first["entity_id"], disabled=False)
    assert kv_status(srv, second["client_token"], "extra/cfg") == 200


def test_templated_policy_on_alias_metadata_and_malformed_template(srv, identity):
    mount, accessor = enable_userpass(srv)
    policy = unique("by-alias")
    put_policy(srv, policy, f'''
path "secret/data/users/{{{{identity.entity.aliases.{accessor}.name}}}}/*" {{
  capabilities = ["read"]
}}
path "secret/data/teams/{{{{identity.entity.metadata.team}}}}/*" {{
  capabilities = ["read"]
}}
''')
    add_user(srv, mount, "frank", [policy])
    auth = login(srv, mount, "frank")
    kv_put(srv, "users/frank/key", {"v": "1"})
    kv_put(srv, "teams/red/key", {"v": "1"})
    assert kv_status(srv, auth["client_token"], "users/frank/key") == 200
    assert kv_status(srv, auth["client_token"], "teams/red/key") == 403  # no metadata yet: rule skipped
    identity.update_entity(auth["entity_id"], metadata={"team": "red"})
    assert kv_status(srv, auth["client_token"], "teams/red/key") == 200

    r = srv.http("PUT", f"/v1/sys/policy/{unique('bad')}", token=srv.root_token,
                 json={"policy": 'path "secret/data/{{identity.entity.nmae}}/*" {\n  capabilities = ["read"]\n}'})
    assert r.status_code == 400, r.text
    assert "1:1" in error_text(r) and "identity.entity.nmae" in error_text(r), r.text


def test_disabling_the_auth_mount_removes_its_aliases(srv, identity):
    mount, accessor = enable_userpass(srv)
    add_user(srv, mount, "gina", ["default"])
    entity_id = login(srv, mount, "gina")["entity_id"]
    assert len(identity.read_entity(entity_id)["data"]["aliases"]) == 1
    r = srv.http("DELETE", f"/v1/sys/auth/{mount}", token=srv.root_token)
    assert r.status_code == 204, r.text
    assert identity.read_entity(entity_id)["data"]["aliases"] == []
    assert no_content(identity.lookup_entity(alias_name="gina", alias_mount_accessor=accessor))
