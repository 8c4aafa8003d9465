/* What the benchmark's network tools (tcp_rr.c, tcp_echo.c) share: a
 * monotonic clock in seconds and a port argument check. Each defines
 * TOOL_NAME (its name in error messages) before including this file. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
