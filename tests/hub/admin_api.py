"""The hub's admin API (/hub/admin/api/...), rebuilt for jhctl's tests.

The hub in the user guide adds these handlers to JupyterHub; jhctl's
integration tests need them too, so this module implements every endpoint
of "The hub's admin API" in docs/hub-api.md with the same request and
response shapes, status codes and error cases:

- POST /hub/admin/api/set-password
- GET  /hub/admin/api/generate-password
- GET  /hub/admin/api/quota
- GET  /hub/admin/api/quota/{name}
- POST /hub/admin/api/quota/{name}   (set, add, deduct, set_unlimited)
- POST /hub/admin/api/quota/batch
- POST /hub/admin/api/quota/refresh

Everything is kept in one SQLite file, JHCTL_ADMIN_API_DB, so tests can read
it (tests/support/hub.rs: `TestHub::store`):

- auth_user_passwords(id, username, password_hash, force_change,
  created_at, updated_at): bcrypt hashes (bytes, `$2b$`) and the
  force-change flag, as the hub package keeps them (password_store.py,
  whose authenticator checks them at /hub/login)
- quota(username, balance, unlimited, updated_at)
- quota_transactions(id, username, amount, transaction_type, resource_type,
  description, balance_before, balance_after, created_at, created_by)

Mount with `c.JupyterHub.extra_handlers = admin_api.handlers()`.
"""

import json
import os
import re
import secrets
import sqlite3
import string
from datetime import datetime, timezone
from enum import Enum

import bcrypt
import password_store
from jupyterhub.apihandlers import APIHandler
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from tornado import web

# The first-use authenticator's default minimum password length; a hub may
# configure a longer one (`min_password_length`), which tests ask for with
# JHCTL_TEST_HUB_MIN_PASSWORD.
MIN_PASSWORD_LENGTH = int(os.environ.get("JHCTL_TEST_HUB_MIN_PASSWORD") or 7)
MAX_AMOUNT = 10_000_000
MAX_BATCH_USERS = 1000
USERNAME_PATTERN = r"^[a-zA-Z0-9._@-]+$"
RECENT_TRANSACTIONS = 20
# Letters and digits without the look-alikes l, I, O and 0.
PASSWORD_ALPHABET = "".join(
    ch for ch in string.ascii_letters + string.digits if ch not in "lIO0"
)


# ---------------------------------------------------------------------------
# Request models (pydantic ships with JupyterHub; its messages are the hub's)
# ---------------------------------------------------------------------------


class QuotaAction(str, Enum):
    SET = "set"
    ADD = "add"
    DEDUCT = "deduct"
    SET_UNLIMITED = "set_unlimited"


class RefreshAction(str, Enum):
    ADD = "add"
    SET = "set"


