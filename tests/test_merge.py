"""`pyrometer merge` and `pyrometer diff`: the C merge and diff, and the CLI."""
import marshal
import os
import pstats
import textwrap

import pytest

from conftest import run_python
from pyrometer import _convert, _engine

FormatError = _engine.FormatError

WORKLOAD = '''
import sys

def work(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def steady(n):
    s = 0
    for i in range(n):
        s += i
    return s

def helper(x):
    return x + 1

def main():
    for _ in range(10):
        work(WORK)
        steady(30000)
        for j in range(50):
            helper(j)

if __name__ == "__main__":
    main()
'''

# Two profiles of the same workload in one process, their runs taking
# turns: a busy machine slows both alike.
TWIN_RUNS = '''
import runpy, sys
import pyrometer
ns = runpy.run_path(sys.argv[1], run_name="workload")
profs = [pyrometer.Profiler(clock="cpu"), pyrometer.Profiler(clock="cpu")]
for _ in range(6):
    for p in profs:
        p.enable()
        ns["main"]()
        p.disable()
profs[0].dump(sys.argv[2])
profs[1].dump(sys.argv[3])
'''


def pyrometer(*args, **kw):
    return run_python(["-m", "pyrometer", *args], **kw)


def write_workload(path, work=30000, extra_loop=False):
    src = WORKLOAD.replace("WORK", str(work))
    if extra_loop:
        # the new version: an extra loop in work(), which also moves the
        # functions below it down by three lines
        src = src.replace("    return s\n", "    for i in range(6 * n):\n        s -= 1\n"
                          "    s += 6 * n\n    return s\n", 1)
    path.write_text(src)
    return path


