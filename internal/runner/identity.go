package runner

import (
	"errors"
	"fmt"

	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
)

// instanceIdentity locks the state directory for this process and returns
// the process id kept there (kafkaio.ProcessID): the instance's stable
// identity, which survives restarts from the same state directory. Under
// exactly_once_v2 it names the transactional producer. Unless
// group.instance.id was configured (explicitly empty: dynamic membership),
// it also makes the instance a static group member named after it, so a
// restart after a crash takes its partitions back at once instead of
// waiting for the crashed member's session to expire; derived reports
// that, and the engine then leaves the group on a clean stop as a dynamic
// member does. release unlocks the state directory.
//
// A state directory another process holds, or one that cannot be written,
// leaves the membership dynamic (logged); under exactly_once_v2 an
// unwritable one is an error, as the transactional id needs it.
func (r *Runner) instanceIdentity(kc *kafkaclient.Config, configuredInstanceID bool) (processID string, derived bool, release func(), err error) {
	release = func() {}
	stateDir := r.StateDir()
	eos := kc.ProcessingGuarantee == kafkaclient.ExactlyOnceV2
	unlock, lockErr := kafkaio.LockStateDir(stateDir)
	switch {
	case lockErr == nil:
		release = unlock
	case errors.Is(lockErr, kafkaio.ErrStateDirInUse):
		r.log.Warn("another ksml instance uses this state directory; give each instance its own (--storage-dir): the instances share a process id, and this one joins the consumer group as a dynamic member",
			"stateDir", stateDir)
	default:
		if eos {
			return "", false, release, fmt.Errorf("exactly_once_v2 needs a writable state directory %s: %w", stateDir, lockErr)
		}
		r.log.Warn("the state directory cannot be locked; the instance joins the consumer group as a dynamic member", "stateDir", stateDir, "error", lockErr.Error())
		return "", false, release, nil
	}
	if eos || lockErr == nil {
		if processID, err = kafkaio.ProcessID(stateDir); err != nil {
			if eos {
				release()
				return "", false, func() {}, fmt.Errorf("exactly_once_v2 needs a writable state directory %s: %w", stateDir, err)
			}
			r.log.Warn("no process id in the state directory; the instance joins the consumer group as a dynamic member", "stateDir", stateDir, "error", err.Error())
			return "", false, release, nil
		}
	}
	switch {
	case kc.GroupID == "", kc.GroupInstanceID != "", lockErr != nil:
	case configuredInstanceID:
		r.log.Info("dynamic group membership (kafka.group.instance.id is empty)")
	default:
		id := "ksml-" + processID
		kc.SetGroupInstanceID(id)
		derived = true
		r.log.Info("static group membership: group.instance.id is derived from the process id in the state directory, so a restarted instance takes its partitions back at once; kafka.group.instance.id: \"\" makes it dynamic",
			"group.instance.id", id, "stateDir", stateDir)
	}
	return processID, derived, release, nil
}
