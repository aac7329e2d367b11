#!/usr/bin/env bash
# Builds Kyso's macOS installer package on a Mac (pkgbuild and productbuild
# come with Xcode's command line tools): the universal kyso (amd64 + arm64,
# cgo), the system-wide host manifests and the LaunchAgent for every user,
# laid out by the program's own `kyso install --system`, then pkgbuild +
# productbuild.
#
# Two ways to run it:
#   - from the kit `make darwin` stages on Linux (dist/kyso-<ver>-macos.tar.gz:
#     this script, VERSION and the universal `kyso` cross-built there):
#       tar xzf kyso-<ver>-macos.tar.gz && kyso-<ver>-macos/build-pkg.sh [VERSION [SIGNING_IDENTITY]]
#     It needs no Go; the .pkg is written next to the script.
#   - in the repository (installer/macos/build-pkg.sh VERSION [SIGNING_IDENTITY]):
#     builds kyso natively with Go and lipo, writes dist/kyso-VERSION.pkg.
#
# The package installs:
#   /Library/Application Support/Kyso/kyso                   the program
#   /Library/Google/Chrome/NativeMessagingHosts/…json          Chrome, Brave
#   /Library/Application Support/Chromium/NativeMessagingHosts/…json
#   /Library/Microsoft/Edge/NativeMessagingHosts/…json
#   /Library/Application Support/Mozilla/NativeMessagingHosts/…json
#   /Library/LaunchAgents/vn.kyso.agent.plist                  start at login
#   /Library/Application Support/Kyso/install.json             what was written
#   /Library/Application Support/Kyso/LICENSE, THIRD_PARTY_NOTICES
# and its postinstall loads the agent for the user logged in at the console.
# Uninstall: sudo "/Library/Application Support/Kyso/kyso" uninstall --system
#
# Signing and notarisation (docs/install.md, "macOS: signing and
# notarisation"), each step only when its variable is set:
#   KYSO_MAC_APP_IDENTITY        "Developer ID Application: … (TEAMID)": codesign
#                                the program with the hardened runtime and
#                                entitlements.plist, before it is packed
#   KYSO_MAC_INSTALLER_IDENTITY  "Developer ID Installer: … (TEAMID)": sign the .pkg
#                                (the old second argument still works)
#   KYSO_NOTARY_PROFILE          a notarytool keychain profile (xcrun notarytool
#                                store-credentials): submit, wait, staple
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
identity=${2:-${KYSO_MAC_INSTALLER_IDENTITY:-}}
app_identity=${KYSO_MAC_APP_IDENTITY:-}
notary=${KYSO_NOTARY_PROFILE:-}
bin="/Library/Application Support/Kyso/kyso"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -f "$here/kyso" ]; then
  # The kit: the program was cross-built on Linux.
  version=${1:-$(cat "$here/VERSION")}
  out="$here"
  cp "$here/kyso" "$work/kyso"
else
  version=${1:?usage: build-pkg.sh VERSION [SIGNING_IDENTITY]}
  cd "$here/../.."
  out="$PWD/dist"
  for arch in amd64 arm64; do
    CGO_ENABLED=1 GOOS=darwin GOARCH=$arch go build -trimpath \
      -ldflags "-X kyso.vn/kyso/engine.Version=$version" -o "$work/kyso-$arch" ./cmd/kyso
  done
  lipo -create -output "$work/kyso" "$work/kyso-amd64" "$work/kyso-arm64"
fi
lipo -verify_arch x86_64 arm64 "$work/kyso" 2>/dev/null ||
  echo "warning: $work/kyso is not universal (x86_64 + arm64)" >&2

if [ -n "$app_identity" ]; then
  # Hardened runtime (notarisation requires it), a secure timestamp, and
  # the one entitlement Kyso needs (entitlements.plist).
  codesign --force --options runtime --timestamp \
    --entitlements "$here/entitlements.plist" --sign "$app_identity" "$work/kyso"
  codesign --verify --strict --verbose=2 "$work/kyso"
fi

root="$work/root"
mkdir -p "$root/Library/Application Support/Kyso"
install -m 0755 "$work/kyso" "$root$bin"
# The licence and the third-party notices, beside the program.
docs="$here"; [ -f "$docs/LICENSE" ] || docs="$here/../.."
install -m 0644 "$docs/LICENSE" "$docs/THIRD_PARTY_NOTICES" "$root/Library/Application Support/Kyso/"
# The same plan as an admin's `kyso install --system`, relocated into the
# package root; its install record lets `kyso uninstall --system` remove
# exactly these files later.
"$work/kyso" install --system --root "$root" --bin "$bin"

mkdir -p "$work/scripts"
cat > "$work/scripts/postinstall" <<'POST'
#!/bin/sh
# Start the agent now for the user at the console; others get it at login.
user=$(stat -f %Su /dev/console)
if [ -n "$user" ] && [ "$user" != root ]; then
  uid=$(id -u "$user")
  launchctl bootout "gui/$uid/vn.kyso.agent" 2>/dev/null || true
  launchctl bootstrap "gui/$uid" /Library/LaunchAgents/vn.kyso.agent.plist || true
fi
exit 0
POST
chmod 0755 "$work/scripts/postinstall"

mkdir -p "$out"
pkgbuild --root "$root" --identifier vn.kyso.agent --version "$version" \
  --scripts "$work/scripts" --install-location / "$work/kyso-component.pkg"
# macOS's bash 3.2 calls an empty "${a[@]}" unbound under set -u.
if [ -n "$identity" ]; then
  productbuild --package "$work/kyso-component.pkg" --sign "$identity" "$out/kyso-$version.pkg"
else
  productbuild --package "$work/kyso-component.pkg" "$out/kyso-$version.pkg"
fi
if [ -n "$notary" ]; then
  [ -n "$identity" ] || { echo "notarisation needs a signed package (KYSO_MAC_INSTALLER_IDENTITY)" >&2; exit 1; }
  xcrun notarytool submit "$out/kyso-$version.pkg" --keychain-profile "$notary" --wait
  xcrun stapler staple "$out/kyso-$version.pkg"
  xcrun stapler validate "$out/kyso-$version.pkg"
  spctl --assess --type install --verbose=2 "$out/kyso-$version.pkg"
fi
echo "built $out/kyso-$version.pkg"
