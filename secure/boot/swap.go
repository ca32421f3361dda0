package boot

// swap exchanges the primary and secondary slot of c, one sector at a
// time through the scratch sector, resuming after the last step the
// journal records for this phase. Each step's source is intact whenever
// the step is (re)done:
//
//	1: scratch   <- secondary[i]   (secondary[i] untouched until step 2)
//	2: secondary <- primary[i]     (primary[i] untouched until step 3)
//	3: primary   <- scratch        (scratch untouched until the next step 1)
func (d *Device) swap(j *journal, phase byte, c Component) error {
	key := stepKey{phase, byte(c)}
	if j.swapped[key] {
		return nil
	}
	sector, step := 0, 1
	if r, ok := j.steps[key]; ok {
		sector, step = int(r.sector), int(r.step)+1
		if step > 3 {
			sector, step = sector+1, 1
		}
	}
	ss := int64(d.layout.SectorSize)
	buf := make([]byte, ss)
	for ; sector < d.layout.SlotSectors; sector, step = sector+1, 1 {
		primary := d.layout.slotOff(c, false) + int64(sector)*ss
		secondary := d.layout.slotOff(c, true) + int64(sector)*ss
		for ; step <= 3; step++ {
			src, dst := secondary, d.layout.scratchOff()
			switch step {
			case 2:
				src, dst = primary, secondary
			case 3:
				src, dst = d.layout.scratchOff(), primary
			}
			if err := d.copySector(buf, src, dst); err != nil {
				return err
			}
			r := record{kind: recStep, component: byte(c), phase: phase, step: byte(step), sector: uint16(sector)}
			if err := d.append(j, r); err != nil {
				return err
			}
			j.steps[key] = r
		}
	}
	if err := d.append(j, record{kind: recSwapped, component: byte(c), phase: phase}); err != nil {
		return err
	}
	j.swapped[key] = true
	return nil
}

func (d *Device) copySector(buf []byte, src, dst int64) error {
	if err := d.flash.Read(src, buf); err != nil {
		return err
	}
	if err := d.flash.EraseSector(dst); err != nil {
		return err
	}
	if allErased(buf) {
		return nil // an erased sector needs no program
	}
	return d.flash.Program(dst, buf)
}

func allErased(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}
