package kafkaclient

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestAxualNamingPatterns(t *testing.T) {
	c := mapProps(t, map[string]string{
		"application.id":                 "io.ksml.example",
		"bootstrap.servers":              "b:1",
		"axual.group.id.pattern":         "{tenant}-{instance}-{environment}-{group.id}",
		"axual.transactional.id.pattern": "{tenant}-{transactional.id}",
		"tenant":                         "ksmldemo",
		"instance":                       "dta",
		"environment":                    "dev",
	})
	r := c.Resolver
	if c.GroupID != "ksmldemo-dta-dev-io.ksml.example" || r.GroupID("x") != "ksmldemo-dta-dev-x" {
		t.Errorf("GroupID = %q", c.GroupID)
	}
	if got := r.TransactionalID("app-1"); got != "ksmldemo-app-1" {
		t.Errorf("TransactionalID = %q", got)
	}
	expectOpt(t, client(t, c.ConsumerOpts()), "ConsumerGroup", kgo.ConsumerGroup, "ksmldemo-dta-dev-io.ksml.example")
	if len(c.Ignored) != 0 {
		t.Errorf("ignored = %v", c.Ignored)
	}
}

func TestNoPatternsMeansNoRenaming(t *testing.T) {
	c := mapProps(t, map[string]string{"application.id": "app", "bootstrap.servers": "b:1"})
	if c.Resolver != nil || c.GroupID != "app" {
		t.Fatalf("resolver %v, group %q", c.Resolver, c.GroupID)
	}
	if c.Resolver.GroupID("g") != "g" || c.Resolver.TransactionalID("x") != "x" {
		t.Error("a nil resolver renamed something")
	}
}

// TestTopicPatternIsRejected: topics are not renamed, so a topic pattern
// (either spelling) fails loudly rather than being ignored.
func TestTopicPatternIsRejected(t *testing.T) {
	for _, key := range []string{"axual.topic.pattern", "topic.pattern"} {
		_, err := FromProperties(map[string]string{"application.id": "app", "bootstrap.servers": "b:1",
			key: "{tenant}-{topic}", "tenant": "t1"}, Options{})
		want := `kafka.` + key + `: topic name patterns are not supported (pattern "{tenant}-{topic}"): ksml does not rename topics; remove ` +
			key + ` and name the cluster's topics in full in the definitions`
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v\nwant %s", key, err, want)
		}
	}
}

func TestDeprecatedPatternKeys(t *testing.T) {
	c := mapProps(t, map[string]string{
		"application.id":           "app",
		"bootstrap.servers":        "b:1",
		"group.id.pattern":         "{tenant}-{group.id}",
		"transactional.id.pattern": "{tenant}-{transactional.id}",
		"tenant":                   "t1",
	})
	if c.Resolver.TransactionalID("x") != "t1-x" || c.GroupID != "t1-app" {
		t.Errorf("transactional id %q group %q", c.Resolver.TransactionalID("x"), c.GroupID)
	}
}

func TestPatternErrors(t *testing.T) {
	_, err := FromProperties(map[string]string{
		"application.id":                 "app",
		"bootstrap.servers":              "b:1",
		"axual.group.id.pattern":         "{tenant}-{group.id}-{zone}",
		"axual.transactional.id.pattern": "{tenant-{transactional.id}",
		"tenant":                         "t",
	}, Options{})
	want := strings.Join([]string{
		`kafka.axual.group.id.pattern: pattern "{tenant}-{group.id}-{zone}" uses {zone}, but no property zone is set`,
		`kafka.axual.transactional.id.pattern: pattern "{tenant-{transactional.id}" has an invalid placeholder {tenant-{transactional.id}`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, want)
	}
	_, err = FromProperties(map[string]string{"application.id": "app", "bootstrap.servers": "b:1", "axual.group.id.pattern": "fixed-name"}, Options{})
	if err == nil || err.Error() != `kafka.axual.group.id.pattern: pattern "fixed-name" does not contain {group.id}` {
		t.Errorf("pattern without {group.id}: %v", err)
	}
}
