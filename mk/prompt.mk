# Dialogs (prompt/). Their tests run in `go test ./...` (real zenity dialogs
# under Xvfb, driven by xdotool); nothing extra for `make test`.
# `make dialog-shots` keeps screenshots of the dialogs in bin/dialog-shots.
.PHONY: dialog-shots
dialog-shots:
	@mkdir -p bin/dialog-shots
	go test -count=1 -run 'TestHostileDescriptionShownPlain' -artifacts -outputdir $(CURDIR)/bin/dialog-shots ./prompt/
	@find bin/dialog-shots -name '*.png'
