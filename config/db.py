"""The one database helper the hot paths share: a cursor whose statements PostgreSQL plans once."""

import psycopg
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs the statement as it was sent: once psycopg runs it prepared, the cursor no longer
    holds its text, and Django's own wrapper would log None (query counts in tests read it)."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params, use_last_executed_query=False):
            return CursorWrapper.execute(self, sql, params)


def prepared_cursor():
    """A cursor that binds parameters on the server, so psycopg prepares a statement it has
    run a few times on this connection and PostgreSQL stops re-planning it (planning was a
    third of the save statement's time). Django's own cursors bind on the client. It is
    wrapped like any Django cursor, so transactions, query logging and test query counts
    see it."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return _PreparedDebugCursor(raw, connection)
    return connection.make_cursor(raw)
