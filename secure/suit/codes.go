package suit

import "fmt"

// Envelope and manifest member keys (draft-37 §11; the severable ones share
// their key between the envelope and the manifest).
const (
	KeyAuthWrapper    = 2
	KeyManifest       = 3
	KeyVersion        = 1
	KeySequenceNumber = 2
	KeyCommon         = 3
	KeyReferenceURI   = 4
	KeyValidate       = 7
	KeyLoad           = 8
	KeyInvoke         = 9
	KeyPayloadFetch   = 16
	KeyInstall        = 20
	KeyText           = 23
	// KeySetVersion is suit-set-version (draft-ietf-suit-update-management §3.1).
	KeySetVersion = 6
	// KeyCoSWID is suit-coswid (draft-ietf-suit-update-management):
	// a CoSWID (RFC 9393) in the manifest, or severed into the envelope
	// under the same key. This processor keeps it for whoever reads it and
	// acts on nothing in it.
	KeyCoSWID = 14

	// draft-ietf-suit-trust-domains
	KeyManifestComponentID   = 5
	KeyDependencyResolution  = 15
	KeyCandidateVerification = 18
	KeyUninstall             = 24

	keyComponents       = 2
	keySharedSequence   = 4
	keyDependencies     = 1 // in suit-common (trust domains)
	keyDependencyPrefix = 1 // in SUIT_Dependency_Metadata
)

// severableKeys are the manifest members that may be replaced by a digest
// and carried in the envelope.
var severableKeys = map[int64]bool{KeyPayloadFetch: true, KeyInstall: true, KeyText: true,
	KeyDependencyResolution: true, KeyCandidateVerification: true, KeyCoSWID: true}

// IsSeverable reports whether the manifest member key may be severed:
// replaced in the manifest by its digest and carried in the envelope.
func IsSeverable(key int64) bool { return severableKeys[key] }

// manifestExtensionKeys are manifest members of the companion drafts that
// this processor implements, beyond the sequences.
var manifestExtensionKeys = []int64{KeySetVersion, KeyManifestComponentID}

// commonKeys are the suit-common members this processor implements.
var commonKeys = []int64{keyDependencies, keyComponents, keySharedSequence}

// dependencyMetadataKeys are the SUIT_Dependency_Metadata members this
// processor implements.
var dependencyMetadataKeys = []int64{keyDependencyPrefix}

// unseverableSequences are the command sequences that must stay in the manifest.
var unseverableSequences = map[int64]bool{KeyValidate: true, KeyLoad: true, KeyInvoke: true, KeyUninstall: true}

// SequenceName names a manifest member key.
func SequenceName(key int64) string {
	switch key {
	case KeyValidate:
		return "validate"
	case KeyLoad:
		return "load"
	case KeyInvoke:
		return "invoke"
	case KeyPayloadFetch:
		return "payload-fetch"
	case KeyInstall:
		return "install"
	case KeyText:
		return "text"
	case KeyCoSWID:
		return "coswid"
	case KeyDependencyResolution:
		return "dependency-resolution"
	case KeyCandidateVerification:
		return "candidate-verification"
	case KeyUninstall:
		return "uninstall"
	case 0:
		return "shared-sequence"
	}
	return fmt.Sprintf("member-%d", key)
}

// Command codes: conditions and directives.
const (
	CondVendorIdentifier = 1
	CondClassIdentifier  = 2
	CondImageMatch       = 3
	CondComponentSlot    = 5
	CondCheckContent     = 6
	CondAbort            = 14
	CondDeviceIdentifier = 24

	DirSetComponentIndex  = 12
	DirTryEach            = 15
	DirWrite              = 18
	DirOverrideParameters = 20
	DirFetch              = 21
	DirCopy               = 22
	DirInvoke             = 23
	DirSwap               = 31
	DirRunSequence        = 32

	// draft-ietf-suit-update-management
	CondUseBefore        = 4
	CondImageNotMatch    = 25
	CondMinimumBattery   = 26
	CondUpdateAuthorized = 27
	CondVersion          = 28
	DirWait              = 29
	DirOverrideMultiple  = 34
	DirCopyParams        = 35

	// draft-ietf-suit-trust-domains
	CondDependencyIntegrity = 7
	CondIsDependency        = 8
	DirProcessDependency    = 11
	DirSetParameters        = 19
	DirUnlink               = 33
)

var commandNames = map[int64]string{
	CondVendorIdentifier:    "condition-vendor-identifier",
	CondClassIdentifier:     "condition-class-identifier",
	CondImageMatch:          "condition-image-match",
	CondComponentSlot:       "condition-component-slot",
	CondCheckContent:        "condition-check-content",
	CondAbort:               "condition-abort",
	CondDeviceIdentifier:    "condition-device-identifier",
	DirSetComponentIndex:    "directive-set-component-index",
	DirTryEach:              "directive-try-each",
	DirWrite:                "directive-write",
	DirOverrideParameters:   "directive-override-parameters",
	DirFetch:                "directive-fetch",
	DirCopy:                 "directive-copy",
	DirInvoke:               "directive-invoke",
	DirSwap:                 "directive-swap",
	DirRunSequence:          "directive-run-sequence",
	CondUseBefore:           "condition-use-before",
	CondImageNotMatch:       "condition-image-not-match",
	CondMinimumBattery:      "condition-minimum-battery",
	CondUpdateAuthorized:    "condition-update-authorized",
	CondVersion:             "condition-version",
	DirWait:                 "directive-wait",
	DirOverrideMultiple:     "directive-override-multiple",
	DirCopyParams:           "directive-copy-params",
	CondDependencyIntegrity: "condition-dependency-integrity",
	CondIsDependency:        "condition-is-dependency",
	DirProcessDependency:    "directive-process-dependency",
	DirSetParameters:        "directive-set-parameters",
	DirUnlink:               "directive-unlink",
}

