// The KV secrets engine ("kv", and Vault's older name "generic").
//
// Version 1 stores one JSON object per path, unversioned, exactly as Vault's KV v1 API: GET
// reads, POST/PUT replaces the whole object, DELETE removes it, LIST lists keys (folders end in
// '/'); PATCH is 405.
//
// Version 2 is Vault's versioned engine: config, data/ (read ?version, write with check-and-set,
// JSON merge PATCH, soft DELETE), delete/, undelete/, destroy/, metadata/ (read, write, patch,
// delete, list) and subkeys/, with the same paths, fields, status codes, response shapes and
// error texts as Vault's vault-plugin-secrets-kv.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/status.h"
#include "logical/backend.h"

namespace coffer::kv {

// The engine's source of "now" (created_time, deletion_time, delete_version_after). Tests inject
// a fake; an empty KvClock means std::chrono::system_clock::now.
using KvClock = std::function<std::chrono::system_clock::time_point()>;

// The engine for a mount: options["version"] "1", "" or absent gives KV v1, "2" gives KV v2
// (NewKvV2Backend, which upgrades v1 data first); anything else is InvalidArgument naming the
// allowed values.
StatusOr<std::unique_ptr<logical::Backend>> NewKvBackend(const logical::BackendConfig& config);

// KV version 1. Reads report config.default_lease_ttl_seconds as lease_duration, or the
// secret's own "ttl" (else "lease") field when it parses as a duration; no lease is created.
// Data lives in req.storage (the mount's view), one compact JSON object per key, at the key
// equal to the secret's path. Thread-safe.
StatusOr<std::unique_ptr<logical::Backend>> NewKvV1Backend(const logical::BackendConfig& config);

// KV version 2. When config.storage is set and does not carry the upgrade marker, the view is
// upgraded first (UpgradeV1ToV2), as Vault upgrades a mount when it is enabled or tuned to
// version 2; an upgrade failure fails the factory. Requests use req.storage, which must be the
// same view. Thread-safe: writers of one secret are serialized by the backend, so concurrent
// check-and-set writes have exactly one winner; different secrets proceed in parallel.
//
// Two answers need the API layer to render raw_status/raw_body verbatim (it does): a read of a
// deleted or destroyed version is 404 with the full response envelope
// ({"request_id", ..., "data": {"data": null, "metadata": {...}}, ...}), and paths outside
// config/data/metadata/delete/undelete/destroy/subkeys are 404 with Vault's warning.
StatusOr<std::unique_ptr<logical::Backend>> NewKvV2Backend(const logical::BackendConfig& config,
                                                           KvClock clock = nullptr);

// Converts every KV v1 secret in `storage` (a mount's view: one compact JSON object per key) into
// version 1 of a KV v2 secret with fresh metadata, then writes the "upgrade-done" marker. Each
// secret moves in one storage transaction (its v2 records appear and the v1 key disappears
// together), and progress is recorded in the same transaction, so a crash at any point loses
// nothing and calling it again finishes the job; once the marker exists it returns at once.
// v1 keys that collide with the v2 layout ("config", "metadata/...", "versions/...") are
// converted too. Must not run while anything else writes to the view. An empty view just gets
// the marker.
Status UpgradeV1ToV2(logical::Storage* storage, KvClock clock = nullptr);

}  // namespace coffer::kv
