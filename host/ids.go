package host

// The fixed identity of the Kyso extension and host. extension/ids.json is
// the source of truth (the extension build reads it); TestIDsMatchJSON keeps
// these copies equal to it, since go:embed cannot reach outside this package.
const (
	// HostName is the native-messaging host name the extension connects to.
	HostName = "vn.kyso.signer"
	// FirefoxID is the Firefox add-on id (browser_specific_settings.gecko.id).
	FirefoxID = "signer@kyso.vn"
)

// ChromiumIDs are the Chromium-family (Chrome, Edge, Chromium) extension ids
// allowed to start the host. The first derives from the public key in
// ids.json's chromiumKey; store builds add theirs here and in ids.json.
var ChromiumIDs = []string{"iglbldmcmaeofmnfneeicieiklknbhdi"}
