#!/usr/bin/env bash
# Creates (or refreshes) a Python virtualenv from a requirements file, only when the
# requirements changed since the last install.  Usage: setup-venv.sh VENV REQUIREMENTS
set -euo pipefail
venv=$1
req=$2
python=${PYTHON:-python3}
stamp="$venv/.requirements.sha"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "setup: python environment $venv from $req" >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
"$venv/bin/python" -m pip install -q -r "$req"
echo "$want" > "$stamp"
