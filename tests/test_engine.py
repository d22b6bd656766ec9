"""The function profiler's numbers against CPython's own (cProfile)."""
import sys

import pytest

from conftest import PROGRAMS, counts, edges

PROGRAMS_VS_CPROFILE = ["recursion", "generators", "async_prog", "exceptions", "objects"]


@pytest.mark.parametrize("name", PROGRAMS_VS_CPROFILE)
def test_counts_equal_cprofile(profile_program, name):
    ours = profile_program(PROGRAMS / f"{name}.py")
    theirs = profile_program(PROGRAMS / f"{name}.py", which="cprofile")
    assert counts(ours) == counts(theirs)


@pytest.mark.parametrize("name", ["recursion", "generators", "exceptions", "objects"])
def test_caller_edges_equal_cprofile(profile_program, name):
    ours = profile_program(PROGRAMS / f"{name}.py", which="pyrometer{'fold_depth': 100000}")
    theirs = profile_program(PROGRAMS / f"{name}.py", which="cprofile")
    assert edges(ours) == edges(theirs)


def test_no_builtins(profile_program):
    ours = profile_program(PROGRAMS / "objects.py", which="pyrometer{'builtins': False}")
    theirs = profile_program(PROGRAMS / "objects.py", which="cprofile")
    assert not any(k[0] == "~" for k in counts(ours))
    assert counts(ours, builtins=False) == counts(theirs, builtins=False)


def test_recursion_counts_and_folding(profile_program):
    ours = profile_program(PROGRAMS / "recursion.py")
    info = ours[("<info>", 0, "info")]
    deep = [v for k, v in ours.items() if k[2] == "deep"][0]
    assert (deep[1], deep[0]) == (301, 1)          # 301/1 in pstats' notation
    assert info["folded_calls"] > 0                 # depth 300 > fold depth 64
    assert info["nodes"] < 400
    # cumulative time counts the outermost activation only
    main = [v for k, v in ours.items() if k[2] == "main"][0]
    assert deep[3] <= main[3]


def test_times_are_consistent(profile_program):
    stats = profile_program(PROGRAMS / "objects.py")
    for key, value in stats.items():
        if key[0] == "<info>":
            continue
        cc, nc, tt, ct, callers = value
        assert tt >= 0 and ct >= 0
        assert tt <= ct + 1e-9 or cc != nc, key
        for caller, (enc, ecc, ett, ect) in callers.items():
            assert enc <= nc and ett <= tt + 1e-9


def test_enable_inside_nested_calls(tmp_path):
    from conftest import run_python
    prog = tmp_path / "nested.py"
    prog.write_text('''
import pyrometer
prof = pyrometer.Profiler()

def inner(k):
    if k == 2:
        prof.enable()
    if k == 4:
        prof.disable()
    return k

def middle(k):
    return inner(k) + leaf()

def leaf():
    return 1

def outer():
    return [middle(k) for k in range(6)]

outer()
st = prof.get_stats()
for key, (cc, nc, tt, ct, callers) in st.items():
    assert tt >= 0 and ct >= 0, key
    assert tt <= ct + 1e-9, key
names = {k[2]: v[1] for k, v in st.items()}
# enabled inside inner(2): leaf of k=2 and k=3; middle and inner of k=3 and
# of k=4, closed at disable() as cProfile does
assert names["leaf"] == 2, names
assert names["middle"] == 2, names
assert names["inner"] == 2, names
print("ok")
''')
    r = run_python([str(prog)])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_threads_are_profiled(tmp_path):
    from conftest import run_python
    prog = tmp_path / "threads.py"
    prog.write_text('''
import threading, pyrometer

def work(n):
    return sum(step(i) for i in range(n))

def step(i):
    return i

started_before = threading.Event()
release = threading.Event()
def early():
    started_before.set()
    release.wait()
    work(7)

t0 = threading.Thread(target=early)
t0.start(); started_before.wait()
prof = pyrometer.Profiler()
prof.enable()
release.set()
threads = [threading.Thread(target=work, args=(10,)) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
t0.join()
prof.disable()
st = prof.get_stats()
names = {k[2]: v[1] for k, v in st.items()}
import sys
expected = 4 * 10 + (7 if sys.version_info >= (3, 12) else 0)
assert names["step"] == expected, (names, expected)
print("ok")
''')
    r = run_python([str(prog)])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_hooks_keep_program_exception(tmp_path):
    from conftest import run_python
    prog = tmp_path / "exc.py"
    prog.write_text('''
import sys, pyrometer
def f():
    raise KeyError("k")
prof = pyrometer.Profiler()
prof.enable()
try:
    f()
except KeyError as e:
    assert e.args == ("k",)
    assert sys.exc_info()[0] is KeyError
prof.disable()
print("ok")
''')
    r = run_python([str(prog)])
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_second_profiler_refused():
    import pyrometer
    a, b = pyrometer.Profiler(), pyrometer.Profiler()
    a.enable()
    try:
        with pytest.raises(ValueError):
            b.enable()
    finally:
        a.disable()


def test_pstats_reads_profiler_object():
    import pstats, io
    import pyrometer
    prof = pyrometer.Profiler()
    with prof:
        sorted(range(100), key=lambda x: -x)
    s = pstats.Stats(prof, stream=io.StringIO())
    assert s.total_calls > 0


def test_out_of_memory_stops_profiling_not_the_program(tmp_path):
    from conftest import run_python
    prog = tmp_path / "oom.py"
    prog.write_text('''
import pyrometer
def leaf(i):
    return i * 2
def work():
    return sum(leaf(i) for i in range(1000)) + sum(map(abs, range(-5, 5)))
prof = pyrometer.Profiler(_node_limit=3)
prof.enable()
result = work()
prof.disable()
assert result == 999000 + 25, result
info = prof.info()
assert info["out_of_memory"] is True, info
assert info["nodes"] <= 3
notes = pyrometer._api.notes_for(prof)
assert notes and "memory ran out" in notes[0]
print("ok")
''')
    r = run_python([str(prog)])
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_cpu_clock(profile_program):
    stats = profile_program(PROGRAMS / "objects.py", which="pyrometer{'clock': 'cpu'}")
    assert stats[("<info>", 0, "info")]["clock"] == "cpu"
    assert counts(stats) == counts(profile_program(PROGRAMS / "objects.py", which="cprofile"))


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")
def test_tool_ids(tmp_path):
    from conftest import run_python
    prog = tmp_path / "tools.py"
    prog.write_text('''
import cProfile, sys, pyrometer
def f():
    return sum(range(10))
# cProfile holds the PROFILER id: pyrometer takes another one
c = cProfile.Profile(); c.enable()
p = pyrometer.Profiler(); p.enable()
f()
p.disable(); c.disable()
assert any(k[2] == "f" for k in p.get_stats())
# every id taken: a clear error, nothing enabled
for i in range(6):
    try:
        sys.monitoring.use_tool_id(i, "squatter")
    except ValueError:
        pass
q = pyrometer.Profiler()
try:
    q.enable()
except RuntimeError as e:
    assert "tool id" in str(e), e
    print("ok")
assert not q.enabled
''')
    r = run_python([str(prog)])
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
