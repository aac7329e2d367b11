#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Kyso's build, demo and tests need,
# only those missing. Runs apt-get as root, or through sudo.
set -euo pipefail
pkgs=(softhsm2 opensc p11-kit gnutls-bin openssl gcc make libc6-dev
      xvfb zenity xdotool x11-utils xauth dbus-x11 fonts-dejavu-core
      chromium firefox-esr file gcc-mingw-w64-x86-64 msitools wixl wine wine64
      tesseract-ocr tesseract-ocr-eng xmlsec1 default-jdk-headless
      libglib2.0-bin systemd osslsigncode rpm gnupg zip
      # document signing tests: real PDFs (libtasn1-doc, shared-mime-info,
      # groff, ghostscript, LibreOffice) checked by poppler, qpdf, openssl;
      # NSS tools for a PDF first signed by poppler's pdfsig.
      poppler-utils qpdf ghostscript groff libtasn1-doc shared-mime-info
      libnss3-tools libreoffice-writer-nogui)
missing=()
# npm (extension lint, zig for the macOS build): a machine's own Node.js
# (e.g. nodesource's, which bundles npm) is kept; Debian's only when absent.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing: ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
