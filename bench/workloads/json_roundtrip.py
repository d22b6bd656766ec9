"""json dumps/loads round trips of nested structures (mostly C, few calls).

    python json_roundtrip.py [n]
"""
import json
import sys

DEFAULT_SIZE = 150
QUICK_SIZE = 60
CALL_HEAVY = False
# Line mode (bench/run_lines.py): the round-trip loop and the json
# module's Python layer around its C encoder and scanner.
LINE_TARGETS = ["roundtrip", "json:dumps", "json:loads", "json.encoder:JSONEncoder.encode",
                "json.encoder:JSONEncoder.iterencode", "json.decoder:JSONDecoder.decode",
                "json.decoder:JSONDecoder.raw_decode"]


def make_doc(i):
    return {
        "id": i,
        "name": "record-%d" % i,
        "active": i % 3 == 0,
        "score": i * 0.125,
        "tags": ["t%d" % (i % k) for k in range(1, 8)],
        "owner": {"id": i % 97, "email": "user%d@example.org" % (i % 97),
                  "roles": ["admin"] if i % 11 == 0 else ["user", "viewer"]},
        "points": [{"x": j, "y": j * j % 17, "label": None} for j in range(i % 9)],
        "meta": {"created": "2024-01-%02d" % (1 + i % 28), "version": [1, i % 5, 0]},
    }


def roundtrip(rounds, batch=200):
    docs = [make_doc(i) for i in range(batch)]
    total = 0
    for r in range(rounds):
        text = json.dumps(docs, sort_keys=(r % 2 == 0))
        back = json.loads(text)
        pretty = json.dumps(back[r % batch], indent=2)
        total += len(text) + len(json.loads(pretty)["tags"])
        docs[r % batch]["score"] += 1
    return total


def main(size=DEFAULT_SIZE):
    return roundtrip(size)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SIZE))
