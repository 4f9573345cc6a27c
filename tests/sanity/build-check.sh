#!/usr/bin/env bash
# Build the collection as users get it and prove the artifact is usable on its own:
# - the tarball leaves out development files (tests, molecule, CI, venv/cache, the collections/ symlink);
# - it installs into an empty path, and `onprem.llm.site` passes --syntax-check from there
#   (run outside the checkout, so nothing resolves through ./collections or ./ansible.cfg);
# - ansible-builder writes the execution environment's build context from execution-environment.yml
#   with this tarball (as `make ee-context` does), with the pinned ansible-core and ansible-runner, and
#   its introspection finds every dependency meta/execution-environment.yml declares in the installed copy.
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
mkdir -p "$tmp/ee-src/build"
cp "$repo/execution-environment.yml" "$tmp/ee-src/"
cp "$tarball" "$tmp/ee-src/build/onprem-llm.tar.gz"
out=$("$bin/ansible-builder" create -f "$tmp/ee-src/execution-environment.yml" -c "$tmp/ee" 2>&1) || { echo "$out" >&2; exit 1; }
cmp -s "$tarball" "$tmp/ee/_build/collection/onprem-llm.tar.gz" \
  || { echo "build: the execution environment's context does not hold the built tarball" >&2; exit 1; }
refs=$(grep -E '^(ansible-core|ansible-runner)==' "$repo/requirements/tools.txt" | sort | paste -sd' ')
grep -qxF "ARG ANSIBLE_INSTALL_REFS=\"$refs\"" "$tmp/ee/Containerfile" \
  || { echo "build: the Containerfile does not install $refs (requirements/tools.txt)" >&2; exit 1; }
deps=$("$bin/ansible-builder" introspect --sanitize "$tmp/install" 2>&1) \
  || { echo "build: ansible-builder introspect failed on the installed collection:" >&2; echo "$deps" >&2; exit 1; }
declared=$(grep -hvE '^(#|$)' "$repo/meta/ee-requirements.txt" "$repo/meta/ee-bindep.txt")
while IFS= read -r dep; do
  grep -qF -- "- '$dep  # from collection onprem.llm'" <<<"$deps" \
    || { echo "build: ansible-builder introspect does not report '$dep' for onprem.llm:" >&2; echo "$deps" >&2; exit 1; }
done <<<"$declared"

echo "build: $(basename "$tarball") ($(wc -l <"$tmp/files") entries, $(du -h "$tarball" | cut -f1)) installs and onprem.llm.site passes --syntax-check;" \
  "the execution environment's context is written and declares $(wc -l <<<"$declared") dependencies"
