package pdf

// Certify makes o a certification signature with DocMDP permission perm,
// for tests that need certified PDFs.
func Certify(o Options, perm int) Options {
	o.certify = perm
	return o
}
