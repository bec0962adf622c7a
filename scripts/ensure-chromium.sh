#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (test/browser) when it is missing. The tests
# drive /usr/bin/chromium with playwright-core; nothing is downloaded besides the apt package.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "ensure-chromium: /usr/bin/chromium is missing; installing Debian's chromium"
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: run as root (or install it yourself: apt-get install -y chromium)" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
