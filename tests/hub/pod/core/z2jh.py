"""The Helm chart values, read from the JSON file named by JHCTL_FAKE_Z2JH_VALUES.

`get_config("hub.db.type")` walks the dotted path; secrets come from the
same file's `secrets` object.
"""

import json
import os


def _values():
    path = os.environ.get("JHCTL_FAKE_Z2JH_VALUES")
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def get_config(key, default=None):
    value = _values()
    for level in key.split("."):
        if not isinstance(value, dict) or level not in value:
            return default
        value = value[level]
    return value


def get_secret_value(key, default="never-explicitly-set"):
    secrets = _values().get("secrets", {})
    if key in secrets:
        return secrets[key]
    if default != "never-explicitly-set":
        return default
    raise Exception(f"{key} not found in either k8s Secret!")
