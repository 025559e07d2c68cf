// Layer extraction rows of the CVE regression suite (security issue 10):
//
// CVE-2014-6407 (Docker < 1.3.2): a layer escapes its directory through a
//   symlink then a child of it (`a -> /etc`, `a/passwd`), `../` names,
//   absolute names, hardlinks to host files, or a symlink laid down by one
//   layer and written through by the next.
// CVE-2021-32760 (containerd < 1.4.8/1.5.4): extraction changes the mode or
//   owner of a host file by applying an entry's metadata through a symlink
//   (a hardlink to a symlink, a directory entry over a symlink).
// CVE-2026-17106 class, as we read it: the overlayfs-specific entries and the
//   dangerous ones. A whiteout (`.wh.NAME`) or opaque marker (`.wh..wh..opq`)
//   under a symlinked parent deletes or hides host files; a whiteout naming
//   `.` or `..` deletes more than its one name; device nodes and setuid files
//   are created through a symlinked parent on the host. Device and setuid
//   entries inside the layer are legitimate (images ship /dev/null, su) and
//   stay, with their bits, inside the layer only; that nobody else reaches
//   them there is CVE-2021-41091 (tests/integration/cve_daemon_test.cc).
//
// Each test extracts the same layer twice: with plain libarchive and default
// security flags, as a naive unpacker does (the positive control: the attack
// must work there, or the test proves nothing), and with unpack_layer, which
// must refuse with an error naming the entry or contain the write inside the
// layer directory. "The host" is a directory next to both destinations,
// named by absolute path in the layers, so nothing outside the test's
// TempDir is ever at risk.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "runtime/image/overlay.h"
#include "runtime/image/unpack.h"
#include "tests/support/bundle.h"
#include "tests/support/tar_builder.h"

namespace stack::test {
namespace {

namespace fs = std::filesystem;

struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};

// What an unpacker that trusts libarchive's defaults does: every entry
// written with archive_write_disk (permissions and owners restored, none of
// the ARCHIVE_EXTRACT_SECURE_* flags), names relative to `dest` as after a
// chdir, absolute ones as they are; whiteouts applied by path afterwards,
// as docker's non-overlay graph drivers did; and a hardlink's mode applied
// with chmod(2) on its new name, as containerd < 1.4.8 did (the
// CVE-2021-32760 bug: chmod follows the symlink a hardlink may name).
// Errors are ignored, as a naive unpacker's best effort is what the
// attacker gets.
void naive_extract(const std::string& blob, const std::string& dest) {
  auto rel = [&](const std::string& n) { return n.empty() || n[0] == '/' ? n : dest + "/" + n; };
  std::unique_ptr<archive, ReadFree> in(archive_read_new());
  archive_read_support_format_tar(in.get());
  ASSERT_EQ(archive_read_open_filename(in.get(), blob.c_str(), 1 << 16), ARCHIVE_OK);
  std::unique_ptr<archive, WriteFree> out(archive_write_disk_new());
  archive_write_disk_set_options(out.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME);
  archive_entry* e = nullptr;
  while (archive_read_next_header(in.get(), &e) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(e);
    std::string base = fs::path(name).filename();
    if (base.rfind(".wh.", 0) == 0) {
      std::string parent = rel(fs::path(name).parent_path().string());
      std::error_code ec;
      if (base == ".wh..wh..opq") {  // opaque: drop what lower layers had here
        for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec))
          fs::remove_all(it->path(), ec);
      } else {
        fs::remove_all(parent + "/" + base.substr(4), ec);
      }
      continue;
    }
    archive_entry_set_pathname(e, rel(name).c_str());
    if (const char* h = archive_entry_hardlink(e)) archive_entry_set_hardlink(e, rel(h).c_str());
    if (archive_write_header(out.get(), e) == ARCHIVE_OK && archive_entry_size(e) > 0) {
      const void* buf;
      size_t size;
      la_int64_t off;
      while (archive_read_data_block(in.get(), &buf, &size, &off) == ARCHIVE_OK)
        archive_write_data_block(out.get(), buf, size, off);
    }
    archive_write_finish_entry(out.get());
    if (archive_entry_hardlink(e)) ::chmod(archive_entry_pathname(e), archive_entry_perm(e));
  }
  archive_write_close(out.get());
}

