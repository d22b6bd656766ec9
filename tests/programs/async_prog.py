import asyncio


async def leaf(i):
    await asyncio.sleep(0)
    return i


async def branch(n):
    total = 0
    for i in range(n):
        total += await leaf(i)
    return total


async def top():
    return await asyncio.gather(branch(3), branch(4))


def main():
    asyncio.run(top())
