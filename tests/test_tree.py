"""The call tree (docs/tree-format.md): Profiler.get_tree() against the
pstats statistics, and the tree as the second marshal object of a .prof
file: dump, dump_stats, load_profile, and corrupt trees."""
import marshal
import math
import os
import pstats
import textwrap
from collections import defaultdict

import pytest

from conftest import PROGRAMS, run_python
from pyrometer import _engine

# Runs a program's main() under pyrometer in a fresh process and marshals
# back (stats, tree, info), then dumps the profile to a .prof file too.
TREE_DRIVER = r'''
import marshal, runpy, sys
import pyrometer
prog, out, kw = sys.argv[1], sys.argv[2], eval(sys.argv[3])
main = runpy.run_path(prog, run_name="profiled")["main"]
prof = pyrometer.Profiler(**kw)
prof.enable(); main(); prof.disable()
with open(out, "wb") as f:
    marshal.dump((prof.get_stats(), prof.get_tree(), prof.info()), f)
prof.dump(out + ".prof")
'''

FIB = '''
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def down(n):
    return 0 if n == 0 else 1 + down(n - 1)

def ping(n):
    return 0 if n == 0 else pong(n - 1)

def pong(n):
    return 0 if n == 0 else ping(n - 1) + len("x")

def main():
    fib(20)
    down(400)      # deeper than the fold depth (64): folded
    ping(300)      # mutual recursion, folded too
'''

THREADS = '''
import threading

def work(n):
    return sum(i * i for i in range(n))

def main():
    ts = [threading.Thread(target=work, args=(2000,)) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    work(1000)
'''


@pytest.fixture
def profile_tree(tmp_path):
    """profile_tree(source_or_path, **profiler_kw) -> (stats, tree, info, prof_path)."""
    def run(source, **kw):
        if isinstance(source, str):
            prog = tmp_path / "prog.py"
            prog.write_text(textwrap.dedent(source))
        else:
            prog = source
        driver = tmp_path / "tree_driver.py"
        driver.write_text(TREE_DRIVER)
        out = tmp_path / "tree.marshal"
        r = run_python([str(driver), str(prog), str(out), repr(kw)])
        assert r.returncode == 0, r.stderr
        with open(out, "rb") as f:
            stats, tree, info = marshal.load(f)
        return stats, tree, info, tmp_path / "tree.marshal.prof"
    return run


def check_shape(tree):
    keys = {"pyrometer", "version", "funcs", "parent", "func", "calls", "self", "total", "folded"}
    # a saved profile also says how it was measured
    assert set(tree) - {"meta"} == keys
    if "meta" in tree:
        assert {"clock", "compensation", "python", "events"} <= set(tree["meta"])
    assert tree["pyrometer"] == "calltree" and tree["version"] == 1
    assert isinstance(tree["folded"], bool)
    n = len(tree["parent"])
    for k in ("func", "calls", "self", "total"):
        assert len(tree[k]) == n
    seen = set()
    for i in range(n):
        p, f = tree["parent"][i], tree["func"][i]
        assert -1 <= p < i, (i, p)
        assert 0 <= f < len(tree["funcs"])
        assert (p, f) not in seen, "two siblings with one function"
        seen.add((p, f))
        assert isinstance(tree["calls"][i], int) and tree["calls"][i] >= 0
        assert tree["self"][i] >= 0 and tree["total"][i] >= 0
    assert len(set(tree["funcs"])) == len(tree["funcs"])
    assert set(tree["func"]) == set(range(len(tree["funcs"])))


def check_against_stats(stats, tree):
    """Per function, the nodes' calls add up to nc and their self times to tt."""
    calls, self_time = defaultdict(int), defaultdict(list)
    for i, f in enumerate(tree["func"]):
        calls[tree["funcs"][f]] += tree["calls"][i]
        self_time[tree["funcs"][f]].append(tree["self"][i])
    assert set(tree["funcs"]) <= set(stats)
    for key, (cc, nc, tt, ct, callers) in stats.items():
        assert calls[key] == nc, key
        assert math.isclose(math.fsum(self_time[key]), tt, rel_tol=1e-9, abs_tol=1e-15), key
    # a root is a call from outside the profile; a node under a parent is a
    # caller -> callee edge of pstats, and the edge's counts add up too
    edge = defaultdict(int)
    for i, f in enumerate(tree["func"]):
        p = tree["parent"][i]
        if p >= 0:
            edge[(tree["funcs"][tree["func"][p]], tree["funcs"][f])] += tree["calls"][i]
    for key, value in stats.items():
        for caller, cv in value[4].items():
            assert edge[(caller, key)] == cv[0], (caller, key)


