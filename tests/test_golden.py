"""Exact outputs on the test clock: every clock read is one step (1 ms here)
later, so a program's events give the same times on every run, machine
and Python version, and trees, reports, callgrind files and line tables
are checked against exact values.  The call-tree table is also driven
directly, without hooks."""
import json
import os
import textwrap

import pytest

from conftest import run_python

PROGRAM = '''
def leaf(x):
    return x + 1


def mid(n):
    t = 0
    for i in range(n):
        t += leaf(i)
    return t


def top():
    return mid(3) + mid(2)
'''

DRIVER = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
import golden_prog, pyrometer
from pyrometer import _engine
out = {}
_engine._test_clock(1000000)
p = pyrometer.Profiler(clock="test", builtins=False, compensate=False)
p.enable(); golden_prog.top(); p.disable()
stats = p.get_stats()
out["stats"] = {k[2]: list(v[:4]) + [{c[2]: list(cv) for c, cv in v[4].items()}]
                for k, v in stats.items()}
out["report"] = p.report(sort="cumulative").replace(golden_prog.__file__, "golden_prog.py")
def short(k):
    return ("golden_prog.py",) + k[1:] if k[0] == golden_prog.__file__ else k
named = {short(k): v[:4] + ({short(c): cv for c, cv in v[4].items()},) for k, v in stats.items()}
out["calls"] = pyrometer._api.format_report(named, callers=True, callees=True)
tree = p.get_tree()
out["tree"] = {k: tree[k] for k in ("parent", "func", "calls", "self", "total", "folded")}
out["tree_funcs"] = [f[2] for f in tree["funcs"]]
_engine.write_callgrind(sys.argv[2] + ".cg", stats, "pyrometer test")
out["callgrind"] = open(sys.argv[2] + ".cg").read().replace(golden_prog.__file__, "golden_prog.py")
_engine.write_collapsed(sys.argv[2] + ".folded", tree)
out["collapsed"] = open(sys.argv[2] + ".folded").read().replace(golden_prog.__file__,
                                                                 "golden_prog.py")
_engine._test_clock(1000000)
lp = pyrometer.LineProfiler(golden_prog.mid, clock="test", compensate=False)
lp.enable(); golden_prog.top(); lp.disable()
f = lp.get_stats()["functions"][0]
out["lines"] = [list(t) for t in f["timings"]]
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    d = tmp_path_factory.mktemp("golden")
    (d / "golden_prog.py").write_text(textwrap.dedent(PROGRAM))
    r = run_python(["-c", DRIVER, str(d), str(d / "out")])
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# top: read 1, mid(3): 2..9 with leaf 3-4, 5-6, 7-8; mid(2): 10..15 with
# leaf 11-12, 13-14; top returns at 16.  A step is 1 ms.
def test_function_statistics_are_exact(golden):
    assert golden["stats"] == {
        "top": [1, 1, 0.003, 0.015000000000000001, {}],
        "mid": [2, 2, 0.007, 0.012, {"top": [2, 2, 0.007, 0.012]}],
        "leaf": [5, 5, 0.005, 0.005, {"mid": [5, 5, 0.005, 0.005]}],
    }


# Each column of times in one notation: 0.0035 needs 4 decimals, so all of
# tottime's percall has them; % is cumtime's share of the 0.015 s in all.
TABLE = (
    "         8 function calls in 0.015 seconds\n\n"
    "   Ordered by: cumulative time\n\n"
    "   ncalls  tottime  percall  cumtime  percall      % filename:lineno(function)\n"
    "        1    0.003   0.0030    0.015    0.015  100.0 golden_prog.py:13(top)\n"
    "        2    0.007   0.0035    0.012    0.006   80.0 golden_prog.py:6(mid)\n"
    "        5    0.005   0.0010    0.005    0.001   33.3 golden_prog.py:2(leaf)\n\n\n")


def test_report_is_exact(golden):
    assert golden["report"] == TABLE


def test_callers_and_callees_are_exact(golden):
    assert golden["calls"] == TABLE + (
        "   Ordered by: cumulative time\n\n"
        "Function                was called by...\n"
        "                            ncalls  tottime  cumtime\n"
        "golden_prog.py:13(top)  <- \n"
        "golden_prog.py:6(mid)   <-       2    0.007    0.012  golden_prog.py:13(top)\n"
        "golden_prog.py:2(leaf)  <-       5    0.005    0.005  golden_prog.py:6(mid)\n\n\n"
        "   Ordered by: cumulative time\n\n"
        "Function                called...\n"
        "                            ncalls  tottime  cumtime\n"
        "golden_prog.py:13(top)  ->       2    0.007    0.012  golden_prog.py:6(mid)\n"
        "golden_prog.py:6(mid)   ->       5    0.005    0.005  golden_prog.py:2(leaf)\n"
        "golden_prog.py:2(leaf)  -> \n\n\n")


def test_call_tree_is_exact(golden):
    names = golden["tree_funcs"]
    tree = golden["tree"]
    assert [names[f] for f in tree["func"]] == ["top", "mid", "leaf"]
    assert tree["parent"] == [-1, 0, 1]
    assert tree["calls"] == [1, 2, 5]
    assert tree["self"] == pytest.approx([0.003, 0.007, 0.005], abs=1e-12)
    assert tree["total"] == pytest.approx([0.015, 0.012, 0.005], abs=1e-12)
    assert tree["folded"] is False


