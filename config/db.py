"""The one database helper the hot paths share: a cursor whose statements PostgreSQL plans once."""

import psycopg
from django.db import connection


def prepared_cursor():
    """A cursor that binds parameters on the server, so psycopg prepares a statement it has
    run a few times on this connection and PostgreSQL stops re-planning it (planning was a
    third of the save statement's time). Django's own cursors bind on the client. It is
    wrapped like any Django cursor, so transactions, query logging and test query counts
    see it."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)
