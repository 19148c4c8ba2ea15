"""Django's database sessions, with the per-request read as one prepared statement.

Every request of a signed-in examinee reads its session; through the ORM that read cost about
a fifth of a whole answer save's CPU (compiling the query, building the model). The rows, the
expiry rule and everything else are Django's own (`SESSION_ENGINE = "accounts.sessions"`).
"""

from django.contrib.sessions.backends import db
from django.utils import timezone

from config.db import prepared_cursor


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if not self.session_key:
            return super()._get_session_from_db()
        with prepared_cursor() as cursor:
            cursor.execute(
                f"SELECT session_data, expire_date FROM {self.model._meta.db_table}"  # noqa: S608
                " WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
