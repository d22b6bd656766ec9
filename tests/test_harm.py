"""No harm to the profiled program and no lost data, on real programs: forks
and multiprocessing pools, `run -m` packages, `__main__` as Python gives
it, the `profile` builtin only for programs that use it."""
import json
import os
import pstats
import subprocess
import sys
import textwrap

import pytest

from conftest import run_python


def pyrometer(*args, **kw):
    return run_python(["-m", "pyrometer", *args], **kw)


def write(path, source):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def names(stats):
    return {(os.path.basename(k[0]), k[2]): v for k, v in stats.items()}


POOL = '''
import multiprocessing as mp

def work(x):
    return sum(i * i for i in range(1000 + x))

if __name__ == "__main__":
    mp.set_start_method("fork")
    with mp.Pool(4) as p:
        print(sum(p.map(work, range(100))))
'''

fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def run_pool(tmp_path, *extra, runs=1):
    prog = write(tmp_path / "pool.py", POOL)
    out = tmp_path / "pool.prof"
    for _ in range(runs):
        r = pyrometer("run", *extra, "-o", str(out), str(prog), timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "38564754150"
    return r, out


@fork_only
def test_fork_pool_finishes_and_children_stay_quiet(tmp_path):
    r, out = run_pool(tmp_path, runs=3)
    # One line from the parent; the workers neither write nor print.
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith(f"pyrometer: profile written to {out}: "), lines
    assert not [l for l in lines[:-1] if "written" in l or "error" in l], lines
    assert sorted(os.listdir(tmp_path)) == ["pool.prof", "pool.py"]
    assert pstats.Stats(str(out)).total_calls > 0


@pytest.mark.slow
@fork_only
def test_fork_pool_finishes_100_runs_in_a_row(tmp_path):
    """The pool hung at Pool.__exit__ in 2 of 10 runs when the workers kept
    the runner's Python-level SIGTERM handler."""
    run_pool(tmp_path, runs=100)


@fork_only
def test_follow_fork_gives_each_worker_its_own_file(tmp_path):
    r, out = run_pool(tmp_path, "--follow-fork")
    children = sorted(p for p in os.listdir(tmp_path) if p.startswith("pool.prof."))
    assert len(children) == 4 and all(c[len("pool.prof."):].isdigit() for c in children), children
    assert "4 child process profiles written next to it" in r.stderr
    merged = tmp_path / "all.prof"
    m = pyrometer("merge", str(tmp_path / "pool.prof*"), "-o", str(merged))
    assert m.returncode == 0, m.stderr
    work = names(pstats.Stats(str(merged)).stats)[("pool.py", "work")]
    assert work[:2] == (100, 100)
    # The parent never ran work().
    assert ("pool.py", "work") not in names(pstats.Stats(str(out)).stats)


FORKER = '''
import os, time

def parent_work():
    return sum(range(10000))

def child_work():
    return sum(range(100))

pid = os.fork()
if pid == 0:
    child_work()
    time.sleep(0.3)      # outlives the parent's first piece of work
else:
    parent_work()
    os.waitpid(pid, 0)
    parent_work()
print("child" if pid == 0 else "parent")
'''


@fork_only
def test_forked_child_does_not_overwrite_the_parents_profile(tmp_path):
    prog = write(tmp_path / "forker.py", FORKER)
    out = tmp_path / "f.prof"
    r = pyrometer("run", "-o", str(out), str(prog))
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == ["child", "parent"]
    assert r.stderr.count("profile written") == 1
    stats = names(pstats.Stats(str(out)).stats)
    assert stats[("forker.py", "parent_work")][:2] == (2, 2)
    assert ("forker.py", "child_work") not in stats


@fork_only
def test_follow_fork_child_writes_next_to_the_parent(tmp_path):
    prog = write(tmp_path / "forker.py", FORKER)
    out = tmp_path / "f.prof"
    r = pyrometer("run", "--follow-fork", "-o", str(out), str(prog))
    assert r.returncode == 0, r.stderr
    children = [p for p in os.listdir(tmp_path) if p.startswith("f.prof.")]
    assert len(children) == 1
    child = names(pstats.Stats(str(tmp_path / children[0])).stats)
    assert child[("forker.py", "child_work")][:2] == (1, 1)
    assert ("forker.py", "parent_work") not in child
    parent = names(pstats.Stats(str(out)).stats)
    assert parent[("forker.py", "parent_work")][:2] == (2, 2)


@fork_only
def test_follow_fork_needs_an_output_file(tmp_path):
    prog = write(tmp_path / "forker.py", FORKER)
    r = pyrometer("run", "--follow-fork", str(prog))
    assert r.returncode == 2
    assert r.stderr.strip() == ("pyrometer: error: --follow-fork needs -o FILE "
                                "(each child writes FILE.<pid>)")


@fork_only
def test_line_mode_pool(tmp_path):
    prog = write(tmp_path / "pool.py", POOL)
    out = tmp_path / "l.lines"
    r = pyrometer("run", "--lines-of", "work", "-o", str(out), str(prog), timeout=60)
    # work() ran only in the workers, which are not profiled: said once.
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "pyrometer: error: --lines-of 'work' matched no function that ran (it may have run "
        "in a forked child process: add --follow-fork); nothing written"]
    assert not out.exists()
    r = pyrometer("run", "--follow-fork", "--lines-of", "work", "-o", str(out), str(prog),
                  timeout=60)
    assert r.returncode == 0, r.stderr
    children = [p for p in os.listdir(tmp_path) if p.startswith("l.lines.")]
    assert len(children) == 4
    hits = 0
    for c in children:
        rep = pyrometer("report", str(tmp_path / c))
        assert rep.returncode == 0, rep.stderr
        for line in rep.stdout.splitlines():
            if line.strip().endswith("return sum(i * i for i in range(1000 + x))"):
                hits += int(line.split()[1])
    assert hits == 100


