"""Recursive Fibonacci: nothing but Python calls (call-heavy).

    python fib.py [n]
"""
import sys

DEFAULT_SIZE = 32
QUICK_SIZE = 30
CALL_HEAVY = True
# Line mode (bench/run_lines.py): the functions line-profiled.
LINE_TARGETS = ["fib"]


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main(size=DEFAULT_SIZE):
    return fib(size)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SIZE))
