#!/usr/bin/env bash
# Print, as PEM, the CA certificates this host trusts that a fresh lab node does not: here the
# TLS-intercepting proxy's CA (see README.md). Scenarios that need HTTPS from a node (PyPI) feed
# this to the collection's extra-CA feature instead of baking it into the image.
#   tests/lab/host-ca-certs.sh [image]  > extra-ca.pem
set -euo pipefail
image=${1:-localhost/onprem-llm-node:bookworm}
host_bundle=${ONPREM_HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
node_bundle=$(mktemp)
trap 'rm -f "$node_bundle"' EXIT
podman run --rm --runtime=runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "$image" \
  cat /etc/ssl/certs/ca-certificates.crt >"$node_bundle"
python3 - "$host_bundle" "$node_bundle" <<'PY'
import re
import sys

def certs(path):
    with open(path) as handle:
        return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", handle.read(), re.S)

known = set(certs(sys.argv[2]))
sys.stdout.write("".join(cert + "\n" for cert in certs(sys.argv[1]) if cert not in known))
PY
