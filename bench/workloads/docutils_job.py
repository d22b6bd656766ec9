"""Render a reStructuredText document to HTML with docutils.

Skipped (SKIP says why) when docutils is not installed.

    python docutils_job.py [sections]
"""
import sys

DEFAULT_SIZE = 60
QUICK_SIZE = 30
CALL_HEAVY = False

try:
    import docutils
    import docutils.core
except ImportError:
    docutils = None

SKIP = None if docutils else "docutils is not installed"
VARIANT = "docutils %s" % docutils.__version__ if docutils else None
# Line mode (bench/run_lines.py): the five docutils functions with the most
# own time in a function profile of this job.
LINE_TARGETS = ["docutils.statemachine:State.make_transitions",
                "docutils.statemachine:State.make_transition",
                "docutils.nodes:Node._fast_findall",
                "docutils.nodes:Node.walkabout",
                "docutils.writers._html_base:HTMLTranslator.starttag"]

SETTINGS = {"report_level": 5, "halt_level": 5, "warning_stream": False,
            "embed_stylesheet": False, "_disable_config": True}


def make_document(sections):
    parts = ["=================\nBenchmark document\n=================\n",
             ".. contents::\n"]
    for s in range(sections):
        title = "Section %d: *emphasis* and ``literal``" % s
        parts.append("%s\n%s\n" % (title, "=" * len(title)))
        for p in range(4):
            parts.append(
                "Paragraph %d of section %d with **strong text**, *emphasis*, "
                "``inline literals``, a link to `Python <https://www.python.org/>`_ "
                "and a reference to Section_%d_ to resolve. The quick brown fox "
                "jumps over the lazy dog %d times.\n" % (p, s, s, p * s))
        parts.append(".. _Section_%d:\n\nTarget paragraph.\n" % s)
        parts.append("".join("- bullet %d with ``code %d``\n" % (i, i) for i in range(6)))
        parts.append("\n" + "".join("%d. numbered %d\n" % (i + 1, i) for i in range(4)))
        parts.append("\n.. code-block:: text\n\n   def f(x):\n       return x + %d\n" % s)
        parts.append("\n.. note:: A note in section %d.\n" % s)
        parts.append("\n===== ===== =====\n  a     b     c\n===== ===== =====\n"
                     + "".join("  %d     %d     %d\n" % (i, i * i, i * s) for i in range(5))
                     + "===== ===== =====\n")
        parts.append("\nterm %d\n    Definition of the term.\n\n" % s)
    return "\n".join(parts)


def render(source):
    return docutils.core.publish_string(source, writer_name="html",
                                        settings_overrides=SETTINGS)


def prepare(size=None):
    """Import the reader, parser and writer once (not part of the timed run)."""
    if docutils is not None:
        render(make_document(1))


def main(size=DEFAULT_SIZE):
    if docutils is None:
        raise SystemExit(SKIP)
    return len(render(make_document(size)))


if __name__ == "__main__":
    if SKIP:
        print("skipped:", SKIP)
        sys.exit(0)
    print(VARIANT, main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SIZE))
