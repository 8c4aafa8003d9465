// Hello world for the Linux ABI tests: prints its arguments and environment
// and exits with status 3, which must become the VM's exit status.
#include <stdio.h>

int main(int argc, char **argv, char **envp) {
  printf("hello, world\n");
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (char **e = envp; *e != NULL; e++) printf("env %s\n", *e);
  return 3;
}
