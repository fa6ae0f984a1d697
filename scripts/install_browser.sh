#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (Playwright's own download does not work here).
# Idempotent: a quick no-op when /usr/bin/chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    echo "chromium is already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# A small CJK font and an emoji font, so the Chinese interface and the status icons render in screenshots.
$SUDO apt-get install -y --no-install-recommends chromium chromium-driver fonts-wqy-zenhei fonts-noto-color-emoji
/usr/bin/chromium --version
