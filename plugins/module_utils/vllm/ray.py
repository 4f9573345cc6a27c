# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a Ray cluster for multi-node vLLM (role onprem.llm.vllm, ``vllm_ray_enabled``).

Pure logic, no Ansible import. From the facts of every host of the Ray group (Ansible's interface
facts and ``onprem_gpu``) decide the head and the workers, each node's address on the private
interface, the ``ray start`` arguments and environment of each node, and the vLLM instances served by
the cluster (tensor-parallel = GPUs per node, pipeline-parallel = number of nodes, executor ``ray``,
the server on the head only). Every problem is an actionable message; the plan is only used when
there is none.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.onprem.llm.plugins.module_utils.vllm import instances as _inst

# Ray's ports besides the GCS port (vllm_ray_port). Pinned so a firewall between the nodes can be
# written; the worker range is inclusive.
DEFAULT_PORTS = {
    "node_manager": 6381,
    "object_manager": 6382,
    "runtime_env_agent": 6383,
    "dashboard_agent_grpc": 6384,
    "dashboard_agent_listen": 6385,
    "metrics_export": 6386,
    "min_worker": 10002,
    "max_worker": 10201,
}
PORT_OPTIONS = (
    ("node_manager", "--node-manager-port"),
    ("object_manager", "--object-manager-port"),
    ("runtime_env_agent", "--runtime-env-agent-port"),
    ("dashboard_agent_grpc", "--dashboard-agent-grpc-port"),
    ("dashboard_agent_listen", "--dashboard-agent-listen-port"),
    ("metrics_export", "--metrics-export-port"),
    ("min_worker", "--min-worker-port"),
    ("max_worker", "--max-worker-port"),
)
# Ray's root temporary directory (sessions, sockets, logs): the units' StateDirectory.
TEMP_DIR = "/var/lib/vllm-ray"
# Keys of a multi-node instance that belong to a single node's GPUs.
SINGLE_NODE_KEYS = ("gpus",)


def _fact_key(interface):
    """Ansible stores interface facts under the name with '-' and ':' turned into '_'."""
    return str(interface).replace("-", "_").replace(":", "_")


def node_address(facts, interface):
    """(ipv4 address, problem) of ``interface`` in one host's ``ansible_facts``."""
    facts = facts or {}
    iface = facts.get(_fact_key(interface))
    if not isinstance(iface, dict):
        names = ", ".join(sorted(facts.get("interfaces") or [])) or "none gathered"
        return None, "has no interface %s (its interfaces: %s)" % (interface, names)
    addr = (iface.get("ipv4") or {}).get("address")
    if not addr:
        return None, "interface %s has no IPv4 address" % interface
    try:
        parsed = ipaddress.ip_address(addr)
    except ValueError:
        return None, "interface %s has no valid IPv4 address (%r)" % (interface, addr)
    if parsed.is_loopback or parsed.is_unspecified:
        return None, "interface %s has the address %s, which other nodes cannot reach" % (interface, addr)
    if iface.get("active") is False:
        return None, "interface %s is down" % interface
    return addr, None


def _gpu_count(facts):
    gpu = (facts or {}).get("onprem_gpu")
    if not isinstance(gpu, dict):
        return None
    count = gpu.get("count")
    if count is None:
        count = len(gpu.get("gpus") or [])
    return int(count)


def merged_ports(port, ports):
    out = dict(DEFAULT_PORTS)
    out.update(dict((str(k), v) for k, v in (ports or {}).items()))
    out["gcs"] = port
    return out


def port_problems(ports, var="vllm_ray_ports"):
    problems = []
    for key in sorted(ports):
        if key != "gcs" and key not in DEFAULT_PORTS:
            problems.append("%s: unknown key %s (known: %s)" % (var, key, ", ".join(sorted(DEFAULT_PORTS))))
    for key, value in sorted(ports.items()):
        if not isinstance(value, int) or isinstance(value, bool) or not 1024 <= value <= 65535:
            name = "vllm_ray_port" if key == "gcs" else "%s.%s" % (var, key)
            problems.append("%s must be an integer from 1024 to 65535 (got %r)" % (name, value))
    if problems:
        return problems
    low, high = ports["min_worker"], ports["max_worker"]
    if low > high:
        problems.append("%s: min_worker %d is above max_worker %d" % (var, low, high))
    seen = {}
    for key, value in sorted(ports.items()):
        if key in ("min_worker", "max_worker"):
            continue
        if value in seen:
            problems.append("Ray ports %s and %s are both %d" % (seen[value], key, value))
        seen[value] = key
        if low <= value <= high:
            problems.append("Ray port %s %d lies in the worker port range %d-%d" % (key, value, low, high))
    return problems


def _in_ray_ports(port, ports):
    if ports["min_worker"] <= port <= ports["max_worker"]:
        return "the Ray worker port range"
    for key, value in ports.items():
        if key not in ("min_worker", "max_worker") and value == port:
            return "Ray's %s port" % key
    return None


