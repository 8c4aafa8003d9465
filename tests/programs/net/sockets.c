// The socket system calls within one program, over 127.0.0.1: a TCP echo
// between two threads (1 MiB, blocking accept/read/write), UDP datagrams
// with sendmsg/recvmsg, options, timeouts, nonblocking connect, and the
// errno Linux gives for bad arguments. Runs the same on Linux (the checks
// are Linux's answers), except where marked as Wisp's own (WISP=1 in the
// environment: no AF_INET6 / AF_UNIX).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "../abi/check.h"

#define TRANSFER (1 << 20)

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  return a;
}

static int bound_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) return -1;
  return ntohs(a.sin_port);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + (i >> 11)); }

// ---- TCP echo between two threads ----
static int server_ok;

static void *echo_server(void *arg) {
  int l = (int)(long)arg;
  struct sockaddr_in peer;
  socklen_t len = sizeof peer;
  int c = accept(l, (struct sockaddr *)&peer, &len);
  if (c < 0) return NULL;
  server_ok = len == sizeof peer && peer.sin_family == AF_INET && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  static char buffer[10000];
  for (;;) {
    ssize_t n = read(c, buffer, sizeof buffer);
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(c, buffer + off, n - off);
      if (w <= 0) { server_ok = 0; goto out; }
      off += w;
    }
  }
out:
  close(c);
  return NULL;
}

static void *writer(void *arg) {
  int fd = (int)(long)arg;
  unsigned char *data = malloc(TRANSFER);
  for (size_t i = 0; i < TRANSFER; i++) data[i] = pattern(i);
  size_t off = 0;
  while (off < TRANSFER) {
    ssize_t w = send(fd, data + off, TRANSFER - off > 30000 ? 30000 : TRANSFER - off, MSG_NOSIGNAL);
    if (w <= 0) break;
    off += w;
  }
  shutdown(fd, SHUT_WR);
  free(data);
  return (void *)off;
}

static void tcp_echo(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = loopback(0);
  check(bind(l, (struct sockaddr *)&a, sizeof a) == 0, "bind 127.0.0.1:0");
  int port = bound_port(l);
  check(port > 0, "getsockname gives the chosen port (%d)", port);
  check(listen(l, 8) == 0, "listen");
  int v = 0;
  socklen_t vl = sizeof v;
  check(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1, "SO_ACCEPTCONN on a listener");
  pthread_t server;
  pthread_create(&server, NULL, echo_server, (void *)(long)l);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  a = loopback(port);
  check(connect(c, (struct sockaddr *)&a, sizeof a) == 0, "blocking connect to 127.0.0.1:%d", port);
  struct sockaddr_in peer;
  socklen_t pl = sizeof peer;
  check(getpeername(c, (struct sockaddr *)&peer, &pl) == 0 && ntohs(peer.sin_port) == port, "getpeername");
  int one = 1;
  check(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "TCP_NODELAY");
  pthread_t w;
  double start = now_ms();
  pthread_create(&w, NULL, writer, (void *)(long)c);
  unsigned char *back = malloc(TRANSFER + 1);
  size_t got = 0;
  for (;;) {
    ssize_t n = recv(c, back + got, TRANSFER + 1 - got, 0);
    if (n <= 0) break;
    got += n;
  }
  void *sent;
  pthread_join(w, &sent);
  pthread_join(server, NULL);
  double ms = now_ms() - start;
  int same = got == TRANSFER;
  for (size_t i = 0; same && i < TRANSFER; i++) same = back[i] == pattern(i);
  check((size_t)sent == TRANSFER && same, "1 MiB echoed intact over loopback (sent %zu, back %zu, %.0f ms)",
        (size_t)sent, got, ms);
  check(server_ok, "accept gave the peer address 127.0.0.1");
  check(recv(c, back, 10, 0) == 0, "recv after the peer closed gives 0");
  free(back);
  close(c);
  close(l);
}