struct Stat {
  bool ok = false;
  struct stat st {};
};
Stat lstat_of(const std::string& p) {
  Stat s;
  s.ok = ::lstat(p.c_str(), &s.st) == 0;
  return s;
}
void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// tmp/host: the stand-in for the host, with a file and a directory whose
// content, mode and owner must survive; tmp/naive and tmp/ours: where each
// unpacker extracts.
class LayerEscape : public ::testing::Test {
 protected:
  TempDir tmp_{"stack-cve-layer"};
  std::string host_ = tmp_.path() + "/host";
  std::string naive_ = tmp_.path() + "/naive";
  std::string ours_ = tmp_.path() + "/ours";
  std::string blob_ = tmp_.path() + "/layer.tar";

  void SetUp() override {
    STACK_REQUIRE_ROOT();
    make_host();
  }
  void make_host() {
    fs::create_directories(host_ + "/dir");
    write(host_ + "/passwd", "root:x:0:0::/root:/bin/sh\n");
    write(host_ + "/dir/keep", "keep\n");
    ::chmod((host_ + "/passwd").c_str(), 0600);
    ::chmod((host_ + "/dir").c_str(), 0700);
  }

  // Fresh destinations, the layer extracted naively into one of them.
  void naive(const TarBuilder& layer) {
    reset();
    layer.write(blob_);
    naive_extract(blob_, naive_);
  }
  img::Result<img::UnpackResult> ours(const TarBuilder& layer) {
    layer.write(blob_);
    auto r = img::unpack_layer(blob_, ours_);
    if (!r) std::printf("  refused: %s\n", r.error().message().c_str());
    return r;
  }
  void reset() {
    for (auto* d : {&naive_, &ours_}) {
      fs::remove_all(*d);
      fs::create_directories(*d);
    }
  }
  void restore_host() {
    fs::remove_all(host_);
    make_host();
  }
  // The host as SetUp left it.
  void expect_host_intact() {
    EXPECT_EQ(read_file(host_ + "/passwd"), "root:x:0:0::/root:/bin/sh\n");
    Stat p = lstat_of(host_ + "/passwd"), d = lstat_of(host_ + "/dir");
    EXPECT_TRUE(p.ok && S_ISREG(p.st.st_mode) && (p.st.st_mode & 07777) == 0600 && p.st.st_uid == 0 &&
                p.st.st_nlink == 1)
        << "host file replaced, re-moded, re-owned or linked";
    EXPECT_TRUE(d.ok && (d.st.st_mode & 07777) == 0700 && d.st.st_uid == 0) << "host dir re-moded or re-owned";
    EXPECT_EQ(read_file(host_ + "/dir/keep"), "keep\n");
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(host_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"dir", "passwd"})) << "something was created on the host";
    char v[8];
    EXPECT_LT(::lgetxattr((host_ + "/dir").c_str(), "trusted.overlay.opaque", v, sizeof v), 0);
  }
  static void expect_refused(const img::Result<img::UnpackResult>& r, const std::string& entry) {
    ASSERT_FALSE(r) << "layer with entry " << entry << " was accepted";
    EXPECT_NE(r.error().message().find("entry \"" + entry + "\""), std::string::npos) << r.error().message();
  }
};

using CVE_2014_6407 = LayerEscape;
using CVE_2021_32760 = LayerEscape;
using CVE_2026_17106 = LayerEscape;

TEST_F(CVE_2014_6407, WritesThroughASymlinkedParentStayInside) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> links;  // name -> target
    std::string write;                                       // the entry written through them
  } cases[] = {
      {{{"a", host_}}, "a/passwd"},                                      // a -> /etc, a/passwd
      {{{"b", "../host"}}, "b/passwd"},                                  // relative
      {{{"c1", "c2"}, {"c2", "c3"}, {"c3", host_}}, "c1/passwd"},        // a chain
      {{{"d", "."}, {"d2", "d/../host"}}, "d2/passwd"},                 // .. behind a link
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.write);
    TarBuilder b;
    for (auto& [name, target] : c.links) b.symlink(name, target);
    b.file(c.write, "pwned\n");
    naive(b);
    ASSERT_EQ(read_file(host_ + "/passwd"), "pwned\n") << "positive control: the naive unpacker must escape";
    restore_host();
    expect_refused(ours(b), c.write);
    expect_host_intact();
  }
}

TEST_F(CVE_2014_6407, DotDotNamesAreRefused) {
  for (std::string name : {"../host/passwd", "x/../../host/passwd", "./../host/passwd"}) {
    SCOPED_TRACE(name);
    TarBuilder b;
    b.file(name, "pwned\n");
    naive(b);
    ASSERT_EQ(read_file(host_ + "/passwd"), "pwned\n") << "positive control";
    restore_host();
    auto r = ours(b);
    expect_refused(r, name);
    EXPECT_NE(r.error().message().find("leaves the layer root"), std::string::npos);
    expect_host_intact();
  }
}

