// .env and env_file parsing as Compose (compose-go's dotenv) does:
//   KEY=VAL, `export KEY=VAL`, blank lines and `# comments`, `VAL # comment`
//   (the # after whitespace), 'single quoted' (literal), "double quoted"
//   (escapes \n \t \r \" \\ \$ and interpolation), quoted values may span
//   lines, unquoted and double-quoted values interpolate ${VAR} from earlier
//   lines then `lookup`; a bare `KEY` takes its value from `lookup` and is
//   left out when that has none.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "orchestrator/compose/interpolation.h"

namespace stack::compose {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// `name` is used in messages: "name:line: ...".
stack::Result<EnvList> parse_env_text(const std::string& text, const std::string& name, const Lookup& lookup);
stack::Result<EnvList> read_env_file(const std::string& path, const std::string& display, const Lookup& lookup);

}  // namespace stack::compose
