# jhctl: write password hashes where the hub in this pod reads them.
# Constant program; every piece of data arrives on stdin as JSON lines.
#
# Line 1, the request:
#   {"mode": "set" | "rename" | "remove", "store": "auto" | "db" | "dbm",
#    "db_url": str | null, "passwords_db": str, "force_change_db": str}
# then, for "set", one line per user:
#   {"username": str, "hash": str, "force_change": bool}
# or, for "rename", one line:
#   {"old": str, "new": str}
# or, for "remove" (records of deleted users), one line per user:
#   {"username": str}
#
# Answers on stdout, one JSON object a line:
#   {"store": "db" | "dbm", "at": str}    which store is written (first)
#   {"username": str, "ok": bool, "error": str}    one per user, only after
#       the write is committed and read back
#   {"username": NEW, "ok": bool, "moved": {TABLE: ROWS}}    for "rename"
#   {"username": str, "ok": bool, "removed": {TABLE: ROWS}}    for "remove",
#       after the commit and a read-back that finds no row left
#   {"fatal": str}    nothing could be written
#
# Stores:
#   db  - the `auth_user_passwords` table of the hub's database, through the
#         hub's own package (`core.database`, `core.authenticators.models`,
#         `core.z2jh`), imported at run time from the hub image's PYTHONPATH.
#         The database URL is the hub's: z2jh `hub.db.type` sqlite-pvc ->
#         sqlite:////srv/jupyterhub/jupyterhub.sqlite, sqlite-memory -> not
#         reachable, else `hub.db.url`; or `db_url` from the request.
#   dbm - the first-use authenticator's two dbm files (older hubs).
import io
import json
import os
import sys

OUT = sys.stdout
SQLITE_PVC_URL = "sqlite:////srv/jupyterhub/jupyterhub.sqlite"


class Fatal(Exception):
    pass


def answer(obj):
    OUT.write(json.dumps(obj) + "\n")
    OUT.flush()


def quiet():
    """The hub's modules print to stdout (the database URL among others): keep that off the answers."""
    sys.stdout = io.StringIO()


def reason(error):
    """A database error's own message, without the statement and its parameters (the hashes)."""
    orig = getattr(error, "orig", None)
    return "%s: %s" % (type(error).__name__, orig if orig is not None else error)


def hub_package():
    """The hub package's database module and password model, or None when the package is absent."""
    try:
        import core.database as database
        from core.authenticators.models import UserPassword
    except ModuleNotFoundError as e:
        if e.name in ("core", "core.database", "core.authenticators", "core.authenticators.models"):
            return None
        raise Fatal("the hub package is present but cannot be imported: %s" % e)
    except Exception as e:
        raise Fatal("the hub package is present but cannot be imported: %s" % e)
    return database, UserPassword


def hub_db_url():
    """The hub's database URL, resolved like the hub does from its z2jh configuration."""
    try:
        from core import z2jh
    except Exception as e:
        raise Fatal("cannot read the hub's configuration (core.z2jh): %s; give the URL with --db-url" % e)
    db_type = z2jh.get_config("hub.db.type", "sqlite-pvc") or "sqlite-pvc"
    if db_type == "sqlite-pvc":
        return SQLITE_PVC_URL
    if db_type == "sqlite-memory":
        raise Fatal(
            "the hub keeps its database in memory (hub.db.type sqlite-memory): nothing outside the hub "
            "process can reach it; use --via api"
        )
    url = z2jh.get_config("hub.db.url", SQLITE_PVC_URL)
    try:
        password = z2jh.get_secret_value("hub.db.password", None)
    except Exception:
        password = None
    if password is not None:
        if db_type == "mysql":
            os.environ.setdefault("MYSQL_PWD", password)
        elif db_type == "postgres":
            os.environ.setdefault("PGPASSWORD", password)
    return url


