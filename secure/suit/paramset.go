package suit

// ParamSet holds the parameters of one component while a manifest runs:
// what override-parameters has set so far. It is a struct rather than a
// map so that processing allocates nothing per parameter. Read it through
// the typed accessors, which report whether the parameter is set.
type ParamSet struct {
	present uint64 // bit k: parameter k (0 <= k < 64) is set

	vendorID, classID, deviceID []byte
	vendorPEN                   bool
	content, invokeArgs, fetch  []byte
	encInfo                     []byte
	digest                      Digest
	imageSize, slot, source     uint64
	ext                         *paramExt // update management, allocated on first use
	uri                         string
	strictOrder                 bool
	// other holds parameters with no field (custom, negative keys).
	other map[int64]any
}

// paramExt holds the update-management parameters, which most manifests
// lack, out of line so that every ParamSet stays small.
type paramExt struct {
	useBefore, minBattery uint64
	priority              int64
	version               VersionMatch
	waitInfo              WaitInfo
	metadata              ComponentMetadata
}

func (s *ParamSet) extension() *paramExt {
	if s.ext == nil {
		s.ext = &paramExt{}
	}
	return s.ext
}

func (s *ParamSet) has(key int64) bool {
	if key >= 0 && key < 64 {
		return s.present&(1<<key) != 0
	}
	_, ok := s.other[key]
	return ok
}

// set stores a decoded parameter value; decoding guarantees its type.
func (s *ParamSet) set(key int64, v any) {
	switch key {
	case ParamVendorID:
		s.vendorID, s.vendorPEN = asBytes(v)
	case ParamClassID:
		s.classID, _ = asBytes(v)
	case ParamDeviceID:
		s.deviceID, _ = asBytes(v)
	case ParamContent:
		s.content, _ = asBytes(v)
	case ParamInvokeArgs:
		s.invokeArgs, _ = asBytes(v)
	case ParamFetchArguments:
		s.fetch, _ = asBytes(v)
	case ParamEncryptionInfo:
		s.encInfo, _ = asBytes(v)
	case ParamImageDigest:
		s.digest = v.(Digest)
	case ParamImageSize:
		s.imageSize = v.(uint64)
	case ParamComponentSlot:
		s.slot = v.(uint64)
	case ParamSourceComponent:
		s.source = v.(uint64)
	case ParamURI:
		s.uri = v.(string)
	case ParamStrictOrder:
		s.strictOrder = v.(bool)
	case ParamUseBefore:
		s.extension().useBefore = v.(uint64)
	case ParamMinimumBattery:
		s.extension().minBattery = v.(uint64)
	case ParamUpdatePriority:
		s.extension().priority = v.(int64)
	case ParamVersion:
		s.extension().version = v.(VersionMatch)
	case ParamWaitInfo:
		s.extension().waitInfo = v.(WaitInfo)
	case ParamComponentMetadata:
		s.extension().metadata = v.(ComponentMetadata)
	default:
		if s.other == nil {
			s.other = map[int64]any{}
		}
		s.other[key] = v
		return
	}
	s.present |= 1 << key
}

func asBytes(v any) ([]byte, bool) {
	if p, ok := v.(PEN); ok {
		return p, true
	}
	return v.([]byte), false
}

// Bytes returns a byte-string parameter (a PEN vendor ID as its bytes).
func (s *ParamSet) Bytes(key int64) ([]byte, bool) {
	if !s.has(key) {
		return nil, false
	}
	switch key {
	case ParamVendorID:
		return s.vendorID, true
	case ParamClassID:
		return s.classID, true
	case ParamDeviceID:
		return s.deviceID, true
	case ParamContent:
		return s.content, true
	case ParamInvokeArgs:
		return s.invokeArgs, true
	case ParamFetchArguments:
		return s.fetch, true
	case ParamEncryptionInfo:
		return s.encInfo, true
	}
	b, ok := s.other[key].([]byte)
	return b, ok
}

