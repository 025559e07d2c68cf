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

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: stack-probe fds|syscall NR|unshare|mount|keyctl|hog MIB|forks N|rlimit R|write PATH|sleep S\n");
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
  fprintf(stderr, "stack-probe: unknown command %s\n", c);
  return 2;
}
