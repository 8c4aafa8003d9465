// abort() raises SIGABRT at itself: with the default action that ends the
// application (the VM) with status 6 and says which signal.
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  printf("aborting\n");
  fflush(stdout);
  abort();
}
