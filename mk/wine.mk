# The Windows build under Wine (issue 17): `make wine-test` builds the MSI
# (and with it dist/windows/kyso.exe and kysow.exe) and runs wine/ against
# them in a fresh Wine prefix: the command line, per-user install and
# uninstall, the MSI, the agent's WebSocket and named pipe, the host, the
# dialogs under Xvfb, a planted system policy refused. Part of `make test`;
# go test ./... alone skips it.
.PHONY: wine-test
wine-test: msi
	KYSO_WINDOWS_DIST=$(CURDIR)/dist/windows KYSO_MSI=$(CURDIR)/dist/kyso-$(MSIVER)-x64.msi \
	  go test -count=1 -v -timeout 10m ./wine/

TEST_EXTRA += wine-test
