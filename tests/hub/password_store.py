"""Passwords kept the way the user guide's hub keeps them, for jhctl's tests.

The hub package of the user guide stores bcrypt hashes in the hub database's
table `auth_user_passwords` (`id`, `username` unique, `password_hash`
bytes, `force_change`, `created_at`, `updated_at`) and its first-use
authenticator checks that table at login: a user with no row is a first
use, and the password given then becomes theirs. This module rebuilds that
for the test hub, in the admin API's store (JHCTL_ADMIN_API_DB), which
stands for the hub database: the admin API's set-password writes here,
`PasswordAuthenticator` reads here at `/hub/login`, and the fake hub pod's
`core` package (tests/hub/pod) maps the same table.
"""

from datetime import datetime, timezone

import bcrypt
from jupyterhub.auth import Authenticator

MIN_PASSWORD_LENGTH = 7

SCHEMA = """
CREATE TABLE IF NOT EXISTS auth_user_passwords (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(255) NOT NULL UNIQUE,
    password_hash BLOB NOT NULL,
    force_change BOOLEAN NOT NULL DEFAULT 0,
    created_at DATETIME,
    updated_at DATETIME
);
"""


def db_now():
    """A timestamp as SQLAlchemy writes a DateTime into SQLite."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def store_hash(cur, username, hashed, force_change):
    """Inserts or replaces the row of `username` (hashed: bytes)."""
    stamp = db_now()
    cur.execute(
        "INSERT INTO auth_user_passwords (username, password_hash, force_change, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash,"
        " force_change = excluded.force_change, updated_at = excluded.updated_at",
        (username, hashed, int(bool(force_change)), stamp, stamp),
    )


def lookup(cur, username):
    """`(password_hash, force_change)` of `username`, or None."""
    row = cur.execute(
        "SELECT password_hash, force_change FROM auth_user_passwords WHERE username = ?", (username,)
    ).fetchone()
    return None if row is None else (bytes(row[0]), bool(row[1]))


class PasswordAuthenticator(Authenticator):
    """Checks `auth_user_passwords`; a user without a row sets their password by logging in."""

    async def authenticate(self, handler, data):
        import admin_api  # the store's connection (imported here: admin_api imports this module)

        username = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        if not username or not password:
            return None
        cur = admin_api.db().cursor()
        found = lookup(cur, username)
        if found is None:
            if len(password) < MIN_PASSWORD_LENGTH:
                return None
            hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt())
            with admin_api.Transaction() as tx:
                store_hash(tx, username, hashed, False)
            return username
        if bcrypt.checkpw(password.encode("utf-8"), found[0]):
            return username
        return None
