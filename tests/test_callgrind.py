"""`pyrometer convert -f callgrind`: the Callgrind format for KCachegrind.

valgrind's callgrind_annotate reads the file and reports the profile's
total and, per function, the tottime as self cost and the cumtime as
inclusive cost (to the nanosecond, give or take the rounding)."""
import marshal
import os
import pstats
import re
import shutil
import subprocess

import pytest

from conftest import run_python

PROGRAM = '''
def leaf(n):
    s = 0
    for i in range(n):
        s += i
    return s

class A:
    def __init__(self):
        leaf(3000)

class B:
    def __init__(self):
        leaf(2000)

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def mid():
    for _ in range(40):
        A()
        B()
    return sorted([leaf(50) for _ in range(20)])

def main():
    mid()
    fib(14)

main()
'''


def convert(*args):
    return run_python(["-m", "pyrometer", "convert", *map(str, args)])


@pytest.fixture(scope="module", params=["pyrometer", "cprofile"])
def profile(request, tmp_path_factory):
    """(path of a .prof made by pyrometer or by cProfile, its pstats dict)"""
    tmp = tmp_path_factory.mktemp("callgrind")
    prog = tmp / "prog.py"
    prog.write_text(PROGRAM)
    out = tmp / "prog.prof"
    if request.param == "pyrometer":
        r = run_python(["-m", "pyrometer", "run", "-o", str(out), str(prog)])
    else:
        r = run_python(["-m", "cProfile", "-o", str(out), str(prog)])
    assert r.returncode == 0, r.stderr
    return out, pstats.Stats(str(out)).stats


