package engine

import (
	"encoding/hex"
	"time"

	"kyso.vn/kyso/internal/audit"
)

// audit writes the signing record of one request that audited says a
// person or a token took part in: who asked (the origin), what (the
// operation, the certificate, every hash in full, the page's description)
// and how it ended. It is called once per request, from logRequest, after
// the answer is known — the one place that builds an audit.Record: the
// operation only fills rec (rec.cert, rec.subject, rec.items) as it goes.
// Never a PIN: nothing of the PIN dialog reaches rec.
// hashItems are the signing record's items of a sign, signBatch or
// signCms: every hash in full.
func hashItems(j signJob) []audit.Item {
	items := make([]audit.Item, len(j.hashes))
	for i, h := range j.hashes {
		items[i] = audit.Item{HashFunction: string(j.hashFunc), Hash: hex.EncodeToString(h)}
	}
	return items
}

func (e *Engine) audit(rec logRec, outcome string) {
	r := audit.Record{Time: time.Now(), Origin: rec.origin, Op: rec.op, CertID: rec.cert, Subject: rec.subject,
		Outcome: outcome, Description: rec.description, Items: rec.items}
	if err := e.o.Audit.Write(r); err != nil {
		e.o.Log.Error().Err(err).Msg("writing the signing record failed")
	}
}
