// tcp_echo: the echo-stream benchmark's two ends. The server runs in the
// Linux guest as the counterpart of Wisp's in-kernel echo service
// (wisp.echo); the client runs on the host against either.
//
//   tcp_echo server PORT                 one process per connection: echo
//                                        everything back (64 KiB reads)
//                                        until EOF, then close
//   tcp_echo stream HOST PORT BYTES TIMEOUT_MS
//                                        send BYTES of a fixed pattern while
//                                        reading the echo, half-close, read
//                                        to EOF; check every byte; prints
//                                        "tcp_echo: <n> bytes each way in <s> s,
//                                        <r> MB/s per direction"
//
// Exit status 0 on success, 1 on failure (message on stderr), 2 on bad usage.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
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

#define BUFFER 65536

#define TOOL_NAME "tcp_echo"
#include "netTool.h"

/* The byte at stream offset i: not periodic at any power of two, so a lost or repeated segment shows. */
static unsigned char pattern(unsigned long long i) {
  return (unsigned char)((i * 2654435761ull) >> 13) ^ (unsigned char)(i / 1021);
}

static void echo_connection(int c) {
  static char buffer[BUFFER];
  for (;;) {
    ssize_t n = read(c, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(c, buffer + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;
      off += w;
    }
  }
}

static int server(const char *port_text) {
  int port = parse_port(port_text);
  signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 128) < 0) {
    perror("tcp_echo: socket/bind/listen");
    return 1;
  }
  printf("tcp_echo: serving on port %d\n", port);
  fflush(stdout);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("tcp_echo: accept");
      return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(fd);
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      echo_connection(c);
      _exit(0);
    }
    close(c);
  }
}

static int stream(const char *host, const char *port, const char *bytes_text, const char *timeout_text) {
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)parse_port(port));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "tcp_echo: '%s' is not an IPv4 address\n", host);
    return 2;
  }
  unsigned long long total = strtoull(bytes_text, NULL, 10);
  long timeout_ms = atol(timeout_text);
  if (total == 0 || timeout_ms <= 0) {
    fprintf(stderr, "tcp_echo: BYTES and TIMEOUT_MS must be positive\n");
    return 2;
  }
  int fd = connect_to_server(&addr);
  if (fd < 0) return 1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  static unsigned char out[BUFFER], in[BUFFER];
  unsigned long long sent = 0, received = 0;
  int shut = 0;
  double start = now_s();
  while (received < total) {
    if (sent == total && !shut) {
      shutdown(fd, SHUT_WR);
      shut = 1;
    }
    struct pollfd p = {fd, (short)(POLLIN | (sent < total ? POLLOUT : 0)), 0};
    double left_ms = timeout_ms - (now_s() - start) * 1000;
    if (left_ms <= 0 || poll(&p, 1, (int)left_ms) == 0) {
      fprintf(stderr, "tcp_echo: timeout after %llu bytes sent, %llu received\n", sent, received);
      return 1;
    }
    if (p.revents & POLLIN) {
      ssize_t n = recv(fd, in, sizeof in, MSG_DONTWAIT);
      if (n == 0) break;
      if (n > 0) {
        for (ssize_t i = 0; i < n; i++) {
          if (in[i] != pattern(received + (unsigned long long)i)) {
            fprintf(stderr, "tcp_echo: byte %llu came back wrong\n", received + (unsigned long long)i);
            return 1;
          }
        }
        received += (unsigned long long)n;
      } else if (errno != EAGAIN && errno != EINTR) {
        perror("tcp_echo: recv");
        return 1;
      }
    }
    if ((p.revents & POLLOUT) && sent < total) {
      size_t want = total - sent < BUFFER ? (size_t)(total - sent) : BUFFER;
      for (size_t i = 0; i < want; i++) out[i] = pattern(sent + i);
      ssize_t n = send(fd, out, want, MSG_DONTWAIT);
      if (n > 0) sent += (unsigned long long)n;
      else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        perror("tcp_echo: send");
        return 1;
      }
    }
    if (p.revents & (POLLERR | POLLHUP) && !(p.revents & POLLIN)) break;
  }
  double elapsed = now_s() - start;
  close(fd);
  if (received != total) {
    fprintf(stderr, "tcp_echo: %llu of %llu bytes came back\n", received, total);
    return 1;
  }
  printf("tcp_echo: %llu bytes each way in %.3f s, %.2f MB/s per direction\n", total, elapsed, (double)total / 1e6 / elapsed);
  return 0;
}

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 3 && strcmp(argv[1], "server") == 0) return server(argv[2]);
  if (argc == 6 && strcmp(argv[1], "stream") == 0) return stream(argv[2], argv[3], argv[4], argv[5]);
  fprintf(stderr, "usage: tcp_echo server PORT | stream HOST PORT BYTES TIMEOUT_MS\n");
  return 2;
}