def shown_url(url):
    """The URL without a password."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(a database URL)"


def dbm_in_use(request):
    """Whether the dbm files are what this hub reads: a first-use authenticator, or the files, and no migration marker."""
    folder = os.path.dirname(request["passwords_db"]) or "."
    if os.path.exists(os.path.join(folder, ".auth_migrated")):
        return False
    for ext in ("", ".db", ".dir", ".pag", ".dat"):
        if os.path.exists(request["passwords_db"] + ext):
            return True
    try:
        import firstuseauthenticator  # noqa: F401

        return True
    except Exception:
        return False


def choose_store(request):
    store = request.get("store") or "auto"
    if store == "dbm":
        return ("dbm", None)
    package = hub_package()
    if store == "db" and package is None:
        raise Fatal(
            "the hub package (core.database, core.authenticators.models) is not importable in this pod; "
            "check PYTHONPATH, or use --store dbm on a hub that reads the dbm files"
        )
    if package is not None:
        return ("db", package)
    if request.get("db_url"):
        raise Fatal("--db-url was given but the hub package is not importable in this pod; check PYTHONPATH")
    if dbm_in_use(request):
        return ("dbm", None)
    raise Fatal(
        "found no password store in this pod: the hub package (core.database) is not importable and "
        "no first-use authenticator or %s is there; check the target pod, or name the store with --store"
        % request["passwords_db"]
    )


def open_db(package, request):
    database, UserPassword = package
    url = request.get("db_url") or hub_db_url()
    from sqlalchemy import inspect

    try:
        engine = database.init_database(url)
        if not inspect(engine).has_table(UserPassword.__tablename__):
            raise Fatal(
                "the hub database at %s has no table %s; is this the hub's database? (--db-url)"
                % (shown_url(url), UserPassword.__tablename__)
            )
    except Fatal:
        raise
    except Exception as e:
        raise Fatal("cannot open the hub database at %s: %s" % (shown_url(url), type(e).__name__))
    answer({"store": "db", "at": "%s in %s" % (UserPassword.__tablename__, shown_url(url))})
    return database, UserPassword


def set_db(package, items):
    database, UserPassword = package
    from sqlalchemy import func

    good = []
    for item in items:
        try:
            good.append((item["username"], item["hash"].encode("ascii"), bool(item.get("force_change"))))
        except Exception as e:
            answer({"username": item.get("username"), "ok": False, "error": "bad request line: %s" % e})
    try:
        with database.session_scope() as session:
            for name, hashed, force in good:
                row = session.query(UserPassword).filter_by(username=name).one_or_none()
                if row is None:
                    row = UserPassword(username=name, password_hash=hashed, force_change=force)
                    row.created_at = func.now()
                    session.add(row)
                else:
                    row.password_hash = hashed
                    row.force_change = force
                row.updated_at = func.now()
    except Exception as e:
        raise Fatal("the hub database refused the batch, nothing was changed: %s" % reason(e))
    with database.session_scope() as session:
        for name, hashed, force in good:
            row = session.query(UserPassword).filter_by(username=name).one_or_none()
            if row is not None and bytes(row.password_hash) == hashed and bool(row.force_change) == force:
                answer({"username": name, "ok": True})
            else:
                answer({"username": name, "ok": False, "error": "the row read back differs from the one written"})


def open_dbm(request):
    import dbm

    try:
        passwords = dbm.open(request["passwords_db"], "c", 0o600)
        force = dbm.open(request["force_change_db"], "c", 0o600)
    except Exception as e:
        raise Fatal("cannot open the password databases: %s" % e)
    answer({"store": "dbm", "at": request["passwords_db"]})
    return passwords, force


def set_dbm(request, items):
    passwords, force = open_dbm(request)
    try:
        for item in items:
            name = item.get("username")
            try:
                key = name.encode("utf-8")
                hashed = item["hash"].encode("ascii")
                passwords[key] = hashed
                if item.get("force_change"):
                    force[key] = b"1"
                elif key in force:
                    del force[key]
                for db in (passwords, force):
                    if hasattr(db, "sync"):
                        db.sync()
                ok = passwords.get(key) == hashed and (key in force) == bool(item.get("force_change"))
                if ok:
                    answer({"username": name, "ok": True})
                else:
                    answer({"username": name, "ok": False, "error": "the value read back differs"})
            except Exception as e:
                answer({"username": name, "ok": False, "error": str(e)})
    finally:
        passwords.close()
        force.close()


def quota_models():
    try:
        from core.quota import orm
    except ModuleNotFoundError:
        return []
    names = ("UserQuota", "QuotaTransaction", "UsageSession")
    return [getattr(orm, n) for n in names if hasattr(orm, n)]


def rename_db(package, old, new):
    database, UserPassword = package
    from sqlalchemy import func, select, update

    models = [UserPassword] + quota_models()
    moved = {}
    try:
        with database.session_scope() as session:
            for model in models:
                table = model.__tablename__
                taken = session.execute(select(func.count()).select_from(model).where(model.username == new)).scalar()
                column = model.__table__.c.username
                if taken and (column.unique or column.primary_key):
                    raise Fatal("%s already has a row for `%s`; remove it first, nothing was moved" % (table, new))
                result = session.execute(update(model).where(model.username == old).values(username=new))
                moved[table] = result.rowcount
    except Fatal:
        raise
    except Exception as e:
        raise Fatal("the hub database refused the move, nothing was changed: %s" % reason(e))
    with database.session_scope() as session:
        for model in models:
            left = session.execute(select(func.count()).select_from(model).where(model.username == old)).scalar()
            if left:
                answer({"username": new, "ok": False, "error": "%s still has rows for `%s`" % (model.__tablename__, old)})
                return
    answer({"username": new, "ok": True, "moved": moved})


def rename_dbm(request, old, new):
    passwords, force = open_dbm(request)
    moved = {}
    try:
        for label, db in (("passwords", passwords), ("force_password_change", force)):
            o, n = old.encode("utf-8"), new.encode("utf-8")
            moved[label] = 0
            if o in db:
                db[n] = db[o]
                del db[o]
                moved[label] = 1
        ok = old.encode("utf-8") not in passwords
        answer({"username": new, "ok": ok, "moved": moved})
    finally:
        passwords.close()
        force.close()


def remove_db(package, items):
    """Deletes the password row and the quota balance of each user (the quota history stays)."""
    database, UserPassword = package
    from sqlalchemy import delete, func, select

    models = [UserPassword] + [m for m in quota_models() if m.__name__ == "UserQuota"]
    names = [item.get("username") for item in items if isinstance(item.get("username"), str)]
    removed = {name: {} for name in names}
    try:
        with database.session_scope() as session:
            for name in names:
                for model in models:
                    result = session.execute(delete(model).where(model.username == name))
                    removed[name][model.__tablename__] = result.rowcount
    except Exception as e:
        raise Fatal("the hub database refused the removal, nothing was changed: %s" % reason(e))
    with database.session_scope() as session:
        for name in names:
            left = [
                m.__tablename__
                for m in models
                if session.execute(select(func.count()).select_from(m).where(m.username == name)).scalar()
            ]
            if left:
                answer({"username": name, "ok": False, "error": "rows are still there in %s" % ", ".join(left)})
            else:
                answer({"username": name, "ok": True, "removed": removed[name]})


def remove_dbm(request, items):
    passwords, force = open_dbm(request)
    try:
        for item in items:
            name = item.get("username")
            try:
                key = name.encode("utf-8")
                removed = {}
                for label, db in (("passwords", passwords), ("force_password_change", force)):
                    removed[label] = 0
                    if key in db:
                        del db[key]
                        removed[label] = 1
                    if hasattr(db, "sync"):
                        db.sync()
                if key in passwords or key in force:
                    answer({"username": name, "ok": False, "error": "the key is still there"})
                else:
                    answer({"username": name, "ok": True, "removed": removed})
            except Exception as e:
                answer({"username": name, "ok": False, "error": str(e)})
    finally:
        passwords.close()
        force.close()


def main():
    lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
    if not lines:
        raise Fatal("no request on stdin")
    request = json.loads(lines[0])
    items = [json.loads(line) for line in lines[1:]]
    quiet()
    store, package = choose_store(request)
    if request.get("mode") == "rename":
        if len(items) != 1:
            raise Fatal("a rename needs one line with old and new")
        old, new = items[0]["old"], items[0]["new"]
        if store == "db":
            rename_db(open_db(package, request), old, new)
        else:
            rename_dbm(request, old, new)
    elif request.get("mode") == "remove":
        if store == "db":
            remove_db(open_db(package, request), items)
        else:
            remove_dbm(request, items)
    elif store == "db":
        set_db(open_db(package, request), items)
    else:
        set_dbm(request, items)
    return 0


try:
    sys.exit(main())
except Fatal as e:
    answer({"fatal": str(e)})
    sys.exit(3)
