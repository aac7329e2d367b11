# The extension's pre-registration in the packages (installer/prereg*.go,
# docs/admin.md): `make package-test-prereg` (part of `make test`) stages
# the .deb, .rpm and MSI once more as if the stores had published Kyso
# (made-up store ids added to internal/extid/ids.json in dist/.prereg) and
# checks their contents with dpkg -c, rpm -qlp and msiinfo, and that the
# real packages offer nothing while nothing is published.
PREREG := dist/.prereg
PREREG_IDS := const x = JSON.parse(require("fs").readFileSync("internal/extid/ids.json", "utf8"));
PREREG_IDS += x.chromeWebStore = ["abcdefghijklmnopabcdefghijklmnop"]; x.edgeAddons = ["ponmlkjihgfedcbaponmlkjihgfedcba"];
PREREG_IDS += x.firefox.addonsMozillaOrg = true; console.log(JSON.stringify(x, null, 2));

.PHONY: package-test-prereg

package-test-prereg: deb rpm msi
	rm -rf $(PREREG) && mkdir -p $(PREREG)
	node -e '$(PREREG_IDS)' > $(PREREG)/ids.json
	go run ./installer/pkgstage -kyso bin/kyso -version '$(VERSION)' -stage $(PREREG)/pkg -out $(PREREG)/nfpm.yaml -ids $(PREREG)/ids.json
	$(NFPM) pkg --packager deb --config $(PREREG)/nfpm.yaml --target $(PREREG)/
	$(NFPM) pkg --packager rpm --config $(PREREG)/nfpm.yaml --target $(PREREG)/
	go run ./installer/manifestgen -path kyso.exe -dir $(PREREG)/msi -wxi -ids $(PREREG)/ids.json
	$(call msi-docs,$(PREREG)/msi)
	wixl -a x64 -D Version=$(MSIVER) -D ExeSource=dist/windows/kyso.exe -D ExeWSource=dist/windows/kysow.exe \
	  -D ManifestDir=$(PREREG)/msi -I $(PREREG)/msi -o $(PREREG)/kyso-prereg.msi installer/windows/kyso.wxs
	bash installer/test-prereg.sh $(PREREG) $$(ls -t dist/kyso_*_amd64.deb | head -1) $$(ls -t dist/kyso-*.rpm | head -1) dist/kyso-$(MSIVER)-x64.msi

TEST_EXTRA += package-test-prereg
