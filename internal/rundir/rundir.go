// Package rundir is where this user's Kyso processes meet: the agent's
// local socket (a named pipe on Windows), which `kyso host` relays to, and
// the directory of the files they share (the one-dialog lock and the
// decline record of internal/limits). The directory is made private and
// checked to be this user's before anything is put in it.
package rundir
