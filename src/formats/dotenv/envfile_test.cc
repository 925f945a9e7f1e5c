#include "formats/dotenv/envfile.h"

#include <gtest/gtest.h>

namespace coffer::dotenv {
namespace {

TEST(EnvFile, EncryptCreatesKeysAndBannerThenDecrypts) {
  std::string text = "# top\nA=1\n\nexport B=\"two\"\nC_PLAIN=x\nML=\"l1\nl2\"\n";
  auto enc = EncryptEnvFile(".env.production", text, std::nullopt, {}, {});
  ASSERT_TRUE(enc.ok()) << enc.status().message();
  ASSERT_TRUE(enc->keys_text.has_value());
  EXPECT_EQ(enc->keys_text->rfind(kKeysFileBanner, 0), 0u);
  EXPECT_NE(enc->keys_text->find("\n\n# .env.production\nDOTENV_PRIVATE_KEY_PRODUCTION="), std::string::npos);
  std::string expected_head = std::string(kPublicKeyBanner) + "DOTENV_PUBLIC_KEY_PRODUCTION=\"" +
                              enc->public_key_hex + "\"\n\n# .env.production\n# top\nA=encrypted:";
  EXPECT_EQ(enc->env_text.rfind(expected_head, 0), 0u) << enc->env_text;
  EXPECT_NE(enc->env_text.find("\nexport B=\"encrypted:"), std::string::npos);
  EXPECT_NE(enc->env_text.find("\nC_PLAIN=x\n"), std::string::npos);
  EXPECT_EQ(enc->changed_keys, (std::vector<std::string>{"A", "B", "ML"}));

  auto r = ResolveEnvFile(".env.production", enc->env_text, enc->keys_text, {});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(*r.Get("ML"), "l1\nl2");

  auto dec = DecryptEnvFile(".env.production", enc->env_text, enc->keys_text, {}, {});
  ASSERT_TRUE(dec.ok()) << dec.status().message();
  EXPECT_NE(dec->env_text.find("# top\nA=1\n\nexport B=\"two\"\nC_PLAIN=x\nML=\"l1\nl2\"\n"), std::string::npos);

  // Encrypting again changes nothing but new plaintext, and reuses the public key.
  auto again = EncryptEnvFile(".env.production", dec->env_text, enc->keys_text, {}, {});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->keys_text.has_value());
  EXPECT_EQ(again->public_key_hex, enc->public_key_hex);
}

TEST(EnvFile, KeysFromEnvironmentListAndErrors) {
  auto enc = EncryptEnvFile(".env", "S=secret\n", std::nullopt, {}, {});
  ASSERT_TRUE(enc.ok());
  KeyPair other = GenerateKeyPair();
  std::string good = std::string(Document::Parse(*enc->keys_text).Find("DOTENV_PRIVATE_KEY")->value);
  // Environment list: a wrong key first, the right one second.
  Environment env{{"DOTENV_PRIVATE_KEY", std::string(other.PrivateKeyHex().c_str()) + "," + good}};
  auto r = ResolveEnvFile(".env", enc->env_text, std::nullopt, env);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(*r.Get("S"), "secret");

  auto missing = DecryptEnvFile(".env", enc->env_text, std::nullopt, {}, {});
  EXPECT_NE(missing.status().message().find("[MISSING_PRIVATE_KEY]"), std::string::npos);
  auto invalid = DecryptEnvFile(".env", enc->env_text, std::nullopt, {{"DOTENV_PRIVATE_KEY", "abc"}}, {});
  EXPECT_NE(invalid.status().message().find("[INVALID_PRIVATE_KEY]"), std::string::npos);
  Environment wrong_env{{"DOTENV_PRIVATE_KEY", std::string(other.PrivateKeyHex().c_str())}};
  auto wrong = DecryptEnvFile(".env", enc->env_text, std::nullopt, wrong_env, {});
  EXPECT_NE(wrong.status().message().find("[WRONG_PRIVATE_KEY]"), std::string::npos);
  EXPECT_EQ(wrong.status().message().find(good), std::string::npos);
  auto malformed = DecryptEnvFile(".env", "X=encrypted:!!!\n", enc->keys_text, {}, {});
  EXPECT_NE(malformed.status().message().find("[MALFORMED_ENCRYPTED_DATA]"), std::string::npos);
}

TEST(EnvFile, FilterAndRotate) {
  KeyFilter f;
  f.include = {"API_*"};
  f.exclude = {"API_PUBLIC"};
  auto enc = EncryptEnvFile(".env", "API_KEY=1\nAPI_PUBLIC=2\nOTHER=3\n", std::nullopt, {}, f);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(enc->changed_keys, std::vector<std::string>{"API_KEY"});
  auto plan = PlanRotate(".env", enc->env_text, enc->keys_text, {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->reencrypted, 1u);
  EXPECT_NE(plan->public_key_hex, enc->public_key_hex);
  // The transition keys file decrypts the old and the new file; the final one the new file.
  EXPECT_TRUE(ResolveEnvFile(".env", enc->env_text, plan->keys_transition, {}).errors.empty());
  EXPECT_TRUE(ResolveEnvFile(".env", plan->env_text, plan->keys_transition, {}).errors.empty());
  auto r = ResolveEnvFile(".env", plan->env_text, plan->keys_final, {});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(*r.Get("API_KEY"), "1");
  EXPECT_FALSE(ResolveEnvFile(".env", enc->env_text, plan->keys_final, {}).errors.empty());
}

TEST(EnvFile, UpsertKeysFileAppendsBlocks) {
  auto a = UpsertKeysFile(std::nullopt, ".env.production", "DOTENV_PRIVATE_KEY_PRODUCTION", "aa");
  ASSERT_TRUE(a.ok());
  auto b = UpsertKeysFile(*a, ".env", "DOTENV_PRIVATE_KEY", "bb");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, std::string(kKeysFileBanner) +
                    "\n# .env.production\nDOTENV_PRIVATE_KEY_PRODUCTION=aa\n\n# .env\nDOTENV_PRIVATE_KEY=bb\n");
  auto c = UpsertKeysFile(*b, ".env", "DOTENV_PRIVATE_KEY", "cc");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->find("DOTENV_PRIVATE_KEY=cc\n"), std::string::npos);
  EXPECT_EQ(c->find("=bb"), std::string::npos);
}

}  // namespace
}  // namespace coffer::dotenv

