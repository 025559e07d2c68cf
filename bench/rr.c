/* stack-bench-rr: a tiny static TCP peer for the network bench, usable
 * inside any container (busybox or podman image) since it needs no libc.
 *   server PORT              accept forever; per connection: first byte 'S'
 *                            = sink (read until EOF), else echo every byte
 *   rr HOST PORT SECONDS     1-byte request/response on one connection;
 *                            prints transactions per second
 *   stream HOST PORT SECONDS bulk send (128 KiB writes); prints Gbit/s
 *   conns HOST PORT N        N sequential connections, 1-byte exchange each;
 *                            prints "<ok> <failed> <conns/s>"
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* HOST is IPv4 or IPv6 ("::1"). */
static int dial(const char* host, int port) {
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  if (strchr(host, ':')) {
    struct sockaddr_in6* sa6 = (struct sockaddr_in6*)&ss;
    sa6->sin6_family = AF_INET6;
    sa6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, host, &sa6->sin6_addr) != 1) return -1;
    len = sizeof *sa6;
  } else {
    struct sockaddr_in* sa = (struct sockaddr_in*)&ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) return -1;
    len = sizeof *sa;
  }
  int s = socket(ss.ss_family, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct timeval tv = {5, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(s, (struct sockaddr*)&ss, len) != 0) {
    close(s);
    return -1;
  }
  return s;
}

static void serve_one(int c) {
  char buf[131072];
  ssize_t n = read(c, buf, 1);
  if (n == 1 && buf[0] == 'S') {
    while (read(c, buf, sizeof buf) > 0) {
    }
  } else if (n == 1) {
    do {
      if (write(c, buf, n) != n) break;
    } while ((n = read(c, buf, 1)) == 1);
  }
  close(c);
}

static int server(int port) {
  signal(SIGCHLD, SIG_IGN);  /* children reaped by the kernel */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (bind(s, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(s, 1024) != 0) {
    perror("bind/listen");
    return 1;
  }
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) continue;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Short exchanges are served inline; long-lived ones get a child. */
    pid_t p = fork();
    if (p == 0) {
      close(s);
      serve_one(c);
      _exit(0);
    }
    close(c);
  }
}

static int rr(const char* host, int port, double secs) {
  int s = dial(host, port);
  if (s < 0) {
    printf("0\n");
    return 1;
  }
  long n = 0;
  char b = 'x';
  double end = now() + secs, start = now();
  while (now() < end) {
    if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1) break;
    n++;
  }
  printf("%.0f\n", n / (now() - start));
  close(s);
  return 0;
}

static int stream(const char* host, int port, double secs) {
  int s = dial(host, port);
  if (s < 0) {
    printf("0\n");
    return 1;
  }
  static char buf[131072];
  memset(buf, 'S', sizeof buf);
  double total = 0, end = now() + secs, start = now();
  while (now() < end) {
    ssize_t w = write(s, buf, sizeof buf);
    if (w <= 0) break;
    total += w;
  }
  printf("%.2f\n", total * 8 / (now() - start) / 1e9);
  close(s);
  return 0;
}

static int conns(const char* host, int port, long n) {
  long ok = 0, failed = 0;
  double start = now();
  for (long i = 0; i < n; i++) {
    int s = dial(host, port);
    char b = 'x';
    if (s >= 0 && write(s, &b, 1) == 1 && read(s, &b, 1) == 1)
      ok++;
    else
      failed++;
    if (s >= 0) {
      /* RST instead of FIN: no TIME_WAIT pile-up on the client ports. */
      struct linger lg = {1, 0};
      setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      close(s);
    }
  }
  printf("%ld %ld %.0f\n", ok, failed, ok / (now() - start));
  return failed != 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && !strcmp(argv[1], "server")) return server(atoi(argv[2]));
  if (argc == 5 && !strcmp(argv[1], "rr")) return rr(argv[2], atoi(argv[3]), atof(argv[4]));
  if (argc == 5 && !strcmp(argv[1], "stream")) return stream(argv[2], atoi(argv[3]), atof(argv[4]));
  if (argc == 5 && !strcmp(argv[1], "conns")) return conns(argv[2], atoi(argv[3]), atol(argv[4]));
  fprintf(stderr, "usage: %s server PORT | rr|stream HOST PORT SECS | conns HOST PORT N\n", argv[0]);
  return 2;
}