@pytest.mark.parametrize("program", sorted(p.name for p in PROGRAMS.glob("*.py")))
def test_tree_matches_stats_on_programs(profile_tree, program):
    stats, tree, info, _ = profile_tree(PROGRAMS / program)
    check_shape(tree)
    check_against_stats(stats, tree)
    assert tree["folded"] == (info["folded_calls"] > 0)


def test_tree_matches_stats_with_folded_recursion(profile_tree):
    stats, tree, info, _ = profile_tree(FIB)
    assert info["folded_calls"] > 0 and tree["folded"]
    check_shape(tree)
    check_against_stats(stats, tree)
    names = {k[2] for k in tree["funcs"]}
    assert {"fib", "down", "ping", "pong", "main"} <= names
    # folding bounds the paths: no node is deeper than the fold depth by
    # more than the length of one recursive cycle
    depth = []
    for p in tree["parent"]:
        depth.append(0 if p < 0 else depth[p] + 1)
    assert max(depth) <= 64 + 3


def test_tree_matches_stats_when_fib_itself_folds(profile_tree):
    stats, tree, info, _ = profile_tree(FIB, fold_depth=4)
    assert tree["folded"]
    check_shape(tree)
    check_against_stats(stats, tree)


def test_tree_matches_stats_without_builtins_and_uncompensated(profile_tree):
    stats, tree, _, _ = profile_tree(FIB, builtins=False, compensate=False)
    check_shape(tree)
    check_against_stats(stats, tree)
    assert not any(k[0] == "~" for k in tree["funcs"])


def test_threads_are_roots(profile_tree):
    stats, tree, _, _ = profile_tree(THREADS)
    check_shape(tree)
    check_against_stats(stats, tree)
    roots = [i for i, p in enumerate(tree["parent"]) if p == -1]
    root_names = {tree["funcs"][tree["func"][i]][2] for i in roots}
    assert "run" in root_names or "_bootstrap" in root_names   # the threads' first calls
    work = [i for i, f in enumerate(tree["func"]) if tree["funcs"][f][2] == "work"]
    assert sum(tree["calls"][i] for i in work) == 4


def test_total_is_self_plus_children(profile_tree):
    stats, tree, _, _ = profile_tree(PROGRAMS / "objects.py")
    below = defaultdict(float)
    for i, p in enumerate(tree["parent"]):
        if p >= 0:
            below[p] += tree["total"][i]
    for i in range(len(tree["parent"])):
        expect = tree["self"][i] + below[i]
        # up to the compensation: a call's measured cost may exceed its
        # time by a few ticks, and a node's self time is never negative
        assert tree["total"][i] == pytest.approx(expect, rel=1e-3, abs=1e-5)