# ---- run -m: the import of the package is profiled ------------------------

PKG_INIT = '''
def heavy(n):
    return sum(i for i in range(n))

TABLE = [heavy(1000) for _ in range(50)]
'''

PKG_MAIN = '''
from . import heavy

def main():
    return heavy(10)

if __name__ == "__main__":
    for _ in range(7):
        main()
'''


def test_run_m_profiles_the_import_of_the_package(tmp_path):
    write(tmp_path / "workpkg" / "__init__.py", PKG_INIT)
    write(tmp_path / "workpkg" / "__main__.py", PKG_MAIN)
    ours, theirs = tmp_path / "ours.prof", tmp_path / "theirs.prof"
    r = pyrometer("run", "-o", str(ours), "-m", "workpkg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    c = run_python(["-m", "cProfile", "-o", str(theirs), "-m", "workpkg"], cwd=tmp_path)
    assert c.returncode == 0, c.stderr

    def program_counts(path):
        return {(os.path.relpath(k[0], tmp_path), k[1], k[2]): v[:2]
                for k, v in pstats.Stats(str(path)).stats.items()
                if k[0].startswith(str(tmp_path))}

    mine = program_counts(ours)
    assert mine == program_counts(theirs)
    assert mine[(os.path.join("workpkg", "__init__.py"), 2, "heavy")] == (57, 57)
    assert any(k[0] == os.path.join("workpkg", "__init__.py") and k[2] == "<module>"
               for k in mine)


def test_run_m_unknown_module_is_bad_input(tmp_path):
    r = pyrometer("run", "-o", str(tmp_path / "x.prof"), "-m", "no_such_module_here",
                  cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "pyrometer: error: cannot run module 'no_such_module_here': "
        "No module named no_such_module_here"]
    assert not (tmp_path / "x.prof").exists()


def test_lines_of_a_package_run_with_m(tmp_path):
    write(tmp_path / "workpkg" / "__init__.py", PKG_INIT)
    write(tmp_path / "workpkg" / "__main__.py", PKG_MAIN)
    out = tmp_path / "p.lines"
    r = pyrometer("run", "--lines-of", "workpkg", "-o", str(out), "-m", "workpkg",
                  cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rep = pyrometer("report", str(out)).stdout
    assert "Function: heavy at line 2" in rep and "Function: main at line 4" in rep


# ---- __main__ as Python gives it -------------------------------------------

PROBE = '''
import json, os, sys
main = sys.modules["__main__"]

def show(v):
    if isinstance(v, type(sys)):
        return "module " + v.__name__
    if v is None or isinstance(v, (str, int, bool)):
        return v
    if isinstance(v, dict):
        return "dict %d" % len(v)
    return "%s.%s %r %r" % (type(v).__module__, type(v).__qualname__,
                            getattr(v, "name", None), getattr(v, "path", None))

attrs = {k: show(v) for k, v in vars(main).items()
         if k not in ("json", "os", "sys", "main", "show", "attrs", "here")}
here = os.path.dirname(os.path.abspath(__file__)) if "__file__" in vars(main) else None
os.chdir("/")
# A program that changes folder and then opens a file beside its __file__.
beside = open(os.path.join(here, "data.txt")).read() if here else None
print(json.dumps({"attrs": attrs, "order": list(attrs), "argv": sys.argv, "path0": sys.path[0],
                  "globals_are_main": globals() is main.__dict__,
                  "builtins_len": __builtins__.len("abc"), "beside": beside,
                  "main_in_modules": sys.modules["__main__"] is main}, sort_keys=True))
'''


@pytest.mark.parametrize("how", ["script", "module", "package", "code", "folder"])
def test_main_module_is_what_python_gives(tmp_path, how):
    write(tmp_path / "data.txt", "beside")
    write(tmp_path / "probe.py", PROBE)
    write(tmp_path / "probepkg" / "__init__.py", "")
    write(tmp_path / "probepkg" / "__main__.py", PROBE)
    write(tmp_path / "probepkg" / "data.txt", "in the package")
    write(tmp_path / "app" / "__main__.py", PROBE)
    write(tmp_path / "app" / "data.txt", "in the folder")
    target = {"script": ["probe.py", "x"], "module": ["-m", "probe", "y"],
              "package": ["-m", "probepkg", "z"], "code": ["-c", PROBE, "w"],
              "folder": ["app", "v"]}[how]
    direct = run_python(target, cwd=tmp_path)
    assert direct.returncode == 0, direct.stderr
    out = tmp_path / "probe.prof"
    profiled = pyrometer("run", "-o", "probe.prof", *target, cwd=tmp_path)
    assert profiled.returncode == 0, profiled.stderr
    assert json.loads(profiled.stdout) == json.loads(direct.stdout)
    # -o was resolved before the program changed folder.
    assert pstats.Stats(str(out)).total_calls > 0


# ---- the `profile` builtin -------------------------------------------------

def test_pyflakes_reports_undefined_profile_as_without_pyrometer(tmp_path):
    pytest.importorskip("pyflakes")
    write(tmp_path / "src" / "bad.py", "def f():\n    return profile\n")
    direct = run_python(["-m", "pyflakes", "src"], cwd=tmp_path)
    assert direct.returncode == 1 and "undefined name 'profile'" in direct.stdout
    for extra in ([], ["--lines"], ["--lines-of", "pyflakes"]):
        r = pyrometer("run", *extra, "-o", str(tmp_path / "x.out"), "-m", "pyflakes", "src",
                      cwd=tmp_path)
        assert (r.returncode, r.stdout) == (direct.returncode, direct.stdout), (extra, r.stderr)


INSPECTS = '''
import builtins
print("profile" in dir(builtins))
try:
    profile
    print("has profile")
except NameError:
    print("no profile")
'''


def test_program_that_looks_for_profile_sees_what_python_shows(tmp_path):
    prog = write(tmp_path / "inspect_builtins.py", INSPECTS)
    direct = run_python([str(prog)])
    assert direct.stdout.split("\n")[:2] == ["False", "no profile"]
    for extra in ([], ["--lines-of", "nothing_at_all"]):
        r = pyrometer("run", *extra, "-o", str(tmp_path / "x.out"), str(prog))
        assert r.stdout == direct.stdout, (extra, r.stderr)


DECORATED = '''
import helper

@profile
def hot(n):
    total = 0
    for i in range(n):
        total += i
    return total

print(hot(1000), helper.cold(3))
'''

HELPER = '''
@profile
def cold(n):
    return n * 2
'''


@pytest.mark.parametrize("extra", [[], ["--lines"], ["--lines-of", "nothing_but_hot"]])
def test_profile_decorated_scripts_still_run(tmp_path, extra):
    prog = write(tmp_path / "deco.py", DECORATED)
    write(tmp_path / "helper.py", HELPER)
    r = pyrometer("run", *extra, str(prog))
    if extra[:1] == ["--lines-of"]:
        assert r.returncode == 2     # the pattern is bad input; the program ran
    else:
        assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "499500 6"
    if extra == ["--lines"]:
        assert "Function: hot at line 4" in r.stdout and "Function: cold at line 2" in r.stdout


KERNPROF_FALLBACK = '''
try:
    profile
except NameError:
    def profile(f):
        return f

@profile
def hot(n):
    return sum(range(n))

print(hot(10))
'''


def test_kernprof_fallback_finds_the_line_profiler_with_lines(tmp_path):
    prog = write(tmp_path / "fallback.py", KERNPROF_FALLBACK)
    r = pyrometer("run", "--lines", str(prog))
    assert r.returncode == 0, r.stderr
    assert "Function: hot at line 8" in r.stdout
    r = pyrometer("run", str(prog))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("45\n")


# ---- other tools in the same process ----------------------------------------

TOOLS = '''
import sys, threading, cProfile, pstats

def f(): return 1
def g(): return 2
def h(): return 3
def k(): return 4

# The program's own cProfile.
p = cProfile.Profile()
p.enable()
for i in range(100): f()
p.disable()
print("cprofile saw f", [v[1] for key, v in pstats.Stats(p).stats.items() if key[2] == "f"])
for i in range(1000): g()
# What a program that saves and restores the profile function does.
print("getprofile", sys.getprofile())
sys.setprofile(sys.getprofile())
for i in range(5): h()
# Its own profile function.
seen = []
def mine(frame, event, arg):
    if event == "call":
        seen.append(frame.f_code.co_name)
sys.setprofile(mine)
for i in range(5): k()
sys.setprofile(None)
print("mine saw k", seen.count("k"))
# Its own profile function for new threads.
tseen = []
def tmine(frame, event, arg):
    if event == "call":
        tseen.append(frame.f_code.co_name)
threading.setprofile(tmine)
def worker():
    for i in range(4000): f()
t = threading.Thread(target=worker)
t.start()
t.join()
threading.setprofile(None)
print("thread tool saw f", tseen.count("f"))
'''


def test_program_with_its_own_profilers(tmp_path):
    prog = write(tmp_path / "tools.py", TOOLS)
    direct = run_python([str(prog)])
    assert direct.returncode == 0, direct.stderr
    out = tmp_path / "t.prof"
    r = pyrometer("run", "-o", str(out), str(prog))
    assert r.returncode == 0, r.stderr
    assert r.stdout == direct.stdout
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith(f"pyrometer: profile written to {out}: "), lines
    assert not [l for l in lines[:-1] if "written" in l or "error" in l], lines
    stats = names(pstats.Stats(str(out)).stats)
    got = {n: stats[("tools.py", n)][1] for n in "fghk"}
    assert got == {"f": 4100, "g": 1000, "h": 5, "k": 5}


COVERED = '''
import os, sys, io
import coverage
here = os.path.dirname(os.path.abspath(__file__))
cov = coverage.Coverage(data_file=None, include=[os.path.join(here, "covtarget.py")])
cov.start()
import covtarget
covtarget.run()
cov.stop()
print("coverage %.0f" % cov.report(file=io.StringIO()))
lines = []
def tracer(frame, event, arg):
    if event == "line" and frame.f_code.co_name == "hot":
        lines.append(frame.f_lineno)
    return tracer
sys.settrace(tracer)
covtarget.hot(3)
sys.settrace(None)
print("settrace saw", len(lines), "lines")
'''

COVTARGET = '''
def hot(n):
    t = 0
    for i in range(n):
        t += i
    return t

def cold(x):
    if x > 100:
        return "big"
    return "small"

def run():
    hot(10)
    cold(1)
'''


@pytest.mark.parametrize("mode", [["--lines-of", "hot"], ["--lines"], []])
def test_coverage_and_settrace_beside_pyrometer(tmp_path, mode):
    pytest.importorskip("coverage")
    prog = write(tmp_path / "covprog.py", COVERED)
    write(tmp_path / "covtarget.py", COVTARGET)
    direct = run_python([str(prog)], cwd=tmp_path)
    assert direct.returncode == 0, direct.stderr
    assert direct.stdout.splitlines() == ["coverage 92", "settrace saw 9 lines"]
    out = tmp_path / ("c.lines" if mode else "c.prof")
    r = pyrometer("run", *mode, "-o", str(out), str(prog), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout == direct.stdout
    if mode == ["--lines-of", "hot"]:
        rep = pyrometer("report", str(out)).stdout
        body = [line.split() for line in rep.splitlines() if line.strip().startswith("4 ")]
        assert body and body[0][1] == "15", rep    # `for` line: 11 + 4 hits
    elif not mode:
        stats = names(pstats.Stats(str(out)).stats)
        assert stats[("covtarget.py", "hot")][:2] == (2, 2)


DEEP = '''
import sys
sys.setrecursionlimit(200000)

def down(n):
    if n == 0:
        return 0
    return down(n - 1) + 1

def other(n):
    return n + 1

print(down(int(sys.argv[1])), other(1))
'''


def deep_depths():
    # 3.9 and 3.10 recurse on the C stack for every Python call: plain
    # Python itself dies a little past 20 000 there.
    return [20000, 50000] if sys.version_info >= (3, 11) else [15000]


@pytest.mark.parametrize("mode", [["--lines-of", "other"], ["--lines-of", "down"], []])
def test_deep_recursion_never_crashes(tmp_path, mode):
    prog = write(tmp_path / "deep.py", DEEP)
    for depth in deep_depths():
        direct = run_python([str(prog), str(depth)])
        assert direct.returncode == 0, direct.stderr
        out = tmp_path / ("d.lines" if mode else "d.prof")
        r = pyrometer("run", *mode, "-o", str(out), str(prog), str(depth))
        assert r.returncode == 0, (depth, r.returncode, r.stderr[-2000:])
        assert r.stdout == direct.stdout
        if mode == ["--lines-of", "down"]:
            rep = pyrometer("report", str(out)).stdout
            hits = [line.split() for line in rep.splitlines()
                    if line.strip().endswith("if n == 0:")]
            assert hits[0][1] == str(depth + 1), rep


MANY = '''
def main():
    src = "\\n".join("def f%d(k):\\n    return k + %d" % (i, i) for i in range(3000))
    ns = {}
    exec(compile(src, "generated.py", "exec"), ns)
    funcs = [ns["f%d" % i] for i in range(3000)]
    for rounds in range(3):
        for f in funcs[: 1000 * (rounds + 1)]:
            f(rounds)
'''


def test_a_parent_with_thousands_of_children_counts_as_cprofile(profile_program):
    """Past 16 children a parent finds them through the child index."""
    from conftest import counts, edges
    ours = profile_program(MANY)
    theirs = profile_program(MANY, "cprofile")
    assert counts(ours) == counts(theirs)
    assert edges(ours) == edges(theirs)
    assert sum(1 for k in counts(ours) if k[0] == "generated.py" and k[2] != "<module>") == 3000


KILLED_AT_BIRTH = '''
import os, signal, sys, time
follow = sys.argv[1] == "follow"
survived = 0
for _ in range(40):
    pid = os.fork()
    if pid == 0:
        time.sleep(3)        # a terminated child never gets here
        os._exit(0)
    os.kill(pid, signal.SIGTERM)  # at once: the child may not have run yet
    _, status = os.waitpid(pid, 0)
    if not (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM):
        survived += 1
print("survived", survived)
'''


@fork_only
@pytest.mark.parametrize("mode", ["quiet", "follow"])
def test_child_terminated_right_after_fork_dies(tmp_path, mode):
    """A SIGTERM that reaches a child before it has dropped the runner's
    handler (a pool worker not yet scheduled when the pool is terminated)
    still ends it, as it ends the program's child without pyrometer."""
    prog = write(tmp_path / "killed.py", KILLED_AT_BIRTH)
    extra = ["--follow-fork"] if mode == "follow" else []
    r = pyrometer("run", *extra, "-o", str(tmp_path / "k.prof"), str(prog), mode, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "survived 0"