def profile(tmp_path, out, *run_args, script=None):
    script = script or write_workload(tmp_path / "work.py")
    r = pyrometer("run", *run_args, "-o", str(out), str(script), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return out


def cprofile(tmp_path, out, script=None):
    script = script or write_workload(tmp_path / "work.py")
    r = run_python(["-m", "cProfile", "-o", str(out), str(script)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return out


def pstats_sum(*paths):
    s = pstats.Stats(str(paths[0]))
    for p in paths[1:]:
        s.add(str(p))
    return s.stats


def has_tree_support():
    return hasattr(_engine, "load_profile")


# ---- the C merge on dicts built by hand ------------------------------------

F = ("a.py", 1, "f")
G = ("a.py", 5, "g")
H = ("b.py", 2, "h")
B = ("~", 0, "<built-in method builtins.len>")


def stats_1():
    return {
        F: (1, 1, 0.5, 2.0, {}),
        G: (3, 4, 1.25, 1.5, {F: (4, 3, 1.25, 1.5)}),
        B: (2, 2, 0.25, 0.25, {G: (2, 2, 0.25, 0.25)}),
    }


def stats_2():
    return {
        F: (1, 1, 0.75, 3.0, {}),
        H: (5, 5, 2.0, 2.0, {F: (5, 5, 2.0, 2.0)}),
        B: (1, 1, 0.125, 0.125, {H: (1, 1, 0.125, 0.125)}),
    }


def tree(funcs, nodes, folded=False):
    """nodes: (parent, func index, calls, self, total)."""
    return {"pyrometer": "calltree", "version": 1, "funcs": list(funcs),
            "parent": [n[0] for n in nodes], "func": [n[1] for n in nodes],
            "calls": [n[2] for n in nodes], "self": [float(n[3]) for n in nodes],
            "total": [float(n[4]) for n in nodes], "folded": folded}


def paths_of(t):
    """{(key path from the root): (calls, self, total)} of a tree dict."""
    out, path = {}, []
    for i, (p, f) in enumerate(zip(t["parent"], t["func"])):
        path.append((path[p] if p >= 0 else ()) + (t["funcs"][f],))
        out[path[i]] = (t["calls"][i], t["self"][i], t["total"][i])
        assert p < i
    return out


def test_stats_add_as_pstats(tmp_path):
    a, b = tmp_path / "a.prof", tmp_path / "b.prof"
    a.write_bytes(marshal.dumps(stats_1()))
    b.write_bytes(marshal.dumps(stats_2()))
    merged, t = _engine.merge_profiles([(stats_1(), None), (stats_2(), None)])
    assert t is None
    assert merged == pstats_sum(a, b)
    assert merged[F] == (2, 2, 1.25, 5.0, {})
    assert merged[B] == (3, 3, 0.375, 0.375, {G: (2, 2, 0.25, 0.25), H: (1, 1, 0.125, 0.125)})
    # the inputs are left alone
    assert stats_1() == _engine.merge_profiles([(stats_1(), None)])[0]


def test_stats_add_profile_module_counts():
    old_style = {F: (1, 1, 0.5, 1.0, {}), G: (2, 2, 0.5, 0.5, {F: 2})}
    merged, _ = _engine.merge_profiles([(old_style, None), (old_style, None)])
    assert merged[G] == (4, 4, 1.0, 1.0, {F: 4})
    cprof = {F: (1, 1, 0.5, 1.0, {}), G: (2, 2, 0.5, 0.5, {F: (2, 2, 0.5, 0.5)})}
    with pytest.raises(FormatError, match="plain call count"):
        _engine.merge_profiles([(old_style, None), (cprof, None)], ["old.prof", "new.prof"])


def test_stats_add_rejects_damaged_input():
    with pytest.raises(FormatError, match="x.prof is not a profile"):
        _engine.merge_profiles([(stats_1(), None), ({F: (1, 2)}, None)], ["ok.prof", "x.prof"])


def test_trees_merge_path_by_path():
    # f -> g -> len and f -> len in one run; f -> h -> len and f -> g in the other
    t1 = tree([F, G, B], [(-1, 0, 1, 0.5, 2.0), (0, 1, 4, 1.25, 1.5), (1, 2, 2, 0.25, 0.25),
                          (0, 2, 1, 0.125, 0.125)])
    t2 = tree([H, F, B, G], [(-1, 1, 1, 0.75, 3.0), (0, 0, 5, 2.0, 2.125), (1, 2, 1, 0.125, 0.125),
                             (0, 3, 2, 0.5, 0.5)], folded=True)
    _, merged = _engine.merge_profiles([(stats_1(), t1), (stats_2(), t2)])
    assert merged["pyrometer"] == "calltree" and merged["version"] == 1
    assert merged["folded"] is True
    assert sorted(merged["funcs"]) == sorted([F, G, B, H])
    assert paths_of(merged) == {
        (F,): (2, 1.25, 5.0),
        (F, G): (6, 1.75, 2.0),
        (F, G, B): (2, 0.25, 0.25),
        (F, B): (1, 0.125, 0.125),
        (F, H): (5, 2.0, 2.125),
        (F, H, B): (1, 0.125, 0.125),
    }
    n = len(merged["parent"])
    assert all(len(merged[k]) == n for k in ("func", "calls", "self", "total"))


def test_identical_trees_double():
    t1 = tree([F, G, B], [(-1, 0, 1, 0.5, 2.0), (0, 1, 4, 1.25, 1.5), (1, 2, 2, 0.25, 0.25),
                          (-1, 2, 3, 0.5, 0.5)])
    _, merged = _engine.merge_profiles([(stats_1(), t1), (stats_1(), t1)])
    assert merged["parent"] == t1["parent"] and merged["func"] == t1["func"]
    assert merged["calls"] == [2 * c for c in t1["calls"]]
    assert merged["self"] == [2 * c for c in t1["self"]]
    assert merged["folded"] is False


def test_tree_dropped_when_one_input_has_none():
    t1 = tree([F], [(-1, 0, 1, 0.5, 2.0)])
    stats, t = _engine.merge_profiles([(stats_1(), t1), (stats_2(), None)])
    assert t is None and stats[F][1] == 2


@pytest.mark.parametrize("damage, message", [
    (lambda t: t.update(parent=[0]), "a parent is -1 or a node before its child"),
    (lambda t: t.update(func=[7]), "not an index of its 1 funcs"),
    (lambda t: t.update(calls=[-1]), "not a count"),
    (lambda t: t.update(total=["x"]), "not a time in seconds"),
    (lambda t: t.update(self=[]), "'self' has 0"),
    (lambda t: t.update(version=9), "version 9"),
    (lambda t: t.pop("funcs"), "no 'funcs'"),
    (lambda t: t.update(folded=None), "'folded'"),
])
def test_damaged_tree_is_refused(damage, message):
    t = tree([F], [(-1, 0, 1, 0.5, 2.0)])
    damage(t)
    with pytest.raises(FormatError, match="the call tree of x.prof is damaged") as err:
        _engine.merge_profiles([(stats_1(), t), (stats_1(), t)], ["x.prof", "y.prof"])
    assert message in str(err.value)


# ---- pyrometer merge ------------------------------------------------------------

def test_merge_two_runs_doubles_counts_as_pstats_add(tmp_path):
    a = profile(tmp_path, tmp_path / "a.prof")
    b = profile(tmp_path, tmp_path / "b.prof")
    out = tmp_path / "sum.prof"
    r = pyrometer("merge", str(a), str(b), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == [f"pyrometer: 2 profiles merged into {out}"]
    merged = pstats.Stats(str(out)).stats
    assert merged == pstats_sum(a, b)
    one = pstats.Stats(str(a)).stats
    work = next(k for k in one if k[2] == "work")
    assert merged[work][:2] == (20, 20)
    for key, (cc, nc, _tt, _ct, callers) in one.items():
        if "pyrometer" in key[0] or "disable" in key[2]:
            continue
        assert merged[key][:2] == (2 * cc, 2 * nc), key
        for caller, cv in callers.items():
            assert merged[key][4][caller][:2] == (2 * cv[0], 2 * cv[1])
    tree_a, tree_b, tree_m = (_convert.load(p).tree for p in (a, b, out))
    if tree_a is None:
        return
    # the same paths in both runs: each node's calls doubled
    paths_a, paths_b, paths_m = paths_of(tree_a), paths_of(tree_b), paths_of(tree_m)
    assert set(paths_m) == set(paths_a) | set(paths_b)
    for path, (calls, _self, _total) in paths_m.items():
        assert calls == paths_a.get(path, (0,))[0] + paths_b.get(path, (0,))[0]
        if path in paths_a and path in paths_b and paths_a[path][0] == paths_b[path][0]:
            assert calls == 2 * paths_a[path][0]
    assert paths_m[next(p for p in paths_m if p[-1] == work)][0] == 20
    # per function the nodes still add up to the merged stats' nc
    per_func = {}
    for f, c in zip(tree_m["func"], tree_m["calls"]):
        per_func[tree_m["funcs"][f]] = per_func.get(tree_m["funcs"][f], 0) + c
    for key, calls in per_func.items():
        assert calls == merged[key][1], key


def test_merge_file_with_itself_doubles_everything(tmp_path):
    a = profile(tmp_path, tmp_path / "a.prof")
    out = tmp_path / "twice.prof"
    r = pyrometer("merge", str(a), str(a), "-o", str(out))
    assert r.returncode == 0, r.stderr
    one, two = _convert.load(a), _convert.load(out)
    assert two.stats == pstats_sum(a, a)
    for key, (cc, nc, tt, ct, callers) in one.stats.items():
        assert two.stats[key][:4] == (2 * cc, 2 * nc, 2 * tt, 2 * ct)
        assert two.stats[key][4] == {k: tuple(2 * x for x in v) for k, v in callers.items()}
    if one.tree is not None:
        assert two.tree["calls"] == [2 * c for c in one.tree["calls"]]
        assert two.tree["parent"] == one.tree["parent"]
        assert [two.tree["funcs"][f] for f in two.tree["func"]] == \
            [one.tree["funcs"][f] for f in one.tree["func"]]


def test_merge_with_cprofile_file(tmp_path):
    ours = profile(tmp_path, tmp_path / "ours.prof")
    theirs = cprofile(tmp_path, tmp_path / "theirs.prof")
    out = tmp_path / "both.prof"
    r = pyrometer("merge", str(ours), str(theirs), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert pstats.Stats(str(out)).stats == pstats_sum(ours, theirs)
    work = next(k for k in pstats.Stats(str(out)).stats if k[2] == "work")
    assert pstats.Stats(str(out)).stats[work][1] == 20
    assert _convert.load(out).tree is None
    lines = r.stderr.strip().splitlines()
    if has_tree_support():
        assert len(lines) == 2 and "call tree dropped" in lines[0] and str(theirs) in lines[0]
    assert lines[-1] == f"pyrometer: 2 profiles merged into {out}"


def test_merge_three_as_chained_add(tmp_path):
    files = [profile(tmp_path, tmp_path / f"run{i}.prof") for i in range(2)]
    files.append(cprofile(tmp_path, tmp_path / "run2.prof"))
    out = tmp_path / "all.prof"
    r = pyrometer("merge", *map(str, files), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert pstats.Stats(str(out)).stats == pstats_sum(*files)


def test_merge_expands_quoted_globs_sorted(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in ("r2.prof", "r1.prof", "r3.prof"):
        profile(tmp_path, runs / name)
    out = runs / "all.prof"
    r = pyrometer("merge", "runs/*.prof", "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().endswith("3 profiles merged into " + str(out))
    expected = pstats_sum(*(runs / n for n in ("r1.prof", "r2.prof", "r3.prof")))
    assert pstats.Stats(str(out)).stats == expected
    # a second time the pattern also matches the output: left out, with a note
    r = pyrometer("merge", "runs/r*.prof", "runs/*.prof", "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "left out" in r.stderr and "6 profiles merged" in r.stderr


def test_merge_bad_input_leaves_output_alone(tmp_path):
    a = profile(tmp_path, tmp_path / "a.prof")
    out = tmp_path / "out.prof"
    out.write_bytes(b"precious")
    junk = tmp_path / "junk.prof"
    junk.write_text("not a profile\n")
    cases = [
        ([str(a), str(tmp_path / "missing.prof")], "cannot read"),
        ([str(a), str(junk)], "is not a profile file"),
        ([str(a), str(tmp_path / "nothing*.prof")], "no file matches"),
        ([str(a), "--frobnicate"], "unknown option"),
        # a folder stands for the files in it, and this one holds junk.prof
        ([str(a), str(tmp_path)], "is not a profile file"),
    ]
    for args, message in cases:
        r = pyrometer("merge", *args, "-o", str(out))
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr, r.stderr
        assert out.read_bytes() == b"precious"
    assert pyrometer("merge", str(a)).returncode == 2          # no -o
    assert pyrometer("merge", "-o", str(out)).returncode == 2  # no input
    r = pyrometer("merge", str(a), "-o", str(tmp_path / "no" / "dir.prof"))
    assert r.returncode == 2 and "no such directory" in r.stderr
    # a successful merge replaces it
    r = pyrometer("merge", str(a), str(a), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert pstats.Stats(str(out)).stats == pstats_sum(a, a)


def test_merge_mixed_call_formats_is_an_error(tmp_path):
    old_style = tmp_path / "profile.prof"
    old_style.write_bytes(marshal.dumps({F: (1, 1, 0.5, 1.0, {}), G: (2, 2, 0.5, 0.5, {F: 2})}))
    cprof = tmp_path / "cprofile.prof"
    cprof.write_bytes(marshal.dumps({F: (1, 1, 0.5, 1.0, {}),
                                     G: (2, 2, 0.5, 0.5, {F: (2, 2, 0.5, 0.5)})}))
    out = tmp_path / "out.prof"
    r = pyrometer("merge", str(old_style), str(cprof), "-o", str(out))
    assert r.returncode == 2 and "plain call count" in r.stderr, r.stderr
    assert not out.exists()
    r = pyrometer("merge", str(old_style), str(old_style), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert pstats.Stats(str(out)).stats[G] == (4, 4, 1.0, 1.0, {F: 4})


# ---- the C diff on dicts built by hand --------------------------------------------

def rows(text):
    """{function name: (status, the row's other columns)} of a diff table."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if "filename:lineno(function)" in l) + 1
    out = {}
    for line in lines[start:]:
        if not line.strip():
            break
        cols = line.split()
        status_at = next(i for i, c in enumerate(cols) if c in
                         ("slower", "faster", "same", "new", "gone"))
        out[" ".join(cols[status_at + 1:])] = (cols[status_at], cols[:status_at])
    return out


def test_diff_rows_and_statuses():
    old = {F: (1, 1, 1.0, 4.0, {}), G: (10, 10, 2.0, 2.0, {}), H: (3, 3, 0.5, 0.5, {}),
           B: (5, 5, 0.5, 0.5, {})}
    new = {F: (1, 1, 1.0, 5.5, {}), G: (12, 12, 3.0, 3.0, {}), B: (5, 5, 0.25, 0.25, {}),
           ("c.py", 9, "k"): (2, 2, 0.75, 0.75, {})}
    text, failed = _engine.format_diff(old, new, old_name="v1.prof", new_name="v2.prof")
    assert failed is False
    assert text.startswith("Old: v1.prof\nNew: v2.prof\n")
    assert "Total time: 4.000 s -> 5.000 s, +1.000 s (+25.0%), slower" in text
    assert "Function calls: 19 -> 20 (+1)" in text
    assert "3 in both, 1 new, 1 gone; 1 slower, 1 faster, 1 the same (tottime)" in text
    r = rows(text)
    assert r["a.py:5(g)"] == ("slower", ["10", "12", "2.000", "3.000", "+1.000", "+50.0%",
                                         "2.000", "3.000", "+1.000", "+50.0%"])
    assert r["b.py:2(h)"] == ("gone", ["3", "-", "0.500", "-", "-0.500", "-100.0%",
                                       "0.500", "-", "-0.500", "-100.0%"])
    assert r["c.py:9(k)"][0] == "new" and r["c.py:9(k)"][1][:2] == ["-", "2"]
    assert r["{built-in method builtins.len}"][0] == "faster"
    assert r["a.py:1(f)"][0] == "same"
    # sorted by the absolute change of tottime: g (+1), k (+0.75), h (-0.5), len (-0.25), f
    assert list(r) == ["a.py:5(g)", "c.py:9(k)", "b.py:2(h)", "{built-in method builtins.len}",
                       "a.py:1(f)"]
    by_cum = rows(_engine.format_diff(old, new, sort="cumtime")[0])
    assert list(by_cum)[0] == "a.py:1(f)" and by_cum["a.py:1(f)"][0] == "slower"
    by_calls = rows(_engine.format_diff(old, new, sort="calls")[0])
    assert list(by_calls)[:2] == ["b.py:2(h)", "a.py:5(g)"]
    limited = _engine.format_diff(old, new, limit=2)[0]
    assert list(rows(limited)) == ["a.py:5(g)", "c.py:9(k)"]
    assert "List reduced from 5 to 2 due to restriction <2>" in limited


def test_diff_matches_a_function_that_moved():
    old = {("m.py", 10, "f"): (1, 1, 1.0, 1.0, {}), ("m.py", 20, "g"): (1, 1, 1.0, 1.0, {})}
    new = {("m.py", 13, "f"): (1, 1, 2.0, 2.0, {}), ("m.py", 23, "g"): (1, 1, 1.0, 1.0, {})}
    text, _ = _engine.format_diff(old, new)
    assert "2 in both (2 moved), 0 new, 0 gone" in text
    r = rows(text)
    assert r["m.py:10->13(f)"][0] == "slower" and r["m.py:20->23(g)"][0] == "same"


def test_diff_fail_above():
    old = {F: (1, 1, 10.0, 10.0, {}), G: (1, 1, 0.05, 0.05, {}), H: (1, 1, 1.0, 1.0, {})}
    # g doubled but holds less than 1% of the time; h got 30% slower
    new = {F: (1, 1, 10.0, 10.0, {}), G: (1, 1, 0.1, 0.1, {}), H: (1, 1, 1.3, 1.3, {})}
    text, failed = _engine.format_diff(old, new, fail_above=20.0)
    assert failed is True
    check = text[text.index("Regression check"):].splitlines()
    assert "FAILED" in check[0]
    assert check[1].strip().startswith("total time +3.2%")
    assert [l.split(":")[0].strip() for l in check[2:]] == ["b.py"]
    assert _engine.format_diff(old, new, fail_above=50.0)[1] is False
    assert _engine.format_diff(old, new, fail_above=3.0)[1] is True      # the total
    assert _engine.format_diff(old, new, fail_above=50.0, min_share=0.1)[1] is True   # g
    assert _engine.format_diff(old, old, fail_above=0.0)[1] is False
    assert _engine.format_diff(old, new)[1] is False                    # no check asked


def test_diff_rejects_bad_arguments():
    with pytest.raises(FormatError, match="new.prof is not a profile"):
        _engine.format_diff(stats_1(), {F: "x"}, new_name="new.prof")
    with pytest.raises(ValueError, match="sort key"):
        _engine.format_diff(stats_1(), stats_1(), sort="name")
    with pytest.raises(ValueError):
        _engine.format_diff(stats_1(), stats_1(), min_share=200.0)


# ---- pyrometer diff -----------------------------------------------------------------

def test_diff_flags_an_injected_regression(tmp_path):
    script = tmp_path / "work.py"
    # CPU time: the other processes of a busy machine add little noise
    old = profile(tmp_path, tmp_path / "old.prof", "--clock", "cpu",
                  script=write_workload(script))
    new = profile(tmp_path, tmp_path / "new.prof", "--clock", "cpu",
                  script=write_workload(script, extra_loop=True))
    r = pyrometer("diff", str(old), str(new), "--fail-above", "50")
    assert r.returncode == 1, r.stdout + r.stderr
    r_rows = rows(r.stdout)
    work = next(name for name in r_rows if name.endswith("(work)"))
    assert r_rows[work][0] == "slower"
    assert list(r_rows)[0] == work            # the biggest change comes first
    steady = next(name for name in r_rows if name.endswith("(steady)"))
    assert "->" in steady                     # it moved down, and was matched
    assert "0 new, 0 gone" in r.stdout
    check = r.stdout[r.stdout.index("Regression check"):]
    assert "FAILED" in check and f"{work}: tottime +" in check
    # without --fail-above the diff only reports
    assert pyrometer("diff", str(old), str(new)).returncode == 0
    # and the other way round it is an improvement
    back = pyrometer("diff", str(new), str(old))
    assert back.returncode == 0, back.stderr
    assert rows(back.stdout)[work][0] == "faster"


def test_diff_of_identical_runs_passes(tmp_path):
    script = write_workload(tmp_path / "work.py")
    driver = tmp_path / "twins.py"
    driver.write_text(TWIN_RUNS)
    a, b = tmp_path / "a.prof", tmp_path / "b.prof"
    r = run_python([str(driver), str(script), str(a), str(b)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = pyrometer("diff", str(a), str(b), "--fail-above", "50")
    assert r.returncode == 0, r.stdout
    assert "passed" in r.stdout
    r = pyrometer("diff", str(a), str(a), "--fail-above", "0", "--limit", "3")
    assert r.returncode == 0, r.stdout
    assert set(s for s, _ in rows(r.stdout).values()) == {"same"}


def test_diff_with_a_cprofile_file(tmp_path):
    ours = profile(tmp_path, tmp_path / "ours.prof")
    theirs = cprofile(tmp_path, tmp_path / "theirs.prof")
    r = pyrometer("diff", str(theirs), str(ours), "--sort", "calls", "-l", "50")
    assert r.returncode == 0, r.stderr
    assert any(name.endswith("(work)") for name in rows(r.stdout))


def test_diff_bad_input_exits_2(tmp_path):
    a = profile(tmp_path, tmp_path / "a.prof")
    junk = tmp_path / "junk.prof"
    junk.write_bytes(marshal.dumps([1, 2, 3]))
    lines = tmp_path / "x.lines"
    lines.write_bytes(getattr(_engine, "LINES_MAGIC", b"") + b"\0" * 16)
    cases = [
        [str(a)],
        [str(a), str(a), str(a)],
        [str(a), str(tmp_path / "missing.prof")],
        [str(a), str(junk)],
        [str(a), str(a), "--sort", "name"],
        [str(a), str(a), "--fail-above", "lots"],
        [str(a), str(a), "--fail-above", "-5"],
        [str(a), str(a), "--min-share", "101"],
        [str(a), str(a), "--limit", "x"],
        [str(a), str(a), "--fail-above"],
        [str(a), str(a), "--colour"],
    ]
    if getattr(_engine, "LINES_MAGIC", b""):
        cases.append([str(a), str(lines)])
    for args in cases:
        r = pyrometer("diff", *args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    assert pyrometer("diff", str(a), str(a), "--fail-above", "10%",
                     "--min-share=5").returncode == 0


def test_usage_names_merge_and_diff():
    r = pyrometer("--help")
    assert "merge" in r.stdout and "diff" in r.stdout
    assert "pyrometer merge FILE... -o OUT" in pyrometer("merge", "--help").stdout
    r = pyrometer("diff", "--help")
    assert "pyrometer diff OLD NEW" in r.stdout and "--fail-above PCT" in r.stdout


def test_merge_takes_a_folder_of_profiles(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in ("a.prof", "b.prof", "c.prof"):
        profile(tmp_path, runs / name)
    out = runs / "all.prof"
    r = pyrometer("merge", str(runs), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "3 profiles merged" in r.stderr
    # a second merge leaves its own output out of the folder, and says so
    r = pyrometer("merge", str(runs), "-o", str(out))
    assert r.returncode == 0 and "left out" in r.stderr and "3 profiles merged" in r.stderr
    single = pstats.Stats(str(runs / "a.prof")).total_calls
    assert pstats.Stats(str(out)).total_calls == 3 * single


def two_checkouts(tmp_path):
    """The same program (a script and a package) in two folders, profiled
    from each."""
    outs = []
    for where in ("alice/proj", "bob/work/checkout"):
        root = tmp_path / where
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "__init__.py").write_text("")
        (root / "pkg" / "util.py").write_text("def helper(x):\n    return x * 2\n")
        script = root / "app.py"
        script.write_text("import json\nfrom pkg.util import helper\n\ndef main():\n"
                          "    return sum(helper(i) for i in range(2000)) + "
                          "len(json.dumps(list(range(50))))\n\nmain()\n")
        out = root / "out.prof"
        r = pyrometer("run", "-o", str(out), str(script), cwd=root)
        assert r.returncode == 0, r.stderr
        outs.append(out)
    return outs


def test_diff_matches_functions_across_checkouts(tmp_path):
    a, b = two_checkouts(tmp_path)
    r = pyrometer("diff", str(a), str(b), "--limit", "0")
    assert r.returncode == 0, r.stderr
    assert ", 0 new, 0 gone;" in r.stdout, r.stdout[:600]
    rows = [line for line in r.stdout.splitlines() if line.rstrip().endswith(("(main)", "(helper)"))]
    assert len(rows) == 2 and all(" new " not in x and " gone " not in x for x in rows), rows


def test_merge_adds_up_functions_across_checkouts(tmp_path):
    a, b = two_checkouts(tmp_path)
    out = tmp_path / "both.prof"
    r = pyrometer("merge", str(a), str(b), "-o", str(out))
    assert r.returncode == 0, r.stderr
    one, both = pstats.Stats(str(a)), pstats.Stats(str(out))
    assert len(both.stats) == len(one.stats)
    helper = [k for k in both.stats if k[2] == "helper"]
    assert helper == [k for k in one.stats if k[2] == "helper"]   # the first's paths kept
    assert both.stats[helper[0]][1] == 2 * one.stats[helper[0]][1]
    stats, tree = _engine.load_profile(str(out))
    assert len(tree["funcs"]) == len(set(tree["funcs"]))
    assert set(tree["funcs"]) <= set(stats)


def test_diff_of_several_runs_tells_noise_from_change(tmp_path):
    # f moves by less than its runs spread; g doubles
    def run(folder, i, f, g):
        folder.mkdir(exist_ok=True)
        stats = {("m.py", 1, "f"): (1, 1, f, f, {}), ("m.py", 5, "g"): (1, 1, g, g, {}),
                 ("m.py", 9, "h"): (1, 1, 5.0, 5.0, {})}
        with open(folder / f"r{i}.prof", "wb") as fh:
            marshal.dump(stats, fh)
    for i, (f, g) in enumerate([(1.0, 1.0), (1.2, 1.0), (0.8, 1.0)]):
        run(tmp_path / "old", i, f, g)
    for i, (f, g) in enumerate([(1.1, 2.0), (1.3, 2.0), (0.9, 2.0)]):
        run(tmp_path / "new", i, f, g)
    r = pyrometer("diff", str(tmp_path / "old"), str(tmp_path / "new" / "*.prof"),
                  "--fail-above", "5")
    assert r.returncode == 1, r.stderr
    rows = {line.split()[-1]: line.split()[-2] for line in r.stdout.splitlines()
            if line.rstrip().endswith(("(f)", "(g)", "(h)"))}
    assert rows == {"m.py:1(f)": "same", "m.py:5(g)": "slower", "m.py:9(h)": "same"}, r.stdout
    assert "Runs: 3 old, 3 new" in r.stdout
    failed = r.stdout.split("Regression check")[1]
    assert "(g)" in failed and "(f)" not in failed
    # without g's change, f's move is noise: the check passes
    for i in range(3):
        run(tmp_path / "new", i, [1.1, 1.3, 0.9][i], 1.0)
    r = pyrometer("diff", str(tmp_path / "old"), str(tmp_path / "new"), "--fail-above", "5")
    assert r.returncode == 0, r.stdout
    # one run a side: every change counts, as before
    r = pyrometer("diff", str(tmp_path / "old" / "r0.prof"), str(tmp_path / "new" / "r0.prof"))
    assert r.returncode == 0 and "Runs:" not in r.stdout


def test_diff_columns_stay_aligned_for_any_change(tmp_path):
    a, b = tmp_path / "a.prof", tmp_path / "b.prof"
    with open(a, "wb") as fh:
        marshal.dump({("m.py", 1, "f"): (1, 1, 1e-6, 1e-6, {}),
                      ("m.py", 2, "g"): (1, 1, 3.0, 3.0, {})}, fh)
    with open(b, "wb") as fh:
        marshal.dump({("m.py", 1, "f"): (1, 1, 123456.0, 123456.0, {}),
                      ("m.py", 2, "g"): (1, 1, 2.0, 2.0, {})}, fh)
    r = pyrometer("diff", str(a), str(b))
    assert r.returncode == 0, r.stderr
    header = next(line for line in r.stdout.splitlines() if "filename:lineno(function)" in line)
    rows = [line for line in r.stdout.splitlines() if line.rstrip().endswith(("(f)", "(g)"))]
    at = header.index("filename:lineno(function)")
    assert all(row.index("m.py") == at for row in rows), "\n".join([header] + rows)


def test_merge_groups_by_a_name_pattern(tmp_path):
    # per-request files as a profiling middleware names them
    runs = tmp_path / "requests"
    runs.mkdir()
    names = ["GET.api.users.012ms.1700000001.prof", "GET.api.users.015ms.1700000002.prof",
             "POST.api.orders.120ms.1700000003.prof", "notes.txt"]
    for name in names[:3]:
        profile(tmp_path, runs / name)
    (runs / names[3]).write_text("not a profile")
    out = tmp_path / "by-url"
    out.mkdir()
    r = pyrometer("merge", str(runs / "*.prof"), "--group-by", r"^(\w+\.api\.\w+)", "-o",
                  str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(out)) == ["GET.api.users.prof", "POST.api.orders.prof"]
    one = pstats.Stats(str(runs / names[2])).total_calls
    assert pstats.Stats(str(out / "GET.api.users.prof")).total_calls == 2 * one
    assert pstats.Stats(str(out / "POST.api.orders.prof")).total_calls == one
    r = pyrometer("merge", str(runs / "*.prof"), "--group-by", "(", "-o", str(out))
    assert r.returncode == 2 and "regular expression" in r.stderr
