package standard

import (
	"context"
	"fmt"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/store/mysqlstore"
)

func openMySQL(ctx context.Context, cfg *config.Config, migrate bool, logger hclog.Logger) (analytics.Store, error) {
	m := cfg.Store.MySQL
	if m.DSN == "" {
		return nil, fmt.Errorf("standard: store.mysql.dsn is required for the mysql store: %w", analytics.ErrInvalid)
	}
	dc, err := mysql.ParseDSN(m.DSN)
	if err != nil {
		return nil, fmt.Errorf("standard: store.mysql.dsn: %v: %w", err, analytics.ErrInvalid)
	}
	if m.TLS != "" {
		dc.TLSConfig = m.TLS
	}
	lifetime := m.ConnMaxLifetime
	if lifetime == 0 {
		lifetime = -1 // config: "0s" = never
	}
	return mysqlstore.Open(ctx, mysqlstore.Options{
		Config:          dc,
		MaxOpenConns:    m.MaxOpenConns,
		MaxIdleConns:    m.MaxIdleConns,
		ConnMaxLifetime: lifetime,
		Migrate:         migrate,
		Logger:          logger,
	})
}
