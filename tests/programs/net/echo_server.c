// Echo servers for the host-side socket tests (tests/net-guest/sockets.test.ts):
//   echo_server TCP_PORT UDP_PORT NB_PORT
// TCP_PORT: blocking accept, a thread per connection (read/write until EOF);
// UDP_PORT: recvfrom/sendto; NB_PORT: one thread, O_NONBLOCK sockets driven
// by poll() (or a yielding loop where poll is not implemented: ENOSYS).
// Prints "echo_server: ready" once all three listen.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  printf("echo_server: %s failed: errno %d (%s)\n", what, errno, strerror(errno));
  exit(1);
}

static int listener(int type, int port, int flags) {
  int fd = socket(AF_INET, type | flags, 0);
  if (fd < 0) die("socket");
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) die("setsockopt");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (type == SOCK_STREAM && listen(fd, 64) < 0) die("listen");
  return fd;
}

static void *serve_connection(void *arg) {
  int fd = (int)(long)arg;
  static __thread char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0) printf("echo_server: read: errno %d (%s)\n", errno, strerror(errno));
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(fd, buffer + off, n - off);
      if (w <= 0) {
        printf("echo_server: write: %zd errno %d (%s)\n", w, errno, strerror(errno));
        goto out;
      }
      off += w;
    }
  }
out:
  close(fd);
  return NULL;
}

static void *tcp_blocking(void *arg) {
  int l = (int)(long)arg;
  for (;;) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int c = accept(l, (struct sockaddr *)&peer, &len);
    if (c < 0) {
      if (errno == EMFILE || errno == ENOMEM) { usleep(10000); continue; }
      die("accept");
    }
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int e = pthread_create(&t, &attr, serve_connection, (void *)(long)c);
    if (e != 0) {
      printf("echo_server: pthread_create failed: %d (%s)\n", e, strerror(e));
      close(c);
    }
    pthread_attr_destroy(&attr);
  }
  return NULL;
}

static void *udp_echo(void *arg) {
  int fd = (int)(long)arg;
  static char buffer[65536];
  for (;;) {
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &len);
    if (n < 0) die("recvfrom");
    sendto(fd, buffer, n, 0, (struct sockaddr *)&from, len);
  }
  return NULL;
}

// The nonblocking server: each connection keeps what it could not send yet.
#define NB_MAX 64
struct nb_conn { int fd; int len; int off; char buffer[16384]; };
static struct nb_conn conns[NB_MAX];

static void *tcp_nonblocking(void *arg) {
  int l = (int)(long)arg;
  for (int i = 0; i < NB_MAX; i++) conns[i].fd = -1;
  int use_poll = 1;
  struct pollfd fds[NB_MAX + 1];
  for (;;) {
    int progress = 0;
    if (use_poll) {
      int n = 0;
      fds[n++] = (struct pollfd){.fd = l, .events = POLLIN};
      for (int i = 0; i < NB_MAX; i++) {
        if (conns[i].fd < 0) continue;
        fds[n++] = (struct pollfd){.fd = conns[i].fd, .events = conns[i].off < conns[i].len ? POLLOUT : POLLIN};
      }
      if (poll(fds, n, 1000) < 0) {
        if (errno != ENOSYS) die("poll");
        use_poll = 0;
        printf("echo_server: poll not implemented, nonblocking server loops\n");
      }
    }
    for (;;) {
      int c = accept4(l, NULL, NULL, SOCK_NONBLOCK);
      if (c < 0) {
        if (errno != EAGAIN) die("accept4");
        break;
      }
      int slot = -1;
      for (int i = 0; i < NB_MAX; i++) if (conns[i].fd < 0) { slot = i; break; }
      if (slot < 0) { close(c); continue; }
      conns[slot].fd = c;
      conns[slot].len = conns[slot].off = 0;
      progress = 1;
    }
    for (int i = 0; i < NB_MAX; i++) {
      struct nb_conn *k = &conns[i];
      if (k->fd < 0) continue;
      for (int round = 0; round < 16; round++) {
        if (k->off < k->len) {
          ssize_t w = send(k->fd, k->buffer + k->off, k->len - k->off, MSG_NOSIGNAL);
          if (w < 0 && errno == EAGAIN) break;
          if (w <= 0) { close(k->fd); k->fd = -1; break; }
          k->off += w;
          progress = 1;
          continue;
        }
        ssize_t n = recv(k->fd, k->buffer, sizeof k->buffer, 0);
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) { close(k->fd); k->fd = -1; break; }
        k->len = n;
        k->off = 0;
        progress = 1;
      }
    }
    if (!use_poll && !progress) sched_yield();
  }
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 4) {
    printf("usage: echo_server TCP_PORT UDP_PORT NB_PORT\n");
    return 2;
  }
  int t = listener(SOCK_STREAM, atoi(argv[1]), 0);
  int u = listener(SOCK_DGRAM, atoi(argv[2]), 0);
  int nb = listener(SOCK_STREAM, atoi(argv[3]), SOCK_NONBLOCK);
  pthread_t a, b, c;
  if (pthread_create(&a, NULL, tcp_blocking, (void *)(long)t) != 0) die("pthread_create");
  if (pthread_create(&b, NULL, udp_echo, (void *)(long)u) != 0) die("pthread_create");
  if (pthread_create(&c, NULL, tcp_nonblocking, (void *)(long)nb) != 0) die("pthread_create");
  printf("echo_server: ready\n");
  pthread_join(a, NULL);
  return 0;
}
