# ruff: noqa: S608 - the engine writes SQLite from a parsed and checked SuiteQL tree, read-only under an authorizer
"""SuiteQL as NetSuite runs it: the Oracle dialect parsed by ``sqlglot``, checked and compiled to SQLite.

A query is tokenized and parsed with sqlglot's Oracle dialect, checked against what SuiteQL accepts
(its documented functions, ``BUILTIN.*``, Oracle syntax — no ``LIMIT``, ``==``, ``%`` or SQLite
functions), every table and column resolved against the account's catalog (the mirror's tables with
their custom fields, read at run time), and compiled, node by node, to SQLite that calls the
functions in ``oracle_fns``. Anything the compiler has no rule for is refused: nothing passes
through to SQLite unchecked.

Oracle semantics kept: dates compared as dates (a string compared with a date converts with the
account's date format), ``date ± n`` days and ``date - date``, ``ROWNUM`` numbered before
``ORDER BY``, ``NULLS LAST`` for ascending sorts, ``||`` treating NULL as empty, real division.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

from .oracle_fns import ACCOUNT_DATE_MODELS, parse_date

DATE, NUMBER, TEXT, ANY = "date", "number", "text", "any"

# The functions SuiteQL documents (SuiteQL Supported and Unsupported Functions) plus the aggregate,
# analytic and conversion functions of Oracle SQL that its examples use. Names outside this set are
# refused before parsing, whatever sqlglot would make of them.
SUITEQL_FUNCTIONS = frozenset(
    [
        "ABS",
        "ACOS",
        "ADD_MONTHS",
        "APPROX_COUNT_DISTINCT",
        "ASCII",
        "ASCIISTR",
        "ASIN",
        "ATAN",
        "ATAN2",
        "AVG",
        "BFILENAME",
        "BITAND",
        "CEIL",
        "CHARTOROWID",
        "CHR",
        "COALESCE",
        "COMPOSE",
        "CONCAT",
        "CORR",
        "CORR_K",
        "CORR_S",
        "COS",
        "COSH",
        "COUNT",
        "COVAR_POP",
        "COVAR_SAMP",
        "CURRENT_DATE",
        "CURRENT_TIMESTAMP",
        "DECODE",
        "DECOMPOSE",
        "DENSE_RANK",
        "EMPTY_BLOB",
        "EMPTY_CLOB",
        "EXP",
        "EXPR",
        "FLOOR",
        "FROM_TZ",
        "GREATEST",
        "INITCAP",
        "INSTR",
        "LAST_DAY",
        "LEAST",
        "LENGTH",
        "LENGTH2",
        "LENGTH4",
        "LENGTHB",
        "LENGTHC",
        "LN",
        "LOCALTIMESTAMP",
        "LOG",
        "LOWER",
        "LPAD",
        "LTRIM",
        "MAX",
        "MEDIAN",
        "MIN",
        "MOD",
        "MONTHS_BETWEEN",
        "NANVL",
        "NEW_TIME",
        "NEXT_DAY",
        "NLSSORT",
        "NLS_INITCAP",
        "NLS_LOWER",
        "NLS_UPPER",
        "NULLIF",
        "NVL",
        "NVL2",
        "ORA_HASH",
        "POWER",
        "RANK",
        "REGEXP_INSTR",
        "REGEXP_REPLACE",
        "REGEXP_SUBSTR",
        "REMAINDER",
        "REPLACE",
        "ROUND",
        "ROW_NUMBER",
        "RPAD",
        "RTRIM",
        "SIGN",
        "SIN",
        "SINH",
        "SOUNDEX",
        "SQRT",
        "SUBSTR",
        "SUM",
        "SYS_EXTRACT_UTC",
        "TAN",
        "TANH",
        "TO_BINARY_DOUBLE",
        "TO_BINARY_FLOAT",
        "TO_CHAR",
        "TO_CLOB",
        "TO_DATE",
        "TO_MULTI_BYTE",
        "TO_NCHAR",
        "TO_NCLOB",
        "TO_NUMBER",
        "TO_SINGLE_BYTE",
        "TO_TIMESTAMP",
        "TO_TIMESTAMP_TZ",
        "TRANSLATE",
        "TRUNC",
        "TZ_OFFSET",
        "UNISTR",
        "UPPER",
        "VSIZE",
        "WIDTH_BUCKET",
        "CAST",
        "EXTRACT",
        "LISTAGG",
        "LAG",
        "LEAD",
        "FIRST_VALUE",
        "LAST_VALUE",
        "NTILE",
        "STDDEV",
        "VARIANCE",
        "REGEXP_LIKE",
        "TRIM",
    ]
)
# BUILTIN functions (SuiteQL Supported Built-in Functions); the sandbox implements DF and CONSOLIDATE.
BUILTINS = frozenset(
    {
        "DF",
        "CONSOLIDATE",
        "CURRENCY",
        "CURRENCY_CONVERT",
        "CF",
        "HIERARCHY",
        "MNFILTER",
        "NAMED_GROUP",
        "PERIOD",
        "RELATIVE_RANGES",
    }
)
# Words that may stand before "(" without being a function call.
_PAREN_KEYWORDS = frozenset(
    [
        "IN",
        "EXISTS",
        "OVER",
        "AS",
        "FROM",
        "JOIN",
        "ON",
        "AND",
        "OR",
        "NOT",
        "WHERE",
        "SELECT",
        "WITHIN",
        "ALL",
        "ANY",
        "SOME",
        "WHEN",
        "THEN",
        "ELSE",
        "CASE",
        "UNION",
        "MINUS",
        "INTERSECT",
        "EXCEPT",
        "DISTINCT",
        "HAVING",
        "BY",
        "IS",
        "BETWEEN",
        "LIKE",
        "USING",
        "GROUP",
    ]
)
# Oracle type names that take a length/precision, allowed in CAST(x AS VARCHAR2(10)).
_TYPE_NAMES = frozenset(
    {"VARCHAR2", "VARCHAR", "NVARCHAR2", "CHAR", "NCHAR", "NUMBER", "DECIMAL", "FLOAT", "TIMESTAMP"}
)
_DATE_NAMES = frozenset({"created", "lastmodified", "lastquantityavailablechange", "linelastmodifieddate"})
_DATE_FIELD_TYPES = frozenset({"DATE", "DATETIME", "DATETIMETZ"})
_NUMBER_FIELD_TYPES = frozenset({"INTEGER", "FLOAT", "CURRENCY", "PERCENT", "POSCURRENCY"})
ROWNUM_BOUND = 100_001
ROWNUM_PLACES = (
    "Invalid or unsupported search. The sandbox supports ROWNUM in the select list and in WHERE conditions "
    "against a number."
)
ORDER_BY_POSITION = "Invalid or unsupported search. ORDER BY item must be the number of a SELECT-list expression."


class Refused(Exception):
    """A query NetSuite refuses; the message is the detail after "Search error occurred: "."""


# -- catalog ---------------------------------------------------------------------------------------
@dataclass
class Catalog:
    """Known tables → {column: type}. ``table_of`` maps a column to the record its DF looks up."""

    tables: dict[str, dict[str, str]]

    @staticmethod
    def column_type(name: str, declared: str, custom_type: str | None) -> str:
        if custom_type is not None:
            up = custom_type.upper()
            return DATE if up in _DATE_FIELD_TYPES else NUMBER if up in _NUMBER_FIELD_TYPES else TEXT
        if declared.upper() in ("REAL", "INTEGER"):
            return NUMBER
        if name.endswith("date") or name.startswith("date") or name in _DATE_NAMES:
            return DATE
        return TEXT


# -- scopes ----------------------------------------------------------------------------------------
@dataclass
class Source:
    name: str  # the name queries qualify with (alias, or the table name)
    sql: str  # the SQLite FROM item
    columns: dict[str, str]
    table: str | None  # base table (for BUILTIN.DF and errors)
    ref_table: str | None = None  # set when the rows come through a ROWNUM-limited derived table

    def col_sql(self, col: str) -> str:
        if self.ref_table is not None:
            return f"{_q(self.ref_table)}.{_q(self.name + '__' + col)}"
        return f"{_q(self.name)}.{_q(col)}"


@dataclass
class Scope:
    sources: list[Source]
    parent: Scope | None
    outputs: list[tuple[str, str]] = field(default_factory=list)
    order_context: bool = False
    rownum_ok: bool = False  # compiling the select list of an ungrouped query

    def find(self, qualifier: str) -> Source | None:
        scope: Scope | None = self
        while scope is not None:
            for s in scope.sources:
                if s.name == qualifier:
                    return s
            scope = scope.parent
        return None


@dataclass
class Compiled:
    sql: str
    columns: list[str]


def _ident(node: exp.Expr | str | None) -> str:
    """An identifier as the catalog spells it: unquoted ones fold to lower case; quoted ones match
    only when written in upper case (Oracle's stored names), as Oracle resolves them."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.lower()
    if isinstance(node, exp.Identifier):
        text = str(node.this)
        if node.quoted:
            return text.lower() if text == text.upper() else text
        return text.lower()
    return str(node.name).lower()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- the compiler ----------------------------------------------------------------------------------
class Compiler:
    def __init__(self, catalog: Catalog, date_format: str, param_count: int) -> None:
        self.catalog = catalog
        self.date_model = ACCOUNT_DATE_MODELS.get(date_format, "MM/DD/YYYY")
        self.param_count = param_count
        self.ctes: dict[str, list[tuple[str, str]]] = {}
        self.n = 0

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"__ns_{prefix}{self.n}"

    # -- entry -------------------------------------------------------------------------------------
    def compile(self, query: str) -> Compiled:
        text = query.strip().rstrip(";").strip()
        if not text:
            raise Refused("Invalid or unsupported search.")
        self.check_tokens(text)
        try:
            trees = sqlglot.parse(text, read="oracle")
        except (ParseError, TokenError):
            raise Refused("Invalid or unsupported search.") from None
        if len(trees) != 1 or trees[0] is None:
            raise Refused("Invalid or unsupported search.")
        tree = trees[0]
        if not isinstance(tree, exp.Select | exp.Union | exp.Except | exp.Intersect | exp.Subquery):
            raise Refused("Invalid or unsupported search.")
        if any(c.args.get("join_mark") for c in tree.find_all(exp.Column)):
            if any(j.args.get("on") or j.args.get("using") or j.side or j.kind for j in tree.find_all(exp.Join)):
                raise Refused("Invalid or unsupported search. ANSI and non-ANSI joins cannot be mixed in a query.")
            for sel in list(tree.find_all(exp.Select)):
                _outer_joins(sel)
            if any(c.args.get("join_mark") for c in tree.find_all(exp.Column)):
                raise Refused("Invalid or unsupported search. ORA-01719: (+) is only allowed in WHERE conditions.")
        sql, outputs = self.query(tree, None)
        return Compiled(sql, [name for name, _ in outputs])

    def check_tokens(self, text: str) -> None:
        try:
            tokens = sqlglot.Dialect.get_or_raise("oracle").tokenize(text)
        except (TokenError, ValueError):
            raise Refused("Invalid or unsupported search.") from None
        params = 0
        for i, tok in enumerate(tokens):
            tt, word = tok.token_type, tok.text
            if tt == TokenType.PLACEHOLDER:
                params += 1
            if tt == TokenType.EQ and word == "==":
                raise Refused("Invalid or unsupported search. Unsupported operator '=='.")
            if tt in (TokenType.LIMIT,) or (word.upper() == "LIMIT" and tt != TokenType.STRING):
                raise Refused("Invalid or unsupported search. LIMIT is not supported; use FETCH FIRST n ROWS ONLY.")
            if tt == TokenType.MOD and word == "%":
                raise Refused("Invalid or unsupported search. Unsupported operator '%'; use MOD().")
            if tt == TokenType.SEMICOLON:
                raise Refused("Invalid or unsupported search.")
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is None or nxt.token_type != TokenType.L_PAREN or tt in (TokenType.STRING, TokenType.NUMBER):
                continue
            if tt in (TokenType.R_PAREN, TokenType.COMMA, TokenType.L_PAREN) or not (
                word[:1].isalpha() or word[:1] == "_"
            ):
                continue
            name = word.upper()
            prev = tokens[i - 1] if i > 0 else None
            if prev is not None and prev.token_type == TokenType.DOT:
                owner = tokens[i - 2].text.upper() if i > 1 else ""
                if owner != "BUILTIN" or name not in BUILTINS:
                    raise Refused(f"Invalid or unsupported search. Unknown function '{tokens[i - 2].text}.{word}'.")
                continue
            if tt == TokenType.IDENTIFIER:
                raise Refused(f"Invalid or unsupported search. Unknown function '{word}'.")
            if name in SUITEQL_FUNCTIONS or name in _PAREN_KEYWORDS:
                continue
            if name in _TYPE_NAMES and prev is not None and prev.text.upper() == "AS":
                continue
            raise Refused(f"Invalid or unsupported search. Unknown function '{word}'.")

    # -- queries -----------------------------------------------------------------------------------
    def query(self, node: exp.Expr, parent: Scope | None) -> tuple[str, list[tuple[str, str]]]:
        if isinstance(node, exp.Subquery):
            return self.query(node.this, parent)
        if isinstance(node, exp.Union | exp.Except | exp.Intersect):
            return self.setop(node, parent)
        if isinstance(node, exp.Select):
            return self.select(node, parent)
        raise Refused("Invalid or unsupported search.")

    def setop(
        self, node: exp.Union | exp.Except | exp.Intersect, parent: Scope | None
    ) -> tuple[str, list[tuple[str, str]]]:
        left, outputs = self.query(node.this, parent)
        right, right_out = self.query(node.expression, parent)
        if len(outputs) != len(right_out):
            raise Refused("Invalid or unsupported search. Query block has incorrect number of result columns.")
        if isinstance(node, exp.Union):
            op = "UNION" if node.args.get("distinct") else "UNION ALL"
        elif isinstance(node, exp.Except):
            if not node.args.get("distinct", True):
                raise Refused("Invalid or unsupported search.")
            op = "EXCEPT"
        else:
            op = "INTERSECT"
        sql = f"SELECT * FROM ({left}) {op} SELECT * FROM ({right})"
        order = node.args.get("order")
        if order or node.args.get("limit") or node.args.get("offset"):
            inner = self.fresh("u")
            scope = Scope([Source(inner, f"({sql}) AS {_q(inner)}", dict(outputs), None)], parent, outputs, True)
            keys = self.order_keys(order, scope) if order else ""
            sql = f"SELECT * FROM ({sql}) AS {_q(inner)}{keys}{self.fetch(node)}"
        return sql, outputs

    def sources(self, sel: exp.Select) -> tuple[list[Source], list[tuple[exp.Expr, exp.Join | None]]]:
        items: list[tuple[exp.Expr, exp.Join | None]] = []
        frm = sel.args.get("from_") or sel.args.get("from")
        if frm is None:
            raise Refused("Invalid or unsupported search. FROM keyword not found where expected.")
        items.append((frm.this, None))
        for j in sel.args.get("joins") or []:
            items.append((j.this, j))
        out: list[Source] = []
        for item, _ in items:
            out.append(self.source(item))
        names = [s.name for s in out]
        if len(set(names)) != len(names):
            raise Refused("Invalid or unsupported search. A table alias is used more than once.")
        return out, items

    def source(self, item: exp.Expr) -> Source:
        alias_node = item.args.get("alias")
        alias = _ident(alias_node.this) if isinstance(alias_node, exp.TableAlias) and alias_node.this else ""
        if isinstance(alias_node, exp.TableAlias) and alias_node.columns:
            raise Refused("Invalid or unsupported search.")
        if isinstance(item, exp.Table):
            if item.args.get("db") or item.args.get("catalog") or not isinstance(item.this, exp.Identifier):
                raise Refused("Invalid or unsupported search.")
            name = _ident(item.this)
            if name in self.ctes:
                return Source(
                    alias or name, _q(name) + (f" AS {_q(alias)}" if alias else ""), dict(self.ctes[name]), None
                )
            if name == "dual":
                sql_name = alias or "dual"
                return Source(sql_name, f"(SELECT 'X' AS dummy) AS {_q(sql_name)}", {"dummy": TEXT}, None)
            cols = self.catalog.tables.get(name)
            if cols is None:
                raise Refused(f"Record '{item.this.name}' was not found.")
            return Source(alias or name, _q(name) + (f" AS {_q(alias)}" if alias else ""), cols, name)
        if isinstance(item, exp.Subquery):
            sql, outputs = self.query(item.this, None)
            name = alias or self.fresh("d")
            return Source(name, f"({sql}) AS {_q(name)}", dict(outputs), None)
        raise Refused("Invalid or unsupported search.")

    def select(self, sel: exp.Select, parent: Scope | None) -> tuple[str, list[tuple[str, str]]]:
        saved = dict(self.ctes)
        try:
            return self._select(sel, parent)
        finally:
            self.ctes = saved

    def _select(self, sel: exp.Select, parent: Scope | None) -> tuple[str, list[tuple[str, str]]]:
        with_ = sel.args.get("with_") or sel.args.get("with")
        ctes_sql = ""
        if with_ is not None:
            if with_.args.get("recursive"):
                raise Refused("Invalid or unsupported search.")
            parts = []
            for cte in with_.expressions:
                name = _ident(cte.alias_or_name)
                body, outs = self.query(cte.this, None)
                self.ctes[name] = outs
                parts.append(f"{_q(name)} AS ({body})")
            ctes_sql = "WITH " + ", ".join(parts) + " "
        for key in ("into", "lock", "locks", "sample", "qualify", "connect", "prewhere", "kind", "settings", "format"):
            if sel.args.get(key):
                raise Refused("Invalid or unsupported search.")
        if isinstance(sel.args.get("limit"), exp.Limit):
            raise Refused("Invalid or unsupported search. LIMIT is not supported; use FETCH FIRST n ROWS ONLY.")
        sources, items = self.sources(sel)
        scope = Scope(sources, parent)
        from_sql = sources[0].sql
        for src, (_, join) in zip(sources[1:], items[1:], strict=True):
            from_sql += self.join(src, join, scope)
        # ROWNUM: conditions on it become a row limit applied before ORDER BY, as Oracle numbers rows
        where = sel.args.get("where")
        conds: list[exp.Expr] = (
            list(where.this.flatten())
            if where is not None and isinstance(where.this, exp.And)
            else ([where.this] if where is not None else [])
        )
        limit_rows: int | None = None
        kept: list[str] = []
        for cond in conds:
            if _mentions_rownum(cond):
                m = self.rownum_limit(cond)
                if m is not None:
                    limit_rows = m if limit_rows is None else min(limit_rows, m)
            else:
                kept.append(self.boolean(cond, scope))
        for key in ("group", "having", "order"):
            node = sel.args.get(key)
            if node is not None and _mentions_rownum(node):
                raise Refused(ROWNUM_PLACES)
        grouped = bool(sel.args.get("group")) or any(
            isinstance(e, exp.AggFunc) and not _in_window(e) for p in sel.expressions for e in p.find_all(exp.AggFunc)
        )
        distinct = sel.args.get("distinct")
        windowed = any(not _inside_subquery(w, p) for p in sel.expressions for w in p.find_all(exp.Window))
        if limit_rows and (grouped or distinct is not None or windowed):
            # Oracle numbers rows before grouping, DISTINCT and analytic functions: take the first rows
            # of FROM/WHERE as a derived table carrying every source's columns, then work on those
            alias = self.fresh("r")
            picks = [f"{src.col_sql(c)} AS {_q(src.name + '__' + c)}" for src in sources for c in src.columns]
            where_part = " WHERE " + " AND ".join(f"({c})" for c in kept) if kept else ""
            inner = f"SELECT {', '.join(picks)} FROM {from_sql}{where_part} LIMIT {limit_rows}"
            from_sql = f"(WITH {_q(alias)} AS MATERIALIZED ({inner}) SELECT * FROM {_q(alias)}) AS {_q(alias)}"
            for src in sources:
                src.ref_table = alias
            kept, limit_rows = [], None
        # select list
        outputs: list[tuple[str, str]] = []
        cols_sql: list[str] = []
        k = 0
        for proj in sel.expressions:
            if isinstance(proj, exp.Star) or (isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star)):
                wanted = sources
                if isinstance(proj, exp.Column):
                    found = scope.find(_ident(proj.args.get("table")))
                    if found is None or found not in sources:
                        raise Refused(f"Unknown identifier '{proj.sql('oracle')}'.")
                    wanted = [found]
                for src in wanted:
                    for col, typ in src.columns.items():
                        cols_sql.append(f"{src.col_sql(col)} AS {_q(col)}")
                        outputs.append((col, typ))
                continue
            expr_node, name = (proj.this, _ident(proj.args["alias"])) if isinstance(proj, exp.Alias) else (proj, "")
            if grouped and _mentions_rownum(expr_node):
                raise Refused("Invalid or unsupported search. The sandbox does not number grouped rows with ROWNUM.")
            scope.rownum_ok = True
            sql, typ = self.expr(expr_node, scope)
            scope.rownum_ok = False
            if not name:
                if isinstance(expr_node, exp.Column):
                    name = _ident(expr_node.this)
                else:
                    k += 1
                    name = f"expr{k}"
            cols_sql.append(f"{sql} AS {_q(name)}")
            outputs.append((name, typ))
        scope.outputs = outputs
        if distinct is not None and distinct.args.get("on"):
            raise Refused("Invalid or unsupported search.")
        head = "SELECT " + ("DISTINCT " if distinct is not None else "")
        where_sql = " WHERE " + " AND ".join(f"({c})" for c in kept) if kept else ""
        if limit_rows == 0:
            where_sql = (where_sql + " AND " if where_sql else " WHERE ") + "0 = 1"
            limit_rows = None
        group_sql = ""
        if sel.args.get("group"):
            g = sel.args["group"]
            if g.args.get("rollup") or g.args.get("cube") or g.args.get("grouping_sets"):
                raise Refused(
                    "Invalid or unsupported search. The sandbox does not implement ROLLUP, CUBE or GROUPING SETS."
                )
            group_sql = " GROUP BY " + ", ".join(self.expr(e, scope)[0] for e in g.expressions)
        having_sql = ""
        if sel.args.get("having"):
            having_sql = " HAVING " + self.boolean(sel.args["having"].this, scope)
        order = sel.args.get("order")
        if limit_rows is not None and order is not None:
            # number (limit) the rows first, then sort what is left, as Oracle does
            inner_cols = [f"{c.rsplit(' AS ', 1)[0]} AS {_q(f'__ns_c{i}')}" for i, c in enumerate(cols_sql)]
            keys: list[str] = []
            out_names = [n for n, _ in outputs]
            assert order is not None
            for j, ordered in enumerate(order.expressions):
                target = ordered.this
                if isinstance(target, exp.Literal) and not target.is_string:
                    pos = int(target.name)
                    if not 1 <= pos <= len(outputs):
                        raise Refused(ORDER_BY_POSITION)
                    ref = _q(f"__ns_c{pos - 1}")
                elif (
                    isinstance(target, exp.Column) and not target.args.get("table") and _ident(target.this) in out_names
                ):
                    ref = _q(f"__ns_c{out_names.index(_ident(target.this))}")
                else:
                    inner_cols.append(f"{self.expr(target, scope)[0]} AS {_q(f'__ns_o{j}')}")
                    ref = _q(f"__ns_o{j}")
                keys.append(ref + self.direction(ordered))
            inner = f"SELECT {', '.join(inner_cols)} FROM {from_sql}{where_sql} LIMIT {limit_rows}"
            alias = self.fresh("r")
            outer_cols = ", ".join(f"{_q(alias)}.{_q(f'__ns_c{i}')} AS {_q(n)}" for i, (n, _) in enumerate(outputs))
            # materialized, so SQLite cannot pick the first rows in the order the outer sort wants
            numbered = f"(WITH {_q(alias)} AS MATERIALIZED ({inner}) SELECT * FROM {_q(alias)}) AS {_q(alias)}"
            sql = f"{ctes_sql}SELECT {outer_cols} FROM {numbered} ORDER BY {', '.join(keys)}{self.fetch(sel)}"
            return sql, outputs
        sql = f"{ctes_sql}{head}{', '.join(cols_sql)} FROM {from_sql}{where_sql}{group_sql}{having_sql}"
        if order is not None:
            scope.order_context = True
            sql += self.order_keys(order, scope)
            scope.order_context = False
        if limit_rows is not None:
            fetch_n, offset_n = self.fetch_numbers(sel)
            rows = max(limit_rows - offset_n, 0)
            sql += f" LIMIT {rows if fetch_n is None else min(rows, fetch_n)} OFFSET {offset_n}"
        else:
            sql += self.fetch(sel)
        return sql, outputs

    def join(self, src: Source, join: exp.Join | None, scope: Scope) -> str:
        assert join is not None
        if join.args.get("using") or join.method:
            raise Refused("Invalid or unsupported search. The sandbox does not implement NATURAL or USING joins.")
        side, kind = (join.side or "").upper(), (join.kind or "").upper()
        if kind in ("LEFT", "RIGHT", "FULL"):  # how the (+) rewrite spells an outer join
            side, kind = kind, "OUTER"
        on = join.args.get("on")
        if kind == "CROSS" or (not on and not side and not kind):
            if on:
                raise Refused("Invalid or unsupported search.")
            return f" CROSS JOIN {src.sql}" if kind == "CROSS" else f", {src.sql}"
        if on is None:
            raise Refused("Invalid or unsupported search. Missing ON in a join.")
        word = {"LEFT": "LEFT JOIN", "RIGHT": "RIGHT JOIN", "FULL": "FULL JOIN"}.get(side, "JOIN")
        return f" {word} {src.sql} ON {self.boolean(on, scope)}"

    def rownum_limit(self, cond: exp.Expr) -> int | None:
        """Rows Oracle returns under a ROWNUM condition: rows are numbered as they pass, so the result is
        the first m rows where m + 1 is the first number failing the condition (None: no limit)."""
        test = self.rownum_predicate(cond)
        k = 1
        while k <= ROWNUM_BOUND:
            if not test(k):
                return k - 1
            k += 1
        return None

    def rownum_predicate(self, cond: exp.Expr) -> Callable[[int], bool]:
        def num(node: exp.Expr) -> float:
            if isinstance(node, exp.Paren):
                return num(node.this)
            if isinstance(node, exp.Neg):
                return -num(node.this)
            if isinstance(node, exp.Literal) and not node.is_string:
                return float(node.name)
            raise Refused("Invalid or unsupported search. The sandbox supports ROWNUM compared with a number only.")

        if isinstance(cond, exp.Paren):
            return self.rownum_predicate(cond.this)
        if isinstance(cond, exp.Between) and _is_rownum(cond.this):
            lo, hi = num(cond.args["low"]), num(cond.args["high"])
            return lambda k: lo <= k <= hi
        ops: dict[type, Callable[[float, float], bool]] = {
            exp.LTE: lambda a, b: a <= b,
            exp.LT: lambda a, b: a < b,
            exp.GTE: lambda a, b: a >= b,
            exp.GT: lambda a, b: a > b,
            exp.EQ: lambda a, b: a == b,
            exp.NEQ: lambda a, b: a != b,
        }
        for cls, fn in ops.items():
            if isinstance(cond, cls):
                if _is_rownum(cond.this):
                    n = num(cond.expression)
                    return _bind(fn, n, flip_args=False)
                if _is_rownum(cond.expression):
                    n = num(cond.this)
                    return _bind(fn, n, flip_args=True)
        raise Refused("Invalid or unsupported search. The sandbox supports ROWNUM compared with a number only.")

    def fetch_numbers(self, node: exp.Expr) -> tuple[int | None, int]:
        fetch = node.args.get("limit")
        offset = node.args.get("offset")
        n: int | None = None
        if isinstance(fetch, exp.Limit):
            raise Refused("Invalid or unsupported search. LIMIT is not supported; use FETCH FIRST n ROWS ONLY.")
        if isinstance(fetch, exp.Fetch):
            opts = fetch.args.get("limit_options")
            if opts is not None and (opts.args.get("percent") or opts.args.get("with_ties")):
                raise Refused(
                    "Invalid or unsupported search. The sandbox does not implement FETCH … PERCENT or WITH TIES."
                )
            count = fetch.args.get("count")
            n = 1 if count is None else _int_literal(count)
        off = 0
        if offset is not None:
            off = _int_literal(offset.expression)
        return n, off

    def fetch(self, node: exp.Expr) -> str:
        n, off = self.fetch_numbers(node)
        if n is None and not off:
            return ""
        return f" LIMIT {-1 if n is None else n} OFFSET {off}"

    def direction(self, ordered: exp.Ordered) -> str:
        desc = bool(ordered.args.get("desc"))
        nulls_first = bool(ordered.args.get("nulls_first"))
        return (" DESC" if desc else " ASC") + (" NULLS FIRST" if nulls_first else " NULLS LAST")

    def order_keys(self, order: exp.Order, scope: Scope) -> str:
        keys = []
        out_names = [n for n, _ in scope.outputs]
        for ordered in order.expressions:
            target = ordered.this
            if isinstance(target, exp.Literal) and not target.is_string:
                pos = _int_literal(target)
                if not 1 <= pos <= len(out_names):
                    raise Refused(
                        "Invalid or unsupported search. ORDER BY item must be the number of a SELECT-list expression."
                    )
                keys.append(str(pos) + self.direction(ordered))
                continue
            if isinstance(target, exp.Column) and not target.args.get("table") and _ident(target.this) in out_names:
                keys.append(_q(_ident(target.this)) + self.direction(ordered))
                continue
            keys.append(self.expr(target, scope)[0] + self.direction(ordered))
        return " ORDER BY " + ", ".join(keys)

    # -- expressions -------------------------------------------------------------------------------
    def boolean(self, node: exp.Expr, scope: Scope) -> str:
        return self.expr(node, scope)[0]

    def column(self, node: exp.Column, scope: Scope) -> tuple[str, str, Source | None, str]:
        if isinstance(node.this, exp.Star):
            raise Refused("Invalid or unsupported search.")
        name = _ident(node.this)
        qualifier = node.args.get("table")
        if node.args.get("db") or node.args.get("catalog"):
            raise Refused(f"Unknown identifier '{node.sql('oracle')}'.")
        if qualifier is not None:
            q = _ident(qualifier)
            src = scope.find(q)
            if src is None:
                raise Refused(f"Unknown identifier '{node.sql('oracle')}'.")
            if name not in src.columns:
                if src.table is not None:
                    raise Refused(
                        f"Field '{node.this.name}' for record '{src.table}' was not found. Reason: UNKNOWN_FIELD"
                    )
                raise Refused(f"Unknown identifier '{node.sql('oracle')}'.")
            return src.col_sql(name), src.columns[name], src, name
        s: Scope | None = scope
        while s is not None:
            hits = [src for src in s.sources if name in src.columns]
            if len(hits) > 1:
                raise Refused(f"Invalid or unsupported search. Column '{node.this.name}' is ambiguously defined.")
            if hits:
                src = hits[0]
                return src.col_sql(name), src.columns[name], src, name
            s = s.parent
        if scope.order_context:
            for out, typ in scope.outputs:
                if out == name:
                    return _q(name), typ, None, name
        raise Refused(f"Unknown identifier '{node.this.name}'.")

    def expr(self, node: exp.Expr, scope: Scope) -> tuple[str, str]:
        e = self.expr
        if isinstance(node, exp.Column):
            if _is_rownum(node) and scope.rownum_ok:
                return "ROW_NUMBER() OVER ()", NUMBER
            if _is_rownum(node):
                raise Refused(ROWNUM_PLACES)
            sql, typ, _, _ = self.column(node, scope)
            return sql, typ
        if isinstance(node, exp.Literal):
            if node.is_string:
                # Oracle: the empty string is NULL ('' = '' is never true, '' IS NULL is)
                return (_lit(node.this) if node.this != "" else "NULL"), TEXT
            return str(node.this), NUMBER
        if isinstance(node, exp.Null):
            return "NULL", ANY
        if isinstance(node, exp.Boolean):
            raise Refused("Invalid or unsupported search.")
        if isinstance(node, exp.Placeholder):
            if node.this:
                raise Refused("Invalid or unsupported search. Named binds are not supported; use ?.")
            return "?", ANY
        if isinstance(node, exp.Paren):
            inner, typ = e(node.this, scope)
            return f"({inner})", typ
        if isinstance(node, exp.Neg):
            inner, typ = e(node.this, scope)
            return f"(-{inner})", typ
        if isinstance(node, exp.Not):
            return f"(NOT {e(node.this, scope)[0]})", NUMBER
        if isinstance(node, exp.And | exp.Or):
            word = "AND" if isinstance(node, exp.And) else "OR"
            return f"({e(node.this, scope)[0]} {word} {e(node.expression, scope)[0]})", NUMBER
        if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
            op = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}[type(node)]
            a, b = self.coerce_pair(node.this, node.expression, scope)
            return f"({a} {op} {b})", NUMBER
        if isinstance(node, exp.Is):
            target = node.expression
            if not isinstance(target, exp.Null):
                raise Refused("Invalid or unsupported search.")
            return f"({e(node.this, scope)[0]} IS NULL)", NUMBER
        if isinstance(node, exp.Between):
            left, ltyp = e(node.this, scope)
            lo = self.coerce_to(node.args["low"], ltyp, scope)
            hi = self.coerce_to(node.args["high"], ltyp, scope)
            return f"({left} BETWEEN {lo} AND {hi})", NUMBER
        if isinstance(node, exp.In):
            left, ltyp = e(node.this, scope)
            if node.args.get("query") is not None:
                sub, outs = self.query(node.args["query"], scope)
                if len(outs) != 1:
                    raise Refused("Invalid or unsupported search. Too many values.")
                return f"({left} IN ({sub}))", NUMBER
            if node.args.get("unnest") or node.args.get("field"):
                raise Refused("Invalid or unsupported search.")
            items = [self.coerce_to(x, ltyp, scope) for x in node.expressions]
            if len(items) > 1000:
                raise Refused(
                    "Invalid or unsupported search. ORA-01795: maximum number of expressions in a list is 1000."
                )
            return f"({left} IN ({', '.join(items)}))", NUMBER
        if isinstance(node, exp.Exists):
            sub, _ = self.query(node.this, scope)
            return f"(EXISTS ({sub}))", NUMBER
        if isinstance(node, exp.Subquery):
            sub, outs = self.query(node.this, scope)
            if len(outs) != 1:
                raise Refused("Invalid or unsupported search. Too many values.")
            return f"({sub})", outs[0][1]
        if isinstance(node, exp.Escape):
            like = node.this
            if not isinstance(like, exp.Like):
                raise Refused("Invalid or unsupported search.")
            return self.like(like, scope, e(node.expression, scope)[0])
        if isinstance(node, exp.Like):
            return self.like(node, scope, None)
        if isinstance(node, exp.ILike | exp.Glob | exp.SimilarTo | exp.RegexpLike):
            if isinstance(node, exp.RegexpLike):
                args = [e(node.this, scope)[0], e(node.expression, scope)[0]]
                if node.args.get("flag") is not None:
                    args.append(e(node.args["flag"], scope)[0])
                return f"(ns_regexp_like({', '.join(args)}) = 1)", NUMBER
            raise Refused("Invalid or unsupported search.")
        if isinstance(node, exp.Add | exp.Sub):
            return self.arith(node, scope)
        if isinstance(node, exp.Mul):
            return f"({self.number(node.this, scope)} * {self.number(node.expression, scope)})", NUMBER
        if isinstance(node, exp.Mod):
            return f"ns_mod({self.number(node.this, scope)}, {self.number(node.expression, scope)})", NUMBER
        if isinstance(node, exp.Div):
            return f"ns_div({self.number(node.this, scope)}, {self.number(node.expression, scope)})", NUMBER
        if isinstance(node, exp.DPipe):
            return f"ns_concat({e(node.this, scope)[0]}, {e(node.expression, scope)[0]})", TEXT
        if isinstance(node, exp.Case):
            return self.case(node, scope)
        if isinstance(node, exp.Cast):
            return self.cast(node, scope)
        if isinstance(node, exp.Dot):
            return self.builtin(node, scope)
        if isinstance(node, exp.Window):
            return self.window(node, scope)
        if isinstance(node, exp.Func):
            return self.function(node, scope)
        if isinstance(node, exp.Interval):
            raise Refused(
                "Invalid or unsupported search. The sandbox does not implement INTERVAL literals; add days as numbers."
            )
        raise Refused("Invalid or unsupported search.")

    def like(self, node: exp.Like, scope: Scope, escape: str | None) -> tuple[str, str]:
        if node.args.get("negate"):
            pass
        left = self.expr(node.this, scope)[0]
        pattern = self.expr(node.expression, scope)[0]
        neg = "NOT " if node.args.get("negate") else ""
        esc = f" ESCAPE {escape}" if escape else ""
        return f"({left} {neg}LIKE {pattern}{esc})", NUMBER

    def number(self, node: exp.Expr, scope: Scope) -> str:
        sql, typ = self.expr(node, scope)
        if typ == DATE:
            raise Refused("Invalid or unsupported search. ORA-00932: inconsistent datatypes: expected NUMBER got DATE.")
        return sql

    def arith(self, node: exp.Add | exp.Sub, scope: Scope) -> tuple[str, str]:
        a, at = self.expr(node.this, scope)
        b, bt = self.expr(node.expression, scope)
        add = isinstance(node, exp.Add)
        if at == DATE and bt == DATE:
            if add:
                raise Refused("Invalid or unsupported search. ORA-00975: date + date not allowed.")
            return f"ns_date_diff({a}, {b})", NUMBER
        if at == DATE:
            return (f"ns_date_add({a}, {b})" if add else f"ns_date_add({a}, -({b}))"), DATE
        if bt == DATE:
            if not add:
                raise Refused(
                    "Invalid or unsupported search. ORA-00932: inconsistent datatypes: expected DATE got NUMBER."
                )
            return f"ns_date_add({b}, {a})", DATE
        return f"({a} {'+' if add else '-'} {b})", NUMBER

    def coerce_to(self, node: exp.Expr, want: str, scope: Scope) -> str:
        sql, typ = self.expr(node, scope)
        return self.convert(node, sql, typ, want)

    def convert(self, node: exp.Expr, sql: str, typ: str, want: str) -> str:
        if want == DATE and typ in (TEXT, ANY) and not isinstance(node, exp.Null):
            if isinstance(node, exp.Literal) and node.is_string and node.this == "":
                return "NULL"
            if isinstance(node, exp.Literal) and node.is_string:
                # implicit TO_DATE with the account's date format, done once here
                try:
                    return _lit(self.implicit_date(node.this))
                except Exception as exc:
                    raise Refused(f"Invalid or unsupported search. {exc}") from None
            return f"ns_to_date({sql})"
        if want == DATE and typ == NUMBER:
            raise Refused("Invalid or unsupported search. ORA-00932: inconsistent datatypes: expected DATE got NUMBER.")
        if want == NUMBER and typ == DATE:
            raise Refused("Invalid or unsupported search. ORA-00932: inconsistent datatypes: expected NUMBER got DATE.")
        return sql

    def implicit_date(self, text: str) -> str:
        model = self.date_model
        t = text.strip()
        if " " in t:
            model += " HH:MI AM" if t.upper().endswith(("AM", "PM")) else " HH24:MI:SS"
        return parse_date(t, model)

    def coerce_pair(self, left: exp.Expr, right: exp.Expr, scope: Scope) -> tuple[str, str]:
        a, at = self.expr(left, scope)
        b, bt = self.expr(right, scope)
        if at == DATE and bt != DATE:
            b = self.convert(right, b, bt, DATE)
        elif bt == DATE and at != DATE:
            a = self.convert(left, a, at, DATE)
        return a, b

    def case(self, node: exp.Case, scope: Scope) -> tuple[str, str]:
        parts = ["CASE"]
        base = node.this
        typ = ANY
        base_sql, base_t = self.expr(base, scope) if base is not None else ("", ANY)
        if base is not None:
            parts.append(base_sql)
        for if_ in node.args.get("ifs") or []:
            cond = self.coerce_to(if_.this, base_t, scope) if base is not None else self.boolean(if_.this, scope)
            val, vt = self.expr(if_.args["true"], scope)
            typ = vt if typ == ANY else typ
            parts.append(f"WHEN {cond} THEN {val}")
        if node.args.get("default") is not None:
            val, vt = self.expr(node.args["default"], scope)
            typ = vt if typ == ANY else typ
            parts.append(f"ELSE {val}")
        parts.append("END")
        return "(" + " ".join(parts) + ")", typ

    def cast(self, node: exp.Cast, scope: Scope) -> tuple[str, str]:
        inner, typ = self.expr(node.this, scope)
        to = node.to.this
        T = exp.DataType.Type
        if to in (T.DATE, T.TIMESTAMP, T.DATETIME):
            return self.convert(node.this, inner, typ, DATE), DATE
        if to in (T.DECIMAL, T.INT, T.BIGINT, T.DOUBLE, T.FLOAT, T.SMALLINT):
            if typ == DATE:
                raise Refused(
                    "Invalid or unsupported search. ORA-00932: inconsistent datatypes: expected NUMBER got DATE."
                )
            return f"ns_to_number({inner})", NUMBER
        if to in (T.VARCHAR, T.CHAR, T.NVARCHAR, T.NCHAR, T.TEXT):
            return f"ns_to_char({inner}, NULL, {_lit(typ)})", TEXT
        raise Refused("Invalid or unsupported search.")

    def builtin(self, node: exp.Dot, scope: Scope) -> tuple[str, str]:
        owner = node.this
        fn = node.expression
        if not (isinstance(owner, exp.Identifier | exp.Column | exp.Var) and str(owner.name).upper() == "BUILTIN"):
            raise Refused("Invalid or unsupported search.")
        if not isinstance(fn, exp.Anonymous):
            raise Refused("Invalid or unsupported search.")
        name = str(fn.this).upper()
        args = fn.expressions
        if name == "DF":
            if len(args) != 1 or not isinstance(args[0], exp.Column):
                raise Refused("Invalid or unsupported search. BUILTIN.DF takes one field.")
            sql, _, src, col = self.column(args[0], scope)
            table = src.table if src is not None and src.table is not None else ""
            if col == "status" and src is not None and "type" in src.columns:
                return f"ns_df_status({src.col_sql('type')}, {sql})", TEXT
            return f"ns_df({_lit(table)}, {_lit(col)}, {sql})", TEXT
        if name == "CONSOLIDATE":
            if not 1 <= len(args) <= 7:
                raise Refused(
                    "Invalid or unsupported search. BUILTIN.CONSOLIDATE takes an amount and up to six options."
                )
            for extra in args[1:]:
                self.expr(extra, scope)
            # one book, one currency per subsidiary in the sandbox: the consolidated amount is the amount
            return self.number(args[0], scope), NUMBER
        raise Refused(f"Invalid or unsupported search. The sandbox does not implement BUILTIN.{name}.")

    def window(self, node: exp.Window, scope: Scope) -> tuple[str, str]:
        fn = node.this
        frame = self.frame(node.args.get("spec"))
        if isinstance(fn, exp.RowNumber):
            fsql, typ = "ROW_NUMBER()", NUMBER
        elif isinstance(fn, exp.Rank | exp.DenseRank):
            if fn.expressions:
                raise Refused("Invalid or unsupported search.")
            fsql, typ = ("RANK()" if isinstance(fn, exp.Rank) else "DENSE_RANK()"), NUMBER
        elif isinstance(fn, exp.Lag | exp.Lead):
            args = [self.expr(fn.this, scope)[0]]
            if fn.args.get("offset") is not None:
                args.append(self.expr(fn.args["offset"], scope)[0])
            if fn.args.get("default") is not None:
                args.append(self.expr(fn.args["default"], scope)[0])
            fsql, typ = (
                f"{'LAG' if isinstance(fn, exp.Lag) else 'LEAD'}({', '.join(args)})",
                self.expr(fn.this, scope)[1],
            )
        elif isinstance(fn, exp.Ntile):
            fsql, typ = f"NTILE({self.number(fn.this, scope)})", NUMBER
        elif isinstance(fn, exp.FirstValue | exp.LastValue):
            inner, typ = self.expr(fn.this, scope)
            fsql = f"{'FIRST_VALUE' if isinstance(fn, exp.FirstValue) else 'LAST_VALUE'}({inner})"
        elif isinstance(fn, exp.AggFunc):
            fsql, typ = self.function(fn, scope)
        else:
            raise Refused("Invalid or unsupported search.")
        parts = []
        if node.args.get("partition_by"):
            parts.append("PARTITION BY " + ", ".join(self.expr(p, scope)[0] for p in node.args["partition_by"]))
        if node.args.get("order"):
            keys = [self.expr(o.this, scope)[0] + self.direction(o) for o in node.args["order"].expressions]
            parts.append("ORDER BY " + ", ".join(keys))
        if frame:
            parts.append(frame)
        return f"{fsql} OVER ({' '.join(parts)})", typ

    def frame(self, spec: exp.Expr | None) -> str:
        """``ROWS|RANGE BETWEEN … AND …`` (bounds: UNBOUNDED, CURRENT ROW, n PRECEDING|FOLLOWING)."""
        if spec is None or not spec.args.get("kind"):
            return ""
        kind = str(spec.args["kind"]).upper()
        if kind not in ("ROWS", "RANGE"):
            raise Refused("Invalid or unsupported search.")

        def bound(value: Any, side: Any) -> str:
            if isinstance(value, exp.Literal) and not value.is_string:
                text = str(_int_literal(value))
            elif isinstance(value, str) and value.upper() in ("UNBOUNDED", "CURRENT ROW"):
                text = value.upper()
            else:
                raise Refused("Invalid or unsupported search.")
            if text == "CURRENT ROW":
                return text
            side_text = str(side or "").upper()
            if side_text not in ("PRECEDING", "FOLLOWING"):
                raise Refused("Invalid or unsupported search.")
            return f"{text} {side_text}"

        start = bound(spec.args.get("start"), spec.args.get("start_side"))
        if spec.args.get("end") is None:
            return f"{kind} {start}"
        return f"{kind} BETWEEN {start} AND {bound(spec.args['end'], spec.args.get('end_side'))}"

    def function(self, node: exp.Func, scope: Scope) -> tuple[str, str]:
        e = self.expr
        if isinstance(node, exp.Count):
            inner = node.this
            if isinstance(inner, exp.Star) or inner is None:
                return "COUNT(*)", NUMBER
            if isinstance(inner, exp.Distinct):
                return f"COUNT(DISTINCT {', '.join(e(x, scope)[0] for x in inner.expressions)})", NUMBER
            return f"COUNT({e(inner, scope)[0]})", NUMBER
        if isinstance(node, exp.Sum | exp.Avg | exp.Min | exp.Max):
            # SUM is Oracle's exact one over NUMBER (oracle_fns.ExactSum), not SQLite's, which adds doubles
            word = {exp.Sum: "ns_sum", exp.Avg: "AVG", exp.Min: "MIN", exp.Max: "MAX"}[type(node)]
            inner = node.this
            if isinstance(inner, exp.Distinct):
                if len(inner.expressions) != 1:
                    raise Refused("Invalid or unsupported search.")
                sql, typ = e(inner.expressions[0], scope)
                return f"{word}(DISTINCT {sql})", typ if word in ("MIN", "MAX") else NUMBER
            sql, typ = e(inner, scope)
            if word in ("ns_sum", "AVG") and typ == DATE:
                raise Refused(
                    "Invalid or unsupported search. ORA-00932: inconsistent datatypes: expected NUMBER got DATE."
                )
            return f"{word}({sql})", typ if word in ("MIN", "MAX") else NUMBER
        if isinstance(node, exp.GroupConcat):
            return self.listagg(node, scope)
        if isinstance(node, exp.Median | exp.Stddev | exp.Variance):
            word = {exp.Median: "ns_median", exp.Stddev: "ns_stddev", exp.Variance: "ns_variance"}[type(node)]
            return f"{word}({self.number(node.this, scope)})", NUMBER
        if isinstance(node, exp.ApproxDistinct):
            return f"COUNT(DISTINCT {e(node.this, scope)[0]})", NUMBER
        if isinstance(
            node, exp.Cos | exp.Sin | exp.Tan | exp.Acos | exp.Asin | exp.Atan | exp.Cosh | exp.Sinh | exp.Tanh
        ):
            return f"ns_math({_lit(type(node).__name__.lower())}, {self.number(node.this, scope)})", NUMBER
        if isinstance(node, exp.Atan2):
            return f"ns_atan2({self.number(node.this, scope)}, {self.number(node.expression, scope)})", NUMBER
        if isinstance(node, exp.NextDay):
            return f"ns_next_day({self.coerce_to(node.this, DATE, scope)}, {e(node.expression, scope)[0]})", DATE
        if isinstance(node, exp.Localtimestamp):
            return "ns_sysdate()", DATE
        if isinstance(node, exp.RegexpInstr):
            parts = [e(node.this, scope)[0], e(node.expression, scope)[0]]
            for key in ("position", "occurrence"):
                if node.args.get(key) is not None:
                    parts.append(e(node.args[key], scope)[0])
            return f"ns_regexp_instr({', '.join(parts)})", NUMBER
        if isinstance(node, exp.Anonymous) and str(node.this).upper() in _ANONYMOUS:
            name = str(node.this).upper()
            arity, template, typ = _ANONYMOUS[name]
            if len(node.expressions) not in arity:
                raise Refused(f"Invalid or unsupported search. ORA-00909: invalid number of arguments ({name}).")
            return template.format(*(e(x, scope)[0] for x in node.expressions)), typ
        if isinstance(node, exp.Coalesce):
            items = [node.this, *node.expressions]
            if node.args.get("is_nvl") and len(items) != 2:
                raise Refused("Invalid or unsupported search. NVL takes two arguments.")
            sqls = [e(x, scope) for x in items]
            typ = next((t for _, t in sqls if t != ANY), ANY)
            conv = [self.convert(x, s, t, typ) if typ == DATE else s for x, (s, t) in zip(items, sqls, strict=True)]
            return f"COALESCE({', '.join(conv)})", typ
        if isinstance(node, exp.Nvl2):
            a = e(node.this, scope)[0]
            b, bt = e(node.args["true"], scope)
            c, ct = e(node.args["false"], scope) if node.args.get("false") is not None else ("NULL", ANY)
            return f"(CASE WHEN {a} IS NOT NULL THEN {b} ELSE {c} END)", bt if bt != ANY else ct
        if isinstance(node, exp.DecodeCase):
            items = node.expressions
            if len(items) < 3:
                raise Refused("Invalid or unsupported search. DECODE needs at least three arguments.")
            base, bt = e(items[0], scope)
            parts = ["(CASE"]
            typ = ANY
            rest = items[1:]
            while len(rest) >= 2:
                cond = self.coerce_to(rest[0], bt, scope)
                val, vt = e(rest[1], scope)
                typ = vt if typ == ANY else typ
                parts.append(f"WHEN {base} IS {cond} THEN {val}")
                rest = rest[2:]
            if rest:
                val, vt = e(rest[0], scope)
                typ = vt if typ == ANY else typ
                parts.append(f"ELSE {val}")
            parts.append("END)")
            return " ".join(parts), typ
        if isinstance(node, exp.Nullif):
            a, at = e(node.this, scope)
            return f"NULLIF({a}, {self.coerce_to(node.expression, at, scope)})", at
        if isinstance(node, exp.Greatest | exp.Least):
            items = [node.this, *node.expressions]
            sqls = [e(x, scope) for x in items]
            typ = sqls[0][1]
            conv = [self.convert(x, s, t, typ) for x, (s, t) in zip(items, sqls, strict=True)]
            word = "MAX" if isinstance(node, exp.Greatest) else "MIN"
            if len(conv) == 1:
                return conv[0], typ
            return (
                f"(CASE WHEN {' OR '.join(f'{c} IS NULL' for c in conv)} THEN NULL ELSE {word}({', '.join(conv)}) END)",
                typ,
            )
        if isinstance(node, exp.CurrentDate | exp.CurrentTimestamp | exp.Systimestamp | exp.CurrentDatetime):
            return "ns_sysdate()", DATE
        if isinstance(node, exp.StrToDate | exp.StrToTime):
            return self.to_date(node, scope)
        if isinstance(node, exp.ToChar | exp.TimeToStr):
            return self.to_char(node, scope)
        if isinstance(node, exp.ToNumber):
            args2 = [e(node.this, scope)[0]]
            if node.args.get("format") is not None:
                args2.append(e(node.args["format"], scope)[0])
            return f"ns_to_number({', '.join(args2)})", NUMBER
        if isinstance(node, exp.DateTrunc):
            inner, typ = e(node.this, scope)
            unit = node.args.get("unit")
            unit_sql = e(unit, scope)[0] if isinstance(unit, exp.Expr) else _lit(str(unit or "DD"))
            if typ == NUMBER:
                return f"ns_trunc_num({inner}, {unit_sql})", NUMBER
            return f"ns_trunc_date({self.convert(node.this, inner, typ, DATE)}, {unit_sql})", DATE
        if isinstance(node, exp.Trunc):
            inner, typ = e(node.this, scope)
            places = e(node.args["decimals"], scope)[0] if node.args.get("decimals") is not None else "0"
            if typ == DATE:
                return f"ns_trunc_date({inner}, 'DD')", DATE
            return f"ns_trunc_num({inner}, {places})", NUMBER
        if isinstance(node, exp.Anonymous) and str(node.this).upper() == "TRUNC":
            if not 1 <= len(node.expressions) <= 2:
                raise Refused("Invalid or unsupported search.")
            inner, typ = e(node.expressions[0], scope)
            second = e(node.expressions[1], scope)[0] if len(node.expressions) > 1 else None
            if typ == DATE:
                return f"ns_trunc_date({inner}, {second or _lit('DD')})", DATE
            return f"ns_trunc_num({inner}, {second or '0'})", NUMBER
        if isinstance(node, exp.AddMonths):
            d, dt = e(node.this, scope)
            return f"ns_add_months({self.convert(node.this, d, dt, DATE)}, {self.number(node.expression, scope)})", DATE
        if isinstance(node, exp.MonthsBetween):
            a = self.coerce_to(node.this, DATE, scope)
            b = self.coerce_to(node.expression, DATE, scope)
            return f"ns_months_between({a}, {b})", NUMBER
        if isinstance(node, exp.LastDay):
            return f"ns_last_day({self.coerce_to(node.this, DATE, scope)})", DATE
        if isinstance(node, exp.Extract):
            part = str(node.this.name).upper()
            if part not in ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"):
                raise Refused(f"Invalid or unsupported search. ORA-30076: invalid extract field {part}.")
            return f"ns_extract({_lit(part)}, {self.coerce_to(node.expression, DATE, scope)})", NUMBER
        if isinstance(node, exp.Concat):
            items = node.expressions
            if len(items) != 2:
                raise Refused(
                    "Invalid or unsupported search. ORA-00909: invalid number of arguments (CONCAT takes two)."
                )
            return f"ns_concat({e(items[0], scope)[0]}, {e(items[1], scope)[0]})", TEXT
        if isinstance(node, exp.Upper | exp.Lower):
            return f"{'UPPER' if isinstance(node, exp.Upper) else 'LOWER'}({e(node.this, scope)[0]})", TEXT
        if isinstance(node, exp.Initcap):
            return f"ns_initcap({e(node.this, scope)[0]})", TEXT
        if isinstance(node, exp.Length):
            return f"LENGTH(ns_empty_null({e(node.this, scope)[0]}))", NUMBER
        if isinstance(node, exp.Substring):
            parts = [e(node.this, scope)[0], e(node.args["start"], scope)[0]]
            if node.args.get("length") is not None:
                parts.append(e(node.args["length"], scope)[0])
            return f"ns_substr({', '.join(parts)})", TEXT
        if isinstance(node, exp.StrPosition):
            parts = [e(node.this, scope)[0], e(node.args["substr"], scope)[0]]
            if node.args.get("position") is not None:
                parts.append(e(node.args["position"], scope)[0])
            if node.args.get("occurrence") is not None:
                parts.append(e(node.args["occurrence"], scope)[0])
            return f"ns_instr({', '.join(parts)})", NUMBER
        if isinstance(node, exp.Replace):
            repl = e(node.args["replacement"], scope)[0] if node.args.get("replacement") is not None else "''"
            return (
                f"ns_empty_null(REPLACE({e(node.this, scope)[0]}, {e(node.expression, scope)[0]}, "
                f"COALESCE({repl}, '')))",
                TEXT,
            )
        if isinstance(node, exp.Pad):
            side = "L" if node.args.get("is_left") else "R"
            parts = [_lit(side), e(node.this, scope)[0], e(node.expression, scope)[0]]
            if node.args.get("fill_pattern") is not None:
                parts.append(e(node.args["fill_pattern"], scope)[0])
            return f"ns_pad({', '.join(parts)})", TEXT
        if isinstance(node, exp.Trim):
            pos = str(node.args.get("position") or "BOTH").upper()
            word = {"LEADING": "LTRIM", "TRAILING": "RTRIM"}.get(pos, "TRIM")
            chars = e(node.expression, scope)[0] if node.expression is not None else "' '"
            return f"ns_empty_null({word}({e(node.this, scope)[0]}, {chars}))", TEXT
        if isinstance(node, exp.Chr):
            return f"CHAR({', '.join(e(x, scope)[0] for x in node.expressions)})", TEXT
        if isinstance(node, exp.Translate):
            return (
                f"ns_translate({e(node.this, scope)[0]}, {e(node.args.get('from_') or node.args['from'], scope)[0]}, "
                f"{e(node.args['to'], scope)[0]})",
                TEXT,
            )
        if isinstance(node, exp.RegexpSubstr | exp.RegexpReplace):
            return self.regexp(node, scope)
        if isinstance(node, exp.Abs):
            return f"ABS({self.number(node.this, scope)})", NUMBER
        if isinstance(node, exp.Round):
            places = self.number(node.args["decimals"], scope) if node.args.get("decimals") is not None else "0"
            inner, typ = e(node.this, scope)
            if typ == DATE:
                raise Refused("Invalid or unsupported search. The sandbox does not implement ROUND on dates.")
            return f"ns_round({inner}, {places})", NUMBER
        if isinstance(node, exp.Floor | exp.Ceil):
            if node.args.get("decimals") is not None:
                raise Refused("Invalid or unsupported search. ORA-00909: invalid number of arguments.")
            return f"ns_{'floor' if isinstance(node, exp.Floor) else 'ceil'}({self.number(node.this, scope)})", NUMBER
        if isinstance(node, exp.Mod):
            return f"ns_mod({self.number(node.this, scope)}, {self.number(node.expression, scope)})", NUMBER
        if isinstance(node, exp.Pow):
            return f"ns_power({self.number(node.this, scope)}, {self.number(node.expression, scope)})", NUMBER
        if isinstance(node, exp.Sqrt | exp.Ln | exp.Exp | exp.Sign):
            word = {exp.Sqrt: "sqrt", exp.Ln: "ln", exp.Exp: "exp", exp.Sign: "sign"}[type(node)]
            return f"ns_{word}({self.number(node.this, scope)})", NUMBER
        if isinstance(node, exp.Log):
            if node.expression is None:
                raise Refused("Invalid or unsupported search. ORA-00909: LOG takes two arguments.")
            return f"ns_log({self.number(node.this, scope)}, {self.number(node.expression, scope)})", NUMBER
        if isinstance(node, exp.Ascii):
            return f"UNICODE({e(node.this, scope)[0]})", NUMBER
        raise Refused(
            f"Invalid or unsupported search. The sandbox does not implement {node.sql('oracle').split('(')[0]}."
        )

    def regexp(self, node: exp.RegexpSubstr | exp.RegexpReplace, scope: Scope) -> tuple[str, str]:
        e = self.expr
        parts = [e(node.this, scope)[0], e(node.expression, scope)[0]]
        keys = (
            ("replacement", "position", "occurrence", "modifiers")
            if isinstance(node, exp.RegexpReplace)
            else ("position", "occurrence", "parameters", "group")
        )
        for key in keys:
            v = node.args.get(key)
            parts.append(e(v, scope)[0] if v is not None else "NULL")
        while parts[-1] == "NULL":
            parts.pop()
        fill = {"replacement": "''", "position": "1", "occurrence": "1" if isinstance(node, exp.RegexpSubstr) else "0"}
        parts = [p if p != "NULL" else fill.get(keys[i - 2], "NULL") for i, p in enumerate(parts)]
        word = "ns_regexp_replace" if isinstance(node, exp.RegexpReplace) else "ns_regexp_substr"
        return f"{word}({', '.join(parts)})", TEXT

    def listagg(self, node: exp.GroupConcat, scope: Scope) -> tuple[str, str]:
        inner = node.this
        keys: list[str] = []
        dirs = ""
        if isinstance(inner, exp.Order):
            for o in inner.expressions:
                keys.append(self.expr(o.this, scope)[0])
                dirs += "D" if o.args.get("desc") else "A"
            inner = inner.this
        distinct = 0
        if isinstance(inner, exp.Distinct):
            distinct = 1
            inner = inner.expressions[0]
        value = self.expr(inner, scope)[0]
        sep = self.expr(node.args["separator"], scope)[0] if node.args.get("separator") is not None else "''"
        return f"ns_listagg({', '.join([value, sep, _lit(dirs), str(distinct), *keys])})", TEXT

    def to_date(self, node: exp.StrToDate | exp.StrToTime, scope: Scope) -> tuple[str, str]:
        inner, typ = self.expr(node.this, scope)
        if typ == DATE:
            return inner, DATE
        fmt = node.args.get("format")
        if fmt is None:
            if isinstance(node.this, exp.Literal) and node.this.is_string:
                return self.convert(node.this, inner, typ, DATE), DATE
            return f"ns_to_date({inner})", DATE
        model = _oracle_model(fmt)
        if isinstance(node.this, exp.Literal) and node.this.is_string:
            try:
                return _lit(parse_date(node.this.this, model)), DATE
            except Exception as exc:
                raise Refused(f"Invalid or unsupported search. {exc}") from None
        return f"ns_to_date({inner}, {_lit(model)})", DATE

    def to_char(self, node: exp.ToChar | exp.TimeToStr, scope: Scope) -> tuple[str, str]:
        inner, typ = self.expr(node.this, scope)
        fmt = node.args.get("format")
        model = (
            "NULL"
            if fmt is None
            else _lit(_oracle_model(fmt))
            if isinstance(node, exp.TimeToStr)
            else self.expr(fmt, scope)[0]
        )
        kind = DATE if isinstance(node, exp.TimeToStr) else typ
        return f"ns_to_char({inner}, {model}, {_lit(kind)})", TEXT


