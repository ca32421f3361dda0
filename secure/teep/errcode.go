package teep

import "fmt"

// ErrCode is a TEEP err-code. The known codes have their draft-26 values;
// a code the message's numbering does not define is kept as an unknown
// code (Known reports false) carrying its wire value, so that it is
// tolerated and re-encodes as received.
type ErrCode uint64

// The err-codes of draft-26 (1..10 are the same in the earlier numbering;
// ERR_MANIFEST_PROCESSING_FAILED was 17 there).
const (
	ErrPermanentError                 ErrCode = 1
	ErrUnsupportedExtension           ErrCode = 2
	ErrUnsupportedFreshnessMechanisms ErrCode = 3
	ErrUnsupportedMsgVersion          ErrCode = 4
	ErrUnsupportedCipherSuites        ErrCode = 5
	ErrBadCertificate                 ErrCode = 6
	ErrAttestationRequired            ErrCode = 7
	ErrUnsupportedSUITReport          ErrCode = 8
	ErrCertificateExpired             ErrCode = 9
	ErrTemporaryError                 ErrCode = 10
	ErrManifestProcessingFailed       ErrCode = 11
)

// unknownCode marks an ErrCode holding the wire value of an unknown code.
const unknownCode ErrCode = 1 << 40

// UnknownErrCode is the ErrCode of wire value w, which no numbering
// defines as a known code.
func UnknownErrCode(w uint64) ErrCode { return unknownCode | ErrCode(w) }

// Known reports whether c is one of the codes draft-26 defines.
func (c ErrCode) Known() bool { return c >= ErrPermanentError && c <= ErrManifestProcessingFailed }

var errCodeNames = [...]string{
	ErrPermanentError:                 "ERR_PERMANENT_ERROR",
	ErrUnsupportedExtension:           "ERR_UNSUPPORTED_EXTENSION",
	ErrUnsupportedFreshnessMechanisms: "ERR_UNSUPPORTED_FRESHNESS_MECHANISMS",
	ErrUnsupportedMsgVersion:          "ERR_UNSUPPORTED_MSG_VERSION",
	ErrUnsupportedCipherSuites:        "ERR_UNSUPPORTED_CIPHER_SUITES",
	ErrBadCertificate:                 "ERR_BAD_CERTIFICATE",
	ErrAttestationRequired:            "ERR_ATTESTATION_REQUIRED",
	ErrUnsupportedSUITReport:          "ERR_UNSUPPORTED_SUIT_REPORT",
	ErrCertificateExpired:             "ERR_CERTIFICATE_EXPIRED",
	ErrTemporaryError:                 "ERR_TEMPORARY_ERROR",
	ErrManifestProcessingFailed:       "ERR_MANIFEST_PROCESSING_FAILED",
}

func (c ErrCode) String() string {
	if c.Known() {
		return errCodeNames[c]
	}
	return fmt.Sprintf("unknown err-code %d", uint64(c&^unknownCode))
}

// wire is c's err-code in n.
func (c ErrCode) wire(n Numbering) uint64 {
	if !c.Known() {
		return uint64(c &^ unknownCode)
	}
	if n == Legacy && c == ErrManifestProcessingFailed {
		return 17
	}
	return uint64(c)
}

// errCodeOf is the ErrCode of wire value w in n.
func errCodeOf(w uint64, n Numbering) ErrCode {
	switch {
	case w >= 1 && w <= 10:
		return ErrCode(w)
	case n == Draft26 && w == 11, n == Legacy && w == 17:
		return ErrManifestProcessingFailed
	}
	return UnknownErrCode(w)
}