@pytest.fixture(scope="module")
def callgrind(profile):
    prof, _ = profile
    out = prof.with_suffix(".callgrind")
    r = convert(prof, "-f", "callgrind", "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def ns(seconds):
    return round(seconds * 1e9)


def annotated_name(key):
    """How the file names a function: file:name (file '<built-in>' for
    built-ins; name:line where one file has two functions of that name)."""
    return ("<built-in>" if key[0] == "~" else key[0]), key[2]


def expected_names(stats):
    seen = {}
    for key in stats:
        seen.setdefault(annotated_name(key), set()).add(key[1])
    names = {}
    for key in stats:
        file, name = annotated_name(key)
        names[key] = f"{file}:{name}" if len(seen[(file, name)]) == 1 else f"{file}:{name}:{key[1]}"
    return names


def read_callgrind(path):
    """A minimal reader of what we write: {fn: self}, {(fn, cfn): (calls, cost)}."""
    files, fns = {}, {}

    def name(table, text):
        m = re.match(r"\((\d+)\)(?: (.*))?$", text)
        assert m, text
        if m.group(2) is not None:
            assert m.group(1) not in table, f"id {m.group(1)} named twice"
            table[m.group(1)] = m.group(2)
        return table[m.group(1)]

    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# callgrind format"
    header = dict(line.split(": ", 1) for line in lines[1:7])
    assert header["version"] == "1" and header["positions"] == "line"
    assert header["events"] == "ns" and header["creator"].startswith("pyrometer")
    self_cost, calls = {}, {}
    fl = fn = cfl = cfn = None
    pending = None
    for line in lines[7:]:
        if not line:
            continue
        key, _, value = line.partition("=")
        if pending is not None:
            pos, cost = line.split()
            calls[(fn, cfn)] = (pending, int(cost))
            pending = None
        elif key == "fl":
            fl = name(files, value)
        elif key == "fn":
            fn = f"{fl}:{name(fns, value)}"
            cfl = None
        elif key == "cfl":
            cfl = name(files, value)
        elif key == "cfn":
            cfn = f"{cfl or fl}:{name(fns, value)}"
            cfl = None
        elif key == "calls":
            pending = int(value.split()[0])
        elif line.startswith("totals: "):
            totals = int(line.split()[1])
        else:
            pos, cost = line.split()
            self_cost[fn] = self_cost.get(fn, 0) + int(cost)
    assert int(header["summary"]) == totals
    return totals, self_cost, calls


def test_format(profile, callgrind):
    _, stats = profile
    totals, self_cost, calls = read_callgrind(callgrind)
    names = expected_names(stats)
    assert abs(totals - ns(sum(v[2] for v in stats.values()))) <= 1
    for key, value in stats.items():
        assert abs(self_cost[names[key]] - ns(value[2])) <= 1, key
        for caller, cv in value[4].items():
            if caller == key:
                assert (names[caller], names[key]) not in calls   # recursion: see the writer
                continue
            ncalls, cost = calls[(names[caller], names[key])]
            assert ncalls == cv[0] and abs(cost - ns(cv[3])) <= 1, (caller, key)
    text = callgrind.read_text()
    assert re.search(r"^c?fl=\(\d+\) <built-in>$", text, re.M)
    assert re.search(r"^cfn=\(\d+\) __init__:\d+$|^fn=\(\d+\) __init__:\d+$", text, re.M)


def annotate(path, inclusive):
    """callgrind_annotate's PROGRAM TOTALS and per-function costs."""
    r = subprocess.run(["callgrind_annotate", "--threshold=100",
                        f"--inclusive={'yes' if inclusive else 'no'}", str(path)],
                       capture_output=True, text=True, cwd="/", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "WARNING" not in r.stderr, r.stderr
    costs = {}
    for line in r.stdout.splitlines():
        if "Auto-annotated source" in line:
            break
        m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
        if m:
            costs[m.group(2)] = int(m.group(1).replace(",", ""))
    return costs.pop("PROGRAM TOTALS"), costs


needs_valgrind = pytest.mark.skipif(shutil.which("callgrind_annotate") is None,
                                    reason="valgrind's callgrind_annotate is not installed")


@needs_valgrind
def test_callgrind_annotate_self(profile, callgrind):
    _, stats = profile
    total, costs = annotate(callgrind, inclusive=False)
    assert abs(total - ns(sum(v[2] for v in stats.values()))) <= 1
    names = expected_names(stats)
    for key, value in stats.items():
        assert abs(costs.get(names[key], 0) - ns(value[2])) <= 1, key
    assert any(k[2] == "fib" for k in stats) and any(k[0] == "~" for k in stats)


@needs_valgrind
def test_callgrind_annotate_inclusive(profile, callgrind):
    _, stats = profile
    total, costs = annotate(callgrind, inclusive=True)
    assert abs(total - ns(sum(v[2] for v in stats.values()))) <= 1
    names = expected_names(stats)
    checked = 0
    for key, value in stats.items():
        # each call's cost is rounded on its own: a nanosecond per term
        terms = len(value[4]) + sum(key in v[4] for v in stats.values()) + 1
        assert abs(costs.get(names[key], 0) - ns(value[3])) <= terms + 1, key
        checked += 1
    fib = next(k for k in stats if k[2] == "fib")
    assert stats[fib][1] > stats[fib][0]           # recursion, and still its cumtime
    assert checked == len(stats)


@needs_valgrind
def test_profile_module_callers(tmp_path):
    """The pure-Python profile module names callers by a call count only."""
    stats = {
        ("m.py", 1, "main"): (1, 1, 0.5, 2.0, {}),
        ("m.py", 5, "work"): (4, 4, 1.5, 1.5, {("m.py", 1, "main"): 4}),
    }
    src, out = tmp_path / "p.prof", tmp_path / "p.cg"
    with open(src, "wb") as f:
        marshal.dump(stats, f)
    r = convert(src, "-f", "callgrind", "-o", out)
    assert r.returncode == 0, r.stderr
    total, costs = annotate(out, inclusive=True)
    assert total == 2_000_000_000
    assert costs == {"m.py:main": 2_000_000_000, "m.py:work": 1_500_000_000}


def test_bad_input_leaves_output_alone(tmp_path):
    out = tmp_path / "out.callgrind"
    out.write_text("keep me")
    good = {("m.py", 1, "f"): (1, 1, 0.1, 0.1, {})}
    data = marshal.dumps(good)
    inputs = {
        "text.prof": b"this is not a profile\n",
        "truncated.prof": data[: len(data) // 2],
        "list.prof": marshal.dumps([1, 2, 3]),
        "shape.prof": marshal.dumps({("m.py", 1, "f"): (1, 2)}),
        "empty.prof": b"",
    }
    for name, content in inputs.items():
        (tmp_path / name).write_bytes(content)
        r = convert(tmp_path / name, "-f", "callgrind", "-o", out)
        assert r.returncode == 2, (name, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "not a profile" in r.stderr, r.stderr
        assert out.read_text() == "keep me"
    r = convert(tmp_path / "missing.prof", "-f", "callgrind", "-o", out)
    assert r.returncode == 2 and "cannot read" in r.stderr
    assert sorted(os.listdir(tmp_path)) == sorted([*inputs, "out.callgrind"])


def test_unknown_option(tmp_path):
    src, out = tmp_path / "p.prof", tmp_path / "p.cg"
    with open(src, "wb") as f:
        marshal.dump({("m.py", 1, "f"): (1, 1, 0.1, 0.1, {})}, f)
    for args, message in ((["--node-threshold", "1"], "does not apply to the callgrind format"),
                          (["--bogus=3"], "unknown option '--bogus'")):
        r = convert(src, "-f", "callgrind", "-o", out, *args)
        assert r.returncode == 2, r.stderr
        assert message in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
        assert not out.exists()


def test_unwritable_output(tmp_path):
    src = tmp_path / "p.prof"
    with open(src, "wb") as f:
        marshal.dump({("m.py", 1, "f"): (1, 1, 0.1, 0.1, {})}, f)
    r = convert(src, "-f", "callgrind", "-o", tmp_path / "nowhere" / "p.cg")
    assert r.returncode == 2 and "cannot write" in r.stderr
    (tmp_path / "dir.cg").mkdir()
    r = convert(src, "-f", "callgrind", "-o", tmp_path / "dir.cg")
    assert r.returncode == 2 and "cannot write" in r.stderr, r.stderr
