package suit

import (
	"crypto/sha256"
	"fmt"
)

// ParseReport decodes an unprotected SUIT_Report strictly: unknown
// members, records of the wrong shape and out-of-bound counts are refused
// with ErrMalformed or ErrUnsupported. Nothing in it is authenticated;
// VerifyReport is the receiving side's entry point.
func ParseReport(data []byte) (*Report, error) {
	if len(data) > MaxReportSize {
		return nil, malformed("report of %d bytes exceeds %d", len(data), MaxReportSize)
	}
	r := newReader(data)
	rep, err := readReport(r)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return rep, nil
}

// VerifyReport checks a signed report (a tagged COSE_Sign1 or COSE_Mac0
// with the report as its payload) against keys and only then decodes the
// report. It returns the report and the ID of the key that verified it.
func VerifyReport(data []byte, keys []*Key) (*Report, string, error) {
	if len(data) > MaxReportSize {
		return nil, "", malformed("signed report of %d bytes exceeds %d", len(data), MaxReportSize)
	}
	b, err := parseCOSEBlock(data)
	if err != nil {
		return nil, "", fmt.Errorf("signed report: %w", err)
	}
	if b.payload == nil {
		return nil, "", malformed("signed report: detached payload")
	}
	for _, k := range keys {
		if b.verify(k, b.payload) {
			rep, err := ParseReport(b.payload)
			if err != nil {
				return nil, "", err
			}
			return rep, k.ID, nil
		}
	}
	return nil, "", fmt.Errorf("signed report: %w", ErrBadSignature)
}

// Sign wraps the report in a tagged COSE_Sign1 by a device key, or a
// COSE_Mac0 for a MAC key, with the report as the attached payload
// (draft-ietf-suit-report §8).
func (r *Report) Sign(key *SigningKey) ([]byte, error) {
	return signCOSEPayload(key, r.Encode(), true)
}

func readReport(r *reader) (*Report, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	var seen keySet
	for range n {
		key, err := r.int()
		if err != nil {
			return nil, err
		}
		if err := seen.add(r, key); err != nil {
			return nil, err
		}
		switch key {
		case reportKeyReference:
			err = rep.readReference(r)
		case reportKeyNonce:
			rep.Nonce, err = r.bytes()
		case reportKeyRecords:
			err = rep.readRecords(r)
		case reportKeyResult:
			err = rep.readResult(r)
		case reportKeyCapabilities:
			rep.Capabilities, err = readCapabilities(r)
		default:
			err = unsupported("report member %d", key)
		}
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", key, err)
		}
	}
	for _, key := range []int64{reportKeyReference, reportKeyRecords, reportKeyResult} {
		if !seen.contains(key) {
			return nil, malformed("report lacks member %d", key)
		}
	}
	return rep, nil
}

func (r *Report) readReference(rd *reader) error {
	if n, err := rd.array(2); err != nil || n != 2 {
		return malformed("reference is not [uri, digest]")
	}
	var err error
	if r.ManifestURI, err = rd.text(); err != nil {
		return err
	}
	r.ManifestDigest, err = readDigest(rd)
	return err
}

func (r *Report) readRecords(rd *reader) error {
	n, err := rd.array(MaxReportRecords)
	if err != nil {
		return err
	}
	for i := range n {
		var e ReportEntry
		if m, _ := rd.peek(); m == majorMap {
			e, err = readSystemProperties(rd)
		} else {
			e, err = readReportRecord(rd)
		}
		if err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		r.Records = append(r.Records, e)
	}
	return nil
}

func (r *Report) readResult(rd *reader) error {
	if m, _ := rd.peek(); m == majorSimple {
		ok, err := rd.bool()
		if err != nil || !ok {
			return malformed("result is neither true nor a map")
		}
		return nil
	}
	n, err := rd.mapHead()
	if err != nil {
		return err
	}
	res := &ReportResult{}
	var seen keySet
	for range n {
		key, err := rd.int()
		if err != nil {
			return err
		}
		if err := seen.add(rd, key); err != nil {
			return err
		}
		switch key {
		case reportKeyResultCode:
			res.Code, err = rd.int()
		case reportKeyResultRecord:
			var rr *ReportRecord
			if rr, err = readReportRecord(rd); err == nil {
				res.Record = *rr
			}
		case reportKeyResultReason:
			var reason int64
			reason, err = rd.int()
			res.Reason = ReportReason(reason)
		default:
			err = unsupported("result member %d", key)
		}
		if err != nil {
			return err
		}
	}
	for _, key := range []int64{reportKeyResultCode, reportKeyResultRecord, reportKeyResultReason} {
		if !seen.contains(key) {
			return malformed("result lacks member %d", key)
		}
	}
	r.Result = res
	return nil
}

