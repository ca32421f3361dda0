package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/normal/control"
	normalworld "github.com/teeup/teeup/normal/world"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
)

// BenchmarkUpdateThroughIPC streams an update of the normal image from the
// normal world's process into the secure world's process over the socket
// pair (chunks hashed and written into the staging slot of a file-backed
// flash), from StartUpdate to a committed install set, next to SHA-256
// over the same bytes in the same run. The a128gcm variant sends the image
// encrypted for the device, which the secure world decrypts as it
// streams. It reports the throughput of the streaming phase alone
// (stream-MB/s), the peak RSS of both worlds, which must not grow with
// the image, and the CPU time each world spent per update (secure-cpu-ms,
// normal-cpu-ms): on a machine of two cores, the update cannot take less
// wall time than half their sum.
func BenchmarkUpdateThroughIPC(b *testing.B) {
	for _, size := range []int{16 << 20, 64 << 20, 256 << 20} {
		payload := device.BuiltinImage(boot.Normal, 9, size)
		b.Run(fmt.Sprintf("%dMiB/sha256", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				sha256.Sum256(payload)
			}
		})
		b.Run(fmt.Sprintf("%dMiB/ipc", size>>20), func(b *testing.B) {
			benchUpdate(b, payload, false, true)
		})
		// The same, the normal world without its seccomp filter: the
		// filter's cost is the difference in normal-cpu-ms/op.
		b.Run(fmt.Sprintf("%dMiB/ipc-no-seccomp", size>>20), func(b *testing.B) {
			benchUpdate(b, payload, false, false)
		})
		b.Run(fmt.Sprintf("%dMiB/ipc-a128gcm", size>>20), func(b *testing.B) {
			benchUpdate(b, payload, true, true)
		})
	}
}

