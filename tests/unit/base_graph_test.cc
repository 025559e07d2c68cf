// base/graph: the one cycle search (the loader's and the scheduler's).
#include <gtest/gtest.h>

#include "base/graph.h"

namespace {

using stack::graph::cycle_text;
using stack::graph::Edges;
using stack::graph::find_cycle;
using Path = std::vector<std::string>;

TEST(BaseGraph, FindsTheFirstCycleInNameOrder) {
  EXPECT_EQ(find_cycle(Edges{{"a", {"b"}}, {"b", {"c"}}, {"c", {}}}), Path{});
  EXPECT_EQ(find_cycle(Edges{{"a", {"b"}}, {"b", {"a"}}}), (Path{"a", "b", "a"}));
  EXPECT_EQ(find_cycle(Edges{{"x", {"x"}}}), (Path{"x", "x"}));
  // The walk from "a" reaches the cycle that does not contain "a".
  EXPECT_EQ(find_cycle(Edges{{"a", {"q"}}, {"p", {"r"}}, {"q", {"r"}}, {"r", {"p"}}}), (Path{"r", "p", "r"}));
  // Two cycles: the one met first, edges taken smallest name first.
  EXPECT_EQ(find_cycle(Edges{{"a", {"c", "b"}}, {"b", {"a"}}, {"c", {"a"}}}), (Path{"a", "b", "a"}));
  // A diamond is no cycle; an edge to an unknown name is ignored.
  EXPECT_EQ(find_cycle(Edges{{"a", {"b", "c"}}, {"b", {"d"}}, {"c", {"d"}}, {"d", {"nosuch"}}}), Path{});
  EXPECT_EQ(cycle_text({"p", "q", "r", "p"}), "p -> q -> r -> p");
  EXPECT_EQ(cycle_text({}), "");
}

}  // namespace