// Uint returns an unsigned parameter.
func (s *ParamSet) Uint(key int64) (uint64, bool) {
	if !s.has(key) {
		return 0, false
	}
	switch key {
	case ParamImageSize:
		return s.imageSize, true
	case ParamComponentSlot:
		return s.slot, true
	case ParamSourceComponent:
		return s.source, true
	case ParamUseBefore:
		return s.ext.useBefore, true
	case ParamMinimumBattery:
		return s.ext.minBattery, true
	}
	n, ok := s.other[key].(uint64)
	return n, ok
}

// Text returns a text parameter.
func (s *ParamSet) Text(key int64) (string, bool) {
	if !s.has(key) {
		return "", false
	}
	if key == ParamURI {
		return s.uri, true
	}
	t, ok := s.other[key].(string)
	return t, ok
}

// Bool returns a boolean parameter.
func (s *ParamSet) Bool(key int64) (bool, bool) {
	if !s.has(key) {
		return false, false
	}
	if key == ParamStrictOrder {
		return s.strictOrder, true
	}
	b, ok := s.other[key].(bool)
	return b, ok
}

// Int returns a signed parameter (update-priority).
func (s *ParamSet) Int(key int64) (int64, bool) {
	if !s.has(key) {
		return 0, false
	}
	if key == ParamUpdatePriority {
		return s.ext.priority, true
	}
	n, ok := s.other[key].(int64)
	return n, ok
}

// Version returns the version parameter.
func (s *ParamSet) Version() (VersionMatch, bool) {
	if !s.has(ParamVersion) {
		return VersionMatch{}, false
	}
	return s.ext.version, true
}

// WaitInfo returns the wait-info parameter.
func (s *ParamSet) WaitInfo() (WaitInfo, bool) {
	if !s.has(ParamWaitInfo) {
		return WaitInfo{}, false
	}
	return s.ext.waitInfo, true
}

// ComponentMetadata returns the component-metadata parameter.
func (s *ParamSet) ComponentMetadata() (ComponentMetadata, bool) {
	if !s.has(ParamComponentMetadata) {
		return nil, false
	}
	return s.ext.metadata, true
}

// Digest returns the image-digest parameter.
func (s *ParamSet) Digest(key int64) (Digest, bool) {
	if key != ParamImageDigest || !s.has(key) {
		return Digest{}, false
	}
	return s.digest, true
}

// get returns the value of a set parameter as a Parameters value holds it.
func (s *ParamSet) get(key int64) (any, bool) {
	if !s.has(key) {
		return nil, false
	}
	switch key {
	case ParamVendorID:
		if s.vendorPEN {
			return PEN(s.vendorID), true
		}
		return s.vendorID, true
	case ParamImageDigest:
		return s.digest, true
	case ParamStrictOrder:
		return s.strictOrder, true
	case ParamURI:
		return s.uri, true
	case ParamUpdatePriority:
		return s.ext.priority, true
	case ParamVersion:
		return s.ext.version, true
	case ParamWaitInfo:
		return s.ext.waitInfo, true
	case ParamComponentMetadata:
		return s.ext.metadata, true
	}
	if b, ok := s.Bytes(key); ok {
		return b, true
	}
	if n, ok := s.Uint(key); ok {
		return n, true
	}
	v, ok := s.other[key]
	return v, ok
}

// copyTo adds the parameters keys names that s has to p.
func (s *ParamSet) copyTo(p Parameters, keys ...int64) {
	for _, k := range keys {
		if v, ok := s.get(k); ok {
			p[k] = v
		}
	}
}

// all lists the keys of every parameter set.
func (s *ParamSet) all() []int64 {
	var keys []int64
	for k := int64(0); k < 64; k++ {
		if s.present&(1<<k) != 0 {
			keys = append(keys, k)
		}
	}
	for k := range s.other {
		keys = append(keys, k)
	}
	return keys
}

// setUint and setDigest store without boxing, for the processor's own
// measurements on the hot path.
func (s *ParamSet) setUint(key int64, v uint64) {
	switch key {
	case ParamImageSize:
		s.imageSize = v
	case ParamComponentSlot:
		s.slot = v
	case ParamMinimumBattery:
		s.extension().minBattery = v
	default:
		s.set(key, v)
		return
	}
	s.present |= 1 << key
}

func (s *ParamSet) setDigest(d Digest) {
	s.digest = d
	s.present |= 1 << ParamImageDigest
}
