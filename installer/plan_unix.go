//go:build linux || darwin

package installer

// dirManifests renders the host manifests into every browser family's
// folder of this OS (Windows points registry keys at one file instead).
func dirManifests(o Options) ([]Item, error) {
	dirs, err := manifestDirs(o)
	if err != nil {
		return nil, err
	}
	return manifestItems(o, dirs)
}
