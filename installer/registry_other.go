//go:build !windows

package installer

import "errors"

// systemRegistry: there is no registry off Windows, and no plan asks for one.
type systemRegistry struct{}

var errNoRegistry = errors.New("installer: no registry on this system")

func (systemRegistry) set(Item) error                     { return errNoRegistry }
func (systemRegistry) remove(Item) error                  { return errNoRegistry }
func (systemRegistry) get(_, _, _ string) (string, error) { return "", errNoRegistry }
