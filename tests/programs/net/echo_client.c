// An outgoing connection from the guest: echo_client HOST PORT BYTES
// connects without blocking (EINPROGRESS, then SO_ERROR), sends BYTES of a
// pattern with send() on the O_NONBLOCK socket while reading the echo back,
// and checks every byte. Prints "echo_client: ok <bytes> <ms>" or a failure.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned char pattern(size_t i) { return (unsigned char)(i * 13 + (i >> 9)); }

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 4) return 2;
  size_t total = strtoul(argv[3], NULL, 10);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  double start = now_ms();
  if (connect(s, (struct sockaddr *)&a, sizeof a) == 0 || errno != EINPROGRESS) {
    printf("echo_client: connect gave %d, not EINPROGRESS\n", errno);
    return 1;
  }
  int err = 0;
  for (;;) {
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    if (getpeername(s, (struct sockaddr *)&peer, &pl) == 0) break;
    socklen_t el = sizeof err;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) {
      printf("echo_client: connect failed: %d\n", err);
      return 1;
    }
    if (now_ms() - start > 20000) {
      printf("echo_client: connect timed out\n");
      return 1;
    }
    usleep(1000);
  }
  static unsigned char out[65536], in[65536];
  size_t sent = 0, got = 0;
  while (got < total) {
    int progress = 0;
    if (sent < total) {
      size_t n = total - sent < sizeof out ? total - sent : sizeof out;
      for (size_t i = 0; i < n; i++) out[i] = pattern(sent + i);
      ssize_t w = send(s, out, n, MSG_NOSIGNAL);
      if (w > 0) { sent += w; progress = 1; }
      else if (w < 0 && errno != EAGAIN) { printf("echo_client: send: %d\n", errno); return 1; }
    }
    ssize_t r = recv(s, in, sizeof in, 0);
    if (r > 0) {
      for (ssize_t i = 0; i < r; i++) {
        if (in[i] != pattern(got + i)) { printf("echo_client: byte %zu differs\n", got + i); return 1; }
      }
      got += r;
      progress = 1;
    } else if (r == 0) {
      printf("echo_client: the server closed after %zu bytes\n", got);
      return 1;
    } else if (errno != EAGAIN) {
      printf("echo_client: recv: %d\n", errno);
      return 1;
    }
    if (!progress) sched_yield();
  }
  close(s);
  printf("echo_client: ok %zu %.0f\n", got, now_ms() - start);
  return 0;
}