TEST_F(CVE_2014_6407, AbsoluteNamesLandInsideTheLayer) {
  TarBuilder b;
  b.file(host_ + "/passwd", "pwned\n");
  naive(b);
  ASSERT_EQ(read_file(host_ + "/passwd"), "pwned\n") << "positive control";
  restore_host();
  auto r = ours(b);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(read_file(ours_ + host_ + "/passwd"), "pwned\n") << "the absolute name is taken relative to the layer";
  expect_host_intact();
}

TEST_F(CVE_2014_6407, HardlinksToHostFilesAreRefused) {
  for (const std::string& source : {host_ + "/passwd", std::string("../host/passwd")}) {
    SCOPED_TRACE(source);
    TarBuilder b;
    b.dir("etc");
    b.hardlink("etc/shadow", source);
    naive(b);
    // The container could now write the host's file through its own.
    ASSERT_EQ(lstat_of(naive_ + "/etc/shadow").st.st_ino, lstat_of(host_ + "/passwd").st.st_ino)
        << "positive control";
    restore_host();
    expect_refused(ours(b), "etc/shadow");
    EXPECT_FALSE(lstat_of(ours_ + "/etc/shadow").ok);
    expect_host_intact();
  }
}

// The link and the write in two layers: a naive unpacker applies layers onto
// one directory in turn; ours unpacks each into its own snapshot and stacks
// them with overlayfs, where layer 2's directory simply covers layer 1's link.
TEST_F(CVE_2014_6407, ASymlinkFromOneLayerIsNotWrittenThroughByTheNext) {
  TarBuilder l1, l2;
  l1.symlink("a", host_);
  l2.file("a/passwd", "pwned\n");
  reset();
  l1.write(blob_);
  naive_extract(blob_, naive_);
  l2.write(blob_);
  naive_extract(blob_, naive_);
  ASSERT_EQ(read_file(host_ + "/passwd"), "pwned\n") << "positive control";
  restore_host();

  std::string s1 = tmp_.path() + "/snap1", s2 = tmp_.path() + "/snap2", merged = tmp_.path() + "/merged";
  for (auto& d : {s1, s2, merged}) fs::create_directories(d);
  l1.write(blob_);
  ASSERT_TRUE(img::unpack_layer(blob_, s1));
  l2.write(blob_);
  auto r = img::unpack_layer(blob_, s2);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(read_file(s2 + "/a/passwd"), "pwned\n");
  MountGuard guard{merged};
  ASSERT_TRUE(img::mount_overlay_readonly({s2, s1}, merged));
  EXPECT_TRUE(S_ISDIR(lstat_of(merged + "/a").st.st_mode)) << "the upper layer's directory covers the link";
  EXPECT_EQ(read_file(merged + "/a/passwd"), "pwned\n");
  ASSERT_TRUE(img::unmount_overlay(merged));
  expect_host_intact();
}

// containerd's own case: a hardlink to a symlink, its mode applied to the
// new name (which follows the link to the host file). Ours links the symlink
// itself and applies no metadata through it; nor does any other entry that
// meets a symlink at its own name (it replaces the link, inside the layer).
TEST_F(CVE_2021_32760, NoEntryReModesOrReOwnsAHostFileThroughASymlink) {
  for (const std::string& target : {host_ + "/passwd", std::string("../host/passwd")}) {
    SCOPED_TRACE(target);
    TarBuilder b;
    b.symlink("s", target);
    b.hardlink("h", "s").perm = 06777;
    naive(b);
    ASSERT_EQ(lstat_of(host_ + "/passwd").st.st_mode & 07777, 06777u) << "positive control";
    restore_host();
    auto r = ours(b);
    ASSERT_TRUE(r) << r.error().message();
    Stat h = lstat_of(ours_ + "/h"), s = lstat_of(ours_ + "/s");
    EXPECT_TRUE(S_ISLNK(h.st.st_mode) && h.st.st_ino == s.st.st_ino) << "h is the symlink itself, linked";
    expect_host_intact();
  }
  struct Case {
    std::string link, target;
    mode_t type;
  } cases[] = {
      {"d", host_ + "/dir", S_IFDIR},
      {"d", "../host/dir", S_IFDIR},
      {"f", host_ + "/passwd", S_IFREG},
      {"n", host_ + "/passwd", S_IFIFO},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.link + " -> " + c.target);
    TarBuilder b;
    b.symlink(c.link, c.target);
    auto& e = c.type == S_IFDIR ? b.dir(c.link, 07777) : c.type == S_IFREG ? b.file(c.link, "x", 07777) : b.fifo(c.link);
    e.perm = 07777;
    e.uid = 1234;
    e.gid = 1234;
    reset();
    auto r = ours(b);
    ASSERT_TRUE(r) << r.error().message();
    Stat in = lstat_of(ours_ + "/" + c.link);
    EXPECT_EQ(in.st.st_mode & S_IFMT, c.type) << "the entry replaced the link inside the layer";
    EXPECT_EQ(in.st.st_mode & 07777, 07777u);
    EXPECT_EQ(in.st.st_uid, 1234u);
    expect_host_intact();
  }
}

