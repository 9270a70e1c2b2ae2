"""The quota tables of the test hub's admin API (tests/hub/admin_api.py), as models."""

from sqlalchemy import Boolean, Column, Integer, String, Text

from core.database import Base


class UserQuota(Base):
    __tablename__ = "quota"

    username = Column(String, primary_key=True)
    balance = Column(Integer, nullable=False)
    unlimited = Column(Boolean, nullable=False, default=False)
    updated_at = Column(Text, nullable=False)


class QuotaTransaction(Base):
    __tablename__ = "quota_transactions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String, nullable=False)
    amount = Column(Integer, nullable=False)
    transaction_type = Column(Text, nullable=False)
    resource_type = Column(Text)
    description = Column(Text)
    balance_before = Column(Integer, nullable=False)
    balance_after = Column(Integer, nullable=False)
    created_at = Column(Text, nullable=False)
    created_by = Column(Text)
