#!/usr/bin/env bash
# Run `ansible-test sanity` on this checkout.
# ansible-test only works from a path ending in ansible_collections/<namespace>/<name>, and it
# resolves symlinks (getcwd), so the checkout's collections/ symlink cannot be used: the files git
# would commit (tracked + untracked-not-ignored) are copied to a temporary
# <tmp>/ansible_collections/onprem/llm. The copy must live outside this git work tree: inside it
# ansible-test would list files with this repo's git, which ignores .cache/, and find nothing.
# Sanity test venvs are built by ansible-test itself and cached under ~/.ansible/test/venv (keyed
# by their requirements); pip's download cache is kept under .cache/pip.
#   tests/sanity/run.sh [extra ansible-test sanity args, e.g. --test pep8]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=$repo/.venv/bin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/onprem-llm-sanity.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/ansible_collections/onprem/llm
mkdir -p "$copy"
# collections/ is the symlink back to the root: leave it out, it would loop inside the copy.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard -- . ':!:collections') \
  | tar -C "$repo" --no-recursion --ignore-failed-read --null --files-from=- -cf - \
  | tar -C "$copy" -xf -

export PIP_CACHE_DIR=$repo/.cache/pip PATH=$bin:$PATH

# ansible-test bootstraps pip into each sanity venv with a get-pip.py from a host that is not
# reachable here; give it get_pip_shim.py plus the pip wheel it asks for, from PyPI (once).
pip_version=$(grep -oP "pip='\K[0-9.]+" "$("$bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py")
bootstrap_cache=$HOME/.ansible/test/cache
get_pip=$bootstrap_cache/get_pip_${pip_version//./_}.py
if ! ls "$bootstrap_cache"/pip-"$pip_version"-*.whl >/dev/null 2>&1; then
  "$bin/python" -m pip download -q --no-deps --only-binary :all: -d "$bootstrap_cache" "pip==$pip_version"
fi
[ -e "$get_pip" ] || cp "$repo/tests/sanity/get_pip_shim.py" "$get_pip"
cd "$copy"
# --venv: the sanity tests run from a venv ansible-test makes on top of the venv's Python 3.11,
# with each test's pinned requirements installed from PyPI (no containers needed).
"$bin/ansible-test" sanity --python 3.11 --color "${ANSIBLE_TEST_COLOR:-yes}" "$@"
