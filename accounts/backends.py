"""Django's ModelBackend, with sign-in by email too, and the per-request user fetch as one
prepared statement.

`get_user` runs on every request of a signed-in user; through the ORM it cost about a sixth of
a whole answer save's CPU. Login, permissions and `user_can_authenticate` are Django's own.
"""

from django.contrib.auth import backends, get_user_model
from django.core.exceptions import ValidationError
from django.db import connection

from config.db import prepared_cursor


class ModelBackend(backends.ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        # Sign-in by email or username: an address names at most one account (a unique index
        # on lower(email)). An unknown address goes on as a username that matches nobody, so
        # Django still runs the hasher and the answer takes as long either way.
        if username and "@" in username:
            model = get_user_model()
            match = model._default_manager.filter(email__iexact=username).first()
            if match is not None:
                username = match.get_username()
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id):
        model = get_user_model()
        fields = model._meta.concrete_fields
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        try:
            pk = model._meta.pk.to_python(user_id)
        except ValidationError:  # a malformed id in a session: nobody, as Django's own
            return None
        with prepared_cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {model._meta.db_table}"  # noqa: S608 - model metadata
                f" WHERE {connection.ops.quote_name(model._meta.pk.column)} = %s",
                [pk],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        user = model.from_db(connection.alias, [f.attname for f in fields], row)
        return user if self.user_can_authenticate(user) else None
