"""Object-heavy code: small classes with __init__, properties and methods,
dataclasses, and dict/list churn (call-heavy).

    python objects.py [n]
"""
import sys
from dataclasses import dataclass, field

DEFAULT_SIZE = 120_000
QUICK_SIZE = 50_000
CALL_HEAVY = True
# Line mode (bench/run_lines.py): the methods of the small classes
# (a property stands for its getter and setter).
LINE_TARGETS = ["Vec.__init__", "Vec.__add__", "Vec.scaled", "Account.balance",
                "Account.deposit", "Account.withdraw", "Item.total"]


class Vec:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def scaled(self, k):
        return Vec(self.x * k, self.y * k)

    @property
    def norm1(self):
        return abs(self.x) + abs(self.y)


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self._balance = balance
        self.history = []

    @property
    def balance(self):
        return self._balance

    @balance.setter
    def balance(self, value):
        if value < 0:
            raise ValueError("negative balance")
        self._balance = value

    def deposit(self, amount):
        self.balance = self.balance + amount
        self.history.append(("deposit", amount))

    def withdraw(self, amount):
        try:
            self.balance = self.balance - amount
        except ValueError:
            self.history.append(("refused", amount))
            return False
        self.history.append(("withdraw", amount))
        return True


@dataclass
class Item:
    name: str
    price: int
    qty: int = 1
    tags: list = field(default_factory=list)

    def total(self):
        return self.price * self.qty


@dataclass(frozen=True)
class Key:
    shop: int
    sku: int


def churn(n):
    accounts = {}
    inventory = {}
    pos = Vec(0, 0)
    step = Vec(1, -1)
    refused = 0
    for i in range(n):
        owner = "user%d" % (i % 500)
        acct = accounts.get(owner)
        if acct is None:
            acct = accounts[owner] = Account(owner, 100)
        acct.deposit(i % 7)
        if not acct.withdraw((i * 13) % 23):
            refused += 1
        pos = pos + step.scaled(i % 3)
        key = Key(i % 17, i % 101)
        item = inventory.get(key)
        if item is None:
            inventory[key] = Item("sku%d" % key.sku, (i * 31) % 97, 1, [key.shop])
        else:
            item.qty += 1
            item.tags.append(i % 5)
            if len(item.tags) > 8:
                del item.tags[:4]
        if i % 1000 == 999:
            # drop half the histories: list and dict churn
            for a in list(accounts.values())[::2]:
                a.history = a.history[-10:]
    value = sum(it.total() for it in inventory.values())
    return value, refused, pos.norm1, len(accounts)


def main(size=DEFAULT_SIZE):
    return churn(size)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SIZE))
