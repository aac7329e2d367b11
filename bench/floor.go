package main

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/miekg/pkcs11"

	"kyso.vn/kyso/token"
)

// The floor: raw C_SignInit + C_Sign on the same SoftHSM key through
// miekg/pkcs11, with nothing of Kyso in between. It runs in its own process
// (`kyso-bench floor`), so that its PKCS#11 login and the agent's do not
// share a module instance, and reads its plan as JSON on stdin.

// floorPlan opens the floor process: the module and the PIN. Commands
// follow, one JSON line each, each answered with one JSON line, so that the
// bench interleaves floor and Kyso samples and load on the machine hits
// both alike.
type floorPlan struct {
	Module string `json:"module"`
	PIN    string `json:"pin"`
}

type floorCase struct {
	Name   string `json:"name"`   // figure name, e.g. "rsa2048_pkcs1"
	Label  string `json:"label"`  // token label
	Scheme string `json:"scheme"` // token.Scheme spelling
}

// floorCmd: Count == 0 times N single signatures under both session
// policies; Count > 0 times N batches of Count signatures, each after a
// C_Login when Login is set (as Kyso logs in after the PIN dialog).
// WS starts the WebSocket floor (once) and answers its port.
type floorCmd struct {
	Case  floorCase `json:"case"`
	N     int       `json:"n"`
	Count int       `json:"count"`
	Login bool      `json:"login,omitempty"`
	WS    bool      `json:"ws,omitempty"`
}

// floorResult holds each sample in nanoseconds.
type floorResult struct {
	// PerOp: a new session for each signature, as Kyso opens one per
	// operation (the login kept alive by another open session, as Kyso's
	// pinCacheSeconds keeper does). This is the floor the ratios use.
	PerOp []int64 `json:"perOp,omitempty"`
	// OneSession: every signature on one long-lived session, the least any
	// program can do; shown for reference.
	OneSession []int64 `json:"oneSession,omitempty"`
	// PerOpIdle: PerOp right after idleGap of sleep, as the agent runs each
	// request after waiting on its socket; shown for reference. An idle CPU
	// makes the next PKCS#11 calls slower (caches, wake-up), which a tight
	// loop never sees.
	PerOpIdle []int64 `json:"perOpIdle,omitempty"`
	// Batch: one session per batch, (C_Login,) then count × (C_SignInit +
	// C_Sign), as Kyso's signBatch does.
	Batch []int64 `json:"batch,omitempty"`
	Port  int     `json:"port,omitempty"` // the WebSocket floor's
	Err   string  `json:"err,omitempty"`
}

// idleGap is the sleep before each PerOpIdle sample: about what the agent
// waits between two requests of the bench's client (a WebSocket round trip
// and the client checking the signature).
const idleGap = 200 * time.Microsecond

// SHA-256 DigestInfo prefix: CKM_RSA_PKCS signs DigestInfo||hash, exactly
// the data Kyso's token layer gives it.
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

func mechanismFor(scheme string, hash []byte) (*pkcs11.Mechanism, []byte) {
	switch scheme {
	case "RSASSA-PSS":
		return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, pkcs11.NewPSSParams(pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256, 32)), hash
	case "ECDSA":
		return pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil), hash
	default:
		return pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil), append(append([]byte(nil), sha256DigestInfo...), hash...)
	}
}

