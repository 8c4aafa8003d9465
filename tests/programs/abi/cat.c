// cat: writes each file named on the command line to standard output (the
// root archive test's program); exits 1 if a file cannot be read.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char buffer[4096];
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      perror(argv[i]);
      status = 1;
      continue;
    }
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) write(1, buffer, n);
    close(fd);
  }
  return status;
}