// benchEnvelope is the signed envelope of the update and the bytes the
// normal world serves for it: the image, or its ciphertext.
func benchEnvelope(b *testing.B, dir string, seq uint64, image []byte, uri string, encrypt bool) (env, served []byte) {
	c := author.Component{ID: boot.Normal.ID(), Payload: image, URI: uri, Invoke: true}
	if encrypt {
		key, err := author.ReadRecipientKey(device.AgreementKeyFile(dir))
		if err != nil {
			b.Fatal(err)
		}
		c.Encrypt, c.DecryptOnFetch = &author.EncryptSpec{Alg: suit.AlgA128GCM, RecipientKey: key}, true
	}
	e, detached, err := author.BuildDetached(&author.Manifest{SequenceNumber: seq, VendorID: device.VendorID, ClassID: device.ClassID,
		Components: []author.Component{c}})
	if err != nil {
		b.Fatal(err)
	}
	signers, err := device.LoadSigners(dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.Sign(signers.Author); err != nil {
		b.Fatal(err)
	}
	if encrypt {
		return e.Encode(), detached[uri]
	}
	return e.Encode(), image
}

func benchUpdate(b *testing.B, payload []byte, encrypt, seccomp bool) {
	const sector = 256 << 10
	dir := filepath.Join(b.TempDir(), "dev")
	layout := boot.Layout{SectorSize: sector, WriteAlign: 16, SlotSectors: len(payload)/sector + 2}
	d, err := device.Init(context.Background(), dir, device.InitOptions{Layout: layout,
		SecureImage: []byte("factory secure image"), NormalImage: []byte("factory normal image")})
	if err != nil {
		b.Fatal(err)
	}
	d.Close()
	payloadFile := filepath.Join(filepath.Dir(dir), "payload.bin")
	run := exec.Command(os.Args[0], "device", "run", "--dir", dir, "--health-cmd", "true")
	run.Env = append(os.Environ(), "TEEUP_RUN_MAIN=1")
	if !seccomp {
		run.Env = append(run.Env, noSeccompEnv+"=1")
	}
	if err := run.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { run.Process.Signal(syscall.SIGTERM); run.Wait() }()
	sock := filepath.Join(dir, controlSocket)
	ctx := context.Background()
	waitUp := func(notPID int) int {
		deadline := time.Now().Add(5 * time.Minute)
		for time.Now().Before(deadline) {
			if st, err := normalWorldStatus(ctx, sock); err == nil && st.PID != notPID {
				return st.PID
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.Fatal("the device did not come up")
		return 0
	}
	pid := waitUp(0)
	uri := "https://fw.example/payload.bin"
	seq := uint64(2)
	var secureRSS, normalRSS int
	var secureCPU, normalCPU time.Duration
	cpuSamples := 0
	// streaming: from the envelope's acceptance to the payload's verified
	// digest, the data path alone, without the fixed costs around it.
	var streaming time.Duration
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		env, served := benchEnvelope(b, dir, seq, payload, uri, encrypt)
		if encrypt || seq == 2 { // the plain image is the same every time
			if err := os.WriteFile(payloadFile, served, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		envFile := filepath.Join(filepath.Dir(dir), "u.suit")
		os.WriteFile(envFile, env, 0o644)
		seq++
		// The confined normal world reads files in its spool only.
		req, remove, err := normalworld.HandOver(sock, control.Request{Op: "update", Envelopes: []string{envFile},
			Local: map[string]string{uri: payloadFile}})
		if err != nil {
			b.Fatal(err)
		}
		pids := worldPIDs(b, run.Process.Pid)
		cpu0 := worldCPU(pids)
		b.StartTimer()
		staged := false
		var accepted time.Time
		final, err := control.Call(ctx, sock, req, func(l control.Line) {
			switch {
			case strings.Contains(l.Progress, "accepted by the secure world"):
				accepted = time.Now()
			case strings.Contains(l.Progress, "digest verified"):
				streaming += time.Since(accepted)
			}
			if !staged && strings.Contains(l.Progress, "staged") {
				b.StopTimer()
				staged = true
				// Both worlds are still the processes that streamed it.
				s, n := worldRSS(b, run.Process.Pid)
				secureRSS, normalRSS = max(secureRSS, s), max(normalRSS, n)
				// The same two processes, both alive throughout.
				if cpu := worldCPU(pids); len(cpu) == 2 && len(cpu0) == 2 {
					secureCPU += cpu[secureWorld] - cpu0[secureWorld]
					normalCPU += cpu[normalWorld] - cpu0[normalWorld]
					cpuSamples++
				}
			}
		})
		if !staged {
			b.Fatalf("update not staged: %+v %v", final, err)
		}
		pid = waitUp(pid)
		remove()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N)*float64(len(payload))/streaming.Seconds()/1e6, "stream-MB/s")
	b.ReportMetric(float64(secureRSS)/1024, "secure-peak-RSS-MiB")
	b.ReportMetric(float64(normalRSS)/1024, "normal-peak-RSS-MiB")
	if cpuSamples > 0 {
		b.ReportMetric(float64(secureCPU.Milliseconds())/float64(cpuSamples), "secure-cpu-ms/op")
		b.ReportMetric(float64(normalCPU.Milliseconds())/float64(cpuSamples), "normal-cpu-ms/op")
	}
}

// noSeccompEnv, in the environment of a test binary's device run, leaves
// the normal world's seccomp filter out (normalWorldNoSeccomp).
const noSeccompEnv = "TEEUP_TEST_NO_SECCOMP"

func init() {
	normalWorldNoSeccomp = os.Getenv(noSeccompEnv) == "1"
}

const (
	secureWorld = "secure-world"
	normalWorld = "normal-world"
)

// worldPIDs finds the secure and the normal world, children of the
// supervisor, by their command lines.
func worldPIDs(b *testing.B, supervisor int) map[string]string {
	// A child is listed under the thread that started it: read them all.
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", supervisor))
	if err != nil {
		b.Fatal(err)
	}
	pids := map[string]string{}
	for _, t := range tasks {
		raw, _ := os.ReadFile(t)
		for _, pid := range strings.Fields(string(raw)) {
			cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			for _, w := range []string{secureWorld, normalWorld} {
				if strings.Contains(string(cmd), w) {
					pids[w] = pid
				}
			}
		}
	}
	return pids
}

// worldRSS reads the peak RSS (VmHWM, KiB) of the secure and the normal
// world.
func worldRSS(b *testing.B, supervisor int) (secure, normal int) {
	hwm := map[string]int{}
	for w, pid := range worldPIDs(b, supervisor) {
		status, _ := os.ReadFile("/proc/" + pid + "/status")
		for _, line := range strings.Split(string(status), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				hwm[w], _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			}
		}
	}
	return hwm[secureWorld], hwm[normalWorld]
}

// worldCPU reads the CPU time each world has used so far, its exited
// threads' included (utime and stime of /proc/PID/stat: in ticks of
// 10 ms, so that a figure per update is good to 20 ms over b.N).
// A world that is gone, or a zombie, is left out.
func worldCPU(pids map[string]string) map[string]time.Duration {
	cpu := map[string]time.Duration{}
	for w, pid := range pids {
		raw, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			continue
		}
		// The fields after the command name, which may hold spaces.
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		if len(f) < 13 || f[0] == "Z" {
			continue
		}
		for _, i := range []int{11, 12} { // utime, stime
			ticks, _ := strconv.ParseInt(f[i], 10, 64)
			cpu[w] += time.Duration(ticks) * 10 * time.Millisecond
		}
	}
	return cpu
}
