"""Render an HTML page from a template many times: jinja2 when it is
installed, else a small template engine written here in Python.

    python template.py [n]
"""
import html
import re
import sys

DEFAULT_SIZE = 300
QUICK_SIZE = 120
CALL_HEAVY = False

try:
    import jinja2
except ImportError:
    jinja2 = None

VARIANT = "jinja2 %s" % jinja2.__version__ if jinja2 else "builtin engine"
# Line mode (bench/run_lines.py): the functions with the most own time in a
# function profile: the compiled template's render function and what it
# calls (jinja2), or the small engine's node renderers.
if jinja2:
    LINE_TARGETS = ["_template.root_render_func", "jinja2.environment:Environment.getattr",
                    "markupsafe:escape", "context"]
else:
    LINE_TARGETS = ["_lookup", "_Var.render", "_For.render", "_If.render", "context"]

PAGE = """<html><head><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1>
{% for section in sections %}<section id="s{{ section.id }}">
<h2>{{ section.name }}</h2>
{% if section.entries %}<ul>
{% for item in section.entries %}<li class="{{ item.kind }}">{{ item.label }}: {{ item.value }}{% if item.note %} <em>{{ item.note }}</em>{% endif %}</li>
{% endfor %}</ul>
{% else %}<p>empty</p>
{% endif %}</section>
{% endfor %}<footer>{{ footer }}</footer>
</body></html>
"""


# --- the fallback engine: {{ a.b }}, {% for x in a.b %}, {% if a.b %}/{% else %}

_TOKEN = re.compile(r"({{.*?}}|{%.*?%})", re.S)


def _lookup(ctx, dotted):
    parts = dotted.split(".")
    value = ctx[parts[0]]
    for p in parts[1:]:
        value = value[p] if isinstance(value, dict) else getattr(value, p)
    return value


class _Text:
    def __init__(self, text):
        self.text = text

    def render(self, ctx, out):
        out.append(self.text)


class _Var:
    def __init__(self, expr):
        self.expr = expr

    def render(self, ctx, out):
        out.append(html.escape(str(_lookup(ctx, self.expr))))


class _For:
    def __init__(self, name, expr, body):
        self.name, self.expr, self.body = name, expr, body

    def render(self, ctx, out):
        for value in _lookup(ctx, self.expr):
            inner = dict(ctx)
            inner[self.name] = value
            for node in self.body:
                node.render(inner, out)


class _If:
    def __init__(self, expr, body, orelse):
        self.expr, self.body, self.orelse = expr, body, orelse

    def render(self, ctx, out):
        for node in (self.body if _lookup(ctx, self.expr) else self.orelse):
            node.render(ctx, out)


class BuiltinTemplate:
    def __init__(self, source):
        self.nodes, rest = self._parse(_TOKEN.split(source), 0, ())
        assert rest == len(_TOKEN.split(source))

    def _parse(self, tokens, i, stop):
        nodes = []
        while i < len(tokens):
            tok = tokens[i]
            if tok.startswith("{{"):
                nodes.append(_Var(tok[2:-2].strip()))
            elif tok.startswith("{%"):
                words = tok[2:-2].split()
                if words[0] in stop:
                    return nodes, i
                if words[0] == "for":
                    body, i = self._parse(tokens, i + 1, ("endfor",))
                    nodes.append(_For(words[1], words[3], body))
                elif words[0] == "if":
                    body, i = self._parse(tokens, i + 1, ("else", "endif"))
                    orelse = []
                    if tokens[i][2:-2].split()[0] == "else":
                        orelse, i = self._parse(tokens, i + 1, ("endif",))
                    nodes.append(_If(words[1], body, orelse))
                else:
                    raise ValueError("unknown tag %r" % tok)
            elif tok:
                nodes.append(_Text(tok))
            i += 1
        return nodes, i

    def render(self, **ctx):
        out = []
        for node in self.nodes:
            node.render(ctx, out)
        return "".join(out)


# --- the workload

_template = None


def prepare(size=None):
    """Compile the template (not part of the timed run)."""
    global _template
    if _template is None:
        if jinja2 is not None:
            env = jinja2.Environment(autoescape=True)
            _template = env.from_string(PAGE)
        else:
            _template = BuiltinTemplate(PAGE)
    return _template


def context(n):
    sections = []
    for s in range(12):
        entries = [{"kind": "odd" if i % 2 else "even",
                  "label": "item <%d>" % i,
                  "value": (n * 7 + s * 13 + i) % 1000,
                  "note": "note & %d" % i if i % 4 == 0 else ""}
                 for i in range((s * 5 + n) % 20)]
        sections.append({"id": s, "name": "Section %d" % s, "entries": entries})
    return {"title": "Report #%d" % n, "sections": sections, "footer": "page %d" % n}


def main(size=DEFAULT_SIZE):
    template = prepare()
    total = 0
    for n in range(size):
        total += len(template.render(**context(n)))
    return total


if __name__ == "__main__":
    print(VARIANT, main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SIZE))