def test_own_frames_are_not_in_the_tree(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(FIB + "\nmain()\n")
    out = tmp_path / "s.prof"
    r = run_python(["-m", "pyrometer", "run", "-o", str(out), str(script)])
    assert r.returncode == 0, r.stderr
    stats, tree = _engine.load_profile(str(out))
    check_shape(tree)
    check_against_stats(stats, tree)
    import pyrometer
    own = os.path.dirname(os.path.abspath(pyrometer.__file__)) + os.sep
    assert not any(k[0].startswith(own) for k in tree["funcs"])
    assert not any("Profiler" in k[2] for k in tree["funcs"])


def test_get_tree_needs_a_disabled_profiler():
    import pyrometer
    prof = pyrometer.Profiler()
    prof.enable()
    try:
        with pytest.raises(ValueError):
            prof.get_tree()
    finally:
        prof.disable()
    tree = prof.get_tree()
    check_shape(tree)


# ---- the file --------------------------------------------------------------

def test_dump_round_trip(profile_tree):
    stats, tree, _, path = profile_tree(FIB)
    loaded_stats, loaded_tree = _engine.load_profile(str(path))
    assert loaded_stats == stats
    assert loaded_tree.pop("meta")["clock"]   # how it was measured, recorded by dump()
    assert loaded_tree == tree
    assert _engine.load_stats(str(path)) == stats
    # pstats and marshal read the first object only: the stats
    with open(path, "rb") as f:
        assert marshal.load(f) == stats
        second = marshal.load(f)
        second.pop("meta")
        assert second == tree
    st = pstats.Stats(str(path))
    assert st.total_calls == sum(v[1] for v in stats.values())


def test_dump_stats_with_and_without_tree(profile_tree, tmp_path):
    stats, tree, _, _ = profile_tree(FIB)
    with_tree, without = tmp_path / "with.prof", tmp_path / "without.prof"
    reordered = dict(reversed(list(tree.items())))   # written with the marker first anyway
    _engine.dump_stats(str(with_tree), stats, reordered)
    _engine.dump_stats(str(without), stats)
    assert _engine.load_profile(str(with_tree)) == (stats, tree)
    assert _engine.load_profile(str(without)) == (stats, None)
    _engine.dump_stats(str(without), stats, tree=None)
    assert _engine.load_profile(str(without)) == (stats, None)


def test_cprofile_and_foreign_second_objects_have_no_tree(tmp_path):
    import cProfile
    prof = cProfile.Profile()
    prof.enable()
    sorted(range(10))
    prof.disable()
    path = tmp_path / "c.prof"
    prof.dump_stats(str(path))
    stats, tree = _engine.load_profile(str(path))
    assert tree is None and stats == marshal.loads(path.read_bytes())
    for second in ({"other": "tool"}, [1, 2, 3], "text", {"pyrometer": "other"}):
        p = tmp_path / "second.prof"
        p.write_bytes(marshal.dumps(stats) + marshal.dumps(second))
        assert _engine.load_profile(str(p)) == (stats, None)
    p.write_bytes(marshal.dumps(stats) + b"\x00garbage")
    assert _engine.load_profile(str(p)) == (stats, None)


def test_profile_module_files_with_code_objects(tmp_path):
    # the pure-Python profile module names the profiled code with the code
    # object itself: the reader makes it a str naming the code (no code
    # object is ever built from a file), and a tree after the stats is
    # still found
    import profile
    prof = profile.Profile()
    prof.runctx(compile("sorted(range(10))", "<profiled>", "exec"), {}, {})
    path = tmp_path / "pm.prof"
    prof.dump_stats(str(path))
    stats, tree = _engine.load_profile(str(path))
    assert tree is None
    assert ("profile", 0, '<code object <module>, file "<profiled>", line 1>') in stats
    both = tmp_path / "both.prof"
    _engine.dump_stats(str(both), stats, small_tree())
    assert _engine.load_profile(str(both)) == (stats, small_tree())


def small_tree():
    return {"pyrometer": "calltree", "version": 1,
            "funcs": [("a.py", 1, "f"), ("a.py", 5, "g")],
            "parent": [-1, 0, 0], "func": [0, 1, 1], "calls": [1, 2, 3],
            "self": [0.5, 0.25, 0.25], "total": [1.0, 0.25, 0.25], "folded": False}


SMALL_STATS = {("a.py", 1, "f"): (1, 1, 0.5, 1.0, {}),
               ("a.py", 5, "g"): (5, 5, 0.5, 0.5, {("a.py", 1, "f"): (5, 5, 0.5, 0.5)})}


def broken(**change):
    t = small_tree()
    t.update(change)
    return t


BROKEN = [
    ("lengths differ", broken(calls=[1, 2]), "has 3 items but its 'calls' has 2"),
    ("parent after child", broken(parent=[-1, 2, 0]), "parent[1] is 2"),
    ("parent of itself", broken(parent=[0, 0, 0]), "parent[0] is 0"),
    ("parent out of range", broken(parent=[-1, 0, -5]), "parent[2] is -5"),
    ("func out of range", broken(func=[0, 1, 2]), "func[2] is 2"),
    ("negative calls", broken(calls=[1, -2, 3]), "calls[1]"),
    ("time not a number", broken(self=[0.5, "x", 0.25]), "self[1]"),
    ("negative time", broken(total=[1.0, -0.25, 0.25]), "total[1]"),
    ("bad label", broken(funcs=[("a.py", 1, "f"), ("a.py", "5", "g")]), "funcs[1]"),
    ("missing list", {k: v for k, v in small_tree().items() if k != "self"}, "no 'self'"),
    ("tuple not list", broken(parent=(-1, 0, 0)), "'parent' is a tuple"),
    ("newer version", broken(version=3), "version 3"),
    ("version 2 without metrics", broken(version=2), "no 'metrics'"),
    ("folded not bool", broken(folded=1), "'folded'"),
]


def write_raw(path, stats, tree):
    """Stats then a tree dict exactly as given (the marker first)."""
    path.write_bytes(marshal.dumps(stats) + marshal.dumps(tree))


@pytest.mark.parametrize("what,tree,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_malformed_tree_is_a_format_error(tmp_path, what, tree, message):
    path = tmp_path / "bad.prof"
    write_raw(path, SMALL_STATS, tree)
    with pytest.raises(_engine.FormatError) as exc:
        _engine.load_profile(str(path))
    text = str(exc.value)
    assert "\n" not in text and str(path) in text and "call tree" in text
    assert message in text, text
    # the stats alone still load, for pstats as for us
    assert _engine.load_stats(str(path)) == SMALL_STATS
    assert pstats.Stats(str(path)).total_calls == 6
    # and dump_stats refuses to write such a tree, leaving the file alone
    before = path.read_bytes()
    with pytest.raises((ValueError, TypeError)):
        _engine.dump_stats(str(path), SMALL_STATS, tree)
    assert path.read_bytes() == before


def test_small_tree_round_trip(tmp_path):
    path = tmp_path / "ok.prof"
    _engine.dump_stats(str(path), SMALL_STATS, small_tree())
    assert _engine.load_profile(str(path)) == (SMALL_STATS, small_tree())


@pytest.mark.parametrize("cut", [1, 7, 40, 90, -1])
def test_truncated_tree_is_a_format_error(tmp_path, cut):
    path = tmp_path / "cut.prof"
    _engine.dump_stats(str(path), SMALL_STATS, small_tree())
    data = path.read_bytes()
    first = len(marshal.dumps(SMALL_STATS))
    tail = data[first:]
    keep = cut if cut > 0 else len(tail) - 1
    path.write_bytes(data[:first] + tail[:keep])
    try:
        stats, tree = _engine.load_profile(str(path))
    except _engine.FormatError as exc:
        assert "call tree" in str(exc) and "\n" not in str(exc)
    else:
        # cut inside the marker itself: not recognisably ours
        assert keep < len(marshal.dumps("pyrometer")) + 2 and tree is None


def test_damaged_sizes_do_not_allocate(tmp_path):
    path = tmp_path / "huge.prof"
    _engine.dump_stats(str(path), SMALL_STATS, small_tree())
    data = bytearray(path.read_bytes())
    # the first list after the marker: its 4-byte size made enormous
    start = len(marshal.dumps(SMALL_STATS))
    at = min(i for i in range(start, len(data)) if data[i] & 0x7F == ord("["))
    data[at + 1:at + 5] = (0x7FFFFFF0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(_engine.FormatError, match="call tree"):
        _engine.load_profile(str(path))


def pyrometer_cli(*args):
    return run_python(["-m", "pyrometer", *args])


def test_convert_refuses_a_corrupt_tree(tmp_path):
    bad = tmp_path / "bad.prof"
    write_raw(bad, SMALL_STATS, broken(parent=[-1, 2, 0]))
    out = tmp_path / "out.prof"
    r = pyrometer_cli("convert", str(bad), "-f", "prof", "-o", str(out))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "call tree" in lines[0] and str(bad) in lines[0], r.stderr
    assert not out.exists()
    out.write_bytes(b"keep me")
    r = pyrometer_cli("convert", str(bad), "-f", "prof", "-o", str(out))
    assert r.returncode == 2 and out.read_bytes() == b"keep me"
    # report reads only the stats, which are fine
    r = pyrometer_cli("report", str(bad))
    assert r.returncode == 0, r.stderr


def test_convert_to_prof_keeps_the_tree(profile_tree, tmp_path):
    stats, tree, _, path = profile_tree(FIB)
    out = tmp_path / "copy.prof"
    r = pyrometer_cli("convert", str(path), "-f", "prof", "-o", str(out))
    assert r.returncode == 0, r.stderr
    copied = _engine.load_profile(str(out))
    assert copied == _engine.load_profile(str(path))   # the record of how it was measured too
    copied[1].pop("meta", None)
    assert copied == (stats, tree)
