// An application fault: writing to the null page (or, with the argument
// "kernel", to an unmapped address in the kernel half, as glibc does with an
// uninitialized pthread_attr_t) must end the application (the VM) with the
// segmentation fault report and status 11, not a panic.
#include <stdio.h>
#include <string.h>

int *volatile target = (int *)8;

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "kernel") == 0) target = (int *)0xfffffffffffff6c0;
  printf("about to fault\n");
  fflush(stdout);
  *target = 1;
  printf("still here?\n");
  return 0;
}
