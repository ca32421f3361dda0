package suit

import (
	"maps"
	"slices"
)

// Capability report keys (draft-ietf-suit-report §6).
const (
	capComponents    = 1
	capCommands      = 2
	capParameters    = 3
	capCryptAlgs     = 4
	capEnvelope      = 5
	capManifest      = 6
	capCommon        = 7
	capText          = 8
	capTextComponent = 9
	capDependency    = 10
)

// CapabilityReport is a SUIT_Capability_Report: what this processor
// implements, so that an author can tell what a device will accept.
type CapabilityReport struct {
	Components    []ComponentCapability
	Commands      []int64
	Parameters    []int64
	CryptAlgs     []int64
	Envelope      []int64
	Manifest      []int64
	Common        []int64
	Text          []int64
	TextComponent []int64
	Dependency    []int64
}

// ComponentCapability is a SUIT_Component_Capability: a component ID, or
// with Wildcard every component whose ID begins with ID.
type ComponentCapability struct {
	ID       ComponentID
	Wildcard bool
}

// Capabilities reports this processor's capabilities, with components
// the device supports (nil: any component).
func Capabilities(components []ComponentCapability) *CapabilityReport {
	if components == nil {
		components = []ComponentCapability{{Wildcard: true}}
	}
	envelope := []int64{KeyAuthWrapper, KeyManifest}
	manifest := []int64{KeyVersion, KeySequenceNumber, KeyCommon, KeyReferenceURI}
	for k := range severableKeys {
		envelope = append(envelope, k)
		manifest = append(manifest, k)
	}
	for k := range unseverableSequences {
		manifest = append(manifest, k)
	}
	manifest = append(manifest, manifestExtensionKeys...)
	slices.Sort(envelope)
	slices.Sort(manifest)
	return &CapabilityReport{
		Components: components,
		Commands:   slices.Sorted(maps.Keys(commandNames)),
		Parameters: supportedParameters(),
		CryptAlgs: []int64{AlgSHA256, AlgSHA384, AlgSHA512, AlgES256, AlgESP256, AlgES384, AlgEdDSA, AlgEd25519,
			AlgHMAC256, AlgA128GCM, AlgA128CTR, AlgA128KW, AlgECDHESA128KW},
		Envelope:      envelope,
		Manifest:      manifest,
		Common:        slices.Clone(commonKeys),
		Text:          []int64{1, 2, 3, 4},
		TextComponent: []int64{1, 2, 3, 4, 5, 6},
		Dependency:    slices.Clone(dependencyMetadataKeys),
	}
}

func (c *CapabilityReport) wire() map[int64]any {
	comps := make([]any, len(c.Components))
	for i, cc := range c.Components {
		parts := make([]any, 0, len(cc.ID)+1)
		for _, p := range cc.ID {
			parts = append(parts, p)
		}
		if cc.Wildcard {
			parts = append(parts, true)
		}
		comps[i] = parts
	}
	m := map[int64]any{capComponents: comps, capCommands: c.Commands, capParameters: c.Parameters, capCryptAlgs: c.CryptAlgs}
	for k, v := range map[int64][]int64{capEnvelope: c.Envelope, capManifest: c.Manifest, capCommon: c.Common,
		capText: c.Text, capTextComponent: c.TextComponent, capDependency: c.Dependency} {
		if len(v) > 0 {
			m[k] = v
		}
	}
	return m
}

// supportedParameters lists the parameters the processor acts on: every
// one it decodes but component-metadata, which it declines to apply.
func supportedParameters() []int64 {
	keys := slices.Sorted(maps.Keys(paramSpecs))
	return slices.DeleteFunc(keys, func(k int64) bool { return k == ParamComponentMetadata })
}
