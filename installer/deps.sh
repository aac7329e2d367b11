#!/usr/bin/env bash
# Installs what `make packages` needs beyond scripts/deps.sh, only when
# missing: the mingw-w64 cross compiler (Windows kyso.exe with cgo),
# msitools (msiinfo), wixl and file. Runs apt-get as root, or through sudo.
set -euo pipefail
pkgs=(gcc-mingw-w64-x86-64 msitools wixl file)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing: ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
