#include "orchestrator/compose/merge.h"

#include <set>

namespace stack::compose {

namespace {

void list_to_map(Node& n) {
  if (!n.is_seq()) return;
  Node m = Node::make_map(n.mark);
  m.tag = n.tag;
  for (auto& item : n.items) {
    if (!item.is_scalar()) continue;
    auto eq = item.scalar.find('=');
    Node v;
    v.mark = item.mark;
    if (eq != std::string::npos) v = Node::make_scalar(item.scalar.substr(eq + 1), item.mark), v.quoted = true;
    m.entries.push_back(Entry{item.scalar.substr(0, eq), item.mark, std::move(v)});
  }
  n = std::move(m);
}

void names_to_map(Node& n, bool depends_on) {
  if (!n.is_seq()) return;
  Node m = Node::make_map(n.mark);
  m.tag = n.tag;
  for (auto& item : n.items) {
    Node v;
    v.mark = item.mark;
    if (depends_on) {
      v = Node::make_map(item.mark);
      v.set("condition", Node::make_scalar("service_started", item.mark));
    }
    m.entries.push_back(Entry{item.scalar, item.mark, std::move(v)});
  }
  n = std::move(m);
}

void labels_of(Node* owner) {
  if (!owner || !owner->is_map()) return;
  if (Node* l = owner->find("labels")) list_to_map(*l);
}

// The identity of a sequence item for keyed merges; "" = no key.
std::string volume_target(const Node& item) {
  if (item.is_map()) {
    const Node* t = item.find("target");
    return t && t->is_scalar() ? t->scalar : canonical(item);
  }
  const std::string& s = item.scalar;
  auto c1 = s.find(':');
  if (c1 == std::string::npos) return s;
  auto c2 = s.find(':', c1 + 1);
  return s.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
}

std::string field_key(const Node& item, const char* field) {
  if (item.is_map()) {
    const Node* t = item.find(field);
    return t && t->is_scalar() ? t->scalar : canonical(item);
  }
  return canonical(item);
}

enum class SeqRule { Replace, Append, ByTarget, BySource, ByPath };

SeqRule rule_for(const std::string& rel) {  // rel: path inside a service
  if (rel == "command" || rel == "entrypoint" || rel == "healthcheck.test") return SeqRule::Replace;
  if (rel == "volumes") return SeqRule::ByTarget;
  if (rel == "secrets" || rel == "configs") return SeqRule::BySource;
  if (rel == "env_file") return SeqRule::ByPath;
  return SeqRule::Append;
}

std::string key_of(const Node& item, SeqRule rule) {
  switch (rule) {
    case SeqRule::ByTarget: return volume_target(item);
    case SeqRule::BySource: return field_key(item, "source");
    case SeqRule::ByPath: return field_key(item, "path");
    default: return canonical(item);
  }
}

void merge_seq(Node& base, const Node& over, SeqRule rule) {
  if (rule == SeqRule::Replace) {
    base = over;
    return;
  }
  for (auto& item : over.items) {
    std::string k = key_of(item, rule);
    bool replaced = false;
    for (auto& b : base.items)
      if (key_of(b, rule) == k) {
        b = item;
        replaced = true;
        break;
      }
    if (!replaced) base.items.push_back(item);
  }
}

// `rel` is the path relative to the service ("" at the service itself).
void merge_value(Node& base, const Node& over, const std::string& rel) {
  if (over.tag == "!override" || base.kind != over.kind || over.is_scalar() || over.is_null()) {
    base = over;
    base.tag.clear();
    return;
  }
  if (over.is_seq()) {
    merge_seq(base, over, rule_for(rel));
    return;
  }
  for (auto& e : over.entries) {
    if (e.value.tag == "!reset") {
      base.erase(e.key);
      continue;
    }
    Node* b = base.find(e.key);
    if (!b) {
      Node v = e.value;
      v.tag.clear();
      base.entries.push_back(Entry{e.key, e.mark, std::move(v)});
      continue;
    }
    merge_value(*b, e.value, join_path(rel, e.key));
  }
}

}  // namespace

void canonicalize_service(Node& svc) {
  if (!svc.is_map()) return;
  for (const char* k : {"environment", "labels", "annotations", "sysctls"})
    if (Node* n = svc.find(k)) list_to_map(*n);
  // `build: ./dir` is {context: ./dir}, so an override's `build: {target: x}`
  // merges into it as in Compose.
  if (Node* b = svc.find("build"); b && b->is_scalar()) {
    Node m = Node::make_map(b->mark);
    m.tag = b->tag;
    m.set("context", Node::make_scalar(b->scalar, b->mark));
    *b = std::move(m);
  }
  if (Node* b = svc.find("build"); b && b->is_map())
    if (Node* a = b->find("args")) list_to_map(*a);
  if (Node* d = svc.find("deploy")) labels_of(d);
  if (Node* n = svc.find("depends_on")) names_to_map(*n, true);
  if (Node* n = svc.find("networks")) names_to_map(*n, false);
}

void canonicalize(Node& root) {
  if (!root.is_map()) return;
  if (Node* services = root.find("services"); services && services->is_map())
    for (auto& e : services->entries) canonicalize_service(e.value);
  for (const char* top : {"networks", "volumes", "configs", "secrets"})
    if (Node* t = root.find(top); t && t->is_map())
      for (auto& e : t->entries) labels_of(&e.value);
}

void merge_service(Node& base, const Node& over) { merge_value(base, over, ""); }

void merge_documents(Node& base, const Node& over) {
  for (auto& e : over.entries) {
    if (e.value.tag == "!reset") {
      base.erase(e.key);
      continue;
    }
    Node* b = base.find(e.key);
    if (!b || !b->is_map() || !e.value.is_map() || e.value.tag == "!override") {
      Node v = e.value;
      v.tag.clear();
      base.set(e.key, std::move(v));
      continue;
    }
    // services / networks / volumes / ...: merge entry by entry.
    for (auto& item : e.value.entries) {
      if (item.value.tag == "!reset") {
        b->erase(item.key);
        continue;
      }
      Node* bi = b->find(item.key);
      if (!bi) {
        b->entries.push_back(item);
        continue;
      }
      if (e.key == "services") merge_service(*bi, item.value);
      else merge_value(*bi, item.value, "");
    }
  }
}

void strip_merge_tags(Node& n) {
  if (n.tag == "!reset") {
    Node empty;
    empty.mark = n.mark;
    empty.kind = n.kind == Node::Kind::Scalar ? Node::Kind::Null : n.kind;
    n = std::move(empty);
  }
  n.tag.clear();
  for (auto& i : n.items) strip_merge_tags(i);
  for (auto& e : n.entries) strip_merge_tags(e.value);
}

}  // namespace stack::compose
