// stack: the user-facing CLI.
//   stack up|down|ps|logs|exec|run|scale|start|stop|restart|pull|config|top|
//         stats|events|inspect|ls|version   (stack verbs, cli/stack_verbs.cc)
//   stack image pull|push|load|import|ls|inspect|rm|prune
//   stack images | pull NAME | push | rmi | system df | login
//   stack node init|ls|join-token  (the cluster, cli/node_commands.cc)
// Image verbs go to stackd (image_commands.h) unless --image-root names a
// store to work on directly (image_offline.h).
// Errors are one line, "stack: ...", and exit status 1.
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include <CLI/CLI.hpp>

#include "orchestrator/cli/image_commands.h"
#include "orchestrator/cli/image_offline.h"
#include "orchestrator/cli/node_commands.h"
#include "orchestrator/cli/stack_verbs.h"

namespace {

int report(const stack::Result<>& r) {
  if (r) return 0;
  std::cerr << "stack: " << r.error().message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace stack::cli;
  offline::remember_command_line(argc, argv);
  CLI::App app{"stack: compose-style stacks, containers and images", "stack"};
  app.require_subcommand(1);
  GlobalOptions g;
  StackVerbs verbs;
  g.client = &verbs.stack.client;  // image verbs go to the daemon the stack verbs use
  app.add_option("--image-root", g.image_root,
                 "image verbs work on this store directly, without stackd (to prepare a store offline)");
  app.add_option("--registry-mirror", g.registry_mirrors,
                 "with --image-root: mirror for a registry: docker.io=URL (repeatable)");
  app.add_option("--insecure-registry", g.insecure_registries,
                 "with --image-root: talk plain HTTP / unverified TLS to HOST (repeatable)");
  app.set_version_flag("-v,--version", "stack version 0.1.0");
  app.fallthrough();

  auto* image = app.add_subcommand("image", "manage images");
  image->require_subcommand(1);

  // Verbs registered under `image` and, for Docker's aliases, at top level.
  std::string name, name2, path;
  std::vector<std::string> names, changes;
  bool quiet = false, password_stdin = false;
  std::string user;
  std::function<Result<>()> action;

  auto add_pull = [&](CLI::App* parent, const std::string& verb) {
    auto* c = parent->add_subcommand(verb, "download an image from a registry");
    c->add_option("name", name, "NAME[:TAG|@DIGEST]")->required();
    c->add_flag("-q,--quiet", quiet, "print only the image name");
    c->callback([&] { action = [&] { return cmd_image_pull(g, name, quiet); }; });
  };
  auto add_push = [&](CLI::App* parent, const std::string& verb) {
    auto* c = parent->add_subcommand(verb, "upload an image to a registry");
    c->add_option("name", name, "local image")->required();
    c->add_option("remote", name2, "remote name (default: the local name)");
    c->add_flag("-q,--quiet", quiet, "no progress");
    c->callback([&] { action = [&] { return cmd_image_push(g, name, name2.empty() ? name : name2, quiet); }; });
  };
  auto add_ls = [&](CLI::App* parent, const std::string& verb) {
    auto* c = parent->add_subcommand(verb, "list images");
    c->add_flag("-q,--quiet", quiet, "print only image ids");
    c->callback([&] { action = [&] { return cmd_image_ls(g, quiet); }; });
    return c;
  };
  add_pull(image, "pull");
  add_push(image, "push");
  add_ls(image, "ls")->alias("list");
  // Top-level `pull NAME` pulls an image; `pull` alone pulls the stack's images.
  auto* top_pull = app.add_subcommand("pull", "pull an image, or (no NAME) every image of the stack");
  top_pull->add_option("name", name, "NAME[:TAG|@DIGEST]");
  top_pull->add_flag("-q,--quiet", quiet, "print only the image name");
  top_pull->callback([&] {
    action = [&] { return name.empty() ? cmd_stack_pull(verbs.stack, g, quiet) : cmd_image_pull(g, name, quiet); };
  });
  add_push(&app, "push");
  add_ls(&app, "images");

  auto* load = image->add_subcommand("load", "load images from a docker-save archive or an OCI layout");
  load->add_option("file", path, "archive or OCI layout directory (default: stdin)");
  load->add_option("-i,--input", path, "archive or OCI layout directory");
  load->add_flag("-q,--quiet", quiet, "print only the loaded names");
  load->callback([&] {
    action = [&]() -> Result<> {
      // As `docker load`: no file means the archive comes on stdin.
      if (path.empty()) {
        if (::isatty(0)) return stack::fail("image load: give an archive (FILE, -i FILE, or on stdin)");
        path = "-";
      }
      return cmd_image_load(g, path, quiet);
    };
  });

  auto* imp = image->add_subcommand("import", "create an image from a root filesystem tar");
  imp->add_option("file", path, "ROOTFS.tar")->required();
  imp->add_option("name", name, "NAME[:TAG]")->required();
  imp->add_option("-c,--change", changes, "Dockerfile instruction to apply (repeatable)");
  imp->callback([&] { action = [&] { return cmd_image_import(g, path, name, changes); }; });

  auto* inspect = image->add_subcommand("inspect", "print images' manifest and config as JSON");
  inspect->add_option("names", names, "images")->required();
  inspect->callback([&] { action = [&] { return cmd_image_inspect(g, names); }; });

  auto* rm = image->add_subcommand("rm", "untag images; free what only they used");
  rm->alias("remove");
  rm->add_option("names", names, "images")->required();
  rm->callback([&] { action = [&] { return cmd_image_rm(g, names); }; });
  auto* rmi = app.add_subcommand("rmi", "same as image rm");
  rmi->add_option("names", names, "images")->required();
  rmi->callback([&] { action = [&] { return cmd_image_rm(g, names); }; });

  auto* prune = image->add_subcommand("prune", "remove unreferenced blobs and snapshots");
  bool all_ignored = false, force_ignored = false;
  prune->add_flag("-a,--all", all_ignored, "accepted: every unreferenced image is removed");
  prune->add_flag("-f,--force", force_ignored, "accepted: there is no prompt");
  prune->callback([&] { action = [&] { return cmd_image_prune(g); }; });

  auto* sys = app.add_subcommand("system", "store-wide information");
  sys->require_subcommand(1);
  auto* df = sys->add_subcommand("df", "disk usage of images, blobs and layer snapshots");
  df->callback([&] { action = [&] { return cmd_system_df(g); }; });

  auto* login = app.add_subcommand("login", "store credentials for a registry");
  login->add_option("host", name, "registry host")->required();
  login->add_option("-u,--username", user, "user name");
  login->add_flag("--password-stdin", password_stdin, "read the password from stdin");
  login->callback([&] { action = [&] { return offline::cmd_login(g, name, user, password_stdin); }; });

  add_stack_verbs(app, verbs, g, action);
  add_node_verbs(app, &verbs.stack.client, action);

  std::vector<std::string> args(argv + 1, argv + argc);
  verbs.exec.cmd = split_exec_command(args);
  std::reverse(args.begin(), args.end());  // CLI11 takes the vector back to front
  try {
    app.parse(args);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "stack: " << e.what() << "\n";
    return 1;
  }
  if (!action) {
    std::cerr << "stack: no command given\n";
    return 1;
  }
  int rc = report(action());
  return rc ? rc : verbs.exit_code;
}