class QuotaChange(BaseModel):
    action: QuotaAction = QuotaAction.SET
    amount: int | None = Field(default=None, ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    unlimited: bool | None = None
    description: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def check_amount(self):
        if self.action == QuotaAction.SET_UNLIMITED:
            if self.unlimited is None:
                self.unlimited = True
            return self
        if self.amount is None:
            raise ValueError("amount is required for this action")
        if self.action == QuotaAction.SET and self.amount < 0:
            raise ValueError("amount cannot be negative for 'set' action")
        if self.action == QuotaAction.DEDUCT and self.amount <= 0:
            raise ValueError("amount must be positive for 'deduct' action")
        return self


class BatchUser(BaseModel):
    username: str = Field(min_length=1, max_length=200, pattern=USERNAME_PATTERN)
    amount: int = Field(default=0, ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    unlimited: bool | None = None


class BatchRequest(BaseModel):
    users: list[BatchUser] = Field(max_length=MAX_BATCH_USERS)


class RefreshTargets(BaseModel):
    includeUnlimited: bool = False
    balanceBelow: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    balanceAbove: int | None = Field(default=None, ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    includeUsers: list[str] | None = Field(default=None, max_length=MAX_BATCH_USERS)
    excludeUsers: list[str] | None = Field(default=None, max_length=MAX_BATCH_USERS)
    usernamePattern: str | None = Field(default=None, max_length=500)

    @field_validator("includeUsers", "excludeUsers")
    @classmethod
    def check_usernames(cls, names):
        for name in names or []:
            if not name:
                raise ValueError("Username must be a non-empty string")
            if len(name) > 200:
                raise ValueError(f"Username '{name[:20]}...' too long (max 200 characters)")
            if not re.match(USERNAME_PATTERN, name):
                raise ValueError(f"Username '{name}' contains invalid characters")
        return names

    @field_validator("usernamePattern")
    @classmethod
    def check_pattern(cls, pattern):
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"Invalid regex pattern: {e}") from e
        return pattern


class RefreshRequest(BaseModel):
    rule_name: str = Field(default="manual", max_length=100)
    action: RefreshAction = RefreshAction.ADD
    amount: int = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    max_balance: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    min_balance: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    targets: RefreshTargets = Field(default_factory=RefreshTargets)


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS quota (
    username TEXT PRIMARY KEY,
    balance INTEGER NOT NULL,
    unlimited INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quota_transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    amount INTEGER NOT NULL,
    transaction_type TEXT NOT NULL,
    resource_type TEXT,
    description TEXT,
    balance_before INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT
);
"""

_db = None


def db():
    """The store's connection, opened (and the schema made) on first use."""
    global _db
    if _db is None:
        path = os.environ.get("JHCTL_ADMIN_API_DB")
        if not path:
            raise RuntimeError("JHCTL_ADMIN_API_DB is not set")
        _db = sqlite3.connect(path, isolation_level=None)
        _db.row_factory = sqlite3.Row
        _db.executescript(SCHEMA + password_store.SCHEMA)
    return _db


def create_store():
    """Makes the store's tables now (at hub start), so that they exist before the first request."""
    path = os.environ.get("JHCTL_ADMIN_API_DB")
    if not path:
        raise RuntimeError("JHCTL_ADMIN_API_DB is not set")
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA + password_store.SCHEMA)
    connection.close()


def now():
    return datetime.now(timezone.utc).isoformat()


class Transaction:
    """One write transaction on the store: `with Transaction() as cur:`."""

    def __enter__(self):
        self.cur = db().cursor()
        self.cur.execute("BEGIN IMMEDIATE")
        return self.cur

    def __exit__(self, kind, value, traceback):
        self.cur.execute("COMMIT" if kind is None else "ROLLBACK")
        return False


def quota_row(cur, username):
    return cur.execute("SELECT * FROM quota WHERE username = ?", (username,)).fetchone()


def write_quota(cur, username, balance, unlimited=None):
    """Create or update a user's quota record."""
    row = quota_row(cur, username)
    if row is None:
        cur.execute(
            "INSERT INTO quota (username, balance, unlimited, updated_at) VALUES (?, ?, ?, ?)",
            (username, balance, int(bool(unlimited)), now()),
        )
    else:
        if unlimited is None:
            unlimited = bool(row["unlimited"])
        cur.execute(
            "UPDATE quota SET balance = ?, unlimited = ?, updated_at = ? WHERE username = ?",
            (balance, int(unlimited), now(), username),
        )


def record(cur, username, amount, kind, before, after, description, by=None, resource=None):
    cur.execute(
        "INSERT INTO quota_transactions (username, amount, transaction_type, resource_type,"
        " description, balance_before, balance_after, created_at, created_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (username, amount, kind, resource, description, before, after, now(), by),
    )


def balance_of(cur, username):
    row = quota_row(cur, username)
    return row["balance"] if row else 0


def set_balance(cur, username, balance, by):
    before = balance_of(cur, username)
    write_quota(cur, username, balance)
    record(cur, username, balance - before, "set", before, balance, f"Balance set to {balance}", by)
    return balance


def add_quota(cur, username, amount, description, by):
    before = balance_of(cur, username)
    after = before + amount
    write_quota(cur, username, after)
    default = f"{'Added' if amount >= 0 else 'Deducted'} {abs(amount)} quota"
    kind = "add" if amount >= 0 else "deduct"
    record(cur, username, amount, kind, before, after, description or default, by)
    return after


def deduct_quota(cur, username, amount, description):
    row = quota_row(cur, username)
    if row is None:
        return 0
    if row["unlimited"]:
        return row["balance"]
    before = row["balance"]
    after = max(0, before - amount)
    write_quota(cur, username, after)
    text = f"Usage: {description}" if description else "Usage deduction"
    record(cur, username, -amount, "usage", before, after, text, resource=description)
    return after


def set_unlimited(cur, username, unlimited, by):
    balance = balance_of(cur, username)
    write_quota(cur, username, balance, unlimited)
    kind = "set_unlimited" if unlimited else "unset_unlimited"
    text = f"Unlimited {'enabled' if unlimited else 'disabled'}"
    record(cur, username, 0, kind, balance, balance, text, by)
    return balance


def matches(username, balance, unlimited, targets):
    """Whether a quota record is a target of a refresh rule."""
    if unlimited and not targets.includeUnlimited:
        return False
    if targets.balanceBelow is not None and balance >= targets.balanceBelow:
        return False
    if targets.balanceAbove is not None and balance <= targets.balanceAbove:
        return False
    if targets.includeUsers and username not in [u.lower() for u in targets.includeUsers]:
        return False
    if username in [u.lower() for u in targets.excludeUsers or []]:
        return False
    if targets.usernamePattern and not re.match(targets.usernamePattern, username, re.IGNORECASE):
        return False
    return True


# ---------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------


class AdminHandler(APIHandler):
    """Token-authenticated, admin-only, answers JSON."""

    def is_admin(self):
        user = self.current_user
        if user is None:
            return False
        return bool(getattr(user, "admin", False)) or "admin:users" in self.expanded_scopes

    def reply(self, body, status=200):
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def fail(self, status, error, details=None):
        body = {"error": error}
        if details is not None:
            body["details"] = details
        self.reply(body, status)

    def body(self):
        """The request's JSON body, or None after answering 400."""
        try:
            data = json.loads(self.request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.fail(400, "Invalid JSON")
            return None
        if not isinstance(data, dict):
            self.fail(400, "Invalid JSON")
            return None
        return data

    def validate(self, model, data, field_of):
        """`model(**data)`, or None after answering 400 with the details."""
        try:
            return model(**data)
        except ValidationError as e:
            details = [{"field": field_of(err["loc"]), "message": err["msg"]} for err in e.errors()]
            self.fail(400, "Validation failed", details)
            return None

    def admin_name(self):
        return self.current_user.name

    def write_error(self, status_code, **kwargs):
        if status_code == 500:
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": "Internal server error"}))
        else:
            super().write_error(status_code, **kwargs)


def denied(handler):
    if handler.is_admin():
        return False
    handler.fail(403, "Admin access required")
    return True


class SetPasswordHandler(AdminHandler):
    @web.authenticated
    async def post(self):
        if denied(self):
            return
        data = self.body()
        if data is None:
            return
        username = data.get("username")
        password = data.get("password")
        force_change = bool(data.get("force_change", True))
        if not username or not password or not isinstance(username, str) or not isinstance(password, str):
            return self.fail(400, "Username and password are required")
        if username.startswith("github:"):
            return self.fail(400, "Cannot set password for GitHub users")
        if len(password) < MIN_PASSWORD_LENGTH:
            return self.fail(
                400,
                "Password too short! Please choose a password at least "
                f"{MIN_PASSWORD_LENGTH} characters long.",
            )
        hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt())
        with Transaction() as cur:
            password_store.store_hash(cur, username, hashed, force_change)
        message = f"Password set for {username}"
        if force_change:
            message += " (force change on next login)"
        self.reply({"message": message})


class GeneratePasswordHandler(AdminHandler):
    @web.authenticated
    async def get(self):
        if denied(self):
            return
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
        self.reply({"password": password})


class QuotaHandler(AdminHandler):
    @web.authenticated
    async def get(self, username=None):
        if denied(self):
            return
        cur = db().cursor()
        if not username:
            rows = cur.execute("SELECT * FROM quota ORDER BY username").fetchall()
            users = [
                {
                    "username": row["username"],
                    "balance": row["balance"],
                    "unlimited": bool(row["unlimited"]),
                    "updated_at": row["updated_at"],
                }
                for row in rows
            ]
            return self.reply({"users": users})
        name = username.lower()
        row = quota_row(cur, name)
        transactions = cur.execute(
            "SELECT * FROM quota_transactions WHERE username = ? ORDER BY id DESC LIMIT ?",
            (name, RECENT_TRANSACTIONS),
        ).fetchall()
        self.reply(
            {
                "username": username,
                "balance": row["balance"] if row else 0,
                "unlimited": bool(row["unlimited"]) if row else False,
                "recent_transactions": [dict(t) for t in transactions],
            }
        )

    @web.authenticated
    async def post(self, username=None):
        if denied(self):
            return
        data = self.body()
        if data is None:
            return
        change = self.validate(QuotaChange, data, lambda loc: loc[0] if loc else "request")
        if change is None:
            return
        if not username:
            return self.fail(400, "Username required")
        name = username.lower()
        by = self.admin_name()
        with Transaction() as cur:
            if change.action == QuotaAction.SET:
                balance = set_balance(cur, name, change.amount, by)
            elif change.action == QuotaAction.ADD:
                balance = add_quota(cur, name, change.amount, change.description, by)
            elif change.action == QuotaAction.DEDUCT:
                if balance_of(cur, name) < change.amount:
                    return self.fail(400, "Insufficient balance")
                balance = deduct_quota(cur, name, change.amount, change.description)
            else:
                balance = set_unlimited(cur, name, change.unlimited, by)
                return self.reply(
                    {
                        "username": username,
                        "balance": balance,
                        "unlimited": change.unlimited,
                        "action": change.action.value,
                    }
                )
        self.reply(
            {
                "username": username,
                "balance": balance,
                "action": change.action.value,
                "amount": change.amount,
            }
        )


class QuotaBatchHandler(AdminHandler):
    @web.authenticated
    async def post(self):
        if denied(self):
            return
        data = self.body()
        if data is None:
            return
        batch = self.validate(BatchRequest, data, str)
        if batch is None:
            return
        by = self.admin_name()
        result = {"success": 0, "failed": 0, "details": []}
        for user in batch.users:
            try:
                with Transaction() as cur:
                    set_balance(cur, user.username.lower(), user.amount, by)
            except sqlite3.Error:
                result["failed"] += 1
                result["details"].append(
                    {"username": user.username, "status": "failed", "error": "Processing error"}
                )
            else:
                result["success"] += 1
                result["details"].append(
                    {"username": user.username, "status": "success", "balance": user.amount}
                )
        self.reply(result)


class QuotaRefreshHandler(AdminHandler):
    @web.authenticated
    async def post(self):
        if denied(self):
            return
        data = self.body()
        if data is None:
            return
        rule = self.validate(RefreshRequest, data, str)
        if rule is None:
            return
        min_balance = rule.min_balance or 0
        updated = skipped = total = 0
        with Transaction() as cur:
            for row in cur.execute("SELECT * FROM quota ORDER BY username").fetchall():
                name, current = row["username"], row["balance"]
                if not matches(name, current, bool(row["unlimited"]), rule.targets):
                    skipped += 1
                    continue
                if rule.action == RefreshAction.SET:
                    new = rule.amount
                else:
                    new = current + rule.amount
                    if rule.amount > 0 and rule.max_balance is not None:
                        new = min(new, rule.max_balance)
                    elif rule.amount < 0:
                        new = max(new, min_balance)
                if new == current:
                    skipped += 1
                    continue
                write_quota(cur, name, new)
                text = f"Auto {rule.action.value}: {rule.rule_name}"
                record(cur, name, new - current, "auto_refresh", current, new, text)
                updated += 1
                total += new - current
        self.reply(
            {
                "users_updated": updated,
                "total_change": total,
                "skipped": skipped,
                "action": rule.action.value,
                "rule_name": rule.rule_name,
            }
        )


def handlers():
    """Routes for `c.JupyterHub.extra_handlers` (mounted under /hub/)."""
    return [
        (r"/admin/api/set-password", SetPasswordHandler),
        (r"/admin/api/generate-password", GeneratePasswordHandler),
        (r"/admin/api/quota/?", QuotaHandler),
        (r"/admin/api/quota/batch", QuotaBatchHandler),
        (r"/admin/api/quota/refresh", QuotaRefreshHandler),
        (r"/admin/api/quota/([^/]+)", QuotaHandler),
    ]
