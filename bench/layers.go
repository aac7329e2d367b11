package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"kyso.vn/kyso/token"
	"kyso.vn/kyso/token/pkcs11"
)

// The token layer's stages, timed in-process (`kyso-bench layers`), to show
// where a signature's time goes beyond C_Sign: what the engine's sign does
// per request is Provider.Open, Key.LoggedIn, Key.Sign and Key.Close.

type layersPlan struct {
	Module    string `json:"module"`
	PIN       string `json:"pin"`
	CertDER   []byte `json:"certDer"`
	N         int    `json:"n"`
	Discovery bool   `json:"discovery"`
}

// layersResult: mean nanoseconds per stage.
type layersResult struct {
	Discover int64 `json:"discover"` // PKCS11.Modules(): the modules discovery found (cached after the first call)
	Open     int64 `json:"open"`
	LoggedIn int64 `json:"loggedIn"`
	Sign     int64 `json:"sign"`
	Close    int64 `json:"close"`
}

func runLayers(in io.Reader, out io.Writer) error {
	var plan layersPlan
	if err := json.NewDecoder(in).Decode(&plan); err != nil {
		return err
	}
	id := token.CertID(plan.CertDER)
	p := pkcs11.New(pkcs11.Options{Modules: []string{plan.Module}, NoDiscovery: !plan.Discovery})
	ctx := context.Background()
	hash := make([]byte, 32)
	rand.Read(hash)
	var sum layersResult
	for i := -5; i < plan.N; i++ {
		t0 := time.Now()
		p.Modules()
		t1 := time.Now()
		k, err := p.Open(ctx, id)
		if err != nil {
			return err
		}
		t2 := time.Now()
		if !k.LoggedIn() {
			if err := k.Login([]byte(plan.PIN)); err != nil {
				return err
			}
		}
		t3 := time.Now()
		if _, err := k.Sign(ctx, hash, token.SHA256, ""); err != nil {
			return err
		}
		t4 := time.Now()
		if err := k.Close(time.Hour); err != nil {
			return err
		}
		t5 := time.Now()
		if i >= 0 { // the first calls load the modules and log in
			sum.Discover += int64(t1.Sub(t0))
			sum.Open += int64(t2.Sub(t1))
			sum.LoggedIn += int64(t3.Sub(t2))
			sum.Sign += int64(t4.Sub(t3))
			sum.Close += int64(t5.Sub(t4))
		}
	}
	n := int64(plan.N)
	res := layersResult{sum.Discover / n, sum.Open / n, sum.LoggedIn / n, sum.Sign / n, sum.Close / n}
	return json.NewEncoder(out).Encode(res)
}

func layersMain() {
	if err := runLayers(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kyso-bench layers:", err)
		os.Exit(1)
	}
}
