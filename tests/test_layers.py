"""The engine's floors (docs/architecture.md), kept by a test: every file
includes only headers of its own folder or of a lower floor, each include
names its floor, and no headers include each other in a circle."""
import re
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "src" / "engine"

# Folders by floor; folders on one floor do not include each other.
FLOORS = {"core": 1, "runtime": 2, "tables": 3, "hooks": 4, "model": 4,
          "formats": 5, "modes": 5, "api": 6, "": 7}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    return sorted(p for p in ENGINE.rglob("*") if p.suffix in (".c", ".h"))


def folder_of(path):
    rel = path.relative_to(ENGINE)
    return rel.parts[0] if len(rel.parts) > 1 else ""


def includes(path):
    return INCLUDE.findall(path.read_text())


def test_every_folder_is_a_floor():
    assert {folder_of(p) for p in sources()} <= set(FLOORS)


def test_includes_name_their_floor_and_only_look_down():
    wrong = []
    for p in sources():
        mine = folder_of(p)
        for inc in includes(p):
            target = ENGINE / inc
            if "/" not in inc or not target.exists():
                wrong.append(f"{p.relative_to(ENGINE)}: \"{inc}\" names no header by its floor")
                continue
            theirs = folder_of(target)
            if theirs != mine and FLOORS[theirs] >= FLOORS[mine]:
                wrong.append(f"{p.relative_to(ENGINE)} ({mine}, floor {FLOORS[mine]}) includes "
                             f"{inc} ({theirs}, floor {FLOORS[theirs]})")
    assert not wrong, "\n".join(wrong)


def test_no_circles_among_headers():
    graph = {str(p.relative_to(ENGINE)): [i for i in includes(p) if (ENGINE / i).exists()]
             for p in sources() if p.suffix == ".h"}
    state = {}

    def visit(node, path):
        if state.get(node) == "open":
            raise AssertionError("circle: " + " -> ".join(path + [node]))
        if state.get(node) == "done":
            return
        state[node] = "open"
        for nxt in graph.get(node, []):
            visit(nxt, path + [node])
        state[node] = "done"

    for node in graph:
        visit(node, [])


def test_the_engine_reads_marshal_data_in_one_place():
    """No file reader hands file bytes to CPython's marshal."""
    users = [str(p.relative_to(ENGINE)) for p in sources()
             if re.search(r"PyMarshal_Read", p.read_text())]
    assert users == []


MAX_LINES = 800


def test_every_engine_file_stays_short():
    """A file of one concern fits in a reader's head: at most MAX_LINES lines."""
    long_files = []
    for p in sources():
        n = len(p.read_text().splitlines())
        if n > MAX_LINES:
            long_files.append(f"{p.relative_to(ENGINE)}: {n} lines")
    assert not long_files, f"over {MAX_LINES} lines:\n" + "\n".join(long_files)


def test_every_file_is_named_where_it_says_so():
    """A file's first comment names the file, and a header's include guard
    is PYRO_<NAME>_H: grep finds what a comment talks about."""
    wrong = []
    for path in sources():
        first = path.read_text().split("\n", 1)[0]
        if not first.startswith(f"/* {path.name}:"):
            wrong.append(f"{path.relative_to(ENGINE)}: {first[:60]!r}")
        if path.suffix == ".h":
            guard = f"PYRO_{path.stem.upper()}_H"
            if f"#ifndef {guard}\n#define {guard}\n" not in path.read_text():
                wrong.append(f"{path.relative_to(ENGINE)}: include guard is not {guard}")
    assert not wrong, "\n".join(wrong)


def test_nothing_is_ever_unpickled():
    """line_profiler's pickles are read by formats/pickle_machine.c, which
    builds plain data; neither the engine nor the Python layer imports
    pickle (whose load runs what a file names)."""
    python = ENGINE.parent / "pyrometer"
    users = [str(p.relative_to(ENGINE.parent)) for p in sorted(python.rglob("*.py"))
             if re.search(r"^\s*(import|from)\s+_?pickle\b", p.read_text(), re.M)]
    users += [str(p.relative_to(ENGINE)) for p in sources()
              if re.search(r'"_?pickle"|PyPickle|_Unpickler', p.read_text())]
    assert users == []
