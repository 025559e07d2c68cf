#include "netplane/bridge.h"

#include <net/if.h>

#include <cerrno>
#include <cstring>

#include <netlink/errno.h>
#include <netlink/route/link/bridge.h>

namespace stack::net {

std::string link_tag(const std::string& network) { return kLinkTagPrefix + network; }

namespace {

std::string type_of(rtnl_link* link) {
  const char* t = rtnl_link_get_type(link);
  return t ? t : "";
}

}  // namespace

Result<void> ensure_bridge(NetlinkSocket& sock, const std::string& name, unsigned mtu,
                           const std::string& gateway_cidr, const std::string& network) {
  const std::string what = "ensure bridge " + name + " in " + sock.where();
  if (auto gw = parse_ipv4(gateway_cidr); !gw) return tl::unexpected(gw.error().wrap(what));
  const std::string tag = link_tag(network);

  auto cur = get_link(sock, name);
  if (!cur) return tl::unexpected(cur.error().wrap(what));
  if (!*cur) {
    LinkPtr br(rtnl_link_bridge_alloc());
    if (!br) return stack::fail(what + ": allocate link", ENOMEM);
    rtnl_link_set_name(br.get(), name.c_str());
    if (mtu) rtnl_link_set_mtu(br.get(), mtu);
    // IFLA_IFALIAS is ignored on creation; the change below sets it.
    int err = rtnl_link_add(sock.get(), br.get(), NLM_F_CREATE | NLM_F_EXCL);
    // EEXIST: someone made it between our lookup and the add; the checks
    // below decide whether what they made is acceptable.
    if (err < 0 && err != -NLE_EXIST) return tl::unexpected(sock.error(err, what + ": create"));
    cur = get_link(sock, name);
    if (!cur) return tl::unexpected(cur.error().wrap(what));
    if (!*cur) return stack::fail(what + ": vanished after create", ENODEV);
  }
  if (type_of(cur->get()) != "bridge")
    return stack::fail(what + ": a link of that name exists and is not a bridge (type \"" +
                        type_of(cur->get()) + "\")",
                    EEXIST);

  // One RTM_NEWLINK/SETLINK carrying everything we want; harmless when it
  // already matches.
  LinkPtr change(rtnl_link_alloc());
  if (!change) return stack::fail(what + ": allocate link", ENOMEM);
  if (mtu) rtnl_link_set_mtu(change.get(), mtu);
  rtnl_link_set_ifalias(change.get(), tag.c_str());
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sock.get(), cur->get(), change.get(), 0); err < 0)
    return tl::unexpected(sock.error(err, what + ": set mtu/alias/up"));

  if (auto r = add_ipv4_address(sock, rtnl_link_get_ifindex(cur->get()), name, gateway_cidr); !r)
    return tl::unexpected(r.error().wrap(what));
  return {};
}

Result<void> delete_bridge(NetlinkSocket& sock, const std::string& name) {
  const std::string what = "delete bridge " + name + " in " + sock.where();
  auto cur = get_link(sock, name);
  if (!cur) return tl::unexpected(cur.error().wrap(what));
  if (!*cur) return {};
  if (type_of(cur->get()) != "bridge")
    return stack::fail(what + ": link is not a bridge (type \"" + type_of(cur->get()) + "\")", EINVAL);
  int err = rtnl_link_delete(sock.get(), cur->get());
  if (err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND)
    return tl::unexpected(sock.error(err, what));
  return {};
}

Result<std::vector<TaggedLink>> list_tagged_links(NetlinkSocket& sock, const std::string& prefix) {
  nl_cache* raw = nullptr;
  int err = rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &raw);
  CachePtr cache(raw);
  if (err < 0) return tl::unexpected(sock.error(err, "list links in " + sock.where()));
  std::vector<TaggedLink> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* link = reinterpret_cast<rtnl_link*>(o);
    const char* alias = rtnl_link_get_ifalias(link);
    if (!alias || std::strncmp(alias, prefix.c_str(), prefix.size()) != 0) continue;
    const char* n = rtnl_link_get_name(link);
    out.push_back(TaggedLink{n ? n : "", rtnl_link_get_ifindex(link), alias, type_of(link)});
  }
  return out;
}

}  // namespace stack::net
