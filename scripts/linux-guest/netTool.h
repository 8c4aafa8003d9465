/* What the benchmark's network tools (tcp_rr.c, tcp_echo.c) share: a
 * monotonic clock in seconds, a port argument check and a connect that
 * waits for the server. Each defines TOOL_NAME (its name in error
 * messages) before including this file. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_port(const char *text) {
  char *end;
  long port = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || port < 1 || port > 65535) {
    fprintf(stderr, TOOL_NAME ": bad port '%s'\n", text);
    exit(2);
  }
  return (int)port;
}

/* A connected TCP socket, or -1 (perror'd). A refused connection is tried
 * again for up to 5 s: a guest's server started in the background just
 * before its ready line may not be listening yet. */
static int connect_to_server(const struct sockaddr_in *addr) {
  double deadline = now_s() + 5.0;
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      perror(TOOL_NAME ": socket");
      return -1;
    }
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) return fd;
    int error = errno;
    close(fd);
    if (error != ECONNREFUSED || now_s() > deadline) {
      errno = error;
      perror(TOOL_NAME ": connect");
      return -1;
    }
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
}