# Documented functions sqlglot leaves anonymous: arities, SQLite template, result type.
_ANONYMOUS: dict[str, tuple[tuple[int, ...], str, str]] = {
    "BITAND": ((2,), "(ns_to_number({0}) & ns_to_number({1}))", NUMBER),
    "REMAINDER": ((2,), "ns_remainder({0}, {1})", NUMBER),
    "LENGTHB": ((1,), "ns_lengthb({0})", NUMBER),
    "TO_BINARY_DOUBLE": ((1,), "ns_to_number({0})", NUMBER),
    "TO_BINARY_FLOAT": ((1,), "ns_to_number({0})", NUMBER),
    "TO_NCHAR": ((1,), "ns_to_char({0}, NULL, 'any')", TEXT),
    "TO_CLOB": ((1,), "ns_to_char({0}, NULL, 'any')", TEXT),
    "NANVL": ((2,), "{0}", NUMBER),  # SQLite has no NaN: the value is never NaN
}

_TIME_MAPPING: dict[str, str] | None = None


def _oracle_model(fmt: exp.Expr) -> str:
    """The Oracle format model as written (sqlglot stores some in strftime form)."""
    global _TIME_MAPPING
    if not isinstance(fmt, exp.Literal) or not fmt.is_string:
        raise Refused("Invalid or unsupported search. The sandbox needs format models as string literals.")
    text = str(fmt.this)
    if "%" not in text:
        return text
    if _TIME_MAPPING is None:
        from sqlglot.dialects.oracle import Oracle

        _TIME_MAPPING = {v: k for k, v in Oracle.TIME_MAPPING.items()}
    out = ""
    i = 0
    while i < len(text):
        if text[i] == "%" and i + 1 < len(text):
            key = text[i : i + 2]
            if key == "%-" and i + 2 < len(text):
                key = text[i : i + 3]
            out += _TIME_MAPPING.get(key, key)
            i += len(key)
        else:
            out += text[i]
            i += 1
    return out


