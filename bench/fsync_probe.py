"""Fallback for fsync_probe.c when no C compiler is installed: same loop, same output."""
import os
import sys
import time

path = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
block = b"c" * 8192
os.pwrite(fd, block, 0)
os.fsync(fd)
ops = 0
start = time.monotonic()
while True:
    os.pwrite(fd, block, 0)
    os.fdatasync(fd)
    ops += 1
    elapsed = time.monotonic() - start
    if elapsed >= seconds:
        break
os.close(fd)
print("%.0f" % (ops / elapsed))
