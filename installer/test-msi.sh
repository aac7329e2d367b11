#!/usr/bin/env bash
# Package test for the MSI: the binary is a 64-bit Windows program, and the
# MSI's File and Registry tables hold kyso.exe, the manifests, the
# native-messaging keys of every browser and the logon start.
set -euo pipefail
msi=$1 exe=$2
fail() { echo "package-test-msi: FAIL: $*"; exit 1; }
file "$exe" | grep -q 'PE32+ executable' || fail "$(file "$exe")"
# The logon start's program is linked for the GUI subsystem (no console
# window at logon); kyso.exe stays a console program for the command line.
file "$(dirname "$exe")/kysow.exe" | grep -q 'PE32+ executable (GUI)' || fail "kysow.exe is not a GUI-subsystem program: $(file "$(dirname "$exe")/kysow.exe")"
file "$exe" | grep -q 'PE32+ executable (console)' || fail "kyso.exe is not a console program: $(file "$exe")"
files=$(msiinfo export "$msi" File)
reg=$(msiinfo export "$msi" Registry)
for f in kyso.exe kysow.exe vn.kyso.signer.chromium.json vn.kyso.signer.firefox.json LICENSE.txt THIRD_PARTY_NOTICES.txt; do
  echo "$files" | grep -q "$f" || fail "File table lacks $f"
done
for k in 'Software\Google\Chrome\NativeMessagingHosts\vn.kyso.signer' \
         'Software\Chromium\NativeMessagingHosts\vn.kyso.signer' \
         'Software\Microsoft\Edge\NativeMessagingHosts\vn.kyso.signer' \
         'Software\BraveSoftware\Brave-Browser\NativeMessagingHosts\vn.kyso.signer' \
         'Software\Mozilla\NativeMessagingHosts\vn.kyso.signer'; do
  echo "$reg" | grep -qF "$k" || fail "Registry table lacks $k"
done
echo "$reg" | grep -F 'Software\Microsoft\Windows\CurrentVersion\Run' | grep -F 'Kyso' | grep -qF '"[INSTALLDIR]kysow.exe" serve' \
  || fail "Registry table lacks the Run value"
# Tables are read into variables first: grep -q stops at its match, and
# under pipefail a writer still writing then fails the pipeline (SIGPIPE).
actions=$(msiinfo export "$msi" CustomAction)
echo "$actions" | grep -q 'taskkill' || fail "CustomAction table lacks the taskkill that closes running agents"
# %ProgramData%\Kyso, the system policy's folder, is made with an ACL only
# administrators can change (internal/filetrust's test checks that ACL).
folders=$(msiinfo export "$msi" CreateFolder)
echo "$folders" | grep -qP '^KYSODATA\tPolicyFolder' || fail "CreateFolder table lacks KYSODATA"
dirs=$(msiinfo export "$msi" Directory)
echo "$dirs" | grep -qP '^KYSODATA\tCommonAppDataFolder\tKyso' || fail "Directory table lacks CommonAppDataFolder\\Kyso"
locks=$(msiinfo export "$msi" MsiLockPermissionsEx)
echo "$locks" | grep -F 'O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)' \
  | grep -qP '^KysoDataAcl\tKYSODATA\tCreateFolder\t' || fail "MsiLockPermissionsEx lacks the ACL of KYSODATA"
echo "package-test-msi: ok ($msi)"