func readReportRecord(r *reader) (*ReportRecord, error) {
	if n, err := r.array(5); err != nil || n != 5 {
		return nil, malformed("SUIT_Record is not an array of 5")
	}
	rr := &ReportRecord{}
	n, err := r.array(MaxSequenceDepth + 1)
	if err != nil {
		return nil, fmt.Errorf("manifest id: %w", err)
	}
	rr.ManifestID = make([]uint64, n)
	for i := range rr.ManifestID {
		if rr.ManifestID[i], err = r.uint(); err != nil {
			return nil, err
		}
	}
	if rr.Section, err = r.int(); err != nil {
		return nil, err
	}
	if rr.Offset, err = r.uint(); err != nil {
		return nil, err
	}
	if rr.Component, err = r.uint(); err != nil {
		return nil, err
	}
	m, err := r.mapHead()
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	if rr.Properties, err = readParamPairs(r, m); err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	return rr, nil
}

func readSystemProperties(r *reader) (*SystemProperties, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	if n < 2 {
		return nil, malformed("system-property-claims of %d members", n)
	}
	key, err := r.int()
	if err != nil {
		return nil, err
	}
	// Deterministic encoding puts key 0 first; any other order is refused
	// rather than searched for.
	if key != systemComponentID {
		return nil, malformed("system-property-claims without the component id first")
	}
	sp := &SystemProperties{}
	if sp.Component, err = readComponentID(r); err != nil {
		return nil, err
	}
	if sp.Properties, err = readParamPairs(r, n-1); err != nil {
		return nil, err
	}
	if _, dup := sp.Properties[systemComponentID]; dup {
		return nil, malformed("duplicate component id")
	}
	return sp, nil
}

// readParamPairs reads n SUIT_Parameters pairs, possibly none.
func readParamPairs(r *reader, n int) (Parameters, error) {
	p := make(Parameters, n)
	for range n {
		key, err := r.int()
		if err != nil {
			return nil, err
		}
		if _, dup := p[key]; dup || key == systemComponentID {
			return nil, r.errf("duplicate or reserved parameter %d", key)
		}
		if p[key], err = readParam(r, key); err != nil {
			return nil, fmt.Errorf("parameter %s: %w", ParamName(key), err)
		}
	}
	return p, nil
}

func readCapabilities(r *reader) (*CapabilityReport, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	c := &CapabilityReport{}
	var seen keySet
	for range n {
		if m, _ := r.peek(); m == majorArray {
			return nil, unsupported("capability keyed by a manifest path")
		}
		key, err := r.int()
		if err != nil {
			return nil, err
		}
		if err := seen.add(r, key); err != nil {
			return nil, err
		}
		var list *[]int64
		switch key {
		case capComponents:
			if c.Components, err = readComponentCapabilities(r); err != nil {
				return nil, err
			}
			continue
		case capCommands:
			list = &c.Commands
		case capParameters:
			list = &c.Parameters
		case capCryptAlgs:
			list = &c.CryptAlgs
		case capEnvelope:
			list = &c.Envelope
		case capManifest:
			list = &c.Manifest
		case capCommon:
			list = &c.Common
		case capText:
			list = &c.Text
		case capTextComponent:
			list = &c.TextComponent
		case capDependency:
			list = &c.Dependency
		default:
			return nil, unsupported("capability %d", key)
		}
		if *list, err = readIntList(r); err != nil {
			return nil, fmt.Errorf("capability %d: %w", key, err)
		}
	}
	for _, key := range []int64{capComponents, capCommands, capParameters, capCryptAlgs} {
		if !seen.contains(key) {
			return nil, malformed("capability report lacks member %d", key)
		}
	}
	return c, nil
}

func readIntList(r *reader) ([]int64, error) {
	n, err := r.array(maxArrayElements)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, malformed("empty capability list")
	}
	out := make([]int64, n)
	for i := range out {
		if out[i], err = r.int(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readComponentCapabilities(r *reader) ([]ComponentCapability, error) {
	n, err := r.array(MaxComponents)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, malformed("no component capabilities")
	}
	out := make([]ComponentCapability, n)
	for i := range out {
		parts, err := r.array(MaxComponentIDParts + 1)
		if err != nil {
			return nil, err
		}
		for j := range parts {
			if m, _ := r.peek(); m == majorSimple {
				ok, err := r.bool()
				if err != nil || !ok || j != parts-1 {
					return nil, malformed("component capability wildcard is not a final true")
				}
				out[i].Wildcard = true
				continue
			}
			b, err := r.bytes()
			if err != nil {
				return nil, err
			}
			out[i].ID = append(out[i].ID, b)
		}
	}
	return out, nil
}

// reportDigestOf identifies bytes that are not even an envelope.
func reportDigestOf(data []byte) Digest {
	sum := sha256.Sum256(data)
	return Digest{Alg: AlgSHA256, Bytes: sum[:]}
}
