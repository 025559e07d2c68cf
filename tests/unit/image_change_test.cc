// `stack image import --change`: Dockerfile instructions applied to an image
// config the way `docker import --change` applies them.
#include <gtest/gtest.h>

#include "runtime/image/import.h"

using namespace stack::img;

namespace {

ImageConfig apply(const std::vector<std::string>& changes) {
  ImageConfig c;
  for (auto& ch : changes) {
    auto r = apply_change(c, ch);
    EXPECT_TRUE(r) << ch << ": " << r.error().message();
  }
  return c;
}

TEST(ImageChange, CmdAndEntrypointTakeJsonOrShellForm) {
  auto c = apply({R"(CMD ["/bin/sh","-c","echo hi"])", "ENTRYPOINT /docker-entrypoint.sh --flag"});
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(c.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "/docker-entrypoint.sh --flag"}));
  // Not valid JSON: shell form, as the Dockerfile parser falls back.
  c = apply({"cmd [not json"});
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"/bin/sh", "-c", "[not json"}));
}

TEST(ImageChange, EnvPairsQuotesLegacyFormAndOverride) {
  auto c = apply({R"(ENV A=1 B="two words" C=a\ b)", "ENV LEGACY value with spaces", "ENV A=3"});
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=3", "B=two words", "C=a b", "LEGACY=value with spaces"}));
}

TEST(ImageChange, PortsVolumesLabelsAndScalars) {
  auto c = apply({"EXPOSE 80 53/UDP", "EXPOSE 80/tcp", R"(VOLUME ["/data", "/logs"])", "VOLUME /cache",
                  R"(LABEL a=1 "b c"=2)", "WORKDIR /srv", "WORKDIR app", "USER 1000:1000", "STOPSIGNAL SIGINT"});
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"80/tcp", "53/udp"}));
  EXPECT_EQ(c.volumes, (std::vector<std::string>{"/data", "/logs", "/cache"}));
  EXPECT_EQ(c.labels.at("a"), "1");
  EXPECT_EQ(c.labels.at("b c"), "2");
  EXPECT_EQ(c.working_dir, "/srv/app");
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_EQ(c.stop_signal, "SIGINT");
}

TEST(ImageChange, ErrorsNameTheInstruction) {
  ImageConfig c;
  for (const char* bad : {"RUN rm -rf /", "ENV", "EXPOSE eighty", "LABEL novalue", R"(ENV A="open)", ""}) {
    auto r = apply_change(c, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("--change"), std::string::npos) << r.error().message();
  }
}

}  // namespace
