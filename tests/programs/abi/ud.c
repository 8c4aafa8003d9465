/* Executes an invalid instruction: Wisp must end the application with
 * SIGILL's status and a report, not panic. */
#include <stdio.h>

int main(void) {
  printf("about to execute ud2\n");
  fflush(stdout);
  __asm__ volatile("ud2");
  printf("still here\n");
  return 0;
}