def _conjuncts(node: exp.Expr) -> list[exp.Expr]:
    """Top-level AND terms, looking through parentheses."""
    if isinstance(node, exp.Paren):
        return _conjuncts(node.this)
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _own_marks(sel: exp.Select, node: exp.Expr) -> list[exp.Column]:
    return [c for c in node.find_all(exp.Column) if c.args.get("join_mark") and c.find_ancestor(exp.Select) is sel]


def _outer_joins(sel: exp.Select) -> None:
    """Oracle ``(+)`` joins of one SELECT as LEFT JOINs: each WHERE term with ``(+)`` columns of one table
    becomes part of that table's ON condition; the other terms stay in WHERE. Tables are ordered so an
    ON condition names only tables to its left."""
    where = sel.args.get("where")
    if where is None or not _own_marks(sel, where):
        return
    frm = sel.args.get("from_") or sel.args.get("from")
    if frm is None:
        raise Refused("Invalid or unsupported search.")
    items = [frm.this] + [j.this for j in sel.args.get("joins") or []]
    names = [_ident(i.args["alias"].this) if i.args.get("alias") else _ident(i.this) for i in items]
    on: dict[str, list[exp.Expr]] = {}
    needs: dict[str, set[str]] = {}
    kept: list[exp.Expr] = []
    for term in _conjuncts(where.this):
        marks = _own_marks(sel, term)
        if not marks:
            kept.append(term)
            continue
        if any(isinstance(a, exp.Or) for c in marks for a in _ancestors(c, term)):
            raise Refused("Invalid or unsupported search. ORA-01719: outer join operator (+) not allowed in OR.")
        tables = {_ident(c.args.get("table")) for c in marks}
        if len(tables) != 1 or "" in tables or next(iter(tables)) not in names:
            raise Refused(
                "Invalid or unsupported search. ORA-01468: a predicate may reference only one outer-joined table."
            )
        outer = next(iter(tables))
        for c in marks:
            c.set("join_mark", False)
        on.setdefault(outer, []).append(term)
        needs.setdefault(outer, set()).update(
            _ident(c.args.get("table")) for c in term.find_all(exp.Column) if c.args.get("table")
        )
    inner = [(n, i) for n, i in zip(names, items, strict=True) if n not in on]
    if not inner:
        raise Refused("Invalid or unsupported search. ORA-01416: two tables cannot be outer-joined to each other.")
    placed = {n for n, _ in inner}
    pending = [(n, i) for n, i in zip(names, items, strict=True) if n in on]
    joins: list[exp.Join] = [exp.Join(this=i) for _, i in inner[1:]]
    while pending:
        ready = next(((n, i) for n, i in pending if needs[n] - {n} <= placed), None)
        if ready is None:
            raise Refused("Invalid or unsupported search. ORA-01416: two tables cannot be outer-joined to each other.")
        n, i = ready
        pending.remove(ready)
        placed.add(n)
        cond = on[n][0]
        for extra in on[n][1:]:
            cond = exp.And(this=cond, expression=extra)
        joins.append(exp.Join(this=i, side="LEFT", on=cond))
    sel.set("from_", exp.From(this=inner[0][1]))
    sel.set("joins", joins)
    if kept:
        cond = kept[0]
        for extra in kept[1:]:
            cond = exp.And(this=cond, expression=extra)
        sel.set("where", exp.Where(this=cond))
    else:
        sel.set("where", None)


