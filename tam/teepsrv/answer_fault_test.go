package teepsrv_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
	"github.com/teeup/teeup/tam/tamtest"
	"github.com/teeup/teeup/tam/teepsrv"
)

// TestAnswerSurvivesAStoreFault cuts the recording of a device's answer at
// each of its store writes, counted: the write fails and nothing after it
// is written (the state a TAM killed right before that write leaves).
// The TAM then restarts on the same store and the device sends its
// answer again. Whatever the cut, the retry is taken (the old state) or
// refused as a replay of an answer recorded whole (the new state): never
// a spent session without its report, tc-list, attestation, delivery
// outcome or session log entry, and a rollout whose wave completed goes
// on. A cut in the threshold check that follows the recorded answer
// (settles) restarts nothing: the device's answer is taken, and the next
// session opened checks the thresholds again.
//
// Paths: the Success and the Error that answer an Update of a rollout's
// release, and the QueryResponse that the release's Update answers.
func TestAnswerSurvivesAStoreFault(t *testing.T) {
	ev := tamtest.NewEvidence(t) // one TPM simulator per process: not parallel
	author := tamtest.NewAuthor(t)
	for _, path := range []answerPath{pathSuccess, pathError, pathQueryResponse} {
		t.Run(string(path), func(t *testing.T) {
			dry := runAnswerFault(t, ev, author, path, 0)
			if len(dry) == 0 {
				t.Fatal("the answer wrote nothing")
			}
			t.Logf("%d writes record the %s: %s", len(dry), path, strings.Join(dry, ", "))
			for k := 1; k <= len(dry); k++ {
				t.Run(fmt.Sprintf("cut at write %d (%s)", k, dry[k-1]), func(t *testing.T) {
					runAnswerFault(t, ev, author, path, k)
				})
			}
		})
	}
}

type answerPath string

// settles are the writes of the rollout engine's threshold check, which
// follows the recorded answer (rollout.Engine.Settle).
var settles = map[string]bool{"AdvanceWave": true, "SetRolloutState": true}

const (
	pathSuccess       answerPath = "Success"
	pathError         answerPath = "Error"
	pathQueryResponse answerPath = "QueryResponse"
)

// runAnswerFault runs one device's session of a rollout on a new store up
// to the answer of path, records that answer with the failAt-th write
// failing (none when 0), restarts the TAM and sends the answer again,
// then checks that the whole answer is recorded. It returns the writes of
// the first recording.
func runAnswerFault(t *testing.T, ev *tamtest.Evidence, author *tamtest.Author, path answerPath, failAt int) []string {
	t.Helper()
	ctx := context.Background()
	backing, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backing.Close() })
	faulty := &faultStore{Store: backing}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clock := tamtest.NewClock()
	tm := tamtest.NewTAM(t, tamtest.Options{Store: faulty, Clock: clock, Key: key, Seed: 1})

	// Two devices in a rollout of one TA, a wave each: the first wave's
	// answer starts the second wave (Success) or halts the rollout
	// (Error).
	authors := []*suit.Key{author.Pub}
	devs := map[string]*tamtest.Device{}
	var ids []string
	for range 2 {
		d := tm.NewDevice(t, ev, authors, tamtest.DeviceOptions{FailInstall: path == pathError})
		devs[d.ID] = d
		ids = append(ids, d.ID)
	}
	env := author.Publish(t, tm, store.TAEnvelope, tamtest.ID("ta", "fault"), 1, true)
	if _, err := tm.Rollout.AddGroup(ctx, store.Group{Name: "all", Members: ids}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Rollout.AddRelease(ctx, "v1", [][]byte{env.Digest}); err != nil {
		t.Fatal(err)
	}
	waves, err := rollout.ParseWaves("1,1")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := tm.Rollout.Create(ctx, rollout.Spec{Group: "all", Release: "v1", Waves: waves, SuccessThreshold: 100, ErrorThreshold: 100})
	if err != nil {
		t.Fatal(err)
	}
	dels, err := backing.Deliveries(ctx, ro.ID)
	if err != nil {
		t.Fatal(err)
	}
	dev := devs[dels[0].Device] // wave 0

	// The session, up to the message whose recording is cut.
	query := handleOK(t, tm.TEEP, nil)
	cut := agentAnswer(t, dev, query)
	var update []byte
	if path != pathQueryResponse {
		update = handleOK(t, tm.TEEP, cut)
		cut = agentAnswer(t, dev, update)
	}
	faulty.arm(failAt)
	first, err := tm.TEEP.Handle(ctx, cut)
	writes := faulty.disarm()
	if failAt > 0 && settles[writes[len(writes)-1]] {
		// The answer is recorded whole before the thresholds are
		// checked: the device is answered as if nothing failed, and the
		// next session opened (any device's) checks them again, with
		// no restart.
		if err != nil || len(writes) != failAt {
			t.Fatalf("cut at write %d (%v): %v, want the answer taken", failAt, writes, err)
		}
		handleOK(t, tm.TEEP, nil)
		checkAnswer(t, backing, tm, path, dev.ID, ro.ID, first, update)
		return writes
	}
	switch {
	case failAt == 0 && err != nil:
		t.Fatalf("%s recorded without a fault: %v", path, err)
	case failAt > 0 && !errors.Is(err, errInjected):
		t.Fatalf("cut at write %d (%v): %v, want the injected fault", failAt, writes, err)
	case failAt > 0 && len(writes) != failAt:
		t.Fatalf("cut at write %d, but the TAM wrote on: %v", failAt, writes)
	}
	if failAt == 0 {
		checkAnswer(t, backing, tm, path, dev.ID, ro.ID, first, update)
		return writes
	}

	// Restarted on the same store: the rollout engine recovers, the device
	// sends its answer again.
	again := tamtest.NewTAM(t, tamtest.Options{Store: backing, Clock: clock, Key: key, Seed: 2})
	if err := again.Rollout.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	retry, err := again.TEEP.Handle(ctx, cut)
	switch {
	case err == nil:
		// The old state: the retry is taken.
	case errors.Is(err, teepsrv.ErrToken):
		// The new state: the answer was recorded whole before the cut.
		retry = nil
	default:
		t.Fatalf("cut at write %d (%s): the retry: %v", failAt, writes[failAt-1], err)
	}
	if path == pathQueryResponse && retry == nil {
		// The Update signed before the cut is the one the device gets.
		retry = first
	}
	checkAnswer(t, backing, again, path, dev.ID, ro.ID, retry, update)
	return writes
}

