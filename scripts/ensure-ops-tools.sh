#!/usr/bin/env bash
# Makes sure the operations checks in the test suite have their tools, from Debian's packages:
#   promtool  (package prometheus)          checks /metrics output and the Prometheus rules
#   kubectl   (kubectl, or kubernetes-client) renders deploy/k8s with its built-in kustomize
# A no-op when both are there. apt waits for a busy dpkg lock instead of failing.
set -euo pipefail

need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "[ensure-ops-tools] missing ${need[*]} and this user cannot install packages (not root, no sudo)" >&2
  exit 1
fi

echo "[ensure-ops-tools] installing ${need[*]} with apt" >&2
export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends)
# Only the binaries are wanted: no service is started (policy-rc.d refuses), none is enabled.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null && "${SUDO[@]}" chmod +x "$policy" && made_policy=1
fi
trap '[ "$made_policy" -eq 1 ] && "${SUDO[@]}" rm -f "$policy"' EXIT
if ! "${APT[@]}" install "${need[@]}" >/dev/null 2>&1; then
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${APT[@]}" install "${need[@]}" >/dev/null
fi

for bin in promtool kubectl; do
  command -v "$bin" >/dev/null 2>&1 || { echo "[ensure-ops-tools] apt finished but $bin is still missing" >&2; exit 1; }
done
echo "[ensure-ops-tools] $(promtool --version 2>&1 | head -1)" >&2
