package pkcs11

import (
	"encoding/pem"
	"errors"
)

// Remembered reports whether p remembers where certificate id is.
func Remembered(p *Provider, id string) bool {
	_, ok := p.location(id)
	return ok
}

func parsePEMCert(b []byte) ([]byte, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	return blk.Bytes, nil
}