// checkAnswer fails unless st holds the whole answer of device on path
// (the TAM's reply to it is reply; update the Update it answers), in
// rollout ro.
func checkAnswer(t *testing.T, st store.Store, tm *tamtest.TAM, path answerPath, device, ro string, reply, update []byte) {
	t.Helper()
	ctx := context.Background()
	d, err := st.Device(ctx, device)
	if err != nil {
		t.Fatal(err)
	}
	reports, err := st.Reports(ctx, device, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	del, err := st.Delivery(ctx, ro, device)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Rollout(ctx, ro)
	if err != nil {
		t.Fatal(err)
	}
	log, err := st.SessionLog(ctx, device, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	if path == pathQueryResponse {
		// The QueryResponse is recorded: its appraisal and tc-list, its
		// session moved on with the release claimed for the Update the
		// TAM answered.
		if d.Attestation.Status != "affirming" || !d.Attestation.Time.Equal(tm.Clock.Now()) || !d.LastSeen.Equal(tm.Clock.Now()) {
			t.Fatalf("QueryResponse not recorded: attestation %+v, last seen %v", d.Attestation, d.LastSeen)
		}
		if reply == nil {
			t.Fatal("the TAM answered the QueryResponse with no Update: the release was not offered")
		}
		u := openUpdate(t, tm, reply)
		sess, err := st.Session(ctx, u.Token)
		if err != nil || sess.State != store.UpdateSent || len(sess.Envelopes) != 1 {
			t.Fatalf("session of the Update: %+v, %v; want it waiting for the answer to the release", sess, err)
		}
		if del.State != store.DeliverySent || string(del.Token) != string(u.Token) {
			t.Fatalf("delivery %+v, want sent in the session of the Update", del)
		}
		if len(log) != 0 {
			t.Fatalf("session log %+v, want none: the session goes on", log)
		}
		return
	}
	u := openUpdate(t, tm, update)
	sess, err := st.Session(ctx, u.Token)
	if err != nil || sess.State != store.Done {
		t.Fatalf("session after the answer: %+v, %v; want it done", sess, err)
	}
	if reply != nil {
		t.Fatalf("the TAM answered the device's %s: %x", path, reply)
	}
	if len(reports) != 1 || reports[0].Success != (path == pathSuccess) {
		t.Fatalf("reports %+v, want the one %s", reports, path)
	}
	if len(log) != 1 || log[0].Outcome != map[answerPath]store.SessionOutcome{pathSuccess: store.OutcomeSuccess, pathError: store.OutcomeError}[path] {
		t.Fatalf("session log %+v, want the session, once, ended by its %s", log, path)
	}
	switch path {
	case pathSuccess:
		if d.LastError != "" || del.State != store.DeliverySucceeded || r.State != store.RolloutRunning || r.Wave != 1 {
			t.Fatalf("after Success: last error %q, delivery %s, rollout %s at wave %d; want none, succeeded, running at wave 1",
				d.LastError, del.State, r.State, r.Wave)
		}
	case pathError:
		if d.LastError == "" || del.State != store.DeliveryFailed || r.State != store.RolloutHalted {
			t.Fatalf("after Error: last error %q, delivery %s, rollout %s; want the error, failed, halted", d.LastError, del.State, r.State)
		}
	}
}

// handleOK is the TAM's answer to body, failing the test on any error.
func handleOK(t *testing.T, srv *teepsrv.Server, body []byte) []byte {
	t.Helper()
	out, err := srv.Handle(context.Background(), body)
	if err != nil {
		t.Fatalf("TAM: %v", err)
	}
	return out
}

// agentAnswer is the device's answer to msg, continuing a set that waits
// for payloads (they are integrated).
func agentAnswer(t *testing.T, d *tamtest.Device, msg []byte) []byte {
	t.Helper()
	ctx := context.Background()
	ans, err := d.Agent.Handle(ctx, msg)
	if err != nil {
		t.Fatalf("agent: %v", err)
	}
	if ans.Message == nil && len(ans.Payloads) > 0 {
		if ans, err = d.Agent.Handle(ctx, nil); err != nil {
			t.Fatalf("agent continue: %v", err)
		}
	}
	if ans.Message == nil {
		t.Fatal("the agent answered nothing")
	}
	return ans.Message
}

func openUpdate(t *testing.T, tm *tamtest.TAM, msg []byte) *teep.Update {
	t.Helper()
	s, err := teep.Open(msg, []*suit.Key{tm.Pub}, teep.Draft26)
	if err != nil {
		t.Fatalf("TAM message: %v", err)
	}
	u, ok := s.Message.(*teep.Update)
	if !ok {
		t.Fatalf("TAM sent a %s, want an Update", s.Message.Type())
	}
	return u
}
