package standard

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
)

func openMySQL(ctx context.Context, cfg *config.Config, migrate bool, logger hclog.Logger) (analytics.Store, error) {
	return nil, fmt.Errorf("standard: the mysql store is not built yet: %w", analytics.ErrInvalid)
}
