"""The password table the test hub's authenticator reads (tests/hub/password_store.py)."""

from sqlalchemy import Boolean, Column, DateTime, Integer, LargeBinary, String, func

from core.database import Base


class UserPassword(Base):
    __tablename__ = "auth_user_passwords"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(255), nullable=False, unique=True, index=True)
    password_hash = Column(LargeBinary, nullable=False)
    force_change = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, default=func.now())
    updated_at = Column(DateTime, default=func.now(), onupdate=func.now())
