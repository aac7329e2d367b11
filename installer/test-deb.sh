#!/usr/bin/env bash
# Package test for the .deb (root only; it changes the machine): install it
# with dpkg, run the installed kyso, check the manifests and the user unit
# are where Chromium, Firefox and systemd look, purge, and check nothing of
# it is left.
set -euo pipefail
deb=$1
if [ "$(id -u)" -ne 0 ]; then echo "package-test-deb: skipped (needs root)"; exit 0; fi
if dpkg-query -W kyso >/dev/null 2>&1; then echo "package-test-deb: a kyso package is installed already; not touching it"; exit 1; fi
fail() { echo "package-test-deb: FAIL: $*"; dpkg --purge kyso >/dev/null 2>&1 || true; exit 1; }

files=(/usr/bin/kyso
  /etc/chromium/native-messaging-hosts/vn.kyso.signer.json
  /etc/opt/chrome/native-messaging-hosts/vn.kyso.signer.json
  /etc/opt/edge/native-messaging-hosts/vn.kyso.signer.json
  /usr/lib/mozilla/native-messaging-hosts/vn.kyso.signer.json
  /usr/lib/systemd/user/kyso.service
  /etc/systemd/user/graphical-session.target.wants/kyso.service
  /etc/xdg/autostart/kyso.desktop
  /usr/share/doc/kyso/copyright
  /usr/share/doc/kyso/THIRD_PARTY_NOTICES)
for f in "${files[@]}"; do [ -e "$f" ] || [ -L "$f" ] && fail "$f exists before installing"; done

dpkg -i "$deb" >/dev/null || fail "dpkg -i"
for f in "${files[@]}"; do [ -e "$f" ] || fail "$f missing after install"; done
/usr/bin/kyso version | grep -q '^kyso ' || fail "kyso version"
grep -q '"path": "/usr/bin/kyso"' /etc/chromium/native-messaging-hosts/vn.kyso.signer.json || fail "chromium manifest path"
grep -q 'chrome-extension://iglbldmcmaeofmnfneeicieiklknbhdi/' /etc/chromium/native-messaging-hosts/vn.kyso.signer.json || fail "chromium manifest origin"
grep -q '"signer@kyso.vn"' /usr/lib/mozilla/native-messaging-hosts/vn.kyso.signer.json || fail "firefox manifest"
grep -q '^ExecStart=/usr/bin/kyso serve$' /usr/lib/systemd/user/kyso.service || fail "unit ExecStart"
[ "$(readlink /etc/systemd/user/graphical-session.target.wants/kyso.service)" = /usr/lib/systemd/user/kyso.service ] || fail "global enable link"

# doctor from the installed path, as a fresh user: every browser family sees
# the system manifest, autostart is on; it exits non-zero here (no agent).
tmp=$(mktemp -d)
out=$(env -i PATH=/usr/bin:/bin HOME="$tmp" LANG=en_US.UTF-8 XDG_RUNTIME_DIR="$tmp" /usr/bin/kyso doctor 2>&1) && rc=0 || rc=$?
rm -rf "$tmp"
echo "$out" | sed 's/^/  doctor| /'
for b in "Google Chrome" Chromium "Microsoft Edge" Brave Firefox; do
  echo "$out" | grep -q "✔ $b: registered (/" || fail "doctor: $b manifest not seen"
done
echo "$out" | grep -q "✔ Start at login: enabled" || fail "doctor: autostart"
[ "$rc" -ne 0 ] || fail "doctor exited 0 without an agent running"

dpkg --purge kyso >/dev/null || fail "dpkg --purge"
for f in "${files[@]}"; do { [ -e "$f" ] || [ -L "$f" ]; } && fail "$f left after purge"; done
dpkg-query -W kyso >/dev/null 2>&1 && fail "package still known to dpkg"
echo "package-test-deb: ok ($deb)"
