def count(n):
    for i in range(n):
        yield i


def delegate(n):
    yield from count(n)
    yield -1


def echo():
    got = None
    while True:
        try:
            got = yield got
        except ValueError:
            got = "caught"


def main():
    sum(count(20))
    list(delegate(5))
    sum(x * 2 for x in range(10))
    g = echo()
    next(g)
    g.send(1)
    g.throw(ValueError)
    g.close()
    [i for i in count(3)]
