"""JupyterHub configuration for jhctl's integration tests (JupyterHub 4.1 to 6.1).

The Rust harness (tests/support/hub.rs) starts `python -m jupyterhub -f THIS`
with these environment variables:

- JHCTL_TEST_HUB_PORT: loopback port the hub serves /hub/api on
- JHCTL_TEST_HUB_SCRATCH: folder for the hub's database, cookie secret, pid
  file and the admin API's store (admin-api.sqlite)
- JHCTL_TEST_HUB_TOKEN: API token (>= 8 characters) of the `jhctl-test`
  service, which has the admin role
- JHCTL_TEST_HUB_AUTH (optional): `firstuse` or `native`, a stock
  password authenticator instead of the guide's password table
- JHCTL_TEST_HUB_PAGE_MAX (optional): the most users or groups the hub serves
  a page (api_page_max_limit and api_page_default_limit); unset: 200 and 50
- JHCTL_TEST_HUB_NO_ADMIN_API (optional): when set, the hub has no admin
  API, as a stock JupyterHub (its /hub/admin/api/... answers are the hub's
  HTML pages)
- JHCTL_TEST_HUB_MIN_PASSWORD (optional): the shortest password the admin
  API's set-password takes (the authenticator's `min_password_length`);
  unset: 7, the first-use authenticator's default

The same file serves every hub version the suite runs against
(JHCTL_TEST_HUB in tests/support/hub.rs); where the versions' options differ,
it asks `jupyterhub.version_info`.

There is no proxy: the hub's own port answers /hub/api and /hub/admin/api.
Single-user servers are jupyterhub's tiny mock server, so they really start
and stop.
"""

import os
import signal
import sys
import threading
import time

from jupyterhub import version_info as hub_version
from jupyterhub.proxy import Proxy

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
# No __pycache__ in the source tree.
sys.dont_write_bytecode = True


def required_env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"jupyterhub_config.py: environment variable {name} is not set")
    return value


port = int(required_env("JHCTL_TEST_HUB_PORT"))
scratch = required_env("JHCTL_TEST_HUB_SCRATCH")
token = required_env("JHCTL_TEST_HUB_TOKEN")
os.environ.setdefault("JHCTL_ADMIN_API_DB", os.path.join(scratch, "admin-api.sqlite"))

import admin_api  # noqa: E402 (needs sys.path and the store path above)

# The tables exist from the start, as the hub package's do (the fake hub
# pod's program checks that `auth_user_passwords` is there).
admin_api.create_store()


class NoProxy(Proxy):
    """A proxy that isn't there: the tests talk to the hub's port directly."""

    should_start = False

    async def add_route(self, routespec, target, data):
        pass

    async def delete_route(self, routespec):
        pass

    async def get_all_routes(self):
        return {}


def exit_with_parent():
    """Stop the hub and its servers when the test process that started it dies.

    The harness puts the hub in its own process group, so a Ctrl-C on
    `cargo test` or a killed test binary would otherwise leave it running.
    """
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os.killpg(os.getpgrp(), signal.SIGKILL)


threading.Thread(target=exit_with_parent, name="exit-with-parent", daemon=True).start()

c = get_config()  # noqa: F821 (provided by traitlets)

c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{port}"
c.JupyterHub.proxy_class = NoProxy
c.JupyterHub.db_url = "sqlite:///" + os.path.join(scratch, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(scratch, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(scratch, "jupyterhub.pid")

# Passwords in `auth_user_passwords`, as the user guide's hub keeps them; a
# user without a row sets a password by logging in (first use).
c.JupyterHub.authenticator_class = "password_store.PasswordAuthenticator"
if hub_version >= (5,):
    # From 5.0 on, a hub lets in only allowed users unless told otherwise;
    # 4.x lets anyone in who authenticates (and has no `allow_all`).
    c.Authenticator.allow_all = True

# JHCTL_TEST_HUB_AUTH picks a stock password authenticator instead:
# `firstuse` (FirstUseAuthenticator: passwords.dbm in the hub's working
# directory, the scratch folder; users must exist first, as on TLJH) or
# `native` (NativeAuthenticator: users_info in the hub's database).
auth = os.environ.get("JHCTL_TEST_HUB_AUTH", "")
if auth == "firstuse":
    c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
    c.FirstUseAuthenticator.create_users = False
elif auth == "native":
    c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
elif auth:
    sys.exit(f"jupyterhub_config.py: JHCTL_TEST_HUB_AUTH={auth!r}: use firstuse or native")

c.JupyterHub.services = [{"name": "jhctl-test", "api_token": token}]
c.JupyterHub.load_roles = [{"name": "admin", "services": ["jhctl-test"]}]

c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.tests.mocksu"]
c.Spawner.ip = "127.0.0.1"
c.Spawner.port = 0
c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(scratch, "home", "{username}")
# Keep single-user servers in the hub's process group, so the harness's
# kill of the group takes them along.
c.LocalProcessSpawner.popen_kwargs = {"start_new_session": False}

page_max = os.environ.get("JHCTL_TEST_HUB_PAGE_MAX")
if page_max:
    c.JupyterHub.api_page_max_limit = int(page_max)
    c.JupyterHub.api_page_default_limit = int(page_max)

if not os.environ.get("JHCTL_TEST_HUB_NO_ADMIN_API"):
    c.JupyterHub.extra_handlers = admin_api.handlers()

# Named servers (`USER/SERVER`, `servers prune`); default servers behave as before.
c.JupyterHub.allow_named_servers = True
