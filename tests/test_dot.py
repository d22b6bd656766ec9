"""`pyrometer convert -f dot|svg|png`: the call graph as gprof2dot draws it.

Pruning is checked on a profile made up so that functions and calls sit
just above and below the thresholds; the numbers against gprof2dot's on
real profiles; svg and png against Graphviz, present or missing."""
import marshal
import os
import re
import shutil
import stat
import sys

import pytest

from conftest import run_python

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")

NODE = re.compile(r'^\t(\d+) \[label="((?:[^"\\]|\\.)*)"', re.M)
EDGE = re.compile(r'^\t(\d+) -> (\d+) \[label="((?:[^"\\]|\\.)*)"', re.M)


def convert(*args, **kw):
    return run_python(["-m", "pyrometer", "convert", *map(str, args)], **kw)


def parse(text):
    """{name: label lines}, {(caller, callee): label lines} of our dot text."""
    nodes = {m.group(1): m.group(2).split("\\n") for m in NODE.finditer(text)}
    edges = {(nodes[a][0], nodes[b][0]): label.split("\\n")
             for a, b, label in EDGE.findall(text)}
    return {lines[0]: lines for lines in nodes.values()}, edges


def F(name, line=1):
    return ("/src/app.py", line, name)


def synthetic():
    """Total time 100 s (root's cumtime; the tottimes add up to less).

    a 0.51 % (shown), b 0.49 % (not), e 0.5 % (the threshold itself: shown);
    calls root->c 9.89 % and a->c 0.11 % (shown), a->d 0.09 % (not), b->d
    0.3 % (not: b is left out)."""
    root, a, b, c, d, e, g = (F(n, i) for i, n in enumerate("root a b c d e g".split(), 1))
    return {
        root: (1, 1, 50.0, 100.0, {}),
        a: (2, 2, 0.3, 0.51, {root: (2, 2, 0.3, 0.51)}),
        b: (1, 1, 0.19, 0.49, {root: (1, 1, 0.19, 0.49)}),
        c: (7, 7, 10.0, 10.0, {root: (5, 5, 9.89, 9.89), a: (2, 2, 0.11, 0.11)}),
        d: (3, 4, 4.9, 5.0, {root: (2, 2, 4.61, 4.61), a: (1, 1, 0.09, 0.09),
                             b: (1, 0, 0.3, 0.3)}),
        e: (1, 1, 0.5, 0.5, {root: (1, 1, 0.5, 0.5)}),
        g: (1, 1, 33.0, 33.0, {root: (1, 1, 33.0, 33.0)}),
        ("~", 0, "<built-in method builtins.len>"): (3, 3, 1.0, 1.0, {g: (3, 3, 1.0, 1.0)}),
    }


@pytest.fixture
def synthetic_prof(tmp_path):
    path = tmp_path / "synthetic.prof"
    with open(path, "wb") as f:
        marshal.dump(synthetic(), f)
    return path


def test_prunes_at_the_thresholds(synthetic_prof, tmp_path):
    out = tmp_path / "g.dot"
    r = convert(synthetic_prof, "-f", "dot", "-o", out)
    assert r.returncode == 0, r.stderr
    nodes, edges = parse(out.read_text())
    assert set(nodes) == {"root", "a", "c", "d", "e", "g", "<built-in method builtins.len>"}
    assert set(edges) == {("root", n) for n in "acdeg"} | {("a", "c"), ("g", "<built-in method builtins.len>")}
    sum_tt = sum(v[2] for v in synthetic().values())
    assert nodes["a"] == ["a", "app.py:2", "0.51%", f"({100 * 0.3 / sum_tt:.2f}%)", "2×"]
    assert nodes["root"][2:] == ["100.00%", f"({100 * 50 / sum_tt:.2f}%)", "1×"]
    assert nodes["d"][-1] == "4×"                        # calls made, not primitive ones
    assert nodes["<built-in method builtins.len>"][1:] == ["1.00%", f"({100 / sum_tt:.2f}%)", "3×"]
    assert edges[("root", "c")] == ["9.89%", "5×"]
    assert edges[("a", "c")] == ["0.11%", "2×"]


def test_thresholds_options(synthetic_prof, tmp_path):
    out = tmp_path / "g.dot"
    r = convert(synthetic_prof, "-f", "dot", "-o", out, "--node-threshold", "0",
                "--edge-threshold=0")
    assert r.returncode == 0, r.stderr
    nodes, edges = parse(out.read_text())
    assert len(nodes) == len(synthetic())
    assert len(edges) == sum(len(v[4]) for v in synthetic().values())
    r = convert(synthetic_prof, "-f", "dot", "-o", out, "--node-threshold", "20",
                "--edge-threshold", "40")
    assert r.returncode == 0, r.stderr
    nodes, edges = parse(out.read_text())
    assert set(nodes) == {"root", "g"} and edges == {}