namespace coffer::dotenv {
namespace {

// Rotation never locks out: whichever write fails, the files on "disk" still decrypt.
TEST(EnvFile, CommitRotateRestoresOnFailure) {
  auto enc = EncryptEnvFile(".env", "S=secret\n", std::nullopt, {}, {});
  ASSERT_TRUE(enc.ok());
  auto plan = PlanRotate(".env", enc->env_text, enc->keys_text, {});
  ASSERT_TRUE(plan.ok());
  for (int fail_at = 0; fail_at < 3; ++fail_at) {
    std::map<std::string, std::string> disk{{".env", enc->env_text}, {".env.keys", *enc->keys_text}};
    int call = 0;
    FileWriter writer = [&](const std::string& path, const std::string& data, unsigned, bool) -> Status {
      if (call++ == fail_at) return Unavailable("injected failure");
      disk[path] = data;
      return OkStatus();
    };
    std::string warning;
    Status s = CommitRotate(*plan, ".env", ".env.keys", enc->keys_text, writer, &warning);
    EXPECT_EQ(s.ok(), fail_at == 2) << fail_at;
    EXPECT_EQ(warning.empty(), fail_at != 2) << fail_at;
    Resolved r = ResolveEnvFile(".env", disk[".env"], disk[".env.keys"], {});
    EXPECT_TRUE(r.errors.empty()) << "locked out when step " << fail_at << " fails";
    EXPECT_EQ(*r.Get("S"), "secret");
    if (fail_at == 1) EXPECT_EQ(disk[".env.keys"], *enc->keys_text);
  }
}

}  // namespace
}  // namespace coffer::dotenv
