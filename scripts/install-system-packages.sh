#!/usr/bin/env bash
# System packages the kit uses: bubblewrap (the grader's sandbox), libseccomp2 (its system-call
# filter, through the pyseccomp package of requirements.lock; on Debian and Ubuntu apt itself
# depends on it, so it is nearly always there) and, for the browser test,
# Debian's chromium + chromium-driver. Installs what is missing when run as root; otherwise
# says what to install and carries on (the grader then reports reduced isolation).
set -euo pipefail
want=()
command -v bwrap >/dev/null 2>&1 || want+=(bubblewrap)
{ /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q 'libseccomp\.so\.2' || want+=(libseccomp2)
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || want+=(chromium-driver)
fi
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: please install ${want[*]} (e.g. sudo apt-get install ${want[*]}); continuing without" >&2
  exit 0
fi
echo "installing ${want[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${want[@]}" >/dev/null