// A bad buffer on a stream: -EFAULT, and the bytes stay queued.
static void tcp_bad_buffer(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = loopback(0);
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 1);
  a = loopback(bound_port(l));
  int c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&a, sizeof a);
  int s = accept(l, NULL, NULL);
  check(s >= 0 && send(c, "abc", 3, 0) == 3, "a TCP connection with 3 bytes sent");
  char buf[8] = {0};
  int tries = 0;
  while (recv(s, buf, 1, MSG_PEEK | MSG_DONTWAIT) != 1 && tries++ < 1000) usleep(1000);
  CHECK_ERRNO(recv(s, (void *)8, 3, 0), EFAULT, "TCP recv into a bad buffer");
  check(recv(s, buf, sizeof buf, 0) == 3 && memcmp(buf, "abc", 3) == 0, "the bytes are still there afterwards");
  CHECK_ERRNO(send(c, (void *)8, 3, 0), EFAULT, "TCP send from a bad buffer");
  close(s);
  close(c);

  // SO_LINGER with a timeout: close waits until the peer has the data, which then ends normally.
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&a, sizeof a);
  s = accept(l, NULL, NULL);
  static char block[65536];
  memset(block, 'L', sizeof block);
  struct linger lg = {1, 3};
  check(setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0 && send(c, block, sizeof block, 0) == sizeof block,
        "64 KiB sent with SO_LINGER 3 s");
  double start = now_ms();
  check(close(c) == 0, "close with SO_LINGER");
  double took = now_ms() - start;
  check(took < 2500, "close returned once the peer had the data (%.0f ms)", took);
  size_t got = 0;
  for (;;) {
    ssize_t n = recv(s, block, sizeof block, 0);
    if (n <= 0) break;
    got += n;
  }
  check(got == sizeof block, "the peer read all 64 KiB, then end of stream (%zu)", got);
  close(s);

  // SO_LINGER 0: close resets the connection.
  c = socket(AF_INET, SOCK_STREAM, 0);
  connect(c, (struct sockaddr *)&a, sizeof a);
  s = accept(l, NULL, NULL);
  struct linger zero = {1, 0};
  setsockopt(c, SOL_SOCKET, SO_LINGER, &zero, sizeof zero);
  close(c);
  usleep(50000);
  CHECK_ERRNO(recv(s, block, sizeof block, 0), ECONNRESET, "recv after the peer closed with SO_LINGER 0");
  close(s);
  close(l);
}

// ---- UDP ----
static void udp(void) {
  int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = loopback(0);
  check(bind(a, (struct sockaddr *)&sa, sizeof sa) == 0, "UDP bind");
  int pa = bound_port(a);
  sa = loopback(pa);
  check(sendto(b, "hello", 5, 0, (struct sockaddr *)&sa, sizeof sa) == 5, "sendto");
  char buf[64];
  struct sockaddr_in from;
  socklen_t fl = sizeof from;
  check(recvfrom(a, buf, sizeof buf, MSG_PEEK, (struct sockaddr *)&from, &fl) == 5, "recvfrom MSG_PEEK");
  fl = sizeof from;
  ssize_t n = recvfrom(a, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
  check(n == 5 && memcmp(buf, "hello", 5) == 0 && fl == sizeof from && ntohs(from.sin_port) == bound_port(b),
        "recvfrom gets the datagram and the sender");
  // Truncation.
  sendto(b, "0123456789", 10, 0, (struct sockaddr *)&sa, sizeof sa);
  check(recv(a, buf, 4, MSG_PEEK | MSG_TRUNC) == 10, "MSG_TRUNC gives the full length");
  check(recv(a, buf, 4, 0) == 4 && memcmp(buf, "0123", 4) == 0, "a short buffer truncates the datagram");
  // sendmsg gathers, recvmsg scatters.
  struct iovec out[2] = {{"abc", 3}, {"defgh", 5}};
  struct msghdr m = {.msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = out, .msg_iovlen = 2};
  check(sendmsg(b, &m, 0) == 8, "sendmsg with two iovecs");
  char x[3], y[10];
  struct iovec in[2] = {{x, 3}, {y, 10}};
  struct sockaddr_in name;
  struct msghdr r = {.msg_name = &name, .msg_namelen = sizeof name, .msg_iov = in, .msg_iovlen = 2};
  n = recvmsg(a, &r, 0);
  check(n == 8 && memcmp(x, "abc", 3) == 0 && memcmp(y, "defgh", 5) == 0 && r.msg_namelen == sizeof name &&
        name.sin_addr.s_addr == htonl(INADDR_LOOPBACK) && r.msg_flags == 0, "recvmsg scatters and names the sender");
  sendto(b, "0123456789", 10, 0, (struct sockaddr *)&sa, sizeof sa);
  struct iovec small = {x, 3};
  struct msghdr t = {.msg_iov = &small, .msg_iovlen = 1};
  check(recvmsg(a, &t, 0) == 3 && (t.msg_flags & MSG_TRUNC), "recvmsg sets MSG_TRUNC");
  // Nothing queued.
  CHECK_ERRNO(recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN, "recv MSG_DONTWAIT on an empty socket");
  struct timeval tv = {0, 150000};
  check(setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO");
  struct timeval tv2;
  socklen_t tl = sizeof tv2;
  check(getsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv2, &tl) == 0 && tv2.tv_sec == 0 && tv2.tv_usec >= 140000 && tv2.tv_usec <= 160000,
        "SO_RCVTIMEO reads back");
  double start = now_ms();
  CHECK_ERRNO(recv(a, buf, sizeof buf, 0), EAGAIN, "recv times out after SO_RCVTIMEO");
  double waited = now_ms() - start;
  check(waited >= 140 && waited < 2000, "the timeout took about 150 ms (%.0f)", waited);
  // A bad buffer with a datagram waiting.
  sendto(b, "z", 1, 0, (struct sockaddr *)&sa, sizeof sa);
  CHECK_ERRNO(recv(a, (void *)8, 16, 0), EFAULT, "recv into a bad buffer");
  CHECK_ERRNO(sendto(b, (void *)8, 16, 0, (struct sockaddr *)&sa, sizeof sa), EFAULT, "sendto from a bad buffer");
  CHECK_ERRNO(sendto(b, "x", 1, 0, (struct sockaddr *)&sa, 8), EINVAL, "sendto with a short address");
  CHECK_ERRNO(send(socket(AF_INET, SOCK_DGRAM, 0), "x", 1, 0), EDESTADDRREQ, "send on an unconnected UDP socket");
  CHECK_ERRNO(listen(a, 1), EOPNOTSUPP, "listen on UDP");
  // connect() on UDP sets the default peer.
  check(connect(b, (struct sockaddr *)&sa, sizeof sa) == 0, "UDP connect");
  check(send(b, "q", 1, 0) == 1 && recv(a, buf, sizeof buf, 0) == 1 && buf[0] == 'q', "send on a connected UDP socket");
  close(a);
  close(b);
}

// ---- errors ----
static int closed_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = loopback(0);
  bind(s, (struct sockaddr *)&a, sizeof a);
  int port = bound_port(s);
  close(s);
  return port;
}

