package pdf

import "fmt"

// Certify makes o a certification signature with DocMDP permission perm,
// for tests that need certified PDFs.
func Certify(o Options, perm int) Options {
	o.certify = perm
	return o
}

// ComparePageLookup finds page want (1-based, -1 the last, 0 the first)
// of data both ways — the fast descent by /Count and the full walk — and
// says whether they agree.
func ComparePageLookup(data []byte, want int) (pages int, err error) {
	fast, err := open(data, 0)
	if err != nil {
		return 0, err
	}
	root := fast.catalog["Pages"].(Ref)
	fast.pages, fast.first, fast.chosen = 0, nil, nil
	if !fast.findPage(root, want) {
		return 0, fmt.Errorf("the fast lookup of page %d failed", want)
	}
	full, _ := open(data, 0)
	full.pages, full.first, full.chosen = 0, nil, nil
	if err := full.walkPages(root, want); err != nil {
		return 0, err
	}
	a, b := fast.chosen, full.chosen
	if want == 0 {
		a, b = fast.first, full.first
	}
	if fast.pages != full.pages || a.ref != b.ref || a.index != b.index || a.crop != b.crop || a.rotate != b.rotate {
		return 0, fmt.Errorf("page %d: fast %d pages %+v, full %d pages %+v", want, fast.pages, *a, full.pages, *b)
	}
	return full.pages, nil
}
