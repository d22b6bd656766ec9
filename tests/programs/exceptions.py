def fail(n):
    if n == 0:
        raise ValueError("boom")
    return fail(n - 1)


def guarded(n):
    try:
        fail(n)
    except ValueError:
        return -1
    finally:
        cleanup()


def cleanup():
    return 0


def parse(s):
    try:
        return int(s)
    except ValueError:
        return None


def main():
    for i in range(5):
        guarded(i)
    [parse(s) for s in ("1", "x", "2", "")]
    try:
        fail(3)
    except ValueError:
        pass
