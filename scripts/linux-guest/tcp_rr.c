// tcp_rr: request/response over TCP in the manner of netperf's TCP_RR, and
// the "first reply" probe of the boot-to-TCP benchmark. One static program,
// server in the guest and client on the host.
//
//   tcp_rr server PORT                  accept connections one after another;
//                                       echo every byte back until EOF
//   tcp_rr client HOST PORT SECONDS     1-byte transactions for SECONDS;
//                                       prints "tcp_rr: <n> transactions in <s> s,
//                                       <t> per s, <us> us each"
//   tcp_rr first HOST PORT TIMEOUT_MS   try to connect, send a byte and read
//                                       the reply, 2 ms after each failed
//                                       attempt, until one round trip works;
//                                       prints "tcp_rr: first reply after <ms>
//                                       ms, <n> attempts"
//
// Exit status 0 on success, 1 on failure (message on stderr), 2 on bad usage.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOOL_NAME "tcp_rr"
#include "netTool.h"

static struct sockaddr_in parse_addr(const char *host, const char *port) {
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)parse_port(port));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "tcp_rr: '%s' is not an IPv4 address\n", host);
    exit(2);
  }
  return addr;
}

static void no_delay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Reads exactly one byte; 1 on success, 0 on EOF, -1 on error. */
static int read_byte(int fd, char *c) {
  for (;;) {
    ssize_t n = read(fd, c, 1);
    if (n == 1) return 1;
    if (n == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

static int write_byte(int fd, char c) {
  for (;;) {
    ssize_t n = write(fd, &c, 1);
    if (n == 1) return 1;
    if (n < 0 && errno != EINTR) return -1;
  }
}

static int server(const char *port_text) {
  int port = parse_port(port_text);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    perror("tcp_rr: socket");
    return 1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) {
    perror("tcp_rr: bind/listen");
    return 1;
  }
  printf("tcp_rr: serving on port %d\n", port);
  fflush(stdout);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("tcp_rr: accept");
      return 1;
    }
    no_delay(c);
    char byte;
    while (read_byte(c, &byte) == 1 && write_byte(c, byte) == 1) {
    }
    close(c);
  }
}

static int client(const char *host, const char *port, const char *seconds_text) {
  struct sockaddr_in addr = parse_addr(host, port);
  double seconds = atof(seconds_text);
  if (!(seconds > 0 && seconds <= 600)) {
    fprintf(stderr, "tcp_rr: SECONDS must be in (0, 600], not '%s'\n", seconds_text);
    return 2;
  }
  int fd = connect_to_server(&addr);
  if (fd < 0) return 1;
  no_delay(fd);
  char byte = 'x';
  /* A few untimed transactions first: the connection's first packets. */
  for (int i = 0; i < 10; i++) {
    if (write_byte(fd, byte) != 1 || read_byte(fd, &byte) != 1) {
      fprintf(stderr, "tcp_rr: the server closed the connection during warm-up\n");
      return 1;
    }
  }
  long n = 0;
  double start = now_s();
  double end = start + seconds;
  double t = start;
  while (t < end) {
    if (write_byte(fd, byte) != 1 || read_byte(fd, &byte) != 1) {
      fprintf(stderr, "tcp_rr: the server closed the connection after %ld transactions\n", n);
      return 1;
    }
    n++;
    if ((n & 15) == 0) t = now_s();
  }
  double elapsed = now_s() - start;
  close(fd);
  printf("tcp_rr: %ld transactions in %.3f s, %.1f per s, %.2f us each\n", n, elapsed, (double)n / elapsed, elapsed / (double)n * 1e6);
  return 0;
}

/*
 * One attempt: connect within 20 ms, one byte there and back within 200 ms.
 * Under user networking QEMU accepts the connection itself and only then
 * tries the guest, so a short wait for the byte is what keeps the probe's
 * resolution at a fraction of a second there.
 */
static int attempt(const struct sockaddr_in *addr) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return 0;
  int ok = 0;
  if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0 || errno == EINPROGRESS) {
    struct pollfd p = {fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, 20) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
      no_delay(fd);
      char byte = 'x';
      if (write(fd, &byte, 1) == 1) {
        p.events = POLLIN;
        if (poll(&p, 1, 200) == 1 && read(fd, &byte, 1) == 1) ok = 1;
      }
    }
  }
  close(fd);
  return ok;
}

static int first(const char *host, const char *port, const char *timeout_text) {
  struct sockaddr_in addr = parse_addr(host, port);
  long timeout_ms = atol(timeout_text);
  if (timeout_ms <= 0) {
    fprintf(stderr, "tcp_rr: TIMEOUT_MS must be positive, not '%s'\n", timeout_text);
    return 2;
  }
  double start = now_s();
  long attempts = 0;
  while ((now_s() - start) * 1000 < (double)timeout_ms) {
    attempts++;
    if (attempt(&addr)) {
      printf("tcp_rr: first reply after %.1f ms, %ld attempts\n", (now_s() - start) * 1000, attempts);
      return 0;
    }
    usleep(2000);
  }
  fprintf(stderr, "tcp_rr: no reply from %s:%s within %ld ms (%ld attempts)\n", host, port, timeout_ms, attempts);
  return 1;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 3 && strcmp(argv[1], "server") == 0) return server(argv[2]);
  if (argc == 5 && strcmp(argv[1], "client") == 0) return client(argv[2], argv[3], argv[4]);
  if (argc == 5 && strcmp(argv[1], "first") == 0) return first(argv[2], argv[3], argv[4]);
  fprintf(stderr, "usage: tcp_rr server PORT | client HOST PORT SECONDS | first HOST PORT TIMEOUT_MS\n");
  return 2;
}
