// Single-writer fdatasync rate of a disk: overwrite one 8 KB block and fdatasync, in a loop, for
// a given time (the same pattern as pg_test_fsync's "one 8kB write" fdatasync line).
// Usage: fsync_probe FILE [SECONDS]   Prints ops/s as an integer.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE [SECONDS]\n", argv[0]);
    return 2;
  }
  double seconds = argc > 2 ? atof(argv[2]) : 2.0;
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    perror("open");
    return 1;
  }
  static char block[8192];
  memset(block, 'c', sizeof block);
  // Allocate the block once so the loop measures data syncs, not file growth.
  if (pwrite(fd, block, sizeof block, 0) != (ssize_t)sizeof block || fsync(fd) != 0) {
    perror("prepare");
    return 1;
  }
  long ops = 0;
  double start = Now(), elapsed = 0;
  do {
    if (pwrite(fd, block, sizeof block, 0) != (ssize_t)sizeof block) {
      perror("pwrite");
      return 1;
    }
    if (fdatasync(fd) != 0) {
      perror("fdatasync");
      return 1;
    }
    ++ops;
    elapsed = Now() - start;
  } while (elapsed < seconds);
  close(fd);
  printf("%.0f\n", ops / elapsed);
  return 0;
}
