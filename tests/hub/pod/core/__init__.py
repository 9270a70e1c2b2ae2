"""A test double of the hub package of the user guide's hub, for the fake hub pod.

Only what jhctl's exec program imports, with the same module and class
names: `core.database`, `core.authenticators.models`, `core.quota.orm` and
`core.z2jh`. The tables are the test hub's (tests/hub/password_store.py and
tests/hub/admin_api.py), so a write here is what the test hub reads.
"""
