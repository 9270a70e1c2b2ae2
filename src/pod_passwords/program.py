# jhctl: write password hashes where the hub reads them.
# Constant program, run by the hub's own interpreter (in the hub pod, on
# the hub's machine, or there over ssh); every piece of data arrives on
# stdin as JSON lines.
#
# Line 1, the request:
#   {"mode": "set" | "rename" | "remove", "transport": "exec" | "local" | "ssh",
#    "store": "auto" | "db" | "dbm" | "firstuse" | "native",
#    "hub_dir": str | null, "db_url": str | null, "passwords_db": str,
#    "force_change_db": str}
# then, for "set", one line per user:
#   {"username": str, "hash": str, "force_change": bool | null,
#    "short": bool (shorter than FirstUseAuthenticator's minimum)}
# or, for "rename", one line:
#   {"old": str, "new": str}
# or, for "remove" (records of deleted users), one line per user:
#   {"username": str}
#
# Answers on stdout, one JSON object a line:
#   {"store": KIND, "at": str}    which store is written (first)
#   {"username": str, "ok": bool, "error": str}    one per user, only after
#       the write is committed and read back
#   {"username": NEW, "ok": bool, "moved": {TABLE: ROWS}}    for "rename"
#   {"username": str, "ok": bool, "removed": {TABLE: ROWS}}    for "remove",
#       after the commit and a read-back that finds no row left
#   {"fatal": str}    nothing could be written (exit status 2 when no
#       store could be chosen from what is there, else 3)
#
# Stores (KIND):
#   db  - the `auth_user_passwords` table of the hub's database, through the
#         hub's own package (`core.database`, `core.authenticators.models`,
#         `core.z2jh`), imported at run time from the hub image's PYTHONPATH.
#         The database URL is the hub's: z2jh `hub.db.type` sqlite-pvc ->
#         sqlite:////srv/jupyterhub/jupyterhub.sqlite, sqlite-memory -> not
#         reachable, else `hub.db.url`; or `db_url` from the request.
#   dbm - the first-use authenticator's two dbm files (older guide hubs).
#   firstuse - FirstUseAuthenticator's one dbm file (`passwords_db`): key the
#         username (UTF-8), value the raw bcrypt hash; no forced change.
#   native - NativeAuthenticator's `users_info` rows in the hub's database
#         (`db_url`, else the z2jh one): hash as bytes, is_authorized 1.
# "force_change": null is the store's default: forced on db and dbm, not
# possible on firstuse and native (true there fails the batch).
import io
import json
import os
import sys

OUT = sys.stdout
SQLITE_PVC_URL = "sqlite:////srv/jupyterhub/jupyterhub.sqlite"


class Fatal(Exception):
    pass


class Refused(Fatal):
    """No store could be chosen from what is there: bad input, exit status 2."""


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


def dbm_files(path):
    """The files of the dbm database at `path`, whatever format made them."""
    return [path + ext for ext in ("", ".db", ".dir", ".pag", ".dat") if os.path.exists(path + ext)]


def migrated(request):
    """Whether a current guide hub migrated the dbm files away (it never reads them again)."""
    folder = os.path.dirname(request["passwords_db"]) or "."
    return os.path.exists(os.path.join(folder, ".auth_migrated"))


def firstuse_importable():
    try:
        import firstuseauthenticator  # noqa: F401

        return True
    except Exception:
        return False


def native_url(request, package):
    """The hub database's URL for the native store: the request's, else the z2jh one."""
    if request.get("db_url"):
        return request["db_url"]
    if package is not None or request.get("transport", "exec") == "exec":
        try:
            return hub_db_url()
        except Fatal:
            if package is not None:
                raise
    return SQLITE_PVC_URL


