"""SQL analysis latency for the guard (SPEC §11: a decision in p99 ≤ 1 ms).

Times `sql_effects` on ~200 realistic agent statements (selects with joins, inserts,
updates and deletes with and without WHERE, DDL, transactions, psql/sqlite scripts),
each distinct so the first pass is a cold parse; the second pass hits the cache, which
is what a repeated or retried call costs.

Run: `.venv/bin/python bench/guard_sql.py [--statements 200]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from tripwire.guard._sql import _cached_effects, sql_effects

TEMPLATES = [
    "SELECT id, name, email FROM users WHERE id = {n}",
    "SELECT u.name, count(o.id) FROM users u JOIN orders o ON o.user_id = u.id "
    "WHERE o.created_at > '2024-01-{d:02d}' GROUP BY u.name ORDER BY 2 DESC LIMIT 10",
    "INSERT INTO events (kind, payload) VALUES ('login', '{{}}'), ('view', '{n}')",
    "UPDATE accounts SET balance = balance - {n} WHERE id = {n} AND balance >= {n}",
    "DELETE FROM sessions WHERE expires_at < now() - interval '{d} days'",
    "DELETE FROM audit_log_{n}",
    "UPDATE settings SET oversight_enabled = false WHERE 1 = 1 OR id = {n}",
    "BEGIN; INSERT INTO t{n} VALUES (1, 'a'); UPDATE t{n} SET b = 'c' WHERE a = 1; COMMIT;",
    "WITH recent AS (SELECT id FROM orders WHERE total > {n}) "
    "DELETE FROM orders WHERE id IN (SELECT id FROM recent)",
    "DROP TABLE IF EXISTS staging_{n}",
    "CREATE TABLE report_{n} (id INTEGER PRIMARY KEY, total REAL, note TEXT)",
    "ALTER TABLE users_{n} ADD COLUMN last_seen TIMESTAMP",
    "TRUNCATE TABLE metrics_{n}",
    "\\c app_{n}\nSELECT count(*) FROM users;\n\\dt",
    ".open data_{n}.db\n.tables\nSELECT * FROM items LIMIT {d};",
    "INSERT OR REPLACE INTO kv (k, v) VALUES ('key{n}', 'value')",
    "SELECT * FROM products WHERE price BETWEEN {d} AND {n} AND category IN ('a', 'b')",
    "PRAGMA table_info(users_{n})",
    "GRANT SELECT ON reports_{n} TO analyst",
    "-- cleanup\nDELETE FROM tmp_{n} WHERE created < {n}; /* done */",
]


def _statements(count: int) -> list[str]:
    rng = random.Random(7)
    return [
        TEMPLATES[i % len(TEMPLATES)].format(n=rng.randrange(10**6), d=rng.randrange(1, 28))
        for i in range(count)
    ]


def _percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p99 * 1e3


def main(count: int) -> None:
    statements = _statements(count)
    sql_effects("SELECT 1", database="warmup.db", via="")  # imports, dialect tables
    _cached_effects.cache_clear()
    for label in ("cold (parse)", "warm (cache)"):
        times = []
        for text in statements:
            start = time.perf_counter()
            sql_effects(text, database="app.db", via="sqlite3 app.db")
            times.append(time.perf_counter() - start)
        median, p99 = _percentiles(times)
        print(f"{label:14} n={len(times)}  median {median:.3f} ms  p99 {p99:.3f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=200)
    main(parser.parse_args().statements)
