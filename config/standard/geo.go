package standard

import (
	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/geo/maxmindgeo"
)

// OpenGeo opens cfg.Geo.Database; it returns nil, nil when no database is
// configured (no geolocation). The returned Geo's Run reloads the file when
// it changes or on SIGHUP.
func OpenGeo(cfg *config.Config, logger hclog.Logger) (*Geo, error) {
	if cfg.Geo.Database == "" {
		return nil, nil
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	g, err := maxmindgeo.Open(cfg.Geo.Database, maxmindgeo.Options{
		Logger:         logger.Named("geo"),
		ReloadOnSIGHUP: true,
	})
	if err != nil {
		return nil, err
	}
	return &Geo{Geo: g, Run: g.Run, Close: g.Close}, nil
}
