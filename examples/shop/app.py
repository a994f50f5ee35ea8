"""A small shop: the example service ricecoder-otel's demo, tests and benchmarks run.

Run it under the distribution exactly as a user would:

    opentelemetry-instrument python examples/shop/app.py

Routes: a catalogue, a per-user cart, checkout (which writes orders to SQLite),
a slow report, a report with a slow database call, a page with a slow template, an endpoint that
fails, and a health check.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, abort, g, jsonify, render_template_string, request
from opentelemetry import trace

from ricecoder_otel import MetricsCollector, PerformanceTimer

log = logging.getLogger("shop")
app = Flask(__name__)
metrics = MetricsCollector()

PRODUCTS = [
    (1, "espresso beans", 14.5),
    (2, "pour-over kettle", 39.0),
    (3, "burr grinder", 129.0),
    (4, "paper filters", 6.25),
    (5, "travel mug", 22.0),
]
_db_lock = threading.Lock()


def _db_path() -> str:
    return os.environ.get("SHOP_DB") or str(Path(tempfile.gettempdir()) / f"shop-{os.getpid()}.sqlite3")


def init_db(path: str) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, total REAL)"
        )
        conn.execute("CREATE TABLE IF NOT EXISTS cart (user_id TEXT, product_id INTEGER, qty INTEGER)")
        conn.executemany("INSERT OR IGNORE INTO products VALUES (?, ?, ?)", PRODUCTS)


def db() -> sqlite3.Connection:
    if "db" not in g:
        g.db = sqlite3.connect(_db_path(), timeout=5)
    conn: sqlite3.Connection = g.db
    return conn


@app.teardown_appcontext
def close_db(_: BaseException | None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        conn.close()


@app.before_request
def tag_user() -> None:
    """Attach the caller's identity to the server span (semantic convention names)."""
    span = trace.get_current_span()
    user = request.headers.get("X-User-Id")
    if user:
        span.set_attribute("user.id", user)
    session = request.headers.get("X-Session-Id")
    if session:
        span.set_attribute("session.id", session)
    span.set_attribute("shop.worker_pid", os.getpid())


@app.get("/health")
def health() -> Any:
    return {"status": "ok"}


@app.get("/products")
def list_products() -> Any:
    rows = db().execute("SELECT id, name, price FROM products ORDER BY id").fetchall()
    return jsonify([{"id": r[0], "name": r[1], "price": r[2]} for r in rows])


@app.get("/products/<int:product_id>")
def get_product(product_id: int) -> Any:
    row = db().execute("SELECT id, name, price FROM products WHERE id = ?", (product_id,)).fetchone()
    if row is None:
        abort(404)
    return {"id": row[0], "name": row[1], "price": row[2]}


@app.post("/cart/<user_id>")
def add_to_cart(user_id: str) -> Any:
    body = request.get_json(silent=True) or {}
    product_id = int(body.get("product_id", 1))
    qty = max(1, int(body.get("qty", 1)))
    conn = db()
    with _db_lock, conn:
        conn.execute("INSERT INTO cart VALUES (?, ?, ?)", (user_id, product_id, qty))
        size = conn.execute("SELECT COALESCE(SUM(qty), 0) FROM cart WHERE user_id = ?", (user_id,)).fetchone()[0]
    metrics.record_metric("shop.cart.size", size, {"tier": "gold" if user_id.endswith("7") else "standard"})
    return {"user": user_id, "items": size}, 201


@app.post("/checkout/<user_id>")
def checkout(user_id: str) -> Any:
    conn = db()
    with PerformanceTimer("checkout.price"), _db_lock, conn:
        total = conn.execute(
            "SELECT COALESCE(SUM(p.price * c.qty), 0) FROM cart c JOIN products p ON p.id = c.product_id "
            "WHERE c.user_id = ?",
            (user_id,),
        ).fetchone()[0]
        if total == 0:
            log.warning("checkout with an empty cart for user %s", user_id)
            return {"error": "cart is empty"}, 409
        conn.execute("INSERT INTO orders (user_id, total) VALUES (?, ?)", (user_id, total))
        conn.execute("DELETE FROM cart WHERE user_id = ?", (user_id,))
    metrics.increment("shop.orders", 1, {"payment": "card"}, unit="{order}")
    metrics.observe("shop.order.value", total, unit="USD")
    log.info("order placed by %s for %.2f", user_id, total)
    return {"user": user_id, "total": round(total, 2)}


@app.get("/reports/sales")
def sales_report() -> Any:
    """Deliberately slow: the endpoint the demo's latency analysis should single out."""
    with PerformanceTimer("report.aggregate"):
        time.sleep(float(os.environ.get("SHOP_SLOW_SECONDS", "0.3")) * random.uniform(0.8, 1.2))
        row = db().execute("SELECT COUNT(*), COALESCE(SUM(total), 0) FROM orders").fetchone()
    return {"orders": row[0], "revenue": round(row[1], 2)}


@app.get("/reports/inventory")
def inventory_report() -> Any:
    """A slow database call: a recursive query of SHOP_SLOW_DB_ROWS rows (default 1000) runs inside SQLite."""
    rows = int(os.environ.get("SHOP_SLOW_DB_ROWS", "1000"))
    cursor = db().cursor()  # a cursor's execute is traced; the connection's execute shortcut is not
    cursor.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) SELECT COUNT(*) FROM n", (rows,)
    )
    return {"rows": cursor.fetchone()[0]}


CATALOGUE_PAGE = """<h1>Catalogue</h1>
<ul>{% for id, name, price in products %}
<li>{{ name }}: {{ "%.2f"|format(price) }} {{ slow_badge() }}</li>
{% endfor %}</ul>"""


def _slow_badge() -> str:
    """A template helper that takes SHOP_SLOW_TEMPLATE_SECONDS over the whole page (default 0.05)."""
    time.sleep(float(os.environ.get("SHOP_SLOW_TEMPLATE_SECONDS", "0.05")) / len(PRODUCTS))
    return "*"


@app.get("/catalogue")
def catalogue_page() -> Any:
    """A slow template: rendering (traced by the jinja2 instrumentation) is where the time goes."""
    return render_template_string(CATALOGUE_PAGE, products=PRODUCTS, slow_badge=_slow_badge)


@app.get("/payments/flaky")
def flaky_payment() -> Any:
    """Fails: the payment gateway times out. Feeds error tracking and the 5xx rate."""
    log.error("payment gateway timed out")
    raise TimeoutError("payment gateway did not answer within 2s")


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    init_db(_db_path())
    port = int(os.environ.get("SHOP_PORT", "8000"))
    app.run(host="127.0.0.1", port=port, threaded=True, use_reloader=False)


init_db(_db_path())

if __name__ == "__main__":
    main()
