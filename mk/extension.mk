# The browser extension (Chrome, Edge, Firefox) and the kyso.js page library.
#   make extension-build  → extension/build/chromium and extension/build/firefox
#                           (unpacked; the Chromium one has the fixed id)
#   make extension        → dist/kyso-chromium.zip and dist/kyso-firefox.zip (store
#                           uploads), dist/kyso-chromium.crx and
#                           dist/kyso-chromium-updates.xml (self-hosted: signed
#                           with the PEM in $KYSO_CRX_KEY, else a throwaway key;
#                           the CRX's URL from $KYSO_CRX_URL; docs/admin.md)
#   make extension-lint   → web-ext lint of the Firefox build (warnings fail)
#   make extension-test   → kyso.js, background and CRX tests (node --test)
# Needs Node ≥ 20 and npm; web-ext comes from extension/package-lock.json.
.PHONY: extension extension-build extension-deps extension-lint extension-test

EXT_DIR := $(CURDIR)/extension

# npm ci writes node_modules/.package-lock.json: a stamp newer than the lock.
$(EXT_DIR)/node_modules/.package-lock.json: $(EXT_DIR)/package.json $(EXT_DIR)/package-lock.json
	cd $(EXT_DIR) && npm ci --no-audit --no-fund

extension-deps: $(EXT_DIR)/node_modules/.package-lock.json

extension-build:
	node $(EXT_DIR)/build.js

extension: extension-deps
	node $(EXT_DIR)/build.js --zip $(CURDIR)/dist

extension-lint: extension-deps extension-build
	cd $(EXT_DIR) && ./node_modules/.bin/web-ext lint --source-dir build/firefox --warnings-as-errors --no-config-discovery

extension-test:
	cd $(EXT_DIR) && node --test test/

TEST_EXTRA += extension-lint extension-test