// CommandName names a command code; custom commands are negative.
func CommandName(code int64) string {
	if n, ok := commandNames[code]; ok {
		return n
	}
	if code < 0 {
		return fmt.Sprintf("custom-%d", code)
	}
	return fmt.Sprintf("command-%d", code)
}

func isCondition(code int64) bool {
	switch code {
	case CondVendorIdentifier, CondClassIdentifier, CondImageMatch, CondComponentSlot,
		CondCheckContent, CondAbort, CondDeviceIdentifier,
		CondUseBefore, CondImageNotMatch, CondMinimumBattery, CondUpdateAuthorized, CondVersion,
		CondDependencyIntegrity, CondIsDependency:
		return true
	}
	return false
}

// Parameter keys (draft-37 §8.4.8).
const (
	ParamVendorID        = 1
	ParamClassID         = 2
	ParamImageDigest     = 3
	ParamComponentSlot   = 5
	ParamStrictOrder     = 12
	ParamSoftFailure     = 13
	ParamImageSize       = 14
	ParamContent         = 18
	ParamEncryptionInfo  = 19 // draft-ietf-suit-firmware-encryption §4
	ParamURI             = 21
	ParamSourceComponent = 22
	ParamInvokeArgs      = 23
	ParamDeviceID        = 24
	ParamFetchArguments  = 25

	// draft-ietf-suit-update-management §4
	ParamUseBefore      = 4
	ParamMinimumBattery = 26
	ParamUpdatePriority = 27
	ParamVersion        = 28
	ParamWaitInfo       = 29
	// ParamComponentMetadata is suit-parameter-component-metadata: file
	// metadata to apply when a component is fetched, copied or written.
	// It decodes and verifies; processing declines to store an image that
	// carries it (see ComponentMetadata).
	ParamComponentMetadata = 30
)

// paramKind is the CBOR type a parameter holds.
type paramKind int

const (
	kindBytes  paramKind = iota
	kindUUID             // bstr .size 16
	kindVendor           // UUID or cbor-pen #6.112(bstr)
	kindUint
	kindText
	kindBool
	kindDigest  // bstr .cbor SUIT_Digest
	kindEncInfo // bstr .cbor SUIT_Encryption_Info
	kindInt
	kindVersion  // bstr .cbor SUIT_Parameter_Version_Match
	kindWaitInfo // bstr .cbor SUIT_Wait_Event
	kindMetadata // bstr .cbor SUIT_Component_Metadata
)

type paramSpec struct {
	name string
	kind paramKind
}

var paramSpecs = map[int64]paramSpec{
	ParamVendorID:          {"vendor-id", kindVendor},
	ParamClassID:           {"class-id", kindUUID},
	ParamImageDigest:       {"image-digest", kindDigest},
	ParamComponentSlot:     {"component-slot", kindUint},
	ParamStrictOrder:       {"strict-order", kindBool},
	ParamSoftFailure:       {"soft-failure", kindBool},
	ParamImageSize:         {"image-size", kindUint},
	ParamContent:           {"content", kindBytes},
	ParamEncryptionInfo:    {"encryption-info", kindEncInfo},
	ParamURI:               {"uri", kindText},
	ParamSourceComponent:   {"source-component", kindUint},
	ParamInvokeArgs:        {"invoke-args", kindBytes},
	ParamDeviceID:          {"device-id", kindUUID},
	ParamFetchArguments:    {"fetch-arguments", kindBytes},
	ParamUseBefore:         {"use-before", kindUint},
	ParamMinimumBattery:    {"minimum-battery", kindUint},
	ParamUpdatePriority:    {"update-priority", kindInt},
	ParamVersion:           {"version", kindVersion},
	ParamWaitInfo:          {"wait-info", kindWaitInfo},
	ParamComponentMetadata: {"component-metadata", kindMetadata},
}

// ParamName names a parameter key.
func ParamName(key int64) string {
	if s, ok := paramSpecs[key]; ok {
		return s.name
	}
	return fmt.Sprintf("param-%d", key)
}

// Reporting policy bits (draft-37 §8.4.7).
const (
	ReportRecordOnSuccess  = 1 << 0
	ReportRecordOnFailure  = 1 << 1
	ReportSysinfoOnSuccess = 1 << 2
	ReportSysinfoOnFailure = 1 << 3
)

// COSE algorithm identifiers used by SUIT.
const (
	AlgSHA256  = -16
	AlgSHA384  = -43
	AlgSHA512  = -44
	AlgES256   = -7
	AlgESP256  = -9
	AlgES384   = -35
	AlgEdDSA   = -8
	AlgEd25519 = -19
	AlgHMAC256 = 5
)

// COSE algorithms of payload encryption (draft-ietf-suit-firmware-encryption,
// RFC 9053, RFC 9459).
const (
	// AlgA128GCM is AES-GCM with a 128-bit key and a 128-bit tag.
	AlgA128GCM = 1
	// AlgA128CTR is AES-CTR with a 128-bit key, no integrity of its own.
	AlgA128CTR = -65534
	// AlgA128KW is AES key wrap (RFC 3394) with a 128-bit pre-shared KEK.
	AlgA128KW = -3
	// AlgECDHESA128KW is ephemeral-static ECDH on P-256, HKDF-SHA256 and
	// AES key wrap with the derived 128-bit KEK.
	AlgECDHESA128KW = -29
)
