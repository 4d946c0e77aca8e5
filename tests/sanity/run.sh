#!/usr/bin/env bash
# ansible-test sanity of the built collection on the ansible-core of one venv, offline-safe:
#   tests/sanity/run.sh VENV TARBALL BUILD
# The tree, ansible-test's home (its sanity venvs, reused between runs, and the pip bootstrap stand-in)
# and the log go under BUILD/sanity/. Prints one line with the result and, on failure, the findings.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$(cd "$1" && pwd)
tarball=$(realpath "$2")
build=$(mkdir -p "$3/sanity" && cd "$3" && pwd)
core=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
python=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
tree=$build/sanity/core-$core
home=$build/sanity/home
log=$build/sanity/core-$core.log
"$venv/bin/python" "$here/prepare.py" "$tarball" "$tree" "$home" > "$log" 2>&1 || { cat "$log"; exit 1; }
start=$(date +%s)
(
  cd "$tree/ansible_collections/hotpatch/windows" &&
  PIP_CACHE_DIR=${PIP_CACHE_DIR:-$HOME/.cache/pip} HOME=$home PATH=$venv/bin:$PATH \
    ansible-test sanity --python "$python" --color no
) >> "$log" 2>&1
rc=$?
echo "ansible-test sanity, ansible-core $core (Python $python): rc $rc in $(( $(date +%s) - start )) s; log: $log"
if [ $rc != 0 ]; then grep -E '^(ERROR|FATAL)' "$log"; fi
exit $rc
