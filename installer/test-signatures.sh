#!/usr/bin/env bash
# Checks every package signature with tools other than the signer
# (osslsigncode, rpm, gpg), and that each check fails on a tampered copy:
#   Authenticode (.exe, .msi)  osslsigncode verify -CAfile $KYSO_AUTHENTICODE_CA
#   .rpm                       rpm -K, the public key imported into a scratch rpmdb
#   .deb                       nfpm's debsign signature: _gpgorigin is an armoured
#                              detached signature over debian-binary, control.tar.*
#                              and data.tar.* concatenated (what debsig-verify
#                              checks; Debian 12 has neither debsig-verify
#                              policies for it nor dpkg-sig), so gpg --verify
#                              checks exactly that concatenation.
#   installer/test-signatures.sh FILE...   (.exe .msi .deb .rpm)
set -euo pipefail
: "${KYSO_AUTHENTICODE_CA:?}" "${KYSO_GPG_PUBLIC_KEY:?}"
fail() { echo "package-test-sign: FAIL: $*"; exit 1; }
work=$(mktemp -d)
trap 'gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -m 700 "$work/gnupg"
gpg --homedir "$work/gnupg" --batch --quiet --import "$KYSO_GPG_PUBLIC_KEY" 2>/dev/null
mkdir "$work/rpmdb"

# tamper FILE OUT: a copy with one byte changed in the middle.
tamper() {
  cp "$1" "$2"
  local size; size=$(stat -c %s "$2")
  printf '\xA5' | dd of="$2" bs=1 seek=$((size / 2)) conv=notrunc status=none
}

authenticode() {
  local out
  out=$(osslsigncode verify -CAfile "$KYSO_AUTHENTICODE_CA" -in "$1" 2>&1) || fail "osslsigncode verify $1: $out"
  echo "$out" | grep -q 'Signature verification: ok' || fail "osslsigncode verify $1: $out"
  tamper "$1" "$work/t"
  if osslsigncode verify -CAfile "$KYSO_AUTHENTICODE_CA" -in "$work/t" >/dev/null 2>&1; then fail "a tampered $1 verifies"; fi
  echo "package-test-sign: Authenticode ok: $1"
}

rpmsig() {
  local out
  out=$(rpm --dbpath "$work/rpmdb" -K "$1" 2>&1) || true
  echo "$out" | grep -qi 'signatures OK' && fail "rpm -K $1 passes before the key is imported: $out"
  rpm --dbpath "$work/rpmdb" --import "$KYSO_GPG_PUBLIC_KEY"
  out=$(rpm --dbpath "$work/rpmdb" -K "$1" 2>&1) || fail "rpm -K $1: $out"
  echo "$out" | grep -q 'digests signatures OK' || fail "rpm -K $1: $out"
  tamper "$1" "$work/t.rpm"
  if rpm --dbpath "$work/rpmdb" -K "$work/t.rpm" >/dev/null 2>&1; then fail "a tampered $1 verifies"; fi
  echo "package-test-sign: rpm signature ok: $1 ($out)"
}

debsig() {
  local d="$work/deb"
  rm -rf "$d" && mkdir "$d"
  (cd "$d" && ar x "$1")
  [ -f "$d/_gpgorigin" ] || fail "$1 has no _gpgorigin member: $(ar t "$1" | tr '\n' ' ')"
  [ "$(ar t "$1" | head -n1)" = debian-binary ] || fail "$1: debian-binary is not first"
  local members=("$d/debian-binary" "$d"/control.tar.* "$d"/data.tar.*)
  # The status lines first, then grep: grep -q stops at its match, and gpg
  # still writing would fail the pipeline under pipefail (SIGPIPE).
  local status
  status=$(cat "${members[@]}" | gpg --homedir "$work/gnupg" --batch --status-fd 1 --verify "$d/_gpgorigin" - 2>/dev/null) || true
  echo "$status" | grep -q '^\[GNUPG:\] VALIDSIG' || fail "gpg --verify of $1's _gpgorigin"
  # Tampered data: the signature must not verify.
  printf 'x' >> "${members[2]}"
  if cat "${members[@]}" | gpg --homedir "$work/gnupg" --batch --verify "$d/_gpgorigin" - >/dev/null 2>&1; then
    fail "$1: a changed data member still verifies"
  fi
  echo "package-test-sign: deb signature (debsign, origin) ok: $1"
}

for f in "$@"; do
  f=$(readlink -f "$f")
  case "$f" in
    *.exe|*.msi) authenticode "$f" ;;
    *.rpm) rpmsig "$f" ;;
    *.deb) debsig "$f" ;;
    *) fail "unknown package $f" ;;
  esac
done
echo "package-test-sign: ok"
