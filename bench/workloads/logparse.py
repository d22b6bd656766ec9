"""The bz2 + regex log-parsing example.

Parses a bz2 file of `epoch,metric,value` lines (a mix of cpu_usage and
memory_usage), generated once per size into a cache folder under the system
temp folder, and prints the mean cpu usage.

    python logparse.py [lines]
"""
import bz2
import os
import random
import re
import sys
import tempfile

DEFAULT_SIZE = 1_000_000   # the seed example's file
BENCH_SIZE = 300_000       # what bench/run.py parses: ~1 s unprofiled
QUICK_SIZE = 150_000
CALL_HEAVY = False
# Line mode (bench/run_lines.py): the parser and the loop that feeds it.
LINE_TARGETS = ["process_line", "main"]

re_log_line = re.compile(rb"(.*?),(.*?),(.*)\n")


def data_path(size):
    folder = os.path.join(tempfile.gettempdir(), "pyrometer-bench-cache")
    return os.path.join(folder, "logparse-%d.bz2" % size)


def prepare(size=DEFAULT_SIZE):
    """Write the log file for `size` lines unless it is there already."""
    path = data_path(size)
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = random.Random(12345)
    lines = []
    epoch = 1_500_000_000
    for _ in range(size):
        epoch += rng.randint(0, 3)
        if rng.random() < 0.5:
            lines.append("%d,cpu_usage,%d\n" % (epoch, rng.randint(0, 100)))
        else:
            lines.append("%d,memory_usage,%d\n" % (epoch, rng.randint(1000, 64000)))
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with bz2.open(tmp, "wb") as f:
        f.write("".join(lines).encode("ascii"))
    os.replace(tmp, path)
    return path


def process_line(line, cpu_usages):
    re_obj = re_log_line.search(line)
    try:
        elems = re_obj.groups()
    except Exception:
        pass
    else:
        if elems[1] == b"cpu_usage":
            cpu_usages.append(int(elems[2]))


def summarise(cpu_usages):
    avg = sum(cpu_usages) / len(cpu_usages)
    print("Mean cpu usage: %.4f" % avg)
    return avg


def main(size=DEFAULT_SIZE):
    path = prepare(size)
    cpu_usages = []
    with bz2.BZ2File(path) as f:
        for line in f:
            process_line(line, cpu_usages)
    return summarise(cpu_usages)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SIZE)
