package comid

import "errors"

// ErrMalformed: an endorsement or reference values file does not decode,
// breaks a bound, or holds a key that is not what it says.
var ErrMalformed = errors.New("comid: malformed")