@pytest.mark.parametrize("value", ["abc", "-1", "101", "nan"])
def test_bad_threshold(synthetic_prof, tmp_path, value):
    out = tmp_path / "g.dot"
    r = convert(synthetic_prof, "-f", "dot", "-o", out, f"--node-threshold={value}")
    assert r.returncode == 2 and "--node-threshold" in r.stderr, r.stderr
    assert not out.exists()


def test_unknown_option(synthetic_prof, tmp_path):
    for fmt in ("dot", "svg", "png"):
        out = tmp_path / f"g.{fmt}"
        r = convert(synthetic_prof, "-f", fmt, "-o", out, "--colormap", "gray")
        assert r.returncode == 2, r.stderr
        assert "unknown option '--colormap'" in r.stderr
        r = convert(synthetic_prof, "-f", fmt, "-o", out, "--width", "300")
        assert r.returncode == 2, r.stderr
        assert f"does not apply to the {fmt} format" in r.stderr
        assert not out.exists()


def test_strange_names(tmp_path):
    """Quotes, backslashes, line breaks and long names stay inside their label."""
    odd = ('/tmp/we"ird\\dir/mod.py', 7, 'na"me\\N\nx' + "y" * 3000)
    stats = {F("main"): (1, 1, 1.0, 2.0, {}), odd: (1, 1, 1.0, 1.0, {F("main"): (1, 1, 1.0, 1.0)})}
    src, out = tmp_path / "odd.prof", tmp_path / "odd.dot"
    with open(src, "wb") as f:
        marshal.dump(stats, f)
    r = convert(src, "-f", "dot", "-o", out)
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    nodes, edges = parse(text)
    assert len(nodes) == 2 and len(edges) == 1
    name = next(n for n in nodes if n != "main")
    assert name.startswith('na\\"me\\\\N?x') and name.endswith("…") and len(name) < 1100
    if shutil.which("dot"):
        r = run_python(["-c", "import subprocess,sys; sys.exit(subprocess.run(['dot', '-Tsvg', "
                        f"{str(out)!r}], capture_output=True).returncode)"])
        assert r.returncode == 0


# ---- against gprof2dot ------------------------------------------------------

PROGRAM = '''
def leaf(n):
    return sum(i * i for i in range(n))

def a():
    return [leaf(200) for _ in range(30)]

def b():
    return [leaf(5) for _ in range(300)]

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def main():
    for _ in range(5):
        a()
        b()
    fib(12)

main()
'''