def start_args(role, address, head_address, ports, num_gpus, object_store_memory=0, extra_args=None,
               temp_dir=TEMP_DIR):
    """argv after ``ray start`` for one node (``--block``: systemd supervises the process)."""
    args = ["--block", "--node-ip-address=%s" % address, "--temp-dir=%s" % temp_dir]
    if role == "head":
        args += ["--head", "--port=%d" % ports["gcs"], "--include-dashboard=false",
                 "--dashboard-host=127.0.0.1"]
    else:
        args += ["--address=%s" % head_address]
    for key, option in PORT_OPTIONS:
        args.append("%s=%d" % (option, ports[key]))
    args.append("--num-gpus=%d" % num_gpus)
    if object_store_memory:
        args.append("--object-store-memory=%d" % object_store_memory)
    args += ["--disable-usage-stats", "--log-style=record"]
    args += [str(a) for a in (extra_args or [])]
    return args


def node_env(address, interface):
    """Environment of a Ray node: vLLM's workers run in it and must use the private interface."""
    return {
        "VLLM_HOST_IP": address,
        "GLOO_SOCKET_IFNAME": interface,
        "NCCL_SOCKET_IFNAME": interface,
        "RAY_USAGE_STATS_ENABLED": "0",
    }


# Long on purpose: validation and the plan of a Ray cluster in one pass, so the problems list is complete.
def cluster_plan(facts_by_host, hosts, head="", interface="", port=6379, ports=None, variant="cpu",
                 gpus_per_node=0, object_store_memory=0, extra_args=None, group="",
                 instances=None, models=None, other_instances=None, interfaces=None):
    """The whole plan; ``problems`` lists everything wrong (the rest is only meaningful when empty).

    ``facts_by_host``: host -> its ``ansible_facts``; ``hosts``: the Ray group's hosts in inventory
    order; ``head``: the head (``""``: the first host); ``instances``: ``vllm_ray_instances``;
    ``other_instances``: ``vllm_instances`` (names and ports must not clash).
    """
    problems = []
    hosts = list(hosts or [])
    facts_by_host = facts_by_host or {}
    ports = merged_ports(port, ports)
    problems += port_problems(ports)
    where = "vllm_ray_group %r" % group if group else "the Ray group"
    if not hosts:
        problems.append("%s has no hosts: name an inventory group holding the head and the workers" % where)
    interfaces = dict((h, i) for h, i in (interfaces or {}).items() if i)
    if not interface and not all(h in interfaces for h in hosts):
        problems.append("vllm_ray_interface is empty: name the private network interface the nodes "
                        "reach each other on (e.g. ens1f0)")
    head = head or (hosts[0] if hosts else "")
    if hosts and head not in hosts:
        problems.append("vllm_ray_head %s is not a host of %s (hosts: %s)" % (head, where, ", ".join(hosts)))
    ordered = ([head] if head in hosts else []) + [h for h in hosts if h != head]
    nodes, counts = [], {}
    for name in ordered:
        facts = facts_by_host.get(name)
        if not facts:
            problems.append("host %s of %s has no facts: run the role on every host of the group in one "
                            "play (no --limit to part of it)" % (name, where))
            continue
        iface = interfaces.get(name) or interface
        addr, problem = node_address(facts, iface) if iface else (None, None)
        if problem:
            problems.append("host %s %s; set vllm_ray_interface (per host if the names differ) to the "
                            "private interface" % (name, problem))
        count = _gpu_count(facts)
        if count is None:
            problems.append("host %s has no GPU facts (ansible_facts.onprem_gpu): run onprem.llm.gpu_facts "
                            "there" % name)
            count = 0
        counts[name] = count
        nodes.append({"name": name, "role": "head" if name == head else "worker", "address": addr,
                      "interface": iface, "gpus": count})
    seen_addr = {}
    for node in nodes:
        if node["address"] and node["address"] in seen_addr:
            problems.append("hosts %s and %s both have the address %s"
                            % (seen_addr[node["address"]], node["name"], node["address"]))
        seen_addr.setdefault(node["address"], node["name"])

    gpu_build = variant != "cpu"
    per_node = 0
    if gpu_build and counts:
        smallest, largest = min(counts.values()), max(counts.values())
        if gpus_per_node:
            per_node = gpus_per_node
            short = sorted(h for h, c in counts.items() if c < gpus_per_node)
            if short:
                problems.append("vllm_ray_gpus_per_node is %d but %s %s fewer GPUs (%s)" % (
                    gpus_per_node, ", ".join(short), "has" if len(short) == 1 else "have",
                    ", ".join("%s %d" % (h, counts[h]) for h in short)))
        elif smallest != largest:
            problems.append(
                "the nodes of %s have unequal GPU counts (%s): every pipeline stage runs with the same "
                "tensor-parallel size, so set vllm_ray_gpus_per_node to %d (the smallest) or make the group "
                "uniform" % (where, ", ".join("%s %d" % (h, counts[h]) for h in ordered if h in counts), smallest))
            per_node = smallest
        else:
            per_node = smallest
        if per_node == 0 and not problems:
            problems.append("the %s build needs GPUs but the nodes of %s have none" % (variant, where))
    elif gpus_per_node and not gpu_build:
        problems.append("vllm_ray_gpus_per_node is %d but the build is the CPU build" % gpus_per_node)

    head_node = nodes[0] if nodes and nodes[0]["name"] == head else None
    head_address = "%s:%d" % (head_node["address"], ports["gcs"]) if head_node and head_node["address"] else None
    for node in nodes:
        node["args"] = start_args(node["role"], node["address"] or "", head_address or "", ports,
                                  per_node if gpu_build else 0, object_store_memory, extra_args)
        node["env"] = node_env(node["address"] or "", node["interface"] or "")
        node["unit"] = "vllm-ray-%s.service" % node["role"]

    tp = per_node if gpu_build else 1
    pp = len(nodes)
    inst_problems, inst_plans = instance_plans(instances, nodes, ports, head_address, tp, pp,
                                               facts_by_host.get(head, {}).get("onprem_gpu") or {},
                                               models, variant, other_instances)
    problems += inst_problems
    return {
        "problems": problems,
        "head": head,
        "workers": [n["name"] for n in nodes if n["role"] == "worker"],
        "head_address": head_address,
        "interface": interface,
        "temp_dir": TEMP_DIR,
        "ports": ports,
        "nodes": nodes,
        "addresses": [n["address"] for n in nodes if n["address"]],
        "gpus_per_node": per_node if gpu_build else 0,
        "tensor_parallel_size": tp,
        "pipeline_parallel_size": pp,
        "instances": inst_plans,
    }