def sqlite_missing(url):
    """Whether `url` names an SQLite file that is not there (opening it would make an empty one)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return False
    path = url[len(prefix):].split("?", 1)[0]
    return path not in ("", ":memory:") and not os.path.exists(path)


def has_native_rows(request, package):
    """Whether the hub database has rows in NativeAuthenticator's `users_info` table (False when it cannot be read).

    The table alone says nothing: JupyterHub imports every installed
    authenticator at start, and NativeAuthenticator's model then makes the
    table in the database of any hub where the package is installed (TLJH's).
    """
    try:
        url = native_url(request, package)
        if sqlite_missing(url):
            return False
        from sqlalchemy import create_engine, inspect, text

        engine = create_engine(url)
        try:
            if not inspect(engine).has_table("users_info"):
                return False
            with engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM users_info")).scalar() > 0
        finally:
            engine.dispose()
    except Exception:
        return False


def found_stores(request, package):
    """Every store this hub shows signs of, as (kind, what was seen)."""
    found = []
    if package is not None:
        found.append(("db", "the hub package (core.database)"))
    if has_native_rows(request, package):
        found.append(("native", "NativeAuthenticator's rows in users_info in the hub database"))
    files = dbm_files(request["passwords_db"])
    if files and package is None and not migrated(request):
        force = dbm_files(request["force_change_db"])
        found.append(("dbm" if force else "firstuse", " and ".join(files + force)))
    return found


def choose_store(request):
    store = request.get("store") or "auto"
    if store in ("dbm", "firstuse", "native"):
        return (store, hub_package() if store == "native" else None)
    package = hub_package()
    if store == "db" and package is None:
        raise Fatal(
            "the hub package (core.database, core.authenticators.models) is not importable in this pod; "
            "check PYTHONPATH, or use --store dbm on a hub that reads the dbm files"
        )
    if store == "db":
        return ("db", package)
    found = found_stores(request, package)
    if len(found) == 1:
        return (found[0][0], package)
    if len(found) > 1:
        raise Refused(
            "found more than one password store: %s; name the one the hub uses with --store %s"
            % ("; ".join("%s (%s)" % (kind, seen) for kind, seen in found), "|".join(k for k, _ in found))
        )
    if request.get("transport", "exec") == "exec":
        if request.get("db_url"):
            raise Refused(
                "--db-url was given but the hub package is not importable in this pod and the database has no "
                "NativeAuthenticator rows; check PYTHONPATH, or name the store with --store native"
            )
        if firstuse_importable():
            return ("dbm", None)
        raise Refused(
            "found no password store in this pod: the hub package (core.database) is not importable and "
            "no first-use authenticator or %s is there; check the target pod, or name the store with --store"
            % request["passwords_db"]
        )
    raise Refused(
        "found no password store in %s: no %s*, no rows in users_info in the hub database, no hub package; "
        "check --hub-dir (and --db-url), or name the store the hub uses: --store firstuse (FirstUseAuthenticator, "
        "nobody has logged in yet) or --store native (NativeAuthenticator, nobody has signed up yet)"
        % (request.get("hub_dir") or ".", request["passwords_db"])
    )


def forced(item):
    """The forced change asked for on a store that has one: on unless asked not to."""
    force = item.get("force_change")
    return True if force is None else bool(force)


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
            good.append((item["username"], item["hash"].encode("ascii"), forced(item)))
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
                if forced(item):
                    force[key] = b"1"
                elif key in force:
                    del force[key]
                for db in (passwords, force):
                    if hasattr(db, "sync"):
                        db.sync()
                ok = passwords.get(key) == hashed and (key in force) == forced(item)
                if ok:
                    answer({"username": name, "ok": True})
                else:
                    answer({"username": name, "ok": False, "error": "the value read back differs"})
            except Exception as e:
                answer({"username": name, "ok": False, "error": str(e)})
    finally:
        passwords.close()
        force.close()


FIRSTUSE_MIN_LENGTH = 7


def refuse_forced(kind, items):
    """Stores without a forced change cannot honour one that was asked for: nothing is written."""
    if any(item.get("force_change") is True for item in items):
        raise Fatal(
            "the %s store has no forced password change (its authenticator has none); "
            "run again with --no-force-change" % kind
        )


def set_firstuse(request, items):
    """FirstUseAuthenticator's dbm file: key the username, value the raw bcrypt hash."""
    import dbm

    refuse_forced("firstuse", items)
    good = []
    for item in items:
        name = item.get("username")
        if item.get("short"):
            answer({"username": name, "ok": False, "error": "the password is shorter than %d characters, "
                    "FirstUseAuthenticator's minimum (min_password_length); nothing was written for this user"
                    % FIRSTUSE_MIN_LENGTH})
        else:
            good.append(item)
    path = request["passwords_db"]
    try:
        db = dbm.open(path, "c", 0o600)
    except Exception as e:
        raise Fatal("cannot open FirstUseAuthenticator's password file %s: %s" % (path, e))
    answer({"store": "firstuse", "at": path})
    try:
        for item in good:
            name = item.get("username")
            try:
                key, hashed = name.encode("utf-8"), item["hash"].encode("ascii")
                db[key] = hashed
                if hasattr(db, "sync"):
                    db.sync()
                if db.get(key) == hashed:
                    answer({"username": name, "ok": True})
                else:
                    answer({"username": name, "ok": False, "error": "the value read back differs"})
            except Exception as e:
                answer({"username": name, "ok": False, "error": str(e)})
    finally:
        db.close()


def set_native(request, package, items):
    """NativeAuthenticator's `users_info` rows, upserted in one transaction, then read back."""
    import base64

    from sqlalchemy import MetaData, Table, create_engine

    refuse_forced("native", items)
    url = native_url(request, package)
    if sqlite_missing(url):
        raise Fatal("the hub database %s is not there; check --hub-dir or --db-url" % shown_url(url))
    try:
        engine = create_engine(url)
        table = Table("users_info", MetaData(), autoload_with=engine)
    except Exception as e:
        raise Fatal(
            "the hub database at %s has no users_info table NativeAuthenticator made (%s); is this the hub's "
            "database, and does the hub use NativeAuthenticator? (--db-url)" % (shown_url(url), type(e).__name__)
        )
    answer({"store": "native", "at": "users_info in %s" % shown_url(url)})
    good = [(item["username"], item["hash"].encode("ascii")) for item in items]
    try:
        with engine.begin() as conn:
            for name, hashed in good:
                c = table.c
                changed = conn.execute(
                    table.update().where(c.username == name).values(password=hashed, is_authorized=True)
                ).rowcount
                if not changed:
                    conn.execute(table.insert().values(
                        username=name, password=hashed, is_authorized=True, login_email_sent=False,
                        email=None, has_2fa=False, otp_secret=base64.b32encode(os.urandom(10)).decode("ascii"),
                    ))
    except Exception as e:
        raise Fatal("the hub database refused the batch, nothing was changed: %s" % reason(e))
    with engine.connect() as conn:
        for name, hashed in good:
            rows = conn.execute(table.select().where(table.c.username == name)).fetchall()
            if rows and all(bytes(r.password) == hashed and r.is_authorized for r in rows):
                answer({"username": name, "ok": True})
            else:
                answer({"username": name, "ok": False, "error": "the row read back differs from the one written"})
    engine.dispose()


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


def rename_firstuse(request, old, new):
    import dbm

    path = request["passwords_db"]
    if not dbm_files(path):
        raise Fatal("FirstUseAuthenticator's password file %s is not there; check --hub-dir" % path)
    db = dbm.open(path, "w")
    answer({"store": "firstuse", "at": path})
    try:
        o, n = old.encode("utf-8"), new.encode("utf-8")
        moved = 0
        if o in db:
            db[n] = db[o]
            del db[o]
            moved = 1
        answer({"username": new, "ok": o not in db, "moved": {"passwords": moved}})
    finally:
        db.close()


def rename_native(request, package, old, new):
    from sqlalchemy import MetaData, Table, create_engine, func, select

    url = native_url(request, package)
    if sqlite_missing(url):
        raise Fatal("the hub database %s is not there; check --hub-dir or --db-url" % shown_url(url))
    engine = create_engine(url)
    try:
        table = Table("users_info", MetaData(), autoload_with=engine)
    except Exception as e:
        raise Fatal("the hub database at %s has no users_info table (%s)" % (shown_url(url), type(e).__name__))
    answer({"store": "native", "at": "users_info in %s" % shown_url(url)})
    try:
        with engine.begin() as conn:
            taken = conn.execute(select(func.count()).select_from(table).where(table.c.username == new)).scalar()
            if taken:
                raise Fatal("users_info already has a row for `%s`; remove it first, nothing was moved" % new)
            moved = conn.execute(table.update().where(table.c.username == old).values(username=new)).rowcount
    except Fatal:
        raise
    except Exception as e:
        raise Fatal("the hub database refused the move, nothing was changed: %s" % reason(e))
    with engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(table).where(table.c.username == old)).scalar()
    engine.dispose()
    answer({"username": new, "ok": not left, "moved": {"users_info": moved}})