func runFloor(in io.Reader, out io.Writer) error {
	dec := json.NewDecoder(in)
	enc := json.NewEncoder(out)
	var plan floorPlan
	if err := dec.Decode(&plan); err != nil {
		return fmt.Errorf("floor: reading the plan: %w", err)
	}
	p := pkcs11.New(plan.Module)
	if p == nil {
		return fmt.Errorf("floor: cannot load %s", plan.Module)
	}
	if err := p.Initialize(); err != nil {
		return fmt.Errorf("floor: C_Initialize: %w", err)
	}
	defer p.Finalize()

	type opened struct {
		slot uint
		hold pkcs11.SessionHandle // holds the login for the whole run
		key  pkcs11.ObjectHandle
	}
	byLabel := map[string]*opened{}
	defer func() {
		for _, o := range byLabel {
			p.Logout(o.hold)
			p.CloseSession(o.hold)
		}
	}()
	// findKey finds the private key (CKA_ID 01), visible once logged in.
	findKey := func(sess pkcs11.SessionHandle) (pkcs11.ObjectHandle, error) {
		if err := p.FindObjectsInit(sess, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_ID, []byte{1}),
		}); err != nil {
			return 0, err
		}
		objs, _, err := p.FindObjects(sess, 1)
		p.FindObjectsFinal(sess)
		if err != nil || len(objs) == 0 {
			return 0, fmt.Errorf("no private key with CKA_ID 01: %v", err)
		}
		return objs[0], nil
	}
	open := func(label string) (*opened, error) {
		if o := byLabel[label]; o != nil {
			return o, nil
		}
		slots, err := p.GetSlotList(true)
		if err != nil {
			return nil, err
		}
		for _, s := range slots {
			ti, err := p.GetTokenInfo(s)
			if err != nil || strings.TrimRight(ti.Label, " \x00") != label {
				continue
			}
			sess, err := p.OpenSession(s, pkcs11.CKF_SERIAL_SESSION)
			if err != nil {
				return nil, err
			}
			if err := p.Login(sess, pkcs11.CKU_USER, plan.PIN); err != nil && err != pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
				return nil, fmt.Errorf("C_Login on %s: %w", label, err)
			}
			key, err := findKey(sess)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", label, err)
			}
			o := &opened{slot: s, hold: sess, key: key}
			byLabel[label] = o
			return o, nil
		}
		return nil, fmt.Errorf("no token labelled %s", label)
	}

	hashes := make([][]byte, 256)
	for i := range hashes {
		hashes[i] = make([]byte, 32)
		rand.Read(hashes[i])
	}
	sign := func(sess pkcs11.SessionHandle, o *opened, scheme string, hash []byte) ([]byte, error) {
		mech, data := mechanismFor(scheme, hash)
		if err := p.SignInit(sess, []*pkcs11.Mechanism{mech}, o.key); err != nil {
			return nil, fmt.Errorf("C_SignInit: %w", err)
		}
		sig, err := p.Sign(sess, data)
		if err != nil {
			return nil, fmt.Errorf("C_Sign: %w", err)
		}
		return sig, nil
	}
	// batch opens one session and signs count hashes on it; count 1 is the
	// per-operation policy of a single sign.
	batch := func(o *opened, scheme string, count int, login bool) error {
		sess, err := p.OpenSession(o.slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			return err
		}
		defer p.CloseSession(sess)
		if login {
			// A logout drops the handles of private objects: the key is
			// found again, as Kyso's token layer does after its login.
			if err := p.Login(sess, pkcs11.CKU_USER, plan.PIN); err != nil {
				return fmt.Errorf("C_Login: %w", err)
			}
			if o.key, err = findKey(sess); err != nil {
				return err
			}
		}
		for i := 0; i < count; i++ {
			if _, err := sign(sess, o, scheme, hashes[i%len(hashes)]); err != nil {
				return err
			}
		}
		return nil
	}
	// signOne is what the WebSocket floor does per message: one session,
	// one signature, as Kyso's single sign.
	signOne := func(label, scheme string, hash []byte) ([]byte, error) {
		o, err := open(label)
		if err != nil {
			return nil, err
		}
		sess, err := p.OpenSession(o.slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			return nil, err
		}
		defer p.CloseSession(sess)
		return sign(sess, o, scheme, hash)
	}
	// The bench drives the floor and the WebSocket floor in turn, never
	// both at once; the lock only keeps the two goroutines honest.
	var mu sync.Mutex
	wsPort := 0

	do := func(c floorCmd) (res floorResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		if c.WS {
			if wsPort == 0 {
				if wsPort, err = serveWSFloor(func(label, scheme string, hash []byte) ([]byte, error) {
					mu.Lock()
					defer mu.Unlock()
					return signOne(label, scheme, hash)
				}); err != nil {
					return res, err
				}
			}
			res.Port = wsPort
			return res, nil
		}
		o, err := open(c.Case.Label)
		if err != nil {
			return res, err
		}
		for i := 0; i < c.N; i++ {
			if c.Count > 0 {
				if c.Login {
					p.Logout(o.hold) // untimed: the token as Kyso leaves it after an operation
				}
				t := time.Now()
				if err := batch(o, c.Case.Scheme, c.Count, c.Login); err != nil {
					return res, err
				}
				res.Batch = append(res.Batch, int64(time.Since(t)))
				continue
			}
			// Both policies alternately, so that drift hits both alike.
			t := time.Now()
			if err := batch(o, c.Case.Scheme, 1, false); err != nil {
				return res, err
			}
			res.PerOp = append(res.PerOp, int64(time.Since(t)))
			t = time.Now()
			if _, err := sign(o.hold, o, c.Case.Scheme, hashes[i%len(hashes)]); err != nil {
				return res, err
			}
			res.OneSession = append(res.OneSession, int64(time.Since(t)))
			time.Sleep(idleGap)
			t = time.Now()
			if err := batch(o, c.Case.Scheme, 1, false); err != nil {
				return res, err
			}
			res.PerOpIdle = append(res.PerOpIdle, int64(time.Since(t)))
		}
		return res, nil
	}
	for {
		var c floorCmd
		if err := dec.Decode(&c); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("floor: reading a command: %w", err)
		}
		res, err := do(c)
		if err != nil {
			res = floorResult{Err: err.Error()}
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
}

