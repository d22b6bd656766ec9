def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def deep(n):
    return 0 if n == 0 else 1 + deep(n - 1)


def main():
    fib(18)
    is_even(50)
    deep(300)
