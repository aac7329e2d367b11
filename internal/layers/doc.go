// Package layers has no code: its test keeps the README's repository map
// true, failing when a package imports a Kyso package its row does not
// allow, or is not on the map at all.
package layers