@pytest.fixture(scope="module", params=["pyrometer", "cprofile"])
def real_prof(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dot")
    prog = tmp / "prog.py"
    prog.write_text(PROGRAM)
    out = tmp / "prog.prof"
    # Uncompensated: these tests are about the graph, and on a shared machine
    # a calibration run at another speed than the program can take a small
    # function below the graph's thresholds.
    tool = (["-m", "pyrometer", "run", "--no-compensate", "-o"] if request.param == "pyrometer"
            else ["-m", "cProfile", "-o"])
    r = run_python([*tool, str(out), str(prog)])
    assert r.returncode == 0, r.stderr
    return out


def gprof2dot_graph(prof, out, *args):
    r = run_python(["-m", "gprof2dot", "-f", "pstats", *args, str(prof), "-o", str(out)])
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    labels = {}
    for m in re.finditer(r'^\t(\d+) \[.*?label="((?:[^"\\]|\\.)*)"', text, re.M):
        lines = m.group(2).split("\\n")
        _module, line, name = lines[0].split(":", 2)
        labels[m.group(1)] = ((int(line), name), lines[1:])
    nodes = dict(labels.values())
    edges = {}
    for m in re.finditer(r'^\t(\d+) -> (\d+) \[.*?label="((?:[^"\\]|\\.)*)"', text, re.M):
        edges[(labels[m.group(1)][0], labels[m.group(2)][0])] = m.group(3).split("\\n")
    return nodes, edges


def our_graph(prof, out, *args):
    r = convert(prof, "-f", "dot", "-o", out, *args)
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    labels = {}
    for m in NODE.finditer(text):
        lines = m.group(2).split("\\n")
        if len(lines) == 5:
            key = (int(lines[1].rsplit(":", 1)[1]), lines[0])
        else:                                     # a built-in: no file:line
            key = (0, lines[0])
        labels[m.group(1)] = (key, lines[-3:])
    nodes = dict(labels.values())
    edges = {(labels[a][0], labels[b][0]): label.split("\\n")
             for a, b, label in EDGE.findall(text)}
    return nodes, edges


def pct(text):
    return float(text.strip("()%"))


@pytest.mark.parametrize("thresholds", [(), ("0", "0"), ("5", "2")])
def test_same_graph_as_gprof2dot(real_prof, tmp_path, thresholds):
    pytest.importorskip("gprof2dot")
    g_args = ["-n", thresholds[0], "-e", thresholds[1]] if thresholds else []
    o_args = ["--node-threshold", thresholds[0], "--edge-threshold", thresholds[1]] if thresholds else []
    g_nodes, g_edges = gprof2dot_graph(real_prof, tmp_path / "g.dot", *g_args)
    o_nodes, o_edges = our_graph(real_prof, tmp_path / "o.dot", *o_args)
    assert set(o_nodes) == set(g_nodes)
    assert set(o_edges) == set(g_edges)
    for key, (total, self, calls) in o_nodes.items():
        g_total, g_self, g_calls = g_nodes[key]
        assert abs(pct(total) - pct(g_total)) <= 0.011, key
        assert abs(pct(self) - pct(g_self)) <= 0.011, key
        assert calls == g_calls, key
    for key, (p, calls) in o_edges.items():
        assert abs(pct(p) - pct(g_edges[key][0])) <= 0.011, key
        if key[0] != key[1]:                      # gprof2dot counts primitive calls
            assert calls == g_edges[key][1], key
    if thresholds == ("0", "0"):
        assert any(k[0] == k[1] for k in o_edges)   # fib -> fib


# ---- svg and png ----------------------------------------------------------

@needs_dot
def test_dot_parses(real_prof, tmp_path):
    out = tmp_path / "g.dot"
    assert convert(real_prof, "-f", "dot", "-o", out, "--node-threshold", "0").returncode == 0
    svg = tmp_path / "check.svg"
    r = run_python(["-c", f"import subprocess,sys; r = subprocess.run(['dot', '-Tsvg', "
                    f"{str(out)!r}, '-o', {str(svg)!r}], capture_output=True, text=True); "
                    f"print(r.stderr, file=sys.stderr); sys.exit(r.returncode)"])
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    assert "<svg" in svg.read_text()


@needs_dot
@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG\r\n\x1a\n")])
def test_rendered(real_prof, tmp_path, fmt, magic):
    out = tmp_path / f"graph.{fmt}"
    out.write_bytes(b"old")
    r = convert(real_prof, "-f", fmt, "-o", out)
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(magic)
    if fmt == "svg":
        assert b"<svg" in data and b"leaf" in data
    assert os.listdir(tmp_path) == [out.name]


def test_missing_graphviz(real_prof, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    outdir = tmp_path / "out"
    outdir.mkdir()
    env = dict(os.environ, PATH=str(empty))
    for fmt in ("svg", "png"):
        out = outdir / f"graph.{fmt}"
        out.write_text("keep me")
        r = convert(real_prof, "-f", fmt, "-o", out, env=env)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert "Graphviz" in lines[0] and "install" in lines[0] and "-f dot" in lines[0]
        assert out.read_text() == "keep me"
    assert sorted(os.listdir(outdir)) == ["graph.png", "graph.svg"]
    r = convert(real_prof, "-f", "dot", "-o", outdir / "graph.dot", env=env)
    assert r.returncode == 0, r.stderr                  # dot text needs no Graphviz
    assert (outdir / "graph.dot").read_text().startswith("digraph")


def test_graphviz_fails(real_prof, tmp_path):
    """A dot that fails: exit 2 with its last word, nothing written."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "dot"
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stdin.read()\n"
                    "print('Error: out of crayons', file=sys.stderr)\nsys.exit(3)\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = tmp_path / "graph.svg"
    r = convert(real_prof, "-f", "svg", "-o", out, env=dict(os.environ, PATH=str(bindir)))
    assert r.returncode == 2, r.stderr
    assert "out of crayons" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_input(tmp_path):
    bad = tmp_path / "bad.prof"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot a profile")
    for fmt in ("dot", "svg", "png"):
        out = tmp_path / f"g.{fmt}"
        out.write_text("keep me")
        r = convert(bad, "-f", fmt, "-o", out)
        assert r.returncode == 2 and "not a profile" in r.stderr, r.stderr
        assert out.read_text() == "keep me"
    assert len(os.listdir(tmp_path)) == 4
