package standard

import (
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
)

// TestPrivacyWiring: the privacy block reaches both the Handler (which
// clears identifiers the Processor will ignore, so both must agree) and
// the Processor, salt_grace included.
func TestPrivacyWiring(t *testing.T) {
	cases := []struct {
		env       []string
		consent   analytics.ConsentMode
		cookie    analytics.Toggle
		saltGrace time.Duration
	}{
		{nil, analytics.ConsentNone, analytics.Off, 24 * time.Hour},
		{[]string{"FOOTFALL_PRIVACY_CONSENT=cookies", "FOOTFALL_PRIVACY_COOKIELESS=true", "FOOTFALL_PRIVACY_SALT_GRACE=2h"},
			analytics.ConsentCookies, analytics.On, 2 * time.Hour},
		{[]string{"FOOTFALL_PRIVACY_CONSENT=tracking", "FOOTFALL_PRIVACY_SALT_GRACE=0s"}, analytics.ConsentTracking, analytics.Off, -1},
	}
	for _, c := range cases {
		cfg, err := config.Load("", c.env)
		if err != nil {
			t.Fatal(err)
		}
		ho, po := HandlerOptions(cfg), ProcessorOptions(cfg)
		if ho.Privacy != po.Privacy || ho.Privacy != cfg.PrivacyDefaults() {
			t.Errorf("%v: handler privacy %+v, processor %+v", c.env, ho.Privacy, po.Privacy)
		}
		if po.Privacy.Consent != c.consent || po.Privacy.Cookieless != c.cookie {
			t.Errorf("%v: privacy %+v", c.env, po.Privacy)
		}
		if po.SaltGrace != c.saltGrace {
			t.Errorf("%v: SaltGrace %v, want %v", c.env, po.SaltGrace, c.saltGrace)
		}
	}
}
