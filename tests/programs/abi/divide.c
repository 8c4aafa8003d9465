/* Divides by zero: Wisp must end the application with SIGFPE's status and a
 * report, not panic. */
#include <stdio.h>

int main(int argc, char **argv) {
  (void)argv;
  volatile int zero = argc - 1;
  printf("about to divide by zero\n");
  fflush(stdout);
  printf("%d\n", 100 / zero);
  printf("still here\n");
  return 0;
}
