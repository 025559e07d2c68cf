#include "orchestrator/daemon/store/etcd_auth.h"

#include <chrono>

#include "orchestrator/daemon/store/etcd/etcd_conn.h"

namespace stack::orch {
namespace {

namespace pb = etcdserverpb;

// One auth call; the reply carries nothing we use.
template <class Response, class Request, class Method>
stack::Result<void> call(etcd::Conn& conn, Method method, const Request& req, const std::string& what) {
  auto r = conn.unary<Response>(conn.auth(), method, req, what);
  if (!r) return tl::unexpected(r.error());
  return {};
}

stack::Result<void> add_user(etcd::Conn& conn, const std::string& user) {
  pb::AuthUserAddRequest req;
  req.set_name(user);
  req.mutable_options()->set_no_password(true);
  return call<pb::AuthUserAddResponse>(conn, &pb::Auth::Stub::UserAdd, req,
                                                               "add user " + user);
}

stack::Result<void> grant_role(etcd::Conn& conn, const std::string& user, const std::string& role) {
  pb::AuthUserGrantRoleRequest req;
  req.set_user(user);
  req.set_role(role);
  return call<pb::AuthUserGrantRoleResponse>(
      conn, &pb::Auth::Stub::UserGrantRole, req, "grant " + role + " to " + user);
}

}  // namespace

stack::Result<void> etcd_enable_auth(const EtcdOptions& options, const std::vector<std::string>& root_users) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  STACK_TRY(add_user(**conn, "root"));
  STACK_TRY(grant_role(**conn, "root", "root"));
  for (const auto& u : root_users) {
    STACK_TRY(add_user(**conn, u));
    STACK_TRY(grant_role(**conn, u, "root"));
  }
  return call<pb::AuthEnableResponse>(**conn, &pb::Auth::Stub::AuthEnable,
                                                             pb::AuthEnableRequest{}, "enable authentication");
}

stack::Result<void> etcd_add_root_user(const EtcdOptions& options, const std::string& user) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  STACK_TRY(add_user(**conn, user));
  return grant_role(**conn, user, "root");
}

stack::Result<void> etcd_add_limited_user(const EtcdOptions& options, const std::string& user,
                                          const std::vector<EtcdPermission>& permissions) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error());
  pb::AuthRoleAddRequest role;
  role.set_name(user);
  STACK_TRY((call<pb::AuthRoleAddResponse>(**conn, &pb::Auth::Stub::RoleAdd, role,
                                                                   "add role " + user)));
  for (const auto& p : permissions) {
    pb::AuthRoleGrantPermissionRequest req;
    req.set_name(user);
    auto* perm = req.mutable_perm();
    perm->set_permtype(p.kind == EtcdPermission::Read    ? pb::Permission::READ
                       : p.kind == EtcdPermission::Write ? pb::Permission::WRITE
                                                         : pb::Permission::READWRITE);
    (*conn)->set_range(p.key, p.prefix, perm->mutable_key(), perm->mutable_range_end());
    STACK_TRY((call<pb::AuthRoleGrantPermissionResponse>(
        **conn, &pb::Auth::Stub::RoleGrantPermission, req, "grant " + p.key + " to role " + user)));
  }
  STACK_TRY(add_user(**conn, user));
  return grant_role(**conn, user, user);
}

stack::Result<void> etcd_remove_user(const EtcdOptions& options, const std::string& user) {
  auto conn = etcd::Conn::open(options);
  if (!conn) return tl::unexpected(conn.error().wrap("remove etcd user " + user));
  // Either may be absent already (a worker's role, a user removed before).
  // A delete that timed out in a raft election may or may not have been
  // applied: deleting again is safe, "not found" then means it was.
  auto absent = [](const stack::Error& e) { return e.message().find("not found") != std::string::npos; };
  auto timed_out = [](const stack::Error& e) { return e.message().find("request timed out") != std::string::npos; };
  auto remove = [&](auto&& attempt) -> stack::Result<void> {
    auto r = etcd::retry_until(std::chrono::steady_clock::now() + std::chrono::seconds(10),
                               std::chrono::milliseconds(100), attempt,
                               [&](const auto& tried) { return !tried && !absent(tried.error()) && timed_out(tried.error()); });
    if (r || absent(r.error())) return {};
    return r;
  };
  pb::AuthUserDeleteRequest u;
  u.set_name(user);
  STACK_TRY(remove([&] {
    return call<pb::AuthUserDeleteResponse>(**conn, &pb::Auth::Stub::UserDelete, u, "delete user " + user);
  }));
  pb::AuthRoleDeleteRequest role;
  role.set_role(user);
  return remove([&] {
    return call<pb::AuthRoleDeleteResponse>(**conn, &pb::Auth::Stub::RoleDelete, role, "delete role " + user);
  });
}

}  // namespace stack::orch
