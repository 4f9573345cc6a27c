#!/usr/bin/env bash
# Build the collection as users get it and prove the artifact is usable on its own:
# - the tarball leaves out development files (tests, molecule, CI, venv/cache, the collections/ symlink);
# - it installs into an empty path, and `onprem.llm.site` passes --syntax-check from there
#   (run outside the checkout, so nothing resolves through ./collections or ./ansible.cfg).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=$repo/.venv/bin
tmp=$(mktemp -d "${TMPDIR:-/tmp}/onprem-llm-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$bin/ansible-galaxy" collection build --output-path "$tmp/dist" "$repo" >/dev/null
tarball=$(ls "$tmp"/dist/onprem-llm-*.tar.gz)
tar -tzf "$tarball" >"$tmp/files"

leaked=$(grep -E '^(tests|molecule|\.ci|\.github|\.cache|\.venv|\.ansible|\.pytest_cache|collections|requirements|build)(/|$)|^(Makefile|\.yamllint|\.ansible-lint|\.gitignore)$|(^|/)__pycache__/|\.pyc$' "$tmp/files" || true)
if [ -n "$leaked" ]; then
  echo "build: development files in $(basename "$tarball"):" >&2
  echo "$leaked" | sed 's/^/  /' >&2
  exit 1
fi
for required in MANIFEST.json FILES.json meta/runtime.yml playbooks/site.yml; do
  grep -qx "$required" "$tmp/files" || { echo "build: $required missing from the tarball" >&2; exit 1; }
done

cd "$tmp"
: >ansible.cfg   # an empty config: none of the checkout's settings apply
export ANSIBLE_CONFIG=$tmp/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$tmp/install
"$bin/ansible-galaxy" collection install --no-deps -p "$tmp/install" "$tarball" >/dev/null
out=$("$bin/ansible-playbook" -i localhost, --syntax-check onprem.llm.site 2>&1) || { echo "$out" >&2; exit 1; }
echo "build: $(basename "$tarball") ($(wc -l <"$tmp/files") entries, $(du -h "$tarball" | cut -f1)) installs and onprem.llm.site passes --syntax-check"
