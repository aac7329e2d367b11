# The npm package "kyso" (extension/kyso-js/): the page library kyso.js as
# an ES module, CommonJS and a classic script (window.kyso), with its types
# and messages. Kept apart from extension.mk (the extension's own targets).
#   make kyso-js        → extension/kyso-js/dist/ (Node alone, no npm install);
#                         the demo and the e2e tests serve dist/kyso.mjs
#   make kyso-js-pack   → npm pack: the tarball's exact file list, installed
#                         into an empty project (import, require, window.kyso,
#                         TypeScript), and dist/kyso-VERSION.tgz
.PHONY: kyso-js kyso-js-deps kyso-js-pack

KJS_DIR := $(CURDIR)/extension/kyso-js

# npm ci writes node_modules/.package-lock.json: a stamp newer than the lock.
$(KJS_DIR)/node_modules/.package-lock.json: $(KJS_DIR)/package.json $(KJS_DIR)/package-lock.json
	cd $(KJS_DIR) && npm ci --no-audit --no-fund

kyso-js-deps: $(KJS_DIR)/node_modules/.package-lock.json

kyso-js:
	node $(KJS_DIR)/build.mjs

kyso-js-pack: kyso-js-deps
	cd $(KJS_DIR) && node check-pack.mjs --keep $(CURDIR)/dist

TEST_EXTRA += kyso-js-pack
demo: kyso-js
e2e: kyso-js