def test_callgrind_is_exact(golden):
    assert golden["callgrind"] == (
        "# callgrind format\nversion: 1\ncreator: pyrometer test\npositions: line\n"
        "event: ns : Time (nanoseconds)\nevents: ns\nsummary: 15000000\n\n"
        "fl=(1) golden_prog.py\nfn=(1) top\n13 3000000\n"
        "cfn=(2) mid\ncalls=2 6\n13 12000000\n\n"
        "fn=(2)\n6 7000000\ncfn=(3) leaf\ncalls=5 2\n6 5000000\n\n"
        "fn=(3)\n2 5000000\n\n"
        "totals: 15000000\n")


def test_collapsed_is_exact(golden):
    assert golden["collapsed"] == (
        "top (golden_prog.py:13) 3000\n"
        "top (golden_prog.py:13);mid (golden_prog.py:6) 7000\n"
        "top (golden_prog.py:13);mid (golden_prog.py:6);leaf (golden_prog.py:2) 5000\n")


def test_line_table_is_exact(golden):
    # (line, hits, ns): every line event and every start and return of
    # mid() reads the clock once, and a line runs to its frame's next event
    assert golden["lines"] == [[7, 2, 2000000], [8, 7, 7000000], [9, 5, 5000000],
                               [10, 2, 2000000]]


# ---- the call-tree table, driven directly ----------------------------------

def codes(*names):
    ns = {}
    exec("\n".join(f"def {n}(): pass" for n in names), ns)
    return [ns[n].__code__ for n in names]


def run_tree(script, **kw):
    from pyrometer import _engine
    _engine._test_clock(1000)
    return _engine._calltree_run(script, **kw)


def by_name(stats):
    return {k[2]: v[:4] for k, v in stats.items()}


def test_table_counts_recursion_as_cprofile():
    f, g = codes("f", "g")
    # f -> f -> f -> g, each a clock read: times in microseconds
    script = [("call", f), ("call", f), ("call", f), ("call", g), ("return", g),
              ("return", f), ("return", f), ("return", f)]
    stats, tree, info = run_tree(script)
    assert by_name(stats) == {"f": (1, 3, pytest.approx(6e-6), pytest.approx(7e-6)),
                              "g": (1, 1, pytest.approx(1e-6), pytest.approx(1e-6))}
    assert info == {"nodes": 4, "folded_calls": 0, "out_of_memory": False, "floored": 0}


def test_overcompensation_never_gives_zero_or_a_callee_longer_than_its_caller():
    a, b = codes("a", "b")
    # Every read is 1 us later and every call is charged 3 us: more than the
    # calls took, so the compensated clock runs backwards (b: -2 us own,
    # a: -3 us in all).  With a floor of 0.5 us per call each keeps its
    # floor, and what b gained is in a's total too.
    script = [("call", a), ("call", b), ("return", b), ("return", a)]
    stats, tree, info = run_tree(script, cost=3000, floor=500)
    assert by_name(stats) == {"a": (1, 1, pytest.approx(0.5e-6), pytest.approx(1e-6)),
                              "b": (1, 1, pytest.approx(0.5e-6), pytest.approx(0.5e-6))}
    assert info["floored"] == 2
    totals = {tree["funcs"][f][2]: t for f, t in zip(tree["func"], tree["total"])}
    assert totals["b"] <= totals["a"]
    # Idempotent, and nothing changes where the compensation did not overshoot.
    stats, _, info = run_tree(script, cost=100, floor=500)
    assert info["floored"] == 0 and by_name(stats)["b"][2] == pytest.approx(0.9e-6)


def test_table_folds_deep_recursion_and_keeps_the_statistics():
    f, = codes("f")
    depth = 50
    script = [("call", f)] * depth + [("return", f)] * depth
    unfolded = run_tree(script)
    folded = run_tree(script, fold_depth=4)
    assert by_name(folded[0]) == by_name(unfolded[0])
    assert folded[2]["nodes"] < unfolded[2]["nodes"]
    assert folded[2]["folded_calls"] > 0 and folded[1]["folded"] is True


def test_table_finds_many_children_through_its_index():
    names = [f"c{i}" for i in range(40)]
    parent, *kids = codes("parent", *names)
    script = [("call", parent)]
    for _ in range(3):
        for k in kids:
            script += [("call", k), ("return", k)]
    script.append(("return", parent))
    stats, tree, info = run_tree(script)
    assert info["nodes"] == 41
    assert all(by_name(stats)[n][1] == 3 for n in names)


def test_table_stops_cleanly_when_memory_runs_out():
    codes_ = codes(*[f"f{i}" for i in range(20)])
    script = []
    for c in codes_:
        script += [("call", c), ("return", c)]
    stats, tree, info = run_tree(script, node_limit=5)
    assert info["out_of_memory"] is True
    assert 1 <= len(stats) <= 5


def test_table_ignores_returns_it_never_saw_and_resyncs():
    f, g, h = codes("f", "g", "h")
    # a return from before profiling began is ignored; g's and h's returns
    # were missed (a hook was away): resync on f closes them
    script = [("return", h), ("call", f), ("call", g), ("call", h), ("resync", f),
              ("return", f)]
    stats, tree, info = run_tree(script)
    s = by_name(stats)
    assert s["f"][:2] == (1, 1) and s["g"][:2] == (1, 1) and s["h"][:2] == (1, 1)
