// The README's table of Compose service fields names every property the
// Compose schema gives a service, so a field is never left undocumented
// (and a field added to the schema fails here until the table says what
// stack does with it).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/io.h"

namespace {

using stack::io::read_text;

TEST(ReadmeFields, EveryServiceFieldOfTheSchemaIsInTheTable) {
  const std::string readme = read_text(std::string(STACK_SOURCE_DIR) + "/README.md");
  const auto start = readme.find("**Compose service fields.**");
  ASSERT_NE(start, std::string::npos) << "README.md has no Compose service fields table";
  const auto end = readme.find("\n\n", readme.find("| --- |", start));
  const std::string table = readme.substr(start, end - start);
  auto schema = nlohmann::json::parse(read_text(std::string(STACK_SOURCE_DIR) + "/orchestrator/compose/compose-spec.schema.json"));
  const auto& props = schema["definitions"]["service"]["properties"];
  ASSERT_GT(props.size(), 50u);
  for (const auto& [name, def] : props.items())
    EXPECT_NE(table.find("`" + name + "`"), std::string::npos) << "README's field table does not name `" << name << "`";
}

}  // namespace