static void errors(void) {
  struct sockaddr_in a = loopback(0);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  check(s >= 0, "socket(AF_INET, SOCK_STREAM)");
  struct stat st;
  check(fstat(s, &st) == 0 && S_ISSOCK(st.st_mode), "fstat says S_IFSOCK");
  CHECK_ERRNO(bind(999, (struct sockaddr *)&a, sizeof a), EBADF, "bind on a bad fd");
  CHECK_ERRNO(bind(1, (struct sockaddr *)&a, sizeof a), ENOTSOCK, "bind on stdout");
  CHECK_ERRNO(listen(1, 1), ENOTSOCK, "listen on stdout");
  CHECK_ERRNO(accept(1, NULL, NULL), ENOTSOCK, "accept on stdout");
  CHECK_ERRNO(send(1, "x", 1, 0), ENOTSOCK, "send on stdout");
  CHECK_ERRNO(recv(999, NULL, 0, 0), EBADF, "recv on a bad fd");
  CHECK_ERRNO(bind(s, NULL, sizeof a), EFAULT, "bind with a NULL address");
  CHECK_ERRNO(bind(s, (struct sockaddr *)&a, 4), EINVAL, "bind with a short length");
  CHECK_ERRNO(bind(s, (struct sockaddr *)&a, -1), EINVAL, "bind with a negative length");
  CHECK_ERRNO(connect(s, (struct sockaddr *)8, sizeof a), EFAULT, "connect with a bad address");
  CHECK_ERRNO(socket(AF_INET, SOCK_STREAM | 0x1000000, 0), EINVAL, "socket with unknown flags");
  CHECK_ERRNO(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT, "TCP socket with IPPROTO_UDP");
  CHECK_ERRNO(socket(9999, SOCK_STREAM, 0), EAFNOSUPPORT, "socket of an unknown family");
  int sv[2];
  CHECK_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP, "socketpair(AF_INET)");
  if (getenv("WISP") != NULL) {
    CHECK_ERRNO(socket(AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT, "AF_INET6 (not in Wisp)");
    CHECK_ERRNO(socket(AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT, "AF_UNIX (not in Wisp)");
  }
  CHECK_ERRNO(shutdown(s, SHUT_RDWR), ENOTCONN, "shutdown of an unconnected socket");
  CHECK_ERRNO(shutdown(s, 7), EINVAL, "shutdown with a bad how");
  CHECK_ERRNO(accept(s, NULL, NULL), EINVAL, "accept on a socket that does not listen");
  CHECK_ERRNO(accept4(s, NULL, NULL, 0x1234), EINVAL, "accept4 with bad flags");
  int v = 0;
  socklen_t vl = sizeof v;
  check(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_STREAM && vl == sizeof v, "SO_TYPE");
  check(getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &vl) == 0 && v == 0, "SO_ERROR is 0");
  int one = 1;
  check(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, &vl) == 0 && v == 1, "SO_REUSEADDR");
  check(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == 0, "SO_KEEPALIVE");
  int idle = 30;
  check(setsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) == 0 &&
        getsockopt(s, IPPROTO_TCP, TCP_KEEPIDLE, &v, &vl) == 0 && v == 30, "TCP_KEEPIDLE");
  int tos = 0x10;
  check(setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof tos) == 0 &&
        getsockopt(s, IPPROTO_IP, IP_TOS, &v, &vl) == 0 && v == 0x10, "IP_TOS");
  struct linger lg = {1, 5}, lg2;
  socklen_t ll = sizeof lg2;
  check(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0 &&
        getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &ll) == 0 && lg2.l_onoff == 1 && lg2.l_linger == 5, "SO_LINGER");
  CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 2), EINVAL, "setsockopt with a short length");
  CHECK_ERRNO(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (void *)8, 4), EFAULT, "setsockopt with a bad pointer");
  CHECK_ERRNO(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, (socklen_t *)8), EFAULT, "getsockopt with a bad length pointer");
  CHECK_ERRNO(setsockopt(s, SOL_SOCKET, 9999, &one, sizeof one), ENOPROTOOPT, "an unknown option");
  CHECK_ERRNO(getpeername(s, (struct sockaddr *)&a, &vl), ENOTCONN, "getpeername unconnected");
  close(s);

  int port = closed_port();
  s = socket(AF_INET, SOCK_STREAM, 0);
  a = loopback(port);
  CHECK_ERRNO(connect(s, (struct sockaddr *)&a, sizeof a), ECONNREFUSED, "connect to a closed port");
  close(s);
  s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  check((fcntl(s, F_GETFL) & O_NONBLOCK) && (fcntl(s, F_GETFD) & FD_CLOEXEC), "SOCK_NONBLOCK and SOCK_CLOEXEC");
  int r = connect(s, (struct sockaddr *)&a, sizeof a);
  int e = errno;
  check(r == -1 && (e == EINPROGRESS || e == ECONNREFUSED), "nonblocking connect: EINPROGRESS (errno %d)", e);
  int err = 0;
  for (int i = 0; i < 500 && err == 0 && e == EINPROGRESS; i++) {
    vl = sizeof err;
    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &vl);
    if (err == 0) usleep(2000);
  }
  if (e == EINPROGRESS) check(err == ECONNREFUSED, "SO_ERROR then says ECONNREFUSED (%d)", err);
  close(s);

  // accept with a bad address pointer: -EFAULT, and no descriptor is left behind.
  int l = socket(AF_INET, SOCK_STREAM, 0);
  a = loopback(0);
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 4);
  a = loopback(bound_port(l));
  int c = socket(AF_INET, SOCK_STREAM, 0);
  check(connect(c, (struct sockaddr *)&a, sizeof a) == 0, "connect for the bad accept");
  socklen_t al = sizeof a;
  CHECK_ERRNO(accept(l, (struct sockaddr *)8, &al), EFAULT, "accept into a bad address");
  int probe = dup(0);
  check(probe == c + 1, "no descriptor was left by the failed accept (next %d, expected %d)", probe, c + 1);
  close(probe);
  int c2 = socket(AF_INET, SOCK_STREAM, 0);
  check(connect(c2, (struct sockaddr *)&a, sizeof a) == 0, "connect for the bad accept length");
  CHECK_ERRNO(accept(l, (struct sockaddr *)&a, (socklen_t *)8), EFAULT, "accept with a bad length pointer");
  close(c2);
  close(c);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  errors();
  tcp_bad_buffer();
  udp();
  tcp_echo();
  return finish("sockets");
}