TEST_F(CVE_2026_17106, WhiteoutsUnderASymlinkedParentRemoveNothingOnTheHost) {
  struct Case {
    std::string link_target, whiteout;
  } cases[] = {
      {host_, "s/.wh.passwd"},
      {"../host", "s/.wh.passwd"},
      {host_, "s/.wh.dir"},
      {host_ + "/dir", "s/.wh..wh..opq"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.link_target + " " + c.whiteout);
    TarBuilder b;
    b.symlink("s", c.link_target);
    b.file(c.whiteout, "");
    naive(b);
    bool removed = !lstat_of(host_ + "/passwd").ok || !lstat_of(host_ + "/dir/keep").ok;
    ASSERT_TRUE(removed) << "positive control: the naive whiteout removes a host file";
    restore_host();
    expect_refused(ours(b), c.whiteout);
    expect_host_intact();
  }
}

TEST_F(CVE_2026_17106, WhiteoutsOfDotAndDotDotAreRefused) {
  // ".wh..." names "..": a naive whiteout removes the parent's whole content,
  // the layer's other files (and, one level up, the host) with it.
  TarBuilder b;
  b.file("keep", "mine\n");
  b.dir("sub");
  b.file("sub/.wh...", "");
  naive(b);
  ASSERT_FALSE(lstat_of(naive_ + "/keep").ok) << "positive control: the naive whiteout removed its parent's files";
  for (std::string name : {"sub/.wh...", "sub/.wh..", ".wh..wh.."}) {
    SCOPED_TRACE(name);
    TarBuilder w;
    w.file("keep", "mine\n");
    w.dir("sub");
    w.file(name, "");
    reset();
    expect_refused(ours(w), name);
    EXPECT_EQ(read_file(ours_ + "/keep"), "mine\n");
  }
  expect_host_intact();
}

TEST_F(CVE_2026_17106, DevicesAndSetuidFilesAreCreatedInsideTheLayerOnly) {
  auto dangerous = [](TarBuilder& b, const std::string& dir) {
    b.char_device(dir + "/mem", 1, 1).perm = 0666;  // /dev/mem, world-writable
    b.file(dir + "/rootshell", "#!/bin/sh\n", 04755);
    b.file(dir + "/groupshell", "#!/bin/sh\n", 02755);
  };
  // Through a symlinked parent: the naive unpacker puts them on the host.
  TarBuilder through;
  through.symlink("d", host_);
  dangerous(through, "d");
  naive(through);
  Stat mem = lstat_of(host_ + "/mem"), shell = lstat_of(host_ + "/rootshell");
  ASSERT_TRUE(mem.ok && S_ISCHR(mem.st.st_mode)) << "positive control: a device node appeared on the host";
  ASSERT_TRUE(shell.ok && (shell.st.st_mode & 04000)) << "positive control: a setuid file appeared on the host";
  restore_host();
  expect_refused(ours(through), "d/mem");
  expect_host_intact();

  // In the layer's own directories they are kept as the image asks (an image
  // may ship su or /dev/null); who may reach them is CVE-2021-41091's row.
  TarBuilder inside;
  inside.dir("dev");
  dangerous(inside, "dev");
  reset();
  auto r = ours(inside);
  ASSERT_TRUE(r) << r.error().message();
  Stat m = lstat_of(ours_ + "/dev/mem"), s = lstat_of(ours_ + "/dev/rootshell"), g = lstat_of(ours_ + "/dev/groupshell");
  EXPECT_TRUE(S_ISCHR(m.st.st_mode) && m.st.st_rdev == makedev(1, 1));
  EXPECT_EQ(s.st.st_mode & 07777, 04755u);
  EXPECT_EQ(g.st.st_mode & 07777, 02755u);
  expect_host_intact();
}

}  // namespace
}  // namespace stack::test
