// An application fault: writing to the null page must end the application
// (the VM) with the segmentation fault report and status 11, not a panic.
#include <stdio.h>

int *volatile target = (int *)8;

int main(void) {
  printf("about to fault\n");
  fflush(stdout);
  *target = 1;
  printf("still here?\n");
  return 0;
}