def check_removed(request, package, store, items):
    """FirstUse and Native remove a user's record when the hub deletes the
    user (their `delete_user`): check that none is left."""
    names = [item.get("username") for item in items if isinstance(item.get("username"), str)]
    if store == "firstuse":
        import dbm

        path = request["passwords_db"]
        keys = set()
        if dbm_files(path):
            db = dbm.open(path, "r")
            try:
                keys = {name for name in names if name.encode("utf-8") in db}
            finally:
                db.close()
        left = {name: "passwords.dbm" for name in keys}
    else:
        from sqlalchemy import MetaData, Table, create_engine, select

        engine = create_engine(native_url(request, package))
        table = Table("users_info", MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            rows = conn.execute(select(table.c.username).where(table.c.username.in_(names))).all()
        engine.dispose()
        left = {row[0]: "users_info" for row in rows}
    for name in names:
        if name in left:
            answer({"username": name, "ok": False, "error": "%s still has a record for it" % left[name]})
        else:
            answer({"username": name, "ok": True, "removed": {}})


def main():
    lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
    if not lines:
        raise Fatal("no request on stdin")
    request = json.loads(lines[0])
    items = [json.loads(line) for line in lines[1:]]
    quiet()
    if request.get("hub_dir"):
        try:
            os.chdir(request["hub_dir"])
        except OSError as e:
            raise Fatal("cannot enter the hub's directory %s: %s; check --hub-dir" % (request["hub_dir"], e.strerror))
    store, package = choose_store(request)
    if request.get("mode") == "rename":
        if len(items) != 1:
            raise Fatal("a rename needs one line with old and new")
        old, new = items[0]["old"], items[0]["new"]
        if store == "db":
            rename_db(open_db(package, request), old, new)
        elif store == "firstuse":
            rename_firstuse(request, old, new)
        elif store == "native":
            rename_native(request, package, old, new)
        else:
            rename_dbm(request, old, new)
    elif request.get("mode") == "remove":
        if store == "db":
            remove_db(open_db(package, request), items)
        elif store in ("firstuse", "native"):
            check_removed(request, package, store, items)
        else:
            remove_dbm(request, items)
    elif store == "db":
        set_db(open_db(package, request), items)
    elif store == "firstuse":
        set_firstuse(request, items)
    elif store == "native":
        set_native(request, package, items)
    else:
        set_dbm(request, items)
    return 0


try:
    sys.exit(main())
except Refused as e:
    answer({"fatal": str(e)})
    sys.exit(2)
except Fatal as e:
    answer({"fatal": str(e)})
    sys.exit(3)
