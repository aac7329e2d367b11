# Test data: SoftHSM2 test tokens (see testdata/README.md).
.PHONY: tokens
TOKENS_DIR ?= $(CURDIR)/bin/tokens

# make tokens [TOKENS_DIR=...] — provision the test tokens by hand, e.g. to
# try kyso against them: SOFTHSM2_CONF=$(TOKENS_DIR)/softhsm2.conf bin/kyso tokens
tokens:
	bash testdata/provision.sh $(TOKENS_DIR)