def instance_plans(instances, nodes, ports, head_address, tp, pp, head_gpu, models, variant,
                   other_instances=None, var="vllm_ray_instances"):
    """(problems, plans) of the instances served by the cluster (vLLM's server runs on the head)."""
    instances = list(instances or [])
    problems = []
    for i, inst in enumerate(instances):
        if isinstance(inst, dict):
            for key in SINGLE_NODE_KEYS:
                if inst.get(key):
                    problems.append("%s[%d]: %s is a single-node setting; a multi-node instance uses every GPU "
                                    "of every node" % (var, i, key))
    checked = [dict(inst, ray=True) if isinstance(inst, dict) else inst for inst in instances]
    # GPU checks of instances.py look at one host; the cluster's GPUs are checked below.
    problems += _inst.instance_problems(checked, head_gpu, models, variant, var)
    others = [o for o in (other_instances or []) if isinstance(o, dict)]
    other_names = dict((o.get("name"), j) for j, o in enumerate(others))
    other_ports = dict((o.get("port"), j) for j, o in enumerate(others))
    total = tp * pp
    for i, inst in enumerate(instances):
        if not isinstance(inst, dict):
            continue
        where = "%s[%d] (%s)" % (var, i, inst.get("name"))
        if inst.get("name") in other_names:
            problems.append("%s: name is already used by vllm_instances[%d]" % (where, other_names[inst["name"]]))
        if inst.get("port") in other_ports:
            problems.append("%s: port %s is already used by vllm_instances[%d]"
                            % (where, inst["port"], other_ports[inst["port"]]))
        if isinstance(inst.get("port"), int):
            clash = _in_ray_ports(inst["port"], ports)
            if clash:
                problems.append("%s: port %d is %s" % (where, inst["port"], clash))
        want_tp = inst.get("tensor_parallel_size") or tp
        want_pp = inst.get("pipeline_parallel_size") or pp
        if variant != "cpu" and want_tp * want_pp > total:
            problems.append("%s: tensor_parallel_size %d x pipeline_parallel_size %d needs %d GPUs, the cluster "
                            "has %d (%d nodes x %d)" % (where, want_tp, want_pp, want_tp * want_pp, total, pp, tp))
        if want_pp > pp:
            problems.append("%s: pipeline_parallel_size %d is more than the %d node(s) of the cluster"
                            % (where, want_pp, pp))
    if problems or not head_address:
        return problems, []
    head = nodes[0]
    plans = []
    for inst in instances:
        plan = _inst.instance_plan(dict(inst, gpus=None), {}, models, "cpu")
        plan["config"]["distributed-executor-backend"] = "ray"
        plan["config"]["tensor-parallel-size"] = inst.get("tensor_parallel_size") or tp
        plan["config"]["pipeline-parallel-size"] = inst.get("pipeline_parallel_size") or pp
        env = dict(node_env(head["address"], head["interface"]))
        env["RAY_ADDRESS"] = head_address
        env.update(plan["env"])
        plan["env"] = env
        plan["ray"] = True
        plans.append(plan)
    return problems, plans
