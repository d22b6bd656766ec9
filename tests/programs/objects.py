from dataclasses import dataclass


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    @property
    def norm(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5

    def shifted(self, d):
        return Point(self.x + d, self.y + d)

    def __repr__(self):
        return f"Point({self.x}, {self.y})"


@dataclass
class Item:
    name: str
    qty: int = 0


def main():
    pts = [Point(i, i + 1) for i in range(50)]
    total = sum(p.shifted(1).norm for p in pts)
    items = sorted((Item(str(i), i % 7) for i in range(40)), key=lambda it: it.qty)
    d = {}
    for it in items:
        d.setdefault(it.qty, []).append(it)
    repr(pts[:3])
    return total, len(d)
