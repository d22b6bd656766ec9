"""A small Flask shop driven by its test client: the reference workload of
a web application (routing, templates, JSON, sessions, error pages), with
no network and no files.  Needs Flask.

    pyrometer run -o flask.prof examples/flask_app.py     # then
    pyrometer convert flask.prof -o flask.html            # or -f collapsed
    python examples/flask_app.py --requests 1000          # a longer run
"""
import argparse
import random
import sys

try:
    from flask import Blueprint, Flask, abort, jsonify, redirect, render_template, request, session, url_for
except ImportError:
    sys.exit("flask_app.py needs Flask (python3 -m pip install flask)")
from jinja2 import DictLoader

TEMPLATES = {
    "base.html": """<!doctype html>
<title>{% block title %}Shop{% endblock %}</title>
<nav>{% for name, url in nav %}<a href="{{ url }}">{{ name }}</a> {% endfor %}
{% if session.user %}signed in as {{ session.user }}{% endif %}</nav>
<main>{% block body %}{% endblock %}</main>""",
    "index.html": """{% extends "base.html" %}
{% block body %}<h1>{{ products|length }} products</h1>
<ul>{% for p in products %}
  <li class="{{ loop.cycle('odd', 'even') }}"><a href="{{ url_for('shop.product', pid=p.id) }}">{{ p.name|title }}</a>
      {{ "%.2f"|format(p.price) }} &euro; {% if p.stock < 3 %}<em>only {{ p.stock }} left</em>{% endif %}</li>
{% endfor %}</ul>{% endblock %}""",
    "product.html": """{% extends "base.html" %}
{% block title %}{{ product.name }}{% endblock %}
{% block body %}<h1>{{ product.name }}</h1><p>{{ product.description|e }}</p>
<table>{% for review in product.reviews %}<tr><td>{{ review.stars * "*" }}</td><td>{{ review.text|truncate(40) }}</td></tr>
{% else %}<tr><td>no reviews yet</td></tr>{% endfor %}</table>{% endblock %}""",
    "cart.html": """{% extends "base.html" %}
{% block body %}<h1>Cart</h1>{% for line in lines %}<p>{{ line.qty }} &times; {{ line.name }} = {{ "%.2f"|format(line.total) }}</p>
{% endfor %}<p>Total {{ "%.2f"|format(total) }}</p>{% endblock %}""",
    "404.html": """{% extends "base.html" %}{% block body %}<h1>Not found</h1>{% endblock %}""",
}

WORDS = ("red blue green small large wooden metal quiet fast round square soft "
         "lamp chair table mug kettle clock shelf rug pillow basket").split()


def make_catalogue(count, rnd):
    products = {}
    for pid in range(1, count + 1):
        name = " ".join(rnd.choice(WORDS) for _ in range(3))
        reviews = [{"stars": rnd.randint(1, 5), "text": " ".join(rnd.choice(WORDS) for _ in range(12))}
                   for _ in range(rnd.randint(0, 6))]
        products[pid] = {"id": pid, "name": name, "price": rnd.uniform(2, 200),
                         "stock": rnd.randint(0, 20), "description": name * 4, "reviews": reviews}
    return products


def create_app(products):
    app = Flask(__name__)
    app.secret_key = "example only"
    app.jinja_loader = DictLoader(TEMPLATES)
    shop = Blueprint("shop", __name__)
    api = Blueprint("api", __name__, url_prefix="/api")

    @app.context_processor
    def navigation():
        return {"nav": [("Home", url_for("shop.index")), ("Cart", url_for("shop.cart"))]}

    @app.before_request
    def count_visits():
        session["visits"] = session.get("visits", 0) + 1

    @app.errorhandler(404)
    def not_found(_error):
        return render_template("404.html"), 404

    @shop.route("/")
    def index():
        return render_template("index.html", products=sorted(products.values(), key=lambda p: p["name"]))

    @shop.route("/product/<int:pid>")
    def product(pid):
        if pid not in products:
            abort(404)
        return render_template("product.html", product=products[pid])

    @shop.route("/login", methods=["POST"])
    def login():
        session["user"] = request.form["user"]
        return redirect(url_for("shop.index"))

    @shop.route("/cart/add/<int:pid>", methods=["POST"])
    def add_to_cart(pid):
        cart = session.setdefault("cart", {})
        cart[str(pid)] = cart.get(str(pid), 0) + int(request.form.get("qty", 1))
        session.modified = True
        return redirect(url_for("shop.cart"))

    @shop.route("/cart")
    def cart():
        lines = [{"name": products[int(pid)]["name"], "qty": qty,
                  "total": qty * products[int(pid)]["price"]}
                 for pid, qty in session.get("cart", {}).items()]
        return render_template("cart.html", lines=lines, total=sum(x["total"] for x in lines))

    @api.route("/products")
    def api_products():
        cheap = request.args.get("max", type=float)
        found = [p for p in products.values() if cheap is None or p["price"] <= cheap]
        return jsonify([{"id": p["id"], "name": p["name"], "price": round(p["price"], 2)} for p in found])

    @api.route("/products/<int:pid>", methods=["GET", "PATCH"])
    def api_product(pid):
        if pid not in products:
            return jsonify(error="no such product"), 404
        if request.method == "PATCH":
            products[pid].update({k: v for k, v in request.get_json().items() if k in ("price", "stock")})
        return jsonify(products[pid])

    app.register_blueprint(shop)
    app.register_blueprint(api)
    return app


def visit(client, count, rnd, ids):
    """`count` requests as a few shoppers would make them; checks answers."""
    client.post("/login", data={"user": "ada"})
    for _ in range(count):
        kind = rnd.random()
        pid = rnd.choice(ids)
        if kind < 0.25:
            r = client.get("/")
        elif kind < 0.5:
            r = client.get(f"/product/{pid}")
        elif kind < 0.6:
            r = client.post(f"/cart/add/{pid}", data={"qty": rnd.randint(1, 3)}, follow_redirects=True)
        elif kind < 0.8:
            r = client.get("/api/products", query_string={"max": rnd.uniform(10, 150)})
            assert isinstance(r.get_json(), list)
        elif kind < 0.9:
            r = client.patch(f"/api/products/{pid}", json={"stock": rnd.randint(0, 9)})
        elif kind < 0.95:
            r = client.get("/product/999999")
            assert r.status_code == 404
            continue
        else:
            r = client.get("/cart")
        assert r.status_code == 200, r.status_code


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--products", type=int, default=60)
    args = ap.parse_args(argv)
    rnd = random.Random(17)
    products = make_catalogue(args.products, rnd)
    app = create_app(products)
    with app.test_client() as client:
        visit(client, args.requests, rnd, list(products))
    print(f"{args.requests} requests served")


if __name__ == "__main__":
    main()
