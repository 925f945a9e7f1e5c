// The AWS Secrets Manager key provider (`-p aws`): GetSecretValue / PutSecretValue / CreateSecret
// over Secrets Manager's JSON 1.1 protocol (POST / with X-Amz-Target), signed with our SigV4
// signer (keysync/sigv4.h). Credentials and region come from the AWS environment as the AWS CLI
// reads them (s3/credentials.h). This header is the testable seam: the environment, the HTTP
// transport and the clock are parameters; MakeAwsProvider (providers.h) passes the process's.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "keysync/providers.h"
#include "keysync/sigv4.h"
#include "keysync/sync.h"
#include "net/http_call.h"
#include "s3/credentials.h"

namespace coffer::keysync {

using AwsHttpTransport = std::function<StatusOr<net::HttpReply>(const net::HttpCall&)>;

// Region: settings.region, else AWS_REGION / AWS_DEFAULT_REGION / the profile's region, else
// us-east-1. Endpoint: AWS_ENDPOINT_URL_SECRETS_MANAGER, else AWS_ENDPOINT_URL (both ignored when
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else https://secretsmanager.<region>.amazonaws.com
// (.amazonaws.com.cn for cn-* regions). Credentials: environment, then the shared credentials and
// config files for AWS_PROFILE. CA bundle: AWS_CA_BUNDLE. kInvalidArgument naming the setting or
// variable at fault (no credentials: names the variables to set). No network call happens here.
// Fetch of an absent secret is kNotFound; a refused key, signature or token is kPermissionDenied
// naming the problem; other failures kUnavailable with the service's error type. vault_name is
// not used. Not thread-safe (one sync at a time).
StatusOr<std::unique_ptr<KeyProvider>> NewAwsProvider(const ProviderSettings& settings, const s3::AwsEnvironment& env,
                                                      AwsHttpTransport http, sigv4::Signer::Clock clock = {});

// A SecretId Secrets Manager accepts: a name of 1–512 characters of [A-Za-z0-9/_+=.@-], or a
// secret ARN ("arn:..."; up to 2048 characters, ':' allowed). kInvalidArgument otherwise.
Status CheckAwsSecretName(std::string_view name);

// The error type of a JSON-protocol error body's __type: "a.b#ResourceNotFoundException:http://x"
// → "ResourceNotFoundException".
std::string AwsErrorType(std::string_view type);

}  // namespace coffer::keysync
