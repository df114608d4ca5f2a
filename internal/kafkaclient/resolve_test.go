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
		"axual.topic.pattern":            "{tenant}-{instance}-{environment}-{topic}",
		"axual.group.id.pattern":         "{tenant}-{instance}-{environment}-{group.id}",
		"axual.transactional.id.pattern": "{tenant}-{transactional.id}",
		"tenant":                         "ksmldemo",
		"instance":                       "dta",
		"environment":                    "dev",
	})
	r := c.Resolver
	if got := r.Topic("orders"); got != "ksmldemo-dta-dev-orders" {
		t.Errorf("Topic = %q", got)
	}
	if got := r.Topic("io.ksml.example-store-changelog"); got != "ksmldemo-dta-dev-io.ksml.example-store-changelog" {
		t.Errorf("internal topic = %q", got)
	}
	if got := r.Topic("__consumer_offsets"); got != "__consumer_offsets" {
		t.Errorf("broker topic = %q", got)
	}
	if got, ok := r.UnresolveTopic("ksmldemo-dta-dev-sensor-data"); !ok || got != "sensor-data" {
		t.Errorf("UnresolveTopic = %q, %v", got, ok)
	}
	if got, ok := r.UnresolveTopic("ksmldemo-dta-prod-sensor-data"); ok {
		t.Errorf("another environment's topic unresolved to %q", got)
	}
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
	if c.Resolver.Topic("t") != "t" || c.Resolver.GroupID("g") != "g" || c.Resolver.TransactionalID("x") != "x" {
		t.Error("a nil resolver renamed something")
	}
	if got, ok := c.Resolver.UnresolveTopic("t"); !ok || got != "t" {
		t.Errorf("UnresolveTopic = %q, %v", got, ok)
	}
}

func TestDeprecatedPatternKeys(t *testing.T) {
	c := mapProps(t, map[string]string{
		"application.id":    "app",
		"bootstrap.servers": "b:1",
		"topic.pattern":     "{tenant}-{topic}",
		"group.id.pattern":  "{tenant}-{group.id}",
		"tenant":            "t1",
	})
	if c.Resolver.Topic("x") != "t1-x" || c.GroupID != "t1-app" {
		t.Errorf("topic %q group %q", c.Resolver.Topic("x"), c.GroupID)
	}
}

func TestPatternErrors(t *testing.T) {
	_, err := FromProperties(map[string]string{
		"application.id":                 "app",
		"bootstrap.servers":              "b:1",
		"axual.topic.pattern":            "{tenant}-{name}",
		"axual.group.id.pattern":         "{tenant}-{group.id}-{zone}",
		"axual.transactional.id.pattern": "{tenant-{transactional.id}",
		"tenant":                         "t",
	}, Options{})
	want := strings.Join([]string{
		`kafka.axual.group.id.pattern: pattern "{tenant}-{group.id}-{zone}" uses {zone}, but no property zone is set`,
		`kafka.axual.topic.pattern: pattern "{tenant}-{name}" uses {name}, but no property name is set`,
		`kafka.axual.transactional.id.pattern: pattern "{tenant-{transactional.id}" has an invalid placeholder {tenant-{transactional.id}`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", err, want)
	}
	_, err = FromProperties(map[string]string{"application.id": "app", "bootstrap.servers": "b:1", "axual.topic.pattern": "fixed-name"}, Options{})
	if err == nil || err.Error() != `kafka.axual.topic.pattern: pattern "fixed-name" does not contain {topic}` {
		t.Errorf("pattern without {topic}: %v", err)
	}
}
