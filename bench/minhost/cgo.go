//go:build mincgo

package main

// Built with -tags mincgo, minhost links libc dynamically through cgo, as
// kyso does (miekg/pkcs11): the bench then tells the cost of a cgo binary's
// start from the cost of Kyso's own start-up.

import "C"
