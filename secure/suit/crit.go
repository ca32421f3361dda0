package suit

import "fmt"

// coseHeaderCrit is the COSE header label of crit (RFC 9052 §3.1).
const coseHeaderCrit = 2

// checkCrit applies RFC 9052 §3.1 to the headers of one COSE message or
// recipient. crit lists the header parameters that a recipient must
// understand, so a message whose crit names one this processor does not
// act on is refused (ErrCriticalHeader) rather than read without it. crit
// itself must be integrity protected: in the protected bucket, a non-empty
// array of distinct labels, each present in the protected bucket;
// anything else is ErrMalformed. understood lists the labels the caller
// acts on; a text label is never understood, since SUIT defines none.
// The checks run in array order, so the same input always gives the same
// error.
func checkCrit(protected, unprotected map[int64][]byte, understood ...int64) error {
	if _, ok := unprotected[coseHeaderCrit]; ok {
		return malformed("crit in the unprotected header")
	}
	raw, ok := protected[coseHeaderCrit]
	if !ok {
		return nil
	}
	r := newReader(raw)
	// Every label must be present in the protected header, crit itself
	// excluded, so the header's size bounds the array.
	n, err := r.array(maxMapPairs)
	if err != nil {
		return fmt.Errorf("crit: %w", err)
	}
	if n == 0 {
		return malformed("crit is empty")
	}
	labels := make([]int64, 0, n)
	for range n {
		if m, _ := r.peek(); m == majorText {
			name, err := r.text()
			if err != nil {
				return fmt.Errorf("crit: %w", err)
			}
			return fmt.Errorf("%w: text label %q", ErrCriticalHeader, name)
		}
		label, err := r.int()
		if err != nil {
			return fmt.Errorf("crit: %w", err)
		}
		for _, seen := range labels {
			if seen == label {
				return malformed("crit lists label %d twice", label)
			}
		}
		labels = append(labels, label)
		if _, present := protected[label]; !present || label == coseHeaderCrit {
			return malformed("crit lists label %d, which the protected header does not hold", label)
		}
		known := false
		for _, u := range understood {
			known = known || u == label
		}
		if !known {
			return fmt.Errorf("%w: label %d", ErrCriticalHeader, label)
		}
	}
	return r.done()
}