def _ancestors(node: exp.Expr, root: exp.Expr) -> list[exp.Expr]:
    out: list[exp.Expr] = []
    p = node.parent
    while p is not None and p is not root:
        out.append(p)
        p = p.parent
    if p is root:
        out.append(root)
    return out


def _bind(fn: Callable[[float, float], bool], n: float, *, flip_args: bool) -> Callable[[int], bool]:
    """``ROWNUM op n`` (or ``n op ROWNUM`` with ``flip_args``) as a test of a row number."""

    def test(k: int) -> bool:
        return fn(n, k) if flip_args else fn(k, n)

    return test


def _int_literal(node: exp.Expr) -> int:
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return int(node.this)
    raise Refused("Invalid or unsupported search. Row counts must be whole numbers.")


def _is_rownum(node: exp.Expr | None) -> bool:
    return (
        isinstance(node, exp.Column)
        and not node.args.get("table")
        and isinstance(node.this, exp.Identifier)
        and not node.this.quoted
        and str(node.this.this).upper() == "ROWNUM"
    )


def _mentions_rownum(node: exp.Expr) -> bool:
    if _is_rownum(node):
        return True
    return any(_is_rownum(c) for c in node.find_all(exp.Column) if not _inside_subquery(c, node))


def _inside_subquery(node: exp.Expr, root: exp.Expr) -> bool:
    p = node.parent
    while p is not None and p is not root:
        if isinstance(p, exp.Select | exp.Subquery):
            return True
        p = p.parent
    return False


def _in_window(node: exp.Expr) -> bool:
    p = node.parent
    while p is not None:
        if isinstance(p, exp.Window):
            return True
        if isinstance(p, exp.Select):
            return False
        p = p.parent
    return False


def compile_suiteql(query: str, catalog: Catalog, date_format: str, params: int = 0) -> Compiled:
    """SuiteQL → SQLite, or ``Refused``."""
    return Compiler(catalog, date_format, params).compile(query)


def describe(value: Any) -> str:
    return repr(value)
