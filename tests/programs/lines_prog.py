"""Line-profiling test program: every construct whose line events differ
between versions.  main() calls them all; SELECTED names the functions
whose lines are counted."""
import contextlib
import threading


def loops(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        total += i
    while n > 0:
        n -= 1
    return total


def comprehensions(n):
    squares = [i * i for i in range(n)]
    evens = {i for i in squares if i % 2 == 0}
    table = {i: str(i) for i in range(n)
             if i % 5}
    return len(squares) + len(evens) + len(table) + sum(x for x in range(n))


def counter(n):
    i = 0
    while i < n:
        yield i
        i += 1
    return i


def use_generator(n):
    got = []
    for v in counter(n):
        got.append(v)
    return got


def exceptions(n):
    caught = 0
    for i in range(n):
        try:
            if i % 2:
                raise ValueError(i)
            caught -= 1
        except ValueError:
            caught += 1
        finally:
            caught += 0
    try:
        try:
            {}["missing"]
        finally:
            caught += 1
    except KeyError:
        pass
    return caught


@contextlib.contextmanager
def managed():
    yield 1


def with_blocks(n):
    total = 0
    for _ in range(n):
        with managed() as v:
            total += v
        with open(__file__) as f:
            total += len(f.readline()) > 0
    return total


def recursive(n):
    if n <= 1:
        return 1
    return n * recursive(n - 1)


def nested(n):
    def inner(x):
        return x + 1

    acc = 0
    for i in range(n):
        acc = inner(acc)
    return acc


def threaded(n):
    results = []

    def work(k):
        s = 0
        for i in range(k):
            s += i
        results.append(s)

    threads = [threading.Thread(target=work, args=(n + j,)) for j in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


class Shapes:
    def __init__(self, n):
        self.n = n

    @property
    def area(self):
        return self.n * self.n

    @staticmethod
    def unit():
        return 1

    def grow(self, k):
        for _ in range(k):
            self.n += self.unit()
        return self.area


SELECTED = ["loops", "comprehensions", "counter", "use_generator", "exceptions",
            "with_blocks", "recursive", "nested", "threaded", "Shapes.grow", "Shapes.area",
            "Shapes.unit"]


def main():
    loops(50)
    comprehensions(30)
    use_generator(20)
    exceptions(11)
    with_blocks(4)
    recursive(12)
    nested(25)
    threaded(100)
    Shapes(2).grow(7)


if __name__ == "__main__":
    main()