func floorMain() {
	if err := runFloor(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "kyso-bench floor:", err)
		os.Exit(1)
	}
}

// floorProc is the running floor process.
type floorProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	dec *json.Decoder
}

func startFloor(self, module, softhsmConf, pin string, extraEnv ...string) (*floorProc, error) {
	cmd := exec.Command(self, "floor")
	cmd.Env = append(append(os.Environ(), "SOFTHSM2_CONF="+softhsmConf), extraEnv...)
	in, out, err := startPiped(cmd)
	if err != nil {
		return nil, fmt.Errorf("floor process: %w", err)
	}
	f := &floorProc{cmd: cmd, in: in, dec: json.NewDecoder(out)}
	if err := json.NewEncoder(in).Encode(floorPlan{Module: module, PIN: pin}); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func (f *floorProc) do(c floorCmd) (*floorResult, error) {
	if err := json.NewEncoder(f.in).Encode(c); err != nil {
		return nil, fmt.Errorf("floor process: %w", err)
	}
	var res floorResult
	if err := f.dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("floor process: %w", err)
	}
	if res.Err != "" {
		return nil, fmt.Errorf("floor process: %s", res.Err)
	}
	return &res, nil
}

func (f *floorProc) close() {
	f.in.Close()
	f.cmd.Wait()
}

// serveWSFloor is the WebSocket floor: the least a local WebSocket signer
// can do, on the same library Kyso uses (gorilla/websocket) — no JSON, no
// policy, no log. Each binary message is label NUL scheme NUL hash; the
// answer is the signature. Kyso's WebSocket figures over it tell what
// Kyso's own code costs apart from the two processes and the socket.
func serveWSFloor(signOne func(label, scheme string, hash []byte) ([]byte, error)) (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			parts := bytes.SplitN(msg, []byte{0}, 3)
			if len(parts) != 3 {
				return
			}
			sig, err := signOne(string(parts[0]), string(parts[1]), parts[2])
			if err != nil {
				sig = []byte("error: " + err.Error())
			}
			if c.WriteMessage(websocket.BinaryMessage, sig) != nil {
				return
			}
		}
	}))
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// wsFloorSeries times n round trips (after warmup) to the WebSocket floor
// and checks the first signature.
func wsFloorSeries(c *websocket.Conn, s *scheme, hashes [][]byte, warmup, n int) ([]int64, error) {
	reqs := make([][]byte, warmup+n)
	for i := range reqs {
		reqs[i] = append([]byte(s.Label+"\x00"+string(s.Scheme)+"\x00"), hashes[i%len(hashes)]...)
	}
	out := make([]int64, 0, n)
	for i, req := range reqs {
		t := time.Now()
		if err := c.WriteMessage(websocket.BinaryMessage, req); err != nil {
			return nil, err
		}
		_, sig, err := c.ReadMessage()
		d := time.Since(t)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if s.Scheme == token.ECDSA && len(sig)%2 == 0 { // PKCS#11 gives r‖s; verify takes ASN.1
				half := len(sig) / 2
				sig, _ = asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:half]), new(big.Int).SetBytes(sig[half:])})
			}
			if err := verify(s, hashes[0], base64.StdEncoding.EncodeToString(sig)); err != nil {
				return nil, fmt.Errorf("WebSocket floor: %w (%q)", err, sig)
			}
		}
		if i >= warmup {
			out = append(out, int64(d))
		}
	}
	return out, nil
}
