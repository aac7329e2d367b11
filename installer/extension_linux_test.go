package installer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kyso.vn/kyso/internal/extid"
	"kyso.vn/kyso/manifests"
)

// An admin's extensionIds (system policy) reach the host manifests that
// `kyso install` writes, for one user and for all users, and doctor checks
// them: the real command, every path under --root.
func TestCommandInstallPolicyExtensionIDs(t *testing.T) {
	src := kysoBin(t)
	root, scratch := t.TempDir(), t.TempDir()
	kyso := filepath.Join(root, "usr/bin/kyso")
	os.MkdirAll(filepath.Dir(kyso), 0o755)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(kyso, b, 0o755)
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=/home/tester", "LANG=en_US.UTF-8",
		"XDG_CONFIG_HOME=" + filepath.Join(scratch, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(scratch, "cache"),
		"XDG_RUNTIME_DIR=" + filepath.Join(scratch, "run"),
	}
	const self = "abcdefghijklmnopabcdefghijklmnop" // the admin's own build
	pol := filepath.Join(root, "etc/kyso/policy.json")
	os.MkdirAll(filepath.Dir(pol), 0o755)
	if err := os.WriteFile(pol, []byte(`{"extensionIds": ["`+self+`"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A user's config that tries the same is not what install reads.
	os.MkdirAll(filepath.Join(scratch, "config/kyso"), 0o700)
	os.WriteFile(filepath.Join(scratch, "config/kyso/config.json"), []byte(`{"extensionIds": ["bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]}`), 0o600)

	for _, scope := range [][]string{nil, {"--system"}} {
		args := append([]string{kyso, "install", "--root", root, "--bin", "/usr/bin/kyso"}, scope...)
		if r := runKyso(t, env, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.out)
		}
	}
	want := manifests.Origins(append(extid.Kyso.Chromium(), self))
	for _, m := range []string{"home/tester/.config/chromium/NativeMessagingHosts", "home/tester/.config/google-chrome/NativeMessagingHosts",
		"etc/chromium/native-messaging-hosts", "etc/opt/chrome/native-messaging-hosts", "etc/opt/edge/native-messaging-hosts"} {
		var got manifests.Manifest
		b, err := os.ReadFile(filepath.Join(root, m, "vn.kyso.signer.json"))
		if err == nil {
			err = json.Unmarshal(b, &got)
		}
		if err != nil || !slices.Equal(got.AllowedOrigins, want) {
			t.Fatalf("%s: %v allowed_origins %v, want %v", m, err, got.AllowedOrigins, want)
		}
	}
	r := runKyso(t, env, kyso, "doctor", "--root", root, "--bin", "/usr/bin/kyso")
	if strings.Contains(r.out, "does not allow") || !strings.Contains(r.out, "✔ Chromium: registered") {
		t.Fatalf("doctor:\n%s", r.out)
	}
	// The admin adds another id: the manifests lack it until kyso install
	// runs again, and doctor says so.
	const more = "ponmlkjihgfedcbaponmlkjihgfedcba"
	os.WriteFile(pol, []byte(`{"extensionIds": ["`+self+`", "`+more+`"]}`), 0o644)
	r = runKyso(t, env, kyso, "doctor", "--root", root, "--bin", "/usr/bin/kyso")
	if r.code == 0 || !strings.Contains(r.out, "chrome-extension://"+more+"/") || !strings.Contains(r.out, "kyso install") {
		t.Fatalf("doctor with a new policy id:\n%s", r.out)
	}
	// kyso install --manifests-only (what the packages run after
	// installing) rewrites the installed manifests, and nothing else.
	before := tree(t, root)
	for _, scope := range [][]string{nil, {"--system"}} {
		args := append([]string{kyso, "install", "--manifests-only", "--root", root, "--bin", "/usr/bin/kyso"}, scope...)
		if r := runKyso(t, env, args...); r.code != 0 || !strings.Contains(r.out, "vn.kyso.signer.json") {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.out)
		}
	}
	if after := tree(t, root); !slices.Equal(before, after) {
		t.Fatalf("--manifests-only changed the tree:\n%v\n%v", before, after)
	}
	r = runKyso(t, env, kyso, "doctor", "--root", root, "--bin", "/usr/bin/kyso")
	if strings.Contains(r.out, "does not allow") || strings.Contains(r.out, more+"/ ") {
		t.Fatalf("doctor after --manifests-only:\n%s", r.out)
	}
	b, _ = os.ReadFile(filepath.Join(root, "home/tester/.config/chromium/NativeMessagingHosts/vn.kyso.signer.json"))
	if !strings.Contains(string(b), more) {
		t.Fatalf("the user's manifest lacks %s:\n%s", more, b)
	}
	// Where nothing is installed, it writes nothing.
	empty := t.TempDir()
	if r := runKyso(t, env, kyso, "install", "--manifests-only", "--system", "--root", empty, "--bin", "/usr/bin/kyso"); r.code != 0 || len(tree(t, empty)) != 1 {
		t.Fatalf("--manifests-only on an empty root: exit %d %v\n%s", r.code, tree(t, empty), r.out)
	}

	// A malformed id: install goes on with the other ids and says why.
	os.WriteFile(pol, []byte(`{"extensionIds": ["not-an-id"]}`), 0o644)
	r = runKyso(t, env, kyso, "install", "--root", root, "--bin", "/usr/bin/kyso", "--system")
	if r.code != 0 || !strings.Contains(r.out, pol+":1: extensionIds: \"not-an-id\"") {
		t.Fatalf("install with a broken policy: exit %d\n%s", r.code, r.out)
	}
	b, _ = os.ReadFile(filepath.Join(root, "etc/chromium/native-messaging-hosts/vn.kyso.signer.json"))
	if strings.Contains(string(b), self) || !strings.Contains(string(b), extid.Kyso.Development.ChromiumID) {
		t.Fatalf("manifest after a broken policy:\n%s", b)
	}
}

// publishedIDs is Kyso's ids as if every store had published it.
func publishedIDs(t *testing.T) *extid.IDs {
	x := extid.Kyso
	x.ChromeWebStore = []string{"cccccccccccccccccccccccccccccccc"}
	x.EdgeAddons = []string{"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"}
	x.Firefox.AddonsMozillaOrg = true
	return &x
}

// Pre-registration: nothing while no store id is published (the
// development id is in no store); once published, one external-extension
// file per browser where it looks, pointing at its store; the packages
// also carry the Firefox and self-hosted policies as examples.
func TestPreregistration(t *testing.T) {
	items, err := Plan(Options{System: true, Package: true, Binary: "/usr/bin/kyso"})
	if err != nil {
		t.Fatal(err)
	}
	var ext []string
	for _, it := range items {
		if it.Purpose == PurposeExtension {
			ext = append(ext, it.Path)
		}
	}
	if !slices.Equal(ext, []string{"/usr/share/doc/kyso/examples/chromium-policy-self-hosted.json"}) {
		t.Fatalf("unpublished: %v", ext)
	}

	o := Options{System: true, Package: true, Binary: "/usr/bin/kyso", IDs: publishedIDs(t)}
	items, err = Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, it := range items {
		if it.Purpose == PurposeExtension {
			got[it.Path] = string(it.Content)
		}
	}
	cws := `{"external_update_url": "https://clients2.google.com/service/update2/crx"}`
	for path, want := range map[string]string{
		"/usr/share/google-chrome/extensions/cccccccccccccccccccccccccccccccc.json": cws,
		"/usr/share/chromium/extensions/cccccccccccccccccccccccccccccccc.json":      cws,
		"/opt/brave.com/brave/extensions/cccccccccccccccccccccccccccccccc.json":     cws,
		"/opt/microsoft/msedge/extensions/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.json":    `{"external_update_url": "https://edge.microsoft.com/extensionwebstorebase/v1/crx"}`,
		"/usr/share/doc/kyso/examples/firefox-policies.json":                        `{"policies": {"ExtensionSettings": {"signer@kyso.vn": {"install_url": "https://addons.mozilla.org/firefox/downloads/latest/signer@kyso.vn/latest.xpi", "installation_mode": "normal_installed"}}}}`,
		"/usr/share/doc/kyso/examples/chromium-policy-self-hosted.json":             `{"ExtensionSettings": {"iglbldmcmaeofmnfneeicieiklknbhdi": {"installation_mode": "force_installed", "update_url": "https://extensions.example.vn/kyso/kyso-chromium-updates.xml"}}}`,
	} {
		if !sameJSON(t, got[path], want) {
			t.Errorf("%s:\n%s\nwant %s", path, got[path], want)
		}
		delete(got, path)
	}
	if len(got) != 0 {
		t.Errorf("more pre-registration than expected: %v", got)
	}
	// The published store ids are allowed in the host manifests too.
	for _, it := range items {
		if it.Purpose == PurposeManifest && !slices.Contains(it.Browsers, Firefox) &&
			(!strings.Contains(string(it.Content), "cccccccccccccccccccccccccccccccc") || !strings.Contains(string(it.Content), "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")) {
			t.Errorf("%s does not allow the store ids:\n%s", it.Path, it.Content)
		}
	}
	// A per-user install pre-registers nothing (no per-user folder exists).
	items, _ = Plan(Options{Home: "/home/x", Binary: "/usr/bin/kyso", IDs: o.IDs})
	for _, it := range items {
		if it.Purpose == PurposeExtension {
			t.Errorf("per-user install wrote %s", it.Path)
		}
	}
	// The MSI's include files: keys in the 32-bit view for Chrome, Brave and
	// Edge, Firefox's policy in a feature that is off by default.
	comp, feat := WiXPrereg(*o.IDs)
	for _, want := range []string{
		`Key="Software\Google\Chrome\Extensions\cccccccccccccccccccccccccccccccc" Name="update_url"`,
		`Key="Software\BraveSoftware\Brave-Browser\Extensions\cccccccccccccccccccccccccccccccc" Name="update_url"`,
		`Key="Software\Microsoft\Edge\Extensions\eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" Name="update_url" Type="string" Value="https://edge.microsoft.com/extensionwebstorebase/v1/crx"`,
		`Key="Software\Policies\Mozilla\Firefox\ExtensionSettings\signer@kyso.vn" Name="install_url"`,
	} {
		if !strings.Contains(string(comp), want) {
			t.Errorf("components lack %s:\n%s", want, comp)
		}
	}
	if strings.Count(string(comp), `Win64="no"`) != 3 || !strings.Contains(string(feat), `Id="FirefoxPolicy" Title="Install the Kyso add-on in Firefox (enterprise policy)" Level="1000"`) {
		t.Errorf("views or features:\n%s\n%s", comp, feat)
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
