# jhctl: set password hashes in the hub's first-use authenticator databases.
# Constant program: data arrives on stdin as JSON lines
#   {"username": str, "hash": str, "force_change": bool}
# and one JSON line per user is answered on stdout:
#   {"username": str, "ok": bool, "error": str (when not ok)}
# Arguments: PASSWORDS_DB FORCE_CHANGE_DB
import dbm
import json
import sys


def main():
    passwords_path, force_path = sys.argv[1], sys.argv[2]
    try:
        passwords = dbm.open(passwords_path, "c", 0o600)
        force = dbm.open(force_path, "c", 0o600)
    except Exception as e:
        print(json.dumps({"fatal": "cannot open the password databases: %s" % e}), flush=True)
        return 3
    try:
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            name = None
            try:
                item = json.loads(line)
                name = item["username"]
                key = name.encode("utf-8")
                passwords[key] = item["hash"].encode("ascii")
                if item.get("force_change"):
                    force[key] = b"1"
                elif key in force:
                    del force[key]
                print(json.dumps({"username": name, "ok": True}), flush=True)
            except Exception as e:
                print(json.dumps({"username": name, "ok": False, "error": str(e)}), flush=True)
    finally:
        passwords.close()
        force.close()
    return 0


sys.exit(main())
