"""The shared SQLAlchemy engine: `init_database(url)` once, then `session_scope()`."""

from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

Base = declarative_base()

_engine = None
_sessions = None


def init_database(db_url):
    """Makes the engine for `db_url` (once) and returns it; says so on stdout, as the hub's does."""
    global _engine, _sessions
    if _engine is None:
        _engine = create_engine(db_url)
        _sessions = sessionmaker(bind=_engine)
        print(f"[DATABASE] Initialized: {db_url}")
    return _engine


@contextmanager
def session_scope():
    """A session that commits at the end of the block, or rolls back on an exception."""
    if _sessions is None:
        raise RuntimeError("Database not initialized. Call init_database first.")
    session = _sessions()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
