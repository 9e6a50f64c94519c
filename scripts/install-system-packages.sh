#!/usr/bin/env bash
# Install the Debian packages Lantern's tests and features use, only those missing (idempotent).
#   readpst (pst-utils)      Outlook PST/OST reading
#   tesseract-ocr(-eng)      OCR of images and scans, called by Tika
#   chromium                 the real browser for UI tests (driven by Playwright)
# Usage: scripts/install-system-packages.sh [extra packages...]   (e.g. recoll notmuch for benchmarks)
set -euo pipefail

packages=(pst-utils tesseract-ocr tesseract-ocr-eng chromium "$@")
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    run=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    run=(sudo)
else
    echo "Lantern needs these Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${run[@]}" apt-get update -qq
"${run[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
