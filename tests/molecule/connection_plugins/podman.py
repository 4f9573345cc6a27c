# Molecule's podman connection with pipelining, for the nsenter podman of the test machines.
# Molecule's podman driver writes `ansible_connection: podman` for every instance; with this
# directory in `connection_plugins` (molecule/default/config.yml) the short name resolves here
# before its redirect to containers.podman.podman. The only difference is has_pipelining: the
# collection's plugin turns pipelining off because `podman exec` without -i drops the module on
# stdin, while tests/molecule/podman-nsenter/podman answers `exec` with nsenter, which keeps stdin.
# A pipelined task is one exec (python reading the module on stdin) instead of four (home, temp
# directory, chmod and run, clean-up) and a file copy.
from __future__ import annotations

DOCUMENTATION = """
    name: podman
    short_description: Molecule's podman connection with pipelining (nsenter podman only)
    description:
      - containers.podman.podman with pipelining allowed. Needs a podman_executable whose C(exec)
        passes standard input to the command, as tests/molecule/podman-nsenter/podman does.
    extends_documentation_fragment:
      - connection_pipelining
    options:
      remote_addr:
        description: The name of the container.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: User to run commands as inside the container.
        ini:
          - section: defaults
            key: remote_user
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Extra arguments for the podman command line.
        default: ''
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: The podman command.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
"""

from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    """containers.podman.podman, pipelined."""

    transport = "podman"
    has_pipelining = True
